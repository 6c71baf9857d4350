package syncer

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// queued is side s's entity's queue entry, if any.
func (w *world) queued(s Side, id string) (QueueItem, bool) {
	w.t.Helper()
	var it QueueItem
	err := w.st.Get(keyQueue("p1", s, id), &it)
	if err != nil && err != store.ErrNotFound {
		w.t.Fatal(err)
	}
	return it, err == nil
}

// enqueue queues side s's entity as a webhook's delivery or a bulk job
// does, apart from any run.
func (w *world) enqueue(s Side, id string) {
	w.t.Helper()
	if err := w.st.Update(func(tx *store.Tx) error {
		return enqueueTx(tx, "p1", QueueItem{Side: s, Entity: id}, w.clock.now())
	}); err != nil {
		w.t.Fatal(err)
	}
}

// A change that arrives while the entity's attempt fails for good is not
// lost when the entity is parked: the system refuses the copy, the person
// fixes the entity meanwhile (its webhook queues it again), and the next
// run syncs the fixed entity without an administrator's retry. Until then
// the entity is listed as parked, with the refusal.
func TestChangeWhileTheEntityIsParked(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "Fan noise, far too long a title", "status": "new"})
	var refused atomic.Bool
	w.b.fail = func(op string) error {
		if op == "create" && refused.CompareAndSwap(false, true) {
			w.a.userSet(id, "title", "Fan noise")
			w.enqueue(SideA, id)
			return fmt.Errorf("title too long: %w", connector.ErrInvalid)
		}
		return nil
	}
	run := w.run()
	w.b.fail = nil
	if !refused.Load() || run.Counts.Failed != 1 {
		t.Fatalf("the create was not refused once: %+v", run.Errors)
	}
	parked, err := w.eng.Views().Errors("p1")
	if err != nil || len(parked) != 1 || parked[0].Entity != id {
		t.Fatalf("parked: %+v, %v: want the refused entity", parked, err)
	}
	it, ok := w.queued(SideA, id)
	if !ok || !it.NotBefore.IsZero() || it.Attempts != 0 {
		t.Fatalf("the entity changed while it was parked is queued %v (%+v): want due", ok, it)
	}
	w.run()
	p, _ := w.eng.pairOf("p1", SideA, id)
	if p == nil || p.State != PairSynced || w.b.items[p.B.ID].ent.Title != "Fan noise" {
		t.Fatalf("after the next run, its pair: %+v", p)
	}
	if parked, _ := w.eng.Views().Errors("p1"); len(parked) != 0 {
		t.Fatalf("still parked after it synced: %+v", parked)
	}
	if _, ok := w.queued(SideA, id); ok {
		t.Fatal("still queued after it synced")
	}
}

// An administrator's retry made while a worker has the entity in hand
// stands. The entity's change is refused by the other side (parked), then
// the entity is synced on request (the entity alone, queued anew:
// generation 0); the administrator fixes the cause and retries the entity
// while that attempt, begun before the fix, is refused once more. The
// retry must still bring the change over, without a second retry.
func TestRetryWhileTheEntityIsWorked(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "Fan noise", "status": "new"})
	w.quiesce()
	w.a.userSet(id, "status", "solved")
	refuse := func(op string) error {
		if op == "update" {
			return fmt.Errorf("no permission to resolve bugs: %w", connector.ErrInvalid)
		}
		return nil
	}
	w.b.fail = refuse
	if run := w.run(); run.Counts.Failed != 1 {
		t.Fatalf("the update was not refused: %+v", run.Errors)
	}
	var retried atomic.Bool
	var rerr error
	w.b.fail = func(op string) error {
		if op == "update" && retried.CompareAndSwap(false, true) {
			_, rerr = w.eng.Retry("p1", SideA, id) // the cause fixed, for the next attempt
			return refuse(op)
		}
		return nil
	}
	w.clock.advance(time.Second)
	if _, err := w.eng.SyncEntity(context.Background(), "p1", SideA, id); err != nil {
		t.Fatal(err)
	}
	w.b.fail = nil
	if !retried.Load() || rerr != nil {
		t.Fatalf("retried %v: %v", retried.Load(), rerr)
	}
	if it, ok := w.queued(SideA, id); !ok || !it.NotBefore.IsZero() {
		t.Fatalf("the retried entity is queued %v (%+v): want due", ok, it)
	}
	w.run()
	p, _ := w.eng.pairOf("p1", SideA, id)
	if p == nil || p.State != PairSynced || w.b.items[p.B.ID].ent.Fields["status"] != "resolved" {
		t.Fatalf("after the next run, its pair: %+v", p)
	}
	if parked, _ := w.eng.Views().Errors("p1"); len(parked) != 0 {
		t.Fatalf("still parked after it synced: %+v", parked)
	}
}

// An entity woken while its failed attempt is recorded stays woken: its
// update to B fails for a while (the system is unavailable), and as the
// failure is recorded, with a backoff, the entity is woken (a link target
// paired, or queued again by a change). The wake must stand: due now, the
// newer generation kept, not a backoff recorded over it.
func TestWakeWhileAFailureIsRecorded(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "Fan noise", "status": "new"})
	w.quiesce()
	w.a.userSet(id, "status", "solved")
	var failed, woken atomic.Bool
	w.b.fail = func(op string) error {
		if op == "update" && failed.CompareAndSwap(false, true) {
			return fmt.Errorf("maintenance: %w", connector.ErrUnavailable)
		}
		return nil
	}
	var gen int64
	w.eng.probe = func(at probePoint, s Side, e string) {
		if at == probeFail && s == SideA && e == id && woken.CompareAndSwap(false, true) {
			if err := w.st.Update(func(tx *store.Tx) error {
				return wakeTx(tx, "p1", QueueItem{Side: SideA, Entity: id}, w.clock.now())
			}); err != nil {
				t.Error(err)
			}
			it, _ := w.queued(SideA, id)
			gen = it.Gen
		}
	}
	run := w.run()
	w.eng.probe, w.b.fail = nil, nil
	if !woken.Load() || len(run.Errors) != 1 || run.Errors[0].Parked {
		t.Fatalf("woken %v; the run's errors %+v: want one transient failure", woken.Load(), run.Errors)
	}
	it, ok := w.queued(SideA, id)
	if !ok || !it.NotBefore.IsZero() || it.Gen != gen {
		t.Fatalf("the entity woken while its failure was recorded is queued %v (%+v): want due, generation %d", ok, it, gen)
	}
}
