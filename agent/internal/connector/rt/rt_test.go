package rt

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/realsys"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/rs/zerolog"
)

// The tests run against the real Request Tracker that realsys starts,
// each in a queue of its own.

type env struct {
	rt    realsys.RT
	queue string
}

func setup(t *testing.T) env {
	t.Helper()
	rs := realsys.StartRT(t)
	return env{rt: rs, queue: rs.NewQueue(t)}
}

func (e env) open(t *testing.T, settings ...any) *Conn {
	t.Helper()
	cfg := connector.Config{ID: contracttest.SystemID(t), Name: "RT test", Kind: Kind, URL: e.rt.URL,
		Settings: contracttest.Settings(t, map[string]any{"queue": e.queue}, settings...),
		Secrets:  map[string]secret.Secret{"token": secret.New(e.rt.Token)}}
	return contracttest.Open(t, Open, cfg, connector.Env{})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func create(t *testing.T, c *Conn, fields connector.Fields) connector.Entity {
	t.Helper()
	if _, ok := fields["title"]; !ok {
		fields["title"] = "ticket " + rand.Text()[:6]
	}
	e, err := c.Create(ctx(t), "", EntityType, fields, connector.Marker{System: "test", Key: rand.Text()[:10]})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestContract(t *testing.T) {
	e := setup(t)
	contracttest.RunContract(t, func(t *testing.T) (connector.Connector, string) { return e.open(t), e.queue })
}

func TestFields(t *testing.T) {
	e := setup(t)
	c := e.open(t)
	due := time.Date(2027, 3, 4, 10, 30, 0, 0, time.UTC).Format(time.RFC3339)
	created := create(t, c, connector.Fields{"title": "Printer on fire", "description": "It *burns*.\n\n- paper\n- toner",
		"status": "open", "priority": 30.0, "owner": connector.User{ID: "root"}, "requestors": []string{"alice@example.com"}, "due": due})
	got, err := c.Get(ctx(t), created.Ref)
	if err != nil {
		t.Fatal(err)
	}
	f := got.Fields
	owner, _ := f["owner"].(connector.User)
	if f["title"] != "Printer on fire" || f["description"] != "It *burns*.\n\n- paper\n- toner" || f["status"] != "open" ||
		f["priority"] != 30.0 || owner.ID != "root" || owner.Email != "root@localhost" || f["due"] != due || f["queue"] != e.queue ||
		!slices.Equal(f["requestors"].([]string), []string{"alice@example.com"}) {
		t.Fatalf("fields %#v", f)
	}
	if _, ok := f["cf:External ID"]; ok {
		t.Fatal("the marker field is bookkeeping, not a field")
	}

	upd, err := c.Update(ctx(t), got.Ref, connector.Fields{"title": "Printer fixed", "status": "resolved", "priority": 70.0,
		"owner": nil, "requestors": []any{"bob@example.com"}, "due": nil}, got.Version)
	if err != nil {
		t.Fatal(err)
	}
	f = upd.Fields
	if f["title"] != "Printer fixed" || f["status"] != "resolved" || f["priority"] != 70.0 || f["owner"] != nil || f["due"] != nil ||
		!slices.Equal(f["requestors"].([]string), []string{"bob@example.com"}) || upd.Version == got.Version {
		t.Fatalf("after update %#v (version %s, was %s)", f, upd.Version, got.Version)
	}
	if _, err := c.Update(ctx(t), got.Ref, connector.Fields{"status": "on-fire"}, ""); !errors.Is(err, connector.ErrInvalid) ||
		!strings.Contains(err.Error(), "status") {
		t.Fatalf("bad status: %v, want ErrInvalid naming the field", err)
	}
	if _, err := c.Update(ctx(t), got.Ref, connector.Fields{"queue": "General"}, ""); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("queue write: %v, want ErrInvalid", err)
	}
	if _, err := c.Update(ctx(t), got.Ref, connector.Fields{"owner": connector.User{Email: "nobody-at-all@example.invalid"}}, ""); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("unknown owner: %v, want ErrInvalid", err)
	}
	byEmail, err := c.Update(ctx(t), got.Ref, connector.Fields{"owner": connector.User{Email: "root@localhost"}}, "")
	if err != nil || byEmail.Fields["owner"].(connector.User).ID != "root" {
		t.Fatalf("owner by email: %v, %v", byEmail.Fields["owner"], err)
	}

	schema, err := c.Schema(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]string{"title": connector.TypeString, "description": connector.TypeText, "status": connector.TypeEnum,
		"priority": connector.TypeNumber, "owner": connector.TypeUser, "requestors": connector.TypeLabels, "due": connector.TypeDateTime} {
		i := slices.IndexFunc(schema.Fields, func(f connector.FieldSchema) bool { return f.Name == name })
		if i < 0 || schema.Fields[i].Type != typ {
			t.Errorf("schema field %s: %+v", name, schema.Fields)
		}
	}
	if i := slices.IndexFunc(schema.Fields, func(f connector.FieldSchema) bool { return f.Name == "status" }); !slices.Equal(schema.Fields[i].Values, defaultStatuses[:5]) {
		t.Errorf("statuses %v", schema.Fields[i].Values)
	}
	if !slices.ContainsFunc(schema.Users, func(u connector.User) bool { return u.ID == "root" && u.Email == "root@localhost" }) {
		t.Errorf("users %+v", schema.Users)
	}
	if !slices.Equal(schema.LinkTypes, linkTypes) || !slices.Equal(schema.EntityTypes, []string{EntityType}) {
		t.Errorf("schema %+v", schema)
	}
}

// TestDescription: the description is the Create transaction's content;
// a new one is an internal comment that Get reads from then on and
// Comments leaves out.
func TestDescription(t *testing.T) {
	e := setup(t)
	c := e.open(t)
	created := create(t, c, connector.Fields{"description": "first **version**"})
	hist := history(t, e, created.ID)
	if hist[0] != "Create" {
		t.Fatalf("history %v", hist)
	}
	if created.Fields["description"] != "first **version**" {
		t.Fatalf("description %q", created.Fields["description"])
	}
	upd, err := c.Update(ctx(t), created.Ref, connector.Fields{"description": "second version"}, created.Version)
	if err != nil || upd.Fields["description"] != "second version" {
		t.Fatalf("update: %q, %v", upd.Fields["description"], err)
	}
	again, err := c.Update(ctx(t), created.Ref, connector.Fields{"description": "second version", "title": "same text"}, upd.Version)
	if err != nil || again.Fields["description"] != "second version" {
		t.Fatalf("update: %q, %v", again.Fields["description"], err)
	}
	comments, err := c.Comments(ctx(t), created.Ref)
	if err != nil || len(comments) != 0 {
		t.Fatalf("comments %+v, %v: the description comment is bookkeeping", comments, err)
	}
	txns := history(t, e, created.ID)
	if n := len(slices.DeleteFunc(slices.Clone(txns), func(s string) bool { return s != "Comment" })); n != 1 {
		t.Fatalf("one description change must write one comment: %v", txns)
	}
	empty := create(t, c, connector.Fields{})
	if empty.Fields["description"] != "" {
		t.Fatalf("no description: %q", empty.Fields["description"])
	}
}

// TestComments: comments are internal unless commentAs says correspond;
// both are listed, RT's own mail (EmailRecord) is not.
func TestComments(t *testing.T) {
	e := setup(t)
	internal := e.open(t)
	public := e.open(t, "commentAs", "correspond")
	tk := create(t, internal, connector.Fields{"requestors": []string{"carol@example.com"}, "description": "help"})

	a, err := internal.AddComment(ctx(t), tk.Ref, connector.NewComment{Body: "internal *note*", Marker: "lockstep:c1"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := public.AddComment(ctx(t), tk.Ref, connector.NewComment{Body: "public reply", Marker: "lockstep:c2"})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{a.ID: "Comment", b.ID: "Correspond"} {
		var txn map[string]any
		if err := e.rt.Do(t, "GET", "/transaction/"+id, nil, &txn); err != nil || txn["Type"] != want {
			t.Fatalf("transaction %s is %v (%v), want %s", id, txn["Type"], err, want)
		}
	}
	if !slices.Contains(history(t, e, tk.ID), "EmailRecord") {
		t.Fatal("the test needs RT to have mailed someone (an EmailRecord)")
	}
	list, err := internal.Comments(ctx(t), tk.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("comments %+v", list)
	}
	if list[0].Body != "internal *note*" || list[0].Marker != "lockstep:c1" || list[1].Marker != "lockstep:c2" || strings.Contains(list[1].Body, "lockstep:") ||
		list[0].Author.ID != "root" || list[0].CreatedAt.IsZero() {
		t.Fatalf("comments %+v", list)
	}
}

func TestAttachments(t *testing.T) {
	e := setup(t)
	c := e.open(t)
	tk := create(t, c, connector.Fields{})
	binary := make([]byte, 0, 300<<10)
	for i := range 256 {
		binary = append(binary, byte(i))
	}
	binary = append(binary, bytes.Repeat([]byte(rand.Text()), (300<<10)/26)...)
	small := []byte("\x00\x01\xff\xfe not text \r\n")

	big, err := c.Upload(ctx(t), tk.Ref, "blob é.bin", "application/octet-stream", int64(len(binary)), bytes.NewReader(binary))
	if err != nil {
		t.Fatal(err)
	}
	// An unknown size and a reader that cannot rewind.
	one, err := c.Upload(ctx(t), tk.Ref, "small.dat", "", -1, io.MultiReader(bytes.NewReader(small)))
	if err != nil {
		t.Fatal(err)
	}
	if big.Name != "blob é.bin" || big.Size != int64(len(binary)) || one.Size != int64(len(small)) || one.ContentType != "application/octet-stream" {
		t.Fatalf("uploaded %+v and %+v", big, one)
	}
	list, err := c.Attachments(ctx(t), tk.Ref)
	if err != nil || len(list) != 2 || list[0].ID != big.ID || list[1].ID != one.ID {
		t.Fatalf("attachments %+v, %v", list, err)
	}
	for _, tc := range []struct {
		a    connector.Attachment
		want []byte
	}{{big, binary}, {one, small}} {
		rc, err := c.Download(ctx(t), tk.Ref, tc.a)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Fatalf("download %s: %d bytes (want %d), %v", tc.a.Name, len(got), len(tc.want), err)
		}
	}
	if comments, err := c.Comments(ctx(t), tk.Ref); err != nil || len(comments) != 0 {
		t.Fatalf("upload comments are bookkeeping: %+v, %v", comments, err)
	}
	if _, err := c.Download(ctx(t), tk.Ref, connector.Attachment{ID: "999999999"}); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("missing attachment: %v", err)
	}
}

func TestLinks(t *testing.T) {
	e := setup(t)
	c := e.open(t)
	a, b := create(t, c, connector.Fields{}), create(t, c, connector.Fields{})
	inverse := map[string]string{LinkRefersTo: LinkReferredToBy, LinkReferredToBy: LinkRefersTo, LinkDependsOn: LinkDependedOnBy,
		LinkDependedOnBy: LinkDependsOn, LinkMemberOf: LinkMembers, LinkMembers: LinkMemberOf}
	has := func(from, to connector.Entity, typ string) bool {
		list, err := c.Links(ctx(t), from.Ref)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(list, func(l connector.Link) bool { return l.Type == typ && l.Target.ID == to.ID })
	}
	for _, typ := range linkTypes[:6] {
		t.Run(typ, func(t *testing.T) {
			l := connector.Link{Type: typ, Target: b.Ref}
			if err := c.AddLink(ctx(t), a.Ref, l); err != nil {
				t.Fatal(err)
			}
			if !has(a, b, typ) || !has(b, a, inverse[typ]) {
				t.Fatalf("%s link not listed both ways", typ)
			}
			if err := c.RemoveLink(ctx(t), a.Ref, l); err != nil {
				t.Fatal(err)
			}
			if has(a, b, typ) {
				t.Fatal("removed link still listed")
			}
			if err := c.RemoveLink(ctx(t), a.Ref, l); err != nil {
				t.Fatalf("removing a link already gone: %v", err)
			}
		})
	}
	t.Run("URL", func(t *testing.T) {
		l := connector.Link{Type: LinkRefersTo, URL: "https://source.example/HELP-1"}
		if err := c.AddLink(ctx(t), a.Ref, l); err != nil {
			t.Fatal(err)
		}
		list, err := c.Links(ctx(t), a.Ref)
		if err != nil || !slices.ContainsFunc(list, func(x connector.Link) bool { return x.Type == LinkRefersTo && x.URL == l.URL }) {
			t.Fatalf("links %+v, %v", list, err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		if err := c.AddLink(ctx(t), a.Ref, connector.Link{Type: LinkMergedInto, Target: b.Ref}); !errors.Is(err, connector.ErrInvalid) {
			t.Fatalf("merge: %v", err)
		}
		if err := c.AddLink(ctx(t), a.Ref, connector.Link{Type: LinkDependsOn, Target: connector.Ref{ID: "999999999"}}); !errors.Is(err, connector.ErrInvalid) {
			t.Fatalf("link to a missing ticket: %v", err)
		}
	})
}

// TestChangesFeed pages through the transaction feed two transactions at
// a time: every ticket appears, ascending, and a deleted ticket is listed
// as deleted.
func TestChangesFeed(t *testing.T) {
	e := setup(t)
	c := e.open(t)
	c.pageSize = 2
	start := time.Now().Add(-time.Second)
	var made []connector.Entity
	for i := range 3 {
		made = append(made, create(t, c, connector.Fields{"title": fmt.Sprint("feed ", i), "description": "x"}))
	}
	if _, err := c.Update(ctx(t), made[0].Ref, connector.Fields{"status": "open"}, ""); err != nil {
		t.Fatal(err)
	}
	seen, deferred := map[string]connector.Entity{}, false
	pages := contracttest.Pages(t, ctx(t), c, "", start, 50)
	for i, page := range pages {
		for _, en := range page.Entities {
			seen[en.ID] = en
			if en.Marker == "" {
				t.Errorf("ticket %s listed without its marker", en.ID)
			}
		}
		t.Logf("page %d: %d tickets, cursor %q", i+1, len(page.Entities), page.Cursor)
		deferred = deferred || strings.Contains(page.Cursor, ":")
	}
	if len(pages) < 2 || len(seen) != 3 || seen[made[0].ID].Fields["status"] != "open" || !deferred {
		t.Fatalf("%d pages, seen %d tickets (%v), a ticket deferred: %v", len(pages), len(seen), seen[made[0].ID].Fields["status"], deferred)
	}

	// Deleted: gone from searches, still in the feed, listed as deleted.
	before := time.Now().Add(-time.Second)
	if err := c.Delete(ctx(t), made[1].Ref); err != nil {
		t.Fatal(err)
	}
	c.pageSize = maxPage
	page, err := c.Changes(ctx(t), "", before, "")
	if err != nil || page.Cursor != "" {
		t.Fatal(page.Cursor, err)
	}
	if slices.ContainsFunc(page.Entities, func(x connector.Entity) bool { return x.ID == made[1].ID }) ||
		!slices.Contains(page.Deleted, connector.Ref{ID: made[1].ID, Key: made[1].ID}) {
		t.Fatalf("deleted ticket %s: entities %+v, deleted %+v", made[1].ID, page.Entities, page.Deleted)
	}
	if found, err := c.FindByMarker(ctx(t), "", connector.Marker{System: "test", Key: "none"}); err != nil || len(found) != 0 {
		t.Fatal(found, err)
	}
	if _, err := c.Changes(ctx(t), "", before, "not-a-cursor"); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("bad cursor: %v", err)
	}
}

// TestDelete: RT's delete is the status "deleted", which this connector
// reads as gone and never writes as a field.
func TestDelete(t *testing.T) {
	e := setup(t)
	c := e.open(t)
	marker := connector.Marker{System: "o" + strings.ToLower(rand.Text()[:12]), Key: "SRC-1"}
	tk, err := c.Create(ctx(t), "", EntityType, connector.Fields{"title": "to delete"}, marker)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Marker != marker.Text() {
		t.Fatalf("created with the marker %q, want %q", tk.Marker, marker.Text())
	}
	if _, err := c.Update(ctx(t), tk.Ref, connector.Fields{"status": "deleted"}, ""); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("status deleted written as a field: %v, want ErrInvalid", err)
	}
	schema, err := c.Schema(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(schema.Fields, func(f connector.FieldSchema) bool { return f.Name == "status" })
	if i < 0 || slices.Contains(schema.Fields[i].Values, "deleted") || !slices.Contains(schema.Fields[i].Values, "resolved") {
		t.Fatalf("status values %v: want the lifecycle without deleted", schema.Fields[i].Values)
	}

	if err := c.Delete(ctx(t), tk.Ref); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Status string `json:"Status"`
	}
	if err := e.rt.Do(t, "GET", "/ticket/"+tk.ID, nil, &raw); err != nil || raw.Status != "deleted" {
		t.Fatalf("RT holds the ticket with status %q (%v), want deleted", raw.Status, err)
	}
	if _, err := c.Get(ctx(t), tk.Ref); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("Get of a deleted ticket: %v, want ErrNotFound", err)
	}
	// RT answers a second DELETE with 500; the connector sees the status.
	if err := c.Delete(ctx(t), tk.Ref); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	if found, err := c.FindByMarker(ctx(t), "", marker); err != nil || len(found) != 0 {
		t.Fatalf("FindByMarker finds the deleted ticket: %+v, %v", found, err)
	}
	if err := c.Delete(ctx(t), connector.Ref{ID: "999999999"}); err != nil {
		t.Fatalf("deleting a ticket that never was: %v", err)
	}
}

func TestBadToken(t *testing.T) {
	rs := realsys.StartRT(t)
	const bad = "1-14-00000000000000000000000000000000"
	var logs bytes.Buffer
	c, err := Open(connector.Config{ID: "rt-bad", Name: "RT", Kind: Kind, URL: rs.URL,
		Secrets: map[string]secret.Secret{"token": secret.New(bad)}}, connector.Env{Log: zerolog.New(&logs).Level(zerolog.DebugLevel)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Validate(ctx(t))
	if !errors.Is(err, connector.ErrUnauthorized) || strings.Contains(err.Error(), bad) {
		t.Fatalf("bad token: %v", err)
	}
	if !strings.Contains(logs.String(), `"status":401`) || strings.Contains(logs.String(), bad) {
		t.Fatalf("logs: %s", logs.String())
	}
	if _, err := Open(connector.Config{Name: "RT", URL: rs.URL}, connector.Env{}); !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("no token: %v", err)
	}
	spec, ok := connector.Lookup(Kind)
	if !ok || spec.Open == nil || spec.Test == nil {
		t.Fatal("kind not registered with Open and Test")
	}
}

func TestValidate(t *testing.T) {
	e := setup(t)
	msg, err := e.open(t).Validate(ctx(t))
	if err != nil || !strings.Contains(msg, e.queue) {
		t.Fatalf("Validate = %q, %v", msg, err)
	}
	if _, err := e.open(t, "markerField", "No Such Field").Validate(ctx(t)); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("missing marker field: %v", err)
	}
	if _, err := e.open(t, "queue", "no-such-queue-"+rand.Text()[:6]).Validate(ctx(t)); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("missing queue: %v", err)
	}
}

// history lists the types of a ticket's transactions, oldest first.
func history(t *testing.T, e env, id string) []string {
	t.Helper()
	var page struct {
		Items []map[string]any `json:"items"`
	}
	if err := e.rt.Do(t, "GET", "/ticket/"+id+"/history?fields=Type&per_page=100", nil, &page); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range page.Items {
		out = append(out, fmt.Sprint(it["Type"]))
	}
	return out
}
