package syncer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/license"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

var healthNames = map[string]string{"sysA": "Helpdesk", "sysB": "Engineering"}

func (w *world) health() apitype.Health {
	w.t.Helper()
	h, err := w.eng.Views().ProcessHealth(&w.proc, healthNames)
	if err != nil {
		w.t.Fatal(err)
	}
	return h
}

// A wrong token on one system fails every run as a whole: the process is
// failing since the first of them, names the system, and says in words
// what is wrong and what to do; fixing the token makes it ok again.
func TestHealthFailingFromRunsThenRecovers(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.a.userCreate("incident", connector.Fields{"title": "one", "status": "new"})
	w.run()
	if h := w.health(); h.State != apitype.HealthOK || h.Since != nil || h.Problem != "" || h.CheckedAt == nil {
		t.Fatalf("after a good run: %+v", h)
	}
	w.b.fail = func(op string) error {
		if op == "changes" {
			return fmt.Errorf("GET /api/items: HTTP 401 Unauthorized: %w", connector.ErrUnauthorized)
		}
		return nil
	}
	first := w.run()
	w.run()
	h := w.health()
	if h.State != apitype.HealthFailing || h.Cause != connector.CauseUnauthorized || h.System != "sysB" || h.SystemName != "Engineering" {
		t.Fatalf("after failing runs: %+v", h)
	}
	if h.Since == nil || !h.Since.Equal(first.StartedAt) {
		t.Fatalf("failing since %v, want the first failing run's start %v", h.Since, first.StartedAt)
	}
	if !strings.Contains(h.Problem, "Engineering refused the credentials") || !strings.Contains(h.Action, "Systems page") {
		t.Fatalf("not in words: %q / %q", h.Problem, h.Action)
	}
	if strings.Contains(h.Problem, "HTTP 401 Unauthorized:") || !strings.Contains(h.Detail, "HTTP 401 Unauthorized") {
		t.Fatalf("the raw error belongs in Detail only: problem %q, detail %q", h.Problem, h.Detail)
	}
	w.b.fail = nil
	w.run()
	if h := w.health(); h.State != apitype.HealthOK || h.Problem != "" {
		t.Fatalf("after the fix: %+v", h)
	}
}

// Each connector error class a run can stop on reads as its own sentence,
// naming the project where the project is what went missing.
func TestHealthWordsPerCause(t *testing.T) {
	for _, c := range []struct {
		err           error
		cause, phrase string
	}{
		{connector.ErrUnauthorized, connector.CauseUnauthorized, "refused the credentials"},
		{connector.ErrForbidden, connector.CauseForbidden, "denied access"},
		{connector.ErrNotFound, connector.CauseNotFound, "Project ENG was not found in Engineering"},
		{connector.ErrUnavailable, connector.CauseUnavailable, "could not be reached"},
		{context.DeadlineExceeded, connector.CauseUnavailable, "could not be reached"},
		{connector.ErrRateLimited, connector.CauseRateLimited, "limiting how fast"},
	} {
		t.Run(c.cause, func(t *testing.T) {
			w := newWorld(t, ConflictAWins)
			w.b.fail = func(op string) error {
				if op == "changes" {
					return fmt.Errorf("poll: %w", c.err)
				}
				return nil
			}
			w.run()
			h := w.health()
			if h.State != apitype.HealthFailing || h.Cause != c.cause || !strings.Contains(h.Problem, c.phrase) || h.Action == "" {
				t.Fatalf("%v: %+v", c.err, h)
			}
		})
	}
}

// A run cut short because the agent stopped says nothing about health: the
// run before it is judged.
func TestHealthIgnoresRunsInterruptedByAStop(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.run()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w.b.fail = func(op string) error {
		if op == "changes" {
			return fmt.Errorf("poll: %w", context.Canceled)
		}
		return nil
	}
	w.clock.advance(time.Second)
	w.eng.runOnce(ctx, &w.proc, "test", nil)
	if h := w.health(); h.State != apitype.HealthOK {
		t.Fatalf("an interrupted run made the process %+v", h)
	}
}

// A system that was deleted, and a license that does not cover the
// process, read as such.
func TestHealthSystemGoneAndLicense(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.eng.d.Allowed = func(*Process) error {
		return &license.NotAllowedError{Kind: "jira", Reason: "the license does not cover jira"}
	}
	w.run()
	if h := w.health(); h.State != apitype.HealthFailing || h.Cause != CauseLicense || !strings.Contains(h.Action, "License page") {
		t.Fatalf("license: %+v", h)
	}
	w.eng.d.Allowed = nil
	w.b.fail = func(op string) error {
		if op == "changes" {
			return fmt.Errorf("open: %w", connector.ErrNotFound)
		}
		return nil
	}
	w.run()
	h, err := w.eng.Views().ProcessHealth(&w.proc, map[string]string{"sysA": "Helpdesk"})
	if err != nil || h.State != apitype.HealthFailing || h.Cause != CauseSystemGone {
		t.Fatalf("system gone: %+v %v", h, err)
	}
}

// Parked entities make a process degraded (not failing: the others sync),
// since the oldest of them, and the system on their side degraded too.
func TestHealthDegradedByParkedEntities(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.proc.Types[0].Fields[1].ValueMap.DefaultB = nil
	w.proc.Types[0].Fields[1].ValueMap.OnMissing = mapping.OnMissingError
	w.proc.Active = true
	w.st.Put("proc/p1", w.proc)
	w.a.userCreate("incident", connector.Fields{"title": "bad", "status": "weird"})
	w.a.userCreate("incident", connector.Fields{"title": "good", "status": "new"})
	w.run()
	h := w.health()
	if h.State != apitype.HealthDegraded || h.Parked != 1 || h.Cause != CauseParked || h.Since == nil || !strings.Contains(h.Problem, "1 entity is parked") {
		t.Fatalf("with a parked entity: %+v", h)
	}
	parked, _ := w.eng.Views().Errors("p1")
	if len(parked) != 1 || parked[0].Key == "" {
		t.Fatalf("the parked entity has no key to show: %+v", parked)
	}
	procs, systems, err := w.eng.Views().SystemsHealth(healthNames)
	if err != nil {
		t.Fatal(err)
	}
	if procs["p1"].State != apitype.HealthDegraded || systems["sysA"].State != apitype.HealthDegraded || systems["sysA"].Parked != 1 || systems["sysB"].State != apitype.HealthOK {
		t.Fatalf("systems: %+v / %+v", systems, procs)
	}
}

// A system whose poll fails is failing for every process on it; the other
// system of the process stays ok.
func TestSystemsHealthNamesTheSystemAtFault(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.a.fail = func(op string) error {
		if op == "changes" {
			return fmt.Errorf("dial: %w", connector.ErrUnavailable)
		}
		return nil
	}
	r := w.run()
	_, systems, err := w.eng.Views().SystemsHealth(healthNames)
	if err != nil {
		t.Fatal(err)
	}
	a, b := systems["sysA"], systems["sysB"]
	if a.State != apitype.HealthFailing || a.Cause != connector.CauseUnavailable || a.Since == nil || !a.Since.Equal(r.StartedAt) || !strings.Contains(a.Problem, "Helpdesk could not be reached") {
		t.Fatalf("system A: %+v", a)
	}
	if b.State != apitype.HealthOK {
		t.Fatalf("system B: %+v", b)
	}
}

// A dry run names the entities it would touch by key, not by id.
func TestPlanNamesEntities(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.proc.Types[0].Fields[1].ValueMap.DefaultB = nil
	w.proc.Types[0].Fields[1].ValueMap.OnMissing = mapping.OnMissingError
	w.proc.Active = true
	w.st.Put("proc/p1", w.proc)
	w.a.userCreate("incident", connector.Fields{"title": "bad", "status": "weird"})
	plan, err := w.eng.Plan(context.Background(), "p1")
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range plan {
		if it.Entity != "" && it.Key == "" {
			t.Fatalf("plan item without a key: %+v", it)
		}
	}
	if len(plan) < 2 {
		t.Fatalf("plan: %+v", plan)
	}
}

// Pairs list last synced first, in a stable order a cursor pages through
// without skipping or repeating; pairs.get reads one.
func TestPairsOrderAndGet(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	for i := 0; i < 5; i++ {
		w.a.userCreate("incident", connector.Fields{"title": fmt.Sprintf("item %d", i), "status": "new"})
		w.run()
	}
	all, _, err := w.eng.Views().Pairs("p1", "", "", 100)
	if err != nil || len(all) != 5 {
		t.Fatalf("pairs: %d %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].LastSyncedAt.After(all[i-1].LastSyncedAt) {
			t.Fatalf("pair %d synced after pair %d yet listed later", i, i-1)
		}
	}
	var paged []string
	cursor := ""
	for {
		page, next, err := w.eng.Views().Pairs("p1", "", cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page {
			paged = append(paged, p.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(paged) != 5 {
		t.Fatalf("paging read %d pairs, want 5: %v", len(paged), paged)
	}
	for i, p := range all {
		if paged[i] != p.ID {
			t.Fatalf("paged order %v differs from the list %v", paged, all)
		}
	}
	if _, _, err := w.eng.Views().Pairs("p1", "", "bogus", 2); err == nil {
		t.Fatal("a bogus cursor was taken")
	}
	got, err := w.eng.Views().GetPair("p1", all[0].ID)
	if err != nil || got.ID != all[0].ID || got.A.Key == "" {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := w.eng.Views().GetPair("p1", "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get of a missing pair: %v", err)
	}
}

// An inactive process does not sync: it is listed as inactive, neither
// healthy (a process copied from another agent arrives inactive with no
// runs, and read as ok) nor failing (runs that failed before it was
// deactivated), with its parked entities still counted; the systems it
// uses are still judged by its runs. Activated, it is judged by them again.
func TestInactiveProcessIsListedAsInactive(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	listed := func() (apitype.Health, map[string]apitype.Health) {
		t.Helper()
		procs, systems, err := w.eng.Views().SystemsHealth(healthNames)
		if err != nil {
			t.Fatal(err)
		}
		return procs["p1"], systems
	}
	// Never run, as a copy arrives.
	if h, _ := listed(); h.State != apitype.HealthInactive || h.Problem != "" || h.Since != nil {
		t.Fatalf("an inactive process that never ran: %+v", h)
	}
	// Runs (by hand) that fail as a whole: the process stays inactive,
	// the system at fault is failing.
	w.b.fail = func(op string) error {
		if op == "changes" {
			return fmt.Errorf("GET /api/items: HTTP 401 Unauthorized: %w", connector.ErrUnauthorized)
		}
		return nil
	}
	w.run()
	h, systems := listed()
	if h.State != apitype.HealthInactive || h.CheckedAt == nil {
		t.Fatalf("an inactive process whose last run failed: %+v", h)
	}
	if systems["sysB"].State != apitype.HealthFailing {
		t.Fatalf("the system at fault: %+v", systems["sysB"])
	}
	// Active, the same runs make it failing.
	w.proc.Active = true
	if err := w.st.Put("proc/p1", w.proc); err != nil {
		t.Fatal(err)
	}
	if h, _ := listed(); h.State != apitype.HealthFailing || h.System != "sysB" {
		t.Fatalf("the active process: %+v", h)
	}
	// Deactivated with an entity parked: inactive, the entity counted.
	w.b.fail = nil
	w.proc.Active = false
	w.proc.Types[0].Fields[1].ValueMap.DefaultB = nil
	w.proc.Types[0].Fields[1].ValueMap.OnMissing = mapping.OnMissingError
	if err := w.st.Put("proc/p1", w.proc); err != nil {
		t.Fatal(err)
	}
	w.a.userCreate("incident", connector.Fields{"title": "bad", "status": "weird"})
	w.run()
	if h, _ := listed(); h.State != apitype.HealthInactive || h.Parked != 1 {
		t.Fatalf("an inactive process with a parked entity: %+v", h)
	}
}

// A system found working again (its connection test passed) starts, now,
// the active process whose runs fail because of it, and makes the entities
// it has waiting out a backoff due; it starts nothing for another system.
func TestRetrySystemRunsTheProcessFailingBecauseOfIt(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.b.fail = func(op string) error {
		if op == "changes" {
			return fmt.Errorf("GET /api/items: HTTP 401 Unauthorized: %w", connector.ErrUnauthorized)
		}
		return nil
	}
	waiting := QueueItem{Side: SideA, Entity: "A-1", Attempts: 2, NotBefore: w.clock.now().Add(time.Hour)}
	if err := w.st.Put(keyQueue("p1", SideA, "A-1"), waiting); err != nil {
		t.Fatal(err)
	}
	w.serveHourly()
	agenttest.Eventually(t, "the first run to fail because of sysB", func() bool {
		h := w.health()
		return h.State == apitype.HealthFailing && h.System == "sysB"
	})

	if started, err := w.eng.RetrySystem("sysA"); err != nil || len(started) != 0 {
		t.Fatalf("sysA works: started %v, %v", started, err)
	}
	var item QueueItem
	if err := w.st.Get(keyQueue("p1", SideA, "A-1"), &item); err != nil || !item.NotBefore.Equal(waiting.NotBefore) {
		t.Fatalf("the waiting entity after another system's test: %+v %v", item, err)
	}
	started, err := w.eng.RetrySystem("sysB")
	if err != nil || len(started) != 1 || started[0].Process != "p1" || !started[0].Failing || started[0].Woken != 1 {
		t.Fatalf("sysB works: started %v, %v", started, err)
	}
	// sysB still refuses the poll, so the run started stops before the
	// entity is worked: it is due now, its attempts still counted.
	if err := w.st.Get(keyQueue("p1", SideA, "A-1"), &item); err != nil || !item.NotBefore.IsZero() || item.Attempts != 2 {
		t.Fatalf("the waiting entity after sysB's test: %+v %v", item, err)
	}
	agenttest.Eventually(t, "a run started by the test", func() bool {
		rs := w.runs()
		return len(rs) == 2 && rs[0].Trigger == TriggerTest && !rs[0].EndedAt.IsZero()
	})
}
