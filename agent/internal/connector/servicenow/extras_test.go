package servicenow

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/servicenow/snemu"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

func newIncident(t *testing.T, c *Conn, title string) connector.Entity {
	t.Helper()
	e, err := c.Create(context.Background(), "incident", "", connector.Fields{"title": title}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func sysID(e connector.Entity) string { _, id, _ := splitID(e.ID); return id }

func TestJournalSettings(t *testing.T) {
	// Entries of one second have no order but their sys_id's: the clock
	// moves on between them.
	clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	e := start(t, snemu.Options{Now: clk.Now})
	ctx := context.Background()
	c := open(t, e)
	inc := newIncident(t, c, "Journal")
	if err := e.Update(sysID(inc), "beth.anglin", map[string]string{"comments": "Customer: still broken"}); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	if err := e.Update(sysID(inc), "abel.tuter", map[string]string{"work_notes": "Internal: rebooted *twice*"}); err != nil {
		t.Fatal(err)
	}
	both, err := c.Comments(ctx, inc.Ref)
	if err != nil || len(both) != 2 || both[0].Body != "Customer: still broken" || both[1].Body != "Internal: rebooted *twice*" {
		t.Fatalf("both journals: %+v, %v", both, err)
	}
	if both[0].Author.Name != "Beth Anglin" || both[0].Author.ID != e.UserID("beth.anglin") || both[0].Author.Email != "beth.anglin@example.com" {
		t.Fatalf("author %+v", both[0].Author)
	}
	onlyComments, err := open(t, e, "readJournals", JournalComments).Comments(ctx, inc.Ref)
	if err != nil || len(onlyComments) != 1 || onlyComments[0].Body != "Customer: still broken" {
		t.Fatalf("comments only: %+v, %v", onlyComments, err)
	}
	// Written to work notes by default, once, with the marker hidden in
	// [code] tags and read back apart from the body.
	clk.Add(time.Second)
	added, err := c.AddComment(ctx, inc.Ref, connector.NewComment{Body: "From Jira: **fixed** in 4.2", Marker: "lockstep:b:10042"})
	if err != nil {
		t.Fatal(err)
	}
	if added.Body != "From Jira: **fixed** in 4.2" || added.Marker != "lockstep:b:10042" || added.ID == "" {
		t.Fatalf("added %+v", added)
	}
	j := e.Journal(sysID(inc))
	last := j[len(j)-1]
	if last.Element != "work_notes" || last.Value != "From Jira: **fixed** in 4.2\n\n[code]<!-- lockstep:b:10042 -->[/code]" || last.SysID != added.ID {
		t.Fatalf("stored entry %+v", last)
	}
	// A caller that also put the marker in the body gets it once.
	clk.Add(time.Second)
	public := open(t, e, "writeJournal", JournalComments)
	dup, err := public.AddComment(ctx, inc.Ref, connector.NewComment{Body: "Hello\n\n<!-- lockstep:a:7 -->", Marker: "<!-- lockstep:a:7 -->"})
	if err != nil {
		t.Fatal(err)
	}
	j = e.Journal(sysID(inc))
	if v := j[len(j)-1]; v.Element != "comments" || strings.Count(v.Value, "lockstep:a:7") != 1 || dup.Body != "Hello" || dup.Marker != "lockstep:a:7" {
		t.Fatalf("entry %+v, comment %+v", v, dup)
	}
	list, err := c.Comments(ctx, inc.Ref)
	if err != nil || len(list) != 4 || list[2].Marker != "lockstep:b:10042" || strings.Contains(list[2].Body, "lockstep") {
		t.Fatalf("read back %+v, %v", list, err)
	}
	if _, err := c.AddComment(ctx, inc.Ref, connector.NewComment{Body: "  \n"}); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("empty comment: %v", err)
	}
}

func TestSplitMarker(t *testing.T) {
	for _, tc := range []struct{ in, body, marker string }{
		{"text\n\n[code]<!-- lockstep:a:1 -->[/code]", "text", "lockstep:a:1"},
		{"text\n<!-- lockstep:b:x-y -->\n", "text", "lockstep:b:x-y"},
		{"no marker <!-- in --> the middle", "no marker <!-- in --> the middle", ""},
		{"", "", ""},
	} {
		if b, m := splitMarker(tc.in); b != tc.body || m != tc.marker {
			t.Errorf("splitMarker(%q) = %q, %q", tc.in, b, m)
		}
	}
}

// onceReader is a body that cannot be rewound, counting what was read.
type onceReader struct {
	r io.Reader
	n int64
}

func (o *onceReader) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	o.n += int64(n)
	return n, err
}

func TestAttachmentsStreamBothWays(t *testing.T) {
	e := start(t, snemu.Options{})
	ctx := context.Background()
	c := open(t, e)
	inc := newIncident(t, c, "Attachments")
	content := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
	body := &onceReader{r: bytes.NewReader(content)}
	a, err := c.Upload(ctx, inc.Ref, "trace.log", "text/plain", int64(len(content)), body)
	if err != nil {
		t.Fatal(err)
	}
	if a.Size != int64(len(content)) || a.Name != "trace.log" || a.ContentType != "text/plain" || body.n != int64(len(content)) {
		t.Fatalf("uploaded %+v, read %d", a, body.n)
	}
	if _, err := e.Attach(sysID(inc), "beth.anglin", "photo.jpg", "image/jpeg", []byte("jpeg")); err != nil {
		t.Fatal(err)
	}
	list, err := c.Attachments(ctx, inc.Ref)
	// Both were added in one second: their order is the instance's.
	slices.SortFunc(list, func(x, y connector.Attachment) int { return strings.Compare(y.Name, x.Name) })
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].Name != "photo.jpg" || list[1].Size != 4 {
		t.Fatalf("Attachments = %+v, %v", list, err)
	}
	rc, err := c.Download(ctx, inc.Ref, a)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, rc)
	rc.Close()
	if err != nil || n != int64(len(content)) || !bytes.Equal(h.Sum(nil), sha256Sum(content)) {
		t.Fatalf("downloaded %d bytes, %v", n, err)
	}
	if _, err := c.Download(ctx, inc.Ref, connector.Attachment{ID: "../../table/sys_user"}); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("a path as attachment id: %v", err)
	}
	if err := c.DeleteAttachment(ctx, inc.Ref, list[1]); err != nil {
		t.Fatal(err)
	}
	if files := e.Files(sysID(inc)); len(files) != 1 || files[0].Name != "trace.log" {
		t.Fatalf("after delete: %+v", files)
	}
	// The instance's size limit is a clear refusal.
	small := start(t, snemu.Options{MaxAttachment: 10})
	sc := open(t, small)
	inc2 := newIncident(t, sc, "small")
	_, err = sc.Upload(ctx, inc2.Ref, "big.bin", "", 11, bytes.NewReader(make([]byte, 11)))
	if !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("too large: %v", err)
	}
}

func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func TestLinksAreTaskReferences(t *testing.T) {
	e := start(t, snemu.Options{})
	ctx := context.Background()
	c := open(t, e)
	inc := newIncident(t, c, "Child")
	other := newIncident(t, c, "Parent incident")
	prb, err := c.Create(ctx, "problem", "", connector.Fields{"title": "Root cause"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddLink(ctx, inc.Ref, connector.Link{Type: "problem_id", Target: prb.Ref}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddLink(ctx, inc.Ref, connector.Link{Type: "parent", Target: prb.Ref}); err != nil {
		t.Fatal(err) // parent holds any task
	}
	links, err := c.Links(ctx, inc.Ref)
	if err != nil || len(links) != 2 {
		t.Fatalf("Links = %+v, %v", links, err)
	}
	for _, l := range links {
		if l.Target.ID != prb.ID || l.Target.Key != prb.Key {
			t.Fatalf("link %+v, want target %+v", l, prb.Ref)
		}
	}
	for _, tc := range []struct {
		l    connector.Link
		want string
	}{
		{connector.Link{Type: "problem_id", Target: other.Ref}, "holds problem records"},
		{connector.Link{Type: "parent", Target: other.Ref}, "already points at " + prb.Key},
		{connector.Link{Type: "relates", Target: other.Ref}, "not a link type"},
		{connector.Link{Type: "parent", URL: "https://example.com"}, "no links to URLs"},
	} {
		if err := c.AddLink(ctx, inc.Ref, tc.l); !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("AddLink %+v: %v, want %q", tc.l, err, tc.want)
		}
	}
	if err := c.AddLink(ctx, inc.Ref, connector.Link{Type: "parent", Target: prb.Ref}); err != nil {
		t.Fatalf("adding a link that exists: %v", err)
	}
	if err := c.RemoveLink(ctx, inc.Ref, connector.Link{Type: "parent", Target: other.Ref}); err != nil {
		t.Fatalf("removing a link to another target: %v", err)
	}
	if err := c.RemoveLink(ctx, inc.Ref, connector.Link{Type: "parent", Target: prb.Ref}); err != nil {
		t.Fatal(err)
	}
	if links, _ := c.Links(ctx, inc.Ref); len(links) != 1 || links[0].Type != "problem_id" {
		t.Fatalf("after remove: %+v", links)
	}
}

func TestWebhooks(t *testing.T) {
	const hookSecret = "shared-secret-of-the-business-rule"
	var mu sync.Mutex
	var got [][]connector.Ref
	var c *Conn
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		refs, err := c.ParseWebhook(r, body, "engine-secret-nobody-knows")
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, refs)
		mu.Unlock()
	}))
	defer recv.Close()
	e := start(t, snemu.Options{Hooks: []snemu.Hook{{Table: "incident", URL: recv.URL, Secret: hookSecret}}})
	ctx := context.Background()
	if _, err := open(t, e).RegisterWebhook(ctx, "incident", recv.URL, "x"); !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), "business rule") {
		t.Fatalf("no webhook secret set: %v", err)
	}
	cfg := config(t, e)
	cfg.Secrets["webhookSecret"] = secret.New(hookSecret)
	c = mustOpen(t, cfg)
	id, err := c.RegisterWebhook(ctx, "incident", recv.URL, "engine-secret-nobody-knows")
	if err != nil || id != "business-rule:incident" {
		t.Fatalf("RegisterWebhook = %q, %v", id, err)
	}
	inc := newIncident(t, c, "Hooked")
	e.Close() // waits for the delivery
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || len(got[0]) != 1 || got[0][0].ID != inc.ID || got[0][0].Key != inc.Key || e.Stats().FailedHooks != 0 {
		t.Fatalf("deliveries %+v, stats %+v", got, e.Stats())
	}
	body := []byte(`{"table":"incident","sys_id":"` + sysID(inc) + `","number":"INC1","operation":"update"}`)
	for _, tc := range []struct {
		header string
		body   []byte
		want   error
	}{
		{"wrong", body, connector.ErrUnauthorized},
		{"", body, connector.ErrUnauthorized},
		{hookSecret, []byte(`{"table":"incident","sys_id":"../etc"}`), connector.ErrInvalid},
		{hookSecret, []byte(`not json`), connector.ErrInvalid},
	} {
		r := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(tc.body))
		if tc.header != "" {
			r.Header.Set(SecretHeader, tc.header)
		}
		if _, err := c.ParseWebhook(r, tc.body, ""); !errors.Is(err, tc.want) {
			t.Errorf("header %q body %s: %v, want %v", tc.header, tc.body, err, tc.want)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/hook", nil)
	r.Header.Set(SecretHeader, hookSecret)
	refs, err := c.ParseWebhook(r, []byte(`[`+string(body)+`,`+string(body)+`]`), "")
	if err != nil || len(refs) != 2 || !slices.ContainsFunc(refs, func(x connector.Ref) bool { return x.ID == inc.ID }) {
		t.Fatalf("a list of deliveries: %+v, %v", refs, err)
	}
}

func TestFindByMarker(t *testing.T) {
	e := start(t, snemu.Options{})
	ctx := context.Background()
	c := open(t, e)
	m := connector.Marker{System: "o0123456789ab", Key: "abc"}
	exact, err := c.Create(ctx, "incident", "", connector.Fields{"title": "exact"}, m)
	if err != nil {
		t.Fatal(err)
	}
	// The instance compares text without regard to case: a marker that
	// differs only in case must not be taken for this one.
	if _, err := c.Create(ctx, "incident", "", connector.Fields{"title": "other case"}, connector.Marker{System: m.System, Key: "ABC"}); err != nil {
		t.Fatal(err)
	}
	found, err := c.FindByMarker(ctx, "incident", m)
	if err != nil || len(found) != 1 || found[0].ID != exact.ID || found[0].Marker != m.Text() {
		t.Fatalf("FindByMarker = %+v, %v", found, err)
	}
	// A key too long for correlation_id is stored hashed: still found.
	long := connector.Marker{System: "o0123456789ab", Key: "group/subgroup/a-very-long-project-name-that-goes-on-and-on-and-on-and-on/issues#12345"}
	made, err := c.Create(ctx, "incident", "", connector.Fields{"title": "long"}, long)
	if err != nil {
		t.Fatal(err)
	}
	if rec := e.Record(sysID(made)); len(rec["correlation_id"]) > 100 || !strings.HasPrefix(rec["correlation_id"], "lockstep:h-") {
		t.Fatalf("correlation_id %q", rec["correlation_id"])
	}
	if found, err := c.FindByMarker(ctx, "incident", long); err != nil || len(found) != 1 || found[0].ID != made.ID {
		t.Fatalf("long marker: %+v, %v", found, err)
	}
	// A marker with the query separator in its key.
	odd := connector.Marker{System: "o0123456789ab", Key: "a^ORshort_descriptionISNOTEMPTY"}
	if _, err := c.Create(ctx, "incident", "", connector.Fields{"title": "odd"}, odd); err != nil {
		t.Fatal(err)
	}
	if found, err := c.FindByMarker(ctx, "incident", odd); err != nil || len(found) != 1 {
		t.Fatalf("marker with ^: %+v, %v", found, err)
	}
	if found, err := c.FindByMarker(ctx, "incident", connector.Marker{System: "o0123456789ab", Key: "absent"}); err != nil || found == nil || len(found) != 0 {
		t.Fatalf("absent: %#v, %v", found, err)
	}
}
