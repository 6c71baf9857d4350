package jira

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
	"github.com/lockstep-sync/lockstep/agent/internal/markup/adf"
)

// markerLabelPrefix starts a marker label: see the package comment.
const markerLabelPrefix = "lockstep-"

// MarkerLabel is the label that carries a marker: JQL finds it exactly.
func MarkerLabel(m connector.Marker) string {
	return connector.HashLabel(markerLabelPrefix, m.System+":"+m.Key)
}

// isMarkerLabel recognises the connector's own labels, which stay out of
// the labels the engine syncs.
func isMarkerLabel(l string) bool {
	h, ok := strings.CutPrefix(l, markerLabelPrefix)
	if !ok || len(h) != 16 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

func issuePath(api string, ref connector.Ref, rest ...string) (string, error) {
	id := ref.ID
	if id == "" {
		id = ref.Key
	}
	if id == "" {
		return "", fmt.Errorf("entity reference has neither id nor key: %w", connector.ErrInvalid)
	}
	return api + "/issue/" + url.PathEscape(id) + strings.Join(rest, ""), nil
}

// jqlString quotes a JQL value.
func jqlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// Get reads one issue with all its fields.
func (c *Conn) Get(ctx context.Context, ref connector.Ref) (connector.Entity, error) {
	wi, err := c.getIssue(ctx, ref)
	if err != nil {
		return connector.Entity{}, err
	}
	return c.entity(ctx, wi)
}

func (c *Conn) getIssue(ctx context.Context, ref connector.Ref) (wireIssue, error) {
	path, err := issuePath(c.api, ref)
	if err != nil {
		return wireIssue{}, fmt.Errorf("get Jira issue: %w", err)
	}
	var wi wireIssue
	q := url.Values{"fields": {"*all"}}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: q}, nil, &wi); err != nil {
		return wireIssue{}, fmt.Errorf("get Jira issue %s: %w", connector.RefName(ref), err)
	}
	return wi, nil
}

// entity converts an issue. Fields holds exactly the fields Schema lists
// (whether set or not), so a cleared field reads as nil.
func (c *Conn) entity(ctx context.Context, wi wireIssue) (connector.Entity, error) {
	cat, err := c.catalogue(ctx, false)
	if err != nil {
		return connector.Entity{}, err
	}
	f := wi.Fields
	var summary, updated, created string
	_ = json.Unmarshal(f["summary"], &summary)
	_ = json.Unmarshal(f["updated"], &updated)
	_ = json.Unmarshal(f["created"], &created)
	var typ, status, priority wireNamed
	_ = json.Unmarshal(f["issuetype"], &typ)
	_ = json.Unmarshal(f["status"], &status)
	_ = json.Unmarshal(f["priority"], &priority)
	fields := connector.Fields{
		"title":       summary,
		"description": c.richToMarkdown(f["description"]),
		"status":      status.Name,
		"priority":    nilIfEmpty(priority.Name),
		"assignee":    nil,
		"labels":      []string{},
		"dueDate":     nil,
	}
	var assignee *wireUser
	if json.Unmarshal(f["assignee"], &assignee) == nil && assignee != nil {
		fields["assignee"] = c.user(assignee)
	}
	var labels []string
	_ = json.Unmarshal(f["labels"], &labels)
	visible := []string{}
	for _, l := range labels {
		if !isMarkerLabel(l) {
			visible = append(visible, l)
		}
	}
	fields["labels"] = visible
	var due string
	if json.Unmarshal(f["duedate"], &due) == nil && due != "" {
		fields["dueDate"] = due
	}
	for _, cf := range cat.custom {
		fields[cf.name] = c.customValue(cf, f[cf.id])
	}
	return connector.Entity{
		Ref:       connector.Ref{ID: wi.ID, Key: wi.Key},
		Type:      typ.Name,
		Title:     summary,
		URL:       c.http.BaseURL() + "/browse/" + wi.Key,
		Version:   updated,
		CreatedAt: parseTime(created),
		UpdatedAt: parseTime(updated),
		Fields:    fields,
	}, nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// richToMarkdown reads a rich-text value: ADF on Cloud, wiki on Server.
func (c *Conn) richToMarkdown(raw json.RawMessage) any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil { // wiki markup (or v2 text on Cloud)
		return adf.WikiToMarkdown(s)
	}
	var doc adf.Node
	if json.Unmarshal(raw, &doc) != nil {
		return nil
	}
	return adf.ToMarkdown(&doc)
}

// richFromMarkdown makes the rich-text value Jira takes.
func (c *Conn) richFromMarkdown(md string) (any, error) {
	if c.cloud {
		doc, err := adf.FromMarkdown(md)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", connector.ErrInvalid, err)
		}
		return doc, nil
	}
	w, err := adf.MarkdownToWiki(md)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", connector.ErrInvalid, err)
	}
	return w, nil
}

func (c *Conn) customValue(cf fieldInfo, raw json.RawMessage) any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	switch cf.kind {
	case kindNumber:
		var n float64
		if json.Unmarshal(raw, &n) == nil {
			return n
		}
	case kindString, kindDate, kindDateTime:
		var s string
		if json.Unmarshal(raw, &s) == nil && s != "" {
			return s
		}
	case kindRich:
		return c.richToMarkdown(raw)
	case kindOption:
		var o wireNamed
		if json.Unmarshal(raw, &o) == nil && o.Value != "" {
			return o.Value
		}
	case kindOptions:
		var os []wireNamed
		if json.Unmarshal(raw, &os) == nil {
			out := make([]string, 0, len(os))
			for _, o := range os {
				out = append(out, o.Value)
			}
			return out
		}
	case kindStrings:
		var ss []string
		if json.Unmarshal(raw, &ss) == nil {
			return ss
		}
	case kindUser:
		var u wireUser
		if json.Unmarshal(raw, &u) == nil {
			return c.user(&u)
		}
	}
	return nil
}

// Changes pages through the project's issues updated at or after since,
// ascending. JQL dates have minute precision and are read in the API
// user's time zone: the query starts a minute before since's minute.
//
// Cloud pages with nextPageToken. Server pages with startAt, which shifts
// when an issue already listed is updated during paging (it moves to the
// end and the others move up one); so a Server cursor restarts the query
// at the minute of the page's last issue instead of counting on, and only
// counts within that minute when a whole page shares it.
func (c *Conn) Changes(ctx context.Context, project string, since time.Time, cursor string) (connector.Page, error) {
	project, err := scope(project)
	if err != nil {
		return connector.Page{}, fmt.Errorf("list Jira changes: %w", err)
	}
	loc, zoneKnown, err := c.zone(ctx)
	if err != nil {
		return connector.Page{}, fmt.Errorf("list Jira changes in %s: %w", project, err)
	}
	slack := time.Minute
	if !zoneKnown {
		slack = 14 * time.Hour // the widest UTC offset: repeats, never gaps
	}
	from := ""
	if !since.IsZero() {
		from = since.In(loc).Truncate(time.Minute).Add(-slack).Format("2006/01/02 15:04")
	}
	if c.cloud {
		return c.changesCloud(ctx, project, from, cursor)
	}
	return c.changesServer(ctx, project, from, cursor, loc, zoneKnown)
}

func changesJQL(project, from string) string {
	jql := "project = " + jqlString(project)
	if from != "" {
		jql += " AND updated >= " + jqlString(from)
	}
	return jql + " ORDER BY updated ASC, key ASC"
}

func (c *Conn) changesCloud(ctx context.Context, project, from, cursor string) (connector.Page, error) {
	q := url.Values{"jql": {changesJQL(project, from)}, "fields": {"*all"}, "maxResults": {strconv.Itoa(pageSize)}}
	if cursor != "" {
		q.Set("nextPageToken", cursor)
	}
	var page struct {
		Issues        []wireIssue `json:"issues"`
		NextPageToken string      `json:"nextPageToken"`
		IsLast        *bool       `json:"isLast"`
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: c.api + "/search/jql", Query: q}, nil, &page); err != nil {
		return connector.Page{}, fmt.Errorf("list Jira changes in %s: %w", project, err)
	}
	out := connector.Page{Entities: make([]connector.Entity, 0, len(page.Issues))}
	for _, wi := range page.Issues {
		e, err := c.entity(ctx, wi)
		if err != nil {
			return connector.Page{}, fmt.Errorf("list Jira changes in %s: %w", project, err)
		}
		out.Entities = append(out.Entities, e)
	}
	// Atlassian's reference for GET /rest/api/3/search/jql: nextPageToken
	// is null on the last page and isLast says so. Jira "may return fewer
	// items per page" than asked, so a page short of maxResults, even an
	// empty one, is not the end: only isLast or a missing token is. A
	// token equal to the one sent would never end, so it ends the paging.
	if page.NextPageToken != "" && (page.IsLast == nil || !*page.IsLast) && page.NextPageToken != cursor {
		out.Cursor = page.NextPageToken
	}
	return out, nil
}

// serverCursor is where the next Server page starts: the query from
// minute, skipping skip issues, leaving out issues at or before the last
// one listed (updated time, then id), which a restart lists again.
type serverCursor struct {
	minute  string
	skip    int
	after   int64 // Unix milliseconds of the last issue listed
	afterID int64
}

func (s serverCursor) String() string {
	return fmt.Sprintf("%s|%d|%d|%d", s.minute, s.skip, s.after, s.afterID)
}

func parseServerCursor(s string) (serverCursor, error) {
	parts := strings.Split(s, "|")
	var cur serverCursor
	var err error
	if len(parts) == 4 {
		cur.minute = parts[0]
		if cur.skip, err = strconv.Atoi(parts[1]); err == nil {
			if cur.after, err = strconv.ParseInt(parts[2], 10, 64); err == nil {
				cur.afterID, err = strconv.ParseInt(parts[3], 10, 64)
			}
		}
	}
	if len(parts) != 4 || err != nil || cur.skip < 0 {
		return serverCursor{}, fmt.Errorf("cursor %q is not this connector's: %w", s, connector.ErrInvalid)
	}
	return cur, nil
}

// listed reports whether an issue comes at or before the cursor's last.
func (s serverCursor) listed(e connector.Entity) bool {
	ms := e.UpdatedAt.UnixMilli()
	id, _ := strconv.ParseInt(e.ID, 10, 64)
	return ms < s.after || ms == s.after && id <= s.afterID
}

func (c *Conn) changesServer(ctx context.Context, project, from, cursor string, loc *time.Location, zoneKnown bool) (connector.Page, error) {
	cur := serverCursor{minute: from, after: -1 << 62}
	if cursor != "" {
		var err error
		if cur, err = parseServerCursor(cursor); err != nil {
			return connector.Page{}, fmt.Errorf("list Jira changes in %s: %w", project, err)
		}
	}
	q := url.Values{"jql": {changesJQL(project, cur.minute)}, "fields": {"*all"},
		"startAt": {strconv.Itoa(cur.skip)}, "maxResults": {strconv.Itoa(pageSize)}}
	var page struct {
		StartAt    int         `json:"startAt"`
		MaxResults int         `json:"maxResults"`
		Total      int         `json:"total"`
		Issues     []wireIssue `json:"issues"`
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: c.api + "/search", Query: q}, nil, &page); err != nil {
		return connector.Page{}, fmt.Errorf("list Jira changes in %s: %w", project, err)
	}
	all := make([]connector.Entity, 0, len(page.Issues))
	for _, wi := range page.Issues {
		e, err := c.entity(ctx, wi)
		if err != nil {
			return connector.Page{}, fmt.Errorf("list Jira changes in %s: %w", project, err)
		}
		all = append(all, e)
	}
	out := connector.Page{Entities: make([]connector.Entity, 0, len(all))}
	for _, e := range all {
		if !cur.listed(e) {
			out.Entities = append(out.Entities, e)
		}
	}
	if len(all) == 0 || page.StartAt+len(all) >= page.Total {
		return out, nil
	}
	lastE := all[len(all)-1]
	lastID, _ := strconv.ParseInt(lastE.ID, 10, 64)
	next := serverCursor{minute: cur.minute, skip: cur.skip + len(all), after: lastE.UpdatedAt.UnixMilli(), afterID: lastID}
	if zoneKnown {
		last := lastE.UpdatedAt.In(loc).Truncate(time.Minute).Format("2006/01/02 15:04")
		first := all[0].UpdatedAt.In(loc).Truncate(time.Minute).Format("2006/01/02 15:04")
		switch {
		case first != last:
			// Restart at the last minute: nothing shifts under a new
			// query, and what it lists again is left out by the cursor.
			next.minute, next.skip = last, 0
		case last != cur.minute:
			next.minute, next.skip = last, len(all)
		}
	}
	out.Cursor = next.String()
	return out, nil
}

// Create makes an issue carrying the marker label, moves it to the wanted
// status, adds the marker's remote link, and returns it as read back.
func (c *Conn) Create(ctx context.Context, project, entityType string, fields connector.Fields, marker connector.Marker) (connector.Entity, error) {
	project, err := scope(project)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("create Jira issue: %w", err)
	}
	fail := func(err error) (connector.Entity, error) {
		return connector.Entity{}, fmt.Errorf("create Jira issue in %s: %w", project, err)
	}
	body, status, err := c.issueFields(ctx, project, fields, false)
	if err != nil {
		return fail(err)
	}
	body["project"] = map[string]string{"key": project}
	body["issuetype"] = map[string]string{"name": entityType}
	hasMarker := marker.System != "" || marker.Key != ""
	if hasMarker {
		labels, _ := body["labels"].([]string)
		body["labels"] = append(slices.Clone(labels), MarkerLabel(marker))
	}
	var created struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	// Not idempotent: after an ambiguous failure the engine looks for the
	// marker before creating again.
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: c.api + "/issue"}, map[string]any{"fields": body}, &created); err != nil {
		return fail(err)
	}
	ref := connector.Ref{ID: created.ID, Key: created.Key}
	if hasMarker {
		if err := c.putMarkerLink(ctx, ref, marker); err != nil {
			// The label is the marker; the link is a courtesy to people.
			c.log.Warn().Str("entity_key", created.Key).Err(err).Msg("could not add the marker's remote link")
		}
	}
	if status != "" {
		wi, err := c.getIssue(ctx, ref)
		if err != nil {
			return fail(err)
		}
		if err := c.transition(ctx, ref, wi, status); err != nil {
			return fail(err)
		}
	}
	e, err := c.Get(ctx, ref)
	if err != nil {
		return fail(err)
	}
	return e, nil
}

func (c *Conn) putMarkerLink(ctx context.Context, ref connector.Ref, m connector.Marker) error {
	path, err := issuePath(c.api, ref, "/remotelink")
	if err != nil {
		return err
	}
	target := m.URL
	if target == "" {
		target = "urn:lockstep:" + url.PathEscape(m.System) + ":" + url.PathEscape(m.Key)
	}
	in := map[string]any{"globalId": m.Text(), "relationship": "synced with",
		"object": map[string]string{"url": target, "title": "Synced with " + m.Key}}
	// The globalId makes this an upsert: safe to repeat.
	return c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: path, Idempotent: true}, in, nil)
}

// Update writes fields, moving the status through a transition. Jira has
// no conditional edit: a non-empty version is checked against the issue's
// updated timestamp just before writing, best effort.
func (c *Conn) Update(ctx context.Context, ref connector.Ref, fields connector.Fields, version string) (connector.Entity, error) {
	fail := func(err error) (connector.Entity, error) {
		return connector.Entity{}, fmt.Errorf("update Jira issue %s: %w", connector.RefName(ref), err)
	}
	wi, err := c.getIssue(ctx, ref)
	if err != nil {
		return connector.Entity{}, err
	}
	var updated string
	_ = json.Unmarshal(wi.Fields["updated"], &updated)
	if version != "" && updated != version {
		return fail(fmt.Errorf("it was updated at %s, after the version read (%s): %w", updated, version, connector.ErrConflict))
	}
	var proj wireProject
	_ = json.Unmarshal(wi.Fields["project"], &proj)
	body, status, err := c.issueFields(ctx, proj.Key, fields, true)
	if err != nil {
		return fail(err)
	}
	if l, ok := body["labels"].([]string); ok {
		// Keep the marker labels: they are not the engine's to remove.
		var current []string
		_ = json.Unmarshal(wi.Fields["labels"], &current)
		for _, x := range current {
			if isMarkerLabel(x) && !slices.Contains(l, x) {
				l = append(l, x)
			}
		}
		body["labels"] = l
	}
	ref = connector.Ref{ID: wi.ID, Key: wi.Key}
	if len(body) > 0 {
		path, _ := issuePath(c.api, ref)
		// A PUT of field values is idempotent: repeating it sets them again.
		if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPut, Path: path}, map[string]any{"fields": body}, nil); err != nil {
			return fail(err)
		}
	}
	if status != "" {
		if err := c.transition(ctx, ref, wi, status); err != nil {
			return fail(err)
		}
	}
	return c.Get(ctx, ref)
}

// transition moves an issue to the status named target, through the one
// transition available from its current status that leads there.
func (c *Conn) transition(ctx context.Context, ref connector.Ref, wi wireIssue, target string) error {
	var current wireNamed
	_ = json.Unmarshal(wi.Fields["status"], &current)
	if strings.EqualFold(current.Name, target) {
		return nil
	}
	path, err := issuePath(c.api, ref, "/transitions")
	if err != nil {
		return err
	}
	var list struct {
		Transitions []wireTransition `json:"transitions"`
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: path}, nil, &list); err != nil {
		return fmt.Errorf("list transitions: %w", err)
	}
	var reachable []string
	for _, t := range list.Transitions {
		if strings.EqualFold(t.To.Name, target) {
			in := map[string]any{"transition": map[string]string{"id": t.ID}}
			// Not idempotent (a repeat may move on from the new status),
			// so it is never repeated after an ambiguous failure.
			if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: path}, in, nil); err != nil {
				return fmt.Errorf("transition %q to %s: %w", t.Name, t.To.Name, err)
			}
			return nil
		}
		if !slices.Contains(reachable, t.To.Name) {
			reachable = append(reachable, t.To.Name)
		}
	}
	msg := "none"
	if len(reachable) > 0 {
		msg = strings.Join(reachable, ", ")
	}
	// The statuses named are the workflow's; the one asked for may be
	// any value, so only its digest is given.
	return fmt.Errorf("no transition leads from status %q to the status %s; reachable from %q: %s: %w", current.Name, connector.Digest(target), current.Name, msg, connector.ErrInvalid)
}

// FindByMarker searches for the marker's label.
func (c *Conn) FindByMarker(ctx context.Context, project string, marker connector.Marker) ([]connector.Entity, error) {
	project, err := scope(project)
	if err != nil {
		return nil, fmt.Errorf("find Jira issue by marker: %w", err)
	}
	jql := "project = " + jqlString(project) + " AND labels = " + jqlString(MarkerLabel(marker)) + " ORDER BY key ASC"
	q := url.Values{"jql": {jql}, "fields": {"*all"}, "maxResults": {strconv.Itoa(pageSize)}}
	path := c.api + "/search"
	if c.cloud {
		path = c.api + "/search/jql"
	}
	var page struct {
		Issues []wireIssue `json:"issues"`
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: q}, nil, &page); err != nil {
		return nil, fmt.Errorf("find Jira issue for %s in %s: %w", marker.Key, project, err)
	}
	out := make([]connector.Entity, 0, len(page.Issues))
	for _, wi := range page.Issues {
		e, err := c.entity(ctx, wi)
		if err != nil {
			return nil, fmt.Errorf("find Jira issue for %s in %s: %w", marker.Key, project, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// issueFields turns engine fields into Jira's "fields" JSON; status is
// returned apart, since it changes through a transition. For an update,
// nil clears a field; for a create, nil is left out.
func (c *Conn) issueFields(ctx context.Context, project string, fields connector.Fields, update bool) (map[string]any, string, error) {
	cat, err := c.catalogue(ctx, false)
	if err != nil {
		return nil, "", err
	}
	body := map[string]any{}
	status := ""
	for name, v := range fields {
		fi, ok := cat.byName[name]
		if !ok && strings.HasPrefix(name, "cf:") {
			// A custom field made since the list was read.
			if cat, err = c.catalogue(ctx, true); err != nil {
				return nil, "", err
			}
			fi, ok = cat.byName[name]
		}
		if !ok {
			return nil, "", fmt.Errorf("field %q is not a Jira field the connector syncs: %w", name, connector.ErrInvalid)
		}
		var val any
		switch fi.id {
		case "summary":
			s, ok := v.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return nil, "", fmt.Errorf("field title must be non-empty text: %w", connector.ErrInvalid)
			}
			// Jira refuses a summary with a line break.
			val = strings.Join(strings.Fields(s), " ")
		case "description":
			val, err = c.richField(name, v)
		case "status":
			s, ok := v.(string)
			if !ok || s == "" {
				return nil, "", fmt.Errorf("field status must be a status name, not %T: %w", v, connector.ErrInvalid)
			}
			status = s
			continue
		case "priority":
			val, err = named(name, v, "name")
		case "assignee":
			val, err = c.userRef(ctx, project, v)
		case "labels":
			var l []string
			l, err = connector.TextList(name, v)
			val = l
		case "duedate":
			val, err = date(name, v)
		default:
			val, err = c.customFieldValue(ctx, project, fi, v)
		}
		if err != nil {
			return nil, "", err
		}
		if val == nil && !update {
			continue
		}
		body[fi.id] = val
	}
	return body, status, nil
}

func (c *Conn) richField(name string, v any) (any, error) {
	switch s := v.(type) {
	case nil:
		return nil, nil
	case string:
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		return c.richFromMarkdown(s)
	}
	return nil, fmt.Errorf("field %s must be text, not %T: %w", name, v, connector.ErrInvalid)
}

// named makes {"<key>": v} for a value chosen by name (priority, option).
func named(name string, v any, key string) (any, error) {
	switch s := v.(type) {
	case nil:
		return nil, nil
	case string:
		if s == "" {
			return nil, nil
		}
		return map[string]string{key: s}, nil
	}
	return nil, fmt.Errorf("field %s must be a value name, not %T: %w", name, v, connector.ErrInvalid)
}

// date is a due date as Jira takes it; nil clears.
func date(name string, v any) (any, error) {
	d, ok, err := connector.Day(name, v)
	if !ok {
		return nil, err
	}
	return d, nil
}

func (c *Conn) customFieldValue(ctx context.Context, project string, fi fieldInfo, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch fi.kind {
	case kindNumber:
		switch n := v.(type) {
		case float64:
			return n, nil
		case int:
			return float64(n), nil
		case int64:
			return float64(n), nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
			if err != nil {
				return nil, fmt.Errorf("field %s: value %s is not a number: %w", fi.name, connector.Digest(n), connector.ErrInvalid)
			}
			return f, nil
		}
	case kindString:
		if s, ok := v.(string); ok {
			return nilIfEmpty(s), nil
		}
	case kindRich:
		return c.richField(fi.name, v)
	case kindDate:
		return date(fi.name, v)
	case kindDateTime:
		switch t := v.(type) {
		case time.Time:
			return t.Format(jiraTime), nil
		case string:
			if t == "" {
				return nil, nil
			}
			if p, err := time.Parse(time.RFC3339Nano, t); err == nil {
				return p.Format(jiraTime), nil
			}
			if p := parseTime(t); !p.IsZero() {
				return p.Format(jiraTime), nil
			}
			return nil, fmt.Errorf("field %s: value %s is not a date and time: %w", fi.name, connector.Digest(t), connector.ErrInvalid)
		}
	case kindOption:
		return named(fi.name, v, "value")
	case kindOptions:
		l, err := connector.TextList(fi.name, v)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]string, 0, len(l))
		for _, s := range l {
			out = append(out, map[string]string{"value": s})
		}
		return out, nil
	case kindStrings:
		return connector.TextList(fi.name, v)
	case kindUser:
		return c.userRef(ctx, project, v)
	}
	return nil, fmt.Errorf("field %s cannot take %T: %w", fi.name, v, connector.ErrInvalid)
}
