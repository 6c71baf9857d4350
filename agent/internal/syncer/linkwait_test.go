package syncer

import (
	"context"
	"errors"
	"strings"
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
	w.linkCopied(run, waiter, target)
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
	w.linkCopied(run, waiter, target)
}

// A link whose target's peer turns out deleted leaves the deletion to the
// target's own pair, worked by whoever holds it. The link's item (L) holds
// its own pair, not the target's (T); the deletion of T's peer is polled
// too, and its item works T's pair at the same moment. Had L applied the
// deletion policy to T's pair as well, both would mark T's survivor: two
// notes of one deletion (or one's save of T's pair dropping the other's).
func TestLinkToADeletedPeerLeavesItsPairToItsWorker(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	pol := DeletePolicy{Action: DeleteMark, Field: "status", Value: "closed"}
	w.proc.Options.Deletes = Deletes{A: pol, B: pol}
	if err := w.st.Put("proc/p1", w.proc); err != nil {
		t.Fatal(err)
	}
	linker := w.a.userCreate("incident", connector.Fields{"title": "Printer down", "status": "new"})
	target := w.a.userCreate("incident", connector.Fields{"title": "Toner recall", "status": "new"})
	w.quiesce()
	gone := w.peerOf(SideA, target)
	w.a.userLink(linker, "blocks", target) // L copies it to B, to T's peer...
	w.b.userDelete(gone)                   // ...which is gone

	settled := make(chan struct{}) // L's item settled, or commented first
	var once sync.Once
	linkerDone := func() { once.Do(func() { close(settled) }) }
	bound := time.After(time.Minute) // catches a hang only
	var mu sync.Mutex
	var failure string
	fail := func(what string) {
		mu.Lock()
		failure = what
		mu.Unlock()
	}
	deadSettled := make(chan struct{}) // the deleted peer's item settled
	var mark sync.Mutex
	commented := false
	w.a.fail = func(op string) error {
		if op != "comment" {
			return nil
		}
		mark.Lock()
		first := !commented
		commented = true
		mark.Unlock()
		select {
		case <-settled: // T's own item: L is done
			return nil
		default:
		}
		if first {
			// L marks T's survivor itself: T's item goes on meanwhile,
			// and L's note waits for it.
			linkerDone()
			select {
			case <-deadSettled:
			case <-bound:
				fail("the deleted peer's item never settled")
			}
		}
		return nil
	}
	w.eng.probe = func(at probePoint, s Side, id string) {
		switch {
		case at == probeDecide && s == SideB && id == gone:
			// T's item decides once L is done with the link.
			select {
			case <-settled:
			case <-bound:
				fail("the link's item never settled")
			}
		case at == probeSettle && s == SideA && id == linker:
			linkerDone()
		case at == probeSettle && s == SideB && id == gone:
			close(deadSettled)
		}
	}
	run := w.run()
	w.eng.probe, w.a.fail = nil, nil
	mu.Lock()
	if failure != "" {
		t.Fatal(failure)
	}
	mu.Unlock()
	if run.Counts.Failed > 0 {
		t.Fatalf("the run failed: %+v", run.Errors)
	}
	w.quiesce()
	notes := 0
	for _, c := range w.a.items[target].comments {
		if strings.Contains(c.Body, "was deleted") {
			notes++
		}
	}
	p, _ := w.eng.pairOf("p1", SideA, target)
	if notes != 1 || p == nil || p.State != PairDeleted || p.Gone != SideB {
		t.Fatalf("the survivor has %d notes of its peer's deletion, want 1; its pair: %+v", notes, p)
	}
	if l, _ := w.eng.pairOf("p1", SideA, linker); l == nil || l.State != PairSynced {
		t.Fatalf("the link's pair: %+v", l)
	}
}

// A link that waits for a target nobody creates a copy of (creates are
// off) is made once an administrator pairs the target by hand, by adopting
// it or relinking it: the pair made wakes the link's item, as a pair the
// engine makes does.
func TestLinkToATargetPairedByAnAdministrator(t *testing.T) {
	for _, how := range []string{"adopt", "relink"} {
		t.Run(how, func(t *testing.T) {
			w := newWorld(t, ConflictAWins)
			waiter := w.a.userCreate("incident", connector.Fields{"title": "Printer down", "status": "new"})
			w.quiesce()
			w.proc.Options.CreateInA, w.proc.Options.CreateInB = false, false
			if err := w.st.Put("proc/p1", w.proc); err != nil {
				t.Fatal(err)
			}
			target := w.a.userCreate("incident", connector.Fields{"title": "Toner recall", "status": "new"})
			made := w.b.userCreate("bug", connector.Fields{"title": "Toner recall", "status": "open"})
			w.a.userLink(waiter, "blocks", target)
			w.quiesce() // the link waits: its target has no pair
			copyOf := w.peerOf(SideA, waiter)
			if n := len(w.b.items[copyOf].links); n != 0 {
				t.Fatalf("the copy has %d links before its target is paired", n)
			}

			switch how {
			case "adopt":
				res, err := w.eng.Adopt(context.Background(), "admin", "p1", AdoptRequest{CSV: "a,b\nHELP-" + target + ",ENG-" + made + "\n"})
				if err != nil || res.Adopted != 1 {
					t.Fatalf("adopt: %+v %v", res, err)
				}
			case "relink":
				if _, _, err := w.eng.Relink(context.Background(), "admin", "p1", target, made); err != nil {
					t.Fatalf("relink: %v", err)
				}
			}
			w.quiesce()
			if links := w.b.items[copyOf].links; len(links) != 1 || links[0].Target.ID != made {
				t.Fatalf("the copy's links are %+v, want one to %s", links, made)
			}
		})
	}
}

// linkCopied checks that run, the one the race was forced in, did not
// fail, and that once the systems settle, the copy of waiter links to the
// copy of target.
func (w *world) linkCopied(run Run, waiter, target string) {
	t := w.t
	t.Helper()
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
