package jira

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/jira/jiraemu"
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
	url, serve := contracttest.FuzzServer(f)
	const hookSecret = "whsec-fuzz"
	f.Fuzz(func(t *testing.T, b []byte) {
		serve(b)
		for _, d := range []string{Cloud, Server} {
			c, err := Open(connector.Config{ID: "fuzz-" + d, Name: "J", Kind: Kind, URL: url,
				Settings: map[string]any{"deployment": d, "email": "a@example.com"},
				Secrets: map[string]secret.Secret{"apiToken": secret.New("tok-0123456789"),
					"personalAccessToken": secret.New("tok-0123456789")}}, connector.Env{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			contracttest.ReadAll(ctx, c, "HELP", connector.Ref{ID: "10001", Key: "HELP-1"}, "")
			_, _ = c.RegisterWebhook(ctx, "HELP", "https://hook.example/x", hookSecret)
			cancel()
			r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(b)))
			r.Header.Set(SignatureHeader, jiraemu.Sign(b, hookSecret))
			_, _ = c.ParseWebhook(r, b, hookSecret)
		}
	})
}
