package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

func TestAppInfo(t *testing.T) {
	got := New(Config{Name: "Lockstep", Version: "1.2.3"}).AppInfo()
	want := Info{Name: "Lockstep", Version: "1.2.3"}
	if got != want {
		t.Fatalf("AppInfo() = %+v, want %+v", got, want)
	}
}

func TestProfilesSavedNormalisedAndLoaded(t *testing.T) {
	f := newFixture(t)
	if f.profile.URL != f.agent.URL() {
		t.Fatalf("URL normalised to %q, want %q", f.profile.URL, f.agent.URL())
	}
	// Fingerprints are accepted the way people copy them.
	upper := strings.ToUpper(f.agent.Fingerprint())
	var colons []string
	for i := 0; i < len(upper); i += 2 {
		colons = append(colons, upper[i:i+2])
	}
	p, err := f.app.SaveProfile(Profile{Name: "copy", URL: "https://" + f.agent.Addr(), Fingerprint: strings.Join(colons, ":")})
	if err != nil {
		t.Fatal(err)
	}
	if p.Fingerprint != f.agent.Fingerprint() || p.URL != f.agent.URL() {
		t.Fatalf("saved %+v", p)
	}
	list, err := f.app.ListProfiles()
	if err != nil || len(list) != 2 || list[0].Name != "copy" || list[1].Name != "fake" {
		t.Fatalf("list: %+v %v", list, err)
	}
	for _, bad := range []Profile{
		{Name: "x", URL: "http://plain:80"},
		{Name: "x", URL: "agent:7443", Fingerprint: "nothex"},
		{Name: "", URL: "agent:7443"},
	} {
		if _, err := f.app.SaveProfile(bad); kindOf(err) != "invalid" {
			t.Errorf("SaveProfile(%+v) = %v (kind %q), want invalid", bad, err, kindOf(err))
		}
	}
	if err := f.app.DeleteProfile("copy"); err != nil {
		t.Fatal(err)
	}
	if err := f.app.DeleteProfile("copy"); kindOf(err) != "not_found" {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := f.app.Connect("nobody"); kindOf(err) != "not_found" {
		t.Fatalf("connect to a missing profile: %v", err)
	}
}

func TestProbeThenPinThenConnect(t *testing.T) {
	f := newFixture(t)
	pr, err := f.app.ProbeAgent(f.agent.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if pr.Fingerprint != f.agent.Fingerprint() || pr.URL != f.agent.URL() {
		t.Fatalf("probe = %+v", pr)
	}
	if f.agent.Connections() != 0 {
		t.Fatal("probing opened a WebSocket")
	}
	if _, err := f.app.SaveProfile(Profile{Name: "pinned", URL: pr.URL, Fingerprint: pr.Fingerprint}); err != nil {
		t.Fatal(err)
	}
	st, err := f.app.Connect("pinned")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != "connected" || st.Profile != "pinned" || st.Session != nil {
		t.Fatalf("status = %+v", st)
	}
	f.rec.WaitFor(t, "conn:state connected", func() bool { return f.rec.sawState("connected") })
	if got := f.rec.states(); got[0] != "connecting" {
		t.Fatalf("first state event %q, want connecting", got[0])
	}
	if _, err := f.app.ProbeAgent("http://x"); kindOf(err) != "invalid" {
		t.Fatalf("probe of a plaintext URL: %v", err)
	}
}

func TestChangedFingerprintIsRefused(t *testing.T) {
	f := newFixture(t)
	if err := f.agent.RotateKey(); err != nil {
		t.Fatal(err)
	}
	_, err := f.app.Connect("fake")
	if kindOf(err) != KindFingerprintMismatch {
		t.Fatalf("connect with a changed key: %v (kind %q)", err, kindOf(err))
	}
	msg := FormatError(err).Message
	if !strings.Contains(msg, f.profile.Fingerprint) || !strings.Contains(msg, f.agent.Fingerprint()) {
		t.Fatalf("message does not name both fingerprints: %s", msg)
	}
	if f.agent.Connections() != 0 {
		t.Fatal("a WebSocket was opened to an agent with the wrong key")
	}
	st := f.app.Status()
	if st.State != "fingerprintMismatch" || st.Error == "" {
		t.Fatalf("status = %+v", st)
	}
	if !f.rec.sawState("fingerprintMismatch") {
		t.Fatalf("no fingerprintMismatch event: %v", f.rec.states())
	}
	if _, err := f.app.Login("admin", "admin-password"); kindOf(err) != KindNotConnected {
		t.Fatalf("login while refused: %v", err)
	}
	// The profile keeps the old pin until the administrator saves a new one.
	p, _ := f.app.cfg.Profiles.Get("fake")
	if p.Fingerprint != f.profile.Fingerprint {
		t.Fatal("the pin changed by itself")
	}
}

func TestLoginLogoutAndErrors(t *testing.T) {
	f := newFixture(t)
	if _, err := f.app.Login("admin", "admin-password"); kindOf(err) != KindNotConnected {
		t.Fatalf("login before connect: %v", err)
	}
	if _, err := f.app.Call("systems.list", nil); kindOf(err) != KindNotConnected {
		t.Fatalf("call before connect: %v", err)
	}
	if _, err := f.app.Connect("fake"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.Login("admin", "wrong password"); kindOf(err) != "unauthorized" {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := f.app.Login("", ""); kindOf(err) != "invalid" {
		t.Fatalf("empty credentials: %v", err)
	}
	s, err := f.app.Login("admin", "admin-password")
	if err != nil {
		t.Fatal(err)
	}
	if s.Username != "admin" || s.Role != "admin" {
		t.Fatalf("session = %+v", s)
	}
	f.rec.WaitFor(t, "loggedIn event", func() bool { return f.rec.sawState("loggedIn") })
	st := f.app.Status()
	if st.State != "loggedIn" || st.Session == nil || st.Session.Username != "admin" {
		t.Fatalf("status = %+v", st)
	}
	if err := f.app.Logout(); err != nil {
		t.Fatal(err)
	}
	if st := f.app.Status(); st.State != "connected" || st.Session != nil {
		t.Fatalf("after logout: %+v", st)
	}
	if err := f.app.Disconnect("fake"); err != nil {
		t.Fatal(err)
	}
	if st := f.app.Status(); st.State != "closed" {
		t.Fatalf("after disconnect: %+v", st)
	}
	// No event or status ever carried the password.
	for _, e := range f.rec.All() {
		if strings.Contains(string(e.Payload), "admin-password") {
			t.Fatalf("event %s carries the password", e.Name)
		}
	}
}

func TestLockoutKeepsTheAgentsMessage(t *testing.T) {
	f := newFixture(t)
	const msg = "Account locked after 5 failed logins; try again in 15 minutes."
	f.agent.Handle(protocol.SessionLogin.Name, func(context.Context, json.RawMessage) (any, error) {
		e := protocol.Errorf(protocol.KindLockedOut, "%s", msg)
		e.Data.RetryAfterSeconds = 900
		return nil, e
	})
	if _, err := f.app.Connect("fake"); err != nil {
		t.Fatal(err)
	}
	_, err := f.app.Login("admin", "admin-password")
	e := FormatError(err)
	if e == nil || e.Kind != "locked_out" || e.Message != msg {
		t.Fatalf("lockout = %+v, want locked_out with the agent's message", e)
	}
}

func TestCall(t *testing.T) {
	f := newFixture(t)
	f.login(t)
	created, err := f.app.Call("systems.create", json.RawMessage(`{"name":"Helpdesk","kind":"sandbox","url":"http://127.0.0.1:1"}`))
	if err != nil {
		t.Fatal(err)
	}
	var sys struct {
		System struct{ ID, Name string } `json:"system"`
	}
	if err := json.Unmarshal(created.(json.RawMessage), &sys); err != nil || sys.System.ID == "" {
		t.Fatalf("create result %s: %v", created, err)
	}
	list, err := f.app.Call("systems.list", nil) // absent params mean {}
	if err != nil || !strings.Contains(string(list.(json.RawMessage)), "Helpdesk") {
		t.Fatalf("list: %s %v", list, err)
	}
	// Params as Wails decodes them from JS: plain maps.
	_, err = f.app.Call("systems.get", map[string]any{"id": "missing"})
	if kindOf(err) != "not_found" {
		t.Fatalf("get missing: %v", err)
	}
	for _, m := range []string{"session.login", "logs.subscribe", "sub.cancel"} {
		if _, err := f.app.Call(m, nil); kindOf(err) != "invalid" {
			t.Errorf("Call(%s) = %v, want invalid", m, err)
		}
	}
	if _, err := f.app.Call("no.such", nil); kindOf(err) != "not_found" {
		t.Fatalf("unknown method: %v", err)
	}
}

func TestSessionExpiryIsAnnounced(t *testing.T) {
	f := newFixture(t)
	f.login(t)
	f.agent.RevokeSessions()
	// The next call finds the session gone; the state follows.
	_, err := f.app.Call("systems.list", nil)
	if kindOf(err) != "unauthorized" {
		t.Fatalf("call after revocation: %v", err)
	}
	f.rec.WaitFor(t, "sessionExpired event", func() bool { return f.rec.sawState("sessionExpired") })
	if _, err := f.app.Login("admin", "admin-password"); err != nil {
		t.Fatalf("login again: %v", err)
	}
}

func TestDeletingTheConnectedProfileDisconnects(t *testing.T) {
	f := newFixture(t)
	f.login(t)
	if err := f.app.DeleteProfile("fake"); err != nil {
		t.Fatal(err)
	}
	if st := f.app.Status(); st.State != "closed" || st.Profile != "" {
		t.Fatalf("status = %+v", st)
	}
	if _, err := f.app.Call("systems.list", nil); kindOf(err) != KindNotConnected {
		t.Fatalf("call after delete: %v", err)
	}
}

func TestFormatError(t *testing.T) {
	pe := protocol.Invalid("url", "URL must be https")
	pe.Data.Issues = []protocol.Issue{{Field: "url", Message: "URL must be https"}}
	cases := []struct {
		err        error
		kind, msg  string
		wantFields bool
	}{
		{fmt.Errorf("create system: %w", pe), "invalid", "URL must be https", true},
		{&agentclient.FingerprintMismatchError{Expected: "aa", Got: "bb"}, KindFingerprintMismatch, "", false},
		{fmt.Errorf("call: %w", agentclient.ErrSessionExpired), "unauthorized", "", false},
		{context.Canceled, "canceled", "context canceled", false},
		{context.DeadlineExceeded, "timeout", "", false},
		{errNotConnected, KindNotConnected, "Not connected to an agent.", false},
		{errors.New("dial tcp: connection refused"), "unavailable", "dial tcp: connection refused", false},
	}
	for _, c := range cases {
		e := FormatError(c.err)
		if e.Kind != c.kind || (c.msg != "" && e.Message != c.msg) || (c.wantFields && (e.Field != "url" || len(e.Issues) != 1)) {
			t.Errorf("FormatError(%v) = %+v, want kind %q message %q", c.err, e, c.kind, c.msg)
		}
	}
	if FormatError(nil) != nil {
		t.Error("FormatError(nil) is not nil")
	}
}
