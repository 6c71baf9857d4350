package github

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/github/ghemu"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// FuzzResponses feeds one answer body to every request the connector
// makes, through every reading method, a paged Changes, a write and the
// webhook parser: whatever GitHub (or something in its place) answers, the
// connector returns an error or a value, never panics or hangs.
func FuzzResponses(f *testing.F) {
	for _, s := range []string{
		docIssue,
		`[` + docIssue + `]`,
		`[{"number":1,"title":"t","body":"x\n\n<!-- lockstep:o1:K-1 https://a.example -->","updated_at":"2026-01-02T03:04:05Z","labels":[{"name":"bug"}],
			"sub_issues_summary":{"total":1},"issue_dependencies_summary":{"blocked_by":1,"blocking":1},"parent_issue_url":"https://x/repos/a/b/issues/2"}]`,
		`[{"id":5,"body":"hi\n\n<!-- lockstep:a:1 -->","user":{"login":"bob"},"created_at":"2026-01-02T03:04:05Z"},
			{"id":6,"body":"📎 <!-- lockstep-file 12 a%20b.txt text/plain -->"}]`,
		`{"total_count":1,"incomplete_results":true,"items":[{"number":3,"body":"<!-- lockstep:s:K-1 -->"}]}`,
		`{"login":"octo","type":"Organization","permissions":{"push":true},"has_issues":true}`,
		`{"action":"opened","issue":{"number":7},"repository":{"full_name":"acme/widgets"}}`,
		`{"message":"Validation Failed","errors":[{"field":"title","code":"missing_field"}]}`,
		`null`, `[]`, `{}`, `"text"`, `[null]`, `{"number":-1}`,
	} {
		f.Add([]byte(s))
	}
	url, serve := contracttest.FuzzServer(f)
	const hookSecret = "whsec-fuzz"
	f.Fuzz(func(t *testing.T, b []byte) {
		serve(b)
		c, err := Open(connector.Config{ID: "fuzz", Name: "G", Kind: Kind, URL: url,
			Settings: map[string]any{"owner": "acme", "repository": "widgets", "writesPerMinute": 600000, "attachments": AttachComment},
			Secrets:  map[string]secret.Secret{"token": secret.New("tok-0123456789")}}, connector.Env{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ref := connector.Ref{ID: "acme/widgets#1"}
		contracttest.ReadAll(ctx, c, "widgets", ref, "")
		cursor := ""
		for range 5 {
			page, err := c.Changes(ctx, "widgets", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), cursor)
			if err != nil || page.Cursor == "" {
				break
			}
			cursor = page.Cursor
		}
		_, _ = c.Upload(ctx, ref, "a.txt", "text/plain", 1, strings.NewReader("x"))
		_, _ = c.UpdateComment(ctx, ref, "5", connector.NewComment{Body: "b"})
		_ = c.AddLink(ctx, ref, connector.Link{Type: LinkBlocks, Target: connector.Ref{ID: "acme/widgets#2"}})
		for _, event := range []string{"issues", "issue_comment", "ping"} {
			r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(b)))
			r.Header.Set(SignatureHeader, ghemu.Sign(b, hookSecret))
			r.Header.Set(EventHeader, event)
			_, _ = c.ParseWebhook(r, b, hookSecret)
		}
	})
}

// FuzzMarker: any text with a marker written after it reads back as the
// same text and the same marker, and writing the marker again changes
// nothing.
func FuzzMarker(f *testing.F) {
	for _, s := range [][3]string{
		{"", "lockstep:o1:HELP-1", "https://jira.example/browse/HELP-1"},
		{"text\n\n", "lockstep:a:12", ""},
		{"<!-- a comment -->", "lockstep:o1:a--b> c%", "x y"},
		{"trailing\r\n", "lockstep:o1:K", "-->"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, text, key, link string) {
		if !utf8.ValidString(text) || !utf8.ValidString(key) || !utf8.ValidString(link) || markerRe.MatchString(text) ||
			strings.Contains(text, "<!-- lockstep:") {
			t.Skip()
		}
		token := "lockstep:" + key
		if key == "" {
			t.Skip()
		}
		written := withMarker(text, token, link)
		rest, gotToken, gotLink := splitMarker(written)
		if rest != text || gotToken != token || gotLink != link {
			t.Fatalf("withMarker(%q, %q, %q) = %q, read back as %q, %q, %q", text, token, link, written, rest, gotToken, gotLink)
		}
		if again := withMarker(written, token, link); again != written {
			t.Fatalf("writing again gave %q, want %q", again, written)
		}
	})
}
