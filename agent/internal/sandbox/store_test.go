package sandbox

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
)

func TestCreateItemValidation(t *testing.T) {
	s, _ := newTest(t, Options{})
	ok := NewItem{Project: "ENG", Type: "bug", Title: "Crash on save"}
	tests := []struct {
		name  string
		edit  func(n *NewItem)
		field string
	}{
		{"unknown project", func(n *NewItem) { n.Project = "NOPE" }, "project"},
		{"type not in project", func(n *NewItem) { n.Type = "incident" }, "type"},
		{"empty title", func(n *NewItem) { n.Title = "  " }, "title"},
		{"two-line title", func(n *NewItem) { n.Title = "a\nb" }, "title"},
		{"bad status", func(n *NewItem) { n.Status = "done" }, "status"},
		{"bad priority", func(n *NewItem) { n.Priority = "urgent" }, "priority"},
		{"unknown assignee", func(n *NewItem) { n.Assignee = "mallory" }, "assignee"},
		{"label with space", func(n *NewItem) { n.Labels = []string{"a b"} }, "labels"},
		{"bad due date", func(n *NewItem) { n.DueDate = "2025-02-30" }, "dueDate"},
		{"unknown custom field", func(n *NewItem) { n.CustomFields = map[string]any{"colour": "red"} }, "customFields.colour"},
		{"number field given text", func(n *NewItem) { n.CustomFields = map[string]any{"story_points": "3"} }, "customFields.story_points"},
		{"enum outside values", func(n *NewItem) { n.CustomFields = map[string]any{"component": "kernel"} }, "customFields.component"},
		{"remote link without url or id", func(n *NewItem) { n.RemoteLinks = []RemoteLink{{Title: "x"}} }, "remoteLinks[0].url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := ok
			tc.edit(&n)
			_, err := s.Store().CreateItem(n)
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalid || e.Field != tc.field {
				t.Fatalf("err = %v, want invalid %s", err, tc.field)
			}
		})
	}
	it := mustItem(t, s, NewItem{Project: "ENG", Type: "bug", Title: " Crash ", Labels: []string{"x", "y", "x"},
		CustomFields: map[string]any{"story_points": 3, "regression": true, "component": "api"}})
	if it.Key != "ENG-1" || it.Status != "open" || it.Priority != "medium" || it.Title != "Crash" || it.Version != 1 {
		t.Fatalf("defaults: %+v", it)
	}
	if !slices.Equal(it.Labels, []string{"x", "y"}) || it.CustomFields["story_points"] != 3.0 {
		t.Fatalf("labels or numbers not normalised: %+v", it)
	}
}

func TestClockStrictlyIncreases(t *testing.T) {
	clock := newClock()
	s, _ := newTest(t, Options{Now: clock.Now})
	var last time.Time
	for i := range 5 {
		if i == 3 {
			clock.Add(-time.Hour) // a clock stepping back must not reorder changes
		}
		it := mustItem(t, s, NewItem{Project: "HELP", Type: "incident", Title: "x"})
		if !it.Updated.After(last) || it.Updated.Nanosecond()%1000 != 0 {
			t.Fatalf("item %d updated %v after %v", i, it.Updated, last)
		}
		last = it.Updated
	}
}

// pageAll reads every page and returns the keys in order.
func pageAll(t *testing.T, s *Store, q Query) []string {
	t.Helper()
	var keys []string
	for range 100 {
		page, err := s.ListItems(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			keys = append(keys, it.Key)
		}
		if page.NextCursor == "" {
			return keys
		}
		q.Cursor = page.NextCursor
	}
	t.Fatal("paging does not end")
	return nil
}

func TestListItemsPaging(t *testing.T) {
	s, _ := newTest(t, Options{})
	st := s.Store()
	var items []Item
	for i := range 25 {
		items = append(items, mustItem(t, s, NewItem{Project: "HELP", Type: "incident", Title: strings.Repeat("t", i+1)}))
	}
	mustItem(t, s, NewItem{Project: "ENG", Type: "bug", Title: "other project"})
	keys := pageAll(t, st, Query{Project: "HELP", Limit: 10})
	if len(keys) != 25 || keys[0] != "HELP-1" || keys[24] != "HELP-25" {
		t.Fatalf("keys = %v", keys)
	}
	// updated_since is inclusive.
	if keys := pageAll(t, st, Query{Project: "HELP", UpdatedSince: items[20].Updated}); len(keys) != 5 || keys[0] != "HELP-21" {
		t.Fatalf("since = %v", keys)
	}
	// An item changed while a client pages moves behind the cursor: seen
	// again, never skipped.
	page, _ := st.ListItems(Query{Project: "HELP", Limit: 10})
	if _, err := st.UpdateItem("HELP-15", Patch{Status: ptr("resolved")}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateItem("HELP-2", Patch{Status: ptr("resolved")}, 0); err != nil {
		t.Fatal(err)
	}
	rest := pageAll(t, st, Query{Project: "HELP", Limit: 10, Cursor: page.NextCursor})
	if len(rest) != 16 || rest[14] != "HELP-15" || rest[15] != "HELP-2" {
		t.Fatalf("rest = %v", rest)
	}
	for _, q := range []Query{{Project: "HELP", Cursor: "garbage"}, {Project: "HELP", Limit: 101}, {}} {
		if _, err := st.ListItems(q); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: err = %v", q, err)
		}
	}
	if _, err := st.ListItems(Query{Project: "NOPE"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown project: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestUpdateItem(t *testing.T) {
	s, _ := newTest(t, Options{})
	st := s.Store()
	it := mustItem(t, s, NewItem{Project: "ENG", Type: "bug", Title: "a", CustomFields: map[string]any{"component": "ui"}})
	same, err := st.UpdateItem(it.Key, Patch{Title: ptr("a")}, 0)
	if err != nil || same.Version != 1 || !same.Updated.Equal(it.Updated) {
		t.Fatalf("no-op update changed the item: %+v %v", same, err)
	}
	up, err := st.UpdateItem(it.Key, Patch{Title: ptr("b"), Assignee: ptr("dave"), CustomFields: map[string]any{"component": nil, "regression": true}}, 1)
	if err != nil || up.Version != 2 || up.Title != "b" || up.Assignee != "dave" || up.CustomFields["component"] != nil || up.CustomFields["regression"] != true {
		t.Fatalf("update: %+v %v", up, err)
	}
	if _, err := st.UpdateItem(it.Key, Patch{Title: ptr("c")}, 1); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale version: %v", err)
	}
	if _, err := st.UpdateItem("ENG-99", Patch{}, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing item: %v", err)
	}
}

func TestLinks(t *testing.T) {
	s, _ := newTest(t, Options{})
	st := s.Store()
	a := mustItem(t, s, NewItem{Project: "HELP", Type: "incident", Title: "a"})
	b := mustItem(t, s, NewItem{Project: "ENG", Type: "bug", Title: "b"})
	l, created, err := st.AddLink(a.Key, "blocks", b.Key)
	if err != nil || !created || l.Type != "blocks" || l.Target.Key != b.Key {
		t.Fatalf("add: %+v %v %v", l, created, err)
	}
	if _, created, _ := st.AddLink(b.Key, "blocked_by", a.Key); created {
		t.Fatal("the inverse of an existing link was created again")
	}
	got, _ := st.Links(b.Key)
	if len(got) != 1 || got[0].Type != "blocked_by" || got[0].Target.Key != a.Key {
		t.Fatalf("inverse view: %+v", got)
	}
	after, _ := st.GetItem(b.Key)
	if after.Version != 2 {
		t.Fatalf("linking did not touch the target: version %d", after.Version)
	}
	if _, _, err := st.AddLink(a.Key, "relates", a.Key); !errors.Is(err, ErrInvalid) {
		t.Fatalf("self link: %v", err)
	}
	if _, _, err := st.AddLink(a.Key, "friends", b.Key); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad type: %v", err)
	}
	if err := st.RemoveLink(b.Key, 0, "blocked_by", itoa(a.ID)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Links(a.Key); len(got) != 0 {
		t.Fatalf("links after remove: %+v", got)
	}
	if err := st.RemoveLink(a.Key, 0, "blocks", b.Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove missing: %v", err)
	}
}

func TestRemoteLinks(t *testing.T) {
	s, _ := newTest(t, Options{})
	st := s.Store()
	it := mustItem(t, s, NewItem{Project: "HELP", Type: "incident", Title: "a",
		RemoteLinks: []RemoteLink{{GlobalID: "lockstep:sys1:JIRA-1", URL: "https://jira.example/browse/JIRA-1", Title: "JIRA-1"}}})
	mustItem(t, s, NewItem{Project: "HELP", Type: "incident", Title: "b"})
	page, err := st.ListItems(Query{Project: "HELP", RemoteLinkGlobalID: "lockstep:sys1:JIRA-1"})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != it.ID {
		t.Fatalf("search: %+v %v", page, err)
	}
	rl, created, err := st.PutRemoteLink(it.Key, RemoteLink{GlobalID: "lockstep:sys1:JIRA-1", URL: "https://jira.example/browse/JIRA-1", Title: "renamed"})
	if err != nil || created || rl.Title != "renamed" {
		t.Fatalf("upsert: %+v %v %v", rl, created, err)
	}
	list, _ := st.RemoteLinks(it.Key)
	if len(list) != 1 {
		t.Fatalf("upsert duplicated: %+v", list)
	}
	if err := st.DeleteRemoteLink(it.Key, rl.ID); err != nil {
		t.Fatal(err)
	}
	if page, _ := st.ListItems(Query{Project: "HELP", RemoteLinkGlobalID: "lockstep:sys1:JIRA-1"}); len(page.Items) != 0 {
		t.Fatal("deleted remote link still found")
	}
}

func TestAttachmentStorage(t *testing.T) {
	for _, mode := range []string{"memory", "directory"} {
		t.Run(mode, func(t *testing.T) {
			o := Options{MaxAttachmentBytes: 10}
			if mode == "directory" {
				o.DataFile = filepath.Join(t.TempDir(), "data.json")
			}
			s, _ := newTest(t, o)
			it := mustItem(t, s, NewItem{Project: "HELP", Type: "incident", Title: "a"})
			a, err := s.Store().AddAttachment(it.Key, "log.txt", "", "alice", strings.NewReader("0123456789"))
			if err != nil || a.Size != 10 || a.ContentType != "application/octet-stream" {
				t.Fatalf("add: %+v %v", a, err)
			}
			_, rc, err := s.Store().OpenAttachment(a.ID)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(rc)
			rc.Close()
			if string(data) != "0123456789" {
				t.Fatalf("content %q", data)
			}
			if _, err := s.Store().AddAttachment(it.Key, "big", "", "alice", strings.NewReader("0123456789X")); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("oversized: %v", err)
			}
			if list, _ := s.Store().Attachments(it.Key); len(list) != 1 {
				t.Fatalf("oversized upload was kept: %+v", list)
			}
			if mode == "directory" {
				entries, _ := os.ReadDir(o.DataFile + ".attachments")
				if len(entries) != 1 {
					t.Fatalf("attachment dir holds %d files, want 1 (no leftovers)", len(entries))
				}
			}
		})
	}
}

func TestPersistence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sandbox.json")
	o := Options{DataFile: file, Users: DemoUsers(), Projects: DemoProjects(), SaveInterval: 10 * time.Millisecond}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	st := s.Store()
	a, _ := st.CreateItem(NewItem{Project: "HELP", Type: "incident", Title: "a", RemoteLinks: []RemoteLink{{GlobalID: "g1", URL: "https://x.example"}}})
	b, _ := st.CreateItem(NewItem{Project: "ENG", Type: "bug", Title: "b"})
	if _, _, err := st.AddLink(a.Key, "relates", b.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddComment(a.Key, "alice", "hello"); err != nil {
		t.Fatal(err)
	}
	att, err := st.AddAttachment(a.Key, "x.bin", "application/x-test", "alice", bytes.NewReader([]byte{1, 2, 3}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddWebhook(Webhook{URL: "http://127.0.0.1:1/hook", Secret: "s", Project: "HELP"}); err != nil {
		t.Fatal(err)
	}
	// The debounced writer saves without waiting for Close.
	agenttest.Eventually(t, "the data file written after the changes", func() bool {
		data, err := os.ReadFile(file)
		return err == nil && bytes.Contains(data, []byte(`"x.bin"`)) && bytes.Contains(data, []byte(`/hook"`))
	})
	before, _ := st.GetItem(a.Key)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	st2 := s2.Store()
	after, err := st2.GetItem(a.Key)
	if err != nil || after.Version != before.Version || !after.Updated.Equal(before.Updated) {
		t.Fatalf("reloaded %+v, want %+v (%v)", after, before, err)
	}
	if links, _ := st2.Links(b.Key); len(links) != 1 || links[0].Target.Key != a.Key {
		t.Fatalf("links: %+v", links)
	}
	if cs, _, _ := st2.Comments(a.Key, 0, 0); len(cs) != 1 || cs[0].Body != "hello" {
		t.Fatalf("comments: %+v", cs)
	}
	_, rc, err := st2.OpenAttachment(att.ID)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(data, []byte{1, 2, 3}) {
		t.Fatalf("attachment content %v", data)
	}
	if hooks := st2.Webhooks(); len(hooks) != 1 || hooks[0].Secret != "s" {
		t.Fatalf("webhooks: %+v", hooks)
	}
	if page, _ := st2.ListItems(Query{Project: "HELP", RemoteLinkGlobalID: "g1"}); len(page.Items) != 1 {
		t.Fatal("remote link search after reload")
	}
	c, _ := st2.CreateItem(NewItem{Project: "HELP", Type: "incident", Title: "c"})
	if c.Key != "HELP-2" || c.ID != 3 || !c.Updated.After(before.Updated) {
		t.Fatalf("sequences did not survive: %+v", c)
	}
	if len(st2.Projects()) != 2 || len(st2.Users()) != len(DemoUsers()) {
		t.Fatal("seeding twice duplicated projects or users")
	}
}

func TestCorruptDataFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sandbox.json")
	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{DataFile: file}); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("err = %v", err)
	}
}
