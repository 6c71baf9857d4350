package rt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// EntityType is RT's only entity type.
const EntityType = "ticket"

// cfPrefix starts the engine's name of a ticket custom field.
const cfPrefix = "cf:"

// ticketID is the numeric id of a reference: its id, else its key (RT
// tickets are known by number, also written "#12").
func ticketID(ref connector.Ref) (string, error) {
	id := ref.ID
	if id == "" {
		id = strings.TrimPrefix(ref.Key, "#")
	}
	if _, err := strconv.ParseUint(id, 10, 63); err != nil || id == "" {
		return "", fmt.Errorf("ticket reference %q is not a ticket number: %w", id, connector.ErrInvalid)
	}
	return id, nil
}

// readTicket reads a ticket and its version, the ETag RT derives from the
// ticket's last transaction id.
func (c *Conn) readTicket(ctx context.Context, id string) (wireTicket, string, error) {
	body, h, err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: "/ticket/" + id}, nil)
	if err != nil {
		return wireTicket{}, "", err
	}
	t, err := decodeTicket(body)
	if err != nil {
		return wireTicket{}, "", fmt.Errorf("%w: %w", connector.ErrUnavailable, err)
	}
	return t, strings.Trim(strings.TrimPrefix(h.Get("ETag"), "W/"), `"`), nil
}

// Get reads one ticket. A deleted ticket is still readable in RT, with
// status "deleted": it answers not found, as it is gone for RT's users.
// A merged ticket answers as the ticket it was merged into.
func (c *Conn) Get(ctx context.Context, ref connector.Ref) (connector.Entity, error) {
	id, err := ticketID(ref)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("get RT ticket: %w", err)
	}
	t, version, err := c.readTicket(ctx, id)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("get RT ticket %s: %w", id, err)
	}
	if isDeleted(t.Status) {
		return connector.Entity{}, fmt.Errorf("get RT ticket %s: it is deleted (status %s): %w", id, t.Status, connector.ErrNotFound)
	}
	e, err := c.entity(ctx, t, version)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("get RT ticket %s: %w", id, err)
	}
	return e, nil
}

// entity turns a ticket into the engine's view, reading what the ticket
// record lacks: the description, the queue's name, user details.
func (c *Conn) entity(ctx context.Context, t wireTicket, version string) (connector.Entity, error) {
	id := string(t.ID)
	desc, err := c.description(ctx, id)
	if err != nil {
		return connector.Entity{}, err
	}
	queue, err := c.queueName(ctx, string(t.Queue.ID))
	if err != nil {
		return connector.Entity{}, err
	}
	fields := connector.Fields{
		"title":       t.Subject,
		"description": desc,
		"status":      t.Status,
		"priority":    nil,
		"owner":       nil,
		"requestors":  []string{},
		"due":         nil,
		"queue":       queue,
	}
	if p, err := strconv.ParseFloat(string(t.Priority), 64); err == nil {
		fields["priority"] = p
	}
	if o := string(t.Owner.ID); o != "" && o != "Nobody" {
		fields["owner"] = c.user(ctx, o)
	}
	reqs := make([]string, 0, len(t.Requestor))
	for _, r := range t.Requestor {
		u := c.user(ctx, string(r.ID))
		if u.Email != "" {
			reqs = append(reqs, u.Email)
		} else {
			reqs = append(reqs, u.ID)
		}
	}
	fields["requestors"] = reqs
	if !t.Due.IsZero() {
		fields["due"] = t.Due.Format(time.RFC3339)
	}
	marker := ""
	for _, cf := range t.CustomFields {
		if cf.Name == c.markerField {
			// Bookkeeping, not a field to sync: the marker, read at no
			// extra request (see IndexesMarkers).
			if v, ok := cfValue(cf.Values, false).(string); ok && strings.HasPrefix(v, connector.MarkerPrefix) {
				marker = v
			}
			continue
		}
		multi, err := c.cfMulti(ctx, string(cf.ID))
		if err != nil {
			return connector.Entity{}, err
		}
		fields[cfPrefix+cf.Name] = cfValue(cf.Values, multi)
	}
	return connector.Entity{
		Ref:       connector.Ref{ID: id, Key: id},
		Type:      EntityType,
		Title:     t.Subject,
		URL:       c.web + "/Ticket/Display.html?id=" + id,
		Version:   version,
		CreatedAt: t.Created.Time,
		UpdatedAt: t.LastUpdated.Time,
		Fields:    fields,
		Marker:    marker,
	}, nil
}

// IndexesMarkers reports that Changes and Get fill Entity.Marker: the
// marker custom field is part of the ticket record that both read.
func (c *Conn) IndexesMarkers() bool { return true }

// isDeleted reports RT's deleted status.
func isDeleted(status string) bool { return strings.EqualFold(status, deletedStatus) }

// Delete deletes a ticket as RT's own Delete does: DELETE /ticket/:id sets
// its status to "deleted" (RT keeps the ticket; it leaves every search and
// reads as gone here). A ticket already deleted, or gone, is not an error.
// REST2 answers every refused delete with 500 and no reason (no
// DeleteTicket right, a lifecycle without the status, a ticket already
// deleted), so a failure is judged by reading the ticket again.
func (c *Conn) Delete(ctx context.Context, ref connector.Ref) error {
	id, err := ticketID(ref)
	if err != nil {
		return fmt.Errorf("delete RT ticket: %w", err)
	}
	gone := func() (bool, error) {
		t, _, err := c.readTicket(ctx, id)
		if errors.Is(err, connector.ErrNotFound) {
			return true, nil
		}
		return err == nil && isDeleted(t.Status), err
	}
	if done, err := gone(); err != nil || done {
		if err != nil {
			return fmt.Errorf("delete RT ticket %s: %w", id, err)
		}
		return nil
	}
	_, _, err = c.call(ctx, httpx.Request{Method: http.MethodDelete, Path: "/ticket/" + id}, nil)
	if err == nil {
		return nil
	}
	if !errors.Is(err, connector.ErrUnavailable) {
		return fmt.Errorf("delete RT ticket %s: %w", id, err)
	}
	done, rerr := gone()
	switch {
	case rerr != nil:
		return fmt.Errorf("delete RT ticket %s: %w", id, err)
	case done:
		return nil // deleted after all: an answer lost, or a repeat refused
	}
	return fmt.Errorf("delete RT ticket %s: RT refused (%v); the token's user needs the DeleteTicket right on the queue, and the queue's lifecycle must have the status %q: %w",
		id, err, deletedStatus, connector.ErrForbidden)
}

var (
	_ connector.MarkerIndexer = (*Conn)(nil)
	_ connector.Deleter       = (*Conn)(nil)
)

// Create makes a ticket with its marker in the marker custom field, in one
// request, so a ticket never exists without it. The description becomes
// the Create transaction's text/plain content.
func (c *Conn) Create(ctx context.Context, project, entityType string, fields connector.Fields, marker connector.Marker) (connector.Entity, error) {
	queue, err := c.scope(project)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("create RT ticket: %w", err)
	}
	if entityType != "" && entityType != EntityType {
		return connector.Entity{}, fmt.Errorf("create RT ticket in %s: entity type %q is not %q: %w", queue, entityType, EntityType, connector.ErrInvalid)
	}
	body, cfs, err := c.ticketBody(ctx, fields, false)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("create RT ticket in %s: %w", queue, err)
	}
	body["Queue"] = queue
	if d, ok := fields["description"]; ok {
		s, err := text("description", d)
		if err != nil {
			return connector.Entity{}, fmt.Errorf("create RT ticket in %s: %w", queue, err)
		}
		if s != "" {
			body["Content"], body["ContentType"] = plainContent(s), "text/plain"
		}
	}
	if marker.System != "" || marker.Key != "" {
		cfs[c.markerField] = marker.Text()
	}
	if len(cfs) > 0 {
		body["CustomFields"] = cfs
	}
	// Not idempotent: after an ambiguous failure the engine looks for the
	// marker before creating again.
	answer, _, err := c.call(ctx, httpx.Request{Method: http.MethodPost, Path: "/ticket"}, body)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("create RT ticket in %s: %w", queue, err)
	}
	var created wireCreated
	if err := decodeInto(answer, &created); err != nil || created.ID == "" {
		return connector.Entity{}, fmt.Errorf("create RT ticket in %s: the answer names no ticket: %w", queue, connector.ErrUnavailable)
	}
	e, err := c.Get(ctx, connector.Ref{ID: string(created.ID)})
	if err != nil {
		return connector.Entity{}, fmt.Errorf("create RT ticket in %s: read it back: %w", queue, err)
	}
	return e, nil
}

// Update writes fields with a PUT guarded by If-Match: RT answers 412
// (ErrConflict) when the ticket changed since version. RT answers 200 even
// for the parts it refused, listing them among its messages, so the ticket
// is read back and every written field checked.
//
// RT has no way to edit a ticket's description (the Create transaction's
// content is immutable). A changed description is written as an internal
// comment with the subject descSubject; from then on that comment's
// content is the ticket's description as this connector reads it.
func (c *Conn) Update(ctx context.Context, ref connector.Ref, fields connector.Fields, version string) (connector.Entity, error) {
	id, err := ticketID(ref)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("update RT ticket: %w", err)
	}
	body, cfs, err := c.ticketBody(ctx, fields, true)
	if err != nil {
		return connector.Entity{}, fmt.Errorf("update RT ticket %s: %w", id, err)
	}
	if len(cfs) > 0 {
		body["CustomFields"] = cfs
	}
	var desc *string
	if d, ok := fields["description"]; ok {
		s, err := text("description", d)
		if err != nil {
			return connector.Entity{}, fmt.Errorf("update RT ticket %s: %w", id, err)
		}
		s = plainContent(s)
		desc = &s
	}
	var said []string
	if len(body) > 0 || version != "" {
		req := httpx.Request{Method: http.MethodPut, Path: "/ticket/" + id, Header: http.Header{}}
		if version != "" {
			req.Header.Set("If-Match", strconv.Quote(version))
		}
		answer, _, err := c.call(ctx, req, body)
		if err != nil {
			return connector.Entity{}, fmt.Errorf("update RT ticket %s: %w", id, err)
		}
		said = messages(answer)
	}
	if desc != nil {
		current, err := c.description(ctx, id)
		if err != nil {
			return connector.Entity{}, fmt.Errorf("update RT ticket %s: %w", id, err)
		}
		if current != *desc {
			if _, err := c.postMessage(ctx, id, commentAsComment, descSubject, *desc, nil); err != nil {
				return connector.Entity{}, fmt.Errorf("update RT ticket %s: write the description: %w", id, err)
			}
		}
	}
	e, err := c.Get(ctx, connector.Ref{ID: id})
	if err != nil {
		return connector.Entity{}, fmt.Errorf("update RT ticket %s: read it back: %w", id, err)
	}
	if bad := unapplied(fields, e.Fields); len(bad) > 0 {
		// RT's messages quote values ("Priority changed from '50' to
		// '20'"): those written are hidden.
		return e, fmt.Errorf("update RT ticket %s: RT did not apply %s (it said: %s): %w",
			id, strings.Join(bad, ", "), connector.HideValues(strings.Join(said, "; "), connector.Texts(fields)), connector.ErrInvalid)
	}
	return e, nil
}

// unapplied names the written fields whose read-back value differs.
func unapplied(want, got connector.Fields) []string {
	var bad []string
	for name, v := range want {
		switch name {
		case "title", "status":
			if s, ok := v.(string); ok && got[name] != s {
				bad = append(bad, name)
			}
		case "priority":
			if n, err := number("priority", v); err == nil && n != nil && got[name] != float64(*n) {
				bad = append(bad, name)
			}
		case "owner":
			u, _ := got[name].(connector.User)
			if w := userWanted(v); w != (connector.User{}) && !sameUser(u, w) {
				bad = append(bad, name)
			}
		default:
			if strings.HasPrefix(name, cfPrefix) {
				if s, ok := v.(string); ok && s != "" && got[name] != s {
					bad = append(bad, name)
				}
			}
		}
	}
	slices.Sort(bad)
	return bad
}

func sameUser(u, w connector.User) bool {
	return (w.ID != "" && u.ID == w.ID) || (w.Email != "" && strings.EqualFold(u.Email, w.Email)) ||
		(w.Name != "" && strings.EqualFold(u.Name, w.Name))
}

// FindByMarker searches the queue for the marker custom field's value.
// Deleted tickets never match: RT leaves them out of every search.
func (c *Conn) FindByMarker(ctx context.Context, project string, marker connector.Marker) ([]connector.Entity, error) {
	queue, err := c.scope(project)
	if err != nil {
		return nil, fmt.Errorf("find RT ticket by marker: %w", err)
	}
	q := pageQuery(maxPage, 1)
	q.Set("query", "Queue = "+sqlQuote(queue)+" AND CF.{"+c.markerField+"} = "+sqlQuote(marker.Text()))
	q.Set("orderby", "id")
	var page wirePage[wireRef]
	if err := c.getJSON(ctx, "/tickets", q, &page); err != nil {
		return nil, fmt.Errorf("find RT ticket for %s in %s: %w", marker.Key, queue, err)
	}
	out := make([]connector.Entity, 0, len(page.Items))
	for _, it := range page.Items {
		e, err := c.Get(ctx, connector.Ref{ID: string(it.ID)})
		if errors.Is(err, connector.ErrNotFound) {
			continue // deleted since the search
		}
		if err != nil {
			return nil, fmt.Errorf("find RT ticket for %s in %s: %w", marker.Key, queue, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// ticketBody turns engine fields into RT's ticket JSON and custom fields.
// For an update, nil clears a field; for a create, it is left out.
func (c *Conn) ticketBody(ctx context.Context, fields connector.Fields, update bool) (map[string]any, map[string]any, error) {
	body := map[string]any{}
	cfs := map[string]any{}
	for name, v := range fields {
		var err error
		switch name {
		case "description":
			continue // the caller's: RT keeps it outside the ticket record
		case "title":
			body["Subject"], err = text(name, v)
		case "status":
			var s string
			if s, err = text(name, v); err == nil && s == "" {
				err = fmt.Errorf("field status cannot be empty: %w", connector.ErrInvalid)
			} else if err == nil && isDeleted(s) {
				// Writing it would delete the ticket: deletions follow a
				// process's deletion policy, never a value map.
				err = fmt.Errorf("field status: %q deletes the ticket in RT, which a field write never does: %w", s, connector.ErrInvalid)
			}
			body["Status"] = s
		case "priority":
			var n *int64
			if n, err = number(name, v); err == nil && n != nil {
				body["Priority"] = *n
			} else if err == nil && update {
				body["Priority"] = 0
			}
		case "owner":
			body["Owner"], err = c.ownerName(ctx, v)
		case "requestors":
			var list []string
			if list, err = labels(name, v); err == nil && (update || len(list) > 0) {
				body["Requestor"] = list
			}
		case "due":
			var d string
			if d, err = due(v); err == nil && (update || d != "") {
				body["Due"] = d
			}
		case "queue":
			err = fmt.Errorf("field queue is read-only here: a ticket stays in the queue it is synced in: %w", connector.ErrInvalid)
		default:
			cf, ok := strings.CutPrefix(name, cfPrefix)
			if !ok || cf == "" || cf == c.markerField {
				return nil, nil, fmt.Errorf("field %q is not an RT ticket field: %w", name, connector.ErrInvalid)
			}
			cfs[cf], err = cfInput(name, v)
			if !update && cfs[cf] == nil {
				delete(cfs, cf)
			}
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return body, cfs, nil
}

func text(name string, v any) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("field %s must be text, not %T: %w", name, v, connector.ErrInvalid)
}

// number reads a whole number (RT priorities are integers); nil is none.
func number(name string, v any) (*int64, error) {
	var f float64
	switch n := v.(type) {
	case nil:
		return nil, nil
	case float64:
		f = n
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case string:
		if strings.TrimSpace(n) == "" {
			return nil, nil
		}
		p, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		if err != nil {
			return nil, fmt.Errorf("field %s must be a number, not the text %s: %w", name, connector.Digest(n), connector.ErrInvalid)
		}
		f = p
	default:
		return nil, fmt.Errorf("field %s must be a number, not %T: %w", name, v, connector.ErrInvalid)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<31 {
		return nil, fmt.Errorf("field %s: value %s is out of range: %w", name, connector.Digest(f), connector.ErrInvalid)
	}
	r := int64(math.Round(f))
	return &r, nil
}

func labels(name string, v any) ([]string, error) {
	if s, ok := v.(string); ok {
		if s == "" {
			return []string{}, nil
		}
		return []string{s}, nil
	}
	return connector.TextList(name, v)
}

// due reads a date or datetime into RT's input format, in UTC; "" clears.
func due(v any) (string, error) {
	const rtFormat = "2006-01-02 15:04:05"
	switch d := v.(type) {
	case nil:
		return "", nil
	case time.Time:
		return d.UTC().Format(rtFormat), nil
	case string:
		if d == "" {
			return "", nil
		}
		if t, err := time.Parse(time.RFC3339Nano, d); err == nil {
			return t.UTC().Format(rtFormat), nil
		}
		if t, err := time.Parse(time.DateOnly, d); err == nil {
			return t.Format(rtFormat), nil
		}
		return "", fmt.Errorf("field due: value %s is not a date: %w", connector.Digest(d), connector.ErrInvalid)
	}
	return "", fmt.Errorf("field due must be a date, not %T: %w", v, connector.ErrInvalid)
}

// cfInput is a custom field value as RT takes it: text or a list of text.
func cfInput(name string, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case []string, []any:
		return labels(name, v)
	}
	return nil, fmt.Errorf("field %s must be text or a list of text, not %T: %w", name, v, connector.ErrInvalid)
}

// queueName resolves a queue id (tickets name their queue by id).
func (c *Conn) queueName(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	c.usersMu.Lock()
	name, ok := c.queueNames[id]
	c.usersMu.Unlock()
	if ok {
		return name, nil
	}
	var q wireQueue
	if err := c.getJSON(ctx, "/queue/"+url.PathEscape(id), nil, &q); err != nil {
		if errors.Is(err, connector.ErrForbidden) {
			return id, nil // the ticket is readable, its queue's record is not
		}
		return "", fmt.Errorf("read RT queue %s: %w", id, err)
	}
	c.usersMu.Lock()
	c.queueNames[id] = q.Name
	c.usersMu.Unlock()
	return q.Name, nil
}

// cfMulti reports whether a custom field takes several values.
func (c *Conn) cfMulti(ctx context.Context, id string) (bool, error) {
	c.usersMu.Lock()
	multi, ok := c.cfMultis[id]
	c.usersMu.Unlock()
	if ok {
		return multi, nil
	}
	var cf wireCustomField
	if err := c.getJSON(ctx, "/customfield/"+url.PathEscape(id), nil, &cf); err != nil {
		if errors.Is(err, connector.ErrForbidden) {
			return false, nil
		}
		return false, fmt.Errorf("read RT custom field %s: %w", id, err)
	}
	multi = string(cf.MaxValues) != "1"
	c.usersMu.Lock()
	c.cfMultis[id] = multi
	c.usersMu.Unlock()
	return multi, nil
}

// GuardsVersions: Update sends the version as If-Match, and RT refuses a
// stale one with 412 before changing anything.
func (c *Conn) GuardsVersions() bool { return true }

var _ connector.VersionGuard = (*Conn)(nil)
