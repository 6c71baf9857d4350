package github

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/github/ghemu"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// Tests here pin behaviour GitHub documents, against hand-written answers
// in the documented shapes rather than the emulator, so that a wrong
// reading shared by the connector and the emulator cannot hide.

// docIssue is the start of the "Get an issue" example of "REST API
// endpoints for issues" (trimmed to the fields the connector reads):
// closed, no state_reason, labels as objects, a pull_request key.
const docIssue = `{
  "id": 1, "node_id": "MDU6SXNzdWUx", "url": "https://api.github.com/repos/octocat/Hello-World/issues/1347",
  "repository_url": "https://api.github.com/repos/octocat/Hello-World",
  "html_url": "https://github.com/octocat/Hello-World/issues/1347", "number": 1347, "state": "closed",
  "state_reason": null, "title": "Found a bug", "body": "I'm having a problem with this.",
  "user": {"login": "octocat", "id": 1, "type": "User"},
  "labels": [{"id": 208045946, "name": "bug", "description": "Something isn't working", "color": "f29513", "default": true}],
  "assignee": {"login": "octocat", "id": 1}, "assignees": [{"login": "octocat", "id": 1}],
  "milestone": {"id": 1002604, "number": 1, "state": "open", "title": "v1.0"},
  "locked": true, "comments": 0,
  "pull_request": {"url": "https://api.github.com/repos/octocat/Hello-World/pulls/1347", "html_url": "https://github.com/octocat/Hello-World/pull/1347"},
  "closed_at": null, "created_at": "2011-04-22T13:33:48Z", "updated_at": "2011-04-22T13:33:48Z"
}`

// fake answers each "METHOD path" with the next of its answers (the last
// repeats) and records the requests.
type fake struct {
	mu      sync.Mutex
	answers map[string][]func(w http.ResponseWriter, r *http.Request)
	got     []*http.Request
	at      []time.Time
}

func serveFake(t *testing.T, answers map[string][]func(w http.ResponseWriter, r *http.Request)) (*Conn, *fake) {
	t.Helper()
	f := &fake{answers: answers}
	n := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		f.mu.Lock()
		f.got = append(f.got, r.Clone(context.Background()))
		f.at = append(f.at, time.Now())
		list := f.answers[key]
		i := n[key]
		n[key]++
		f.mu.Unlock()
		if len(list) == 0 {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
			return
		}
		list[min(i, len(list)-1)](w, r)
	}))
	t.Cleanup(srv.Close)
	cfg := connector.Config{ID: "sys-" + t.Name(), Name: "GitHub", Kind: Kind, URL: srv.URL,
		Settings: map[string]any{"owner": "octocat", "repository": "Hello-World", "writesPerMinute": 60000},
		Secrets:  map[string]secret.Secret{"token": secret.New("ghp_fake0123456789")}}
	c, err := Open(cfg, connector.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

func answer(status int, body string, header ...string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// TestDocumentedIssue reads the documentation's example issue.
func TestDocumentedIssue(t *testing.T) {
	c, f := serveFake(t, map[string][]func(w http.ResponseWriter, r *http.Request){
		"GET /repos/octocat/Hello-World/issues/1347": {answer(200, docIssue)},
	})
	e, err := c.Get(context.Background(), connector.Ref{ID: "octocat/Hello-World#1347"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"status": "completed", "state": "closed", "labels": "[bug]", "milestone": "v1.0", "assignees": "[octocat]",
		"description": "I'm having a problem with this.", "stateReason": "<nil>"}
	for k, v := range want {
		if got := sprint(e.Fields[k]); got != v {
			t.Errorf("%s = %s, want %s", k, got, v)
		}
	}
	if e.Type != TypePullRequest || e.ID != "octocat/Hello-World#1347" || !e.UpdatedAt.Equal(time.Date(2011, 4, 22, 13, 33, 48, 0, time.UTC)) {
		t.Fatalf("entity %+v", e)
	}
	r := f.got[0]
	if r.Header.Get("Accept") != "application/vnd.github+json" || r.Header.Get("X-GitHub-Api-Version") != "2022-11-28" ||
		r.Header.Get("Authorization") != "Bearer ghp_fake0123456789" {
		t.Fatalf("request headers %v", r.Header)
	}
}

func sprint(v any) string {
	switch x := v.(type) {
	case nil:
		return "<nil>"
	case string:
		return x
	case []string:
		return "[" + strings.Join(x, " ") + "]"
	}
	return "?"
}

// TestConditionalRequests pins "Use conditional requests if appropriate"
// (Best practices for using the REST API): the validators of the last
// answer go back as If-None-Match and If-Modified-Since, exactly as sent,
// and a 304, which has no body, serves the answer kept from before.
func TestConditionalRequests(t *testing.T) {
	const etag = `"644b5b0155e6404a9cc4bd9d8b1ae730"`
	const modified = "Wed, 25 Oct 2023 19:17:59 GMT"
	c, f := serveFake(t, map[string][]func(w http.ResponseWriter, r *http.Request){
		"GET /repos/octocat/Hello-World/issues/1347": {
			answer(200, docIssue, "ETag", etag, "Last-Modified", modified),
			answer(304, "", "ETag", etag),
		},
	})
	ctx := context.Background()
	first, err := c.Get(ctx, connector.Ref{ID: "1347"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Get(ctx, connector.Ref{ID: "1347"})
	if err != nil || second.Version != first.Version || second.Title != "Found a bug" {
		t.Fatalf("after 304: %+v, %v", second, err)
	}
	if len(f.got) != 2 || f.got[0].Header.Get("If-None-Match") != "" ||
		f.got[1].Header.Get("If-None-Match") != etag || f.got[1].Header.Get("If-Modified-Since") != modified {
		t.Fatalf("conditional headers: %v / %v", f.got[0].Header, f.got[1].Header)
	}
}

// TestSecondaryLimitWithoutRetryAfter pins "Rate limits for the REST API":
// a 403 whose message names a secondary rate limit, with no retry-after
// and x-ratelimit-remaining above 0, means waiting at least a minute (here
// shortened) before trying again.
func TestSecondaryLimitWithoutRetryAfter(t *testing.T) {
	msg := `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	c, f := serveFake(t, map[string][]func(w http.ResponseWriter, r *http.Request){
		"GET /repos/octocat/Hello-World/issues/1347": {
			answer(403, msg, "X-RateLimit-Remaining", "4990", "X-RateLimit-Limit", "5000"),
			answer(200, docIssue),
		},
	})
	c.secondaryWait = 400 * time.Millisecond
	if _, err := c.Get(context.Background(), connector.Ref{ID: "1347"}); err != nil {
		t.Fatal(err)
	}
	if len(f.at) != 2 || f.at[1].Sub(f.at[0]) < 350*time.Millisecond {
		t.Fatalf("%d requests; the retry must wait for the secondary limit", len(f.at))
	}
	// A 403 for anything else stays a refusal.
	c2, _ := serveFake(t, map[string][]func(w http.ResponseWriter, r *http.Request){
		"GET /repos/octocat/Hello-World/issues/1": {answer(403, `{"message":"Resource not accessible by personal access token"}`, "X-RateLimit-Remaining", "4990")},
	})
	if _, err := c2.Get(context.Background(), connector.Ref{ID: "1"}); !errors.Is(err, connector.ErrForbidden) {
		t.Fatalf("a plain 403: %v", err)
	}
}

// TestPrimaryLimitReset pins the primary limit: 403 with
// x-ratelimit-remaining 0 means waiting until x-ratelimit-reset (UTC epoch
// seconds), then trying again.
func TestPrimaryLimitReset(t *testing.T) {
	reset := strconv.FormatInt(time.Now().Add(1500*time.Millisecond).Unix(), 10)
	c, f := serveFake(t, map[string][]func(w http.ResponseWriter, r *http.Request){
		"GET /repos/octocat/Hello-World/issues/1347": {
			answer(403, `{"message":"API rate limit exceeded for user ID 1."}`, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset,
				"X-RateLimit-Limit", "5000", "X-RateLimit-Used", "5000", "X-RateLimit-Resource", "core"),
			answer(200, docIssue),
		},
	})
	if _, err := c.Get(context.Background(), connector.Ref{ID: "1347"}); err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.ParseInt(reset, 10, 64)
	if len(f.at) != 2 || f.at[1].Before(time.Unix(n, 0)) {
		t.Fatalf("retried at %v, before the reset at %s", f.at, reset)
	}
}

// TestMalformedAnswers: what is not GitHub's JSON, or breaks the order
// asked for, is the system's failure (unavailable, to be tried again), not
// an empty result.
func TestMalformedAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"object instead of a list": `{"message":"Server Error"}`,
		"HTML":                     `<html><body>Unicorn!</body></html>`,
		"not ascending": `[{"number":2,"title":"b","updated_at":"2026-01-02T00:00:05Z"},
			{"number":1,"title":"a","updated_at":"2026-01-02T00:00:01Z"}]`,
		"no update time": `[{"number":1,"title":"a"}]`,
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := serveFake(t, map[string][]func(w http.ResponseWriter, r *http.Request){
				"GET /repos/octocat/Hello-World/issues": {answer(200, body)},
			})
			_, err := c.Changes(context.Background(), "Hello-World", time.Time{}, "")
			if !errors.Is(err, connector.ErrUnavailable) {
				t.Fatalf("Changes = %v, want ErrUnavailable", err)
			}
		})
	}
}

// TestDocumentedWebhook parses the shape of an "issues" delivery ("Webhook
// events and payloads"), signed as "Validating webhook deliveries"
// describes: HMAC-SHA256 of the raw body with the secret, hex, "sha256="
// before it, in X-Hub-Signature-256.
func TestDocumentedWebhook(t *testing.T) {
	c, _ := serveFake(t, nil)
	body := []byte(`{"action":"opened","issue":{"number":1347,"title":"Found a bug"},"repository":{"id":1296269,"name":"Hello-World","full_name":"octocat/Hello-World"},"sender":{"login":"octocat"}}`)
	// The documentation's example: secret "It's a Secret to Everybody" and
	// payload "Hello, World!" sign as below.
	if !connector.VerifySHA256("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", []byte("Hello, World!"), "It's a Secret to Everybody") {
		t.Fatal("the documentation's example signature does not verify")
	}
	req := httptest.NewRequest(http.MethodPost, "/hook", nil)
	req.Header.Set(EventHeader, "issues")
	req.Header.Set(SignatureHeader, ghemu.Sign(body, "s3cret"))
	refs, err := c.ParseWebhook(req, body, "s3cret")
	if err != nil || len(refs) != 1 || refs[0].ID != "octocat/Hello-World#1347" {
		t.Fatalf("ParseWebhook = %+v, %v", refs, err)
	}
	req.Header.Set(EventHeader, "push")
	if refs, err := c.ParseWebhook(req, body, "s3cret"); err != nil || len(refs) != 0 {
		t.Fatalf("another event: %+v, %v", refs, err)
	}
}
