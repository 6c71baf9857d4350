package azuredevops

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
)

// FuzzResponses feeds one answer body to every request the connector
// makes, through every reading method and the webhook parser: whatever
// the service (or something in its place) answers, the connector returns
// an error or a value, never panics or hangs.
func FuzzResponses(f *testing.F) {
	for _, s := range []string{
		`{"id":5,"rev":3,"fields":{"System.Title":"t","System.ChangedDate":"2026-01-02T03:04:05.12Z","System.AssignedTo":{"displayName":"A","uniqueName":"a@x"},"System.Tags":"a; lockstep-0123456789abcdef","System.Description":"<p>x<!-- lockstep:s:K --></p>"},"relations":[{"rel":"AttachedFile","url":"https://x/_apis/wit/attachments/1?fileName=a","attributes":{"resourceSize":3}}]}`,
		`{"asOf":"2026-01-02T03:04:05Z","workItems":[{"id":1},{"id":2}]}`,
		`{"count":2,"value":[null,{"id":1,"rev":1,"fields":null}]}`,
		`{"comments":[{"id":1,"text":"<p>hi</p><p><sub>lockstep:a:1</sub></p>","createdBy":{"displayName":"A"}}],"continuationToken":"t"}`,
		`{"value":[{"name":"Bug","states":[{"name":"New"}],"fields":[{"referenceName":"Custom.X","allowedValues":[1,"a"]}]}]}`,
		`{"eventType":"workitem.updated","resource":{"id":2,"workItemId":5,"revision":{"id":5}}}`,
		`{"eventType":"workitem.created","resource":{"id":"x"}}`,
		`null`, `[]`, `{}`, `"text"`, `{"workItems":null,"asOf":"not a date"}`,
	} {
		f.Add([]byte(s))
	}
	url, serve := contracttest.FuzzServer(f)
	const hookSecret = "hook-fuzz"
	f.Fuzz(func(t *testing.T, b []byte) {
		serve(b)
		c := open(t, url, connector.Env{})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		contracttest.ReadAll(ctx, c, "Fabrikam", connector.Ref{ID: "5", Key: "5"}, "3")
		_, _ = c.Changes(ctx, "Fabrikam", time.Time{}, "2026-01-02T03:04:05Z,5,5:1767323045000")
		r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(string(b)))
		r.SetBasicAuth(hookUser, hookSecret)
		_, _ = c.ParseWebhook(r, b, hookSecret)
	})
}

// FuzzWithMarkers: reading a comment's text back into Markdown with its
// marker never panics, and a marker footer always comes back as the HTML
// comment.
func FuzzWithMarkers(f *testing.F) {
	for _, s := range []string{"<p>x</p><!-- lockstep:a:1 --><p><sub>lockstep:a:1</sub></p>", "<div>lockstep:b:2</div>",
		"<sub>lockstep:&amp;</sub>", "lockstep:", "<!-- lockstep:a:1", "<p>plain</p>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		body, err := withMarkers(s)
		if err != nil {
			return
		}
		if m := markerFooter.FindStringSubmatch(s); m != nil && !strings.Contains(body, "<!-- ") {
			t.Fatalf("footer %q lost: %q", m[1], body)
		}
	})
}
