package agentclient

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient/fakeagent"
	"github.com/lockstep-sync/lockstep/desktop/internal/desktoptest"
)

// waitLimit bounds waits and calls in tests: it only ends a broken test, so
// it is generous for a busy machine and says nothing of speed.
const waitLimit = 20 * time.Second

// testOptions pins a's key and reconnects fast.
func testOptions(a *fakeagent.Agent) Options {
	return Options{
		URL:          a.URL(),
		Fingerprint:  a.Fingerprint(),
		Client:       "lockstep-desktop/test",
		ReconnectMin: 5 * time.Millisecond,
		ReconnectMax: 40 * time.Millisecond,
	}
}

func dial(t *testing.T, a *fakeagent.Agent) *Client {
	t.Helper()
	return dialWith(t, testOptions(a))
}

func dialWith(t *testing.T, o Options) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	c, err := Dial(ctx, o)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func login(t *testing.T, c *Client) Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	s, err := c.Login(ctx, "admin", "admin-password")
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

func waitState(t *testing.T, c *Client, want State) {
	t.Helper()
	desktoptest.Eventually(t, "state "+want.String(), func() bool { return c.State() == want })
}

// recorder collects values from handlers running on the dispatcher.
type recorder[T any] struct {
	mu  sync.Mutex
	got []T
}

func (r *recorder[T]) add(v T) {
	r.mu.Lock()
	r.got = append(r.got, v)
	r.mu.Unlock()
}

func (r *recorder[T]) all() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.got...)
}

func (r *recorder[T]) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// dropAndWait drops the agent's connections and waits for c to be back in
// state want on a new connection.
func dropAndWait(t *testing.T, a *fakeagent.Agent, c *Client, want State) {
	t.Helper()
	n := a.Connections()
	a.DropConnections()
	desktoptest.Eventually(t, "reconnect", func() bool { return a.Connections() > n && c.State() == want })
}
