package sandboxconn

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// itemPath is the API path of an entity: its id, else its key.
func itemPath(ref connector.Ref, rest ...string) (string, error) {
	id := ref.ID
	if id == "" {
		id = ref.Key
	}
	if id == "" {
		return "", fmt.Errorf("entity reference has neither id nor key: %w", connector.ErrInvalid)
	}
	return "/api/items/" + url.PathEscape(id) + strings.Join(rest, ""), nil
}

func (c *Conn) entity(ctx context.Context, it wireItem) connector.Entity {
	fields := connector.Fields{
		"title":       it.Title,
		"description": it.Description,
		"status":      it.Status,
		"priority":    it.Priority,
		"labels":      nonNil(it.Labels),
		"assignee":    nil,
		"dueDate":     nil,
	}
	if it.Assignee != "" {
		fields["assignee"] = c.user(ctx, it.Assignee)
	}
	if it.DueDate != "" {
		fields["dueDate"] = it.DueDate
	}
	for k, v := range it.CustomFields {
		fields["cf."+k] = v
	}
	id := strconv.FormatInt(it.ID, 10)
	marker := ""
	for _, rl := range it.RemoteLinks {
		if _, ok := connector.ParseMarker(rl.GlobalID); ok {
			marker = rl.GlobalID
			break
		}
	}
	return connector.Entity{
		Marker:    marker,
		Ref:       connector.Ref{ID: id, Key: it.Key},
		Type:      it.Type,
		Title:     it.Title,
		URL:       c.http.BaseURL() + "/api/items/" + id,
		Version:   strconv.FormatInt(it.Version, 10),
		CreatedAt: it.Created,
		UpdatedAt: it.Updated,
		Fields:    fields,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Get reads one entity.
func (c *Conn) Get(ctx context.Context, ref connector.Ref) (connector.Entity, error) {
	path, err := itemPath(ref)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("get sandbox item: %w", err)
	}
	var it wireItem
	q := url.Values{"expand": {"remoteLinks"}}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: q}, nil, &it); err != nil {
		return connector.Entity{}, fmt.Errorf("get sandbox item %s: %w", connector.RefName(ref), err)
	}
	return c.entity(ctx, it), nil
}

// IndexesMarkers: items are read with their remote links, so every entity
// says which marker it carries.
func (c *Conn) IndexesMarkers() bool { return true }

// Delete deletes an item (the "mirror" deletion policy).
func (c *Conn) Delete(ctx context.Context, ref connector.Ref) error {
	path, err := itemPath(ref)
	if err != nil {
		return fmt.Errorf("delete sandbox item: %w", err)
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodDelete, Path: path, Idempotent: true}, nil, nil); err != nil {
		return fmt.Errorf("delete sandbox item %s: %w", connector.RefName(ref), err)
	}
	return nil
}

// Changes pages through the project's items updated at or after since,
// with their remote links (so each says its marker), and on the last page
// the items deleted since. The sandbox's timestamps are exact and its
// cursor is stable under concurrent changes (a changed item moves behind
// the cursor), so no overlap is needed.
func (c *Conn) Changes(ctx context.Context, project string, since time.Time, cursor string) (connector.Page, error) {
	project, err := c.scope(project)
	if err != nil {
		return connector.Page{}, fmt.Errorf("list sandbox changes: %w", err)
	}
	q := url.Values{"project": {project}, "limit": {strconv.Itoa(pageSize)}, "expand": {"remoteLinks"}, "include_deleted": {"true"}}
	if !since.IsZero() {
		q.Set("updated_since", since.UTC().Format(time.RFC3339Nano))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var page wireItemPage
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: "/api/items", Query: q}, nil, &page); err != nil {
		return connector.Page{}, fmt.Errorf("list sandbox changes in %s: %w", project, err)
	}
	out := connector.Page{Entities: make([]connector.Entity, 0, len(page.Items)), Cursor: page.NextCursor}
	for _, it := range page.Items {
		out.Entities = append(out.Entities, c.entity(ctx, it))
	}
	for _, d := range page.Deleted {
		out.Deleted = append(out.Deleted, connector.Ref{ID: strconv.FormatInt(d.ID, 10), Key: d.Key})
	}
	return out, nil
}

// Create makes an item with its marker remote link in one request.
func (c *Conn) Create(ctx context.Context, project, entityType string, fields connector.Fields, marker connector.Marker) (connector.Entity, error) {
	project, err := c.scope(project)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("create sandbox item: %w", err)
	}
	body, err := c.itemBody(ctx, fields, false)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("create sandbox item in %s: %w", project, err)
	}
	body["project"], body["type"] = project, entityType
	if marker.System != "" || marker.Key != "" {
		body["remoteLinks"] = []wireRemoteLink{{GlobalID: marker.Text(), URL: marker.URL,
			Title: "Synced with " + marker.Key, Relationship: "synced with"}}
	}
	var it wireItem
	// Not idempotent: after an ambiguous failure the engine looks for the
	// marker before creating again.
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: "/api/items"}, body, &it); err != nil {
		return connector.Entity{}, fmt.Errorf("create sandbox item in %s: %w", project, err)
	}
	return c.entity(ctx, it), nil
}

// Update writes fields; a non-empty version is sent as If-Match, and the
// sandbox refuses a stale one with 409 (ErrConflict).
func (c *Conn) Update(ctx context.Context, ref connector.Ref, fields connector.Fields, version string) (connector.Entity, error) {
	path, err := itemPath(ref)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("update sandbox item: %w", err)
	}
	body, err := c.itemBody(ctx, fields, true)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("update sandbox item %s: %w", connector.RefName(ref), err)
	}
	req := httpx.Request{Method: http.MethodPatch, Path: path, Header: http.Header{},
		// Repeating a PATCH sets the same values again; with If-Match a
		// repeat after a lost answer reads as a conflict, never a loss.
		Idempotent: true}
	if version != "" {
		req.Header.Set("If-Match", strconv.Quote(version))
	}
	var it wireItem
	if err := c.http.DoJSON(ctx, req, body, &it); err != nil {
		return connector.Entity{}, fmt.Errorf("update sandbox item %s: %w", connector.RefName(ref), err)
	}
	return c.entity(ctx, it), nil
}

// GuardsVersions reports that Update refuses a stale version (If-Match,
// 409): the engine may write a peer it has not read again, trusting its
// last-synced state, and reads it only when refused.
func (c *Conn) GuardsVersions() bool { return true }

// FindByMarker searches for the marker's remote link.
func (c *Conn) FindByMarker(ctx context.Context, project string, marker connector.Marker) ([]connector.Entity, error) {
	project, err := c.scope(project)
	if err != nil {
		return nil, fmt.Errorf("find sandbox item by marker: %w", err)
	}
	q := url.Values{"project": {project}, "remote_link_global_id": {marker.Text()}}
	var page wireItemPage
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: "/api/items", Query: q}, nil, &page); err != nil {
		return nil, fmt.Errorf("find sandbox item for %s in %s: %w", marker.Key, project, err)
	}
	out := make([]connector.Entity, 0, len(page.Items))
	for _, it := range page.Items {
		out = append(out, c.entity(ctx, it))
	}
	return out, nil
}

// itemBody turns engine fields into the sandbox's JSON. For a patch, nil
// clears a field; for a create, nil is left out.
func (c *Conn) itemBody(ctx context.Context, fields connector.Fields, patch bool) (map[string]any, error) {
	body := map[string]any{}
	custom := map[string]any{}
	for name, v := range fields {
		var err error
		switch name {
		case "title", "status", "priority":
			body[name], err = str(name, v, false)
		case "description":
			body[name], err = str(name, v, true)
		case "dueDate":
			body[name], err = date(name, v)
		case "labels":
			body[name], err = connector.TextList(name, v)
		case "assignee":
			body[name], err = c.assigneeID(ctx, v)
		default:
			cf, ok := strings.CutPrefix(name, "cf.")
			if !ok || cf == "" {
				return nil, fmt.Errorf("field %q is not a sandbox field: %w", name, connector.ErrInvalid)
			}
			custom[cf] = v
		}
		if err != nil {
			return nil, err
		}
		if !patch && body[name] == nil {
			delete(body, name)
		}
	}
	if len(custom) > 0 {
		body["customFields"] = custom
	}
	return body, nil
}

func str(name string, v any, clearable bool) (any, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case nil:
		if clearable {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("field %s must be text, not %T: %w", name, v, connector.ErrInvalid)
}

// date is a due date as the sandbox takes it; nil clears.
func date(name string, v any) (any, error) {
	d, ok, err := connector.Day(name, v)
	if !ok {
		return nil, err
	}
	return d, nil
}

var (
	_ connector.VersionGuard      = (*Conn)(nil)
	_ connector.MarkerIndexer     = (*Conn)(nil)
	_ connector.Deleter           = (*Conn)(nil)
	_ connector.CommentEditor     = (*Conn)(nil)
	_ connector.AttachmentDeleter = (*Conn)(nil)
)
