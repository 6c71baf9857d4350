package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

func withConnections(limits map[string]int) func(map[string]any) {
	return func(boot map[string]any) { boot["connections"] = limits }
}

// waitClosed waits for the agent to close c; the bound only catches a hang.
func waitClosed(t *testing.T, c *client, why string) {
	t.Helper()
	select {
	case <-c.closed:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: the connection was not closed", why)
	}
}

// TestUnauthenticatedConnectionsAreCapped: connections that have not
// logged in are capped per address and in total; logging in (or closing)
// frees the place, and logged-in connections do not count.
func TestUnauthenticatedConnectionsAreCapped(t *testing.T) {
	ag := startAgentWith(t, withConnections(map[string]int{"maxUnauthenticated": 5, "maxUnauthenticatedPerAddress": 3}))
	admin := ag.session(t, "admin", adminPassword) // logged in: not counted
	open := func(from string) (*client, int) {
		t.Helper()
		c, resp, err := dialFrom(t, from, ag.addr, nil)
		if err != nil {
			if resp == nil {
				t.Fatalf("dial from %s: %v", from, err)
			}
			return nil, resp.StatusCode
		}
		return c, 0
	}
	var first []*client
	for i := range 3 {
		c, status := open("127.0.0.1")
		if c == nil {
			t.Fatalf("connection %d from 127.0.0.1 refused with %d", i+1, status)
		}
		first = append(first, c)
	}
	if _, status := open("127.0.0.1"); status != http.StatusTooManyRequests {
		t.Fatalf("a 4th unauthenticated connection from one address: status %d, want 429", status)
	}
	var second []*client
	for range 2 {
		c, status := open("127.0.0.2")
		if c == nil {
			t.Fatalf("127.0.0.2 refused with %d", status)
		}
		second = append(second, c)
	}
	if _, status := open("127.0.0.3"); status != http.StatusServiceUnavailable {
		t.Fatalf("a 6th unauthenticated connection in all: status %d, want 503", status)
	}
	// Logging in frees the place.
	first[0].hello()
	first[0].login("admin", adminPassword)
	if c, status := open("127.0.0.3"); c == nil {
		t.Fatalf("after a login, 127.0.0.3 was still refused (%d)", status)
	}
	// So does closing.
	second[0].ws.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, _ := open("127.0.0.2"); c != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed connection's place was never freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, e := call(admin, protocol.AgentInfo, apitype.Empty{}); e != nil {
		t.Fatalf("the logged-in admin was affected: %v", e)
	}
}

// TestConnectionsMustLogInInTime: a connection that says hello and answers
// pings but never logs in is closed after the login timeout with 1008; one
// that logs in stays; one that logs out gets a new timeout.
func TestConnectionsMustLogInInTime(t *testing.T) {
	ag := startAgentWith(t, withConnections(map[string]int{"loginTimeoutSeconds": 1}))
	idle, _, err := dial(t, ag.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	idle.hello()
	var closeCode int
	idle.ws.SetCloseHandler(func(code int, text string) error { closeCode = code; return nil })
	user := ag.session(t, "admin", adminPassword)
	waitClosed(t, idle, "an idle connection that never logged in")
	if closeCode != websocket.ClosePolicyViolation {
		t.Errorf("close code %d, want 1008", closeCode)
	}
	// The logged-in one outlived it, and works.
	if _, e := call(user, protocol.AgentInfo, apitype.Empty{}); e != nil {
		t.Fatalf("logged-in connection: %v", e)
	}
	if _, e := call(user, protocol.SessionLogout, apitype.Empty{}); e != nil {
		t.Fatal(e)
	}
	waitClosed(t, user, "a connection that logged out and did not log in again")
}

// TestAuthorizationOnUpgradeIsRefused: the contract has one way to present
// credentials (session.login / session.resume after hello); an upgrade that
// carries an Authorization header is refused with a clear answer, even with
// a valid token, which it does not echo.
func TestAuthorizationOnUpgradeIsRefused(t *testing.T) {
	ag := startAgent(t)
	fresh, _, err := dial(t, ag.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	fresh.hello()
	res := fresh.login("admin", adminPassword)
	token := res.Token.Reveal()
	_, resp, err := dial(t, ag.addr, http.Header{"Authorization": {"Bearer " + token}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("upgrade with Authorization: err %v, resp %+v", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "session.resume") || strings.Contains(string(body), token) {
		t.Fatalf("answer %q", body)
	}
	// The token itself still resumes a session the documented way.
	again, _, err := dial(t, ag.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	again.hello()
	callOK(t, again, protocol.SessionResume, apitype.ResumeParams{Token: apitype.Secret(token)})
	callOK(t, again, protocol.SessionWhoami, apitype.Empty{})
}

// TestLockoutEndsLiveSessions: when guessing locks an account, its
// connections stop being served at once: they are told (SessionExpired),
// their subscriptions end, and their next call is unauthorized.
func TestLockoutEndsLiveSessions(t *testing.T) {
	ag := startAgent(t)
	admin := ag.session(t, "admin", adminPassword)
	callOK(t, admin, protocol.AccountsCreate, apitype.AccountsCreateParams{Username: "bob", Password: "bob's long password", Role: "viewer"})
	bob := ag.session(t, "bob", "bob's long password")
	callOK(t, bob, protocol.EventsSubscribe, apitype.EventsSubscribeParams{})
	guesser, _, err := dialFrom(t, "127.0.0.5", ag.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	guesser.hello()
	var locked bool
	for i := range 5 {
		_, e := call(guesser, protocol.SessionLogin, apitype.LoginParams{Username: "bob", Password: apitype.Secret(fmt.Sprintf("guess %d wrong", i))})
		locked = kindOf(e) == protocol.KindLockedOut
	}
	if !locked {
		t.Fatal("five failures did not lock bob")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // bounds a broken test only
	defer cancel()
	for {
		var m protocol.Incoming
		select {
		case m = <-bob.notes:
		case <-ctx.Done():
			t.Fatal(errors.New("bob was not told that his session ended"))
		}
		var ev apitype.EventNotification
		if m.Method == protocol.NotifyEvent && json.Unmarshal(m.Params, &ev) == nil && ev.Type == apitype.EventSessionExpired {
			break
		}
	}
	if _, e := call(bob, protocol.SessionWhoami, apitype.Empty{}); kindOf(e) != protocol.KindUnauthorized {
		t.Fatalf("bob's call after the lockout: %v", e)
	}
	if _, e := call(admin, protocol.SessionWhoami, apitype.Empty{}); e != nil {
		t.Fatalf("the admin's session: %v", e)
	}
}
