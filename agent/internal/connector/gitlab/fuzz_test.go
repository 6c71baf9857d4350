package gitlab

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// FuzzResponses feeds one answer body to every request the connector
// makes, through every reading method, the writes that read answers back,
// and the webhook parser: whatever GitLab (or something in its place)
// answers, the connector returns an error or a value, never panics or
// hangs.
func FuzzResponses(f *testing.F) {
	for _, s := range []string{
		docIssue, docProject,
		`[` + docIssue + `]`,
		`{"id":3,"path_with_namespace":"g/p","web_url":"http://x/g/p","iid":1,"project_id":3,"updated_at":"2026-01-02T03:04:05.000+01:00",
		  "description":"x <!-- lockstep:o1:K-1 lockstep0123456789abcdef -->\n[f](/uploads/0123456789abcdef0123456789abcdef/a%20b.txt)","weight":null}`,
		`[{"id":1,"body":"![x](/uploads/0123456789abcdef0123456789abcdef/x.png)\n\n<!-- lockstep-attachment size=99 name=a%ZZ -->","system":false,"author":{"username":"u"}}]`,
		`[{"id":1,"iid":2,"project_id":3,"issue_link_id":4,"link_type":"blocks","references":{"full":"g/p#2"}}]`,
		`{"object_kind":"note","project_id":1,"object_attributes":{"noteable_type":"Issue"},"issue":{"iid":-1}}`,
		`{"id":5,"url":"/uploads/nothex/x","markdown":"[x](y)"}`,
		`{"scopes":null,"version":17}`, `{"message":{"title":["bad"]}}`,
		`null`, `[]`, `{}`, `"text"`, `[null]`, `{"id":-1}`,
	} {
		f.Add([]byte(s))
	}
	url, serve := contracttest.FuzzServer(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		serve(b)
		c, err := Open(connector.Config{ID: "fuzz", Name: "G", Kind: Kind, URL: url,
			Secrets: map[string]secret.Secret{"token": secret.New("glpat-fuzz-0123456789")}}, connector.Env{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ref := connector.Ref{ID: "3:1", Key: "g/p#1"}
		contracttest.ReadAll(ctx, c, "g/p", ref, "2026-01-02T03:04:05.000Z")
		_, _ = c.Changes(ctx, "g/p", time.Time{}, "1|2|3|4,5")
		_, _ = c.Create(ctx, "g/p", "issue", connector.Fields{"title": "t", "status": "closed", "assignee": "u", "milestone": "m"}, connector.Marker{System: "s", Key: "k"})
		_, _ = c.AddComment(ctx, ref, connector.NewComment{Body: "b", Marker: "lockstep:a:1"})
		_, _ = c.Upload(ctx, ref, "f.txt", "text/plain", 1, strings.NewReader("x"))
		_ = c.AddLink(ctx, ref, connector.Link{Type: LinkBlocks, Target: connector.Ref{ID: "3:2"}})
		_ = c.RemoveLink(ctx, ref, connector.Link{Type: LinkBlocks, Target: connector.Ref{ID: "3:2"}})
		_ = c.DeleteAttachment(ctx, ref, connector.Attachment{ID: "0123456789abcdef0123456789abcdef/x.png"})
		_, _ = c.RegisterWebhook(ctx, "g/p", "https://hook.example/x", "whsec-fuzz")
		r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(b)))
		r.Header.Set(TokenHeader, "whsec-fuzz")
		_, _ = c.ParseWebhook(r, b, "whsec-fuzz")
	})
}

// FuzzMarkdown reads and rewrites descriptions and notes: the marker,
// comment and upload readers never panic, and what the connector writes
// reads back as written.
func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{"", "text", "x\n\n<!-- lockstep:o1:K lockstep0123456789abcdef -->", "<!-- lockstep:a:1 -->",
		"[a](/uploads/0123456789abcdef0123456789abcdef/%zz)", "<!-- lockstep-attachment size=1 name=%E2%82 -->", "a--b>c%"} {
		f.Add(s, s)
	}
	p := &projectInfo{ID: 3, WebURL: "https://gitlab.example/g/p"}
	f.Fuzz(func(t *testing.T, text, key string) {
		_, _, _ = splitDescription(text)
		_, _ = splitComment(text)
		_ = p.uploadLinks("https://gitlab.example", text)
		_ = p.absoluteUploads(text)
		_ = attachmentTag.FindStringSubmatch(text)
		if strings.TrimSpace(key) == "" {
			return
		}
		m := connector.Marker{System: "o1", Key: key}
		plain, _, _ := splitDescription(text)
		stored := joinDescription(plain, []string{markerComment(m)})
		got, markers, marker := splitDescription(stored)
		if marker != m.Text() || len(markers) == 0 {
			t.Fatalf("marker %q read back as %q from %q", m.Text(), marker, stored)
		}
		_ = got
	})
}
