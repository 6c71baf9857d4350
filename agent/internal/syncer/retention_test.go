package syncer

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// idleWorld is an engine over two empty systems on a fake clock: every
// run is an idle poll.
type idleWorld struct {
	eng   *Engine
	st    *store.Store
	dir   string
	clock *simClock
	proc  Process
}

func newIdleWorld(t testing.TB, noSync bool) *idleWorld {
	t.Helper()
	w := &idleWorld{dir: t.TempDir(), clock: &simClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	st, err := store.Create(store.Options{Dir: w.dir, Key: agenttest.Key(t), NoSync: noSync})
	if err != nil {
		t.Fatal(err)
	}
	w.st = st
	t.Cleanup(func() { st.Close() })
	a, b := newMemsys("HELP", w.clock), newMemsys("ENG", w.clock)
	w.eng = New(Deps{Store: st, Bus: events.New(100, nil), Log: zerolog.Nop(), Now: w.clock.now,
		Open: func(id string) (connector.Connector, error) {
			if id == "sysA" {
				return a, nil
			}
			return b, nil
		}})
	w.proc = Process{ID: "p1", Name: "idle", A: End{System: "sysA", Project: "HELP"}, B: End{System: "sysB", Project: "ENG"},
		Types:    []mapping.TypePair{{A: "incident", B: "bug", Fields: []mapping.FieldPair{{A: "title", B: "title", Direction: mapping.Both}}}},
		Schedule: Schedule{PollSeconds: 60}}
	if err := st.Put("proc/p1", w.proc); err != nil {
		t.Fatal(err)
	}
	return w
}

// poll is one scheduled run a minute after the last.
func (w *idleWorld) poll() Run {
	w.clock.advance(time.Minute)
	return w.eng.runOnce(context.Background(), &w.proc, "schedule", nil)
}

func (w *idleWorld) runSeqs(t testing.TB) []uint64 {
	t.Helper()
	var seqs []uint64
	err := w.st.View(func(tx *store.Tx) error {
		return tx.Scan(prefixRuns("p1"), "", func(k string, _ []byte) error {
			var seq uint64
			fmt.Sscanf(k[len(prefixRuns("p1")):], "%d", &seq)
			seqs = append(seqs, seq)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

// TestRunsPrunedAsTheyAreSaved: each run deletes what left the window as
// it is saved, by count and by age; the newest runs stay.
func TestRunsPrunedAsTheyAreSaved(t *testing.T) {
	w := newIdleWorld(t, false)
	w.eng.SetRetention(Retention{MaxRuns: 5})
	for range 20 {
		w.poll()
	}
	if got := w.runSeqs(t); fmt.Sprint(got) != "[16 17 18 19 20]" {
		t.Fatalf("runs kept %v, want the newest five", got)
	}
	// By age: a run a minute, half an hour kept.
	w.eng.SetRetention(Retention{MaxAge: 30 * time.Minute})
	for range 40 {
		w.poll()
	}
	got := w.runSeqs(t)
	if len(got) != 31 || got[0] != 30 || got[len(got)-1] != 60 {
		t.Fatalf("runs kept %v, want those of the last half hour (30-60)", got)
	}
	if runs, _ := w.eng.Views().Runs("p1", 0); len(runs) == 0 || runs[0].ID != "p1-60" {
		t.Fatalf("runs.list after pruning: %+v", runs)
	}
}

// TestSweep: the sweep applies a smaller window to what is there, forgets
// the runs and counters of deleted processes, and finished bulk jobs a
// day old; the Pruner sweeps when it starts.
func TestSweep(t *testing.T) {
	w := newIdleWorld(t, false)
	for range 30 {
		w.poll()
	}
	// A deleted process's history, left behind by an older agent.
	if err := w.st.Update(func(tx *store.Tx) error {
		for i := uint64(1); i <= 3; i++ {
			if err := tx.Put(keyRun("gone", i), Run{ID: fmt.Sprintf("gone-%d", i), Process: "gone", StartedAt: w.clock.now()}); err != nil {
				return err
			}
		}
		return tx.SetRaw(keyRunSeq("gone"), []byte("3"))
	}); err != nil {
		t.Fatal(err)
	}
	old := &bulkJob{BulkJob: BulkJob{ID: "old", Process: "p1", State: "done", EndedAt: w.clock.now().Add(-25 * time.Hour)}}
	fresh := &bulkJob{BulkJob: BulkJob{ID: "fresh", Process: "p1", State: "done", EndedAt: w.clock.now().Add(-time.Hour)}}
	running := &bulkJob{BulkJob: BulkJob{ID: "running", Process: "p1", State: "running"}}
	w.eng.bulk = map[string]*bulkJob{"old": old, "fresh": fresh, "running": running}

	w.eng.SetRetention(Retention{MaxRuns: 10})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- (&Pruner{Engine: w.eng, Interval: time.Hour}).Serve(ctx) }()
	agenttest.Eventually(t, "the pruner's first sweep", func() bool { return len(w.runSeqs(t)) == 10 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := w.runSeqs(t); got[0] != 21 {
		t.Fatalf("runs kept %v, want 21-30", got)
	}
	left := 0
	w.st.View(func(tx *store.Tx) error {
		for _, p := range []string{prefixRuns("gone"), keyRunSeq("gone")} {
			tx.Scan(p, "", func(string, []byte) error { left++; return nil })
		}
		return nil
	})
	if left != 0 {
		t.Fatalf("%d records of the deleted process remain", left)
	}
	if _, err := w.eng.BulkStatus("old"); err == nil {
		t.Fatal("a bulk job finished 25 hours ago is still kept")
	}
	for _, id := range []string{"fresh", "running"} {
		if _, err := w.eng.BulkStatus(id); err != nil {
			t.Fatalf("bulk job %s: %v", id, err)
		}
	}
	// The sweep's counters survive: the next run continues the sequence.
	if r := w.poll(); r.ID != "p1-31" {
		t.Fatalf("next run %s", r.ID)
	}
	// Deleting the process deletes its history and counter at once.
	if err := w.eng.Processes().Delete("test", "p1"); err != nil {
		t.Fatal(err)
	}
	w.st.View(func(tx *store.Tx) error {
		for _, p := range []string{prefixRuns("p1"), keyRunSeq("p1")} {
			tx.Scan(p, "", func(k string, _ []byte) error { t.Errorf("%s outlived its process", k); return nil })
		}
		return nil
	})
}

// dirSize is the bytes a directory's files take.
func dirSize(t testing.TB, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// BenchmarkYearOfIdlePolls runs a year of scheduled runs of one process,
// one a minute on a fake clock (525,600 idle polls through the engine's
// own run path into a real encrypted store), with the default retention
// and without any, and reports the store's size on disk after each, and
// their ratio. The store skips the sync after each write (NoSync), which
// changes how long this takes, not what the store holds.
func BenchmarkYearOfIdlePolls(b *testing.B) {
	const polls = 365 * 24 * 60
	const month = 30 * 24 * 60
	sizes, lastMonth := map[string]float64{}, map[string]time.Duration{}
	for _, c := range []struct {
		name string
		keep Retention
	}{{"retention", DefaultRetention()}, {"none", Retention{}}} {
		w := newIdleWorld(b, true)
		w.eng.SetRetention(c.keep)
		var first time.Duration
		start := time.Now()
		for i := range polls {
			if i == month {
				first = time.Since(start)
			}
			if i == polls-month {
				start = time.Now()
			}
			w.poll()
		}
		lastMonth[c.name] = time.Since(start)
		if c.name == "retention" {
			// Pruning as runs are saved must not make a run dearer as the
			// history ages.
			b.ReportMetric(float64(lastMonth[c.name])/float64(first), "poll_time_last/first_month")
		}
		runs := len(w.runSeqs(b))
		if err := w.st.Close(); err != nil {
			b.Fatal(err)
		}
		sizes[c.name] = float64(dirSize(b, w.dir))
		b.ReportMetric(sizes[c.name]/(1<<20), "MB_store_"+c.name)
		b.ReportMetric(float64(runs), "runs_kept_"+c.name)
	}
	b.ReportMetric(sizes["retention"]/sizes["none"], "store_retention/none")
	b.ReportMetric(float64(lastMonth["retention"])/float64(lastMonth["none"]), "poll_time_retention/none")
}
