// Package rig sets up the sync engine the way the engine's tests and the
// connectors' benchmarks need it: a real engine over a real encrypted
// store, syncing sandbox work systems served over HTTP through their
// connector. It is apart from agenttest because it imports the engine and
// the sandbox: agenttest must stay below every package whose tests use it.
// Only tests import it.
package rig

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/sandboxconn"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
)

// Token is the bearer token every rig sandbox accepts, acting as alice.
const Token = "tok"

// Sandbox is a sandbox work system served over HTTP for one test, and its
// connector.
type Sandbox struct {
	// ID is the system id an engine opens it by: "sys-" and the project.
	ID     string
	Server *sandbox.Server
	Conn   *sandboxconn.Conn
	URL    string
}

// NewSandbox serves a sandbox with one project, key, whose items are of
// type typ, the demo's users and knobs, until the test ends, and opens its
// connector on that project.
func NewSandbox(t testing.TB, key, typ string, knobs sandbox.Knobs) *Sandbox {
	t.Helper()
	s, err := sandbox.New(sandbox.Options{Tokens: []sandbox.Token{{Value: Token, User: "alice"}}, Users: sandbox.DemoUsers(),
		Projects: []sandbox.Project{{Key: key, Name: key, Types: []string{typ}}}, Knobs: knobs, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() { hs.Close(); s.Close() })
	id := "sys-" + key
	c, err := sandboxconn.Open(connector.Config{ID: id, Name: key, Kind: "sandbox", URL: hs.URL,
		Settings: map[string]any{"project": key}, Secrets: map[string]secret.Secret{"token": secret.New(Token)}}, connector.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return &Sandbox{ID: id, Server: s, Conn: c, URL: hs.URL}
}

// Systems are connectors by system id, for NewEngine.
type Systems map[string]connector.Connector

// NewEngine is a real engine over a new store encrypted under a random
// key, that opens the systems by id and seals webhook secrets as the agent
// does. adjust, when given, changes its dependencies before the engine is
// made (a clock, a public URL, another store). The test serves it when it
// needs the scheduler: go eng.Serve(ctx).
func NewEngine(t testing.TB, systems Systems, adjust ...func(*syncer.Deps)) *syncer.Engine {
	t.Helper()
	st, sealer := agenttest.SealedStore(t)
	d := syncer.Deps{Store: st, Bus: events.New(100, nil), Log: zerolog.Nop(),
		Open: func(id string) (connector.Connector, error) {
			if c, ok := systems[id]; ok {
				return c, nil
			}
			return nil, fmt.Errorf("system %s: %w", id, syncer.ErrNotFound)
		},
		Seal: func(scope, field string, v []byte) ([]byte, error) {
			return sealer.Seal(scope, "process", scope, field, v)
		},
		Unseal: func(scope, field string, sealed []byte) ([]byte, error) {
			return sealer.Open(scope, "process", scope, field, sealed)
		},
		Shred: sealer.Shred,
	}
	for _, f := range adjust {
		f(&d)
	}
	return syncer.New(d)
}
