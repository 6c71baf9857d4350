package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
)

// Snapshot writes a consistent copy of every live key to w, in Badger's
// backup stream format: all keys as of one read timestamp, so a snapshot
// taken while the agent writes is the store at one moment. Values are
// written in the clear, so w must encrypt them (the backup package does).
// It returns the number of bytes written.
func (s *Store) Snapshot(ctx context.Context, w io.Writer) (int64, error) {
	cw := &ctxWriter{ctx: ctx, w: w}
	stream := s.db.NewStream()
	stream.LogPrefix = "store.Snapshot"
	// One reader, not Badger's default 8: each of the stream's readers opens
	// its own read transaction when it starts, so two readers would copy
	// two moments of the store (one half of a transaction's writes without
	// the other) while the agent writes. One reader reads one moment.
	stream.NumGo = 1
	if _, err := stream.Backup(cw, 0); err != nil {
		if ctx.Err() != nil {
			return cw.n, fmt.Errorf("snapshot store: %w", ctx.Err())
		}
		return cw.n, fmt.Errorf("snapshot store: %w", err)
	}
	return cw.n, nil
}

// TableBytes is the size of the store's tables on disk, an estimate of a
// snapshot's size for progress reports. Badger's own figure is refreshed
// only once a minute, so the files are measured; value-log and memtable
// files are left out because Badger allocates them sparse at their full
// size, and the agent's values all stay below the value-log threshold.
func (s *Store) TableBytes() int64 {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".sst" {
			continue
		}
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// ctxWriter stops a snapshot when its context ends: Badger's stream has no
// context of its own, but it stops at the first failed write.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
	n   int64
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Restore creates a store in dir, which must be absent or empty, from a
// snapshot stream read from r, encrypted under key. The keys keep the
// versions they had, and the schema is not touched: the next Open checks
// and migrates it like any store's. When r fails (an archive that does not
// authenticate, say) Restore returns its error; the caller removes dir.
func Restore(o Options, r io.Reader) error {
	if Exists(o.Dir) {
		return fmt.Errorf("restore store: %s already holds a store: refusing to overwrite it", o.Dir)
	}
	if o.Key != nil && len(o.Key) != 32 {
		return fmt.Errorf("restore store: master key is %d bytes, want 32", len(o.Key))
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("restore store: %w", err)
	}
	db, err := badger.Open(badgerOptions(o))
	if err != nil {
		return fmt.Errorf("restore store: open %s: %w", o.Dir, err)
	}
	// Badger's Load holds at most this many pending writes in memory.
	loadErr := db.Load(r, 16)
	closeErr := db.Close()
	if loadErr != nil {
		return fmt.Errorf("restore store: %w", loadErr)
	}
	if closeErr != nil {
		return fmt.Errorf("restore store: close: %w", closeErr)
	}
	return nil
}

// ErrEmptySnapshot is returned by Restore's callers that find no schema in
// a restored store: whatever was read was not an agent's snapshot.
var ErrEmptySnapshot = errors.New("the snapshot holds no agent store")

// CheckRestored opens a restored store, refuses one without a schema
// version (not an agent's store) or with a newer one, and migrates an
// older one; it leaves the store closed.
func CheckRestored(o Options) error {
	s, err := Open(o)
	if err != nil {
		return err
	}
	defer s.Close()
	var found bool
	err = s.View(func(tx *Tx) error {
		_, err := tx.GetRaw(prefixMeta + "instance_id")
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return err
	}
	if !found {
		return ErrEmptySnapshot
	}
	return nil
}
