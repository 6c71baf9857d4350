package license

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// t0 is the tests' "now": the agent was initialised at t0.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const testInstance = "0123456789abcdef0123456789abcdef"

// testPrivateKey reads testdata/test.key (the licensegen key file format)
// without importing the tool.
func testPrivateKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	raw, err := os.ReadFile("testdata/test.key")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 4 || lines[1] != "Key-Id: test" {
		t.Fatalf("testdata/test.key is not a licensegen key file")
	}
	seed, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil {
		t.Fatal(err)
	}
	return ed25519.NewKeyFromSeed(seed)
}

// payload is a valid license from t0 for a year with 14 grace days.
func payload() Payload {
	return Payload{
		Format: Format, LicenseID: "LIC-1", KeyID: "test", Customer: "ACME Corp",
		IssuedAt: t0, NotBefore: t0, ExpiresAt: t0.AddDate(1, 0, 0), GraceDays: 14,
		AllowedSystems: []string{"jira", "servicenow"}, MaxUsers: 3, Features: []string{"bulk"},
	}
}

func issue(t testing.TB, p Payload) []byte {
	t.Helper()
	text, err := Issue(testPrivateKey(t), p)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// signRaw signs arbitrary payload bytes, for payloads Issue would refuse.
func signRaw(t testing.TB, kid string, raw []byte) []byte {
	t.Helper()
	return Encode(kid, raw, ed25519.Sign(testPrivateKey(t), raw))
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newStore(t testing.TB) *store.Store {
	t.Helper()
	st := agenttest.Store(t)
	if err := st.SetMeta("instance_id", testInstance); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMeta("initialised_at", t0.Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	return st
}

type env struct {
	st    *store.Store
	clk   *agenttest.Clock
	audit *audit.Log
	bus   *events.Bus
	m     *Manager
	sub   *events.Sub
}

func newEnv(t testing.TB, opts ...func(*Options)) *env {
	t.Helper()
	e := &env{st: newStore(t), clk: agenttest.NewClock(t0)}
	e.audit = audit.New(e.st, e.clk.Now)
	e.bus = events.New(1024, e.clk.Now)
	since := uint64(0)
	e.sub, _, _ = e.bus.Subscribe([]string{"LicenseChanged"}, &since, 1024)
	e.m = e.reopen(t, opts...)
	return e
}

// reopen makes a new manager over the same store, as after a restart.
func (e *env) reopen(t testing.TB, opts ...func(*Options)) *Manager {
	t.Helper()
	o := Options{Now: e.clk.Now, Version: "1.2.3"}
	for _, f := range opts {
		f(&o)
	}
	m, err := New(e.st, e.audit, e.bus, o)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	return m
}

// events returns the LicenseChanged events published since the last call.
func (e *env) events(t testing.TB) []ChangedEvent {
	t.Helper()
	var out []ChangedEvent
	for {
		select {
		case ev := <-e.sub.C():
			var c ChangedEvent
			if err := json.Unmarshal(ev.Data, &c); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		default:
			return out
		}
	}
}

// records returns the audit records with action, oldest first.
func (e *env) records(t testing.TB, action string) []audit.Record {
	t.Helper()
	recs, _, err := e.audit.List(audit.Filter{Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
	return recs
}
