package syncer

import (
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

func indexTestEngine(t *testing.T) (*Engine, *store.Store) {
	t.Helper()
	st := agenttest.Store(t)
	return New(Deps{Store: st, Bus: events.New(10, nil), Log: zerolog.Nop()}), st
}

// expected is the list as the engine defined it before its index: every
// pair read, filtered and sorted.
func expected(t *testing.T, st *store.Store, proc, q string) []string {
	t.Helper()
	var all []Pair
	prefix := "pair/"
	if proc != "" {
		prefix = prefixPairs(proc)
	}
	st.View(func(tx *store.Tx) error {
		return tx.Scan(prefix, "", func(_ string, raw []byte) error {
			var p Pair
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			if searchMatches(searchWords(searchText(&p)), queryWords(q)) {
				all = append(all, p)
			}
			return nil
		})
	})
	sort.Slice(all, func(i, j int) bool { return pairBefore(&all[i], &all[j]) })
	out := []string{}
	for _, p := range all {
		out = append(out, p.Process+"/"+p.ID)
	}
	return out
}

// paged reads the whole list page by page.
func paged(t *testing.T, e *Engine, proc, q string, limit int) []string {
	t.Helper()
	out := []string{}
	cursor := ""
	for i := 0; ; i++ {
		page, next, err := e.Views().Pairs(proc, q, cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page {
			out = append(out, v.Process+"/"+v.ID)
		}
		if next == "" {
			return out
		}
		if len(page) != limit || i > 10000 {
			t.Fatalf("page %d: %d pairs and a cursor", i, len(page))
		}
		cursor = next
	}
}

func checkList(t *testing.T, e *Engine, st *store.Store, when string) {
	t.Helper()
	// Searches go through their rarest word (its entries scanned in one
	// chunk, or in chunks of one entry, side by side with the other
	// words'), and, with every word taken for common, through the list in
	// its order: the same pairs.
	defer func(c, s, n int) { searchCandidates, searchScan, searchChunk = c, s, n }(searchCandidates, searchScan, searchChunk)
	for _, mode := range []string{"rare", "chunked", "common"} {
		switch mode {
		case "chunked":
			searchChunk = 1
		case "common":
			searchCandidates, searchScan = 2, 3
		}
		for _, proc := range []string{"", "p1", "p2", "p3"} {
			for _, q := range []string{"", "help-1", "HELP-12", "Title 7", "7 title", "eng", "1", "(edited)", "edit 2", "nothing like it"} {
				for _, limit := range []int{1, 7, 500} {
					want, got := expected(t, st, proc, q), paged(t, e, proc, q, limit)
					if strings.Join(want, ",") != strings.Join(got, ",") {
						t.Fatalf("%s: process %q, query %q, pages of %d (%s):\n got %v\nwant %v", when, proc, q, limit, mode, got, want)
					}
				}
			}
		}
	}
	// Two list entries and a text per pair, its words, its count; none
	// left over.
	pairs, entries, texts, words := 0, 0, 0, 0
	perProc := map[string]int{}
	wantWords := 0
	st.View(func(tx *store.Tx) error {
		tx.Scan("pair/", "", func(k string, raw []byte) error {
			pairs++
			perProc[strings.Split(k, "/")[1]]++
			var p Pair
			json.Unmarshal(raw, &p)
			wantWords += len(searchWords(searchText(&p)))
			return nil
		})
		tx.Keys("plist/", func(string) error { entries++; return nil })
		tx.Keys("ptext/", func(string) error { texts++; return nil })
		tx.Keys("pword/", func(string) error { words++; return nil })
		return tx.Keys(prefixPairListAll, func(string) error { entries++; return nil })
	})
	if entries != 2*pairs || texts != pairs || words != wantWords {
		t.Fatalf("%s: %d list entries, %d texts and %d words for %d pairs with %d words", when, entries, texts, words, pairs, wantWords)
	}
	counts, err := e.Views().PairCounts()
	if err != nil {
		t.Fatal(err)
	}
	for proc, n := range perProc {
		if counts[proc] != n {
			t.Fatalf("%s: process %s counts %d pairs, holds %d (all counts: %v)", when, proc, counts[proc], n, counts)
		}
	}
	for proc, n := range counts {
		if n != perProc[proc] {
			t.Fatalf("%s: process %s counts %d pairs, holds %d", when, proc, n, perProc[proc])
		}
	}
}

// TestPairListIndex: pairs.list served from its index pages exactly as the
// full read and sort did, through syncs that move pairs, deletions and a
// process's deletion, and an index built for a store that had none.
func TestPairListIndex(t *testing.T) {
	e, st := indexTestEngine(t)
	if err := e.buildPairIndex(); err != nil { // an empty store: built at once
		t.Fatal(err)
	}
	r := mrand.New(mrand.NewPCG(7, 7))
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var all []*Pair
	for i := 0; i < 300; i++ {
		p := &Pair{ID: fmt.Sprintf("pair%03d", i), Process: fmt.Sprintf("p%d", 1+i%3), State: PairSynced,
			A: EntityRef{ID: fmt.Sprint(i), Key: fmt.Sprintf("HELP-%d", i), Title: fmt.Sprintf("Title %d", i)},
			B: EntityRef{ID: fmt.Sprint(1000 + i), Key: fmt.Sprintf("ENG-%d", i)},
			// Few distinct times: ties are ordered by process and id.
			LastSyncedAt: base.Add(time.Duration(r.IntN(20)) * time.Second)}
		all = append(all, p)
		if err := st.Update(func(tx *store.Tx) error { return putPairTx(tx, p) }); err != nil {
			t.Fatal(err)
		}
	}
	checkList(t, e, st, "created")
	for _, p := range all[:100] { // synced again, and renamed
		p.LastSyncedAt = p.LastSyncedAt.Add(time.Duration(r.IntN(30)) * time.Second)
		p.A.Title += " (edited)"
		if err := st.Update(func(tx *store.Tx) error { return putPairRecordTx(tx, p) }); err != nil {
			t.Fatal(err)
		}
	}
	checkList(t, e, st, "synced again")
	for _, p := range all[100:130] {
		stale := *p
		stale.LastSyncedAt = stale.LastSyncedAt.Add(time.Hour) // a caller's newer copy
		if err := st.Update(func(tx *store.Tx) error { return deletePairTx(tx, &stale) }); err != nil {
			t.Fatal(err)
		}
	}
	checkList(t, e, st, "deleted")
	if err := e.dropPairList("p2"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.deletePrefixes(statePrefixes("p2")...); err != nil {
		t.Fatal(err)
	}
	checkList(t, e, st, "process deleted")

	// A store of the index's first layout (lists only) is indexed again.
	if err := st.Update(func(tx *store.Tx) error {
		for _, pre := range []string{"ptext/", "pword/", "pcount/"} {
			if err := tx.Keys(pre, func(k string) error { return tx.Delete(k) }); err != nil {
				return err
			}
		}
		return tx.SetRaw(keyPairIndexBuilt, []byte("1"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.buildPairIndex(); err != nil {
		t.Fatal(err)
	}
	checkList(t, e, st, "index of the first layout rebuilt")

	// A store written before the index: pairs only. Until the index is
	// built the list reads every pair; after, the index.
	e2, st2 := indexTestEngine(t)
	for _, p := range all {
		if err := st2.Update(func(tx *store.Tx) error { return tx.Put(keyPair(p.Process, p.ID), p) }); err != nil {
			t.Fatal(err)
		}
	}
	if got := paged(t, e2, "", "", 50); len(got) != len(all) {
		t.Fatalf("before the index: %d pairs listed, want %d", len(got), len(all))
	}
	if err := e2.buildPairIndex(); err != nil {
		t.Fatal(err)
	}
	checkList(t, e2, st2, "index built")
}

// Saving a pair again with its last-synced time and search text unchanged
// (an item saves its pair with each of its commits) writes its record
// only: its list entries and text hold what they held.
func TestUnchangedSaveRewritesNoListEntry(t *testing.T) {
	e, st := indexTestEngine(t)
	p := &Pair{ID: "pair1", Process: "p1", State: PairSynced, A: EntityRef{ID: "a1", Key: "HELP-1", Title: "Printer jam"},
		B: EntityRef{ID: "b1", Key: "ENG-1"}, LastSyncedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	if err := st.Update(func(tx *store.Tx) error { return putPairTx(tx, p) }); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		p.Comments = map[string]string{"a:1": "b:1"} // what an item's later step records
		if err := st.Update(func(tx *store.Tx) error { return putPairRecordTx(tx, p) }); err != nil {
			t.Fatal(err)
		}
	}
	writes := func() map[string]int {
		n := map[string]int{}
		if err := st.ScanVersions(func(k string, _ []byte) error {
			kind, _, _ := strings.Cut(k, "/")
			n[kind]++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := writes(); n["pair"] != 4 || n["plist"] != 1 || n["plistall"] != 1 || n["ptext"] != 1 {
		t.Fatalf("versions written after 3 unchanged saves: %v; want the record's 4 and one of each list entry", n)
	}
	checkList(t, e, st, "saved unchanged")
	p.LastSyncedAt = p.LastSyncedAt.Add(time.Minute)
	if err := st.Update(func(tx *store.Tx) error { return putPairRecordTx(tx, p) }); err != nil {
		t.Fatal(err)
	}
	if n := writes(); n["plist"] != 3 || n["plistall"] != 3 || n["ptext"] != 2 {
		t.Fatalf("versions written after a sync moved the pair: %v; want its old entries deleted and new ones written", n)
	}
	checkList(t, e, st, "synced again")
}

// A pair an administrator removed while its item was worked is not
// brought back by the item's deferred save of it.
func TestDeferredSaveKeepsARemovedPairRemoved(t *testing.T) {
	e, st := indexTestEngine(t)
	now := time.Now().UTC()
	kept := &Pair{ID: "kept", Process: "p1", A: EntityRef{ID: "a1", Key: "HELP-1"}, B: EntityRef{ID: "b1", Key: "ENG-1"}, LastSyncedAt: now}
	gone := &Pair{ID: "gone", Process: "p1", A: EntityRef{ID: "a2", Key: "HELP-2"}, B: EntityRef{ID: "b2", Key: "ENG-2"}, LastSyncedAt: now}
	if err := st.Update(func(tx *store.Tx) error {
		if err := putPairTx(tx, kept); err != nil {
			return err
		}
		return putPairTx(tx, gone)
	}); err != nil {
		t.Fatal(err)
	}
	c := &cycle{e: e, p: &Process{ID: "p1"}}
	k2, g2 := *kept, *gone
	k2.A.Title, g2.A.Title = "worked", "worked"
	c.savePair(&k2)
	c.savePair(&g2)
	if _, err := e.Unpair("admin", "p1", []string{"gone"}); err != nil {
		t.Fatal(err)
	}
	if err := c.flushPairs(); err != nil {
		t.Fatal(err)
	}
	if p, err := e.Views().GetPair("p1", "kept"); err != nil || p.A.Title != "worked" {
		t.Fatalf("the kept pair's save: %+v, %v", p, err)
	}
	if _, err := e.Views().GetPair("p1", "gone"); err == nil {
		t.Fatal("the deferred save brought an unpaired pair back")
	}
	checkList(t, e, st, "after the deferred saves")
}

// BenchmarkPairSearch: pairs.list searches, as make bench-scale's million
// pairs make them (a key, or a title word with a number), over a store of
// 50,000 generated pairs in 20 processes, in one process and in all: the
// median and the 99th percentile of 400 searches of each, in ms (values of
// this run, for comparing a change to the index before and after it).
func BenchmarkPairSearch(b *testing.B) {
	const procs, per = 20, 2500
	st := agenttest.Store(b)
	e := New(Deps{Store: st, Bus: events.New(10, nil), Log: zerolog.Nop()})
	if err := e.buildPairIndex(); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, procs)
	for i := range ids {
		ids[i] = fmt.Sprintf("proc%04d", i)
		if err := GeneratePairs(st, ids[i], fmt.Sprintf("H%03d", i), fmt.Sprintf("E%03d", i), "Printer on floor", per, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	r := mrand.New(mrand.NewPCG(1, 2))
	b.ResetTimer()
	for range b.N {
		var inProc, inAll []time.Duration
		for i := range 400 {
			p := r.IntN(procs)
			q := fmt.Sprintf("H%03d-%d", p, r.IntN(per))
			if i%2 == 1 {
				q = fmt.Sprintf("floor %d", r.IntN(per))
			}
			for _, proc := range []string{ids[p], ""} {
				t := time.Now()
				page, _, err := e.Views().Pairs(proc, q, "", 50)
				d := time.Since(t)
				if err != nil || len(page) == 0 {
					b.Fatalf("%q in %q: %d pairs, %v", q, proc, len(page), err)
				}
				if proc == "" {
					inAll = append(inAll, d)
				} else {
					inProc = append(inProc, d)
				}
			}
		}
		ms := func(ds []time.Duration, q float64) float64 {
			sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
			return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))]) / float64(time.Millisecond)
		}
		b.ReportMetric(ms(inProc, 0.5), "ms_search_p50")
		b.ReportMetric(ms(inProc, 0.99), "ms_search_p99")
		b.ReportMetric(ms(inAll, 0.5), "ms_search_all_p50")
		b.ReportMetric(ms(inAll, 0.99), "ms_search_all_p99")
	}
}
