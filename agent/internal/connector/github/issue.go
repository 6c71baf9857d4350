package github

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Entity types.
const (
	TypeIssue       = "issue"
	TypePullRequest = "pull_request"
)

// Status values: state and state_reason in one field, the way people say
// them ("closed as not planned").
const (
	StatusOpen       = "open"
	StatusCompleted  = "completed"
	StatusNotPlanned = "not_planned"
	StatusDuplicate  = "duplicate"
)

// repoOfURL reads "owner/repo" from an issue's repository_url
// (".../repos/OWNER/REPO"); fallback when it does not parse.
func repoOfURL(raw string, fallback repoRef) repoRef {
	i := strings.LastIndex(raw, "/repos/")
	if i < 0 {
		return fallback
	}
	parts := strings.Split(raw[i+len("/repos/"):], "/")
	if len(parts) != 2 || !validName(parts[0]) || !validName(parts[1]) {
		return fallback
	}
	return repoRef{parts[0], parts[1]}
}

// status combines state and state_reason.
func status(wi wireIssue) string {
	if wi.State != "closed" {
		return StatusOpen
	}
	if wi.StateReason != nil {
		switch *wi.StateReason {
		case StatusNotPlanned, StatusDuplicate:
			return *wi.StateReason
		}
	}
	return StatusCompleted // GitHub's reason when none is given
}

func userOf(u *wireUser) any {
	if u == nil || u.Login == "" {
		return nil
	}
	return connector.User{ID: u.Login, Name: u.Login, Email: u.Email}
}

// issueVersion changes whenever anything the connector reads changes: GitHub's
// updated_at has whole-second precision, so two edits within a second
// share it, and a hash of the content tells them apart.
func issueVersion(wi wireIssue) string {
	canon := struct {
		Title, State string
		Body, Reason *string
		Labels       []wireLabel
		Assignees    []wireUser
		Milestone    *wireMilestone
		Comments     int
		Locked       bool
		Parent       *string
	}{wi.Title, wi.State, wi.Body, wi.StateReason, wi.Labels, wi.Assignees, wi.Milestone, wi.Comments, wi.Locked, wi.ParentIssueURL}
	b, _ := json.Marshal(canon)
	sum := sha256.Sum256(b)
	return wi.UpdatedAt + "~" + hex.EncodeToString(sum[:4])
}

// entity converts an issue of repo. Fields holds exactly the fields Schema
// lists, set or not, so a cleared field reads as nil.
func (c *Conn) entity(repo repoRef, wi wireIssue) connector.Entity {
	repo = repoOfURL(wi.RepositoryURL, repo)
	body := ""
	if wi.Body != nil {
		body = *wi.Body
	}
	desc, token, _ := splitMarker(body)
	labels := make([]string, 0, len(wi.Labels))
	for _, l := range wi.Labels {
		labels = append(labels, l.Name)
	}
	logins := make([]string, 0, len(wi.Assignees))
	for _, a := range wi.Assignees {
		logins = append(logins, a.Login)
	}
	fields := connector.Fields{
		"title":       wi.Title,
		"description": nil,
		"status":      status(wi),
		"state":       wi.State,
		"stateReason": nil,
		"labels":      labels,
		"assignee":    nil,
		"assignees":   logins,
		"milestone":   nil,
		"author":      userOf(wi.User),
	}
	if desc != "" {
		fields["description"] = desc
	}
	if wi.StateReason != nil && *wi.StateReason != "" {
		fields["stateReason"] = *wi.StateReason
	}
	if len(wi.Assignees) > 0 {
		fields["assignee"] = userOf(&wi.Assignees[0])
	}
	if wi.Milestone != nil {
		fields["milestone"] = wi.Milestone.Title
	}
	typ := TypeIssue
	if wi.PullRequest != nil {
		typ = TypePullRequest
	}
	ref := issueRef{repo: repo, number: wi.Number}.String()
	e := connector.Entity{
		Ref:       connector.Ref{ID: ref, Key: ref},
		Type:      typ,
		Title:     wi.Title,
		URL:       wi.HTMLURL,
		Version:   issueVersion(wi),
		CreatedAt: parseTime(wi.CreatedAt),
		UpdatedAt: parseTime(wi.UpdatedAt),
		Fields:    fields,
	}
	if strings.HasPrefix(token, connector.MarkerPrefix) {
		e.Marker = token
	}
	return e
}

func (c *Conn) getIssue(ctx context.Context, ir issueRef) (wireIssue, error) {
	var wi wireIssue
	if _, err := c.getJSON(ctx, ir.path(), nil, &wi); err != nil {
		return wireIssue{}, fmt.Errorf("get GitHub issue %s: %w", ir, err)
	}
	if wi.Number == 0 {
		return wireIssue{}, fmt.Errorf("get GitHub issue %s: the answer is not an issue: %w", ir, connector.ErrUnavailable)
	}
	return wi, nil
}

// Get reads one issue (or pull request).
func (c *Conn) Get(ctx context.Context, ref connector.Ref) (connector.Entity, error) {
	ir, err := c.parseRef(ref)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("get GitHub issue: %w", err)
	}
	wi, err := c.getIssue(ctx, ir)
	if err != nil {
		return connector.Entity{}, err
	}
	return c.entity(ir.repo, wi), nil
}

// changesCursor is where the next page of changes starts: the query since
// a second, at a page; and which issues were listed at the boundary (the
// update time of the last issue listed), which a restarted query lists
// again and the cursor leaves out.
type changesCursor struct {
	since    time.Time // zero: no since
	page     int
	boundary time.Time
	seen     []int // issue numbers listed with updated_at == boundary
}

func (k changesCursor) String() string {
	var since, boundary string
	if !k.since.IsZero() {
		since = strconv.FormatInt(k.since.Unix(), 10)
	}
	if !k.boundary.IsZero() {
		boundary = strconv.FormatInt(k.boundary.Unix(), 10)
	}
	nums := make([]string, 0, len(k.seen))
	for _, n := range k.seen {
		nums = append(nums, strconv.Itoa(n))
	}
	return "v1;" + since + ";" + strconv.Itoa(k.page) + ";" + boundary + ";" + strings.Join(nums, ",")
}

func parseCursor(s string) (changesCursor, error) {
	bad := fmt.Errorf("cursor %q is not this connector's: %w", s, connector.ErrInvalid)
	parts := strings.Split(s, ";")
	if len(parts) != 5 || parts[0] != "v1" {
		return changesCursor{}, bad
	}
	var k changesCursor
	unix := func(v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		return time.Unix(n, 0).UTC(), err
	}
	var err error
	if k.since, err = unix(parts[1]); err != nil {
		return changesCursor{}, bad
	}
	if k.page, err = strconv.Atoi(parts[2]); err != nil || k.page < 1 {
		return changesCursor{}, bad
	}
	if k.boundary, err = unix(parts[3]); err != nil {
		return changesCursor{}, bad
	}
	if parts[4] != "" {
		for _, v := range strings.Split(parts[4], ",") {
			n, err := strconv.Atoi(v)
			if err != nil {
				return changesCursor{}, bad
			}
			k.seen = append(k.seen, n)
		}
	}
	return k, nil
}

// listed reports whether an issue of this update time was listed before.
func (k changesCursor) listed(t time.Time, number int) bool {
	if k.boundary.IsZero() {
		return false
	}
	return t.Before(k.boundary) || t.Equal(k.boundary) && slices.Contains(k.seen, number)
}

// nextPage reads the page number of the Link header's rel="next" ("Using
// pagination in the REST API"); 0 when there is none.
func nextPage(link string) int {
	for _, part := range strings.Split(link, ",") {
		target, params, ok := strings.Cut(part, ";")
		if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
			continue
		}
		u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
		if err != nil {
			return 0
		}
		if n, err := strconv.Atoi(u.Query().Get("page")); err == nil && n > 0 {
			return n
		}
		return 0
	}
	return 0
}

// Changes pages through the repository's issues and pull requests updated
// at or after since, ascending: GET /repos/{owner}/{repo}/issues with
// state=all, sort=updated, direction=asc and since, 100 a page, while the
// Link header names a next page.
//
// GitHub pages by number, and an issue updated while the list is paged
// moves to its end, shifting every later issue one place up: counting on
// would skip one. So each next page is a new query, since one second
// before the last issue's update time (GitHub's times have whole seconds,
// and "since" is documented as "updated after": the second before makes
// either reading safe), leaving out what was already listed. Only a page
// whose issues all fall within that one second counts pages on instead.
func (c *Conn) Changes(ctx context.Context, project string, since time.Time, cursor string) (connector.Page, error) {
	repo, err := c.scope(project)
	if err != nil {
		return connector.Page{}, fmt.Errorf("list GitHub changes: %w", err)
	}
	k := changesCursor{page: 1}
	if !since.IsZero() {
		// One second early, for the reading of "since" as strictly after;
		// what comes before since is left out.
		k.boundary = since.UTC().Truncate(time.Second)
		k.since = k.boundary.Add(-time.Second)
	}
	if cursor != "" {
		if k, err = parseCursor(cursor); err != nil {
			return connector.Page{}, fmt.Errorf("list GitHub changes in %s: %w", repo, err)
		}
	}
	q := url.Values{"state": {"all"}, "sort": {"updated"}, "direction": {"asc"}, "per_page": {strconv.Itoa(pageSize)}}
	if !k.since.IsZero() {
		q.Set("since", k.since.Format(timeLayout))
	}
	if k.page > 1 {
		q.Set("page", strconv.Itoa(k.page))
	}
	var list []wireIssue
	link, err := c.getJSON(ctx, repo.path("/issues"), q, &list)
	if err != nil {
		return connector.Page{}, fmt.Errorf("list GitHub changes in %s: %w", repo, err)
	}
	out := connector.Page{Entities: make([]connector.Entity, 0, len(list))}
	var last time.Time
	for _, wi := range list {
		e := c.entity(repo, wi)
		if e.UpdatedAt.IsZero() {
			return connector.Page{}, fmt.Errorf("list GitHub changes in %s: issue %d has no update time: %w", repo, wi.Number, connector.ErrUnavailable)
		}
		if e.UpdatedAt.Before(last) {
			return connector.Page{}, fmt.Errorf("list GitHub changes in %s: the answer is not in update order: %w", repo, connector.ErrUnavailable)
		}
		last = e.UpdatedAt
		if !k.listed(e.UpdatedAt, wi.Number) {
			out.Entities = append(out.Entities, e)
		}
	}
	next := nextPage(link)
	if next == 0 || len(list) == 0 {
		return out, nil
	}
	nk := changesCursor{boundary: last}
	if k.boundary.Equal(last) {
		nk.seen = slices.Clone(k.seen)
	}
	for _, wi := range list {
		if parseTime(wi.UpdatedAt).Equal(last) && !slices.Contains(nk.seen, wi.Number) {
			nk.seen = append(nk.seen, wi.Number)
		}
	}
	if restart := last.Add(-time.Second); restart.After(k.since) {
		nk.since, nk.page = restart, 1
	} else {
		// The whole page lies within the second the query starts at: a
		// new query would list it again. Count on.
		nk.since, nk.page = k.since, max(next, k.page+1)
	}
	out.Cursor = nk.String()
	return out, nil
}

// Create makes an issue carrying the marker in its body, closes it in the
// same breath when the status says so (the create request has no state),
// and returns it as GitHub answered.
func (c *Conn) Create(ctx context.Context, project, entityType string, fields connector.Fields, marker connector.Marker) (connector.Entity, error) {
	repo, err := c.scope(project)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("create GitHub issue: %w", err)
	}
	fail := func(err error) (connector.Entity, error) {
		return connector.Entity{}, fmt.Errorf("create GitHub issue in %s: %w", repo, err)
	}
	switch strings.ToLower(strings.TrimSpace(entityType)) {
	case TypeIssue, "":
	case TypePullRequest:
		return fail(fmt.Errorf("pull requests are made from branches, not through the issues API: %w", connector.ErrInvalid))
	default:
		return fail(fmt.Errorf("entity type %q is not issue: %w", entityType, connector.ErrInvalid))
	}
	w, err := c.issueWrite(ctx, repo, fields, nil)
	if err != nil {
		return fail(err)
	}
	if _, ok := w.body["title"]; !ok {
		return fail(fmt.Errorf("field title is required: %w", connector.ErrInvalid))
	}
	desc, _ := w.body["body"].(string)
	if marker.System != "" || marker.Key != "" {
		desc = withMarker(desc, marker.Text(), marker.URL)
	}
	if desc != "" {
		w.body["body"] = desc
	} else {
		delete(w.body, "body")
	}
	for _, k := range []string{"labels", "assignees"} {
		if l, ok := w.body[k].([]string); ok && len(l) == 0 {
			delete(w.body, k)
		}
	}
	if w.body["milestone"] == nil {
		delete(w.body, "milestone")
	}
	state := w.state
	delete(w.body, "state")
	delete(w.body, "state_reason")
	var wi wireIssue
	// Not idempotent: after an ambiguous failure the engine looks for the
	// marker before creating again.
	if err := c.send(ctx, http.MethodPost, repo.path("/issues"), w.body, &wi, true, false); err != nil {
		return fail(err)
	}
	if state != nil {
		ir := issueRef{repo: repo, number: wi.Number}
		if err := c.send(ctx, http.MethodPatch, ir.path(), state, &wi, false, true); err != nil {
			return fail(fmt.Errorf("created %s but could not set its state: %w", ir, err))
		}
	}
	return c.entity(repo, wi), nil
}

// Update writes fields with one PATCH. GitHub has no conditional write, so
// a version is checked against a read made just before (a conditional
// GET: free of the rate limit when nothing changed), which narrows the
// window for a lost update but cannot close it.
func (c *Conn) Update(ctx context.Context, ref connector.Ref, fields connector.Fields, version string) (connector.Entity, error) {
	ir, err := c.parseRef(ref)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("update GitHub issue: %w", err)
	}
	fail := func(err error) (connector.Entity, error) {
		return connector.Entity{}, fmt.Errorf("update GitHub issue %s: %w", ir, err)
	}
	var current *wireIssue
	_, writesBody := fields["description"]
	if version != "" || writesBody {
		wi, err := c.getIssue(ctx, ir)
		if err != nil {
			return connector.Entity{}, err
		}
		if version != "" && issueVersion(wi) != version {
			return fail(fmt.Errorf("it was changed at %s, after the version read: %w", wi.UpdatedAt, connector.ErrConflict))
		}
		current = &wi
	}
	w, err := c.issueWrite(ctx, ir.repo, fields, current)
	if err != nil {
		return fail(err)
	}
	for k, v := range w.state {
		w.body[k] = v
	}
	if len(w.body) == 0 {
		if current != nil {
			return c.entity(ir.repo, *current), nil
		}
		return c.Get(ctx, ref)
	}
	var wi wireIssue
	// A PATCH of field values is idempotent: repeating it sets them again.
	if err := c.send(ctx, http.MethodPatch, ir.path(), w.body, &wi, false, true); err != nil {
		return fail(err)
	}
	c.cache.drop(cacheKey(ir.path(), nil))
	return c.entity(ir.repo, wi), nil
}

// write is an issue's JSON body, with the state change apart (a create
// cannot carry it).
type write struct {
	body  map[string]any
	state map[string]any
}

// issueWrite turns engine fields into GitHub's issue JSON. current is the
// issue as it is (for an update that writes the body, whose marker stays).
func (c *Conn) issueWrite(ctx context.Context, repo repoRef, fields connector.Fields, current *wireIssue) (write, error) {
	w := write{body: map[string]any{}}
	var st stateWrite
	for name, v := range fields {
		var err error
		switch name {
		case "title":
			s, ok := v.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return w, fmt.Errorf("field title must be non-empty text: %w", connector.ErrInvalid)
			}
			w.body["title"] = s
		case "description":
			var desc string
			switch s := v.(type) {
			case nil:
			case string:
				desc = s
			default:
				return w, fmt.Errorf("field description must be text, not %T: %w", v, connector.ErrInvalid)
			}
			if current != nil && current.Body != nil {
				// Keep the marker an issue Lockstep created carries.
				if _, token, link := splitMarker(*current.Body); strings.HasPrefix(token, connector.MarkerPrefix) {
					desc = withMarker(desc, token, link)
				}
			}
			w.body["body"] = desc
		case "status", "state", "stateReason":
			err = st.set(name, v)
		case "labels":
			var l []string
			if l, err = connector.TextList(name, v); err == nil {
				w.body["labels"] = l
			}
		case "assignee":
			var login string
			if login, err = c.assignable(ctx, repo, v); err == nil {
				w.body["assignees"] = []string{}
				if login != "" {
					w.body["assignees"] = []string{login}
				}
			}
		case "assignees":
			var l []string
			if l, err = connector.TextList(name, v); err == nil {
				logins := make([]string, 0, len(l))
				for _, x := range l {
					login, err := c.assignable(ctx, repo, x)
					if err != nil {
						return w, err
					}
					if login != "" {
						logins = append(logins, login)
					}
				}
				w.body["assignees"] = logins
			}
		case "milestone":
			w.body["milestone"], err = c.milestoneNumber(ctx, repo, v)
		case "author":
			return w, fmt.Errorf("field author is read only: GitHub sets it to the account that writes: %w", connector.ErrInvalid)
		default:
			return w, fmt.Errorf("field %q is not a GitHub issue field the connector syncs: %w", name, connector.ErrInvalid)
		}
		if err != nil {
			return w, err
		}
	}
	if _, both := fields["assignee"]; both {
		if _, also := fields["assignees"]; also {
			return w, fmt.Errorf("fields assignee and assignees both set the assignees: map one of them: %w", connector.ErrInvalid)
		}
	}
	state, err := st.json()
	if err != nil {
		return w, err
	}
	w.state = state
	return w, nil
}

// stateWrite collects status, state and stateReason, which all set the
// same two GitHub fields.
type stateWrite struct {
	state, reason string
	hasReason     bool
	from          string // the field that set state, for errors
}

func (s *stateWrite) set(name string, v any) error {
	str, ok := v.(string)
	if v != nil && !ok {
		return fmt.Errorf("field %s must be text, not %T: %w", name, v, connector.ErrInvalid)
	}
	put := func(state, reason string, hasReason bool) error {
		if s.from != "" && s.state != state {
			return fmt.Errorf("fields %s and %s disagree (%s and %s): map one of them: %w", s.from, name, s.state, state, connector.ErrInvalid)
		}
		s.state, s.from = state, name
		if hasReason {
			s.reason, s.hasReason = reason, true
		}
		return nil
	}
	switch name {
	case "status":
		switch str {
		case StatusOpen:
			return put("open", "", false)
		case StatusCompleted, StatusNotPlanned:
			return put("closed", str, true)
		case StatusDuplicate:
			return fmt.Errorf("status duplicate needs the original issue, which a sync cannot name; map it to not_planned: %w", connector.ErrInvalid)
		}
		return fmt.Errorf("field status must be open, completed or not_planned, not %s: %w", connector.Digest(str), connector.ErrInvalid)
	case "state":
		switch str {
		case "open", "closed":
			return put(str, "", false)
		}
		return fmt.Errorf("field state must be open or closed, not %s: %w", connector.Digest(str), connector.ErrInvalid)
	default: // stateReason
		switch str {
		case "":
			return nil // no reason: GitHub keeps or picks one
		case StatusCompleted, StatusNotPlanned:
			return put("closed", str, true)
		case "reopened":
			return put("open", str, true)
		case StatusDuplicate:
			return fmt.Errorf("state reason duplicate needs the original issue, which a sync cannot name: %w", connector.ErrInvalid)
		}
		return fmt.Errorf("field stateReason must be completed, not_planned or reopened, not %s: %w", connector.Digest(str), connector.ErrInvalid)
	}
}

func (s *stateWrite) json() (map[string]any, error) {
	if s.from == "" {
		return nil, nil
	}
	out := map[string]any{"state": s.state}
	if s.hasReason {
		out["state_reason"] = s.reason
	}
	return out, nil
}

// FindByMarker finds the issues created for marker: through the search API
// (in:body, is:issue, repo:), and through the repository's most recently
// created issues, because the search index is eventually consistent and
// an issue made seconds ago may not be in it yet. Either way only issues
// whose body really carries the marker count.
func (c *Conn) FindByMarker(ctx context.Context, project string, marker connector.Marker) ([]connector.Entity, error) {
	repo, err := c.scope(project)
	if err != nil {
		return nil, fmt.Errorf("find GitHub issue by marker: %w", err)
	}
	token := marker.Text()
	found := map[int]connector.Entity{}
	keep := func(list []wireIssue) {
		for _, wi := range list {
			if wi.Body == nil || wi.PullRequest != nil {
				continue
			}
			if _, t, _ := splitMarker(*wi.Body); t == token {
				found[wi.Number] = c.entity(repo, wi)
			}
		}
	}
	q := url.Values{"q": {`"` + escapeToken(token) + `" in:body is:issue repo:` + repo.String()}, "per_page": {strconv.Itoa(pageSize)}}
	var res wireSearch
	if _, err := c.getJSON(ctx, "/search/issues", q, &res); err != nil {
		return nil, fmt.Errorf("find GitHub issue for %s in %s: %w", marker.Key, repo, err)
	}
	keep(res.Items)
	var recent []wireIssue
	rq := url.Values{"state": {"all"}, "sort": {"created"}, "direction": {"desc"}, "per_page": {strconv.Itoa(pageSize)}}
	if _, err := c.getJSON(ctx, repo.path("/issues"), rq, &recent); err != nil {
		return nil, fmt.Errorf("find GitHub issue for %s in %s: %w", marker.Key, repo, err)
	}
	keep(recent)
	out := make([]connector.Entity, 0, len(found))
	for _, e := range found {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b connector.Entity) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// Delete deletes an issue. The REST API cannot; GraphQL's deleteIssue
// mutation can, for repository administrators. An issue already gone is
// not an error.
func (c *Conn) Delete(ctx context.Context, ref connector.Ref) error {
	ir, err := c.parseRef(ref)
	if err != nil {
		return fmt.Errorf("delete GitHub issue: %w", err)
	}
	wi, err := c.getIssue(ctx, ir)
	if errors.Is(err, connector.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	in := map[string]any{
		"query":     "mutation($id: ID!) { deleteIssue(input: {issueId: $id}) { clientMutationId } }",
		"variables": map[string]string{"id": wi.NodeID},
	}
	done, err := c.pace.wait(ctx, false)
	defer done()
	if err != nil {
		return fmt.Errorf("delete GitHub issue %s: %w", ir, err)
	}
	var out struct {
		Errors []struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := c.graph.DoJSON(ctx, graphRequest(), in, &out); err != nil {
		return fmt.Errorf("delete GitHub issue %s: %w", ir, err)
	}
	c.cache.drop(cacheKey(ir.path(), nil))
	if len(out.Errors) == 0 {
		return nil
	}
	e := out.Errors[0]
	kind := connector.ErrInvalid
	switch e.Type {
	case "NOT_FOUND":
		return nil
	case "FORBIDDEN":
		kind = connector.ErrForbidden
	}
	return fmt.Errorf("delete GitHub issue %s: %s: %w", ir, e.Message, kind)
}
