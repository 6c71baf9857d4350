package syncer

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// interleave forces the order of the pair holds' race (holds.go): the
// original's worker is held inside its first write op to the copy's
// system, with the pair it adopted in the store; only then does the copy's
// item decide. From there the copy's worker must wait for the pair and
// touch neither system until the original's worker is done.
type interleave struct {
	op string // the original's worker's write that is held

	mu       sync.Mutex
	held     bool // the original's worker waits in op
	released bool
	inOp     chan struct{} // closed once it waits in op
	release  chan struct{}
	waits    chan string // the pairs a worker waits for
	calls    chan string // the ops made while it waits in op
}

func newInterleave(op string) *interleave {
	return &interleave{op: op, inOp: make(chan struct{}), release: make(chan struct{}),
		waits: make(chan string, 8), calls: make(chan string, 64)}
}

// gate is system m's fault hook (memsys.fail): it holds the first op of
// the copy's system named r.op, and reports every op made meanwhile.
func (r *interleave) gate(m *memsys, copySystem bool) func(op string) error {
	return func(op string) error {
		r.mu.Lock()
		switch {
		case !r.held && copySystem && op == r.op:
			r.held = true
			r.mu.Unlock()
			close(r.inOp)
			<-r.release
			return nil
		case r.held && !r.released:
			select {
			case r.calls <- m.prefix + " " + op:
			default:
			}
		}
		r.mu.Unlock()
		return nil
	}
}

// probe holds the copy's item until the original's worker waits in its
// op, and reports the pairs workers wait for.
func (r *interleave) probe(copySide Side, copyID string) func(probePoint, Side, string) {
	return func(at probePoint, s Side, id string) {
		switch {
		case at == probeDecide && s == copySide && id == copyID:
			select {
			case <-r.inOp:
			case <-r.release: // the test gave up: let the run end
			}
		case at == probeHoldWait:
			select {
			case r.waits <- id:
			default:
			}
		}
	}
}

func (r *interleave) letGo() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.released {
		r.released = true
		close(r.release)
	}
}

// Two workers never work one pair at once, even a pair made while the
// drain runs. The store is restored from a backup older than a pair: its
// original (in A) and its copy (in B, found by its marker) are both
// queued, unpaired, so they are dealt to two workers. The original's
// worker adopts the copy and copies a new comment to it; the copy's item,
// decided while that copy is under way, finds the new pair. It must wait
// until the original's worker is done, then find the comment copied:
// working the pair at once, it would copy the comment a second time. The
// hold is taken when the pair is made, not once it is adopted: adopting
// writes a changed field to the copy, and the pair is in the store from
// that write on.
func TestTwoWorkersNeverWorkOnePair(t *testing.T) {
	for _, tc := range []struct {
		name   string
		op     string // the original's worker's write the copy's item decides during
		change bool   // the original changed since the backup, so adopting writes
	}{
		{name: "while a comment is copied", op: "comment"},
		{name: "while adopting writes a field", op: "update", change: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, ConflictAWins)
			orig := w.a.userCreate("incident", connector.Fields{"title": "Noisy fan", "status": "new"})
			w.a.userComment(orig, "It rattles.")
			w.quiesce()
			if len(w.b.items) != 1 {
				t.Fatalf("%d items in B, want the one copy", len(w.b.items))
			}
			var copyID string
			for id := range w.b.items {
				copyID = id
			}
			w.losePairs() // as the restored store: neither side's item has its pair
			w.a.userComment(orig, "Still rattles.")
			if tc.change {
				w.a.userSet(orig, "status", "solved")
			}

			r := newInterleave(tc.op)
			defer r.letGo()
			w.a.fail, w.b.fail = r.gate(w.a, false), r.gate(w.b, true)
			w.eng.probe = r.probe(SideB, copyID)
			w.clock.advance(time.Second)
			done := make(chan Run, 1)
			go func() { done <- w.eng.runOnce(context.Background(), &w.proc, "test", nil) }()

			bound := time.After(time.Minute) // catches a hang only
			select {
			case <-r.inOp:
			case run := <-done:
				t.Fatalf("the run ended (%+v) before the original's worker made its %s", run.Counts, tc.op)
			case <-bound:
				t.Fatalf("the original's worker never made its %s", tc.op)
			}
			var waited string
			select {
			case waited = <-r.waits:
			case call := <-r.calls:
				t.Errorf("the copy's worker worked the pair (%s) while the original's worker was working it", call)
			case <-bound:
				t.Fatal("the copy's worker neither waited for the pair nor worked it")
			}
			r.letGo()
			var run Run
			select {
			case run = <-done:
			case <-bound:
				t.Fatal("the run never ended")
			}
			w.eng.probe, w.a.fail, w.b.fail = nil, nil, nil
			if run.Counts.Failed > 0 || len(run.Errors) > 0 {
				t.Fatalf("the run failed: %+v", run.Errors)
			}

			pair, err := w.eng.pairOf(w.proc.ID, SideA, orig)
			if err != nil || pair == nil || pair.B.ID != copyID {
				t.Fatalf("the original's pair is %+v (%v), want the copy adopted", pair, err)
			}
			if waited != "" && waited != pair.ID {
				t.Errorf("the copy's worker waited for pair %s, want %s", waited, pair.ID)
			}
			copies := 0
			for _, c := range w.b.items[copyID].comments {
				copies += strings.Count(c.Body, "Still rattles.")
			}
			if copies != 1 {
				t.Errorf("the new comment is on the copy %d times, want once", copies)
			}
			w.quiesce()
			w.agree()
		})
	}
}
