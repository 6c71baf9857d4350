package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// Statuses: GitLab's issue states.
const (
	StatusOpened = "opened"
	StatusClosed = "closed"
)

// Get reads one issue with all its fields.
func (c *Conn) Get(ctx context.Context, ref connector.Ref) (connector.Entity, error) {
	wi, p, err := c.getIssue(ctx, ref)
	if err != nil {
		return connector.Entity{}, err
	}
	return c.entity(p, wi), nil
}

func (c *Conn) getIssue(ctx context.Context, ref connector.Ref) (wireIssue, *projectInfo, error) {
	fail := func(err error) (wireIssue, *projectInfo, error) {
		return wireIssue{}, nil, fmt.Errorf("get GitLab issue %s: %w", connector.RefName(ref), err)
	}
	r, err := c.parseRef(ctx, ref)
	if err != nil {
		return fail(err)
	}
	p, err := c.byID(ctx, r.project)
	if err != nil {
		return fail(err)
	}
	var wi wireIssue
	if err := c.http.DoJSON(ctx, r.request(http.MethodGet, ""), nil, &wi); err != nil {
		return fail(err)
	}
	if wi.IID != r.iid {
		return fail(fmt.Errorf("the answer is issue %d, not %d: %w", wi.IID, r.iid, connector.ErrUnavailable))
	}
	return wi, p, nil
}

// entity converts an issue. Fields holds exactly the fields Schema lists
// (whether set or not), so a cleared field reads as nil.
func (c *Conn) entity(p *projectInfo, wi wireIssue) connector.Entity {
	desc := ""
	if wi.Description != nil {
		desc = *wi.Description
	}
	text, _, marker := splitDescription(desc)
	text = p.absoluteUploads(text)
	labels := slices.Clone(wi.Labels)
	if labels == nil {
		labels = []string{}
	}
	usernames := make([]string, 0, len(wi.Assignees))
	for _, a := range wi.Assignees {
		usernames = append(usernames, a.Username)
	}
	fields := connector.Fields{
		"title":        wi.Title,
		"description":  nilIfEmpty(text),
		"status":       wi.State,
		"labels":       labels,
		"assignee":     nil,
		"assignees":    usernames,
		"milestone":    nil,
		"dueDate":      nil,
		"confidential": wi.Confidential,
	}
	if len(wi.Assignees) > 0 {
		fields["assignee"] = user(wi.Assignees[0])
	}
	if wi.Milestone != nil && wi.Milestone.Title != "" {
		fields["milestone"] = wi.Milestone.Title
	}
	if wi.DueDate != nil && *wi.DueDate != "" {
		fields["dueDate"] = *wi.DueDate
	}
	if wi.Weight != nil { // present: the tier has weights
		var w *float64
		_ = json.Unmarshal(wi.Weight, &w)
		fields["weight"] = nil
		if w != nil {
			fields["weight"] = *w
		}
	}
	p.learnTier(wi)
	typ := wi.IssueType
	if typ == "" {
		typ = "issue"
	}
	key := wi.References.Full
	if key == "" {
		key = fmt.Sprintf("%s#%d", p.Path, wi.IID)
	}
	return connector.Entity{
		Ref:       connector.Ref{ID: issueRef{project: p.ID, iid: wi.IID}.id(), Key: key},
		Type:      typ,
		Title:     wi.Title,
		URL:       wi.WebURL,
		Version:   versionOf(wi),
		CreatedAt: parseTime(wi.CreatedAt),
		UpdatedAt: parseTime(wi.UpdatedAt),
		Fields:    fields,
		Marker:    marker,
	}
}

// version is an issue's updated_at and a hash of what it holds. GitLab
// shows updated_at to the millisecond only, so two writes within one
// millisecond leave it the same: the hash tells them apart. There is no
// other version (the lock_version GitLab's own editor uses is not in the
// REST API).
func versionOf(wi wireIssue) string {
	h := fnv.New64a()
	desc := ""
	if wi.Description != nil {
		desc = *wi.Description
	}
	due, ms := "", ""
	if wi.DueDate != nil {
		due = *wi.DueDate
	}
	if wi.Milestone != nil {
		ms = strconv.FormatInt(wi.Milestone.ID, 10)
	}
	var users []string
	for _, a := range wi.Assignees {
		users = append(users, strconv.FormatInt(a.ID, 10))
	}
	for _, s := range []string{wi.Title, desc, wi.State, wi.IssueType, strings.Join(wi.Labels, ","), strings.Join(users, ","),
		ms, due, string(wi.Weight), strconv.FormatBool(wi.Confidential), strconv.Itoa(wi.UserNotes)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%s~%016x", wi.UpdatedAt, h.Sum64())
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func user(w wireUser) connector.User {
	return connector.User{ID: w.Username, Email: w.Email, Name: w.Name}
}

// learnTier notes whether the project's issues have weights: GitLab leaves
// the attribute out where the tier has none.
func (p *projectInfo) learnTier(wi wireIssue) {
	has := wi.Weight != nil
	p.mu.Lock()
	p.premium = &has
	p.mu.Unlock()
}

// tier reports whether the project is known to have weights, and whether
// that is known at all.
func (p *projectInfo) tier() (premium, known bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.premium == nil {
		return false, false
	}
	return *p.premium, true
}

// IndexesMarkers reports that Changes and Get fill Entity.Marker: the
// marker is in the description, which every issue read carries.
func (c *Conn) IndexesMarkers() bool { return true }

// Changes pages through the project's issues updated at or after since,
// ascending by updated_at (then id). GitLab pages by offset, and an issue
// updated while the pages are read moves to the end, shifting the rest
// forward: a cursor that counted pages would skip one. So each page is a
// new query from the updated_at of the last issue listed (the issues
// listed at that very millisecond are left out of the next page by id);
// only when a whole page shares one millisecond does the cursor count
// pages within it.
func (c *Conn) Changes(ctx context.Context, project string, since time.Time, cursor string) (connector.Page, error) {
	p, err := c.resolve(ctx, project)
	if err != nil {
		return connector.Page{}, fmt.Errorf("list GitLab changes: %w", err)
	}
	cur := changesCursor{from: since.UTC().Truncate(time.Millisecond), page: 1}
	if cursor != "" {
		if cur, err = parseCursor(cursor); err != nil {
			return connector.Page{}, fmt.Errorf("list GitLab changes in %s: %w", p.Path, err)
		}
	}
	q := url.Values{"order_by": {"updated_at"}, "sort": {"asc"}, "state": {"all"}, "scope": {"all"},
		"per_page": {strconv.Itoa(pageSize)}, "page": {strconv.Itoa(cur.page)}}
	if !cur.from.IsZero() {
		q.Set("updated_after", cur.from.Format(apiTime))
	}
	r := projectRequest(http.MethodGet, strconv.FormatInt(p.ID, 10), "/issues")
	r.Query = q
	var list []wireIssue
	next, err := c.getPage(ctx, r, &list)
	if err != nil {
		return connector.Page{}, fmt.Errorf("list GitLab changes in %s: %w", p.Path, err)
	}
	out := connector.Page{Entities: make([]connector.Entity, 0, len(list))}
	var last time.Time
	var atLast []string
	for _, wi := range list {
		e := c.entity(p, wi)
		ms := e.UpdatedAt.Truncate(time.Millisecond)
		if ms.Before(last) {
			return connector.Page{}, fmt.Errorf("list GitLab changes in %s: the answer is not in updated_at order: %w", p.Path, connector.ErrUnavailable)
		}
		if !ms.Equal(last) {
			atLast = atLast[:0]
		}
		last = ms
		atLast = append(atLast, strconv.FormatInt(wi.ID, 10))
		if ms.Equal(cur.seenAt) && slices.Contains(cur.seen, strconv.FormatInt(wi.ID, 10)) {
			continue // listed by the page before, unchanged since
		}
		out.Entities = append(out.Entities, e)
	}
	if !next || len(list) == 0 {
		return out, nil
	}
	n := changesCursor{seenAt: last, seen: slices.Clone(atLast)}
	switch {
	case last.After(cur.from):
		// Restart at the last millisecond: skip the pages of it already
		// listed whole (a page shorter than that is left out by id).
		n.from, n.page = last, 1+len(atLast)/pageSize
	default:
		// The whole page shares the cursor's millisecond.
		n.from, n.page = cur.from, cur.page+1
		if cur.seenAt.Equal(last) {
			n.seen = append(slices.Clone(cur.seen), atLast...)
		}
	}
	out.Cursor = n.String()
	return out, nil
}

// apiTime is how the connector writes times in queries: UTC, milliseconds.
const apiTime = "2006-01-02T15:04:05.000Z"

// changesCursor is where the next page of changes starts: the query from
// a time, at a page, leaving out the issues (by global id) already listed
// with updated_at at seenAt.
type changesCursor struct {
	from   time.Time
	page   int
	seenAt time.Time
	seen   []string
}

func (s changesCursor) String() string {
	return fmt.Sprintf("%d|%d|%d|%s", s.from.UnixMilli(), s.page, s.seenAt.UnixMilli(), strings.Join(s.seen, ","))
}

func parseCursor(s string) (changesCursor, error) {
	parts := strings.Split(s, "|")
	bad := fmt.Errorf("cursor %q is not this connector's: %w", s, connector.ErrInvalid)
	if len(parts) != 4 {
		return changesCursor{}, bad
	}
	from, err1 := strconv.ParseInt(parts[0], 10, 64)
	page, err2 := strconv.Atoi(parts[1])
	at, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || page < 1 {
		return changesCursor{}, bad
	}
	cur := changesCursor{from: time.UnixMilli(from).UTC(), page: page, seenAt: time.UnixMilli(at).UTC()}
	if from == 0 {
		cur.from = time.Time{}
	}
	if parts[3] != "" {
		cur.seen = strings.Split(parts[3], ",")
	}
	return cur, nil
}

// getPage reads one page of a list into out and reports whether another
// follows: X-Next-Page, or a Link header's rel="next" (some proxies drop
// custom headers; keyset-paginated lists have only the Link). A page
// with neither is the last.
func (c *Conn) getPage(ctx context.Context, r httpx.Request, out any) (bool, error) {
	r, err := r.JSON(nil, "")
	if err != nil {
		return false, err
	}
	resp, err := c.http.Do(ctx, r)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if err := httpx.DecodeJSON(r, resp, out); err != nil {
		return false, err
	}
	if strings.TrimSpace(resp.Header.Get("X-Next-Page")) != "" {
		return true, nil
	}
	return hasNextLink(resp.Header.Values("Link")), nil
}

func hasNextLink(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if strings.Contains(strings.ReplaceAll(part, " ", ""), `rel="next"`) {
				return true
			}
		}
	}
	return false
}

// maxPages bounds the pages read of one list (notes, members, links):
// 100,000 items; a server whose paging never ends fails the call.
const maxPages = 1000

// getAll reads every page of a list.
func getAll[T any](ctx context.Context, c *Conn, r httpx.Request) ([]T, error) {
	var out []T
	q := r.Query
	if q == nil {
		q = url.Values{}
	}
	for page := 1; page <= maxPages; page++ {
		q = cloneValues(q)
		q.Set("per_page", strconv.Itoa(pageSize))
		q.Set("page", strconv.Itoa(page))
		r.Query = q
		var items []T
		next, err := c.getPage(ctx, r, &items)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if !next || len(items) == 0 {
			return out, nil
		}
	}
	return nil, fmt.Errorf("paging does not end after %d pages: %w", maxPages, connector.ErrUnavailable)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, x := range v {
		out[k] = slices.Clone(x)
	}
	return out
}

// Create makes an issue carrying the marker, closes it when the wanted
// status is closed (GitLab makes issues open), and returns it.
func (c *Conn) Create(ctx context.Context, project, entityType string, fields connector.Fields, marker connector.Marker) (connector.Entity, error) {
	p, err := c.resolve(ctx, project)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("create GitLab issue: %w", err)
	}
	fail := func(err error) (connector.Entity, error) {
		return connector.Entity{}, fmt.Errorf("create GitLab issue in %s: %w", p.Path, err)
	}
	body, status, err := c.issueFields(ctx, p, fields, nil)
	if err != nil {
		return fail(err)
	}
	if _, ok := body["title"]; !ok {
		return fail(fmt.Errorf("field title is required: %w", connector.ErrInvalid))
	}
	if entityType != "" && entityType != "issue" {
		body["issue_type"] = entityType
	}
	if marker.System != "" || marker.Key != "" {
		text, _ := body["description"].(string)
		body["description"] = joinDescription(text, []string{markerComment(marker)})
	}
	var wi wireIssue
	r := projectRequest(http.MethodPost, strconv.FormatInt(p.ID, 10), "/issues")
	// Not idempotent: after an ambiguous failure the engine looks for the
	// marker before creating again.
	if err := c.http.DoJSON(ctx, r, body, &wi); err != nil {
		return fail(err)
	}
	if status == StatusClosed {
		ir := issueRef{project: p.ID, iid: wi.IID}
		if err := c.http.DoJSON(ctx, ir.request(http.MethodPut, ""), map[string]any{"state_event": "close"}, &wi); err != nil {
			return fail(fmt.Errorf("close the new issue #%d: %w", wi.IID, err))
		}
	}
	return c.entity(p, wi), nil
}

// Update writes fields in one request. GitLab has no conditional update:
// a non-empty version is checked against the issue's updated_at just
// before writing, best effort.
func (c *Conn) Update(ctx context.Context, ref connector.Ref, fields connector.Fields, version string) (connector.Entity, error) {
	wi, p, err := c.getIssue(ctx, ref)
	if err != nil {
		return connector.Entity{}, err
	}
	fail := func(err error) (connector.Entity, error) {
		return connector.Entity{}, fmt.Errorf("update GitLab issue %s: %w", connector.RefName(ref), err)
	}
	if now := versionOf(wi); version != "" && now != version {
		return fail(fmt.Errorf("it changed (version %s) since the version read (%s): %w", now, version, connector.ErrConflict))
	}
	body, status, err := c.issueFields(ctx, p, fields, &wi)
	if err != nil {
		return fail(err)
	}
	switch {
	case status == StatusClosed && wi.State != StatusClosed:
		body["state_event"] = "close"
	case status == StatusOpened && wi.State != StatusOpened:
		body["state_event"] = "reopen"
	}
	if len(body) == 0 {
		return c.entity(p, wi), nil // nothing to write; GitLab refuses an empty edit
	}
	ir := issueRef{project: p.ID, iid: wi.IID}
	// A PUT of values is idempotent: repeating it sets them again.
	if err := c.http.DoJSON(ctx, ir.request(http.MethodPut, ""), body, &wi); err != nil {
		return fail(err)
	}
	return c.entity(p, wi), nil
}

// issueFields turns engine fields into the attributes of a create or edit
// (current is the issue read before an edit, nil for a create); status
// comes back apart, as it is written with state_event. For an edit, nil
// clears a field; for a create, nil is left out.
func (c *Conn) issueFields(ctx context.Context, p *projectInfo, fields connector.Fields, current *wireIssue) (map[string]any, string, error) {
	body := map[string]any{}
	status := ""
	for _, name := range sortedKeys(fields) {
		v := fields[name]
		var err error
		switch name {
		case "title":
			s, ok := v.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return nil, "", fmt.Errorf("field title must be non-empty text: %w", connector.ErrInvalid)
			}
			// A title is one line: GitLab keeps line breaks out of it.
			body["title"] = strings.Join(strings.Fields(s), " ")
		case "description":
			var s string
			switch x := v.(type) {
			case nil:
			case string:
				s = x
			default:
				return nil, "", fmt.Errorf("field description must be text, not %T: %w", v, connector.ErrInvalid)
			}
			var markers []string
			if current != nil && current.Description != nil {
				_, markers, _ = splitDescription(*current.Description) // the markers are not the engine's
			}
			// A copied marker comment must not pass for this issue's own.
			s, _, _ = splitDescription(s)
			body["description"] = joinDescription(s, markers)
		case "status":
			s, ok := v.(string)
			if !ok || (s != StatusOpened && s != StatusClosed) {
				return nil, "", fmt.Errorf("field status must be %q or %q, not %s: %w", StatusOpened, StatusClosed, connector.Digest(v), connector.ErrInvalid)
			}
			status = s
		case "labels":
			var l []string
			if l, err = connector.TextList(name, v); err == nil {
				for _, x := range l {
					if strings.Contains(x, ",") || strings.TrimSpace(x) == "" {
						return nil, "", fmt.Errorf("label %s: GitLab labels are non-empty and hold no comma: %w", connector.Digest(x), connector.ErrInvalid)
					}
				}
				body["labels"] = strings.Join(l, ",")
			}
		case "assignee":
			var ids []int64
			if ids, err = c.assigneeIDs(ctx, p, []any{v}); err == nil {
				body["assignee_ids"] = ids
			}
		case "assignees":
			var l []string
			if l, err = connector.TextList(name, v); err == nil {
				vs := make([]any, 0, len(l))
				for _, s := range l {
					vs = append(vs, connector.User{ID: s})
				}
				var ids []int64
				if ids, err = c.assigneeIDs(ctx, p, vs); err == nil {
					body["assignee_ids"] = ids
				}
			}
		case "milestone":
			var id int64
			if id, err = c.milestoneID(ctx, p, v); err == nil && (id != 0 || current != nil) {
				body["milestone_id"] = id
			}
		case "dueDate":
			d, ok, derr := connector.Day(name, v)
			switch {
			case derr != nil:
				err = derr
			case ok:
				body["due_date"] = d
			case current != nil:
				body["due_date"] = "" // GitLab clears a due date given empty
			}
		case "weight":
			err = c.weight(p, v, current != nil, body)
		case "confidential":
			b, ok := v.(bool)
			if !ok && v != nil {
				return nil, "", fmt.Errorf("field confidential must be true or false, not %T: %w", v, connector.ErrInvalid)
			}
			body["confidential"] = b
		default:
			return nil, "", fmt.Errorf("field %q is not a GitLab field the connector syncs: %w", name, connector.ErrInvalid)
		}
		if err != nil {
			return nil, "", err
		}
	}
	return body, status, nil
}

func sortedKeys(f connector.Fields) []string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// weight writes a weight where the tier has weights; GitLab Free would
// ignore it without a word, so it is refused instead.
func (c *Conn) weight(p *projectInfo, v any, edit bool, body map[string]any) error {
	if premium, known := p.tier(); known && !premium {
		return fmt.Errorf("field weight: this project's GitLab tier has no issue weights (Premium and Ultimate have them): %w", connector.ErrInvalid)
	}
	var n float64
	switch x := v.(type) {
	case nil:
		if edit {
			body["weight"] = nil
		}
		return nil
	case float64:
		n = x
	case int:
		n = float64(x)
	case int64:
		n = float64(x)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return fmt.Errorf("field weight: value %s is not a number: %w", connector.Digest(x), connector.ErrInvalid)
		}
		n = f
	default:
		return fmt.Errorf("field weight must be a number, not %T: %w", v, connector.ErrInvalid)
	}
	if n < 0 || n != float64(int64(n)) {
		return fmt.Errorf("field weight must be a whole number of 0 or more, not %s: %w", connector.Digest(n), connector.ErrInvalid)
	}
	body["weight"] = int64(n)
	return nil
}

// FindByMarker searches the project's issues for the marker's token in
// the description, and keeps those whose description carries the marker
// exactly (the search matches words by prefix).
func (c *Conn) FindByMarker(ctx context.Context, project string, marker connector.Marker) ([]connector.Entity, error) {
	p, err := c.resolve(ctx, project)
	if err != nil {
		return nil, fmt.Errorf("find GitLab issue by marker: %w", err)
	}
	r := projectRequest(http.MethodGet, strconv.FormatInt(p.ID, 10), "/issues")
	r.Query = url.Values{"search": {searchToken(marker)}, "in": {"description"}, "state": {"all"}, "scope": {"all"},
		"order_by": {"created_at"}, "sort": {"asc"}}
	list, err := getAll[wireIssue](ctx, c, r)
	if err != nil {
		return nil, fmt.Errorf("find GitLab issue for %s in %s: %w", marker.Key, p.Path, err)
	}
	out := []connector.Entity{}
	want := marker.Text()
	for _, wi := range list {
		if wi.Description == nil {
			continue
		}
		for _, m := range descMarker.FindAllStringSubmatch(*wi.Description, -1) {
			if commentUnescape(m[1]) == want {
				out = append(out, c.entity(p, wi))
				break
			}
		}
	}
	return out, nil
}

// Delete deletes an issue, which GitLab allows a project's owners and
// administrators only. One already gone is not an error.
func (c *Conn) Delete(ctx context.Context, ref connector.Ref) error {
	r, err := c.parseRef(ctx, ref)
	if err != nil {
		return fmt.Errorf("delete GitLab issue: %w", err)
	}
	err = c.http.DoJSON(ctx, r.request(http.MethodDelete, ""), nil, nil)
	if err != nil && !errors.Is(err, connector.ErrNotFound) {
		if errors.Is(err, connector.ErrForbidden) {
			err = fmt.Errorf("%w (GitLab lets only a project's owners delete issues)", err)
		}
		return fmt.Errorf("delete GitLab issue %s: %w", connector.RefName(ref), err)
	}
	return nil
}
