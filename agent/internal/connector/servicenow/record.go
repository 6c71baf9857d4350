package servicenow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
	"github.com/lockstep-sync/lockstep/agent/internal/markup"
)

// Records: ids, reading, writing, changes and markers.

// correlationMax is the length of correlation_id and correlation_display.
const correlationMax = 100

// recordID is the contract's id of a record: "<table>:<sys_id>".
func recordID(table, sysID string) string { return table + ":" + sysID }

// splitID reads a record id.
func splitID(id string) (table, sysID string, ok bool) {
	table, sysID, ok = strings.Cut(id, ":")
	return table, sysID, ok && validName(table) && sysIDs.MatchString(sysID)
}

// locate finds the table and sys_id of ref: from its id, or, for a ref
// with only a key, by the record's number in the default table.
func (c *Conn) locate(ctx context.Context, ref connector.Ref) (string, string, error) {
	if t, id, ok := splitID(ref.ID); ok {
		return t, id, nil
	}
	if ref.ID == "" && ref.Key != "" {
		recs, err := c.list(ctx, c.table, "number="+quote(ref.Key), []string{"sys_id", "sys_class_name", "number"}, 2, 0)
		if err != nil {
			return "", "", fmt.Errorf("find ServiceNow record %s: %w", ref.Key, err)
		}
		for _, r := range recs {
			if strings.EqualFold(r.get("number"), ref.Key) && validName(r.get("sys_class_name")) && sysIDs.MatchString(r.get("sys_id")) {
				return r.get("sys_class_name"), r.get("sys_id"), nil
			}
		}
	}
	return "", "", fmt.Errorf("ServiceNow record %s: %q is not a record id (<table>:<sys_id>): %w", connector.RefName(ref), ref.ID, connector.ErrNotFound)
}

// IndexesMarkers reports that Entity.Marker is filled: correlation_id is
// read with every record.
func (c *Conn) IndexesMarkers() bool { return true }

// markerToken is the marker as correlation_id holds it: its text, or, when
// that is longer than the field, "lockstep:h-" and 16 hex digits of its
// hash (found by FindByMarker, but not read back into Entity.Marker).
func markerToken(m connector.Marker) string {
	t := m.Text()
	if len(t) <= correlationMax {
		return t
	}
	return connector.HashLabel(connector.MarkerPrefix+"h-", t)
}

// entity converts a record read with s.read. Fields holds exactly the
// fields Schema lists, a value of each (nil when empty).
func (c *Conn) entity(s *tableSchema, r record) connector.Entity {
	class, id := r.get("sys_class_name"), r.get("sys_id")
	if class == "" {
		class = s.table
	}
	fields := connector.Fields{}
	for _, f := range s.fields {
		fields[f.name] = fieldValue(f, r)
	}
	title := r.get("short_description")
	fields["title"] = title
	e := connector.Entity{
		Ref:       connector.Ref{ID: recordID(class, id), Key: r.get("number")},
		Type:      class,
		Title:     title,
		URL:       c.http.BaseURL() + "/nav_to.do?uri=" + url.QueryEscape("/"+class+".do?sys_id="+id),
		Version:   r.get("sys_mod_count"),
		CreatedAt: parseStamp(r.get("sys_created_on")),
		UpdatedAt: parseStamp(r.get("sys_updated_on")),
		Fields:    fields,
	}
	if m, ok := connector.ParseMarker(r.get("correlation_id")); ok {
		e.Marker = m.Text()
	}
	return e
}

// fieldValue reads one field in the contract's form.
func fieldValue(f *fieldInfo, r record) any {
	v := r[f.element]
	if v.Value == "" {
		if f.kind == kindString || f.kind == kindText {
			if f.name == "title" {
				return ""
			}
		}
		return nil
	}
	switch f.kind {
	case kindHTML:
		md, err := markup.HTMLToMarkdown(v.Value)
		if err != nil {
			return v.Value
		}
		return md
	case kindNumber:
		if n, err := strconv.ParseFloat(v.Value, 64); err == nil && !math.IsInf(n, 0) && !math.IsNaN(n) {
			return n
		}
		return nil
	case kindBool:
		return v.Value == "true"
	case kindDateTime:
		if t := parseStamp(v.Value); !t.IsZero() {
			return t.Format(time.RFC3339)
		}
		return nil
	case kindChoice:
		for _, ch := range f.choices {
			if ch.value == v.Value {
				return ch.label
			}
		}
		return v.Value // a value the list does not have (the API does not check them)
	case kindUser:
		return userOf(r, f.element)
	case kindRef:
		if v.Display == "" {
			return v.Value
		}
		return v.Display
	}
	return v.Value
}

// values turns engine fields into the instance's internal values. On
// create, empty values are left out so the table's defaults apply.
func (c *Conn) values(ctx context.Context, s *tableSchema, fields connector.Fields, create bool) (map[string]string, error) {
	out := map[string]string{}
	for name, v := range fields {
		f := s.byName[name]
		if f == nil {
			return nil, fmt.Errorf("field %q is not a field of ServiceNow table %s that the connector syncs: %w", name, s.table, connector.ErrInvalid)
		}
		if f.readOnly {
			return nil, fmt.Errorf("field %s (%s) is read-only in ServiceNow table %s: %w", name, f.element, s.table, connector.ErrInvalid)
		}
		val, err := c.valueOf(ctx, f, v)
		if err != nil {
			return nil, err
		}
		if val == "" && create {
			continue
		}
		out[f.element] = val
	}
	return out, nil
}

func (c *Conn) valueOf(ctx context.Context, f *fieldInfo, v any) (string, error) {
	bad := func(want string) (string, error) {
		return "", fmt.Errorf("field %s must be %s, not %T: %w", f.name, want, v, connector.ErrInvalid)
	}
	switch f.kind {
	case kindUser:
		return c.resolveUser(ctx, f.name, v)
	case kindRef:
		return c.resolveRef(ctx, f, v)
	}
	if v == nil {
		if f.kind == kindBool {
			return "false", nil
		}
		return "", nil
	}
	switch f.kind {
	case kindString, kindText, kindHTML:
		s, ok := v.(string)
		if !ok {
			return bad("text")
		}
		if f.name == "title" {
			s = strings.Join(strings.Fields(s), " ") // a single line
		}
		if f.kind == kindHTML {
			if strings.TrimSpace(s) == "" {
				return "", nil
			}
			h, err := markup.MarkdownToHTML(s)
			if err != nil {
				return "", fmt.Errorf("field %s: %w: %w", f.name, connector.ErrInvalid, err)
			}
			return h, nil
		}
		return truncate(s, f.maxLen), nil
	case kindNumber:
		var n float64
		switch x := v.(type) {
		case float64:
			n = x
		case int:
			n = float64(x)
		case int64:
			n = float64(x)
		case string:
			if strings.TrimSpace(x) == "" {
				return "", nil
			}
			p, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return "", fmt.Errorf("field %s: value %s is not a number: %w", f.name, connector.Digest(x), connector.ErrInvalid)
			}
			n = p
		default:
			return bad("a number")
		}
		if math.IsInf(n, 0) || math.IsNaN(n) {
			return "", fmt.Errorf("field %s: value %s is not a number the instance can hold: %w", f.name, connector.Digest(n), connector.ErrInvalid)
		}
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return strconv.FormatInt(int64(n), 10), nil
		}
		return strconv.FormatFloat(n, 'f', -1, 64), nil
	case kindBool:
		switch x := v.(type) {
		case bool:
			return strconv.FormatBool(x), nil
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
				return strconv.FormatBool(b), nil
			}
		}
		return bad("true or false")
	case kindDate:
		d, ok, err := connector.Day(f.name, v)
		if err != nil || !ok {
			return "", err
		}
		return d, nil
	case kindDateTime:
		switch x := v.(type) {
		case time.Time:
			return formatStamp(x), nil
		case string:
			if strings.TrimSpace(x) == "" {
				return "", nil
			}
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return formatStamp(t), nil
			}
			if t := parseStamp(x); !t.IsZero() {
				return formatStamp(t), nil
			}
			return "", fmt.Errorf("field %s: value %s is not a date and time (RFC 3339): %w", f.name, connector.Digest(x), connector.ErrInvalid)
		}
		return bad("a date and time")
	case kindChoice:
		s, ok := v.(string)
		if !ok {
			return bad("one of its choices")
		}
		if s = strings.TrimSpace(s); s == "" {
			return "", nil
		}
		// The API stores any value it is given, so the list is checked
		// here: by label, then label ignoring case, then value.
		for _, match := range []func(choice) bool{
			func(ch choice) bool { return ch.label == s },
			func(ch choice) bool { return strings.EqualFold(ch.label, s) },
			func(ch choice) bool { return ch.value == s },
		} {
			if i := slices.IndexFunc(f.choices, match); i >= 0 {
				return f.choices[i].value, nil
			}
		}
		var labels []string
		for _, ch := range f.choices {
			labels = append(labels, ch.label)
		}
		// The list is the table's configuration; the value may be anything.
		return "", fmt.Errorf("field %s: value %s is not one of its choices (%s): %w", f.name, connector.Digest(s), strings.Join(labels, ", "), connector.ErrInvalid)
	}
	return bad("a value")
}

// truncate cuts text to the field's length, which the instance would do
// silently; the engine then records what the field really holds.
func truncate(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// verify compares what a write sent with what the instance kept, for the
// values it cannot change on its own accord without a business rule, a
// data lookup or an ACL intervening (an incident's priority follows its
// impact and urgency, for one). Text is not compared: the instance may
// trim it, and the connector truncates it itself.
func verify(s *tableSchema, sent map[string]string, r record) error {
	var diffs []string
	for el, want := range sent {
		f := s.byElem[el]
		if f == nil || f.kind == kindString || f.kind == kindText || f.kind == kindHTML {
			continue
		}
		got := r.get(el)
		same := got == want
		if f.kind == kindNumber {
			a, err1 := strconv.ParseFloat(got, 64)
			b, err2 := strconv.ParseFloat(want, 64)
			same = same || (err1 == nil && err2 == nil && a == b) || (got == "" && want == "0")
		}
		if !same {
			diffs = append(diffs, fmt.Sprintf("%s: wrote %s, it holds %s", f.name, show(f, want), show(f, got)))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	slices.Sort(diffs)
	return fmt.Errorf("ServiceNow did not keep what was written (a business rule, data lookup or ACL changed it; map the fields it derives from instead): %s: %w",
		strings.Join(diffs, "; "), connector.ErrInvalid)
}

// show names a value for a message without quoting entity content: a
// choice by its label (the table's configuration), a reference by its
// sys_id (an id), anything else by its digest.
func show(f *fieldInfo, v string) string {
	if v == "" {
		return "nothing"
	}
	for _, ch := range f.choices {
		if ch.value == v {
			return fmt.Sprintf("%q (%s)", ch.label, v)
		}
	}
	if (f.kind == kindUser || f.kind == kindRef) && sysIDs.MatchString(v) {
		return "sys_id " + v
	}
	return connector.Digest(v)
}

// readQuery is the query of a full record read.
func readQuery(s *tableSchema) url.Values {
	return url.Values{"sysparm_display_value": {"all"}, "sysparm_exclude_reference_link": {"true"}, "sysparm_fields": {strings.Join(s.read, ",")}}
}

// Get reads one record with all its fields.
func (c *Conn) Get(ctx context.Context, ref connector.Ref) (connector.Entity, error) {
	table, id, err := c.locate(ctx, ref)
	if err != nil {
		return connector.Entity{}, err
	}
	s, err := c.schema(ctx, table)
	if err != nil {
		return connector.Entity{}, err
	}
	var r record
	if err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: "/api/now/table/" + table + "/" + id, Query: readQuery(s)}, nil, &r); err != nil {
		return connector.Entity{}, fmt.Errorf("get ServiceNow record %s: %w", connector.RefName(ref), err)
	}
	return c.entity(s, r), nil
}

// Create inserts a record carrying the marker in correlation_id and the
// source's key in correlation_display, in the insert itself.
func (c *Conn) Create(ctx context.Context, project, entityType string, fields connector.Fields, marker connector.Marker) (connector.Entity, error) {
	table, err := c.scope(project)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("create ServiceNow record: %w", err)
	}
	if entityType != "" && entityType != table {
		if !validName(entityType) {
			return connector.Entity{}, fmt.Errorf("create ServiceNow record: %q is not a table name: %w", entityType, connector.ErrInvalid)
		}
		table = entityType // a table extending the project's
	}
	fail := func(err error) (connector.Entity, error) {
		return connector.Entity{}, fmt.Errorf("create ServiceNow record in %s: %w", table, err)
	}
	s, err := c.schema(ctx, table)
	if err != nil {
		return fail(err)
	}
	body, err := c.values(ctx, s, fields, true)
	if err != nil {
		return fail(err)
	}
	token := ""
	if marker.System != "" || marker.Key != "" {
		token = markerToken(marker)
		body["correlation_id"] = token
		body["correlation_display"] = truncate(marker.Key, correlationMax)
	}
	var r record
	// Not idempotent: after an ambiguous failure the engine looks for the
	// marker before creating again.
	if err := c.call(ctx, httpx.Request{Method: http.MethodPost, Path: "/api/now/table/" + table, Query: readQuery(s)}, body, &r); err != nil {
		return fail(err)
	}
	e := c.entity(s, r)
	if token != "" && r.get("correlation_id") != token {
		c.log.Warn().Str("entity_id", e.ID).Str("entity_key", e.Key).
			Msg("ServiceNow did not keep the marker in correlation_id (a business rule or ACL?): after a crash this record cannot be found again")
	}
	if err := verify(s, body, r); err != nil {
		c.log.Warn().Str("entity_id", e.ID).Str("entity_key", e.Key).Err(err).Msg("created record differs from what was written")
	}
	return e, nil
}

// modCount reads the number part of a version ("12", or "12@..." when a
// poll flagged new attachments).
func modCount(version string) (int, bool) {
	n, err := strconv.Atoi(strings.SplitN(version, "@", 2)[0])
	return n, err == nil
}

// Update writes fields. The Table API has no conditional write: with a
// version, sys_mod_count is read first and a stale version refused, which
// narrows the window for a lost update but cannot close it; a write that
// finds sys_mod_count moved by more than its own change is refused after
// the fact, so the engine reads the record again and sees the other
// change.
func (c *Conn) Update(ctx context.Context, ref connector.Ref, fields connector.Fields, version string) (connector.Entity, error) {
	table, id, err := c.locate(ctx, ref)
	if err != nil {
		return connector.Entity{}, err
	}
	fail := func(err error) (connector.Entity, error) {
		return connector.Entity{}, fmt.Errorf("update ServiceNow record %s: %w", connector.RefName(ref), err)
	}
	s, err := c.schema(ctx, table)
	if err != nil {
		return fail(err)
	}
	body, err := c.values(ctx, s, fields, false)
	if err != nil {
		return fail(err)
	}
	path := "/api/now/table/" + table + "/" + id
	want, checked := modCount(version)
	if version != "" && checked {
		var cur record
		q := url.Values{"sysparm_fields": {"sys_mod_count"}}
		if err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: q}, nil, &cur); err != nil {
			return fail(err)
		}
		if n, ok := modCount(cur.get("sys_mod_count")); !ok || n != want {
			return fail(fmt.Errorf("it is at update %s, not %d as read: %w", cur.get("sys_mod_count"), want, connector.ErrConflict))
		}
	}
	if len(body) == 0 {
		return c.Get(ctx, ref)
	}
	var r record
	// A PATCH of field values is idempotent: repeating it sets them again.
	if err := c.call(ctx, httpx.Request{Method: http.MethodPatch, Path: path, Query: readQuery(s), Idempotent: true}, body, &r); err != nil {
		return fail(err)
	}
	if version != "" && checked {
		if n, ok := modCount(r.get("sys_mod_count")); ok && n > want+1 {
			return fail(fmt.Errorf("another change landed between the check of update %d and the write (it is at update %d): %w", want, n, connector.ErrConflict))
		}
	}
	if err := verify(s, body, r); err != nil {
		return fail(err)
	}
	return c.entity(s, r), nil
}

// Delete deletes a record (the account needs the table's delete ACL;
// incidents are deletable by administrators only in a base instance).
func (c *Conn) Delete(ctx context.Context, ref connector.Ref) error {
	table, id, err := c.locate(ctx, ref)
	if err != nil {
		return err
	}
	if err := c.call(ctx, httpx.Request{Method: http.MethodDelete, Path: "/api/now/table/" + table + "/" + id}, nil, nil); err != nil {
		return fmt.Errorf("delete ServiceNow record %s: %w", connector.RefName(ref), err)
	}
	return nil
}

// FindByMarker queries correlation_id. The instance compares text without
// regard to case, and ignores a query naming a field the table lacks, so
// the answer is filtered to exact matches.
func (c *Conn) FindByMarker(ctx context.Context, project string, marker connector.Marker) ([]connector.Entity, error) {
	table, err := c.scope(project)
	if err != nil {
		return nil, fmt.Errorf("find ServiceNow record by marker: %w", err)
	}
	s, err := c.schema(ctx, table)
	if err != nil {
		return nil, err
	}
	token := markerToken(marker)
	recs, err := c.list(ctx, table, "correlation_id="+quote(token)+"^ORDERBYsys_created_on^ORDERBYsys_id", s.read, 100, 0)
	if err != nil {
		return nil, fmt.Errorf("find ServiceNow record for %s in %s: %w", marker.Key, table, err)
	}
	out := []connector.Entity{}
	for _, r := range recs {
		if r.get("correlation_id") == token {
			out = append(out, c.entity(s, r))
		}
	}
	return out, nil
}

// cursor is where the next page of changes starts. Pages are keyed, not
// counted: a record updated while the engine pages moves to the end of
// the list, and an offset would skip the record that moved up in its
// place. Mode "ge" reads from the second At on, leaving out the records of
// that second up to sys_id ID, which the page before listed; "eq" reads
// the rest of one second with more records than a page; "gt" what follows
// that second. Off counts records of the same query the account may not
// see (ACLs remove them from a page after the query): a page of them
// alone moves on by offset. Flag holds records with new attachments
// (sys_id -> Unix time of the newest) that a later page will list.
type cursor struct {
	Mode string           `json:"m"`
	At   string           `json:"t"`
	ID   string           `json:"id,omitempty"`
	Off  int              `json:"o,omitempty"`
	Flag map[string]int64 `json:"f,omitempty"`
}

// maxFlags bounds the flagged records a cursor carries.
const maxFlags = 200

func parseCursor(s string) (cursor, error) {
	var cur cursor
	if err := json.Unmarshal([]byte(s), &cur); err != nil || parseStamp(cur.At).IsZero() || cur.Off < 0 ||
		(cur.ID != "" && !sysIDs.MatchString(cur.ID)) || !slices.Contains([]string{"ge", "eq", "gt"}, cur.Mode) || len(cur.Flag) > maxFlags {
		return cursor{}, fmt.Errorf("cursor %q is not this connector's: %w", s, connector.ErrInvalid)
	}
	for id := range cur.Flag {
		if !sysIDs.MatchString(id) {
			return cursor{}, fmt.Errorf("cursor %q is not this connector's: %w", s, connector.ErrInvalid)
		}
	}
	return cur, nil
}

const byUpdate = "^ORDERBYsys_updated_on^ORDERBYsys_id"

// Changes pages through the table's records updated at or after since,
// ascending by sys_updated_on and sys_id. sys_updated_on has one-second
// precision and is compared in its internal form, UTC (a query value in
// plain text is UTC; display values, in the API user's time zone, are
// never read for it), so the query starts at since's second. Attaching a
// file does not update a record: with detectAttachments, the first page
// also lists records with attachments added since, before its own, with a
// version that differs from the record's own.
func (c *Conn) Changes(ctx context.Context, project string, since time.Time, cur string) (connector.Page, error) {
	table, err := c.scope(project)
	if err != nil {
		return connector.Page{}, fmt.Errorf("list ServiceNow changes: %w", err)
	}
	fail := func(err error) (connector.Page, error) {
		return connector.Page{}, fmt.Errorf("list ServiceNow changes in %s: %w", table, err)
	}
	s, err := c.schema(ctx, table)
	if err != nil {
		return fail(err)
	}
	first := cur == ""
	var at cursor
	var query string
	if first {
		if !since.IsZero() {
			query = "sys_updated_on>=" + formatStamp(since.UTC().Truncate(time.Second))
		}
		query += byUpdate
	} else {
		if at, err = parseCursor(cur); err != nil {
			return fail(err)
		}
		switch at.Mode {
		case "ge":
			query = "sys_updated_on>=" + at.At + byUpdate
		case "eq":
			query = "sys_updated_on=" + at.At + "^sys_id>" + at.ID + "^ORDERBYsys_id"
		case "gt":
			query = "sys_updated_on>" + at.At + byUpdate
		}
	}
	recs, more, err := c.page(ctx, "/api/now/table/"+table, strings.TrimPrefix(query, "^"), s.read, pageSize, at.Off)
	if err != nil {
		return fail(err)
	}
	flags := at.Flag
	if first && c.scanFiles && !since.IsZero() {
		flags, err = c.attachedSince(ctx, table, since)
		if errors.Is(err, connector.ErrForbidden) {
			// Polling goes on without it; attachments then cross with the
			// record's next change.
			c.log.Warn().Err(err).Msg("cannot look for new ServiceNow attachments of " + table + ": turn detectAttachments off or grant read access to sys_attachment")
			flags, err = nil, nil
		}
		if err != nil {
			return fail(err)
		}
	}
	mark := func(e *connector.Entity, sysID string) {
		if t, ok := flags[sysID]; ok {
			e.Version += "@" + strconv.FormatInt(t, 10)
			delete(flags, sysID)
		}
	}
	page := connector.Page{Entities: make([]connector.Entity, 0, len(recs))}
	var fresh []record
	for _, r := range recs {
		if at.Mode == "ge" && r.get("sys_updated_on") == at.At && r.get("sys_id") <= at.ID {
			continue // listed by the page before
		}
		fresh = append(fresh, r)
		e := c.entity(s, r)
		mark(&e, r.get("sys_id"))
		page.Entities = append(page.Entities, e)
	}
	if first && len(flags) > 0 {
		older, err := c.flagged(ctx, s, since, flags)
		if err != nil {
			return fail(err)
		}
		for i := range older {
			_, sysID, _ := splitID(older[i].ID)
			mark(&older[i], sysID)
		}
		page.Entities = append(older, page.Entities...)
	}
	next := cursor{Mode: at.Mode, At: at.At, ID: at.ID, Flag: flags}
	switch {
	case !more && at.Mode == "eq":
		next = cursor{Mode: "gt", At: at.At, Flag: flags}
	case !more:
		return page, nil
	case len(fresh) == 0:
		// Nothing new the account may see: the same query, further on.
		next.Off = at.Off + pageSize
		if first {
			next.Mode, next.At = "ge", formatStamp(since.UTC().Truncate(time.Second))
			if since.IsZero() {
				next.At = formatStamp(time.Unix(0, 0))
			}
		}
	case at.Mode == "eq":
		next.ID = fresh[len(fresh)-1].get("sys_id")
	default:
		last := fresh[len(fresh)-1]
		next.Mode, next.At, next.ID = "ge", last.get("sys_updated_on"), last.get("sys_id")
		if fresh[0].get("sys_updated_on") == next.At && len(fresh) == len(recs) {
			next.Mode = "eq" // a whole page of one second: page within it
		}
	}
	if len(next.Flag) > maxFlags {
		next.Flag = nil // too many to carry: the next poll sees the records updated anyway
	}
	b, _ := json.Marshal(next)
	page.Cursor = string(b)
	return page, nil
}

// attachedSince lists the records of table with attachments added at or
// after since by someone else than this connector, and when (Unix time of
// the newest).
func (c *Conn) attachedSince(ctx context.Context, table string, since time.Time) (map[string]int64, error) {
	query := "table_name=" + table + "^sys_created_on>=" + formatStamp(since.UTC().Truncate(time.Second)) + "^ORDERBYsys_created_on"
	var list []record
	for n := 0; n < 10; n++ {
		recs, more, err := c.page(ctx, "/api/now/attachment", query, nil, 1000, n*1000)
		if err != nil {
			return nil, fmt.Errorf("look for new attachments: %w", err)
		}
		list = append(list, recs...)
		if !more {
			break
		}
	}
	out := map[string]int64{}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range list {
		parent, t := a.get("table_sys_id"), parseStamp(a.get("sys_created_on"))
		if !sysIDs.MatchString(parent) || c.uploaded[a.get("sys_id")] || t.IsZero() {
			continue
		}
		out[parent] = max(out[parent], t.Unix())
	}
	return out, nil
}

// flagged reads the records of flags not updated since (those updated
// since are listed by the pages anyway), ascending, and leaves the others
// in flags.
func (c *Conn) flagged(ctx context.Context, s *tableSchema, since time.Time, flags map[string]int64) ([]connector.Entity, error) {
	ids := make([]string, 0, len(flags))
	for id := range flags {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []connector.Entity
	for start := 0; start < len(ids); start += pageSize {
		batch := ids[start:min(start+pageSize, len(ids))]
		recs, err := c.list(ctx, s.table, "sys_idIN"+strings.Join(batch, ",")+byUpdate, s.read, len(batch), 0)
		if err != nil {
			return nil, fmt.Errorf("read records with new attachments: %w", err)
		}
		for _, r := range recs {
			if t := parseStamp(r.get("sys_updated_on")); !t.IsZero() && t.Before(since.UTC().Truncate(time.Second)) {
				out = append(out, c.entity(s, r))
			}
		}
	}
	slices.SortStableFunc(out, func(a, b connector.Entity) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	return out, nil
}
