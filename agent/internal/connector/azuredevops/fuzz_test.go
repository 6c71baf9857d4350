package azuredevops

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
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
	var body atomic.Pointer[[]byte]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if b := body.Load(); b != nil {
			_, _ = w.Write(*b)
		}
	}))
	f.Cleanup(srv.Close)
	const hookSecret = "hook-fuzz"
	f.Fuzz(func(t *testing.T, b []byte) {
		body.Store(&b)
		c, err := Open(config(t, srv.URL), connector.Env{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ref := connector.Ref{ID: "5", Key: "5"}
		_, _ = c.Validate(ctx)
		_, _ = c.Schema(ctx, "Fabrikam")
		_, _ = c.Get(ctx, ref)
		_, _ = c.Comments(ctx, ref)
		_, _ = c.Attachments(ctx, ref)
		_, _ = c.Links(ctx, ref)
		_, _ = c.Changes(ctx, "Fabrikam", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), "")
		_, _ = c.Changes(ctx, "Fabrikam", time.Time{}, "2026-01-02T03:04:05Z,5,5:1767323045000")
		_, _ = c.FindByMarker(ctx, "Fabrikam", connector.Marker{System: "s", Key: "K-1"})
		_, _ = c.Update(ctx, ref, connector.Fields{"title": "t", "labels": []string{"a"}}, "3")
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
