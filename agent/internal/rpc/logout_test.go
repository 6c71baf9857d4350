package rpc_test

import (
	"testing"

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
