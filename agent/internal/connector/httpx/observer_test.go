package httpx

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) Response(status int, rateLimited bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("response %d %v", status, rateLimited))
}

func (r *recorder) Wait(reason string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "wait "+reason)
}

// TestObserverSeesStatusesAndWaits: the metrics hook hears every attempt's
// status, whether it was a rate limit, and each wait with its reason.
func TestObserverSeesStatusesAndWaits(t *testing.T) {
	limited := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
	}
	s := newServer(t, limited, status(503), status(200))
	rec := &recorder{}
	c := newClient(t, s.URL, Options{Observer: rec})
	if err := c.DoJSON(context.Background(), Request{Method: "GET", Path: "/api/x"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(rec.events, "; ")
	want := "response 429 true; wait retry; response 503 false; wait retry; response 200 false"
	if got != want {
		t.Fatalf("observed %q, want %q", got, want)
	}
	// No answer at all is status 0.
	rec.events = nil
	c2 := newClient(t, "http://127.0.0.1:1", Options{Observer: rec, MaxAttempts: 1})
	if err := c2.DoJSON(context.Background(), Request{Method: "GET", Path: "/"}, nil, nil); err == nil {
		t.Fatal("a closed port answered")
	}
	if len(rec.events) != 1 || rec.events[0] != "response 0 false" {
		t.Fatalf("observed %v", rec.events)
	}
}
