package rpc_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

const (
	operatorPassword = "operator password 123"
	viewerPassword   = "viewer password 12345"
)

func withRoles(t *testing.T) (*agent, map[string]*client) {
	ag := startAgent(t)
	admin := ag.session(t, "admin", adminPassword)
	callOK(t, admin, protocol.AccountsCreate, apitype.AccountsCreateParams{Username: "olga", Password: operatorPassword, Role: "operator"})
	callOK(t, admin, protocol.AccountsCreate, apitype.AccountsCreateParams{Username: "victor", Password: viewerPassword, Role: "viewer"})
	return ag, map[string]*client{
		"admin":    admin,
		"operator": ag.session(t, "olga", operatorPassword),
		"viewer":   ag.session(t, "victor", viewerPassword),
	}
}

// TestRoleTable calls every registered method unauthenticated and as each
// role. The expected result follows from the method's declared access, so a
// method added without a role fails here (its access is invalid), and so does
// one the server implements but the protocol does not declare, or the reverse.
func TestRoleTable(t *testing.T) {
	ag, sessions := withRoles(t)
	anon, _, err := dial(t, ag.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	anonHello, _, _ := dial(t, ag.addr, nil)
	anonHello.hello()

	declared := map[string]bool{}
	for _, d := range protocol.All() {
		declared[d.Name] = true
		if d.Access < protocol.Handshake || d.Access > protocol.Admin {
			t.Errorf("%s is declared without a valid role", d.Name)
		}
	}
	roles := []string{"viewer", "operator", "admin"}
	for _, d := range protocol.All() {
		if d.Name == protocol.SessionLogout.Name {
			continue // ends the session: checked last
		}
		t.Run(d.Name, func(t *testing.T) {
			// Before hello, only handshake methods run.
			resp := anon.raw(d.Name, map[string]any{})
			if resp.Error != nil && resp.Error.Code == protocol.CodeMethodNotFound {
				t.Fatalf("declared in shared/protocol but not implemented by the agent")
			}
			if d.Access != protocol.Handshake && kindOf(resp.Error) != protocol.KindHandshakeRequired {
				t.Fatalf("before hello: %v, want handshake_required", resp.Error)
			}
			// After hello but before login, only handshake and anonymous methods run.
			resp = anonHello.raw(d.Name, map[string]any{})
			if d.Access >= protocol.Viewer && kindOf(resp.Error) != protocol.KindUnauthorized {
				t.Fatalf("not logged in: %v, want unauthorized", resp.Error)
			}
			for _, role := range roles {
				if d.Access < protocol.Viewer {
					continue
				}
				resp := sessions[role].raw(d.Name, map[string]any{})
				k := kindOf(resp.Error)
				allowed := protocol.Role(role).Allows(d.Access)
				if !allowed && k != protocol.KindForbidden {
					t.Errorf("as %s: %v, want forbidden", role, resp.Error)
				}
				if allowed && (k == protocol.KindForbidden || k == protocol.KindUnauthorized || k == protocol.KindInternal) {
					t.Errorf("as %s: %v, want the method to run", role, resp.Error)
				}
			}
		})
	}
	// The other direction: an unknown method is not found, not silently allowed.
	if resp := sessions["admin"].raw("systems.destroyAll", map[string]any{}); resp.Error == nil || resp.Error.Code != protocol.CodeMethodNotFound {
		t.Fatalf("unknown method: %+v", resp.Error)
	}
	for _, role := range roles {
		if _, e := call(sessions[role], protocol.SessionLogout, apitype.Empty{}); e != nil {
			t.Fatalf("logout as %s: %v", role, e)
		}
		if _, e := call(sessions[role], protocol.SessionWhoami, apitype.Empty{}); kindOf(e) != protocol.KindUnauthorized {
			t.Fatalf("after logout as %s: %v", role, e)
		}
	}
}

func TestOriginCheck(t *testing.T) {
	ag := startAgent(t)
	_, resp, err := dial(t, ag.addr, http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: err %v, resp %+v", err, resp)
	}
	// No Origin (the Go client) is allowed; an allowed origin too.
	admin := ag.session(t, "admin", adminPassword)
	origins := []string{"https://admin.example.com"}
	callOK(t, admin, protocol.SettingsSet, apitype.SettingsSetParams{Origins: &origins})
	if _, _, err := dial(t, ag.addr, http.Header{"Origin": {"https://admin.example.com"}}); err != nil {
		t.Fatalf("allowed origin refused: %v", err)
	}
	if _, resp, err := dial(t, ag.addr, http.Header{"Origin": {"https://evil.example"}}); err == nil || resp.StatusCode != 403 {
		t.Fatal("foreign origin accepted after setting the allow list")
	}
}

func TestMalformedFramesGetErrorsAndHurtNoOne(t *testing.T) {
	ag := startAgent(t)
	other := ag.session(t, "admin", adminPassword)
	c, _, err := dial(t, ag.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, frame := range []string{"{", "[]", `{"jsonrpc":"2.0","id":"m1"}`, `{"jsonrpc":"2.0","id":"m2","method":"session.hello","params":[1]}`, "\x00\xff"} {
		c.ws.WriteMessage(1, []byte(frame))
	}
	// Wrong param types name the field.
	c.hello()
	resp := c.raw(protocol.SessionLogin.Name, map[string]any{"username": 5})
	if resp.Error == nil || resp.Error.Data == nil || resp.Error.Data.Field != "username" {
		t.Fatalf("bad params: %+v", resp.Error)
	}
	// Before login, a frame over 64 KiB closes this connection only.
	big := `{"jsonrpc":"2.0","id":9,"method":"session.login","params":{"username":"` + strings.Repeat("a", 70<<10) + `"}}`
	c.ws.WriteMessage(1, []byte(big))
	select {
	case <-c.closed:
	case <-timeAfter(30): // bounds a broken test only
		t.Fatal("an oversized frame did not close the connection")
	}
	if _, e := call(other, protocol.AgentInfo, apitype.Empty{}); e != nil {
		t.Fatalf("another session was affected: %v", e)
	}
	// Version mismatch says which versions are supported.
	c2, _, _ := dial(t, ag.addr, nil)
	_, e := call(c2, protocol.SessionHello, apitype.HelloParams{Protocol: 99})
	if kindOf(e) != protocol.KindVersionMismatch || len(e.Data.Supported) != 1 || e.Data.Supported[0] != 1 {
		t.Fatalf("version mismatch: %+v", e)
	}
}
