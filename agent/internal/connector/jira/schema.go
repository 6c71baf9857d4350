package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// fieldsFresh is how long the site's field list is trusted; custom fields
// change rarely, and a name the engine writes that is missing triggers a
// re-read anyway.
const fieldsFresh = 10 * time.Minute

// fieldInfo is one Jira field the connector maps.
type fieldInfo struct {
	id    string // Jira's id: summary, customfield_10016
	name  string // the engine's name: title, cf:Story Points
	label string
	typ   string // connector.Type*
	kind  string // how values convert, see customKind
}

// Value conversions of custom fields.
const (
	kindString   = "string"
	kindRich     = "rich" // ADF on Cloud, wiki on Server
	kindNumber   = "number"
	kindDate     = "date"
	kindDateTime = "datetime"
	kindOption   = "option"
	kindOptions  = "options" // multi-select
	kindStrings  = "strings" // labels-like
	kindUser     = "user"
)

// customKind maps a custom field's schema to a conversion; ok is false for
// types the connector does not sync (cascading selects, versions, sprints).
func customKind(s wireSchemaType) (kind, typ string, ok bool) {
	switch s.Type {
	case "number":
		return kindNumber, connector.TypeNumber, true
	case "string":
		if strings.HasSuffix(s.Custom, ":textarea") {
			return kindRich, connector.TypeText, true
		}
		return kindString, connector.TypeString, true
	case "date":
		return kindDate, connector.TypeDate, true
	case "datetime":
		return kindDateTime, connector.TypeDateTime, true
	case "option":
		return kindOption, connector.TypeEnum, true
	case "user":
		return kindUser, connector.TypeUser, true
	case "array":
		switch s.Items {
		case "option":
			return kindOptions, connector.TypeLabels, true
		case "string":
			return kindStrings, connector.TypeLabels, true
		}
	}
	return "", "", false
}

// The system fields the engine sees, by Jira id.
var systemFields = []fieldInfo{
	{id: "summary", name: "title", label: "Summary", typ: connector.TypeString},
	{id: "description", name: "description", label: "Description", typ: connector.TypeText},
	{id: "status", name: "status", label: "Status", typ: connector.TypeEnum},
	{id: "priority", name: "priority", label: "Priority", typ: connector.TypeEnum},
	{id: "assignee", name: "assignee", label: "Assignee", typ: connector.TypeUser},
	{id: "labels", name: "labels", label: "Labels", typ: connector.TypeLabels},
	{id: "duedate", name: "dueDate", label: "Due date", typ: connector.TypeDate},
}

// catalogue is the site's fields by Jira id and by engine name.
type catalogue struct {
	byID   map[string]fieldInfo
	byName map[string]fieldInfo
	custom []fieldInfo // in the site's order
}

// catalogue returns the field list, reading /field when it is stale or
// refresh is set.
func (c *Conn) catalogue(ctx context.Context, refresh bool) (*catalogue, error) {
	c.mu.Lock()
	cat, at := c.fields, c.fieldsAt
	c.mu.Unlock()
	if cat != nil && !refresh && c.now().Sub(at) < fieldsFresh {
		return cat, nil
	}
	var list []wireField
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: c.api + "/field"}, nil, &list); err != nil {
		return nil, fmt.Errorf("list Jira fields: %w", err)
	}
	cat = &catalogue{byID: map[string]fieldInfo{}, byName: map[string]fieldInfo{}}
	for _, f := range systemFields {
		cat.byID[f.id], cat.byName[f.name] = f, f
	}
	for _, f := range list {
		if !f.Custom {
			continue
		}
		kind, typ, ok := customKind(f.Schema)
		if !ok {
			continue
		}
		name := "cf:" + f.Name
		if _, taken := cat.byName[name]; taken {
			// Two custom fields may share a name; the id keeps them apart.
			name = "cf:" + f.Name + " (" + f.ID + ")"
		}
		fi := fieldInfo{id: f.ID, name: name, label: f.Name, typ: typ, kind: kind}
		cat.byID[f.ID], cat.byName[name] = fi, fi
		cat.custom = append(cat.custom, fi)
	}
	c.mu.Lock()
	c.fields, c.fieldsAt = cat, c.now()
	c.mu.Unlock()
	return cat, nil
}

// Schema reads the project's issue types, the fields their create screens
// offer (with allowed values), priorities, statuses, link types and
// assignable users.
func (c *Conn) Schema(ctx context.Context, project string) (connector.Schema, error) {
	project, err := scope(project)
	if err != nil {
		return connector.Schema{}, fmt.Errorf("read Jira schema: %w", err)
	}
	fail := func(err error) (connector.Schema, error) {
		return connector.Schema{}, fmt.Errorf("read Jira schema of %s: %w", project, err)
	}
	var p wireProject
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: c.api + "/project/" + url.PathEscape(project)}, nil, &p); err != nil {
		return fail(err)
	}
	cat, err := c.catalogue(ctx, true)
	if err != nil {
		return fail(err)
	}
	types, err := metaPages[wireNamed](ctx, c, c.api+"/issue/createmeta/"+url.PathEscape(p.Key)+"/issuetypes")
	if err != nil {
		return fail(err)
	}
	out := connector.Schema{Extra: map[string][]any{}}
	values := map[string][]string{}
	onScreen := map[string]bool{}
	required := map[string]bool{}
	for _, t := range types {
		out.EntityTypes = append(out.EntityTypes, t.Name)
		fields, err := metaPages[wireCreateMetaField](ctx, c, c.api+"/issue/createmeta/"+url.PathEscape(p.Key)+"/issuetypes/"+url.PathEscape(t.ID))
		if err != nil {
			return fail(err)
		}
		for _, f := range fields {
			id := f.FieldID
			if id == "" {
				id = f.Key
			}
			onScreen[id] = true
			required[id] = required[id] || f.Required && id != "summary"
			for _, v := range f.AllowedValues {
				s := v.Value
				if s == "" {
					s = v.Name
				}
				if s != "" && !slices.Contains(values[id], s) {
					values[id] = append(values[id], s)
				}
			}
		}
	}
	var prios []wireNamed
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: c.api + "/priority"}, nil, &prios); err != nil {
		return fail(err)
	}
	var statuses []wireNamed
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: c.api + "/status"}, nil, &statuses); err != nil {
		return fail(err)
	}
	values["priority"] = nil
	for _, x := range prios {
		values["priority"] = append(values["priority"], x.Name)
	}
	for _, x := range statuses {
		if !slices.Contains(values["status"], x.Name) {
			values["status"] = append(values["status"], x.Name)
		}
	}
	for _, f := range systemFields {
		fs := connector.FieldSchema{Name: f.name, Label: f.label, Type: f.typ, Values: values[f.id], Required: f.id == "summary"}
		out.Fields = append(out.Fields, fs)
	}
	for _, f := range cat.custom {
		if !onScreen[f.id] {
			continue // not on any create screen of this project: not writable here
		}
		out.Fields = append(out.Fields, connector.FieldSchema{Name: f.name, Label: f.label, Type: f.typ, Values: values[f.id], Required: required[f.id]})
	}
	lts, err := c.loadLinkTypes(ctx)
	if err != nil {
		return fail(err)
	}
	for _, lt := range lts {
		for _, d := range []string{lt.Outward, lt.Inward} {
			if d != "" && !slices.Contains(out.LinkTypes, d) {
				out.LinkTypes = append(out.LinkTypes, d)
			}
		}
	}
	users, err := c.assignable(ctx, p.Key)
	if err != nil {
		return fail(err)
	}
	out.Users = users
	return out, nil
}

// metaPages reads every page of a createmeta list.
func metaPages[T any](ctx context.Context, c *Conn, path string) ([]T, error) {
	var out []T
	start := 0
	// A hundred pages of a hundred issue types or fields is far beyond
	// any project; the bound only stops a server that never says "last".
	for range 100 {
		var page wireMetaPage[T]
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {strconv.Itoa(pageSize)}}
		if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: q}, nil, &page); err != nil {
			return nil, err
		}
		if page.StartAt != start {
			return nil, fmt.Errorf("GET %s: asked for items from %d, got a page from %d: %w", path, start, page.StartAt, connector.ErrUnavailable)
		}
		items := page.items()
		out = append(out, items...)
		if page.last() || len(items) == 0 {
			return out, nil
		}
		start += len(items)
	}
	return out, nil
}

func (c *Conn) loadLinkTypes(ctx context.Context) ([]wireLinkType, error) {
	c.mu.Lock()
	lts := c.linkTypes
	c.mu.Unlock()
	if lts != nil {
		return lts, nil
	}
	var out struct {
		IssueLinkTypes []wireLinkType `json:"issueLinkTypes"`
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: c.api + "/issueLinkType"}, nil, &out); err != nil {
		return nil, fmt.Errorf("list Jira link types: %w", err)
	}
	c.mu.Lock()
	c.linkTypes = out.IssueLinkTypes
	c.mu.Unlock()
	return out.IssueLinkTypes, nil
}

// writePermissions are what syncing needs beyond browsing.
var writePermissions = []string{"CREATE_ISSUES", "EDIT_ISSUES", "TRANSITION_ISSUES", "ADD_COMMENTS", "CREATE_ATTACHMENTS", "LINK_ISSUES"}

// Validate proves the credentials work and may write.
func (c *Conn) Validate(ctx context.Context) (string, error) {
	me, err := c.myself(ctx)
	if err != nil {
		return "", fmt.Errorf("check %s credentials: %w", c.product(), err)
	}
	var perms struct {
		Permissions map[string]struct {
			HavePermission bool `json:"havePermission"`
		} `json:"permissions"`
	}
	q := url.Values{"permissions": {"BROWSE_PROJECTS," + strings.Join(writePermissions, ",")}}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: c.api + "/mypermissions", Query: q}, nil, &perms); err != nil {
		return "", fmt.Errorf("check %s permissions: %w", c.product(), err)
	}
	var missing []string
	for _, p := range append([]string{"BROWSE_PROJECTS"}, writePermissions...) {
		if !perms.Permissions[p].HavePermission {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("check %s permissions: %s lacks %s: %w", c.product(), me.DisplayName, strings.Join(missing, ", "), connector.ErrForbidden)
	}
	return fmt.Sprintf("Signed in to %s as %s (time zone %s)", c.product(), me.DisplayName, c.location().String()), nil
}

// myself reads the API user and remembers its time zone.
func (c *Conn) myself(ctx context.Context) (wireUser, error) {
	var me wireUser
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: c.api + "/myself"}, nil, &me); err != nil {
		return me, err
	}
	loc, err := time.LoadLocation(me.TimeZone)
	if err != nil || me.TimeZone == "" {
		loc = nil
	}
	c.mu.Lock()
	c.loc = loc
	c.mu.Unlock()
	return me, nil
}

// zone returns the time zone JQL dates are read in, reading it once.
// When Jira names a zone Go does not know, ok is false and the caller must
// widen its overlap.
func (c *Conn) zone(ctx context.Context) (loc *time.Location, ok bool, err error) {
	c.mu.Lock()
	loc = c.loc
	c.mu.Unlock()
	if loc != nil {
		return loc, true, nil
	}
	if _, err := c.myself(ctx); err != nil {
		return nil, false, fmt.Errorf("read the Jira user's time zone: %w", err)
	}
	c.mu.Lock()
	loc = c.loc
	c.mu.Unlock()
	if loc == nil {
		return time.UTC, false, nil
	}
	return loc, true, nil
}

func (c *Conn) location() *time.Location {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

func isNotFound(err error) bool { return errors.Is(err, connector.ErrNotFound) }
