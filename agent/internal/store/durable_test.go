package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A commit made while a sync runs is not covered by it: its wait ends only
// after a sync that began after it.
func TestGroupCommitWaitsForASyncBegunAfterTheCommit(t *testing.T) {
	began := make(chan int, 4)
	release := make(chan struct{})
	var ended atomic.Int32
	g := newGroupCommit(func(bool) error {
		n := int(ended.Load()) + 1
		began <- n
		if n == 1 {
			<-release // the first sync is slow
		}
		ended.Add(1)
		return nil
	})
	first := make(chan error, 1)
	go func() { first <- g.wait(false) }()
	if n := <-began; n != 1 {
		t.Fatalf("sync %d began first", n)
	}
	// Committed while sync 1 runs.
	second := make(chan int32, 1)
	go func() {
		if err := g.wait(false); err != nil {
			t.Error(err)
		}
		second <- ended.Load()
	}()
	// The second commit is queued behind the first sync before it ends.
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.next != nil })
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if n := <-second; n < 2 {
		t.Fatalf("the second commit returned after %d syncs: it was taken as covered by the sync under way when it committed", n)
	}
}

// Commits waiting while a sync runs share the next one.
func TestGroupCommitShares(t *testing.T) {
	release := make(chan struct{})
	var syncs atomic.Int32
	g := newGroupCommit(func(bool) error {
		if syncs.Add(1) == 1 {
			<-release
		}
		return nil
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); g.wait(false) }()
	waitFor(t, func() bool { return syncs.Load() == 1 })
	const n = 50
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); g.wait(false) }()
	}
	// All of them joined the next round before the first sync ends.
	waitFor(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.waiters() == n
	})
	close(release)
	wg.Wait()
	if got := syncs.Load(); got != 2 {
		t.Fatalf("%d commits made %d syncs, want 2 (the one under way and one shared)", n+1, got)
	}
}

// A failed sync's error goes to the commits it covered, and only to them;
// a value-log write makes its round sync the value log.
func TestGroupCommitErrorsGoToTheCommitsCovered(t *testing.T) {
	failed := errors.New("disk gone")
	release := make(chan struct{})
	var syncs atomic.Int32
	var vlogs []bool
	var mu sync.Mutex
	g := newGroupCommit(func(vlog bool) error {
		mu.Lock()
		vlogs = append(vlogs, vlog)
		mu.Unlock()
		switch syncs.Add(1) {
		case 1:
			<-release
			return nil
		case 2:
			return failed
		}
		return nil
	})
	go g.wait(false)
	waitFor(t, func() bool { return syncs.Load() == 1 })
	errs := make(chan error, 2)
	go func() { errs <- g.wait(true) }()
	go func() { errs <- g.wait(false) }()
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.waiters() == 2 })
	close(release)
	for range 2 {
		if err := <-errs; !errors.Is(err, failed) {
			t.Fatalf("a commit of the failed sync got %v", err)
		}
	}
	if err := g.wait(false); err != nil {
		t.Fatalf("a commit after the failed sync got its error: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(vlogs) != "[false true false]" {
		t.Fatalf("value log synced per round: %v, want [false true false]", vlogs)
	}
}

// waiters counts the commits joined to the round not begun (tests only).
func (g *groupCommit) waiters() int {
	if g.next == nil {
		return 0
	}
	return g.next.joined
}

// Every Update that writes waits for one sync, and one that writes nothing
// for none; a value large enough for the value log syncs it too. Reopened,
// the store holds what Update acknowledged.
func TestUpdateSyncsWhatItWrote(t *testing.T) {
	dir := t.TempDir()
	key := newKey(t)
	s := create(t, dir, key)
	if s.durable == nil {
		t.Skip("Badger syncs each transaction itself on this system")
	}
	var plain, vlog atomic.Int32
	flush := s.durable.flush
	s.durable.flush = func(v bool) error {
		if v {
			vlog.Add(1)
		} else {
			plain.Add(1)
		}
		return flush(v)
	}
	if err := s.Update(func(tx *Tx) error { return tx.Put("k/1", "one") }); err != nil {
		t.Fatal(err)
	}
	if plain.Load() != 1 || vlog.Load() != 0 {
		t.Fatalf("a small write synced %d times, the value log %d times; want 1 and 0", plain.Load(), vlog.Load())
	}
	if err := s.Update(func(tx *Tx) error { _, err := tx.GetRaw("k/1"); return err }); err != nil {
		t.Fatal(err)
	}
	if plain.Load() != 1 {
		t.Fatal("an Update that wrote nothing synced")
	}
	big := strings.Repeat("v", valueThreshold)
	if err := s.Update(func(tx *Tx) error { return tx.SetRaw("k/big", []byte(big)) }); err != nil {
		t.Fatal(err)
	}
	if vlog.Load() != 1 {
		t.Fatal("a value for the value log did not sync it")
	}
	if len(s.logs) == 0 {
		t.Fatal("no log file was synced")
	}
	s = reopen(t, s, dir, key)
	var got string
	if err := s.View(func(tx *Tx) error { return tx.Get("k/1", &got) }); err != nil || got != "one" {
		t.Fatalf("after reopen k/1 = %q, %v", got, err)
	}
	if err := s.View(func(tx *Tx) error {
		v, err := tx.GetRaw("k/big")
		if err == nil && string(v) != big {
			err = fmt.Errorf("large value changed (%d bytes)", len(v))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds; the bound only catches a hang.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(time.Millisecond)
	}
}

// Closing the store while a commit's sync runs waits for that sync before
// it closes the files the sync writes to (the race CI found: a run killed
// by its test still syncing when the test closed the store), and a commit
// whose round would begin after that is answered, not synced.
func TestGroupCommitShutWaitsForTheSyncUnderWay(t *testing.T) {
	inSync := make(chan struct{})
	release := make(chan struct{})
	var syncing atomic.Bool
	g := newGroupCommit(func(bool) error {
		syncing.Store(true)
		close(inSync)
		<-release
		syncing.Store(false)
		return nil
	})
	first := make(chan error, 1)
	go func() { first <- g.wait(false) }()
	<-inSync
	shut := make(chan bool, 1)
	go func() { g.shut(func() { shut <- syncing.Load() }) }()
	// Once the shut has begun, it must wait for the round, not release
	// the files under it.
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.closed })
	select {
	case <-shut:
		t.Fatal("shut released the files while a sync used them")
	default:
	}
	close(release)
	if during := <-shut; during {
		t.Fatal("shut released the files while a sync used them")
	}
	if err := <-first; err != nil {
		t.Fatalf("the commit synced before the close: %v", err)
	}
	if err := g.wait(false); !errors.Is(err, errClosed) {
		t.Fatalf("a commit after the close: %v, want errClosed", err)
	}
}

// Commits that do not wait are covered by the next round, whoever leads
// it: Sync then has nothing to do; one made while a round runs is not
// covered by that round; and one that wrote to the value log has the next
// round sync it.
func TestLazyCommitsSyncWithTheNextRound(t *testing.T) {
	release := make(chan struct{}, 1)
	var mu sync.Mutex
	var vlogs []bool
	slow := false
	g := newGroupCommit(func(vlog bool) error {
		mu.Lock()
		vlogs = append(vlogs, vlog)
		wait := slow
		mu.Unlock()
		if wait {
			<-release
		}
		return nil
	})
	g.lazyDelay = time.Hour // only the rounds below sync
	rounds := func() string { mu.Lock(); defer mu.Unlock(); return fmt.Sprint(vlogs) }

	if err := g.syncLazy(); err != nil || rounds() != "[]" {
		t.Fatalf("Sync with nothing to sync: %v, rounds %s", err, rounds())
	}
	g.lazy(false)
	g.lazy(true)
	if rounds() != "[]" {
		t.Fatalf("a lazy commit waited for a round: %s", rounds())
	}
	if err := g.wait(false); err != nil { // another commit's round covers them
		t.Fatal(err)
	}
	if err := g.syncLazy(); err != nil || rounds() != "[true]" {
		t.Fatalf("after a round covered them, Sync: %v, rounds %s (want one, with the value log)", err, rounds())
	}

	// Made while a round runs: the next Sync leads a round of its own.
	mu.Lock()
	slow = true
	mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- g.wait(false) }()
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.syncing })
	g.lazy(false)
	mu.Lock()
	slow = false
	mu.Unlock()
	release <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := g.syncLazy(); err != nil || rounds() != "[true false false]" {
		t.Fatalf("a lazy commit made during a round: Sync %v, rounds %s (want a round after it)", err, rounds())
	}
}

// A lazy commit that no other commit follows is synced on its own, soon.
func TestLazyCommitSyncsOnItsOwn(t *testing.T) {
	var syncs atomic.Int32
	g := newGroupCommit(func(bool) error { syncs.Add(1); return nil })
	g.lazyDelay = time.Millisecond
	g.lazy(false)
	waitFor(t, func() bool { return syncs.Load() == 1 })
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.lazySynced == g.lazyMade })
}

// UpdateLazy's commit is seen at once, needs Sync (or another commit) to
// be durable, and survives a close and reopen.
func TestUpdateLazy(t *testing.T) {
	dir := t.TempDir()
	key := newKey(t)
	s := create(t, dir, key)
	if s.durable == nil {
		t.Skip("Badger syncs each transaction itself on this system")
	}
	s.durable.lazyDelay = time.Hour
	var syncs atomic.Int32
	flush := s.durable.flush
	s.durable.flush = func(v bool) error { syncs.Add(1); return flush(v) }
	if err := s.UpdateLazy(func(tx *Tx) error { return tx.Put("k/lazy", "soon") }); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := s.Get("k/lazy", &got); err != nil || got != "soon" || syncs.Load() != 0 {
		t.Fatalf("read back %q %v after %d syncs", got, err, syncs.Load())
	}
	if err := s.Sync(); err != nil || syncs.Load() != 1 {
		t.Fatalf("Sync: %v, %d syncs", err, syncs.Load())
	}
	if err := s.Sync(); err != nil || syncs.Load() != 1 {
		t.Fatalf("a second Sync with nothing new synced again: %v, %d syncs", err, syncs.Load())
	}
	if err := s.UpdateLazy(func(tx *Tx) error { return tx.Put("k/last", "closed") }); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, dir, key)
	if err := s.Get("k/last", &got); err != nil || got != "closed" {
		t.Fatalf("after reopen %q %v", got, err)
	}
}

// A commit's round syncs the log the commit wrote to, also when Badger
// began that log since the last round (a memtable filled up), and the
// store's directory is listed again only when a log appeared or went.
func TestSyncFollowsTheLogs(t *testing.T) {
	dir := t.TempDir()
	s := create(t, dir, newKey(t))
	defer s.Close()
	if s.durable == nil {
		t.Skip("Badger syncs each transaction itself on this system")
	}
	if s.watch == nil {
		t.Skip("no inotify instance left: every round lists the directory")
	}
	newest := func() string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		last := ""
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".mem") {
				last = e.Name() // ReadDir sorts by name, and Badger numbers its logs in order
			}
		}
		return last
	}
	// 12 MB in values kept in the LSM tree: past the 8 MB memtable.
	value := []byte(strings.Repeat("v", 100<<10))
	logs := map[string]bool{}
	for i := range 120 {
		if err := s.Update(func(tx *Tx) error { return tx.SetRaw(fmt.Sprintf("k/%03d", i), value) }); err != nil {
			t.Fatal(err)
		}
		mem := newest()
		if s.logs[mem] == nil {
			t.Fatalf("commit %d wrote to %s, which its round did not sync (synced: %v)", i, mem, keys(s.logs))
		}
		logs[mem] = true
	}
	if len(logs) < 2 {
		t.Fatalf("the test never filled a memtable (logs %v)", logs)
	}

	// With no log appearing, a round does not list the directory: a log
	// it would drop from a listing stays.
	f, err := os.CreateTemp(t.TempDir(), "sentinel")
	if err != nil {
		t.Fatal(err)
	}
	s.logs["sentinel.mem"] = f
	if err := s.Update(func(tx *Tx) error { return tx.Put("k/a", "a") }); err != nil {
		t.Fatal(err)
	}
	if s.logs["sentinel.mem"] == nil {
		t.Fatal("a round with no log appearing listed the directory")
	}
	// Any file that looks like a log, appearing or going, lists it again.
	extra := filepath.Join(dir, "extra.vlog")
	if err := os.WriteFile(extra, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *Tx) error { return tx.Put("k/b", "b") }); err != nil {
		t.Fatal(err)
	}
	if s.logs["sentinel.mem"] != nil || s.logs["extra.vlog"] == nil {
		t.Fatalf("a log appeared and the round did not list the directory again (open: %v)", keys(s.logs))
	}
	if err := os.Remove(extra); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *Tx) error { return tx.Put("k/c", "c") }); err != nil {
		t.Fatal(err)
	}
	if s.logs["extra.vlog"] != nil {
		t.Fatalf("a log went and the round kept it open (open: %v)", keys(s.logs))
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
