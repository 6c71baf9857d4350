package syncer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// call runs an administrator's call while a worker is stopped at a probe
// point, and reports how it went: it either ends (it wrote without waiting
// for the worker) or waits for the pair the worker holds (probeHoldWait),
// in which case it ends once the worker lets the pair go.
type call struct {
	done    chan error
	waiting chan struct{}
	once    sync.Once
	bound   <-chan time.Time // catches a hang only
}

func newCall() *call {
	return &call{done: make(chan error, 1), waiting: make(chan struct{}), bound: time.After(time.Minute)}
}

// start makes the call in its own goroutine and returns once it ended or
// waits for a pair; false: neither happened (a hang).
func (c *call) start(fn func() error) bool {
	go func() { c.done <- fn() }()
	select {
	case err := <-c.done:
		c.done <- err
		return true
	case <-c.waiting:
		return true
	case <-c.bound:
		return false
	}
}

// holdWait is told of probeHoldWait from the call's goroutine.
func (c *call) holdWait() { c.once.Do(func() { close(c.waiting) }) }

// result waits for the call to end.
func (c *call) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-c.done:
		return err
	case <-c.bound:
		t.Fatal("the administrator's call never ended")
		return nil
	}
}

// An administrator's resolution of a held field, made while a worker has
// the pair in hand, is not lost under the worker's save. The pair's item
// (another field changed) is about to settle, writing back the pair as it
// read it, without the resolution, when the resolution is made: the
// resolution must still be applied.
func TestResolveWhileThePairIsWorked(t *testing.T) {
	w := newWorld(t, ConflictHold)
	id := w.a.userCreate("incident", connector.Fields{"title": "Base", "status": "new", "priority": "low"})
	w.quiesce()
	peer := w.peerOf(SideA, id)
	w.a.userSet(id, "title", "A title")
	w.b.userSet(peer, "title", "B title")
	w.run()
	p, _ := w.eng.pairOf("p1", SideA, id)
	if p == nil || p.State != PairHeld || len(p.Held) != 1 {
		t.Fatalf("the title is not held: %+v", p)
	}
	w.a.userSet(id, "priority", "high") // the pair's item is worked again

	rpc := newCall()
	var failure string
	w.eng.probe = func(at probePoint, s Side, e string) {
		switch {
		case at == probeSettle && s == SideA && e == id:
			if !rpc.start(func() error {
				return w.eng.ResolveFields("carol", "p1", p.ID, map[string]Side{"title|title": SideB})
			}) {
				failure = "the resolution neither ended nor waited for the pair"
			}
		case at == probeHoldWait && e == p.ID:
			rpc.holdWait()
		}
	}
	run := w.run()
	w.eng.probe = nil
	if failure != "" {
		t.Fatal(failure)
	}
	if err := rpc.result(t); err != nil {
		t.Fatal(err)
	}
	if run.Counts.Failed > 0 || len(run.Errors) > 0 {
		t.Fatalf("the run failed: %+v", run.Errors)
	}
	w.quiesce()
	p, _ = w.eng.pairOf("p1", SideA, id)
	if got := w.a.items[id].ent.Title; got != "B title" || p.State != PairSynced || len(p.Held) != 0 {
		t.Fatalf("after resolving the title for b: A's title %q, pair %s, held %v", got, p.State, p.Held)
	}
}

// An administrator's adoption and a run's create of one entity never
// leave it in two pairs. The entity (in A) is new, and a person made its
// counterpart in B by hand; the run creates a copy for it while the
// administrator adopts the two, either while the copy is being made (the
// run found the entity unpaired before the adoption) or after the
// adoption looked and found the entity unpaired, before it writes.
func TestAdoptWhileTheRunCreates(t *testing.T) {
	for _, tc := range []struct {
		name string
		// during: the adoption is made while the copy is being made;
		// else it looks before the run and writes after it.
		during bool
	}{
		{name: "adopted while the copy is made", during: true},
		{name: "adopted after the run paired it", during: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, orig, hand := newCounterparts(t)
			csv := w.a.items[orig].ent.Key + "," + w.b.items[hand].ent.Key
			adopt := func() (AdoptResult, error) {
				return w.eng.Adopt(context.Background(), "carol", "p1", AdoptRequest{CSV: csv})
			}
			var res AdoptResult
			var err error
			if tc.during {
				var once sync.Once
				w.b.fail = func(op string) error {
					if op == "create" {
						once.Do(func() { res, err = adopt() })
					}
					return nil
				}
				w.run()
				w.b.fail = nil
			} else {
				looked := make(chan struct{}) // the adoption found both unpaired
				ran := make(chan struct{})    // the run is over
				var first atomic.Bool         // the adoption's look, before the run
				w.eng.probe = func(at probePoint, s Side, id string) {
					if at == probePairRead && s == SideB && id == hand && first.CompareAndSwap(false, true) {
						close(looked)
						<-ran
					}
				}
				done := make(chan struct{})
				go func() {
					defer close(done)
					res, err = adopt()
				}()
				select {
				case <-looked:
				case <-done:
					t.Fatalf("the adoption ended before it looked at the entity in B: %+v, %v", res, err)
				case <-time.After(time.Minute): // catches a hang only
					t.Fatal("the adoption never looked at the entity in B")
				}
				w.run()
				close(ran)
				<-done
				w.eng.probe = nil
			}
			if err != nil {
				t.Fatal(err)
			}
			of := w.pairsWith(orig)
			p, _ := w.eng.pairOf("p1", SideA, orig)
			if len(of) != 1 || p == nil || p.ID != of[0].ID {
				t.Fatalf("the entity is in %d pairs (%+v), its index names %+v: want one", len(of), of, p)
			}
			adopted := p.B.ID == hand
			if adopted != (res.Adopted == 1) || res.Adopted+len(res.AlreadyPaired) != 1 {
				t.Fatalf("the adoption says %d adopted, %d already paired; the entity's pair is with %s (adopted %s)",
					res.Adopted, len(res.AlreadyPaired), p.B.ID, hand)
			}
		})
	}
}

// newCounterparts is a world with a new entity in A (orig) and its
// counterpart made by hand in B (hand), neither paired; nothing is
// created in A, so the counterpart is not copied back.
func newCounterparts(t *testing.T) (w *world, orig, hand string) {
	t.Helper()
	w = newWorld(t, ConflictAWins)
	w.proc.Options.CreateInA = false
	if err := w.st.Put("proc/p1", w.proc); err != nil {
		t.Fatal(err)
	}
	orig = w.a.userCreate("incident", connector.Fields{"title": "Fan noise", "status": "new"})
	hand = w.b.userCreate("bug", connector.Fields{"title": "Fan noise", "status": "open"})
	return w, orig, hand
}

// pairsWith lists the pairs the pair list holds for side A's entity id.
func (w *world) pairsWith(id string) []PairView {
	w.t.Helper()
	pairs, _, err := w.eng.Views().Pairs("p1", "", "", 50)
	if err != nil {
		w.t.Fatal(err)
	}
	var of []PairView
	for _, p := range pairs {
		if p.A.ID == id {
			of = append(of, p)
		}
	}
	return of
}

// An administrator's relink made while the run creates a copy for the
// same entity stands: the run's pair, found unpaired before, is not
// recorded over it.
func TestRelinkWhileTheRunCreates(t *testing.T) {
	w, orig, hand := newCounterparts(t)
	var once sync.Once
	var err error
	w.b.fail = func(op string) error {
		if op == "create" {
			once.Do(func() { _, _, err = w.eng.Relink(context.Background(), "carol", "p1", orig, hand) })
		}
		return nil
	}
	w.run()
	w.b.fail = nil
	if err != nil {
		t.Fatal(err)
	}
	of := w.pairsWith(orig)
	p, _ := w.eng.pairOf("p1", SideA, orig)
	if len(of) != 1 || p == nil || p.ID != of[0].ID || p.B.ID != hand {
		t.Fatalf("the entity is in %d pairs (%+v), its index names %+v: want the one relinked with %s", len(of), of, p, hand)
	}
}

// A process deleted while a run of it is under way (one an administrator
// started: the process's runner is stopped first, a run asked for is not)
// leaves no state behind: the run's pairs, queue and records would stay
// in the store for a process that no longer exists, and its pairs in the
// list of every process's pairs.
func TestDeleteWhileARunIsUnderWay(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.a.userCreate("incident", connector.Fields{"title": "Fan noise", "status": "new"})
	rpc := newCall()
	var started atomic.Bool
	var failure string
	w.b.fail = func(op string) error {
		if op == "create" && started.CompareAndSwap(false, true) {
			// The run is about to create a copy, and to pair it.
			if !rpc.start(func() error { return w.eng.Processes().Delete("carol", "p1") }) {
				failure = "the deletion neither ended nor waited for the run"
			}
		}
		return nil
	}
	w.eng.probe = func(at probePoint, _ Side, id string) {
		if at == probeRunWait && id == "p1" {
			rpc.holdWait()
		}
	}
	w.clock.advance(time.Second)
	if _, err := w.eng.RunNow(context.Background(), "p1"); err != nil {
		t.Fatal(err)
	}
	if failure != "" {
		t.Fatal(failure)
	}
	if err := rpc.result(t); err != nil {
		t.Fatal(err)
	}
	w.eng.probe, w.b.fail = nil, nil
	var left []string
	err := w.st.View(func(tx *store.Tx) error {
		return tx.Keys("", func(k string) error {
			for _, pre := range append(statePrefixes("p1"), "proc/p1") {
				if strings.HasPrefix(k, pre) {
					left = append(left, k)
				}
			}
			if (strings.HasPrefix(k, prefixPairListAll) || strings.HasPrefix(k, "pword/")) && strings.Contains(k, "/p1/") {
				left = append(left, k)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Fatalf("the deleted process left %d records: %v", len(left), left)
	}
}

// An administrator's adoption made while a worker finds the copy of a
// deleted entity whose pair was lost never leaves the copy in two pairs.
// The original (in A) was deleted after the pairs were lost; its item
// finds the copy by its marker, unpaired, and is about to make the pair
// again (for the deletion policy) when the administrator adopts the copy
// with another entity of A.
func TestAdoptWhileADeletedEntityFindsItsCopy(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.eng.workers = 1 // the probe below then stops the deleted entity's item only
	orig := w.a.userCreate("incident", connector.Fields{"title": "Fan noise", "status": "new"})
	w.quiesce()
	copied := w.peerOf(SideA, orig)
	w.proc.Options.CreateInA, w.proc.Options.CreateInB = false, false // nothing copied after
	w.losePairs()
	w.a.userDelete(orig)
	other := w.a.userCreate("incident", connector.Fields{"title": "Fan noise again", "status": "new"})
	csv := w.a.items[other].ent.Key + "," + w.b.items[copied].ent.Key

	var res AdoptResult
	var err error
	var armed, looked, adopted atomic.Bool
	w.eng.probe = func(at probePoint, s Side, id string) {
		switch {
		case at == probeDecide && s == SideA && id == orig:
			armed.Store(true)
		case at == probePairRead && s == SideB && id == copied && armed.Load():
			looked.Store(true) // the deleted entity's item looks at the copy's pair: none
		}
	}
	w.b.fail = func(op string) error {
		// It reads the copy next, then makes the pair: the adoption is
		// made meanwhile.
		if op == "get" && looked.Load() && adopted.CompareAndSwap(false, true) {
			res, err = w.eng.Adopt(context.Background(), "carol", "p1", AdoptRequest{CSV: csv})
		}
		return nil
	}
	w.run()
	w.eng.probe, w.b.fail = nil, nil
	if !adopted.Load() {
		t.Fatal("the deleted entity's item never looked for its copy's pair")
	}
	if err != nil || res.Adopted != 1 {
		t.Fatalf("the adoption: %+v, %v", res, err)
	}
	var with []PairView
	pairs, _, lerr := w.eng.Views().Pairs("p1", "", "", 50)
	if lerr != nil {
		t.Fatal(lerr)
	}
	for _, p := range pairs {
		if p.B.ID == copied {
			with = append(with, p)
		}
	}
	p, _ := w.eng.pairOf("p1", SideB, copied)
	if len(with) != 1 || p == nil || p.ID != with[0].ID || p.A.ID != other {
		var ids []string
		for _, v := range with {
			ids = append(ids, v.ID+" (with "+v.A.ID+")")
		}
		t.Fatalf("the copy is in %d pairs %v, its index names %v: want the one adopted with %s", len(with), ids, p, other)
	}
}

// A bulk job's changes queued for a process deleted meanwhile are not
// left behind: the job lists the changes, then queues them apart from any
// run; the process is deleted before it queues them, or while it does
// (its state deleted, its record not yet). Entries left would never be
// worked, or be worked by a process created again under the same id.
func TestDeleteWhileABulkJobQueues(t *testing.T) {
	for _, during := range []bool{false, true} {
		t.Run(fmt.Sprint("while its state is deleted ", during), func(t *testing.T) {
			w := newWorld(t, ConflictAWins)
			w.a.userCreate("incident", connector.Fields{"title": "Fan noise", "status": "new"})
			w.b.userCreate("bug", connector.Fields{"title": "Slow build", "status": "open"})
			w.eng.mu.Lock()
			w.eng.ctx = context.Background() // as Serve sets it
			w.eng.mu.Unlock()
			bound := time.After(time.Minute) // catches a hang only
			rpc := newCall()
			stateGone := make(chan struct{}) // the deletion is at probeForget
			queued := make(chan struct{})    // the job waits for the run lock: it queued
			var once sync.Once
			var failure atomic.Value
			w.eng.probe = func(at probePoint, _ Side, id string) {
				switch {
				case at == probeForget && during:
					close(stateGone)
					select {
					case <-queued:
					case <-bound:
						failure.Store("the bulk job never queued its changes")
					}
				case at == probeRunWait && id == "p1":
					once.Do(func() { close(queued) })
				}
			}
			var listed atomic.Bool
			w.b.fail = func(op string) error {
				// B's changes are listed last: the job queues next.
				if op != "changes" || !listed.CompareAndSwap(false, true) {
					return nil
				}
				if !during {
					if err := w.eng.Processes().Delete("carol", "p1"); err != nil {
						failure.Store(err.Error())
					}
					return nil
				}
				go func() { rpc.done <- w.eng.Processes().Delete("carol", "p1") }()
				select {
				case <-stateGone:
				case <-bound:
					failure.Store("the deletion never deleted the state")
				}
				return nil
			}
			if _, err := w.eng.Bulk("p1", time.Time{}); err != nil {
				t.Fatal(err)
			}
			w.eng.wg.Wait()
			if during {
				if err := rpc.result(t); err != nil {
					t.Fatal(err)
				}
			}
			w.eng.probe, w.b.fail = nil, nil
			if f := failure.Load(); f != nil {
				t.Fatal(f)
			}
			if _, err := w.eng.Processes().Get("p1"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("the process after its deletion: %v", err)
			}
			if n := w.queueLen(); n != 0 {
				t.Fatalf("%d queue entries left for the deleted process", n)
			}
		})
	}
}
