package syncer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Pair state lost over a backlog larger than a round: the copies Lockstep
// made lie at the end of each side's change order (they were made after
// the originals of both sides existed), so a copy falls in a later round
// of its side's poll than its original's item. No item is created twice.

// backlogWorld makes a synced world whose two sides each hold originals
// made before the first sync, so that on each side the copies come after
// every original in the order of changes; rounds are far smaller than the
// backlog.
func backlogWorld(t *testing.T, indexesA, indexesB bool, n int) *world {
	t.Helper()
	w := newWorld(t, ConflictAWins)
	w.a.indexes, w.b.indexes = indexesA, indexesB
	spread(w)
	originals(w, n)
	w.quiesce()
	w.agree()
	return w
}

// originals makes n items in B, then n in A: synced, each side's copies
// come after all of its originals.
func originals(w *world, n int) {
	for i := range n {
		w.b.userCreate("bug", connector.Fields{"title": fmt.Sprint("bug ", i), "status": "open"})
	}
	for i := range n {
		w.a.userCreate("incident", connector.Fields{"title": fmt.Sprint("incident ", i), "status": "new"})
	}
}

// creates counts the engine's creates in both systems.
func (w *world) creates() int { return w.a.engineCreates + w.b.engineCreates }

// spread has each change move the clock past the polls' overlap, so that
// a round's poll goes on where the one before stopped.
func spread(w *world) { w.a.step, w.b.step = 3*time.Second, 3*time.Second }

// Each side's polls read markers, or not (then a copy there cannot tell
// it is one).
func TestLostPairsOverManyRoundsNeverDuplicate(t *testing.T) {
	for _, indexes := range [][2]bool{{true, true}, {false, false}, {true, false}, {false, true}} {
		t.Run(fmt.Sprintf("marker index A %v B %v", indexes[0], indexes[1]), func(t *testing.T) {
			const n = 30
			w := backlogWorld(t, indexes[0], indexes[1], n)
			creates := w.creates()
			t.Cleanup(SetRoundItems(7)) // each side's 60 changes take nine rounds
			w.losePairs()
			// People edit half of each side's originals meanwhile: those
			// come after their copies in the order of changes, so the
			// copies' items come first, before their originals are read.
			for i := 1; i <= n/2; i++ {
				w.a.userSet(fmt.Sprint(i), "priority", "high")
				w.b.userSet(fmt.Sprint(i), "priority", "low")
			}
			w.quiesce()
			if got := w.creates(); got != creates {
				t.Fatalf("%d creates after the pairs were lost, over rounds of 7: duplicates (A holds %d, B %d, want %d each)",
					got-creates, len(w.a.items), len(w.b.items), 2*n)
			}
			w.agree()
		})
	}
}

// The store restored from a copy taken before the backlog was synced: the
// copies made since lie in later rounds of their sides' polls.
func TestRestoreBeforeABacklogOverManyRoundsNeverDuplicates(t *testing.T) {
	for _, indexes := range []bool{true, false} {
		t.Run(fmt.Sprint("marker index ", indexes), func(t *testing.T) {
			w := newWorld(t, ConflictAWins)
			w.a.indexes, w.b.indexes = indexes, indexes
			spread(w)
			w.a.userCreate("incident", connector.Fields{"title": "before the copy", "status": "new"})
			w.quiesce()
			backup := w.backup()
			originals(w, 30)
			w.quiesce()
			w.agree()
			creates := w.creates()
			w.st.Close()
			w.reopen(backup)
			t.Cleanup(SetRoundItems(7))
			w.quiesce()
			if got := w.creates(); got != creates {
				t.Fatalf("%d creates after the restore, over rounds of 7: duplicates", got-creates)
			}
			w.agree()
		})
	}
}

// A run stopped in its first round (a system down) leaves the rest of each side's
// changes unread; an entity synced on request then goes by where that run
// stopped: its copy, in a round not read yet, is found, not made again.
func TestEntitySyncedOnRequestAfterAStoppedRoundNeverDuplicates(t *testing.T) {
	const n = 30
	w := backlogWorld(t, true, true, n)
	creates := w.creates()
	t.Cleanup(SetRoundItems(7))
	w.losePairs()
	// B answers its first round's pages, then fails: the run stops with
	// the rest of B's changes unread.
	pages := 0
	w.b.fail = func(op string) error {
		if op == "changes" {
			if pages++; pages > 3 {
				return fmt.Errorf("B is down: %w", connector.ErrUnavailable)
			}
		}
		return nil
	}
	w.run()
	w.b.fail = nil
	var wm Watermark
	if err := w.st.Get(keyWatermark("p1", SideB), &wm); err != nil || !wm.Partial {
		t.Fatalf("B's watermark after a run stopped in its first round: %+v %v, want partial", wm, err)
	}
	// A's last original: its copy is B's last change.
	w.clock.advance(time.Second)
	w.eng.runOnce(t.Context(), &w.proc, "entity", &QueueItem{Side: SideA, Entity: fmt.Sprint(n)})
	if got := w.creates(); got != creates {
		t.Fatalf("%d creates: the entity synced on request was copied again", got-creates)
	}
	w.peerOf(SideA, fmt.Sprint(n)) // paired with its copy
	w.quiesce()
	w.agree()
	if got := w.creates(); got != creates {
		t.Fatalf("%d creates after the rest was worked: duplicates", got-creates)
	}
}

// More than a round of changes within the polls' overlap that stay
// unpaired (here: a one-way process, whose other side is never copied)
// are read again by each round's poll: they do not count toward the round,
// so the run goes on past them and ends.
func TestUnpairedBacklogWithinTheOverlapEndsTheRun(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.proc.Options.CreateInA = false
	if err := w.st.Put("proc/p1", w.proc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(SetRoundItems(7))
	for i := range 20 { // a millisecond apart: all within the overlap
		w.b.userCreate("bug", connector.Fields{"title": fmt.Sprint("bug ", i), "status": "open"})
	}
	w.a.userCreate("incident", connector.Fields{"title": "the one to copy", "status": "new"})
	// Generous: only a run that never ends reaches it.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	w.clock.advance(time.Second)
	r := w.eng.runOnce(ctx, &w.proc, "test", nil)
	if ctx.Err() != nil {
		t.Fatalf("the run never ended: %+v", r.Errors)
	}
	if len(r.Errors) > 0 || r.Counts.Created != 1 || len(w.a.items) != 1 || len(w.b.items) != 21 {
		t.Fatalf("run %+v %+v: A holds %d, B %d; want A's one item copied, nothing else", r.Counts, r.Errors, len(w.a.items), len(w.b.items))
	}
}
