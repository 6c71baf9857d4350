package bridge

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient/fakeagent"
	"github.com/lockstep-sync/lockstep/desktop/internal/profile"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// fleet is an App with two saved fake agents: east (admin/admin-password)
// and west, where the desktop signs in as bob, an operator.
type fleet struct {
	app        *App
	rec        *recorder
	east, west *fakeagent.Agent
	profiles   string
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	f := &fleet{rec: newRecorder(), east: fakeagent.New(t), west: fakeagent.New(t)}
	f.west.AddAccount("bob", "bob-password", protocol.RoleOperator)
	f.profiles = filepath.Join(t.TempDir(), "profiles.json")
	f.app = New(Config{
		Name: "Lockstep", Version: "test",
		Profiles:     profile.New(f.profiles),
		Events:       f.rec,
		ReconnectMin: 10 * time.Millisecond,
		ReconnectMax: 50 * time.Millisecond,
	})
	t.Cleanup(func() { Shutdown(f.app) })
	for name, a := range map[string]*fakeagent.Agent{"east": f.east, "west": f.west} {
		if _, err := f.app.SaveProfile(Profile{Name: name, URL: a.Addr(), Fingerprint: a.Fingerprint()}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// signIn connects to both agents and signs in to each; west is current after.
func (f *fleet) signIn(t *testing.T) {
	t.Helper()
	for _, c := range []struct{ agent, user, pw string }{{"east", "admin", "admin-password"}, {"west", "bob", "bob-password"}} {
		if _, err := f.app.Connect(c.agent); err != nil {
			t.Fatalf("connect %s: %v", c.agent, err)
		}
		if _, err := f.app.Login(c.user, c.pw); err != nil {
			t.Fatalf("login to %s: %v", c.agent, err)
		}
	}
}

// agentStates returns the states of name's agent:state events so far.
func (r *recorder) agentStates(name string) []string {
	var out []string
	for _, raw := range r.Named(EventAgentState) {
		var st ConnStatus
		_ = json.Unmarshal(raw, &st)
		if st.Profile == name {
			out = append(out, st.State)
		}
	}
	return out
}

func (r *recorder) lastConnState() ConnStatus {
	all := r.Named(EventConnState)
	var st ConnStatus
	if len(all) > 0 {
		_ = json.Unmarshal(all[len(all)-1], &st)
	}
	return st
}

func statusByName(t *testing.T, app *App) map[string]ConnStatus {
	t.Helper()
	list, err := app.Agents()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ConnStatus{}
	for _, st := range list {
		out[st.Profile] = st
	}
	return out
}

// Both agents stay connected, each with its own session; switching between
// them signs in to neither again, and calls reach the current one only.
func TestTwoAgentsKeepTheirOwnSessions(t *testing.T) {
	f := newFleet(t)
	f.signIn(t)

	st := f.app.Status()
	if st.Profile != "west" || st.State != "loggedIn" || st.Session == nil || st.Session.Username != "bob" || st.Session.Role != "operator" {
		t.Fatalf("current after signing in to west: %+v", st)
	}
	all := statusByName(t, f.app)
	if e := all["east"]; e.State != "loggedIn" || e.Session == nil || e.Session.Username != "admin" {
		t.Fatalf("east while west is current: %+v", e)
	}
	if all["east"].Agent == "" {
		t.Fatalf("east's status does not say what the agent is: %+v", all["east"])
	}

	// Switching back and forth: the same connections, no new login.
	for _, name := range []string{"east", "west", "east"} {
		st, err := f.app.Connect(name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Profile != name || st.State != "loggedIn" || st.Session == nil {
			t.Fatalf("switch to %s: %+v", name, st)
		}
		if got := f.rec.lastConnState(); got.Profile != name || got.State != "loggedIn" {
			t.Fatalf("the last conn:state after switching to %s is %+v", name, got)
		}
	}
	for name, a := range map[string]*fakeagent.Agent{"east": f.east, "west": f.west} {
		if n := a.CallCount(protocol.SessionLogin.Name); n != 1 {
			t.Errorf("%s saw %d logins, want 1", name, n)
		}
		if n := a.Connections(); n != 1 {
			t.Errorf("%s saw %d connections, want 1", name, n)
		}
	}

	// Call acts on the current agent (east); CallAgent on the one named.
	if _, err := f.app.Call("systems.create", map[string]any{"name": "East desk", "kind": "sandbox", "url": "http://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	west, err := f.app.CallAgent("west", "systems.list", nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(west.(json.RawMessage)), "East desk") {
		t.Fatalf("west lists east's system: %s", west)
	}
	east, err := f.app.CallAgent("east", "systems.list", nil)
	if err != nil || !strings.Contains(string(east.(json.RawMessage)), "East desk") {
		t.Fatalf("east's systems: %s %v", east, err)
	}
	// bob is an operator on west: west refuses him what east allows admin.
	if _, err := f.app.CallAgent("west", "systems.create", map[string]any{"name": "x", "kind": "sandbox", "url": "http://127.0.0.1:1"}); kindOf(err) != "forbidden" {
		t.Fatalf("systems.create as an operator on west: %v", err)
	}
	if _, err := f.app.CallAgent("nowhere", "systems.list", nil); kindOf(err) != KindNotConnected {
		t.Fatalf("call to an agent never connected: %v", err)
	}
	if _, err := f.app.CallAgent("east", "session.login", nil); kindOf(err) != "invalid" {
		t.Fatalf("session.login through CallAgent: %v", err)
	}

	// Never a password or a token on disk: the profiles file holds names,
	// URLs and fingerprints, nothing else.
	raw, err := os.ReadFile(f.profiles)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version  int              `json:"version"`
		Profiles []map[string]any `json:"profiles"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range doc.Profiles {
		for k := range p {
			if k != "name" && k != "url" && k != "fingerprint" {
				t.Fatalf("the profiles file holds %q: %s", k, raw)
			}
		}
	}
	for _, secret := range []string{"admin-password", "bob-password"} {
		if strings.Contains(string(raw), secret) {
			t.Fatal("a password is in the profiles file")
		}
		for _, e := range f.rec.All() {
			if strings.Contains(string(e.Payload), secret) {
				t.Fatalf("event %s carries a password", e.Name)
			}
		}
	}
}

// A dropped connection is resumed by that agent's client alone; the other
// agent's connection and streams are untouched, and every event says which
// agent it came from.
func TestEachAgentReconnectsAndResumesOnItsOwn(t *testing.T) {
	f := newFleet(t)
	f.signIn(t)
	subs := map[string]string{}
	for _, name := range []string{"east", "west"} {
		id, err := f.app.SubscribeAgentEvents(name, []string{apitype.EventHealthChanged})
		if err != nil {
			t.Fatal(err)
		}
		subs[name] = id
	}

	f.east.DropConnections()
	f.rec.WaitFor(t, "east resumed", func() bool {
		return f.east.CallCount(protocol.SessionResume.Name) >= 1 && statusByName(t, f.app)["east"].State == "loggedIn"
	})
	if n := f.west.Connections(); n != 1 {
		t.Fatalf("west reconnected too (%d connections)", n)
	}
	if n := f.west.CallCount(protocol.SessionResume.Name); n != 0 {
		t.Fatalf("west resumed %d times", n)
	}
	if got := f.rec.agentStates("east"); !contains(got, "disconnected") && !contains(got, "connecting") {
		t.Fatalf("east's states never showed the drop: %v", got)
	}
	// West is current: the drop of east never reached conn:state.
	for _, raw := range f.rec.Named(EventConnState) {
		var st ConnStatus
		_ = json.Unmarshal(raw, &st)
		if st.Profile == "east" && (st.State == "disconnected" || st.State == "connecting") && st.Session != nil {
			t.Fatalf("conn:state told of east's drop while west was current: %s", raw)
		}
	}

	f.east.PublishEvent(apitype.EventHealthChanged, map[string]any{"kind": "process", "id": "p1", "name": "East sync"})
	f.west.PublishEvent(apitype.EventHealthChanged, map[string]any{"kind": "process", "id": "p1", "name": "West sync"})
	from := map[string]string{}
	f.rec.WaitFor(t, "an event from each agent", func() bool {
		for _, raw := range f.rec.Named(EventEventsBatch) {
			var b EventsBatch
			_ = json.Unmarshal(raw, &b)
			for _, e := range b.Events {
				from[b.Profile] = string(e.Data)
				if subs[b.Profile] != b.Sub {
					t.Fatalf("batch of sub %s says it came from %s", b.Sub, b.Profile)
				}
			}
		}
		return len(from) == 2
	})
	if !strings.Contains(from["east"], "East sync") || !strings.Contains(from["west"], "West sync") {
		t.Fatalf("events by agent: %v", from)
	}
}

// Logging out of, disconnecting or losing the session of one agent leaves
// the other's session and streams alone.
func TestOneAgentsEndLeavesTheOtherAlone(t *testing.T) {
	f := newFleet(t)
	f.signIn(t) // west is current
	if _, err := f.app.SubscribeAgentEvents("east", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.SubscribeEvents(nil); err != nil { // west's
		t.Fatal(err)
	}

	// West's session is revoked: west (current) expires, east does not.
	f.west.RevokeSessions()
	if _, err := f.app.Call("systems.list", nil); kindOf(err) != "unauthorized" {
		t.Fatalf("call after west revoked the session: %v", err)
	}
	f.rec.WaitFor(t, "west expired", func() bool { return contains(f.rec.agentStates("west"), "sessionExpired") })
	if st := statusByName(t, f.app)["east"]; st.State != "loggedIn" {
		t.Fatalf("east after west expired: %+v", st)
	}
	if _, err := f.app.CallAgent("east", "systems.list", nil); err != nil {
		t.Fatalf("east after west expired: %v", err)
	}

	// Logging out of east (current now) ends east's stream, not west's.
	if _, err := f.app.Connect("east"); err != nil {
		t.Fatal(err)
	}
	if err := f.app.Logout(); err != nil {
		t.Fatal(err)
	}
	if n := f.app.streamCount(); n != 1 {
		t.Fatalf("%d streams after east's logout, want west's one", n)
	}
	if st := f.app.Status(); st.Profile != "east" || st.State != "connected" || st.Session != nil {
		t.Fatalf("east after logout: %+v", st)
	}

	// Disconnecting west (not current) leaves east current and connected.
	if err := f.app.Disconnect("west"); err != nil {
		t.Fatal(err)
	}
	if n := f.app.streamCount(); n != 0 {
		t.Fatalf("%d streams after west's disconnect", n)
	}
	all := statusByName(t, f.app)
	if all["west"].State != "closed" || all["east"].State != "connected" || f.app.Status().Profile != "east" {
		t.Fatalf("after disconnecting west: %+v, current %+v", all, f.app.Status())
	}
	if _, err := f.app.CallAgent("west", "systems.list", nil); kindOf(err) != KindNotConnected {
		t.Fatalf("call to a disconnected agent: %v", err)
	}

	// Deleting west's profile keeps east current; deleting east's leaves
	// no current agent.
	if err := f.app.DeleteProfile("west"); err != nil {
		t.Fatal(err)
	}
	if st := f.app.Status(); st.Profile != "east" {
		t.Fatalf("current after deleting west: %+v", st)
	}
	if err := f.app.DeleteProfile("east"); err != nil {
		t.Fatal(err)
	}
	if st := f.app.Status(); st.Profile != "" || st.State != "closed" {
		t.Fatalf("current after deleting east: %+v", st)
	}
	if list, _ := f.app.Agents(); len(list) != 0 {
		t.Fatalf("agents after deleting both: %+v", list)
	}
}

// ConnectAll dials every saved agent at once, without choosing a current
// one; an unreachable agent is listed with its error and dialled again by
// the next ConnectAll, and one disconnected on purpose is left alone.
func TestConnectAllDialsEverySavedAgent(t *testing.T) {
	f := newFleet(t)
	// An address nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	if _, err := f.app.SaveProfile(Profile{Name: "north", URL: dead, Fingerprint: f.east.Fingerprint()}); err != nil {
		t.Fatal(err)
	}
	// An agent that shows another key than the one pinned.
	if _, err := f.app.SaveProfile(Profile{Name: "south", URL: f.west.Addr(), Fingerprint: f.east.Fingerprint()}); err != nil {
		t.Fatal(err)
	}

	list, err := f.app.ConnectAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]ConnStatus{}
	for _, st := range list {
		got[st.Profile] = st
	}
	if len(list) != 4 || list[0].Profile != "east" || list[3].Profile != "west" {
		t.Fatalf("agents not listed by name: %+v", list)
	}
	if got["east"].State != "connected" || got["west"].State != "connected" {
		t.Fatalf("reachable agents: %+v", got)
	}
	if got["north"].State != "disconnected" || got["north"].Error == "" {
		t.Fatalf("unreachable agent: %+v", got["north"])
	}
	if got["south"].State != "fingerprintMismatch" || !strings.Contains(got["south"].Error, f.west.Fingerprint()) {
		t.Fatalf("agent with another key: %+v", got["south"])
	}
	if st := f.app.Status(); st.Profile != "" || st.State != "closed" {
		t.Fatalf("ConnectAll chose a current agent: %+v", st)
	}
	if _, err := f.app.Login("admin", "admin-password"); kindOf(err) != KindNotConnected {
		t.Fatalf("login with no current agent: %v", err)
	}

	// A second ConnectAll dials only what is not connected.
	if err := f.app.Disconnect("west"); err != nil {
		t.Fatal(err)
	}
	list, err = f.app.ConnectAll()
	if err != nil {
		t.Fatal(err)
	}
	if n := f.east.Connections(); n != 1 {
		t.Fatalf("east dialled %d times", n)
	}
	if n := f.west.Connections(); n != 1 {
		t.Fatalf("west, disconnected on purpose, was dialled again (%d connections)", n)
	}
	for _, st := range list {
		if st.Profile == "west" && st.State != "closed" {
			t.Fatalf("west after the second ConnectAll: %+v", st)
		}
	}
	// Connect is how an agent disconnected on purpose comes back.
	if st, err := f.app.Connect("west"); err != nil || st.State != "connected" {
		t.Fatalf("connect west again: %+v %v", st, err)
	}
}

// A profile saved with a new fingerprint is dialled again by Connect, not
// switched to with the old connection.
func TestConnectRedialsAChangedProfile(t *testing.T) {
	f := newFleet(t)
	f.signIn(t)
	if err := f.west.RotateKey(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.SaveProfile(Profile{Name: "west", URL: f.west.Addr(), Fingerprint: f.west.Fingerprint()}); err != nil {
		t.Fatal(err)
	}
	st, err := f.app.Connect("west")
	if err != nil {
		t.Fatal(err)
	}
	if st.Fingerprint != f.west.Fingerprint() || st.State != "connected" || st.Session != nil {
		t.Fatalf("west after re-pinning: %+v", st)
	}
	if n := f.west.Connections(); n != 2 {
		t.Fatalf("west saw %d connections, want a new one", n)
	}
	if st := statusByName(t, f.app)["east"]; st.State != "loggedIn" {
		t.Fatalf("east after west was re-pinned: %+v", st)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
