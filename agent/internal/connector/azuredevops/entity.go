package azuredevops

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
	"github.com/lockstep-sync/lockstep/agent/internal/markup"
)

// The service's JSON, as this connector reads it.

type wireItem struct {
	ID        int            `json:"id"`
	Rev       int            `json:"rev"`
	Fields    map[string]any `json:"fields"`
	Relations []wireRelation `json:"relations"`
	URL       string         `json:"url"`
	Links     struct {
		HTML struct {
			Href string `json:"href"`
		} `json:"html"`
	} `json:"_links"`
}

type wireRelation struct {
	Rel        string         `json:"rel"`
	URL        string         `json:"url"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

type wireIdentity struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	UniqueName  string `json:"uniqueName"`
}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// Reference names of the fields the engine sees under plain names.
const (
	refTitle     = "System.Title"
	refDesc      = "System.Description"
	refState     = "System.State"
	refAssigned  = "System.AssignedTo"
	refTags      = "System.Tags"
	refArea      = "System.AreaPath"
	refIteration = "System.IterationPath"
	refPriority  = "Microsoft.VSTS.Common.Priority"
	refDue       = "Microsoft.VSTS.Scheduling.DueDate"
	refType      = "System.WorkItemType"
	refProject   = "System.TeamProject"
	refCreated   = "System.CreatedDate"
	refChanged   = "System.ChangedDate"
)

// plain maps the engine's field names to reference names.
var plain = map[string]string{
	"title": refTitle, "description": refDesc, "status": refState, "assignee": refAssigned, "labels": refTags,
	"areaPath": refArea, "iterationPath": refIteration, "priority": refPriority, "dueDate": refDue,
}

// customPrefix names every other field: "cf:" + reference name.
const customPrefix = "cf:"

// readOnly are fields the service maintains itself; they are neither read
// into Entity.Fields nor offered in the schema.
var readOnly = map[string]bool{
	"Microsoft.VSTS.Common.StateChangeDate": true, "Microsoft.VSTS.Common.ActivatedDate": true,
	"Microsoft.VSTS.Common.ActivatedBy": true, "Microsoft.VSTS.Common.ResolvedDate": true,
	"Microsoft.VSTS.Common.ResolvedBy": true, "Microsoft.VSTS.Common.ClosedDate": true,
	"Microsoft.VSTS.Common.ClosedBy": true,
}

// custom reports whether a reference name is offered as "cf:<ref>": the
// System.* fields are either mapped to plain names or the service's own.
func custom(ref string) bool {
	return !strings.HasPrefix(ref, "System.") && !readOnly[ref] && !slices.Contains(plainRefs(), ref)
}

func plainRefs() []string {
	out := make([]string, 0, len(plain))
	for _, r := range plain {
		out = append(out, r)
	}
	return out
}

// markerTagPrefix starts the tag that carries a peer marker.
const markerTagPrefix = "lockstep-"

// markerTag is the searchable half of a marker: WIQL cannot query
// hyperlinks, but [System.Tags] CONTAINS finds a tag. A hash keeps the tag
// short and free of the characters tags refuse (; and ,).
func markerTag(m connector.Marker) string {
	return connector.HashLabel(markerTagPrefix, m.System+"\x00"+m.Key)
}

func splitTags(s string) []string {
	out := []string{}
	for _, t := range strings.Split(s, ";") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func (c *Conn) entity(it wireItem) connector.Entity {
	f := it.Fields
	str := func(ref string) string { s, _ := f[ref].(string); return s }
	project := str(refProject)
	if project != "" {
		c.mu.Lock()
		c.projectOf[it.ID] = project
		c.mu.Unlock()
	}
	desc, err := htmlToMarkdown(str(refDesc))
	if err != nil {
		c.log.Warn().Err(err).Str("entity_id", strconv.Itoa(it.ID)).Msg("description kept as HTML: it could not be converted")
		desc = str(refDesc)
	}
	labels := []string{}
	for _, t := range splitTags(str(refTags)) {
		if !strings.HasPrefix(strings.ToLower(t), markerTagPrefix) {
			labels = append(labels, t)
		}
	}
	fields := connector.Fields{
		"title": str(refTitle), "description": desc, "status": str(refState), "labels": labels,
		"areaPath": str(refArea), "iterationPath": str(refIteration), "assignee": nil, "priority": nil, "dueDate": nil,
	}
	if u, ok := user(f[refAssigned]); ok {
		fields["assignee"] = u
	}
	if p, ok := f[refPriority].(float64); ok {
		fields["priority"] = strconv.FormatFloat(p, 'f', -1, 64)
	}
	if d := str(refDue); d != "" {
		if t, err := time.Parse(time.RFC3339Nano, d); err == nil {
			fields["dueDate"] = t.UTC().Format(time.DateOnly)
		}
	}
	for ref, v := range f {
		if !custom(ref) {
			continue
		}
		if u, ok := user(v); ok {
			v = u
		}
		fields[customPrefix+ref] = v
	}
	id := strconv.Itoa(it.ID)
	link := it.Links.HTML.Href
	if link == "" && project != "" {
		link = c.http.BaseURL() + "/" + url.PathEscape(project) + "/_workitems/edit/" + id
	}
	return connector.Entity{
		Ref:       connector.Ref{ID: id, Key: id},
		Type:      str(refType),
		Title:     str(refTitle),
		URL:       link,
		Version:   strconv.Itoa(it.Rev),
		CreatedAt: parseTime(str(refCreated)),
		UpdatedAt: parseTime(str(refChanged)),
		Fields:    fields,
	}
}

// user reads an identity field: the object the service returns (an
// IdentityRef), or the "Name <email>" text older versions return.
func user(v any) (connector.User, bool) {
	switch u := v.(type) {
	case map[string]any:
		id, _ := u["id"].(string)
		name, _ := u["displayName"].(string)
		email, _ := u["uniqueName"].(string)
		if name == "" && email == "" && id == "" {
			return connector.User{}, false
		}
		return connector.User{ID: id, Email: email, Name: name}, true
	case string:
		if i := strings.LastIndex(u, "<"); i > 0 && strings.HasSuffix(u, ">") {
			email := u[i+1 : len(u)-1]
			return connector.User{ID: email, Email: email, Name: strings.TrimSpace(u[:i])}, true
		}
	}
	return connector.User{}, false
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t.UTC()
}

// htmlToMarkdown converts a rich-text field; an HTML comment carrying a
// Lockstep marker survives (the converter drops comments), so the engine
// still recognises its own writing.
func htmlToMarkdown(h string) (string, error) {
	if h == "" {
		return "", nil
	}
	markers := markerComments.FindAllString(h, -1)
	md, err := markup.HTMLToMarkdown(h)
	if err != nil {
		return "", fmt.Errorf("convert HTML to Markdown: %w", err)
	}
	for _, m := range markers {
		md += "\n\n" + m
	}
	return strings.TrimLeft(md, "\n"), nil
}

// markdownToHTML converts Markdown for a rich-text field, keeping Lockstep
// marker comments (the converter drops HTML comments).
func markdownToHTML(md string) (string, error) {
	markers := markerComments.FindAllString(md, -1)
	h, err := markup.MarkdownToHTML(markerComments.ReplaceAllString(md, ""))
	if err != nil {
		return "", fmt.Errorf("convert Markdown to HTML: %w", err)
	}
	for _, m := range markers {
		h += m
	}
	return h, nil
}

// itemPath is the organization-level path of a work item.
func itemPath(ref connector.Ref) (string, int, error) {
	raw := ref.ID
	if raw == "" {
		raw = strings.TrimPrefix(ref.Key, "#")
	}
	id, err := strconv.Atoi(raw)
	if err != nil || id <= 0 {
		return "", 0, fmt.Errorf("work item reference %q is not a work item id: %w", raw, connector.ErrInvalid)
	}
	return "/_apis/wit/workitems/" + strconv.Itoa(id), id, nil
}

// read gets a work item with its relations.
func (c *Conn) read(ctx context.Context, ref connector.Ref) (wireItem, error) {
	path, _, err := itemPath(ref)
	if err != nil {
		return wireItem{}, err
	}
	var it wireItem
	err = c.call(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: url.Values{"$expand": {"relations"}}}, nil, false, &it)
	if err != nil {
		return wireItem{}, err
	}
	return it, nil
}

// Get reads one work item.
func (c *Conn) Get(ctx context.Context, ref connector.Ref) (connector.Entity, error) {
	it, err := c.read(ctx, ref)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("get Azure DevOps work item %s: %w", connector.RefName(ref), err)
	}
	return c.entity(it), nil
}

// pageSize is both the WIQL $top of one page and the batch size.
const pageSize = batchMax

// wiqlTime writes a time for WIQL, to the millisecond the service keeps.
func wiqlTime(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

// cursor is a keyset position: the last (ChangedDate, id) listed, and
// the items already listed within that date's second, each with the
// ChangedDate it had then (Unix milliseconds).
type cursor struct {
	at   time.Time
	id   int
	seen map[int]int64
}

func (k cursor) String() string {
	var b strings.Builder
	b.WriteString(k.at.UTC().Format(time.RFC3339Nano) + "," + strconv.Itoa(k.id) + ",")
	ids := make([]int, 0, len(k.seen))
	for id := range k.seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, "%d:%d", id, k.seen[id])
	}
	return b.String()
}

func parseCursor(s string) (cursor, error) {
	bad := fmt.Errorf("cursor %q is not one this connector made: %w", s, connector.ErrInvalid)
	parts := strings.SplitN(s, ",", 3)
	if len(parts) < 2 {
		return cursor{}, bad
	}
	t, err1 := time.Parse(time.RFC3339Nano, parts[0])
	n, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return cursor{}, bad
	}
	k := cursor{at: t, id: n, seen: map[int]int64{}}
	if len(parts) == 3 && parts[2] != "" {
		for _, kv := range strings.Split(parts[2], ";") {
			id, ms, ok := strings.Cut(kv, ":")
			a, err1 := strconv.Atoi(id)
			b, err2 := strconv.ParseInt(ms, 10, 64)
			if !ok || err1 != nil || err2 != nil {
				return cursor{}, bad
			}
			k.seen[a] = b
		}
	}
	return k, nil
}

// after reports whether (at, id) comes after the cursor's position.
func (k cursor) after(at time.Time, id int) bool {
	return at.After(k.at) || at.Equal(k.at) && id > k.id
}

// Changes pages through the project's work items changed at or after
// since. WIQL answers ids only (at most 20,000), ordered by
// [System.ChangedDate] then [System.Id]; the items are then read with
// workitemsbatch (200 ids a call).
//
// How finely WIQL compares dates with timePrecision=true is not
// documented (only "whether or not to use time precision"), so each page
// asks from the start of the cursor's second, never from its millisecond:
// a coarser comparison then repeats items, it cannot skip them. The
// cursor remembers the items already listed in that second (with the date
// they had) and asks for that many more ids, so a burst of more than a
// page of changes within one second still moves on. An item changed while
// paging gets a later date and comes again on a later page: repeats,
// never gaps.
func (c *Conn) Changes(ctx context.Context, project string, since time.Time, cur string) (connector.Page, error) {
	project, err := c.scope(project)
	if err != nil {
		return connector.Page{}, fmt.Errorf("list Azure DevOps changes: %w", err)
	}
	since = since.UTC().Truncate(time.Millisecond)
	where := "[System.TeamProject] = @project"
	pos := cursor{at: since, seen: map[int]int64{}}
	if cur != "" {
		if pos, err = parseCursor(cur); err != nil {
			return connector.Page{}, fmt.Errorf("list Azure DevOps changes in %s: %w", project, err)
		}
	}
	if !pos.at.IsZero() {
		where += fmt.Sprintf(" AND [System.ChangedDate] >= '%s'", wiqlTime(pos.at.Truncate(time.Second)))
	}
	top := pageSize + len(pos.seen)
	query := "SELECT [System.Id] FROM WorkItems WHERE " + where + " ORDER BY [System.ChangedDate] ASC, [System.Id] ASC"
	ids, asOf, err := c.wiql(ctx, project, query, top)
	if err != nil {
		return connector.Page{}, fmt.Errorf("list Azure DevOps changes in %s: %w", project, err)
	}
	items, err := c.batch(ctx, project, ids)
	if err != nil {
		return connector.Page{}, fmt.Errorf("list Azure DevOps changes in %s: %w", project, err)
	}
	page := connector.Page{Entities: make([]connector.Entity, 0, len(items))}
	next := cursor{at: pos.at, id: pos.id}
	var consumed []connector.Entity
	for _, it := range items {
		e := c.entity(it)
		if ms, ok := pos.seen[it.ID]; ok && ms == e.UpdatedAt.UnixMilli() {
			continue // listed on an earlier page and unchanged since
		}
		if e.UpdatedAt.Before(since) {
			// In since's second but before it: not a change to list,
			// still one the cursor must step over.
			consumed = append(consumed, e)
			continue
		}
		page.Entities = append(page.Entities, e)
		consumed = append(consumed, e)
	}
	for _, e := range consumed {
		id, _ := strconv.Atoi(e.ID)
		// Only an item unchanged since the query ran still has the date
		// the query sorted it by, so only those move the cursor.
		if !e.UpdatedAt.After(asOf) && next.after(e.UpdatedAt, id) {
			next.at, next.id = e.UpdatedAt, id
		}
	}
	next.seen = map[int]int64{}
	second := next.at.Truncate(time.Second)
	if pos.at.Truncate(time.Second).Equal(second) {
		for id, ms := range pos.seen {
			next.seen[id] = ms
		}
	}
	for _, e := range consumed {
		if !e.UpdatedAt.After(asOf) && e.UpdatedAt.Truncate(time.Second).Equal(second) {
			id, _ := strconv.Atoi(e.ID)
			next.seen[id] = e.UpdatedAt.UnixMilli()
		}
	}
	sort.SliceStable(page.Entities, func(i, j int) bool { return page.Entities[i].UpdatedAt.Before(page.Entities[j].UpdatedAt) })
	if len(ids) == top {
		page.Cursor = next.String()
	}
	return page, nil
}

type wiqlResult struct {
	AsOf      string `json:"asOf"`
	WorkItems []struct {
		ID int `json:"id"`
	} `json:"workItems"`
}

// wiql runs a flat query in a project and returns the ids and when it ran.
func (c *Conn) wiql(ctx context.Context, project, query string, top int) ([]int, time.Time, error) {
	q := url.Values{"timePrecision": {"true"}, "$top": {strconv.Itoa(top)}}
	var res wiqlResult
	// A query changes nothing: it may be repeated.
	err := c.call(ctx, httpx.Request{Method: http.MethodPost, Path: projectPath(project, "wit/wiql"), Query: q, Idempotent: true},
		map[string]string{"query": query}, false, &res)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("run WIQL: %w", err)
	}
	ids := make([]int, 0, len(res.WorkItems))
	for _, w := range res.WorkItems {
		ids = append(ids, w.ID)
	}
	asOf := parseTime(res.AsOf)
	if asOf.IsZero() {
		asOf = c.now().UTC()
	}
	return ids, asOf, nil
}

// batch reads work items, 200 per call, skipping ids deleted since the
// query (errorPolicy omit answers null for them).
func (c *Conn) batch(ctx context.Context, project string, ids []int) ([]wireItem, error) {
	var out []wireItem
	for start := 0; start < len(ids); start += batchMax {
		chunk := ids[start:min(start+batchMax, len(ids))]
		var res struct {
			Value []*wireItem `json:"value"`
		}
		in := map[string]any{"ids": chunk, "errorPolicy": "omit"}
		err := c.call(ctx, httpx.Request{Method: http.MethodPost, Path: projectPath(project, "wit/workitemsbatch"), Idempotent: true}, in, false, &res)
		if err != nil {
			return nil, fmt.Errorf("read work items: %w", err)
		}
		for _, it := range res.Value {
			if it != nil {
				out = append(out, *it)
			}
		}
	}
	return out, nil
}

// Create makes a work item with its marker tag and hyperlink in the same
// request, so it never exists without its marker.
func (c *Conn) Create(ctx context.Context, project, entityType string, fields connector.Fields, marker connector.Marker) (connector.Entity, error) {
	project, err := c.scope(project)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("create Azure DevOps work item: %w", err)
	}
	var keep []string
	if marker.System != "" || marker.Key != "" {
		keep = []string{markerTag(marker)}
	}
	ops, err := c.fieldOps(fields, keep, false)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("create Azure DevOps %s in %s: %w", entityType, project, err)
	}
	if _, ok := fields["labels"]; !ok && len(keep) > 0 {
		ops = append(ops, patchOp{Op: "add", Path: "/fields/" + refTags, Value: strings.Join(keep, "; ")})
	}
	if marker.URL != "" {
		ops = append(ops, patchOp{Op: "add", Path: "/relations/-", Value: wireRelation{Rel: "Hyperlink", URL: marker.URL,
			Attributes: map[string]any{"comment": marker.Text()}}})
	}
	var it wireItem
	// Not idempotent: after an ambiguous failure the engine looks for the
	// marker before creating again.
	err = c.call(ctx, httpx.Request{Method: http.MethodPost, Path: projectPath(project, "wit/workitems/$"+entityType)}, ops, true, &it)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("create Azure DevOps %s in %s: %w", entityType, project, err)
	}
	return c.entity(it), nil
}

// Update writes fields. A non-empty version is tested against /rev in the
// same patch: the service applies all of it or, on a stale revision,
// nothing (412, ErrConflict).
func (c *Conn) Update(ctx context.Context, ref connector.Ref, fields connector.Fields, version string) (connector.Entity, error) {
	path, _, err := itemPath(ref)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("update Azure DevOps work item: %w", err)
	}
	var keep []string
	if _, ok := fields["labels"]; ok {
		// Labels replace the tags, except the marker tags this connector
		// wrote, which must outlive any label change.
		cur, err := c.read(ctx, ref)
		if err != nil {
			return connector.Entity{}, fmt.Errorf("update Azure DevOps work item %s: %w", connector.RefName(ref), err)
		}
		tags, _ := cur.Fields[refTags].(string)
		for _, t := range splitTags(tags) {
			if strings.HasPrefix(strings.ToLower(t), markerTagPrefix) {
				keep = append(keep, t)
			}
		}
	}
	ops, err := c.fieldOps(fields, keep, true)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("update Azure DevOps work item %s: %w", connector.RefName(ref), err)
	}
	if len(ops) == 0 {
		return c.Get(ctx, ref)
	}
	req := httpx.Request{Method: http.MethodPatch, Path: path}
	if version != "" {
		rev, err := strconv.Atoi(version)
		if err != nil {
			return connector.Entity{}, fmt.Errorf("update Azure DevOps work item %s: version %q is not a revision: %w", connector.RefName(ref), version, connector.ErrInvalid)
		}
		ops = append([]patchOp{{Op: "test", Path: "/rev", Value: rev}}, ops...)
		// Guarded by the revision test, a repeat after a lost answer reads
		// as a conflict, never as a second write.
		req.Idempotent = true
	}
	var it wireItem
	if err := c.call(ctx, req, ops, true, &it); err != nil {
		return connector.Entity{}, fmt.Errorf("update Azure DevOps work item %s: %w", connector.RefName(ref), err)
	}
	return c.entity(it), nil
}

// FindByMarker finds work items carrying the marker's tag.
func (c *Conn) FindByMarker(ctx context.Context, project string, marker connector.Marker) ([]connector.Entity, error) {
	project, err := c.scope(project)
	if err != nil {
		return nil, fmt.Errorf("find Azure DevOps work item by marker: %w", err)
	}
	query := fmt.Sprintf("SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.Tags] CONTAINS '%s' ORDER BY [System.Id] ASC", markerTag(marker))
	ids, _, err := c.wiql(ctx, project, query, pageSize)
	if err != nil {
		return nil, fmt.Errorf("find Azure DevOps work item for %s in %s: %w", marker.Key, project, err)
	}
	items, err := c.batch(ctx, project, ids)
	if err != nil {
		return nil, fmt.Errorf("find Azure DevOps work item for %s in %s: %w", marker.Key, project, err)
	}
	out := make([]connector.Entity, 0, len(items))
	for _, it := range items {
		out = append(out, c.entity(it))
	}
	return out, nil
}

// fieldOps turns engine fields into JSON Patch operations. keep are tags
// to preserve whatever labels say. For an update, nil clears a field.
func (c *Conn) fieldOps(fields connector.Fields, keep []string, update bool) ([]patchOp, error) {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names) // a stable document, for logs and tests
	var ops []patchOp
	for _, name := range names {
		v := fields[name]
		ref, ok := plain[name]
		if !ok {
			r, isCustom := strings.CutPrefix(name, customPrefix)
			if !isCustom || r == "" {
				return nil, fmt.Errorf("field %q is not an Azure DevOps field (custom fields are %s<reference name>): %w", name, customPrefix, connector.ErrInvalid)
			}
			ref = r
		}
		val, err := c.value(name, v, keep)
		if err != nil {
			return nil, err
		}
		if val == nil || val == "" {
			if !update {
				continue
			}
			val = "" // the service clears a field set to empty
		}
		ops = append(ops, patchOp{Op: "add", Path: "/fields/" + ref, Value: val})
	}
	return ops, nil
}

// value converts one engine value to what the service takes.
func (c *Conn) value(name string, v any, keep []string) (any, error) {
	bad := func(want string) error {
		return fmt.Errorf("field %s must be %s, not %T: %w", name, want, v, connector.ErrInvalid)
	}
	switch name {
	case "title", "status", "areaPath", "iterationPath":
		if v == nil {
			return nil, nil
		}
		s, ok := v.(string)
		if !ok {
			return nil, bad("text")
		}
		return s, nil
	case "description":
		if v == nil {
			return nil, nil
		}
		s, ok := v.(string)
		if !ok {
			return nil, bad("text")
		}
		if s == "" {
			return "", nil
		}
		return markdownToHTML(s)
	case "priority":
		switch p := v.(type) {
		case nil:
			return nil, nil
		case float64:
			return p, nil
		case int:
			return p, nil
		case string:
			if p == "" {
				return nil, nil
			}
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil {
				return nil, bad("a number 1 to 4")
			}
			return n, nil
		}
		return nil, bad("a number 1 to 4")
	case "assignee":
		return identityValue(v)
	case "labels":
		list, err := connector.TextList(name, v)
		if err != nil {
			return nil, bad("a list of text")
		}
		for _, t := range list {
			if strings.ContainsAny(t, ";,") {
				return nil, fmt.Errorf("label %s: Azure DevOps tags cannot contain ; or ,: %w", connector.Digest(t), connector.ErrInvalid)
			}
		}
		return strings.Join(append(list, keep...), "; "), nil
	case "dueDate":
		switch d := v.(type) {
		case nil:
			return nil, nil
		case string:
			if d == "" {
				return nil, nil
			}
			if t, err := time.Parse(time.DateOnly, d); err == nil {
				return t.Format("2006-01-02T00:00:00Z"), nil
			}
			if t, err := time.Parse(time.RFC3339Nano, d); err == nil {
				return t.UTC().Format(time.DateOnly) + "T00:00:00Z", nil
			}
		}
		return nil, bad("a date YYYY-MM-DD")
	}
	// A custom field: identities by their unique name, lists as the
	// service's "a; b", everything else as is.
	switch x := v.(type) {
	case connector.User, *connector.User, map[string]any:
		return identityValue(v)
	case []string, []any:
		list, err := connector.TextList(name, x)
		if err != nil {
			return nil, bad("a list of text")
		}
		return strings.Join(list, "; "), nil
	}
	return v, nil
}

// identityValue is what the service accepts for an identity field: the
// unique name (email), else the display name; "" clears it.
func identityValue(v any) (any, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	u, ok := connector.UserValue(v)
	if !ok {
		return nil, fmt.Errorf("a user field holds %T: %w", v, connector.ErrInvalid)
	}
	switch {
	case u.Email != "":
		return u.Email, nil
	case u.Name != "":
		return u.Name, nil
	}
	return u.ID, nil
}

// GuardsVersions: Update starts its JSON Patch with a test of /rev, and
// Azure DevOps refuses the whole patch (412) when the revision moved.
func (c *Conn) GuardsVersions() bool { return true }

var _ connector.VersionGuard = (*Conn)(nil)
