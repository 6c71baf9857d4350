package rpc_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/app"
	"github.com/lockstep-sync/lockstep/agent/internal/rpc"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// clockedAgent runs an initialised agent on a clock the test moves.
func clockedAgent(t *testing.T) (*agent, *fakeClock) {
	t.Helper()
	first := startAgent(t)
	first.stop()
	clock := &fakeClock{}
	return runAgent(t, app.Options{DataDir: first.dir, Now: clock.Now, AfterFunc: clock.AfterFunc}), clock
}

// isSessionExpired says whether m is the SessionExpired event.
func isSessionExpired(m protocol.Incoming) bool {
	var ev apitype.EventNotification
	return m.Method == protocol.NotifyEvent && json.Unmarshal(m.Params, &ev) == nil && ev.Type == apitype.EventSessionExpired
}

// flush returns the notifications c was sent before now: session.hello
// touches no session, and its answer comes after every frame queued
// before it.
func (c *client) flush() []protocol.Incoming {
	c.t.Helper()
	c.hello()
	var got []protocol.Incoming
	for {
		select {
		case m := <-c.notes:
			got = append(got, m)
		default:
			return got
		}
	}
}

// waitSessionExpired waits for c's SessionExpired event without c making
// any call.
func (c *client) waitSessionExpired() {
	c.t.Helper()
	for {
		select {
		case m := <-c.notes:
			if isSessionExpired(m) {
				return
			}
		case <-timeAfter(60): // bounds a broken test only
			c.t.Fatal("the connection was not told that its session timed out")
		}
	}
}

// TestIdleSessionEndsOnTime: a connection that makes no call is ended when
// its session's idle timeout passes, at that moment rather than at its
// next call: it is sent SessionExpired, and after it nothing of its
// subscriptions. A call pushes the idle deadline back; events received do
// not.
func TestIdleSessionEndsOnTime(t *testing.T) {
	ag, clock := clockedAgent(t)
	c := ag.session(t, "admin", adminPassword)
	logs := callOK(t, c, protocol.LogsSubscribe, apitype.LogsSubscribeParams{MinLevel: "debug"}).Sub
	evs := callOK(t, c, protocol.EventsSubscribe, apitype.EventsSubscribeParams{}).Sub

	clock.Advance(29 * time.Minute)
	callOK(t, c, protocol.SessionWhoami, apitype.Empty{}) // a use
	clock.Advance(29 * time.Minute)                       // 58 min since login, 29 since the use
	// Another administrator's change reaches c as an event: no use of c's session.
	w := ag.session(t, "admin", adminPassword)
	callOK(t, w, protocol.EventsSubscribe, apitype.EventsSubscribeParams{})
	bob := callOK(t, w, protocol.AccountsCreate, apitype.AccountsCreateParams{Username: "bob", Password: "bob's long password", Role: "viewer"}).Account
	waitConfigChanged(t, c, bob.ID)
	for _, m := range c.flush() {
		if isSessionExpired(m) {
			t.Fatal("the session ended 29 minutes after its last use")
		}
	}
	clock.Advance(2 * time.Minute) // 31 min since the last call
	c.waitSessionExpired()

	// What happens now reaches w, and nothing of it reaches c.
	carol := callOK(t, w, protocol.AccountsCreate, apitype.AccountsCreateParams{Username: "carol", Password: "carol's long password", Role: "viewer"}).Account
	waitConfigChanged(t, w, carol.ID)
	for _, m := range c.flush() {
		t.Errorf("after SessionExpired the connection was sent %s %s", m.Method, m.Params)
	}
	if _, e := call(c, protocol.SessionWhoami, apitype.Empty{}); kindOf(e) != protocol.KindUnauthorized {
		t.Fatalf("a call after the session timed out: %v, want unauthorized", e)
	}
	c.login("admin", adminPassword)
	for _, id := range []string{logs, evs} {
		if _, e := call(c, protocol.SubCancel, apitype.SubCancelParams{Sub: id}); kindOf(e) != protocol.KindNotFound {
			t.Fatalf("sub.cancel of %s after the session timed out: %v, want not_found", id, e)
		}
	}
}

// TestUsedSessionEndsAtItsAbsoluteTimeout: a session in use ends 12 hours
// after its login, at that moment, though its connection makes no call then.
func TestUsedSessionEndsAtItsAbsoluteTimeout(t *testing.T) {
	ag, clock := clockedAgent(t)
	c := ag.session(t, "admin", adminPassword)
	callOK(t, c, protocol.EventsSubscribe, apitype.EventsSubscribeParams{})
	absolute := clock.Now().Add(12 * time.Hour) // the login was just before
	for clock.Now().Add(25 * time.Minute).Before(absolute.Add(-time.Minute)) {
		clock.Advance(25 * time.Minute)
		callOK(t, c, protocol.SessionWhoami, apitype.Empty{})
	}
	clock.Advance(absolute.Add(-time.Minute).Sub(clock.Now()))
	for _, m := range c.flush() {
		if isSessionExpired(m) {
			t.Fatal("the session ended before its absolute timeout")
		}
	}
	clock.Advance(2 * time.Minute)
	c.waitSessionExpired()
	for _, m := range c.flush() {
		t.Errorf("after SessionExpired the connection was sent %s %s", m.Method, m.Params)
	}
}

// waitConfigChanged waits for c's event of a change to account id; c's
// session must not end meanwhile.
func waitConfigChanged(t *testing.T, c *client, id string) {
	t.Helper()
	for {
		select {
		case m := <-c.notes:
			if isSessionExpired(m) {
				t.Fatalf("the session ended while waiting for the change of account %s", id)
			}
			var ev apitype.EventNotification
			if m.Method != protocol.NotifyEvent || json.Unmarshal(m.Params, &ev) != nil || ev.Type != apitype.EventConfigChanged {
				continue
			}
			var cc apitype.ConfigChanged
			if json.Unmarshal(ev.Data, &cc) == nil && cc.Kind == "account" && cc.ID == id {
				return
			}
		case <-timeAfter(60): // bounds a broken test only
			t.Fatalf("no ConfigChanged event for the account %s", id)
		}
	}
}

// TestEndedSubscriptionSendsNothingMore: an event a subscription had
// already taken when its session timed out is not sent after
// SessionExpired. The test holds the event just before it is queued (a
// hook, no sleeps) while the session times out, then lets it go on and
// waits until it was queued or dropped.
func TestEndedSubscriptionSendsNothingMore(t *testing.T) {
	ag, clock := clockedAgent(t)
	c := ag.session(t, "admin", adminPassword)
	callOK(t, c, protocol.EventsSubscribe, apitype.EventsSubscribeParams{Types: []string{apitype.EventConfigChanged}})
	reached, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var once sync.Once
	t.Cleanup(rpc.SetAroundNotifySub(func() (after func()) {
		after = func() {}
		once.Do(func() {
			close(reached)
			<-release
			after = func() { close(done) }
		})
		return after
	}))
	callOK(t, c, protocol.AccountsCreate, apitype.AccountsCreateParams{Username: "bob", Password: "bob's long password", Role: "viewer"})
	select {
	case <-reached:
	case <-timeAfter(60): // bounds a broken test only
		t.Fatal("the account's ConfigChanged event never reached the connection's subscription")
	}
	clock.Advance(31 * time.Minute)
	c.waitSessionExpired()
	close(release)
	select {
	case <-done:
	case <-timeAfter(60): // bounds a broken test only
		t.Fatal("the held event was never let go")
	}
	for _, m := range c.flush() {
		t.Errorf("after SessionExpired the connection was sent %s %s", m.Method, m.Params)
	}
}

// TestSiblingSessionEndingLeavesIdleDeadline: when a login evicts an
// account's least recently used session, that session's connection is told
// at once, and the account's other sessions are only checked, not used: an
// idle one still times out 30 minutes after its last call.
func TestSiblingSessionEndingLeavesIdleDeadline(t *testing.T) {
	ag, clock := clockedAgent(t)
	oldest := ag.session(t, "admin", adminPassword)
	clock.Advance(time.Minute)
	idle := ag.session(t, "admin", adminPassword)
	callOK(t, idle, protocol.EventsSubscribe, apitype.EventsSubscribeParams{}) // idle's last call
	clock.Advance(28 * time.Minute)
	// Logins on w fill the account's 25 sessions; the next one evicts the
	// least recently used, oldest's.
	w := ag.session(t, "admin", adminPassword)
	for range 23 {
		w.login("admin", adminPassword)
	}
	oldest.waitSessionExpired()
	for _, m := range idle.flush() {
		if isSessionExpired(m) {
			t.Fatal("an idle session ended with its evicted sibling")
		}
	}
	clock.Advance(3 * time.Minute) // 31 min since idle's last call
	idle.waitSessionExpired()
}
