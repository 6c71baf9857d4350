package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// residentTables sums the resident memory of the process's mappings of
// s's table files, from /proc/self/smaps.
func residentTables(t *testing.T, s *Store) (kb int) {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if _, _, path, ok := mapping(line); ok {
			in = strings.HasPrefix(path, s.realDir+"/") && strings.HasSuffix(path, ".sst")
			continue
		}
		if rest, ok := strings.CutPrefix(line, "Rss:"); ok && in {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			kb += n
		}
	}
	return kb
}

// tablesRead fills a store with about 24 MB of tables and returns it with
// a function that reads every key back (checking what it holds), once
// already: the tables' pages are resident.
func tablesRead(t *testing.T) (*Store, func()) {
	t.Helper()
	dir := t.TempDir()
	key := newKey(t)
	s := create(t, dir, key)
	const n = 24000
	value := strings.Repeat("x", 1000)
	for i := 0; i < n; i += 1000 {
		if err := s.Update(func(tx *Tx) error {
			for j := i; j < i+1000; j++ {
				if err := tx.SetRaw(fmt.Sprintf("k/%06d", j), []byte(value+strconv.Itoa(j))); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	s = reopen(t, s, dir, key) // the memtables become tables
	readAll := func() {
		t.Helper()
		seen := 0
		if err := s.View(func(tx *Tx) error {
			return tx.Scan("k/", "", func(k string, v []byte) error {
				if want := value + strconv.Itoa(seen); string(v) != want {
					return fmt.Errorf("%s holds %d bytes, not what was written", k, len(v))
				}
				seen++
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		if seen != n {
			t.Fatalf("read %d of %d keys", seen, n)
		}
	}
	readAll()
	return s, readAll
}

// The pages of table files a read touched leave the agent's resident
// memory when released, and what they hold reads back the same.
func TestReleaseTables(t *testing.T) {
	s, readAll := tablesRead(t)
	before := residentTables(t, s)
	if before < 1024 {
		t.Fatalf("reading the keys left only %d kB of tables resident: nothing to release", before)
	}
	released, err := s.releaseTables()
	if errors.Is(err, errPageoutUnknown) {
		t.Skip(err)
	}
	if err != nil || released == 0 {
		t.Fatalf("released %d mappings: %v", released, err)
	}
	after := residentTables(t, s)
	t.Logf("tables resident: %d kB, %d kB after releasing %d mappings", before, after, released)
	// The read touched about 24 MB of table pages. Pages of a table being
	// written (a compaction Badger began at the open) cannot be reclaimed
	// before they reach the disk, so not all of them go; most must.
	if before-after < 12<<10 {
		t.Fatalf("tables resident: %d kB before the release, %d kB after: the pages the read touched stayed", before, after)
	}
	readAll() // read again from the files
}

// A busy store does not wait for the minute: Serve hands the table pages
// back as soon as the file pages mapped exceed the budget.
func TestServeReleasesOverBudget(t *testing.T) {
	s, readAll := tablesRead(t)
	before := residentTables(t, s)
	mapped, err := mappedBytes()
	if err != nil {
		t.Skip(err)
	}
	if before < 12<<10 || mapped < 16<<20 {
		t.Fatalf("reading the keys left only %d kB of tables resident, %d kB mapped in all", before, mapped>>10)
	}
	// A budget the pages just read exceed by 12 MB. As in
	// TestReleaseTables, the pages of tables Badger is still writing (the
	// compaction it began at the open) stay until they reach the disk; a
	// compaction may also add pages meanwhile: Serve releases again every
	// watch while the budget is exceeded, and at least the 12 MB the read
	// touched must go well before the minute's release.
	s.mappedBudget = mapped - 12<<20
	s.watchInterval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	defer func() { cancel(); <-served }()
	const bound = 45 * time.Second // under releaseInterval
	for deadline := time.Now().Add(bound); before-residentTables(t, s) < 12<<10; {
		if time.Now().After(deadline) {
			t.Fatalf("tables resident: %d kB %v after %d kB, over a budget of %d kB mapped", residentTables(t, s), bound, before, s.mappedBudget>>10)
		}
		time.Sleep(10 * time.Millisecond)
	}
	readAll()
}
