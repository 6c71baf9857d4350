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

// A run reads each system's URL, which names its entities' origin in the
// markers of their copies, once however many items it copies; a URL it
// could not read is read again by the next item rather than kept.
func TestARunReadsEachSystemsURLOnce(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	var mu sync.Mutex
	reads := map[string]int{}
	failFirst := true
	url := w.eng.d.SystemURL
	w.eng.d.SystemURL = func(id string) string {
		mu.Lock()
		defer mu.Unlock()
		reads[id]++
		if failFirst {
			failFirst = false
			return "" // a record not read: the id stands in, for this item only
		}
		return url(id)
	}
	var ids []string
	for i := range 8 {
		ids = append(ids, w.a.userCreate("incident", connector.Fields{"title": fmt.Sprint("item ", i), "status": "new"}))
	}
	if run := w.run(); run.Counts.Created != len(ids) || len(run.Errors) > 0 {
		t.Fatalf("the run created %d of %d: %+v", run.Counts.Created, len(ids), run.Errors)
	}
	mu.Lock()
	if reads["sysA"] != 2 {
		t.Errorf("the run read the URL of its source system %d times for %d copies, want 2 (one not read, then kept)", reads["sysA"], len(ids))
	}
	mu.Unlock()
	origin := connector.Origin("https://help.example", "HELP")
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	for _, it := range w.b.items {
		m, ok := connector.ParseMarker(it.marker)
		switch {
		case !ok:
			t.Errorf("copy %s carries no marker: %q", it.ent.Key, it.marker)
		case m.System != origin && m.System != "sysA":
			t.Errorf("copy %s names its origin %q, want %q", it.ent.Key, m.System, origin)
		}
	}
}
