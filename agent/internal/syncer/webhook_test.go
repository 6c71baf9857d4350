package syncer_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
)

// TestWebhookTriggersSync registers webhooks on activation and shows that a
// signed delivery syncs a change long before the next poll, and that a
// forged one is refused.
func TestWebhookTriggersSync(t *testing.T) {
	a := newSandboxSide(t, "HELP", "incident", sandbox.Knobs{})
	b := newSandboxSide(t, "ENG", "bug", sandbox.Knobs{})
	key := make([]byte, 32)
	rand.Read(key)
	st, err := store.Create(store.Options{Dir: t.TempDir(), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sealer, _ := secret.NewSealer(key, st.DataKeys())
	var eng *syncer.Engine
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/hooks/"), "/")
		if _, err := eng.HandleWebhook(r, parts[0], syncer.Side(parts[1]), r.Body); err != nil {
			if errors.Is(err, syncer.ErrHookUnauthorized) {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hooks.Close()
	eng = syncer.New(syncer.Deps{Store: st, Bus: events.New(100, nil), Log: zerolog.Nop(),
		Open: func(id string) (connector.Connector, error) {
			if id == "sys-HELP" {
				return a.conn, nil
			}
			return b.conn, nil
		},
		PublicURL: func() string { return hooks.URL },
		Seal: func(scope, field string, v []byte) ([]byte, error) {
			return sealer.Seal(scope, "process", scope, field, v)
		},
		Unseal: func(scope, field string, v []byte) ([]byte, error) {
			return sealer.Open(scope, "process", scope, field, v)
		},
		Shred: sealer.Shred,
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go eng.Serve(ctx) // whenever it starts, it starts the processes already active
	p, err := eng.Create(ctx, "test", syncer.Process{Name: "hooks",
		A: syncer.End{System: "sys-HELP", Project: "HELP"}, B: syncer.End{System: "sys-ENG", Project: "ENG"},
		Types:    []mapping.TypePair{{A: "incident", B: "bug", Fields: []mapping.FieldPair{{A: "title", B: "title", Direction: mapping.Both}}}},
		Options:  syncer.Options{CreateInA: true, CreateInB: true, Conflict: syncer.ConflictAWins},
		Schedule: syncer.Schedule{PollSeconds: 3600, Webhooks: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.SetActive("test", p.ID, true); err != nil {
		t.Fatal(err)
	}
	// The item is made after the activation's catch-up run has finished:
	// only a webhook can bring it over before the hourly poll.
	deadline := time.Now().Add(time.Minute)
	for {
		runs, err := eng.Runs(p.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no catch-up run within a minute of the activation")
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.srv.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: "pushed by a webhook", Status: "open", Priority: "low"})
	deadline = time.Now().Add(time.Minute)
	for count(t, b.srv, "ENG") != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no sync within a minute although the poll interval is an hour: webhooks did not trigger (stats %+v)", a.srv.Stats().Webhooks)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Post(hooks.URL+syncer.HookPath(p.ID, syncer.SideA), "application/json", bytes.NewReader([]byte(`{"event":"item.updated","item":{"id":1,"key":"HELP-1"}}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an unsigned delivery got %d, want 401", resp.StatusCode)
	}
	if _, err := eng.SetActive("test", p.ID, false); err != nil {
		t.Fatal(err)
	}
	if n := len(a.srv.Store().Webhooks()); n != 0 {
		t.Fatalf("%d webhooks left after deactivation", n)
	}
	if _, err := eng.SetActive("test", p.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := eng.Delete("test", p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DataKeys().GetDataKey("process:" + p.ID); !errors.Is(err, secret.ErrNoDataKey) {
		t.Fatalf("the deleted process's webhook key survives: %v", err)
	}
}
