package syncer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// memsys is an in-memory work system for the engine's deterministic tests:
// it pages changes, bumps versions, keeps markers, and counts what the engine
// writes. The real HTTP sandbox is tested through its connector elsewhere.
type memsys struct {
	mu       sync.Mutex
	prefix   string
	clock    *simClock
	items    map[string]*memItem
	next     int
	pageSize int
	fail     func(op string) error // fault injection
	// indexes makes Changes and Get fill Entity.Marker (MarkerIndexer);
	// off, the engine must search with FindByMarker.
	indexes bool
	// step is how far the clock moves with each change (1ms unless set):
	// more than the poll's overlap keeps each change out of the next
	// poll's re-read.
	step time.Duration
	// deleted holds when each deleted item went, for Page.Deleted.
	deleted map[string]time.Time
	// nextComment and nextAtt number comments and attachments across
	// the system, as real systems do (ids are never reused).
	nextComment, nextAtt int

	engineCreates, engineUpdates, engineComments, engineUploads, engineLinks  int
	engineDeletes, engineCommentEdits, engineCommentDeletes, engineAttDeletes int
	searches                                                                  int
}

type memItem struct {
	ent      connector.Entity
	marker   string
	comments []connector.Comment
	atts     []connector.Attachment
	blobs    map[string][]byte
	links    []connector.Link
}

// simClock is the simulation's one clock, shared by both systems and the
// engine; workers read it concurrently.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *simClock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func newMemsys(prefix string, clock *simClock) *memsys {
	return &memsys{prefix: prefix, clock: clock, items: map[string]*memItem{}, pageSize: 3, indexes: true, deleted: map[string]time.Time{}}
}

func (m *memsys) tick() time.Time {
	if m.step > 0 {
		return m.clock.advance(m.step)
	}
	return m.clock.advance(time.Millisecond)
}

func (m *memsys) touch(it *memItem) {
	it.ent.UpdatedAt = m.tick()
	v, _ := strconv.Atoi(it.ent.Version)
	it.ent.Version = strconv.Itoa(v + 1)
}

func (m *memsys) check(op string) error {
	if m.fail != nil {
		return m.fail(op)
	}
	return nil
}

func clone(e connector.Entity) connector.Entity {
	f := connector.Fields{}
	for k, v := range e.Fields {
		if l, ok := v.([]string); ok {
			v = append([]string(nil), l...)
		}
		f[k] = v
	}
	e.Fields = f
	return e
}

// userCreate makes an item as a person would.
func (m *memsys) userCreate(typ string, fields connector.Fields) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	id := strconv.Itoa(m.next)
	now := m.tick()
	e := connector.Entity{Ref: connector.Ref{ID: id, Key: m.prefix + "-" + id}, Type: typ, Title: fmt.Sprint(fields["title"]),
		Version: "1", CreatedAt: now, UpdatedAt: now, Fields: connector.Fields{}}
	for k, v := range fields {
		e.Fields[k] = v
	}
	m.items[id] = &memItem{ent: e, blobs: map[string][]byte{}}
	return id
}

func (m *memsys) userSet(id, field string, v any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items[id]
	it.ent.Fields[field] = v
	if field == "title" {
		it.ent.Title = fmt.Sprint(v)
	}
	m.touch(it)
}

func (m *memsys) userComment(id, body string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items[id]
	m.nextComment++
	it.comments = append(it.comments, connector.Comment{ID: strconv.Itoa(m.nextComment), Author: connector.User{ID: "u1", Name: "Ann"}, Body: body, CreatedAt: m.tick()})
	m.touch(it)
}

// userEditComment changes a comment's body as its author would.
func (m *memsys) userEditComment(id, cid, body string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items[id]
	for i := range it.comments {
		if it.comments[i].ID == cid {
			it.comments[i].Body, it.comments[i].UpdatedAt = body, m.tick()
		}
	}
	m.touch(it)
}

// userDeleteComment removes a comment.
func (m *memsys) userDeleteComment(id, cid string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items[id]
	it.comments = slices.DeleteFunc(it.comments, func(c connector.Comment) bool { return c.ID == cid })
	m.touch(it)
}

// userDelete deletes an item, with the links to it (as real systems do);
// Changes reports it from then on.
func (m *memsys) userDelete(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.items, id)
	m.deleted[id] = m.tick()
	for _, it := range m.items {
		n := len(it.links)
		it.links = slices.DeleteFunc(it.links, func(l connector.Link) bool { return l.Target.ID == id })
		if len(it.links) != n {
			m.touch(it)
		}
	}
}

func (m *memsys) userAttach(id, name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items[id]
	m.nextAtt++
	aid := strconv.Itoa(m.nextAtt)
	it.atts = append(it.atts, connector.Attachment{ID: aid, Name: name, Size: int64(len(data))})
	it.blobs[aid] = data
	m.touch(it)
}

func (m *memsys) userLink(id, typ, target string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items[id]
	for _, l := range it.links {
		if l.Type == typ && l.Target.ID == target {
			return // systems refuse a duplicate link
		}
	}
	it.links = append(it.links, connector.Link{Type: typ, Target: connector.Ref{ID: target}})
	m.touch(it)
}

func (m *memsys) Schema(context.Context, string) (connector.Schema, error) {
	return connector.Schema{
		EntityTypes: []string{"incident", "bug"},
		Fields: []connector.FieldSchema{
			{Name: "title", Type: connector.TypeString}, {Name: "description", Type: connector.TypeText},
			{Name: "status", Type: connector.TypeEnum, Values: []string{"new", "open", "solved", "resolved", "closed"}},
			{Name: "priority", Type: connector.TypeEnum, Values: []string{"low", "high"}},
			{Name: "labels", Type: connector.TypeLabels},
		},
		LinkTypes: []string{"blocks"},
	}, nil
}

func (m *memsys) Validate(context.Context) (string, error) { return "ok", nil }

func (m *memsys) Changes(_ context.Context, _ string, since time.Time, cursor string) (connector.Page, error) {
	if err := m.check("changes"); err != nil {
		return connector.Page{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []connector.Entity
	for _, it := range m.items {
		if !it.ent.UpdatedAt.Before(since) {
			all = append(all, m.out(it))
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].UpdatedAt.Before(all[j].UpdatedAt) })
	start, _ := strconv.Atoi(cursor)
	end := min(start+m.pageSize, len(all))
	page := connector.Page{Entities: all[start:end]}
	if end < len(all) {
		page.Cursor = strconv.Itoa(end)
	} else {
		for id, at := range m.deleted {
			if !at.Before(since) {
				page.Deleted = append(page.Deleted, connector.Ref{ID: id, Key: m.prefix + "-" + id})
			}
		}
	}
	return page, nil
}

// out is an item as the API returns it.
func (m *memsys) out(it *memItem) connector.Entity {
	e := clone(it.ent)
	if m.indexes {
		e.Marker = it.marker
	}
	return e
}

func (m *memsys) IndexesMarkers() bool { return m.indexes }

func (m *memsys) Get(_ context.Context, ref connector.Ref) (connector.Entity, error) {
	if err := m.check("get"); err != nil {
		return connector.Entity{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	id := ref.ID
	if id == "" {
		id = strings.TrimPrefix(ref.Key, m.prefix+"-")
	}
	it, ok := m.items[id]
	if !ok {
		return connector.Entity{}, connector.ErrNotFound
	}
	return m.out(it), nil
}

func (m *memsys) Create(_ context.Context, _, typ string, fields connector.Fields, mk connector.Marker) (connector.Entity, error) {
	if err := m.check("create"); err != nil {
		return connector.Entity{}, err
	}
	id := m.userCreate(typ, fields)
	m.mu.Lock()
	m.engineCreates++
	m.items[id].marker = mk.Text()
	out := m.out(m.items[id])
	m.mu.Unlock()
	if err := m.check("create-after"); err != nil { // the request landed, the answer was lost
		return connector.Entity{}, err
	}
	return out, nil
}

// GuardsVersions: Update refuses a stale version, as the engine's
// trusted-peer writes need.
func (m *memsys) GuardsVersions() bool { return true }

func (m *memsys) Update(_ context.Context, ref connector.Ref, fields connector.Fields, version string) (connector.Entity, error) {
	if err := m.check("update"); err != nil {
		return connector.Entity{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[ref.ID]
	if !ok {
		return connector.Entity{}, connector.ErrNotFound
	}
	if version != "" && version != it.ent.Version {
		return connector.Entity{}, connector.ErrConflict
	}
	for k, v := range fields {
		it.ent.Fields[k] = v
		if k == "title" {
			it.ent.Title = fmt.Sprint(v)
		}
	}
	m.touch(it)
	m.engineUpdates++
	return clone(it.ent), nil
}

func (m *memsys) FindByMarker(_ context.Context, _ string, mk connector.Marker) ([]connector.Entity, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []connector.Entity
	m.searches++
	for _, it := range m.items {
		if it.marker == mk.Text() {
			out = append(out, m.out(it))
		}
	}
	return out, nil
}

func (m *memsys) Comments(_ context.Context, ref connector.Ref) ([]connector.Comment, error) {
	if err := m.check("comments"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[ref.ID]
	if !ok {
		return nil, connector.ErrNotFound
	}
	var out []connector.Comment
	for _, c := range it.comments {
		if body, mk, ok := strings.Cut(c.Body, "\n\n<!-- lockstep:"); ok {
			c.Body, c.Marker = body, "lockstep:"+strings.TrimSuffix(mk, " -->")
		}
		out = append(out, c)
	}
	return out, nil
}

func (m *memsys) AddComment(_ context.Context, ref connector.Ref, c connector.NewComment) (connector.Comment, error) {
	if err := m.check("comment"); err != nil {
		return connector.Comment{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[ref.ID]
	if !ok {
		return connector.Comment{}, connector.ErrNotFound
	}
	m.nextComment++
	cm := connector.Comment{ID: strconv.Itoa(m.nextComment), Author: connector.User{ID: "bot"}, Body: withMarker(c), CreatedAt: m.tick()}
	it.comments = append(it.comments, cm)
	m.touch(it)
	m.engineComments++
	cm.Body, cm.Marker = c.Body, c.Marker
	return cm, nil
}

// withMarker is a comment's stored body: the marker once, in this
// system's form.
func withMarker(c connector.NewComment) string {
	if c.Marker == "" {
		return c.Body
	}
	return c.Body + "\n\n<!-- " + c.Marker + " -->"
}

func (m *memsys) UpdateComment(_ context.Context, ref connector.Ref, id string, c connector.NewComment) (connector.Comment, error) {
	if err := m.check("comment-edit"); err != nil {
		return connector.Comment{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[ref.ID]
	if !ok {
		return connector.Comment{}, connector.ErrNotFound
	}
	for i := range it.comments {
		if it.comments[i].ID == id {
			it.comments[i].Body, it.comments[i].UpdatedAt = withMarker(c), m.tick()
			m.touch(it)
			m.engineCommentEdits++
			out := it.comments[i]
			out.Body, out.Marker = c.Body, c.Marker
			return out, nil
		}
	}
	return connector.Comment{}, connector.ErrNotFound
}

func (m *memsys) DeleteComment(_ context.Context, ref connector.Ref, id string) error {
	if err := m.check("comment-delete"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[ref.ID]
	if !ok {
		return connector.ErrNotFound
	}
	n := len(it.comments)
	it.comments = slices.DeleteFunc(it.comments, func(c connector.Comment) bool { return c.ID == id })
	if len(it.comments) == n {
		return connector.ErrNotFound
	}
	m.touch(it)
	m.engineCommentDeletes++
	return nil
}

func (m *memsys) DeleteAttachment(_ context.Context, ref connector.Ref, a connector.Attachment) error {
	if err := m.check("attachment-delete"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[ref.ID]
	if !ok {
		return connector.ErrNotFound
	}
	n := len(it.atts)
	it.atts = slices.DeleteFunc(it.atts, func(x connector.Attachment) bool { return x.ID == a.ID })
	if len(it.atts) == n {
		return connector.ErrNotFound
	}
	delete(it.blobs, a.ID)
	m.touch(it)
	m.engineAttDeletes++
	return nil
}

func (m *memsys) Delete(_ context.Context, ref connector.Ref) error {
	if err := m.check("delete"); err != nil {
		return err
	}
	m.mu.Lock()
	_, ok := m.items[ref.ID]
	m.mu.Unlock()
	if !ok {
		return connector.ErrNotFound
	}
	m.userDelete(ref.ID)
	m.mu.Lock()
	m.engineDeletes++
	m.mu.Unlock()
	return nil
}

func (m *memsys) Attachments(_ context.Context, ref connector.Ref) ([]connector.Attachment, error) {
	if err := m.check("attachments"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[ref.ID]
	if !ok {
		return nil, connector.ErrNotFound
	}
	return append([]connector.Attachment(nil), it.atts...), nil
}

func (m *memsys) Download(_ context.Context, ref connector.Ref, a connector.Attachment) (io.ReadCloser, error) {
	if err := m.check("download"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return io.NopCloser(bytes.NewReader(m.items[ref.ID].blobs[a.ID])), nil
}

func (m *memsys) Upload(_ context.Context, ref connector.Ref, name, _ string, _ int64, r io.Reader) (connector.Attachment, error) {
	if err := m.check("upload"); err != nil {
		return connector.Attachment{}, err
	}
	data, _ := io.ReadAll(r)
	m.userAttach(ref.ID, name, data)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.engineUploads++
	atts := m.items[ref.ID].atts
	return atts[len(atts)-1], nil
}

func (m *memsys) Links(_ context.Context, ref connector.Ref) ([]connector.Link, error) {
	if err := m.check("links"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[ref.ID]
	if !ok {
		return nil, connector.ErrNotFound
	}
	return append([]connector.Link(nil), it.links...), nil
}

func (m *memsys) AddLink(_ context.Context, ref connector.Ref, l connector.Link) error {
	if err := m.check("link"); err != nil {
		return err
	}
	m.mu.Lock()
	_, src := m.items[ref.ID]
	_, dst := m.items[l.Target.ID]
	m.mu.Unlock()
	if !src || !dst {
		return fmt.Errorf("link %s to %s: %w", ref.ID, l.Target.ID, connector.ErrNotFound)
	}
	m.userLink(ref.ID, l.Type, l.Target.ID)
	m.mu.Lock()
	m.engineLinks++
	m.mu.Unlock()
	return nil
}

func (m *memsys) RemoveLink(_ context.Context, ref connector.Ref, l connector.Link) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items[ref.ID]
	for i, x := range it.links {
		if x.Type == l.Type && x.Target.ID == l.Target.ID {
			it.links = append(it.links[:i], it.links[i+1:]...)
			m.touch(it)
			return nil
		}
	}
	return nil
}

var _ = http.MethodGet
