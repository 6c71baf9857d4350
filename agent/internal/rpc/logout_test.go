package rpc_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/app"
	"github.com/lockstep-sync/lockstep/agent/internal/rpc"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// TestLogoutEndsItsSubscriptions: session.logout ends the connection's
// subscriptions, as a session ended elsewhere does. A logged-out connection
// is sent no more events or log lines, and signing in again on it starts
// with none: subscriptions left behind would count against the connection's
// cap, until a desktop that signs out and in again could subscribe no more.
func TestLogoutEndsItsSubscriptions(t *testing.T) {
	ag := startAgent(t)
	c := ag.session(t, "admin", adminPassword)
	logs := callOK(t, c, protocol.LogsSubscribe, apitype.LogsSubscribeParams{}).Sub
	// Subscribe up to the connection's cap.
	var events []string
	for {
		r, e := call(c, protocol.EventsSubscribe, apitype.EventsSubscribeParams{})
		if kindOf(e) == protocol.KindRateLimited {
			break
		}
		if e != nil {
			t.Fatalf("events.subscribe: %v", e)
		}
		if events = append(events, r.Sub); len(events) > 1000 {
			t.Fatal("no cap on a connection's subscriptions")
		}
	}
	callOK(t, c, protocol.SessionLogout, apitype.Empty{})
	c.login("admin", adminPassword)
	for _, id := range []string{logs, events[0]} {
		if _, e := call(c, protocol.SubCancel, apitype.SubCancelParams{Sub: id}); kindOf(e) != protocol.KindNotFound {
			t.Fatalf("sub.cancel of %s, made before the logout: %v, want not_found", id, e)
		}
	}
	for range len(events) + 1 {
		callOK(t, c, protocol.EventsSubscribe, apitype.EventsSubscribeParams{})
	}
}

// TestSubscribeInFlightAtLogout: calls on one connection run concurrently,
// so an events.subscribe let in while the connection was logged in may
// reach the point of recording its subscription after session.logout
// cleared them. The test holds the subscribe there (a hook, no sleeps),
// logs out meanwhile, then lets it go on: it is refused as unauthorized,
// and a login on the same connection starts with none, its whole cap free.
func TestSubscribeInFlightAtLogout(t *testing.T) {
	ag := startAgent(t)
	c := ag.session(t, "admin", adminPassword)
	reached, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	t.Cleanup(rpc.SetBeforeAddSub(func() {
		once.Do(func() {
			close(reached)
			<-release
		})
	}))
	type answer struct {
		r apitype.EventsSubscribeResult
		e *protocol.Error
	}
	done := make(chan answer, 1)
	go func() {
		r, e := call(c, protocol.EventsSubscribe, apitype.EventsSubscribeParams{})
		done <- answer{r, e}
	}()
	select {
	case <-reached:
	case <-timeAfter(30):
		t.Fatal("events.subscribe never reached the point of recording its subscription")
	}
	callOK(t, c, protocol.SessionLogout, apitype.Empty{})
	close(release)
	var a answer
	select {
	case a = <-done:
	case <-timeAfter(30):
		t.Fatal("no answer to the events.subscribe held at logout")
	}
	if kindOf(a.e) != protocol.KindUnauthorized {
		t.Fatalf("events.subscribe in flight at logout: sub %q, error %v; want unauthorized", a.r.Sub, a.e)
	}
	// After the logout, a subscribe is refused before it gets anywhere.
	if _, e := call(c, protocol.LogsSubscribe, apitype.LogsSubscribeParams{}); kindOf(e) != protocol.KindUnauthorized {
		t.Fatalf("logs.subscribe after logout: %v, want unauthorized", e)
	}
	c.login("admin", adminPassword)
	for range rpc.MaxSubsPerConn {
		callOK(t, c, protocol.EventsSubscribe, apitype.EventsSubscribeParams{})
	}
	if _, e := call(c, protocol.EventsSubscribe, apitype.EventsSubscribeParams{}); kindOf(e) != protocol.KindRateLimited {
		t.Fatalf("one subscription past the cap: %v, want rate_limited", e)
	}
}

// TestExpiredSessionEndsItsSubscriptions: a call that finds the session
// timed out (idle) answers unauthorized and ends the connection's
// subscriptions, as a logout does; a login on the same connection then has
// its whole cap of subscriptions.
func TestExpiredSessionEndsItsSubscriptions(t *testing.T) {
	first := startAgent(t)
	first.stop()
	var skew atomic.Int64
	ag := runAgent(t, app.Options{DataDir: first.dir, Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	c := ag.session(t, "admin", adminPassword)
	for range rpc.MaxSubsPerConn {
		callOK(t, c, protocol.EventsSubscribe, apitype.EventsSubscribeParams{})
	}
	skew.Store(int64(13 * time.Hour)) // past both the idle and the absolute timeout
	if _, e := call(c, protocol.SessionWhoami, apitype.Empty{}); kindOf(e) != protocol.KindUnauthorized {
		t.Fatalf("a call of an expired session: %v, want unauthorized", e)
	}
	c.login("admin", adminPassword)
	for range rpc.MaxSubsPerConn {
		callOK(t, c, protocol.EventsSubscribe, apitype.EventsSubscribeParams{})
	}
}
