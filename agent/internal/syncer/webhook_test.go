package syncer_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/agenttest/rig"
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
	a := rig.NewSandbox(t, "HELP", "incident", sandbox.Knobs{})
	b := rig.NewSandbox(t, "ENG", "bug", sandbox.Knobs{})
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
	var st *store.Store
	eng = rig.NewEngine(t, rig.Systems{a.ID: a.Conn, b.ID: b.Conn}, func(d *syncer.Deps) {
		d.PublicURL = func() string { return hooks.URL }
		st = d.Store
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go eng.Serve(ctx) // whenever it starts, it starts the processes already active
	p, err := eng.Processes().Create(ctx, "test", syncer.Process{Name: "hooks",
		A: syncer.End{System: "sys-HELP", Project: "HELP"}, B: syncer.End{System: "sys-ENG", Project: "ENG"},
		Types:    []mapping.TypePair{{A: "incident", B: "bug", Fields: []mapping.FieldPair{{A: "title", B: "title", Direction: mapping.Both}}}},
		Options:  syncer.Options{CreateInA: true, CreateInB: true, Conflict: syncer.ConflictAWins},
		Schedule: syncer.Schedule{PollSeconds: 3600, Webhooks: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Processes().SetActive("test", p.ID, true); err != nil {
		t.Fatal(err)
	}
	// The item is made after the activation's catch-up run has finished:
	// only a webhook can bring it over before the hourly poll.
	agenttest.Eventually(t, "the activation's catch-up run", func() bool {
		runs, err := eng.Views().Runs(p.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		return len(runs) > 0
	})
	a.Server.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: "pushed by a webhook", Status: "open", Priority: "low"})
	// The poll interval is an hour: only a webhook brings the item over.
	agenttest.Eventually(t, "a sync triggered by a webhook", func() bool { return count(t, b.Server, "ENG") == 1 })
	resp, err := http.Post(hooks.URL+syncer.HookPath(p.ID, syncer.SideA), "application/json", bytes.NewReader([]byte(`{"event":"item.updated","item":{"id":1,"key":"HELP-1"}}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an unsigned delivery got %d, want 401", resp.StatusCode)
	}
	if _, err := eng.Processes().SetActive("test", p.ID, false); err != nil {
		t.Fatal(err)
	}
	if n := len(a.Server.Store().Webhooks()); n != 0 {
		t.Fatalf("%d webhooks left after deactivation", n)
	}
	if _, err := eng.Processes().SetActive("test", p.ID, true); err != nil {
		t.Fatal(err)
	}
	// An active process's webhooks follow its configuration: off, they
	// are removed (a delivery no longer triggers a run); on, registered.
	hooked := func() int { return len(a.Server.Store().Webhooks()) + len(b.Server.Store().Webhooks()) }
	for _, on := range []bool{false, true} {
		p.Schedule.Webhooks = on
		if _, err := eng.Processes().Update(ctx, "test", p); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 0, true: 2}[on]; hooked() != want {
			t.Fatalf("webhooks %v: %d registered, want %d", on, hooked(), want)
		}
	}
	if err := eng.Processes().Delete("test", p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DataKeys().GetDataKey("process:" + p.ID); !errors.Is(err, secret.ErrNoDataKey) {
		t.Fatalf("the deleted process's webhook key survives: %v", err)
	}
}
