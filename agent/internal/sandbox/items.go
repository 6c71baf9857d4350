package sandbox

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Limits of item fields.
const (
	maxTitle       = 255
	maxDescription = 256 << 10
	maxLabels      = 50
	maxLabel       = 100
	maxPageSize    = 100
	defaultPage    = 50
)

// CreateItem adds an item together with its remote links.
func (s *Store) CreateItem(n NewItem) (Item, error) {
	s.mu.Lock()
	p, ok := s.projects[n.Project]
	if !ok {
		s.mu.Unlock()
		return Item{}, invalid("project", "project %q not found", n.Project)
	}
	it := &item{Item: Item{Project: p.Key, Type: n.Type, Status: n.Status, Priority: n.Priority, Labels: []string{}, CustomFields: map[string]any{}}}
	if it.Status == "" {
		it.Status = p.Statuses[0]
	}
	if it.Priority == "" {
		it.Priority = DefaultPriority
	}
	patch := Patch{Type: &n.Type, Title: &n.Title, Description: &n.Description, Status: &it.Status, Priority: &it.Priority,
		Assignee: &n.Assignee, DueDate: &n.DueDate, CustomFields: n.CustomFields}
	if n.Labels != nil {
		patch.Labels = &n.Labels
	}
	if err := s.apply(p, it, patch); err != nil {
		s.mu.Unlock()
		return Item{}, err
	}
	if strings.TrimSpace(it.Title) == "" {
		s.mu.Unlock()
		return Item{}, invalid("title", "is required")
	}
	for i, rl := range n.RemoteLinks {
		if err := checkRemoteLink(rl); err != nil {
			err.Field = fmt.Sprintf("remoteLinks[%d].%s", i, err.Field)
			s.mu.Unlock()
			return Item{}, err
		}
	}
	s.seq.Item++
	p.counter++
	it.ID = s.seq.Item
	it.Key = fmt.Sprintf("%s-%d", p.Key, p.counter)
	it.Created = s.tick()
	it.Updated = it.Created
	it.Version = 1
	for _, rl := range n.RemoteLinks {
		s.seq.Remote++
		rl.ID, rl.Created = s.seq.Remote, it.Created
		it.remote = upsertRemote(it.remote, rl)
	}
	s.items[it.ID] = it
	s.keys[it.Key] = it.ID
	p.order = append(p.order, it)
	out := it.Item.clone()
	s.mu.Unlock()
	s.commit([]change{{event: "item.created", ref: ItemRef{ID: out.ID, Key: out.Key, Project: out.Project}, time: out.Created}})
	return out, nil
}

// GetItem returns an item by numeric id or key (HELP-3).
func (s *Store) GetItem(idOrKey string) (Item, error) {
	return s.getItem(idOrKey, false)
}

// getItem returns an item, with its remote links when asked.
func (s *Store) getItem(idOrKey string, remote bool) (Item, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		return Item{}, err
	}
	out := it.Item.clone()
	if remote {
		out.RemoteLinks = slices.Clone(it.remote)
	}
	return out, nil
}

// lookup finds an item; callers hold a lock.
func (s *Store) lookup(idOrKey string) (*item, error) {
	if id, err := strconv.ParseInt(idOrKey, 10, 64); err == nil {
		if it, ok := s.items[id]; ok {
			return it, nil
		}
	} else if id, ok := s.keys[strings.ToUpper(idOrKey)]; ok {
		return s.items[id], nil
	}
	return nil, notFound("item %s not found", idOrKey)
}

// UpdateItem applies a patch. ifVersion, when > 0, must equal the item's
// version or the update is refused with a conflict. A patch that changes
// nothing leaves the item (and its version) as it was.
func (s *Store) UpdateItem(idOrKey string, patch Patch, ifVersion int64) (Item, error) {
	s.mu.Lock()
	it, err := s.lookup(idOrKey)
	if err != nil {
		s.mu.Unlock()
		return Item{}, err
	}
	if ifVersion > 0 && ifVersion != it.Version {
		s.mu.Unlock()
		return Item{}, conflict("item %s is at version %d, not %d", it.Key, it.Version, ifVersion)
	}
	next := &item{Item: it.Item.clone()}
	if err := s.apply(s.projects[it.Project], next, patch); err != nil {
		s.mu.Unlock()
		return Item{}, err
	}
	var ch []change
	if !sameFields(it.Item, next.Item) {
		it.Item = next.Item // still carries the old Updated, which touch needs to find it
		ch = append(ch, s.touch(it, "item.updated"))
	}
	out := it.Item.clone()
	s.mu.Unlock()
	s.commit(ch)
	return out, nil
}

// apply validates and writes a patch into it; callers hold the write lock.
func (s *Store) apply(p *projectState, it *item, patch Patch) *Error {
	if patch.Type != nil {
		if !slices.Contains(p.Types, *patch.Type) {
			return invalid("type", "must be one of %s", strings.Join(p.Types, ", "))
		}
		it.Type = *patch.Type
	}
	if patch.Title != nil {
		t := strings.TrimSpace(*patch.Title)
		if t == "" || len(t) > maxTitle || strings.ContainsAny(t, "\r\n") {
			return invalid("title", "must be one line of 1-%d characters", maxTitle)
		}
		it.Title = t
	}
	if patch.Description != nil {
		if len(*patch.Description) > maxDescription {
			return invalid("description", "is longer than %d bytes", maxDescription)
		}
		it.Description = *patch.Description
	}
	if patch.Status != nil {
		if !slices.Contains(p.Statuses, *patch.Status) {
			return invalid("status", "must be one of %s", strings.Join(p.Statuses, ", "))
		}
		it.Status = *patch.Status
	}
	if patch.Priority != nil {
		if !slices.Contains(Priorities, *patch.Priority) {
			return invalid("priority", "must be one of %s", strings.Join(Priorities, ", "))
		}
		it.Priority = *patch.Priority
	}
	if patch.Assignee != nil {
		if _, ok := s.users[*patch.Assignee]; !ok && *patch.Assignee != "" {
			return invalid("assignee", "user %q not found", *patch.Assignee)
		}
		it.Assignee = *patch.Assignee
	}
	if patch.Labels != nil {
		labels, err := cleanLabels(*patch.Labels)
		if err != nil {
			return err
		}
		it.Labels = labels
	}
	if patch.DueDate != nil {
		if d := *patch.DueDate; d != "" {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				return invalid("dueDate", "must be a date YYYY-MM-DD")
			}
		}
		it.DueDate = *patch.DueDate
	}
	for name, v := range patch.CustomFields {
		def, ok := findField(p.CustomFields, name)
		if !ok {
			return invalid("customFields."+name, "is not a field of project %s", p.Key)
		}
		if v == nil {
			delete(it.CustomFields, name)
			continue
		}
		norm, err := checkCustom(def, v)
		if err != nil {
			return err
		}
		it.CustomFields[name] = norm
	}
	return nil
}

func findField(defs []FieldDef, name string) (FieldDef, bool) {
	for _, d := range defs {
		if d.Name == name {
			return d, true
		}
	}
	return FieldDef{}, false
}

// checkCustom validates a custom value and normalises numbers to float64,
// the type JSON gives back, so Go callers and HTTP clients see the same.
func checkCustom(def FieldDef, v any) (any, *Error) {
	field := "customFields." + def.Name
	switch def.Type {
	case FieldNumber:
		var f float64
		switch n := v.(type) {
		case float64:
			f = n
		case float32:
			f = float64(n)
		case int:
			f = float64(n)
		case int64:
			f = float64(n)
		default:
			return nil, invalid(field, "must be a number")
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, invalid(field, "must be a finite number")
		}
		return f, nil
	case FieldBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, invalid(field, "must be true or false")
	case FieldEnum:
		if str, ok := v.(string); ok && slices.Contains(def.Values, str) {
			return str, nil
		}
		return nil, invalid(field, "must be one of %s", strings.Join(def.Values, ", "))
	default:
		str, ok := v.(string)
		if !ok {
			return nil, invalid(field, "must be text")
		}
		if len(str) > 4096 {
			return nil, invalid(field, "is longer than 4096 bytes")
		}
		return str, nil
	}
}

// cleanLabels validates labels and drops duplicates, keeping first-seen
// order (the order a user typed them in).
func cleanLabels(in []string) ([]string, *Error) {
	if len(in) > maxLabels {
		return nil, invalid("labels", "more than %d labels", maxLabels)
	}
	out := make([]string, 0, len(in))
	for _, l := range in {
		if l == "" || len(l) > maxLabel || strings.IndexFunc(l, unicode.IsSpace) >= 0 {
			return nil, invalid("labels", "label %q must be 1-%d characters without spaces", l, maxLabel)
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, nil
}

func sameFields(a, b Item) bool {
	if a.Type != b.Type || a.Title != b.Title || a.Description != b.Description || a.Status != b.Status ||
		a.Priority != b.Priority || a.Assignee != b.Assignee || a.DueDate != b.DueDate ||
		!slices.Equal(a.Labels, b.Labels) || len(a.CustomFields) != len(b.CustomFields) {
		return false
	}
	for k, v := range a.CustomFields {
		if w, ok := b.CustomFields[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Query selects items of a project.
type Query struct {
	Project string
	// UpdatedSince keeps items updated at or after this time.
	UpdatedSince time.Time
	// Cursor continues after the last item of the previous page.
	Cursor string
	// Limit is the page size, 1-100 (0 means 50).
	Limit int
	// RemoteLinkGlobalID, when set, finds the items carrying a remote link
	// with this globalId instead (no paging: there are few).
	RemoteLinkGlobalID string
	// RemoteLinks includes each item's remote links (expand=remoteLinks).
	RemoteLinks bool
	// IncludeDeleted adds, on the last page, the items deleted at or after
	// UpdatedSince (include_deleted=true).
	IncludeDeleted bool
}

// ItemPage is one page of items, ascending by (updated, id).
type ItemPage struct {
	Items      []Item      `json:"items"`
	Deleted    []Tombstone `json:"deleted,omitempty"`
	NextCursor string      `json:"nextCursor"` // empty on the last page
}

// ListItems pages through a project's items in update order. Items changed
// while a client pages move behind its cursor, so it sees them again later
// rather than never.
func (s *Store) ListItems(q Query) (ItemPage, error) {
	if q.Limit == 0 {
		q.Limit = defaultPage
	}
	if q.Limit < 1 || q.Limit > maxPageSize {
		return ItemPage{}, invalid("limit", "must be 1-%d", maxPageSize)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.projects[q.Project]
	if !ok {
		if q.Project == "" {
			return ItemPage{}, invalid("project", "is required")
		}
		return ItemPage{}, notFound("project %s not found", q.Project)
	}
	page := ItemPage{Items: []Item{}}
	if q.RemoteLinkGlobalID != "" {
		for _, it := range p.order {
			if slices.ContainsFunc(it.remote, func(r RemoteLink) bool { return r.GlobalID == q.RemoteLinkGlobalID }) {
				page.Items = append(page.Items, it.Item.clone())
			}
		}
		return page, nil
	}
	start := orderIndex(p.order, q.UpdatedSince.UTC(), 0)
	if q.Cursor != "" {
		t, id, err := decodeCursor(q.Cursor)
		if err != nil {
			return ItemPage{}, err
		}
		start = max(start, orderIndex(p.order, t, id+1))
	}
	end := min(len(p.order), start+q.Limit)
	for _, it := range p.order[start:end] {
		out := it.Item.clone()
		if q.RemoteLinks {
			out.RemoteLinks = slices.Clone(it.remote)
		}
		page.Items = append(page.Items, out)
	}
	if end < len(p.order) && len(page.Items) > 0 {
		last := page.Items[len(page.Items)-1]
		page.NextCursor = encodeCursor(last.Updated, last.ID)
	} else if q.IncludeDeleted {
		i := sort.Search(len(p.deleted), func(i int) bool { return !p.deleted[i].Deleted.Before(q.UpdatedSince) })
		page.Deleted = slices.Clone(p.deleted[i:])
	}
	return page, nil
}

// Cursors are opaque to clients: base64 of "<updated unix µs>.<id>".
func encodeCursor(t time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d", t.UnixMicro(), id))
}

func decodeCursor(c string) (time.Time, int64, *Error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		us, id, ok := strings.Cut(string(raw), ".")
		u, err1 := strconv.ParseInt(us, 10, 64)
		n, err2 := strconv.ParseInt(id, 10, 64)
		if ok && err1 == nil && err2 == nil {
			return time.UnixMicro(u).UTC(), n, nil
		}
	}
	return time.Time{}, 0, invalid("cursor", "is not a cursor this server issued")
}

// checkURL accepts absolute URLs (any scheme for remote links, http(s) for
// webhooks).
func checkURL(field, raw string, web bool) *Error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || len(raw) > 2048 {
		return invalid(field, "must be an absolute URL")
	}
	if web && ((u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return invalid(field, "must be an http or https URL")
	}
	return nil
}
