package syncer

import (
	"fmt"
	"sync"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// pairReads counts the store reads of each entity's pair, by side and id.
type pairReads struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *pairReads) probe(at probePoint, s Side, id string) {
	if at != probePairRead {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n[freshKey(s, id)]++
}

// most is the largest count among ids of side s, and how many ids had it.
func (r *pairReads) most(s Side, ids []string) (most, of int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		switch n := r.n[freshKey(s, id)]; {
		case n > most:
			most, of = n, 1
		case n == most:
			of++
		}
	}
	return most, of
}

// An item's pair is read from the store once by the run's poll (is the
// change an echo?), once when the drain groups the items by pair, and once
// by the worker that works it: the read under its hold on the pair is the
// one its decision takes, for a new item and for a change alike.
func TestAnItemsPairIsReadOncePerStep(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	var ids []string
	for i := range 8 {
		ids = append(ids, w.a.userCreate("incident", connector.Fields{"title": fmt.Sprint("item ", i), "status": "new"}))
	}
	count := func(stage string) {
		t.Helper()
		r := &pairReads{n: map[string]int{}}
		w.eng.probe = r.probe
		run := w.run()
		w.eng.probe = nil
		if run.Counts.Failed > 0 || len(run.Errors) > 0 {
			t.Fatalf("%s: the run failed: %+v", stage, run.Errors)
		}
		most, of := r.most(SideA, ids)
		t.Logf("%s: %d reads of the pair of %d of %d items", stage, most, of, len(ids))
		if most > 3 {
			t.Errorf("%s: an item's pair read %d times in one run, want 3 (poll, grouping, its work)", stage, most)
		}
	}
	count("new items")
	w.quiesce() // the echoes of the creates
	for _, id := range ids {
		w.a.userSet(id, "title", "changed "+id)
	}
	count("changed items")
	w.agree()
}
