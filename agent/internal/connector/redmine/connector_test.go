package redmine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

func create(t *testing.T, c *Conn, project, title string, fields connector.Fields) connector.Entity {
	t.Helper()
	f := connector.Fields{"title": title}
	for k, v := range fields {
		f[k] = v
	}
	e, err := c.Create(ctx(t), project, "Bug", f, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestFields(t *testing.T) {
	t.Parallel()
	rm, project := server(t)
	c := open(t, rm, project)
	uid, _, email, name := rm.NewMember(t, project)
	var cat struct {
		IssueCategory struct{ ID int64 } `json:"issue_category"`
	}
	rm.Call(t, http.MethodPost, "/projects/"+project+"/issue_categories.json", map[string]any{"issue_category": map[string]any{"name": "Backend"}}, &cat)
	rm.Call(t, http.MethodPost, "/projects/"+project+"/versions.json", map[string]any{"version": map[string]any{"name": "v1.0"}}, nil)

	s, err := c.Schema(ctx(t), project)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]connector.FieldSchema{}
	for _, f := range s.Fields {
		byName[f.Name] = f
	}
	for name, want := range map[string]string{
		"title": connector.TypeString, "description": connector.TypeText, "status": connector.TypeEnum, "priority": connector.TypeEnum,
		"assignee": connector.TypeUser, "category": connector.TypeEnum, "targetVersion": connector.TypeEnum, "startDate": connector.TypeDate,
		"dueDate": connector.TypeDate, "doneRatio": connector.TypeNumber, "estimatedHours": connector.TypeNumber, "private": connector.TypeBool,
		"cf:External ID": connector.TypeString,
	} {
		if byName[name].Type != want {
			t.Errorf("schema field %s = %+v, want type %s", name, byName[name], want)
		}
	}
	if !slices.Contains(byName["status"].Values, "Closed") || !slices.Contains(byName["priority"].Values, "Urgent") ||
		!reflect.DeepEqual(byName["category"].Values, []string{"Backend"}) || !reflect.DeepEqual(byName["targetVersion"].Values, []string{"v1.0"}) {
		t.Errorf("enum values: status %v priority %v category %v version %v", byName["status"].Values, byName["priority"].Values,
			byName["category"].Values, byName["targetVersion"].Values)
	}
	if !slices.Equal(s.EntityTypes, []string{"Bug", "Feature", "Support"}) || !slices.Equal(s.LinkTypes, LinkTypes) {
		t.Errorf("types %v, link types %v", s.EntityTypes, s.LinkTypes)
	}
	if !slices.ContainsFunc(s.Users, func(u connector.User) bool { return u.Email == email && u.Name == name }) {
		t.Errorf("users %+v lack the member %s", s.Users, email)
	}

	all := connector.Fields{
		"title": "Every field", "description": "# Heading\n\nSome **bold** text.", "status": "In Progress", "priority": "urgent",
		"assignee": connector.User{Email: email}, "category": "Backend", "targetVersion": "v1.0", "startDate": "2026-03-01",
		"dueDate": "2026-03-31T12:00:00Z", "doneRatio": float64(30), "estimatedHours": 2.5, "private": true, "cf:External ID": "EXT-7",
	}
	e, err := c.Create(ctx(t), project, "Feature", all, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	want := connector.Fields{
		"title": "Every field", "description": "# Heading\n\nSome **bold** text.", "status": "In Progress", "priority": "Urgent",
		"assignee": connector.User{ID: fmt.Sprint(uid), Email: email, Name: name}, "category": "Backend", "targetVersion": "v1.0",
		"startDate": "2026-03-01", "dueDate": "2026-03-31", "doneRatio": float64(30), "estimatedHours": 2.5, "private": true,
		"cf:External ID": "EXT-7",
	}
	got, err := c.Get(ctx(t), e.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != "Feature" || got.Key != "#"+got.ID || !strings.HasSuffix(got.URL, "/issues/"+got.ID) {
		t.Errorf("entity %+v", got)
	}
	for k, v := range want {
		if !reflect.DeepEqual(got.Fields[k], v) {
			t.Errorf("field %s = %#v, want %#v", k, got.Fields[k], v)
		}
	}
	if a, ok := got.Fields["author"].(connector.User); !ok || a.ID == "" {
		t.Errorf("author %#v", got.Fields["author"])
	}

	// nil clears every clearable field.
	cleared, err := c.Update(ctx(t), e.Ref, connector.Fields{"assignee": nil, "category": nil, "targetVersion": nil, "startDate": nil,
		"dueDate": nil, "estimatedHours": nil, "description": nil, "cf:External ID": nil, "private": false, "status": "Closed"}, got.Version)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"assignee", "category", "targetVersion", "startDate", "dueDate", "estimatedHours", "cf:External ID"} {
		if cleared.Fields[k] != nil {
			t.Errorf("field %s = %#v after clearing", k, cleared.Fields[k])
		}
	}
	if cleared.Fields["description"] != "" || cleared.Fields["private"] != false || cleared.Fields["status"] != "Closed" {
		t.Errorf("fields after update %+v", cleared.Fields)
	}
	// A closed issue is still listed by Changes (status_id=*).
	page, err := c.Changes(ctx(t), project, cleared.UpdatedAt, "")
	if err != nil || !slices.ContainsFunc(page.Entities, func(x connector.Entity) bool { return x.ID == e.ID }) {
		t.Errorf("Changes after closing = %+v, %v", page, err)
	}

	// The user can be named by id, by name, or as the engine's plain id.
	for _, who := range []any{connector.User{ID: fmt.Sprint(uid)}, connector.User{Name: name}, map[string]any{"email": email}} {
		u, err := c.Update(ctx(t), e.Ref, connector.Fields{"assignee": who}, "")
		if err != nil {
			t.Fatal(err)
		}
		if a, _ := u.Fields["assignee"].(connector.User); a.ID != fmt.Sprint(uid) {
			t.Errorf("assignee by %#v = %#v", who, u.Fields["assignee"])
		}
	}
	for field, bad := range map[string]any{"status": "Nope", "priority": 3.0, "category": "Frontend", "startDate": "March", "author": "x", "nofield": "x", "cf:Nope": "x"} {
		if _, err := c.Update(ctx(t), e.Ref, connector.Fields{field: bad}, ""); !errors.Is(err, connector.ErrInvalid) {
			t.Errorf("update %s = %#v: %v, want ErrInvalid", field, bad, err)
		}
	}
}

func TestMarkerInDescription(t *testing.T) {
	t.Parallel()
	rm, project := server(t)
	c := open(t, rm, project)
	m1 := connector.Marker{System: "jira-1", Key: "KEY-1", URL: "https://jira.example/browse/KEY-1"}
	m10 := connector.Marker{System: "jira-1", Key: "KEY-10"}
	e1, err := c.Create(ctx(t), project, "", connector.Fields{"title": "one", "description": "Body of one."}, m1)
	if err != nil {
		t.Fatal(err)
	}
	e10, err := c.Create(ctx(t), project, "", connector.Fields{"title": "ten"}, m10)
	if err != nil {
		t.Fatal(err)
	}
	if e1.Fields["description"] != "Body of one." || e10.Fields["description"] != "" {
		t.Fatalf("the marker shows in the description: %q, %q", e1.Fields["description"], e10.Fields["description"])
	}
	// Writing the description keeps the marker.
	if _, err := c.Update(ctx(t), e1.Ref, connector.Fields{"description": "New body.\r\nSecond line."}, ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		m    connector.Marker
		want []string
	}{{m1, []string{e1.ID}}, {m10, []string{e10.ID}}, {connector.Marker{System: "jira-1", Key: "KEY"}, nil}, {connector.Marker{System: "other", Key: "KEY-1"}, nil}} {
		found, err := c.FindByMarker(ctx(t), project, tc.m)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, f := range found {
			ids = append(ids, f.ID)
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("FindByMarker(%+v) = %v, want %v", tc.m, ids, tc.want)
		}
	}
	got, err := c.Get(ctx(t), e1.Ref)
	if err != nil || got.Fields["description"] != "New body.\nSecond line." {
		t.Fatalf("description %q, %v", got.Fields["description"], err)
	}
	var raw struct {
		Issue struct{ Description string } `json:"issue"`
	}
	rm.Call(t, http.MethodGet, "/issues/"+e1.ID+".json", nil, &raw)
	if !strings.Contains(raw.Issue.Description, "<!-- lockstep:jira-1:KEY-1 -->") {
		t.Fatalf("stored description %q lacks the marker", raw.Issue.Description)
	}
}

func TestComments(t *testing.T) {
	t.Parallel()
	rm, project := server(t)
	c := open(t, rm, project)
	e := create(t, c, project, "with notes", nil)
	// A field change (a journal without notes) and a private note are not comments.
	if _, err := c.Update(ctx(t), e.Ref, connector.Fields{"priority": "High"}, ""); err != nil {
		t.Fatal(err)
	}
	rm.Call(t, http.MethodPut, "/issues/"+e.ID+".json", map[string]any{"issue": map[string]any{"notes": "internal only", "private_notes": true}}, nil)
	rm.Call(t, http.MethodPut, "/issues/"+e.ID+".json", map[string]any{"issue": map[string]any{"notes": "From *Redmine*\r\nline two"}}, nil)
	added, err := c.AddComment(ctx(t), e.Ref, connector.NewComment{Body: "From **Lockstep**", Marker: "lockstep:comment:42"})
	if err != nil {
		t.Fatal(err)
	}
	if added.ID == "" || added.Body != "From **Lockstep**" || added.Marker != "lockstep:comment:42" || added.Author.ID == "" || added.CreatedAt.IsZero() {
		t.Fatalf("added %+v", added)
	}
	list, err := c.Comments(ctx(t), e.Ref)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, cm := range list {
		bodies = append(bodies, cm.Body)
	}
	if !slices.Equal(bodies, []string{"From *Redmine*\nline two", added.Body}) || list[1].ID != added.ID {
		t.Fatalf("comments %q", bodies)
	}
	// Adding a note dates the issue, so polling sees it.
	page, err := c.Changes(ctx(t), project, added.CreatedAt, "")
	if err != nil || !slices.ContainsFunc(page.Entities, func(x connector.Entity) bool { return x.ID == e.ID }) {
		t.Fatalf("Changes after a comment = %+v, %v", page, err)
	}
}

func TestAttachments(t *testing.T) {
	t.Parallel()
	rm, project := server(t)
	c := open(t, rm, project)
	e := create(t, c, project, "with files", nil)
	// Up through the connector, binary and with a name that needs escaping.
	content := bytes.Repeat([]byte{0, 1, 2, 0xff, 'x'}, 1000)
	a, err := c.Upload(ctx(t), e.Ref, "data file #1.bin", "application/x-test", int64(len(content)), bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "data file #1.bin" || a.Size != int64(len(content)) || a.ContentType != "application/x-test" {
		t.Fatalf("uploaded %+v", a)
	}
	// Of unknown size, and empty.
	if _, err := c.Upload(ctx(t), e.Ref, "unknown.txt", "", -1, io.MultiReader(strings.NewReader("streamed "), strings.NewReader("text"))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upload(ctx(t), e.Ref, "empty.txt", "text/plain", 0, strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	// Down: a file a person attached in Redmine.
	req, _ := http.NewRequest(http.MethodPost, rm.URL+"/uploads.json?filename=notes.txt", strings.NewReader("attached in Redmine\n"))
	req.Header.Set("X-Redmine-API-Key", rm.APIKey)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up wireUpload
	if err := jsonDecode(resp.Body, &up); err != nil {
		t.Fatal(err)
	}
	rm.Call(t, http.MethodPut, "/issues/"+e.ID+".json", map[string]any{"issue": map[string]any{"uploads": []map[string]any{
		{"token": up.Upload.Token, "filename": "notes.txt", "content_type": "text/plain"}}}}, nil)

	list, err := c.Attachments(ctx(t), e.Ref)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]connector.Attachment{}
	for _, x := range list {
		byName[x.Name] = x
	}
	for name, want := range map[string]string{"data file #1.bin": string(content), "unknown.txt": "streamed text", "empty.txt": "", "notes.txt": "attached in Redmine\n"} {
		x, ok := byName[name]
		if !ok {
			t.Fatalf("attachments %+v lack %s", list, name)
		}
		rc, err := c.Download(ctx(t), e.Ref, x)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(got) != want || x.Size != int64(len(want)) {
			t.Errorf("%s: downloaded %d bytes (size %d), want %d: %v", name, len(got), x.Size, len(want), err)
		}
	}
	if _, err := c.Download(ctx(t), e.Ref, connector.Attachment{ID: "999999999"}); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("download of a missing attachment: %v", err)
	}
}

func TestRelationTypes(t *testing.T) {
	t.Parallel()
	rm, project := server(t)
	c := open(t, rm, project)
	for _, typ := range LinkTypes {
		a := create(t, c, project, "from "+typ, nil)
		b := create(t, c, project, "to "+typ, nil)
		if err := c.AddLink(ctx(t), a.Ref, connector.Link{Type: typ, Target: b.Ref}); err != nil {
			t.Fatal(err)
		}
		// Adding it again is not an error and does not duplicate it.
		if err := c.AddLink(ctx(t), a.Ref, connector.Link{Type: typ, Target: b.Ref}); err != nil {
			t.Fatalf("%s again: %v", typ, err)
		}
		la, err := c.Links(ctx(t), a.Ref)
		if err != nil {
			t.Fatal(err)
		}
		lb, err := c.Links(ctx(t), b.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(la, []connector.Link{{Type: typ, Target: b.Ref}}) || !reflect.DeepEqual(lb, []connector.Link{{Type: inverse[typ], Target: a.Ref}}) {
			t.Errorf("%s: links of a %+v, of b %+v", typ, la, lb)
		}
		// Removing from the other side, by the inverse type, removes it.
		if err := c.RemoveLink(ctx(t), b.Ref, connector.Link{Type: inverse[typ], Target: a.Ref}); err != nil {
			t.Fatal(err)
		}
		if err := c.RemoveLink(ctx(t), b.Ref, connector.Link{Type: inverse[typ], Target: a.Ref}); err != nil {
			t.Fatalf("removing a removed %s: %v", typ, err)
		}
		if la, err := c.Links(ctx(t), a.Ref); err != nil || len(la) != 0 {
			t.Errorf("%s after removal: %+v, %v", typ, la, err)
		}
	}
	a := create(t, c, project, "bad link", nil)
	if err := c.AddLink(ctx(t), a.Ref, connector.Link{Type: "parent", Target: a.Ref}); !errors.Is(err, connector.ErrInvalid) {
		t.Errorf("unknown type: %v", err)
	}
	if err := c.AddLink(ctx(t), a.Ref, connector.Link{Type: "relates", Target: a.Ref}); !errors.Is(err, connector.ErrInvalid) ||
		!strings.Contains(err.Error(), "Related issue") {
		t.Errorf("self relation: %v, want ErrInvalid with Redmine's reason", err)
	}
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	rm, project := server(t)
	c := open(t, rm, project)
	clock := time.Now()
	c.now = func() time.Time { return clock }
	a := create(t, c, project, "a", nil)
	b := create(t, c, project, "b", nil)
	idle := create(t, c, project, "untouched", nil)
	withFile := create(t, c, project, "with a file", nil)
	att, err := c.Upload(ctx(t), withFile.Ref, "gone.txt", "text/plain", 4, strings.NewReader("gone"))
	if err != nil {
		t.Fatal(err)
	}
	withFile, err = c.Get(ctx(t), withFile.Ref)
	if err != nil {
		t.Fatal(err)
	}
	// Later than every issue here: Redmine's ">=" reaches one second back.
	since := withFile.UpdatedAt.Add(2 * time.Second)
	ids := func(p connector.Page) []string {
		var out []string
		for _, e := range p.Entities {
			out = append(out, e.ID)
		}
		slices.Sort(out)
		return out
	}
	changes := func() connector.Page {
		t.Helper()
		p, err := c.Changes(ctx(t), project, since, "")
		if err != nil {
			t.Fatal(err)
		}
		if p.Cursor != "" {
			t.Fatalf("unexpected second page: %+v", p)
		}
		return p
	}
	// First walk after opening: nothing to compare with, so every older
	// issue is reported once.
	if got := ids(changes()); len(got) != 4 {
		t.Fatalf("first walk reported %v, want all 4 issues", got)
	}
	clock = clock.Add(c.reconcileEvery + time.Second) // the first walk's flags expire, a walk is due
	if got := ids(changes()); len(got) != 0 {
		t.Fatalf("an unchanged project reported %v", got)
	}
	before, err := c.Get(ctx(t), a.Ref)
	if err != nil {
		t.Fatal(err)
	}
	// Changes Redmine does not date: a relation, an attachment deletion.
	if err := c.AddLink(ctx(t), a.Ref, connector.Link{Type: "relates", Target: b.Ref}); err != nil {
		t.Fatal(err)
	}
	rm.Call(t, http.MethodDelete, "/attachments/"+att.ID+".json", nil, nil)
	after, err := c.Get(ctx(t), a.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if !after.UpdatedAt.Equal(before.UpdatedAt) || after.Version == before.Version {
		t.Fatalf("a relation: updated %v -> %v, version %s -> %s; want the same date and a new version", before.UpdatedAt, after.UpdatedAt, before.Version, after.Version)
	}
	if got := ids(changes()); len(got) != 0 {
		t.Fatalf("reported %v before the reconcile interval passed", got)
	}
	clock = clock.Add(c.reconcileEvery)
	want := []string{a.ID, b.ID, withFile.ID}
	slices.Sort(want)
	p := changes()
	if got := ids(p); !slices.Equal(got, want) || slices.Contains(got, idle.ID) {
		t.Fatalf("reconcile reported %v, want %v", got, want)
	}
	for i, e := range p.Entities {
		if i > 0 && e.UpdatedAt.Before(p.Entities[i-1].UpdatedAt) {
			t.Fatal("reconciled issues not ascending")
		}
		if e.ID == a.ID && e.Version != after.Version {
			t.Fatalf("reconciled entity is stale: version %s, want %s", e.Version, after.Version)
		}
	}
	// Another process polling within the interval sees them too.
	if got := ids(changes()); !slices.Equal(got, want) {
		t.Fatalf("second poller got %v, want %v", got, want)
	}
}

func TestPaging(t *testing.T) {
	t.Parallel()
	rm, project := server(t)
	c := open(t, rm, project)
	c.pageSize = 5
	var made []string
	for i := range 12 {
		made = append(made, create(t, c, project, fmt.Sprintf("page %02d", i), nil).ID)
	}
	// An issue read on the first page changes while paging: it moves to
	// the end, and no other issue may be skipped.
	pages := contracttest.CheckPaging(t, ctx(t), c, contracttest.Paging{Project: project, Made: made, MinPages: 3, Touch: func(id string) {
		if _, err := c.Update(ctx(t), connector.Ref{ID: id}, connector.Fields{"priority": "High"}, ""); err != nil {
			t.Fatal(err)
		}
	}})
	for _, p := range pages {
		if len(p.Entities) > c.pageSize {
			t.Fatalf("page of %d", len(p.Entities))
		}
	}
	if _, err := c.Changes(ctx(t), project, time.Time{}, "not-a-cursor"); !errors.Is(err, connector.ErrInvalid) {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	rm, project := server(t)
	c := open(t, rm, project)
	_, err := c.Create(ctx(t), project, "", connector.Fields{"title": ""}, connector.Marker{})
	if !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), "Subject cannot be blank") {
		t.Errorf("blank subject: %v, want ErrInvalid with Redmine's message", err)
	}
	if _, err := c.Create(ctx(t), project, "Epic", connector.Fields{"title": "x"}, connector.Marker{}); !errors.Is(err, connector.ErrInvalid) {
		t.Errorf("unknown tracker: %v", err)
	}
	if _, err := c.Schema(ctx(t), "no-such-project"); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("missing project: %v", err)
	}
	if _, err := c.Get(ctx(t), connector.Ref{Key: "#999999998"}); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("missing issue by key: %v", err)
	}

	const badKey = "0123456789abcdef0123456789abcdef01234567"
	bad, err := Open(connector.Config{ID: "bad", Name: "Redmine", Kind: Kind, URL: rm.URL, Settings: map[string]any{"project": project},
		Secrets: map[string]secret.Secret{"apiKey": secret.New(badKey)}}, connector.Env{})
	if err != nil {
		t.Fatal(err)
	}
	_, verr := bad.Validate(ctx(t))
	_, cerr := bad.Create(ctx(t), project, "", connector.Fields{"title": "x"}, connector.Marker{})
	for _, err := range []error{verr, cerr} {
		if !errors.Is(err, connector.ErrUnauthorized) || strings.Contains(err.Error(), badKey) {
			t.Errorf("bad key: %v, want ErrUnauthorized without the key", err)
		}
	}
	if _, err := Open(connector.Config{Name: "Redmine", Kind: Kind, URL: rm.URL}, connector.Env{}); !errors.Is(err, connector.ErrUnauthorized) {
		t.Errorf("no key: %v", err)
	}

	spec, _ := connector.Lookup(Kind)
	msg, err := spec.Test(ctx(t), config(t, rm, project))
	if err != nil || !strings.Contains(msg, "administrator") || !strings.Contains(msg, project) {
		t.Errorf("Test = %q, %v", msg, err)
	}
	if _, err := spec.Test(ctx(t), config(t, rm, "no-such-project")); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("Test of a missing project: %v", err)
	}
	if _, err := spec.Test(ctx(t), config(t, rm, project, "markerField", "No Such Field")); !errors.Is(err, connector.ErrInvalid) {
		t.Errorf("Test with a missing marker field: %v", err)
	}
}

func TestRegistered(t *testing.T) {
	spec, ok := connector.Lookup(Kind)
	if !ok || spec.Open == nil || spec.Test == nil {
		t.Fatalf("spec %+v", spec)
	}
	f, ok := spec.Field("apiKey")
	if !ok || !f.Secret || !f.Required {
		t.Fatalf("apiKey field %+v", f)
	}
}

// TestNonAdminKey runs with a project member's key: custom field
// definitions and the user list are for administrators, so the connector
// falls back to what issues and memberships show.
func TestNonAdminKey(t *testing.T) {
	t.Parallel()
	rm, project := server(t)
	admin := open(t, rm, project)
	seed := create(t, admin, project, "seed", connector.Fields{"cf:External ID": "EXT-1"})
	uid, _, _, name := rm.NewMember(t, project)
	var u struct {
		User struct {
			APIKey string `json:"api_key"`
		} `json:"user"`
	}
	rm.Call(t, http.MethodGet, fmt.Sprintf("/users/%d.json", uid), nil, &u)
	if u.User.APIKey == "" {
		t.Fatal("Redmine gave the admin no api_key of the member")
	}
	member := rm
	member.APIKey = u.User.APIKey
	c := open(t, member, project)
	msg, err := c.Validate(ctx(t))
	if err != nil || strings.Contains(msg, "administrator") {
		t.Fatalf("Validate = %q, %v", msg, err)
	}
	s, err := c.Schema(ctx(t), project)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(s.Fields, func(f connector.FieldSchema) bool {
		return f.Name == "cf:External ID" && f.Type == connector.TypeString
	}) {
		t.Errorf("schema fields %+v lack the custom field seen on issues", s.Fields)
	}
	if !slices.ContainsFunc(s.Users, func(x connector.User) bool { return x.ID == fmt.Sprint(uid) && x.Name == name }) {
		t.Errorf("users %+v lack the member", s.Users)
	}
	e, err := c.Update(ctx(t), seed.Ref, connector.Fields{"cf:External ID": "EXT-2", "assignee": connector.User{Name: name}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if e.Fields["cf:External ID"] != "EXT-2" {
		t.Errorf("custom field written by a member: %#v", e.Fields["cf:External ID"])
	}
	if a, _ := e.Fields["assignee"].(connector.User); a.ID != fmt.Sprint(uid) {
		t.Errorf("assignee %#v", e.Fields["assignee"])
	}
}
