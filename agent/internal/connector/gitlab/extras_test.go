package gitlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/gitlab/gitlabemu"
)

func mustCreate(t *testing.T, c *Conn, title string, m connector.Marker) connector.Entity {
	t.Helper()
	e, err := c.Create(context.Background(), "acme/helpdesk", "issue", connector.Fields{"title": title}, m)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestComments: notes come oldest first across pages, without system
// notes; a copy's marker is written once as a hidden HTML comment and read
// back into Comment.Marker; copies can be edited (keeping the marker) and
// deleted.
func TestComments(t *testing.T) {
	e := start(t, gitlabemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	en := mustCreate(t, c, "talk", connector.Marker{})
	// A state change and a title change leave system notes.
	if _, err := c.Update(ctx, en.Ref, connector.Fields{"status": "closed", "title": "talk more"}, ""); err != nil {
		t.Fatal(err)
	}
	for i := range 120 {
		e.AddNote(helpdesk, 1, "bob", fmt.Sprintf("reply %d with [a link](/uploads/0123456789abcdef0123456789abcdef/x.png)", i))
	}
	// An engine that still puts the marker in the body too gets it once.
	added, err := c.AddComment(ctx, en.Ref, connector.NewComment{Body: "**Ann** wrote in X-1:\n\nSee `cfg`.\n\n<!-- lockstep:a:42 -->", Marker: "<!-- lockstep:a:42 -->"})
	if err != nil {
		t.Fatal(err)
	}
	if added.Marker != "lockstep:a:42" || added.Body != "**Ann** wrote in X-1:\n\nSee `cfg`." {
		t.Fatalf("added %+v", added)
	}
	notes := e.Notes(helpdesk, 1)
	if last := notes[len(notes)-1]; strings.Count(last, "lockstep:a:42") != 1 || !strings.HasSuffix(last, "\n\n<!-- lockstep:a:42 -->") {
		t.Fatalf("stored note %q", last)
	}
	list, err := c.Comments(ctx, en.Ref)
	if err != nil || len(list) != 121 {
		t.Fatalf("comments: %d, %v", len(list), err)
	}
	if list[0].Body != fmt.Sprintf("reply 0 with [a link](%s/acme/helpdesk/uploads/0123456789abcdef0123456789abcdef/x.png)", e.URL()) ||
		list[0].Author.ID != "bob" || list[0].Marker != "" {
		t.Fatalf("first comment %+v (relative upload links become the project's)", list[0])
	}
	if list[120].ID != added.ID || list[120].Marker != "lockstep:a:42" || strings.Contains(list[120].Body, "lockstep") {
		t.Fatalf("the copy read back: %+v", list[120])
	}
	edited, err := c.UpdateComment(ctx, en.Ref, added.ID, connector.NewComment{Body: "edited", Marker: "lockstep:a:42"})
	if err != nil || edited.Body != "edited" || edited.Marker != "lockstep:a:42" || !edited.UpdatedAt.After(added.CreatedAt) && !edited.UpdatedAt.Equal(added.CreatedAt) {
		t.Fatalf("edited %+v, %v", edited, err)
	}
	// An edit without a marker keeps the note's.
	if kept, err := c.UpdateComment(ctx, en.Ref, added.ID, connector.NewComment{Body: "edited again"}); err != nil || kept.Marker != "lockstep:a:42" {
		t.Fatalf("an edit without a marker: %+v, %v", kept, err)
	}
	// Only a note's author edits it.
	if _, err := c.UpdateComment(ctx, en.Ref, list[0].ID, connector.NewComment{Body: "mine now"}); !errors.Is(err, connector.ErrForbidden) {
		t.Fatalf("editing bob's note: %v", err)
	}
	if err := c.DeleteComment(ctx, en.Ref, added.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteComment(ctx, en.Ref, added.ID); err != nil {
		t.Fatalf("deleting a note already gone: %v", err)
	}
	if list, _ = c.Comments(ctx, en.Ref); len(list) != 120 {
		t.Fatalf("%d comments after the delete", len(list))
	}
	if _, err := c.AddComment(ctx, en.Ref, connector.NewComment{Body: "  \n"}); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("an empty comment: %v", err)
	}
}

// TestAttachments: an upload becomes a project upload and a note linking
// to it; the issue's attachments are the uploads its description and
// notes link to, sized, downloadable and deletable.
func TestAttachments(t *testing.T) {
	e := start(t, gitlabemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	en := mustCreate(t, c, "files", connector.Marker{System: "o1", Key: "K-1"})
	// A person's upload, linked from the description and again from a note.
	md := e.Upload(helpdesk, "bob", "screen shot.png", []byte("PNG-bytes"))
	if _, err := c.Update(ctx, en.Ref, connector.Fields{"description": "See " + md}, ""); err != nil {
		t.Fatal(err)
	}
	e.AddNote(helpdesk, 1, "bob", "again: "+md)
	// Lockstep's own, of unknown size, from a reader that cannot seek.
	content := strings.Repeat("log line\n", 1000)
	att, err := c.Upload(ctx, en.Ref, `crash "1".log`, "text/plain", -1, io.MultiReader(strings.NewReader(content)))
	if err != nil || att.Size != int64(len(content)) || att.Name != `crash "1".log` || !strings.HasSuffix(att.ID, "/crash__1_.log") {
		t.Fatalf("Upload = %+v, %v", att, err)
	}
	list, err := c.Attachments(ctx, en.Ref)
	if err != nil || len(list) != 2 {
		t.Fatalf("Attachments = %+v, %v", list, err)
	}
	if list[0].Name != "screen_shot.png" || list[0].Size != 9 || list[0].ContentType != "image/png" {
		t.Fatalf("the person's upload %+v", list[0])
	}
	if list[1].ID != att.ID || list[1].Name != att.Name || list[1].Size != att.Size {
		t.Fatalf("the uploaded file read back: %+v, want %+v", list[1], att)
	}
	for _, a := range list {
		rc, err := c.Download(ctx, en.Ref, a)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if int64(len(got)) != a.Size {
			t.Fatalf("downloaded %d bytes of %s, want %d", len(got), a.Name, a.Size)
		}
	}
	// The note carrying the file is no comment; the person's note is.
	comments, _ := c.Comments(ctx, en.Ref)
	if len(comments) != 1 || !strings.HasPrefix(comments[0].Body, "again: ") {
		t.Fatalf("comments %+v", comments)
	}
	if err := c.DeleteAttachment(ctx, en.Ref, list[1]); err != nil {
		t.Fatal(err)
	}
	if list, _ = c.Attachments(ctx, en.Ref); len(list) != 1 {
		t.Fatalf("attachments after the delete: %+v", list)
	}
	if _, err := c.Download(ctx, en.Ref, att); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("download of a deleted upload: %v", err)
	}
	if _, err := c.Download(ctx, en.Ref, connector.Attachment{ID: "../../etc/passwd"}); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("a bad attachment id: %v", err)
	}
	big := start(t, gitlabemu.Options{MaxUploadBytes: 1 << 10})
	bc := open(t, big)
	ben := mustCreate(t, bc, "big", connector.Marker{})
	if _, err := bc.Upload(ctx, ben.Ref, "big.bin", "", 4<<10, bytes.NewReader(make([]byte, 4<<10))); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("an upload over GitLab's limit: %v", err)
	}
}

// TestLinks: links read from each side with its own type; GitLab keeps
// one link between two issues; Free refuses blocking links.
func TestLinks(t *testing.T) {
	for _, tier := range tiers {
		t.Run(tier.name, func(t *testing.T) {
			e := start(t, gitlabemu.Options{Premium: tier.premium})
			c := open(t, e)
			ctx := context.Background()
			a, b := mustCreate(t, c, "a", connector.Marker{}), mustCreate(t, c, "b", connector.Marker{})
			other, err := c.Create(ctx, "acme/platform/engineering", "issue", connector.Fields{"title": "elsewhere"}, connector.Marker{})
			if err != nil {
				t.Fatal(err)
			}
			err = c.AddLink(ctx, a.Ref, connector.Link{Type: "is blocked by", Target: b.Ref})
			if !tier.premium {
				if !errors.Is(err, connector.ErrForbidden) || !strings.Contains(err.Error(), "license") {
					t.Fatalf("a blocking link on Free: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := c.AddLink(ctx, a.Ref, connector.Link{Type: LinkIsBlockedBy, Target: b.Ref}); err != nil {
				t.Fatalf("adding a link again: %v", err)
			}
			if err := c.AddLink(ctx, a.Ref, connector.Link{Type: LinkRelatesTo, Target: b.Ref}); !errors.Is(err, connector.ErrInvalid) {
				t.Fatalf("a second link between the same issues: %v", err)
			}
			if err := c.AddLink(ctx, a.Ref, connector.Link{Type: LinkRelatesTo, Target: connector.Ref{ID: other.ID}}); err != nil {
				t.Fatalf("a link to another project: %v", err)
			}
			la, _ := c.Links(ctx, a.Ref)
			lb, _ := c.Links(ctx, b.Ref)
			if len(la) != 2 || la[0].Type != LinkIsBlockedBy || la[0].Target.ID != b.ID || la[1].Target.Key != "acme/platform/engineering#1" {
				t.Fatalf("links of a %+v", la)
			}
			if len(lb) != 1 || lb[0].Type != LinkBlocks || lb[0].Target.ID != a.ID {
				t.Fatalf("links of b %+v", lb)
			}
			if err := c.RemoveLink(ctx, b.Ref, connector.Link{Type: LinkBlocks, Target: connector.Ref{ID: a.ID}}); err != nil {
				t.Fatal(err)
			}
			if err := c.RemoveLink(ctx, b.Ref, connector.Link{Type: LinkBlocks, Target: connector.Ref{ID: a.ID}}); err != nil {
				t.Fatalf("removing a link already gone: %v", err)
			}
			if la, _ = c.Links(ctx, a.Ref); len(la) != 1 {
				t.Fatalf("links of a after the removal %+v", la)
			}
			for _, bad := range []connector.Link{{Type: "duplicates", Target: b.Ref}, {Type: LinkRelatesTo, URL: "https://wiki.example"}} {
				if err := c.AddLink(ctx, a.Ref, bad); !errors.Is(err, connector.ErrInvalid) {
					t.Errorf("AddLink(%+v): %v", bad, err)
				}
			}
			// Link changes leave system notes, which are no comments.
			if notes := e.Notes(helpdesk, 1); !slices.ContainsFunc(notes, func(n string) bool { return strings.HasPrefix(n, "system: marked") }) {
				t.Fatalf("no system note for the link: %q", notes)
			}
			if cs, _ := c.Comments(ctx, a.Ref); len(cs) != 0 {
				t.Fatalf("system notes listed as comments: %+v", cs)
			}
		})
	}
}

// TestFindByMarker: the search matches words by prefix, so a marker whose
// token starts another's is told apart by the exact text; a description's
// marker copied from elsewhere into another issue's text does not count.
func TestFindByMarker(t *testing.T) {
	e := start(t, gitlabemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	m := connector.Marker{System: "o0123456789ab", Key: "HELP-1"}
	made := mustCreate(t, c, "marked", m)
	mustCreate(t, c, "other", connector.Marker{System: m.System, Key: "HELP-10"})
	// Someone pastes the first issue's description into a new one: the
	// marker travels as text, inside the body the engine sees.
	desc := "copied: " + markerComment(m)
	if _, err := e.CreateIssue(helpdesk, "bob", map[string]any{"title": "paste", "description": "```\n" + desc + "\n```"}); err != nil {
		t.Fatal(err)
	}
	found, err := c.FindByMarker(ctx, "acme/helpdesk", m)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, f := range found {
		ids = append(ids, f.ID)
	}
	if len(found) == 0 || found[0].ID != made.ID {
		t.Fatalf("FindByMarker = %v", ids)
	}
	// Keys with spaces, colons and "--" survive the comment.
	odd := connector.Marker{System: m.System, Key: "a b:c--d>e%"}
	oddMade := mustCreate(t, c, "odd", odd)
	if oddMade.Marker != odd.Text() {
		t.Fatalf("marker read back %q, want %q", oddMade.Marker, odd.Text())
	}
	if found, err := c.FindByMarker(ctx, "acme/helpdesk", odd); err != nil || len(found) != 1 || found[0].ID != oddMade.ID {
		t.Fatalf("FindByMarker(odd) = %+v, %v", found, err)
	}
	// An update of the description keeps the marker, and the engine never
	// sees it.
	upd, err := c.Update(ctx, made.Ref, connector.Fields{"description": "new text"}, "")
	if err != nil || upd.Fields["description"] != "new text" || upd.Marker != m.Text() {
		t.Fatalf("updated %+v, %v", upd, err)
	}
}

func TestDelete(t *testing.T) {
	e := start(t, gitlabemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	en := mustCreate(t, c, "doomed", connector.Marker{})
	if err := c.Delete(ctx, en.Ref); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, en.Ref); !errors.Is(err, connector.ErrNotFound) || !strings.Contains(err.Error(), "404 Issue Not Found") {
		t.Fatalf("Get of a deleted issue: %v", err)
	}
	if err := c.Delete(ctx, en.Ref); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	// ada maintains engineering but does not own it.
	other, err := c.Create(ctx, "acme/platform/engineering", "issue", connector.Fields{"title": "kept"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, other.Ref); !errors.Is(err, connector.ErrForbidden) || !strings.Contains(err.Error(), "owners") {
		t.Fatalf("delete without the Owner role: %v", err)
	}
}

// TestRateLimits: the authenticated API throttle answers 429 with
// Retry-After, and its RateLimit-* headers on every answer let the client
// pause before it; the application limit on issue creation answers 429
// without Retry-After. The connector waits as told and never comes back
// early.
func TestRateLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    gitlabemu.Options
	}{
		{"api throttle", gitlabemu.Options{APILimit: 4, APIPeriod: time.Second}},
		// As on GitLab.com: the API throttle's headers come with the
		// application limit's 429, and say when the window ends.
		{"issue creation", gitlabemu.Options{IssueCreateLimit: 2, AppPeriod: 2 * time.Second, APILimit: 1000, APIPeriod: 2 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, tc.o)
			c := open(t, e)
			ctx := context.Background()
			for i := range 3 {
				if _, err := c.Create(ctx, "acme/helpdesk", "issue", connector.Fields{"title": fmt.Sprint("busy ", i)}, connector.Marker{}); err != nil {
					t.Fatalf("create %d: %v", i, err)
				}
			}
			if list, _ := changed(t, c, time.Time{}); len(list) != 3 {
				t.Fatalf("%d issues, want 3", len(list))
			}
			st, hs := e.Stats(), c.HTTPStats()
			if st.EarlyRetries != 0 {
				t.Fatalf("the connector came back before it was told to: %+v", st)
			}
			if tc.o.IssueCreateLimit > 0 && (st.RateLimited == 0 || hs.RateLimited == 0) {
				t.Fatalf("no 429 was answered: %+v, %+v", st, hs)
			}
			if tc.o.APILimit > 0 && hs.Paused == 0 && hs.RateLimited == 0 {
				t.Fatalf("the client neither paused nor met a 429: %+v", hs)
			}
		})
	}
}

func TestWebhooks(t *testing.T) {
	e := start(t, gitlabemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	got := make(chan *http.Request, 20)
	bodies := make(chan []byte, 20)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	t.Cleanup(hook.Close)
	const secret = "whsec-0123456789abcdef"
	id, err := c.RegisterWebhook(ctx, "acme/helpdesk", hook.URL, secret)
	if err != nil || !strings.HasPrefix(id, "42:") {
		t.Fatalf("RegisterWebhook = %q, %v", id, err)
	}
	en := mustCreate(t, c, "hooked", connector.Marker{})
	e.AddNote(helpdesk, 1, "bob", "a note")
	for _, want := range []string{"Issue Hook", "Note Hook"} {
		var r *http.Request
		var body []byte
		select {
		case r = <-got:
			body = <-bodies
		case <-time.After(30 * time.Second):
			t.Fatalf("no %s delivered", want)
		}
		refs, err := c.ParseWebhook(r, body, secret)
		if err != nil || len(refs) != 1 || refs[0].ID != en.ID || refs[0].Key != en.Key {
			t.Fatalf("%s (%s): ParseWebhook = %+v, %v", want, r.Header.Get("X-Gitlab-Event"), refs, err)
		}
		if _, err := c.ParseWebhook(r, body, "another-secret"); !errors.Is(err, connector.ErrUnauthorized) {
			t.Fatalf("wrong secret: %v", err)
		}
		r.Header.Del(TokenHeader)
		if _, err := c.ParseWebhook(r, body, secret); !errors.Is(err, connector.ErrUnauthorized) {
			t.Fatalf("no token: %v", err)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/hook", nil)
	req.Header.Set(TokenHeader, secret)
	for body, want := range map[string]int{
		`{"object_kind":"push","project":{"id":42}}`: 0,
		`{"object_kind":"note","project_id":42,"object_attributes":{"noteable_type":"MergeRequest"},"merge_request":{"iid":3}}`: 0,
	} {
		if refs, err := c.ParseWebhook(req, []byte(body), secret); err != nil || len(refs) != want {
			t.Errorf("%s: %+v, %v", body, refs, err)
		}
	}
	for _, bad := range []string{`not json`, `{}`, `{"object_kind":"issue","object_attributes":{}}`} {
		if _, err := c.ParseWebhook(req, []byte(bad), secret); !errors.Is(err, connector.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := c.ParseWebhook(req, []byte(`{"object_kind":"issue"}`), ""); !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("an empty secret verifies nothing: %v", err)
	}
	if err := c.UnregisterWebhook(ctx, id); err != nil {
		t.Fatal(err)
	}
	if len(e.Hooks()) != 0 {
		t.Fatal("hook still registered")
	}
	if err := c.UnregisterWebhook(ctx, id); err != nil {
		t.Fatalf("unregistering twice: %v", err)
	}
	// GitLab refuses hooks to the local network unless an administrator
	// allows them; the refusal names why.
	blocked := start(t, gitlabemu.Options{BlockLocalHooks: true})
	if _, err := open(t, blocked).RegisterWebhook(ctx, "acme/helpdesk", hook.URL, secret); !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), "local network") {
		t.Fatalf("a local hook: %v", err)
	}
}
