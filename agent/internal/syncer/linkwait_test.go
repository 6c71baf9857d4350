package syncer

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// A link whose target is paired while the link's item is still being
// worked reaches the other side. The link's item (W) finds its target (T)
// unpaired and records that it waits; T's worker then pairs T and wakes W
// (queues it, and has its links listed again) before W's worker settles,
// writing the pair it has in memory. W's next item must still list the
// link: the wake's "list again" must not be lost under W's save.
func TestLinkToATargetPairedWhileItsItemIsWorked(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	waiter := w.a.userCreate("incident", connector.Fields{"title": "Printer down", "status": "new"})
	w.quiesce()
	target := w.a.userCreate("incident", connector.Fields{"title": "Toner recall", "status": "new"})
	w.a.userLink(waiter, "blocks", target)

	settling := make(chan struct{})  // W's worker is about to settle
	bound := time.After(time.Minute) // catches a hang only
	lwait := keyWait(w.proc.ID, SideA, target, waiter)
	var failure string
	w.eng.probe = func(at probePoint, s Side, id string) {
		switch {
		case at == probeDecide && s == SideA && id == target:
			// T decides only once W's link has found it unpaired.
			select {
			case <-settling:
			case <-bound:
				failure = "the link's item never settled"
			}
		case at == probeSettle && s == SideA && id == waiter:
			close(settling)
			// W settles only once T's pair is stored and has woken W.
			for {
				err := w.st.View(func(tx *store.Tx) error { _, err := tx.GetRaw(lwait); return err })
				if errors.Is(err, store.ErrNotFound) {
					return
				}
				select {
				case <-bound:
					failure = "the target's pair never woke the link's item"
					return
				case <-time.After(5 * time.Millisecond): // polls the store for the row
				}
			}
		}
	}
	w.clock.advance(time.Second)
	run := w.eng.runOnce(context.Background(), &w.proc, "test", nil)
	w.eng.probe = nil
	if failure != "" {
		t.Fatal(failure)
	}
	if run.Counts.Failed > 0 || len(run.Errors) > 0 {
		t.Fatalf("the run failed: %+v", run.Errors)
	}
	w.quiesce()
	w.agree()
	copyOf := w.peerOf(SideA, waiter)
	if links := w.b.items[copyOf].links; len(links) != 1 || links[0].Target.ID != w.peerOf(SideA, target) {
		t.Fatalf("the copy's links are %+v, want one to the target's copy", links)
	}
}

// A link's wait and its target's pair, recorded at the same moment, still
// meet. The link's item (W) records that it waits for its target (T) and
// looks again for T's pair, while T's registration is inside its
// transaction, past its look for waiting links: T's pair is not yet
// visible to W, and W's wait was not yet visible to T. One of the two must
// see the other, or the link waits for ever.
func TestLinkWaitRecordedWhileItsTargetIsPaired(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	waiter := w.a.userCreate("incident", connector.Fields{"title": "Printer down", "status": "new"})
	w.quiesce()
	target := w.a.userCreate("incident", connector.Fields{"title": "Toner recall", "status": "new"})
	w.a.userLink(waiter, "blocks", target)

	waking := make(chan struct{})    // T's registration looked for waiting links
	settling := make(chan struct{})  // W's worker is past its second look
	bound := time.After(time.Minute) // catches a hang only
	var once sync.Once
	var mu sync.Mutex
	var failure string
	wait := func(ch chan struct{}, what string) {
		select {
		case <-ch:
		case <-bound:
			mu.Lock()
			failure = what
			mu.Unlock()
		}
	}
	w.eng.probe = func(at probePoint, s Side, id string) {
		switch {
		case at == probeDecide && s == SideA && id == waiter:
			wait(waking, "the target's registration never looked for waiting links")
		case at == probeSettle && s == SideA && id == waiter:
			close(settling)
		case at == probeWake && s == SideA && id == target:
			once.Do(func() {
				close(waking)
				wait(settling, "the link's item never settled")
			})
		}
	}
	w.clock.advance(time.Second)
	run := w.eng.runOnce(context.Background(), &w.proc, "test", nil)
	w.eng.probe = nil
	mu.Lock()
	defer mu.Unlock()
	if failure != "" {
		t.Fatal(failure)
	}
	if run.Counts.Failed > 0 || len(run.Errors) > 0 {
		t.Fatalf("the run failed: %+v", run.Errors)
	}
	w.quiesce()
	w.agree()
	copyOf := w.peerOf(SideA, waiter)
	if links := w.b.items[copyOf].links; len(links) != 1 || links[0].Target.ID != w.peerOf(SideA, target) {
		t.Fatalf("the copy's links are %+v, want one to the target's copy", links)
	}
}
