package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// groupCommit makes commits durable together: Badger runs without its own
// sync after every transaction (which syncs the write-ahead log once per
// transaction, however many commit at the same moment), and each Update,
// once committed, joins the next sync round and waits for it. A round
// begins only after the one before it ended, and covers every commit that
// joined it before it began, so N concurrent committers share one sync
// instead of paying N. A commit is durable when Update returns, as before,
// and a round's error goes to exactly the commits it covered.
type groupCommit struct {
	flush func(vlog bool) error

	mu      sync.Mutex
	cond    *sync.Cond
	next    *syncRound // the round commits join; not begun
	syncing bool       // a round is under way
	closed  bool       // the store closes: no round begins any more

	// Commits that did not wait (UpdateLazy): how many were made, how many
	// a round that ended covered, whether one wrote to the value log, and
	// the timer that makes them durable if no other commit does sooner.
	lazyMade, lazySynced uint64
	lazyVlog             bool
	lazyTimer            *time.Timer
	lazyDelay            time.Duration
}

// lazyDelay bounds how long a commit that did not wait stays only in the
// operating system's cache: a later durable commit covers it sooner.
const lazyDelay = 500 * time.Millisecond

// errClosed answers a commit whose sync round would begin after the store
// began to close (Badger's own close then makes the commit durable).
var errClosed = errors.New("sync store: the store is closing")

// syncRound is one sync and the commits waiting for it.
type syncRound struct {
	// vlog: a commit of the round wrote a value large enough for Badger's
	// value log, which must then be synced too.
	vlog   bool
	joined int // commits waiting for it
	done   bool
	err    error
	// lazy is how many commits that did not wait were made before the
	// round began: a round covers every commit made before it began.
	lazy uint64
}

func newGroupCommit(flush func(vlog bool) error) *groupCommit {
	g := &groupCommit{flush: flush, lazyDelay: lazyDelay}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// wait returns once a sync that began after the caller's commit ended, with
// that sync's error; vlog says the commit wrote to the value log.
func (g *groupCommit) wait(vlog bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.next == nil {
		g.next = &syncRound{}
	}
	r := g.next
	r.vlog = r.vlog || vlog
	r.joined++
	for !r.done {
		if g.syncing || g.next != r {
			g.cond.Wait() // the round before runs, or r runs, led by another
			continue
		}
		// r has not begun and nothing syncs: lead it. Commits arriving
		// from now on join a new round.
		if g.closed {
			g.next = nil
			r.done, r.err = true, errClosed
			g.cond.Broadcast()
			break
		}
		g.syncing, g.next = true, nil
		r.lazy, r.vlog, g.lazyVlog = g.lazyMade, r.vlog || g.lazyVlog, false
		g.mu.Unlock()
		err := g.flush(r.vlog)
		g.mu.Lock()
		g.syncing = false
		r.done, r.err = true, err
		if err == nil {
			g.lazySynced = max(g.lazySynced, r.lazy)
		} else if r.lazy > g.lazySynced {
			g.lazyVlog = g.lazyVlog || r.vlog // not covered: the next round syncs what it wrote
		}
		g.cond.Broadcast()
	}
	return r.err
}

// lazy notes a commit that does not wait for a sync; vlog says it wrote to
// the value log. It becomes durable with the next round, which begins at
// the latest lazyDelay from the first such commit since the last.
func (g *groupCommit) lazy(vlog bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lazyMade++
	g.lazyVlog = g.lazyVlog || vlog
	if g.lazyTimer == nil && !g.closed {
		g.lazyTimer = time.AfterFunc(g.lazyDelay, func() {
			g.mu.Lock()
			g.lazyTimer = nil
			g.mu.Unlock()
			g.syncLazy() // an error reaches the next commit that waits
		})
	}
}

// syncLazy returns once every commit made before it is durable: at once
// when no commit that did not wait is left uncovered, else after a round.
func (g *groupCommit) syncLazy() error {
	g.mu.Lock()
	if g.lazySynced >= g.lazyMade {
		g.mu.Unlock()
		return nil
	}
	g.mu.Unlock()
	return g.wait(false) // the round takes the value log in when a lazy commit wrote there
}

// shut waits for the round under way, if any, lets no other begin, and
// then runs release (which closes what the rounds use): a commit that was
// still syncing when its store was closed must not find its files closed
// under it.
func (g *groupCommit) shut(release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	if g.lazyTimer != nil {
		g.lazyTimer.Stop() // Badger's close makes the rest durable
		g.lazyTimer = nil
	}
	for g.syncing {
		g.cond.Wait()
	}
	release()
}

// syncFiles makes everything committed so far durable: every write-ahead
// log (the active memtable's, and those of memtables full and waiting for
// their flush) and, when a commit wrote a value of valueThreshold or more,
// the value logs (Badger writes nothing else there). Badger's DB.Sync
// would msync only the active log's and value log's whole mappings;
// fdatasync on the files flushes the same dirty pages (durable_linux.go).
// The logs stay open between syncs (one sync runs at a time); the
// directory is listed again only when a log may have appeared or gone
// since the last listing (logWatch), else every round.
func (s *Store) syncFiles(vlog bool) error {
	relist := s.watch == nil || !s.listed
	if !relist {
		changed, ok := s.watch.changed()
		if !ok {
			s.watch.close()
			s.watch = nil
		}
		relist = changed
	}
	if relist {
		if err := s.listLogs(); err != nil {
			return err
		}
	}
	for name, f := range s.logs {
		if strings.HasSuffix(name, ".vlog") && !vlog {
			continue
		}
		if err := fdatasync(f); err != nil {
			return fmt.Errorf("sync store %s: %w", name, err)
		}
	}
	return nil
}

// listLogs opens the logs that appeared in the store's directory since the
// last listing and closes those gone. A log whose memtable was flushed
// meanwhile is gone, its content in a table file Badger synced before
// deleting the log. The directory is synced too when a log appeared
// (Badger does not sync it when it creates a memtable's log), so the new
// file's name survives.
func (s *Store) listLogs() error {
	s.listed = false // until a listing succeeds
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("sync store: %w", err)
	}
	present := map[string]bool{}
	fresh := false
	for _, e := range entries {
		name := e.Name()
		if !isLog(name) {
			continue
		}
		present[name] = true
		if _, ok := s.logs[name]; ok {
			continue
		}
		f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sync store: %w", err)
		}
		fresh = true
		s.logs[name] = f
	}
	for name, f := range s.logs {
		if !present[name] {
			f.Close()
			delete(s.logs, name)
		}
	}
	if fresh {
		if err := syncDir(s.dir); err != nil {
			return err
		}
	}
	s.listed = true
	return nil
}

// isLog reports whether a file of the store's directory is one syncFiles
// syncs: a memtable's write-ahead log or a value log.
func isLog(name string) bool {
	return strings.HasSuffix(name, ".mem") || strings.HasSuffix(name, ".vlog")
}

// closeLogs closes the logs syncFiles keeps open, and its watch.
func (s *Store) closeLogs() {
	for name, f := range s.logs {
		f.Close()
		delete(s.logs, name)
	}
	if s.watch != nil {
		s.watch.close()
		s.watch = nil
	}
}

// syncDir makes a directory's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync store directory: %w", err)
	}
	err = d.Sync()
	d.Close()
	if err != nil {
		return fmt.Errorf("sync store directory: %w", err)
	}
	return nil
}
