package httpx

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func keyedLimiter(key string) (*limiter, bool) {
	limitersMu.Lock()
	defer limitersMu.Unlock()
	l, ok := limiters[key]
	return l, ok
}

// A system's limiter outlives the Client it was made for while another
// Client of the same system holds it (a replacement opened before the old
// one closes keeps a pause the server asked for), and is forgotten when the
// last one closes (a deleted system leaves nothing behind).
func TestCloseReleasesTheSharedLimiter(t *testing.T) {
	s := newServer(t, status(200))
	old := newClient(t, s.URL, Options{LimiterKey: t.Name()})
	l, _ := keyedLimiter(t.Name())
	replacement := newClient(t, s.URL, Options{LimiterKey: t.Name()})
	if replacement.lim != l {
		t.Fatal("two Clients of one system do not share its limiter")
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil { // idempotent: must not release twice
		t.Fatal(err)
	}
	if got, ok := keyedLimiter(t.Name()); !ok || got != l {
		t.Fatal("closing the replaced Client dropped the limiter its replacement holds")
	}
	if err := replacement.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := keyedLimiter(t.Name()); ok {
		t.Fatal("the last Close left the system's limiter behind")
	}
}

// Close drops idle connections of the transport the Client made, and the
// Client still works after it (a run may hold it while its system changes).
func TestCloseDropsIdleConnectionsAndStaysUsable(t *testing.T) {
	closed := make(chan struct{}, 16)
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed <- struct{}{}
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	c := newClient(t, s.URL, Options{})
	ctx := context.Background()
	if err := c.DoJSON(ctx, Request{Method: "GET", Path: "/"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(30 * time.Second): // only a hang gets here
		t.Fatal("the idle connection was not closed")
	}
	if err := c.DoJSON(ctx, Request{Method: "GET", Path: "/"}, nil, nil); err != nil {
		t.Fatalf("a request after Close: %v", err)
	}
}
