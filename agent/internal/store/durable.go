package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// groupCommit makes commits durable together: Badger runs without its own
// sync after every transaction (which syncs the write-ahead log once per
// transaction, however many commit at the same moment), and each Update,
// once committed, waits for a sync that began after its commit. One caller
// at a time syncs, for everyone who committed before it began, so N
// concurrent committers share one sync instead of paying N. A commit is
// durable when Update returns, as before.
type groupCommit struct {
	flush func(vlog bool) error

	mu      sync.Mutex
	cond    *sync.Cond
	commits uint64 // commits finished so far
	synced  uint64 // commits a finished sync covered
	syncing bool
	err     error // the last sync's error, for the commits it covered
	// vlog: a commit not synced yet wrote a value large enough for
	// Badger's value log, which must then be synced too.
	vlog bool
}

func newGroupCommit(flush func(vlog bool) error) *groupCommit {
	g := &groupCommit{flush: flush}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// wait returns once a sync that began after the caller's commit ended;
// vlog says the commit wrote to the value log.
func (g *groupCommit) wait(vlog bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.vlog = g.vlog || vlog
	g.commits++
	ticket := g.commits
	for g.synced < ticket {
		if g.syncing {
			g.cond.Wait()
			continue
		}
		// Lead a sync for every commit finished so far.
		g.syncing = true
		target, vlog := g.commits, g.vlog
		g.vlog = false
		g.mu.Unlock()
		err := g.flush(vlog)
		g.mu.Lock()
		g.syncing = false
		g.synced, g.err = target, err
		if err != nil {
			g.vlog = g.vlog || vlog
		}
		g.cond.Broadcast()
		if err != nil {
			return err
		}
	}
	return g.err
}

// syncFiles makes everything committed so far durable: every write-ahead
// log (the active memtable's, and those of memtables full and waiting for
// their flush) and, when a commit wrote a value over valueThreshold, the
// value logs (Badger writes nothing else there). Badger's DB.Sync would
// msync the active log's and value log's whole mappings on every call;
// fdatasync on the files flushes the same dirty pages. A log whose memtable
// was flushed meanwhile is gone, its content in a table file Badger synced
// before deleting the log.
func (s *Store) syncFiles(vlog bool) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("sync store: %w", err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".mem") && !(vlog && strings.HasSuffix(e.Name(), ".vlog")) {
			continue
		}
		f, err := os.OpenFile(filepath.Join(s.dir, e.Name()), os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sync store: %w", err)
		}
		err = fdatasync(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("sync store %s: %w", e.Name(), err)
		}
	}
	return nil
}
