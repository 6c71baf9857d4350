package redmine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// include is what every read of issues asks for: relations and
// attachments are part of an issue's Version (see version), so a list page
// and a single read must carry the same.
const include = "relations,attachments"

// markerLine matches a marker line in a description (an HTML comment,
// which Markdown renderers hide).
var markerLine = regexp.MustCompile(`(?m)^[ \t]*<!-- (lockstep:[^\n]*?) -->[ \t]*$`)

func markerID(m connector.Marker) string {
	clean := func(s string) string {
		s = strings.NewReplacer("\r", " ", "\n", " ", "--", "- -", ">", " ").Replace(s)
		return strings.TrimSpace(s)
	}
	return connector.Marker{System: clean(m.System), Key: clean(m.Key)}.Text()
}

// splitDescription separates the text people wrote from the marker line
// Lockstep appended, so the marker is neither synced nor lost on update.
func splitDescription(d string) (text, marker string) {
	d = strings.ReplaceAll(d, "\r\n", "\n")
	if m := markerLine.FindStringSubmatch(d); m != nil {
		marker = m[1]
		d = markerLine.ReplaceAllString(d, "")
	}
	return strings.TrimRight(d, " \t\n"), marker
}

func withMarker(text, marker string) string {
	if marker == "" {
		return text
	}
	if strings.TrimSpace(text) == "" {
		return "<!-- " + marker + " -->"
	}
	return strings.TrimRight(text, " \t\n") + "\n\n<!-- " + marker + " -->"
}

// version is the issue's updated_on plus a hash of what it holds. Redmine
// dates changes to the second and does not date relation changes or
// attachment deletions at all, so updated_on alone would call two states
// the same version.
func version(is wireIssue) string {
	core := is
	core.Journals = nil
	core.Attachments = slices.Clone(is.Attachments)
	core.Relations = slices.Clone(is.Relations)
	slices.SortFunc(core.Attachments, func(a, b wireAttachment) int { return int(a.ID - b.ID) })
	slices.SortFunc(core.Relations, func(a, b wireRelation) int { return int(a.ID - b.ID) })
	if core.Attachments == nil {
		core.Attachments = []wireAttachment{}
	}
	if core.Relations == nil {
		core.Relations = []wireRelation{}
	}
	data, _ := json.Marshal(core) // plain data: cannot fail
	sum := sha256.Sum256(data)
	return strconv.FormatInt(is.UpdatedOn.Unix(), 10) + "-" + hex.EncodeToString(sum[:8])
}

// entity turns a wire issue into the engine's view. It makes no request.
func (c *Conn) entity(m *meta, is wireIssue) connector.Entity {
	desc := ""
	if is.Description != nil {
		desc, _ = splitDescription(*is.Description)
		desc = c.readText(desc)
	}
	name := func(r *wireRef) any {
		if r == nil {
			return nil
		}
		return r.Name
	}
	optStr := func(s *string) any {
		if s == nil || *s == "" {
			return nil
		}
		return *s
	}
	optNum := func(f *float64) any {
		if f == nil {
			return nil
		}
		return *f
	}
	fields := connector.Fields{
		"title":          is.Subject,
		"description":    desc,
		"status":         name(is.Status),
		"priority":       name(is.Priority),
		"assignee":       c.user(is.AssignedTo),
		"category":       name(is.Category),
		"targetVersion":  name(is.FixedVersion),
		"startDate":      optStr(is.StartDate),
		"dueDate":        optStr(is.DueDate),
		"doneRatio":      optNum(is.DoneRatio),
		"estimatedHours": optNum(is.EstimatedHours),
		"private":        is.IsPrivate,
		"author":         c.user(is.Author),
	}
	c.learnCustomFields(is.CustomFields)
	for _, v := range is.CustomFields {
		if c.markerField != "" && v.Name == c.markerField {
			continue
		}
		var def wireCustomField
		if m != nil {
			def, _ = c.customField(m, v.Name)
		}
		fields["cf:"+v.Name] = cfValue(def, v)
	}
	typ := ""
	if is.Tracker != nil {
		typ = is.Tracker.Name
	}
	id := itoa(is.ID)
	return connector.Entity{
		Ref:       connector.Ref{ID: id, Key: "#" + id},
		Type:      typ,
		Title:     is.Subject,
		URL:       c.http.BaseURL() + "/issues/" + id,
		Version:   version(is),
		CreatedAt: is.CreatedOn,
		UpdatedAt: is.UpdatedOn,
		Fields:    fields,
	}
}

// cfValue reads a custom field value by its format: numbers, booleans and
// users typed, lists as []string, blanks as nil. Without the definition
// (a key that is not an admin's) values stay text.
func cfValue(def wireCustomField, v wireCustomValue) any {
	one := func(s string) any {
		if s == "" {
			return nil
		}
		switch def.FieldFormat {
		case "int", "float":
			if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f
			}
		case "bool":
			return s == "1"
		case "user":
			return connector.User{ID: s}
		case "text":
			return strings.ReplaceAll(s, "\r\n", "\n")
		}
		return s
	}
	switch x := v.Value.(type) {
	case string:
		if def.Multiple || v.Multiple {
			if x == "" {
				return []string{}
			}
			return []string{x}
		}
		return one(x)
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// issuePath is the API path of an issue.
func issuePath(ref connector.Ref, suffix string) (string, error) {
	id, err := issueID(ref)
	if err != nil {
		return "", err
	}
	return "/issues/" + itoa(id) + suffix, nil
}

// readIssue reads one issue with relations and attachments (and more).
func (c *Conn) readIssue(ctx context.Context, ref connector.Ref, extra ...string) (wireIssue, error) {
	path, err := issuePath(ref, ".json")
	if err != nil {
		return wireIssue{}, err
	}
	var raw json.RawMessage
	inc := strings.Join(append([]string{include}, extra...), ",")
	if err := c.get(ctx, path, url.Values{"include": {inc}}, &raw); err != nil {
		return wireIssue{}, err
	}
	return decodeIssue(raw)
}

// Get reads one issue.
func (c *Conn) Get(ctx context.Context, ref connector.Ref) (connector.Entity, error) {
	is, err := c.readIssue(ctx, ref)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("get redmine issue %s: %w", refName(ref), err)
	}
	m, err := c.instanceMeta(ctx, false)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("get redmine issue %s: %w", refName(ref), err)
	}
	return c.entity(m, is), nil
}

// Create makes an issue carrying the marker in the same request: in the
// marker custom field when one is configured, else as the description's
// last line. The answer is read again so Create and Get agree on Version.
func (c *Conn) Create(ctx context.Context, project, entityType string, fields connector.Fields, marker connector.Marker) (connector.Entity, error) {
	project, err := c.scope(project)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("create redmine issue: %w", err)
	}
	fail := func(err error) (connector.Entity, error) {
		return connector.Entity{}, fmt.Errorf("create redmine issue in %s: %w", project, err)
	}
	pm, err := c.projectMeta(ctx, project, false)
	if err != nil {
		return fail(err)
	}
	body, cfs, err := c.issueBody(ctx, project, fields)
	if err != nil {
		return fail(err)
	}
	body["project_id"] = pm.id
	if entityType != "" {
		id, ok := findRef(pm.trackers, entityType)
		if !ok {
			if pm, err = c.projectMeta(ctx, project, true); err != nil {
				return fail(err)
			}
			if id, ok = findRef(pm.trackers, entityType); !ok {
				return fail(fmt.Errorf("tracker %q is not enabled for the project (it has %s): %w", entityType, refNames(pm.trackers), connector.ErrInvalid))
			}
		}
		body["tracker_id"] = id
	}
	if marker.System != "" || marker.Key != "" {
		if c.markerField != "" {
			id, err := c.markerFieldID(ctx)
			if err != nil {
				return fail(err)
			}
			cfs = append(cfs, map[string]any{"id": id, "value": markerID(marker)})
		} else {
			d, _ := body["description"].(string)
			body["description"] = withMarker(d, markerID(marker))
		}
	}
	if len(cfs) > 0 {
		body["custom_fields"] = cfs
	}
	var raw json.RawMessage
	// Not idempotent: after an ambiguous failure the engine looks for the
	// marker before creating again.
	if err := redmineErr(c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: "/issues.json"}, map[string]any{"issue": body}, &raw)); err != nil {
		return fail(err)
	}
	is, err := decodeIssue(raw)
	if err != nil {
		return fail(err)
	}
	ref := connector.Ref{ID: itoa(is.ID)}
	// Redmine's default workflows let a new issue start only in its
	// tracker's default status; any other is set by a second request,
	// as a person would.
	if want, ok := fields["status"].(string); ok && want != "" && (is.Status == nil || !strings.EqualFold(is.Status.Name, want)) {
		if _, err := c.Update(ctx, ref, connector.Fields{"status": want}, ""); err != nil {
			return fail(fmt.Errorf("issue #%d was created, but its status was not set: %w", is.ID, err))
		}
	}
	return c.Get(ctx, ref)
}

// Update writes fields. Redmine's JSON has no lock_version to send back,
// so a non-empty version is checked by reading the issue first: a
// different Version is ErrConflict. A change landing between that read
// and the write is not caught; the window is one round trip.
func (c *Conn) Update(ctx context.Context, ref connector.Ref, fields connector.Fields, ver string) (connector.Entity, error) {
	fail := func(err error) (connector.Entity, error) {
		return connector.Entity{}, fmt.Errorf("update redmine issue %s: %w", refName(ref), err)
	}
	path, err := issuePath(ref, ".json")
	if err != nil {
		return fail(err)
	}
	_, writesDescription := fields["description"]
	var marker string
	if ver != "" || (writesDescription && c.markerField == "") || len(fields) > 0 {
		cur, err := c.readIssue(ctx, ref)
		if err != nil {
			return fail(err)
		}
		if ver != "" && version(cur) != ver {
			return fail(fmt.Errorf("issue is at version %s, not %s: %w", version(cur), ver, connector.ErrConflict))
		}
		if cur.Description != nil {
			_, marker = splitDescription(*cur.Description)
		}
		project := ""
		if cur.Project != nil {
			project = itoa(cur.Project.ID)
		}
		body, cfs, err := c.issueBody(ctx, project, fields)
		if err != nil {
			return fail(err)
		}
		if d, ok := body["description"].(string); ok {
			body["description"] = withMarker(d, marker)
		}
		if len(cfs) > 0 {
			body["custom_fields"] = cfs
		}
		if len(body) > 0 {
			// PUT sets the given values: repeating it is harmless.
			if err := redmineErr(c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPut, Path: path}, map[string]any{"issue": body}, nil)); err != nil {
				return fail(err)
			}
		}
	}
	return c.Get(ctx, ref)
}

// markerFieldID is the id of the configured marker custom field.
func (c *Conn) markerFieldID(ctx context.Context) (int64, error) {
	m, err := c.instanceMeta(ctx, false)
	if err != nil {
		return 0, err
	}
	if _, id := c.customField(m, c.markerField); id != 0 {
		return id, nil
	}
	if m, err = c.instanceMeta(ctx, true); err != nil {
		return 0, err
	}
	if _, id := c.customField(m, c.markerField); id != 0 {
		return id, nil
	}
	return 0, fmt.Errorf("marker custom field %q not found (create it as an issue custom field, or clear the setting): %w", c.markerField, connector.ErrInvalid)
}

// FindByMarker finds issues of the project carrying marker: an exact
// match on the marker custom field, or Redmine's "contains" filter on the
// description, checked exactly here (contains would also match a longer
// key).
func (c *Conn) FindByMarker(ctx context.Context, project string, marker connector.Marker) ([]connector.Entity, error) {
	project, err := c.scope(project)
	if err != nil {
		return nil, fmt.Errorf("find redmine issue by marker: %w", err)
	}
	fail := func(err error) ([]connector.Entity, error) {
		return nil, fmt.Errorf("find redmine issue for %s in %s: %w", marker.Key, project, err)
	}
	want := markerID(marker)
	q := url.Values{"project_id": {project}, "status_id": {"*"}, "include": {include}, "limit": {strconv.Itoa(maxPage)}}
	if c.markerField != "" {
		id, err := c.markerFieldID(ctx)
		if err != nil {
			return fail(err)
		}
		q.Set("cf_"+itoa(id), want)
	} else {
		q.Set("description", "~"+want+" -->")
	}
	var raw json.RawMessage
	if err := c.get(ctx, "/issues.json", q, &raw); err != nil {
		return fail(err)
	}
	list, err := decodeIssueList(raw)
	if err != nil {
		return fail(err)
	}
	m, err := c.instanceMeta(ctx, false)
	if err != nil {
		return fail(err)
	}
	out := []connector.Entity{}
	for _, is := range list.Issues {
		if c.markerField != "" || (is.Description != nil && hasMarker(*is.Description, want)) {
			out = append(out, c.entity(m, is))
		}
	}
	return out, nil
}

func hasMarker(desc, want string) bool {
	for _, m := range markerLine.FindAllStringSubmatch(strings.ReplaceAll(desc, "\r\n", "\n"), -1) {
		if m[1] == want {
			return true
		}
	}
	return false
}

// issueBody turns engine fields into Redmine's issue JSON (ids for names)
// and its custom_fields list. nil clears a field.
func (c *Conn) issueBody(ctx context.Context, project string, fields connector.Fields) (map[string]any, []map[string]any, error) {
	body := map[string]any{}
	var cfs []map[string]any
	var m *meta
	var pm *projectMeta
	instance := func() (*meta, error) {
		if m == nil {
			var err error
			if m, err = c.instanceMeta(ctx, false); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	proj := func() (*projectMeta, error) {
		if pm == nil {
			if project == "" {
				return nil, fmt.Errorf("the issue's project is unknown: %w", connector.ErrInvalid)
			}
			p, err := c.projectMeta(ctx, project, false)
			if err != nil {
				return nil, err
			}
			pm = &p
		}
		return pm, nil
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v := fields[name]
		var err error
		switch name {
		case "title":
			body["subject"], err = text(name, v)
		case "description":
			body["description"], err = c.writeText(name, v)
		case "status", "priority":
			if m, err = instance(); err == nil {
				body[name+"_id"], err = c.lookup(ctx, name, v, func(force bool) ([]wireRef, error) {
					if force {
						if m, err = c.instanceMeta(ctx, true); err != nil {
							return nil, err
						}
					}
					if name == "status" {
						return statusRefs(m.statuses), nil
					}
					return priorityRefs(m.priorities), nil
				})
			}
		case "category", "targetVersion":
			key := map[string]string{"category": "category_id", "targetVersion": "fixed_version_id"}[name]
			body[key], err = c.lookup(ctx, name, v, func(force bool) ([]wireRef, error) {
				if force {
					pm = nil
					if _, err := c.projectMeta(ctx, project, true); err != nil {
						return nil, err
					}
				}
				p, err := proj()
				if err != nil {
					return nil, err
				}
				if name == "category" {
					return p.categories, nil
				}
				return versionRefs(p.versions), nil
			})
		case "assignee":
			body["assigned_to_id"], err = c.userID(ctx, project, name, v)
		case "startDate", "dueDate":
			key := map[string]string{"startDate": "start_date", "dueDate": "due_date"}[name]
			body[key], err = date(name, v)
		case "doneRatio":
			var n any
			if n, err = number(name, v); err == nil {
				if f, ok := n.(float64); ok {
					n = int(math.Round(f))
				} else {
					n = 0
				}
				body["done_ratio"] = n
			}
		case "estimatedHours":
			body["estimated_hours"], err = number(name, v)
		case "private":
			b, ok := v.(bool)
			if !ok && v != nil {
				err = fmt.Errorf("field private must be true or false, not %T: %w", v, connector.ErrInvalid)
			}
			body["is_private"] = b
		case "author":
			err = fmt.Errorf("field author is read-only in Redmine: %w", connector.ErrInvalid)
		default:
			cf, ok := strings.CutPrefix(name, "cf:")
			if !ok || cf == "" {
				return nil, nil, fmt.Errorf("field %q is not a Redmine field: %w", name, connector.ErrInvalid)
			}
			if m, err = instance(); err != nil {
				return nil, nil, err
			}
			def, id := c.customField(m, cf)
			if id == 0 {
				if m, err = c.instanceMeta(ctx, true); err != nil {
					return nil, nil, err
				}
				if def, id = c.customField(m, cf); id == 0 {
					return nil, nil, fmt.Errorf("field %s: Redmine has no issue custom field %q visible to this key: %w", name, cf, connector.ErrInvalid)
				}
			}
			var val any
			if val, err = c.cfWire(ctx, project, name, def, v); err == nil {
				cfs = append(cfs, map[string]any{"id": id, "value": val})
			}
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return body, cfs, nil
}

// cfWire writes a custom field value as Redmine's text form.
func (c *Conn) cfWire(ctx context.Context, project, field string, def wireCustomField, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		if def.Multiple {
			return []string{}, nil
		}
		return "", nil
	case string:
		return x, nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case []string, []any:
		return connector.TextList(field, x)
	case connector.User, *connector.User, map[string]any:
		return c.userID(ctx, project, field, v)
	}
	return nil, fmt.Errorf("field %s cannot hold %T: %w", field, v, connector.ErrInvalid)
}

// lookup finds the id of a named value (case-insensitive); an unknown name
// re-reads the list once. nil clears ("").
func (c *Conn) lookup(ctx context.Context, field string, v any, list func(force bool) ([]wireRef, error)) (any, error) {
	if v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("field %s must be a name, not %T: %w", field, v, connector.ErrInvalid)
	}
	if s == "" {
		return "", nil
	}
	for _, force := range []bool{false, true} {
		refs, err := list(force)
		if err != nil {
			return nil, err
		}
		if id, ok := findRef(refs, s); ok {
			return id, nil
		}
		if force {
			return nil, fmt.Errorf("field %s: value %s is not one of %s: %w", field, connector.Digest(s), refNames(refs), connector.ErrInvalid)
		}
	}
	return nil, ctx.Err()
}

func findRef(refs []wireRef, name string) (int64, bool) {
	for _, r := range refs {
		if strings.EqualFold(r.Name, strings.TrimSpace(name)) {
			return r.ID, true
		}
	}
	return 0, false
}

func refNames(refs []wireRef) string {
	names := make([]string, 0, len(refs))
	for _, r := range refs {
		names = append(names, strconv.Quote(r.Name))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func statusRefs(l []wireStatus) []wireRef {
	out := make([]wireRef, 0, len(l))
	for _, s := range l {
		out = append(out, wireRef{ID: s.ID, Name: s.Name})
	}
	return out
}

func priorityRefs(l []wirePriority) []wireRef {
	out := make([]wireRef, 0, len(l))
	for _, p := range l {
		out = append(out, wireRef{ID: p.ID, Name: p.Name})
	}
	return out
}

func versionRefs(l []wireVersion) []wireRef {
	out := make([]wireRef, 0, len(l))
	for _, v := range l {
		out = append(out, wireRef{ID: v.ID, Name: v.Name})
	}
	return out
}

func text(name string, v any) (any, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case nil:
		return "", nil
	}
	return nil, fmt.Errorf("field %s must be text, not %T: %w", name, v, connector.ErrInvalid)
}

func number(name string, v any) (any, error) {
	switch n := v.(type) {
	case nil:
		return nil, nil
	case float64:
		return n, nil
	case int:
		return float64(n), nil
	case int64:
		return float64(n), nil
	case string:
		if n == "" {
			return nil, nil
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(n), 64); err == nil {
			return f, nil
		}
	}
	return nil, fmt.Errorf("field %s must be a number, not the %T %s: %w", name, v, connector.Digest(v), connector.ErrInvalid)
}

// date is a date as Redmine takes it; "" clears.
func date(name string, v any) (any, error) {
	d, ok, err := connector.Day(name, v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return "", nil
	}
	return d, nil
}
