package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
)

type received struct {
	header http.Header
	body   []byte
}

func TestWebhooks(t *testing.T) {
	got := make(chan received, 16)
	var calls atomic.Int32
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError) // the first delivery is retried
			return
		}
		got <- received{r.Header, body}
	}))
	defer rx.Close()
	s, hs := newTest(t, Options{WebhookBackoff: 10 * time.Millisecond})
	r := call(t, hs, testToken, "POST", "/api/webhooks", map[string]string{"url": rx.URL, "secret": "shh", "project": "HELP"})
	if r.status != 201 || strings.Contains(string(r.body), "shh") {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	var hook Webhook
	r.decode(t, &hook)
	if r := call(t, hs, testToken, "POST", "/api/webhooks", map[string]string{"url": "ftp://x", "secret": "s", "project": "HELP"}); r.status != 400 {
		t.Fatalf("bad url: %d", r.status)
	}

	mustItem(t, s, NewItem{Project: "ENG", Type: "bug", Title: "not subscribed"})
	it := mustItem(t, s, NewItem{Project: "HELP", Type: "incident", Title: "subscribed"})
	select {
	case d := <-got:
		if d.header.Get(SignatureHeader) != Sign("shh", d.body) || d.header.Get(EventHeader) != "item.created" {
			t.Fatalf("delivery headers %v", d.header)
		}
		var ev Delivery
		if err := json.Unmarshal(d.body, &ev); err != nil || ev.Item.Key != it.Key || ev.Item.Project != "HELP" || ev.Time.IsZero() {
			t.Fatalf("delivery %s", d.body)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery")
	}
	agenttest.Eventually(t, "one delivery after one retry", func() bool { st := s.Stats().Webhooks; return st.Delivered == 1 && st.Retried == 1 })
	if r := call(t, hs, testToken, "GET", "/api/webhooks", nil); strings.Contains(string(r.body), "shh") {
		t.Fatalf("secret listed: %s", r.body)
	}
	if r := call(t, hs, testToken, "DELETE", "/api/webhooks/"+itoa(hook.ID), nil); r.status != 204 {
		t.Fatalf("unregister: %d", r.status)
	}
	mustItem(t, s, NewItem{Project: "HELP", Type: "incident", Title: "after"})
	select {
	case d := <-got:
		t.Fatalf("delivery after unregister: %s", d.body)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestWebhookNeverBlocks: a receiver that hangs must not slow the API.
func TestWebhookNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer rx.Close()
	defer close(release)
	// No client timeout: a delivery to the stuck receiver never ends while
	// the test runs, so an API that waited for one would never finish.
	s, _ := newTest(t, Options{WebhookClient: &http.Client{}})
	if _, err := s.Store().AddWebhook(Webhook{URL: rx.URL, Secret: "s", Project: "HELP"}); err != nil {
		t.Fatal(err)
	}
	created := make(chan struct{})
	go func() {
		defer close(created)
		for range hookQueue + 50 {
			if _, err := s.Store().CreateItem(NewItem{Project: "HELP", Type: "incident", Title: "x"}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-created:
	case <-time.After(time.Minute):
		t.Fatal("creating items is stuck behind a stuck webhook receiver")
	}
	if st := s.Stats().Webhooks; st.Dropped == 0 {
		t.Fatalf("a full queue must drop and count: %+v", st)
	}
}
