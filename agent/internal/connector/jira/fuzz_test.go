package jira

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// FuzzResponses feeds one answer body to every request the connector
// makes, on both deployments, through every reading method and the
// webhook parser: whatever Jira (or something in its place) answers, the
// connector returns an error or a value, never panics or hangs.
func FuzzResponses(f *testing.F) {
	for _, s := range []string{
		`{"id":"10001","key":"HELP-1","fields":{"summary":"s","updated":"2026-01-02T03:04:05.000+0000","issuetype":{"name":"Task"},
			"status":{"name":"To Do"},"assignee":{"accountId":"1","displayName":"A"},"labels":["x","lockstep-0123456789abcdef"],
			"description":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"hi"}]}]},
			"issuelinks":[{"id":"1","type":{"name":"Blocks","inward":"is blocked by","outward":"blocks"},"outwardIssue":{"id":"2","key":"HELP-2"}}],
			"attachment":[{"id":"5","filename":"a.txt","size":3,"created":"2026-01-02T03:04:05.000+0000"}]}}`,
		`{"startAt":0,"maxResults":100,"total":3,"comments":[{"id":"1","body":"h1. x","properties":[{"key":"lockstep","value":{"marker":"m"}}]}]}`,
		`{"issues":[{"id":"1","key":"A-1","fields":null}],"nextPageToken":"t","isLast":false}`,
		`{"issueLinkTypes":[{"name":"Blocks","inward":"is blocked by","outward":"blocks"}],"issueTypes":[{"id":"1","name":"Bug"}]}`,
		`[{"id":"customfield_1","name":"Team","custom":true,"schema":{"type":"option","custom":"select"}}]`,
		`{"webhookEvent":"jira:issue_updated","issue":{"id":"1","key":"A-1"}}`,
		`{"fields":{"description":"{code}x{code}","customfield_1":{"value":3}}}`,
		`null`, `[]`, `{}`, `"text"`, `{"issues":null,"total":-1}`,
	} {
		f.Add([]byte(s))
	}
	var body atomic.Pointer[[]byte]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if b := body.Load(); b != nil {
			_, _ = w.Write(*b)
		}
	}))
	f.Cleanup(srv.Close)
	const hookSecret = "whsec-fuzz"
	f.Fuzz(func(t *testing.T, b []byte) {
		body.Store(&b)
		for _, d := range []string{Cloud, Server} {
			c, err := Open(connector.Config{ID: "fuzz-" + d, Name: "J", Kind: Kind, URL: srv.URL,
				Settings: map[string]any{"deployment": d, "email": "a@example.com"},
				Secrets: map[string]secret.Secret{"apiToken": secret.New("tok-0123456789"),
					"personalAccessToken": secret.New("tok-0123456789")}}, connector.Env{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			ref := connector.Ref{ID: "10001", Key: "HELP-1"}
			_, _ = c.Validate(ctx)
			_, _ = c.Schema(ctx, "HELP")
			_, _ = c.Get(ctx, ref)
			_, _ = c.Comments(ctx, ref)
			_, _ = c.Attachments(ctx, ref)
			_, _ = c.Links(ctx, ref)
			_, _ = c.Changes(ctx, "HELP", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), "")
			_, _ = c.FindByMarker(ctx, "HELP", connector.Marker{System: "s", Key: "K-1"})
			_, _ = c.Update(ctx, ref, connector.Fields{"title": "t", "labels": []string{"a"}}, "")
			_, _ = c.RegisterWebhook(ctx, "HELP", "https://hook.example/x", hookSecret)
			cancel()
			m := hmac.New(sha256.New, []byte(hookSecret))
			m.Write(b)
			r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(b)))
			r.Header.Set(SignatureHeader, "sha256="+hex.EncodeToString(m.Sum(nil)))
			_, _ = c.ParseWebhook(r, b, hookSecret)
		}
	})
}
