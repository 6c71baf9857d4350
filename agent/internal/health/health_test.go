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
	"github.com/lockstep-sync/lockstep/agent/internal/alert"
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
	next := healthEvents(t, bus)
	serve := func() (stop func()) { return serveWatch(t, mon) }

	stop := serve()
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

// serveWatch serves mon until the returned stop, once it judged the stored
// evidence (it announces only changes after that).
func serveWatch(t *testing.T, mon *Monitor) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { mon.Serve(ctx); close(done) }()
	agenttest.Eventually(t, "the watch to start", func() bool {
		mon.mu.Lock()
		defer mon.mu.Unlock()
		return mon.last != nil
	})
	return func() { cancel(); <-done }
}

// healthEvent is a HealthChanged event as published, and its payload.
type healthEvent struct {
	apitype.HealthChanged
	Event events.Event
}

// healthEvents returns next, which waits for the next HealthChanged of
// kind/id on bus; others are kept for their own turn (a check announces in
// no set order).
func healthEvents(t *testing.T, bus *events.Bus) (next func(kind, id string) healthEvent) {
	sub, _, _ := bus.Subscribe([]string{apitype.EventHealthChanged}, nil, 100)
	t.Cleanup(sub.Close)
	pending := map[string][]healthEvent{}
	return func(kind, id string) healthEvent {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			if q := pending[kind+"/"+id]; len(q) > 0 {
				pending[kind+"/"+id] = q[1:]
				return q[0]
			}
			select {
			case ev := <-sub.C():
				he := healthEvent{Event: ev}
				json.Unmarshal(ev.Data, &he.HealthChanged)
				pending[he.Kind+"/"+he.ID] = append(pending[he.Kind+"/"+he.ID], he)
			case <-deadline:
				t.Fatalf("no HealthChanged for %s %s", kind, id)
			}
		}
	}
}

// An administrator whose connection test failed and who saved the system
// anyway ("Save anyway") sees it failing with the test's problem, as the
// desktop showed it; that failure is theirs, acknowledged, and no
// notification says it, nor its end. A failure no one saved anyway (a
// plain test failing later) is notified as ever.
func TestSavedAnywayFailureIsNotNotified(t *testing.T) {
	st, sealer := agenttest.SealedStore(t)
	bus := events.New(1000, nil)
	systems := system.New(st, sealer, audit.New(st, nil), bus, nil)
	eng := syncer.New(syncer.Deps{Store: st, Bus: bus, Log: zerolog.Nop()})
	mon := New(eng, systems, bus, zerolog.Nop())
	systems.OnTested(mon.Tested)
	next := healthEvents(t, bus)
	defer serveWatch(t, mon)()
	notice := func(he healthEvent) (alert.Notice, bool) {
		return alert.FromEvent(he.Event)
	}

	url := sandbox(t)
	draft := apitype.SystemsTestParams{Kind: "sandbox", Name: "Engineering", URL: &url, Settings: map[string]any{"project": "ENG"},
		Secrets: map[string]apitype.Secret{"token": "a-token-not-yet-valid"}}
	if res, err := systems.TestDraft(context.Background(), "admin", draft); err != nil || res.OK {
		t.Fatalf("the draft's test: %+v %v", res, err)
	}
	sys, err := systems.Create("admin", apitype.SystemsCreateParams{Name: "Engineering", Kind: "sandbox", URL: url,
		Settings: draft.Settings, Secrets: draft.Secrets})
	if err != nil {
		t.Fatal(err)
	}
	if sys.LastTest == nil || sys.LastTest.OK {
		t.Fatalf("the saved system's last test: %+v", sys.LastTest)
	}
	he := next("system", sys.ID)
	if he.Health.State != apitype.HealthFailing || !strings.Contains(he.Health.Problem, "refused the credentials") {
		t.Fatalf("the system saved anyway: %+v", he)
	}
	if n, ok := notice(he); ok {
		t.Fatalf("the failure the administrator saved anyway is notified: %+v", n)
	}
	if snap, err := mon.Now(); err != nil || snap.Systems[sys.ID].State != apitype.HealthFailing {
		t.Fatalf("the system as listed: %+v %v", snap.Systems[sys.ID], err)
	}

	// The token becomes valid; the test passes: no recovery to tell of.
	if _, err := systems.Update("admin", apitype.SystemsUpdateParams{ID: sys.ID, Secrets: map[string]apitype.Secret{"token": good}}); err != nil {
		t.Fatal(err)
	}
	if res, err := systems.Test(context.Background(), "admin", sys.ID); err != nil || !res.OK {
		t.Fatalf("the fixed system's test: %+v %v", res, err)
	}
	if he := next("system", sys.ID); he.Health.State != apitype.HealthOK {
		t.Fatalf("the fixed system: %+v", he)
	} else if n, ok := notice(he); ok {
		t.Fatalf("the end of a failure no one was told of is notified: %+v", n)
	}

	// The token is revoked later; a test finds it: that is news.
	if _, err := systems.Update("admin", apitype.SystemsUpdateParams{ID: sys.ID, Secrets: map[string]apitype.Secret{"token": "revoked-token-0d1e"}}); err != nil {
		t.Fatal(err)
	}
	if res, err := systems.Test(context.Background(), "admin", sys.ID); err != nil || res.OK {
		t.Fatalf("the revoked token's test: %+v %v", res, err)
	}
	he = next("system", sys.ID)
	if n, ok := notice(he); he.Health.State != apitype.HealthFailing || !ok || n.Kind != alert.KindFailing {
		t.Fatalf("a failure found by a test: %+v, notice %+v %v", he, n, ok)
	}
	// Another token tried and saved anyway while it fails: the failure was
	// told before that, so its end is told too.
	other := apitype.SystemsTestParams{ID: sys.ID, Secrets: map[string]apitype.Secret{"token": "another-wrong-token"}}
	if res, err := systems.TestDraft(context.Background(), "admin", other); err != nil || res.OK {
		t.Fatalf("the other token's test: %+v %v", res, err)
	}
	if s, err := systems.Update("admin", apitype.SystemsUpdateParams{ID: sys.ID, Secrets: other.Secrets}); err != nil || s.LastTest == nil || !s.LastTest.SavedAnyway {
		t.Fatalf("the other token saved anyway: %+v %v", s.LastTest, err)
	}
	if _, err := systems.Update("admin", apitype.SystemsUpdateParams{ID: sys.ID, Secrets: map[string]apitype.Secret{"token": good}}); err != nil {
		t.Fatal(err)
	}
	if res, err := systems.Test(context.Background(), "admin", sys.ID); err != nil || !res.OK {
		t.Fatalf("the fixed system's test: %+v %v", res, err)
	}
	for {
		he = next("system", sys.ID)
		if he.Health.State != apitype.HealthFailing {
			break
		}
	}
	if n, ok := notice(he); he.Health.State != apitype.HealthOK || !ok || n.Kind != alert.KindRecovered {
		t.Fatalf("the end of a failure told before: %+v, notice %+v %v", he, n, ok)
	}
}
