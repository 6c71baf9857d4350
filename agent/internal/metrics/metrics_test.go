package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// TestRunEventsBecomeCounters: the engine's RunStarted and RunFinished
// events feed runs, changes by kind, errors, conflicts and durations.
func TestRunEventsBecomeCounters(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	bus := events.New(64, clock)
	m := New(bus, Sources{}, zerolog.Nop())
	// Published before Serve runs: New has subscribed already.
	bus.Publish(apitype.EventRunStarted, map[string]any{"process": "p1", "run": "p1-1", "trigger": "schedule"})
	now = now.Add(3 * time.Second)
	bus.Publish(apitype.EventRunFinished, map[string]any{"process": "p1", "run": "p1-1", "errors": 2,
		"counts": map[string]int{"created": 4, "updated": 2, "commented": 1, "attached": 0, "linked": 3, "failed": 1, "conflicts": 1}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx) }()
	agenttest.Eventually(t, "the run counted", func() bool { return testutil.ToFloat64(m.runs.WithLabelValues("p1")) == 1 })
	for kind, want := range map[string]float64{"created": 4, "updated": 2, "commented": 1, "attached": 0, "linked": 3} {
		if got := testutil.ToFloat64(m.changes.WithLabelValues("p1", kind)); got != want {
			t.Errorf("changes %s = %v, want %v", kind, got, want)
		}
	}
	if got := testutil.ToFloat64(m.errors.WithLabelValues("p1")); got != 2 {
		t.Errorf("errors = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.conflicts.WithLabelValues("p1")); got != 1 {
		t.Errorf("conflicts = %v", got)
	}
	out, err := testutil.CollectAndFormat(m.runDuration, expfmt.TypeTextPlain, "lockstep_sync_run_duration_seconds")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `lockstep_sync_run_duration_seconds_sum{process="p1"} 3`) ||
		!strings.Contains(string(out), `lockstep_sync_run_duration_seconds_count{process="p1"} 1`) {
		t.Errorf("duration:\n%s", out)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestHTTPObserverCounts: statuses, rate limits and waits per system, with
// closed label sets.
func TestHTTPObserverCounts(t *testing.T) {
	m := New(events.New(8, nil), Sources{}, zerolog.Nop())
	o := m.HTTPObserver("sys1")
	o.Response(200, false)
	o.Response(200, false)
	o.Response(429, true)
	o.Response(0, false)
	o.Wait("retry", 1500*time.Millisecond)
	o.Wait("pace", 500*time.Millisecond)
	o.Wait("something new", time.Second)
	for i, c := range []struct{ got, want float64 }{
		{testutil.ToFloat64(m.requests.WithLabelValues("sys1", "200")), 2},
		{testutil.ToFloat64(m.requests.WithLabelValues("sys1", "429")), 1},
		{testutil.ToFloat64(m.requests.WithLabelValues("sys1", "error")), 1},
		{testutil.ToFloat64(m.rateLimited.WithLabelValues("sys1")), 1},
		{testutil.ToFloat64(m.waitSeconds.WithLabelValues("sys1", "retry")), 1.5},
		{testutil.ToFloat64(m.waits.WithLabelValues("sys1", "pace")), 1},
		{testutil.ToFloat64(m.waits.WithLabelValues("sys1", "other")), 1},
	} {
		if c.got != c.want {
			t.Errorf("check %d: %v, want %v", i, c.got, c.want)
		}
	}
}

// TestGaugesReadSourcesAtScrape: every known process has a queue and a
// parked series, zero included; names ride on info series.
func TestGaugesReadSourcesAtScrape(t *testing.T) {
	m := New(events.New(8, nil), Sources{
		Backlog: func() (map[string]int, map[string]int, error) {
			return map[string]int{"p1": 7}, map[string]int{"p2": 2}, nil
		},
		Processes: func() (map[string]string, error) {
			return map[string]string{"p1": "Helpdesk ↔ Eng", "p2": "Other"}, nil
		},
		Systems:        func() (map[string]string, error) { return map[string]string{"s1": "Helpdesk"}, nil },
		Sessions:       func() (int, error) { return 3, nil },
		Connections:    func() (int, int) { return 2, 5 },
		LogSubscribers: func() int { return 4 },
		StoreSize:      func() (int64, int64) { return 1000, 2000 },
	}, zerolog.Nop())
	out, err := testutil.CollectAndFormat(m.Registry(), expfmt.TypeTextPlain,
		"lockstep_sync_queue_depth", "lockstep_sync_parked_items", "lockstep_process_info", "lockstep_system_info",
		"lockstep_sessions", "lockstep_connections", "lockstep_log_subscribers", "lockstep_store_size_bytes")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`lockstep_sync_queue_depth{process="p1"} 7`, `lockstep_sync_queue_depth{process="p2"} 0`,
		`lockstep_sync_parked_items{process="p1"} 0`, `lockstep_sync_parked_items{process="p2"} 2`,
		`lockstep_process_info{name="Helpdesk ↔ Eng",process="p1"} 1`, `lockstep_system_info{name="Helpdesk",system="s1"} 1`,
		`lockstep_sessions 3`, `lockstep_connections{state="logged_in"} 2`, `lockstep_connections{state="not_logged_in"} 5`,
		`lockstep_log_subscribers 4`, `lockstep_store_size_bytes{part="lsm"} 1000`, `lockstep_store_size_bytes{part="vlog"} 2000`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("missing %s in:\n%s", want, out)
		}
	}
}
