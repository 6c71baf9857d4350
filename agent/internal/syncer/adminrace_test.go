package syncer

import (
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
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
