package health

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	_ "github.com/lockstep-sync/lockstep/agent/internal/connector/sandboxconn"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/agent/internal/system"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

func at(s string) *time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return &t
}

// The newer of the runs and the last connection test decides.
func TestJudge(t *testing.T) {
	failingRun := &apitype.Health{State: apitype.HealthFailing, Since: at("2026-01-01T08:00:00Z"), Problem: "refused", CheckedAt: at("2026-01-01T10:00:00Z")}
	okRun := &apitype.Health{State: apitype.HealthOK, CheckedAt: at("2026-01-01T10:00:00Z")}
	oldFail := &apitype.SystemTest{SystemsTestResult: apitype.SystemsTestResult{OK: false, Problem: "test refused", At: *at("2026-01-01T09:00:00Z")}}
	newFail := &apitype.SystemTest{SystemsTestResult: apitype.SystemsTestResult{OK: false, Problem: "test refused", At: *at("2026-01-01T11:00:00Z")}}
	newOK := &apitype.SystemTest{SystemsTestResult: apitype.SystemsTestResult{OK: true, At: *at("2026-01-01T11:00:00Z")}}
	for _, c := range []struct {
		name          string
		run           *apitype.Health
		test          *apitype.SystemTest
		state, reason string
	}{
		{"nothing known", nil, nil, Unknown, ""},
		{"only a good test", nil, newOK, apitype.HealthOK, ""},
		{"only a failed test", nil, newFail, apitype.HealthFailing, "test refused"},
		{"good runs after a failed test", okRun, oldFail, apitype.HealthOK, ""},
		{"a failed test after good runs", okRun, newFail, apitype.HealthFailing, "test refused"},
		{"failing runs, older good test", failingRun, &apitype.SystemTest{SystemsTestResult: apitype.SystemsTestResult{OK: true, At: *at("2026-01-01T07:00:00Z")}}, apitype.HealthFailing, "refused"},
		// The administrator fixed the token and the test passed: reachable
		// until a run says otherwise.
		{"failing runs, newer good test", failingRun, newOK, apitype.HealthOK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := Judge(c.run, c.test)
			if h.State != c.state || h.Problem != c.reason {
				t.Fatalf("%+v", h)
			}
		})
	}
	if h := Judge(failingRun, newOK); h.CheckedAt == nil || !h.CheckedAt.Equal(newOK.At) || h.Since != nil {
		t.Fatalf("a passing test after failing runs: %+v", h)
	}
	// A failed test during failing runs keeps the streak's start.
	if h := Judge(failingRun, newFail); h.Since == nil || !h.Since.Equal(*failingRun.Since) {
		t.Fatalf("since %v, want %v", h.Since, failingRun.Since)
	}
}

const good = "health-good-token-19f2"

// sandbox answers the sandbox connector's few requests: 401 for any token
// but the good one, an empty page of items, the project HELP or ENG.
func sandbox(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+good {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"message":"invalid token"}}`))
			return
		}
		switch {
		case r.URL.Path == "/api/items":
			w.Write([]byte(`{"items":[]}`))
		case r.URL.Path == "/api/myself":
			json.NewEncoder(w).Encode(map[string]any{"name": "bot"})
		case strings.HasPrefix(r.URL.Path, "/api/projects/"):
			json.NewEncoder(w).Encode(map[string]any{"key": strings.TrimPrefix(r.URL.Path, "/api/projects/"), "name": "p"})
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A wrong token makes the process and its system failing, announced once
// each as HealthChanged with the problem in words; the fixed token brings
// both back to ok, announced again. Restarting the watch announces nothing.
func TestMonitorAnnouncesChanges(t *testing.T) {
	st, sealer := agenttest.SealedStore(t)
	bus := events.New(1000, nil)
	log := audit.New(st, nil)
	systems := system.New(st, sealer, log, bus, nil)
	url := sandbox(t)
	mk := func(name, project, token string) string {
		s, err := systems.Create("admin", apitype.SystemsCreateParams{Name: name, Kind: "sandbox", URL: url,
			Settings: map[string]any{"project": project}, Secrets: map[string]apitype.Secret{"token": apitype.Secret(token)}})
		if err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	a, b := mk("Support", "HELP", good), mk("Engineering", "ENG", "wrong-token")
	eng := syncer.New(syncer.Deps{Store: st, Bus: bus, Log: zerolog.Nop(), Open: func(id string) (connector.Connector, error) {
		cfg, err := systems.Config(id)
		if err != nil {
			return nil, err
		}
		spec, _ := connector.Lookup(cfg.Kind)
		return spec.Open(cfg, connector.Env{})
	}})
	proc := syncer.Process{ID: "p1", Name: "Support to engineering", A: syncer.End{System: a, Project: "HELP"}, B: syncer.End{System: b, Project: "ENG"},
		Types:    []mapping.TypePair{{A: "incident", B: "bug", Fields: []mapping.FieldPair{{A: "title", B: "title", Direction: mapping.Both}}}},
		Schedule: syncer.Schedule{PollSeconds: 60}, Active: true}
	if err := st.Put("proc/p1", proc); err != nil {
		t.Fatal(err)
	}
	mon := New(eng, systems, bus, zerolog.Nop())
	sub, _, _ := bus.Subscribe([]string{apitype.EventHealthChanged}, nil, 100)
	defer sub.Close()
	serve := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { mon.Serve(ctx); close(done) }()
		return func() { cancel(); <-done }
	}
	// next waits for the next HealthChanged of kind/id; others are kept
	// for their own turn (a check announces in no set order).
	pending := map[string][]apitype.HealthChanged{}
	next := func(kind, id string) apitype.HealthChanged {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			if q := pending[kind+"/"+id]; len(q) > 0 {
				pending[kind+"/"+id] = q[1:]
				return q[0]
			}
			select {
			case ev := <-sub.C():
				var hc apitype.HealthChanged
				json.Unmarshal(ev.Data, &hc)
				pending[hc.Kind+"/"+hc.ID] = append(pending[hc.Kind+"/"+hc.ID], hc)
			case <-deadline:
				t.Fatalf("no HealthChanged for %s %s", kind, id)
			}
		}
	}

	stop := serve()
	// The watch judges the stored evidence first and announces only
	// changes: wait until it did, then make one.
	agenttest.Eventually(t, "the watch to start", func() bool {
		mon.mu.Lock()
		defer mon.mu.Unlock()
		return mon.last != nil
	})
	if _, err := eng.RunNow(context.Background(), "p1"); err != nil {
		t.Fatal(err)
	}
	p := next("process", "p1")
	if p.Health.State != apitype.HealthFailing || p.Previous != Unknown && p.Previous != apitype.HealthOK || p.Name != proc.Name ||
		!strings.Contains(p.Health.Problem, "Engineering refused the credentials") || p.Health.System != b {
		t.Fatalf("process: %+v", p)
	}
	s := next("system", b)
	if s.Health.State != apitype.HealthFailing || s.Name != "Engineering" || s.Health.Since == nil {
		t.Fatalf("system: %+v", s)
	}
	snap, err := mon.Now()
	if err != nil || snap.Systems[a].State != apitype.HealthOK {
		t.Fatalf("the other system: %+v %v", snap.Systems[a], err)
	}

	// The watch restarts from the stored evidence: nothing to announce.
	stop()
	stop = serve()
	defer func() { stop() }()
	if _, err := systems.Update("admin", apitype.SystemsUpdateParams{ID: b, Secrets: map[string]apitype.Secret{"token": good}}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.RunNow(context.Background(), "p1"); err != nil {
		t.Fatal(err)
	}
	if p := next("process", "p1"); p.Health.State != apitype.HealthOK || p.Previous != apitype.HealthFailing {
		t.Fatalf("process after the fix: %+v", p)
	}
	if s := next("system", b); s.Health.State != apitype.HealthOK || s.Previous != apitype.HealthFailing {
		t.Fatalf("system after the fix: %+v", s)
	}
}
