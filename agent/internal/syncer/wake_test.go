package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// putQueue writes n queue entries of process p1, side A, entities
// "A-<i>", each made by item(i), in transactions of a size Badger takes.
func (w *world) putQueue(n int, item func(i int) QueueItem) {
	w.t.Helper()
	const batch = 500
	for start := 0; start < n; start += batch {
		err := w.st.Update(func(tx *store.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				it := item(i)
				if err := tx.Put(keyQueue("p1", it.Side, it.Entity), it); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			w.t.Fatal(err)
		}
	}
}

// serveHourly activates the process with an hour between polls and serves
// the engine until the test ends: a run after the first is one that the
// test started.
func (w *world) serveHourly() {
	w.t.Helper()
	w.proc.Active, w.proc.Schedule.PollSeconds = true, 3600
	if err := w.st.Put("proc/p1", w.proc); err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.eng.Serve(ctx); close(done) }()
	w.t.Cleanup(func() { cancel(); <-done })
}

// runs are the process's latest runs, newest first.
func (w *world) runs() []Run {
	w.t.Helper()
	rs, err := w.eng.Views().Runs("p1", 10)
	if err != nil {
		w.t.Fatal(err)
	}
	return rs
}

// A process with more entities waiting out a backoff than one Badger
// transaction can rewrite (tens of thousands, after an outage of a system
// during a large sync) has them all woken: each is due now, its attempts
// still counted, and an entity already due is left as it was.
func TestWakeQueueWakesMoreThanOneTransactionHolds(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	const n = 20000 // about 3.5 MB of entries: Badger takes about 1.2 MB in one transaction here
	later := w.clock.now().Add(time.Hour)
	w.putQueue(n, func(i int) QueueItem {
		it := QueueItem{Side: SideA, Entity: fmt.Sprintf("A-%05d", i), Attempts: 3, NotBefore: later,
			LastError: "POST /api/items: HTTP 503 Service Unavailable", Enqueued: w.clock.now().Add(-time.Hour)}
		if i%1000 == 0 {
			it.NotBefore, it.Attempts = time.Time{}, 0 // due already
		}
		return it
	})
	if _, err := w.eng.wakeQueue("p1", func(QueueItem) bool { return true }); err != nil {
		t.Fatalf("wake %d entities: %v", n, err)
	}
	seen := 0
	err := w.st.View(func(tx *store.Tx) error {
		return tx.Scan(prefixQueue("p1"), "", func(k string, raw []byte) error {
			var it QueueItem
			if err := tx.Get(k, &it); err != nil {
				return err
			}
			seen++
			want := 3
			if seen%1000 == 1 {
				want = 0
			}
			if !it.NotBefore.IsZero() || it.Attempts != want {
				return fmt.Errorf("entry %s after the wake: %+v", k, it)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != n {
		t.Fatalf("%d entries after the wake, want %d", seen, n)
	}
}

// A process only degraded by a system (an entity waiting out a backoff
// after the system answered 503, its runs otherwise fine) is run when that
// system's connection test passes, with its entities waiting on that
// system due now: the administrator who saw the outage end does not wait
// out the backoff. Entities waiting on another system are left to their
// backoff, and another system's test starts nothing.
func TestRetrySystemRunsAProcessItOnlyDegraded(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	var down atomic.Bool
	down.Store(true)
	w.b.fail = func(op string) error {
		if op == "create" && down.Load() {
			return fmt.Errorf("POST /api/items: HTTP 503 Service Unavailable: %w", connector.ErrUnavailable)
		}
		return nil
	}
	id := w.a.userCreate("incident", connector.Fields{"title": "one", "status": "new"})
	w.serveHourly()
	agenttest.Eventually(t, "the first run to end", func() bool {
		rs := w.runs()
		return len(rs) == 1 && !rs[0].EndedAt.IsZero()
	})
	var item QueueItem
	if err := w.st.Get(keyQueue("p1", SideA, id), &item); err != nil || !item.NotBefore.After(w.clock.now()) || item.FailedOn != SideB {
		t.Fatalf("the entity B refused to create: %+v %v", item, err)
	}
	if h := w.health(); h.State != apitype.HealthDegraded {
		t.Fatalf("a process with an entity in backoff: %+v", h)
	}

	down.Store(false)
	if started, err := w.eng.RetrySystem("sysA"); err != nil || len(started) != 0 {
		t.Fatalf("sysA's test: started %+v, %v", started, err)
	}
	if err := w.st.Get(keyQueue("p1", SideA, id), &item); err != nil || !item.NotBefore.After(w.clock.now()) {
		t.Fatalf("the entity waiting on sysB after sysA's test: %+v %v", item, err)
	}
	// An entity of side B waits out a backoff after side A's system failed.
	other := QueueItem{Side: SideB, Entity: "B-77", Attempts: 2, NotBefore: w.clock.now().Add(time.Hour), FailedOn: SideA,
		LastError: "PUT /api/items/9: HTTP 503 Service Unavailable"}
	if err := w.st.Put(keyQueue("p1", SideB, "B-77"), other); err != nil {
		t.Fatal(err)
	}
	started, err := w.eng.RetrySystem("sysB")
	if err != nil || len(started) != 1 || started[0].Process != "p1" || started[0].Woken != 1 || started[0].Failing {
		t.Fatalf("sysB's test: started %+v, %v", started, err)
	}
	agenttest.Eventually(t, "the run the test started", func() bool {
		rs := w.runs()
		return len(rs) == 2 && rs[0].Trigger == TriggerTest && !rs[0].EndedAt.IsZero()
	})
	if p, err := w.eng.pairOf("p1", SideA, id); err != nil || p == nil {
		t.Fatalf("the entity after sysB's test: pair %+v, %v", p, err)
	}
	if err := w.st.Get(keyQueue("p1", SideA, id), &item); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the entity is still queued: %+v %v", item, err)
	}
	if err := w.st.Get(keyQueue("p1", SideB, "B-77"), &item); err != nil || !item.NotBefore.Equal(other.NotBefore) {
		t.Fatalf("the entity waiting on sysA after sysB's test: %+v %v", item, err)
	}
}

// A dry run stopped part way (the request canceled, or the agent
// stopping) says it was stopped and how far it got: the items it worked
// are planned; the one in flight is neither listed as failing with
// "context canceled" (no item failed) nor half planned; nothing after it
// is listed.
func TestPlanStoppedSaysHowFarItGot(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	var ids []string
	for i := range 5 {
		ids = append(ids, w.a.userCreate("incident", connector.Fields{"title": fmt.Sprintf("item %d", i), "status": "new"}))
	}
	w.run()
	for _, id := range ids {
		w.a.userSet(id, "title", "changed "+id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listed := 0
	w.a.fail = func(op string) error {
		if op != "comments" {
			return nil
		}
		if listed++; listed == 3 {
			// The third item's listing of its comments, after its
			// update was planned, is cut short by the stop, as an HTTP
			// request is.
			cancel()
			return fmt.Errorf("GET /api/items/3/comments: %w", context.Canceled)
		}
		return nil
	}
	plan, err := w.eng.Plan(ctx, "p1")
	if err != nil {
		t.Errorf("a stopped dry run: %v", err)
	}
	count := map[string]int{}
	for _, it := range plan {
		count[it.Action]++
		if strings.Contains(it.Detail, "context canceled") {
			t.Errorf("the stop listed as an entry: %+v", it)
		}
	}
	if count["error"] != 0 || count["read"] != 5 || count["update"] != 2 || count["stopped"] != 1 {
		t.Fatalf("the stopped plan: %v\n%+v", count, plan)
	}
	last := plan[len(plan)-1]
	if last.Action != "stopped" || !strings.Contains(last.Detail, "2 of the 5 items") || !strings.Contains(last.Detail, "canceled") {
		t.Fatalf("the plan's last entry: %+v", last)
	}
	// On the wire the stop has no side at all (the UI's type of a side is
	// a or b); every item's entry has one.
	for _, it := range plan {
		raw, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatal(err)
		}
		side, has := fields["side"]
		if it.Action == "stopped" && has {
			t.Errorf("the stop's entry carries a side: %s", raw)
		}
		if it.Action != "stopped" && side != "a" && side != "b" {
			t.Errorf("an item's entry without a side a or b: %s", raw)
		}
	}
}
