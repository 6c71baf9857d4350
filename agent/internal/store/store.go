// Package store is the agent's only door to Badger: it opens the encrypted
// database, owns the key layout and the schema version, and offers typed
// repositories. No other package imports badger.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/lockstep-sync/lockstep/agent/internal/fault"
)

// magic marks a Badger directory as ours; Badger refuses to open a directory
// written with a different value, so a foreign database is never touched.
const magic uint16 = 0x4C53 // "LS"

// ErrNotFound is returned when a key has no value.
var ErrNotFound = fault.New(fault.ErrNotFound, "not found")

// ErrLocked means another process (a running agent) holds the store.
var ErrLocked = errors.New("another process holds the store (is the agent running?)")

// ErrKeyMismatch means the master key does not open this store.
var ErrKeyMismatch = errors.New("the master key does not open this store (wrong key?)")

// Logger receives Badger's own messages; the agent passes a zerolog adapter
// because Badger otherwise writes to stderr, which a Windows service loses.
type Logger interface {
	Errorf(string, ...interface{})
	Warningf(string, ...interface{})
	Infof(string, ...interface{})
	Debugf(string, ...interface{})
}

// Options open a store.
type Options struct {
	Dir string
	// Key is the 32-byte master key. Nil opens an unencrypted store, which
	// only tests and the encryption benchmark do.
	Key []byte
	// Logger may be nil (Badger's messages are then dropped).
	Logger Logger
	// GCInterval is how often value-log GC runs in Serve; zero means 5 minutes.
	GCInterval time.Duration
	// NoSync leaves out the sync after every write: writes then survive a
	// crash of the process but not of the machine. For benchmarks that
	// simulate years of history, never for an agent.
	NoSync bool
}

// Store is an open database.
type Store struct {
	db         *badger.DB
	dir        string
	gcInterval time.Duration
	closeOnce  sync.Once
	closeErr   error
	// durable syncs commits in groups (durable.go); nil with NoSync and
	// where Badger syncs each transaction itself.
	durable *groupCommit
	// logs are the log files syncFiles keeps open, by name; listed says
	// they are every log of the last listing of the directory, and watch
	// says when to list it again (nil: every round).
	logs   map[string]*os.File
	listed bool
	watch  *logWatch
	logger Logger // may be nil
	// realDir is dir as the kernel names it (absolute, links resolved),
	// to find the store's files among the process's mappings.
	realDir string
	// mappedBudget and watchInterval: see Serve. Fields so tests can
	// shrink them.
	mappedBudget  int64
	watchInterval time.Duration
}

// releaseInterval is how often Serve hands the pages of the store's table
// files back to the kernel (release_linux.go): an idle agent's resident
// memory is then its own, not what it last read.
const releaseInterval = time.Minute

// mappedBudget is how much file content the agent keeps mapped in memory
// before Serve hands the table pages back early: Badger writes every new
// table (a memtable flushed, a compaction's output) through a mapping, so
// a long initial sync would otherwise count a few hundred MB of freshly
// written tables in its resident memory within the minute. The agent's
// binary (about 20 MB) counts too. Pages handed back are read again from
// the file when needed; Badger's block and index caches hold what reads
// use most.
const mappedBudget = 64 << 20

// watchInterval is how often Serve compares the file pages mapped with
// mappedBudget: one read of /proc/self/statm.
const watchInterval = 2 * time.Second

type quiet struct{}

func (quiet) Errorf(string, ...interface{})   {}
func (quiet) Warningf(string, ...interface{}) {}
func (quiet) Infof(string, ...interface{})    {}
func (quiet) Debugf(string, ...interface{})   {}

func badgerOptions(o Options) badger.Options {
	var logger badger.Logger = quiet{}
	if o.Logger != nil {
		logger = o.Logger
	}
	// A small-memory profile: the agent's data set is configuration, pair
	// registries and audit records, a few hundred MB at most. MemTableSize
	// stays >= 8 MB so the default 1 MB value threshold remains valid.
	opts := badger.DefaultOptions(o.Dir).
		WithLogger(logger).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		WithNumCompactors(2). // Badger refuses 1
		WithBaseTableSize(2 << 20).
		WithValueLogFileSize(64 << 20).
		WithBlockCacheSize(8 << 20). // Badger panics without it when encrypted or compressed
		WithIndexCacheSize(8 << 20). // and panics on first read without this one
		WithCompression(options.None).
		WithValueThreshold(valueThreshold).
		WithVerifyValueChecksum(true).
		// Every block is checked when it is read. Checking whole tables as
		// they open too read and decrypted the entire store at each start:
		// seconds for a store of a million pairs before /healthz answered.
		WithChecksumVerificationMode(options.OnBlockRead).
		// Durability across power loss, not only process crashes: from
		// Update's group commit (durable.go) where it is known to cover
		// Badger's mapped logs, since Badger's own option syncs once per
		// transaction, however many commit together; else from Badger.
		WithSyncWrites(!o.NoSync && !groupCommits).
		WithExternalMagic(magic).
		WithMetricsEnabled(false)
	// Tables of every level the same small size: a compaction builds up to
	// eight at once, each holding its table twice in memory (plain and
	// encrypted), so Badger's default doubling per level made a compaction
	// of a large store take hundreds of MB.
	opts.TableSizeMultiplier = 1
	if o.Key != nil {
		opts = opts.WithEncryptionKey(o.Key).
			WithEncryptionKeyRotationDuration(30 * 24 * time.Hour)
	}
	return opts
}

// valueThreshold is the size from which Badger keeps a value in its value
// log rather than in the LSM tree (its default, stated: syncFiles relies
// on it).
const valueThreshold = 1 << 20

// Exists reports whether dir holds a store.
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "MANIFEST"))
	return err == nil
}

// CheckKey validates key against the store's key registry without writing
// anything, so a wrong key never changes a byte of the database.
func CheckKey(dir string, key []byte) error {
	if !Exists(dir) {
		return fmt.Errorf("open store %s: %w", dir, fs.ErrNotExist)
	}
	if key != nil && len(key) != 32 {
		return fmt.Errorf("open store: master key is %d bytes, want 32", len(key))
	}
	if _, err := os.Stat(filepath.Join(dir, badger.KeyRegistryFileName)); err != nil {
		return fmt.Errorf("open store %s: key registry: %w", dir, err)
	}
	kr, err := badger.OpenKeyRegistry(badger.KeyRegistryOptions{Dir: dir, ReadOnly: true, EncryptionKey: key})
	if errors.Is(err, badger.ErrEncryptionKeyMismatch) {
		return ErrKeyMismatch
	}
	if err != nil {
		return fmt.Errorf("read key registry: %w", err)
	}
	return kr.Close()
}

// Open opens an existing store after checking the key, then migrates its
// schema to the current version.
func Open(o Options) (*Store, error) {
	if err := CheckKey(o.Dir, o.Key); err != nil {
		return nil, err
	}
	return open(o)
}

// Create makes a new store in an absent or empty directory.
func Create(o Options) (*Store, error) {
	if Exists(o.Dir) {
		return nil, fmt.Errorf("create store: %s already holds a store: refusing to overwrite it", o.Dir)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	return open(o)
}

func open(o Options) (*Store, error) {
	db, err := badger.Open(badgerOptions(o))
	if err != nil {
		// Badger returns a half-closed db with some errors: never use it.
		if errors.Is(err, badger.ErrEncryptionKeyMismatch) {
			return nil, ErrKeyMismatch
		}
		// Badger's lock failure has no sentinel; only this package knows its text.
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("open store %s: %w", o.Dir, ErrLocked)
		}
		return nil, fmt.Errorf("open store %s: %w", o.Dir, err)
	}
	s := &Store{db: db, dir: o.Dir, gcInterval: o.GCInterval, logger: o.Logger, realDir: o.Dir,
		mappedBudget: mappedBudget, watchInterval: watchInterval}
	if abs, err := filepath.Abs(o.Dir); err == nil {
		s.realDir = abs
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			s.realDir = real
		}
	}
	if !o.NoSync && groupCommits {
		s.logs = map[string]*os.File{}
		s.watch = watchLogs(o.Dir)
		s.durable = newGroupCommit(s.syncFiles)
	}
	if s.gcInterval == 0 {
		s.gcInterval = 5 * time.Minute
	}
	if err := s.migrate(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database; it is safe to call more than once (Badger
// panics on use after close, so callers stop their workers first).
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.durable != nil {
			s.durable.shut(s.closeLogs)
		}
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// Size is the store's size on disk in bytes: the LSM tree and the value
// log, as Badger last measured them (it does so about once a minute).
func (s *Store) Size() (lsm, vlog int64) { return s.db.Size() }

// Serve runs value-log garbage collection, and hands the table files'
// pages back to the kernel, until ctx ends: every minute, and as soon as
// the file pages mapped exceed mappedBudget (a busy store).
func (s *Store) Serve(ctx context.Context) error {
	t := time.NewTicker(s.gcInterval)
	defer t.Stop()
	release := time.NewTicker(releaseInterval)
	defer release.Stop()
	watch := time.NewTicker(s.watchInterval)
	defer watch.Stop()
	releaseNow := func() {
		if _, err := s.releaseTables(); err != nil {
			if s.logger != nil && !errors.Is(err, errPageoutUnknown) {
				s.logger.Warningf("%v", err)
			}
			if errors.Is(err, errPageoutUnknown) {
				// never will: the pages stay until the kernel needs them
				release.Stop()
				watch.Stop()
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.collect(); err != nil && s.logger != nil {
				s.logger.Warningf("value log garbage collection: %v", err)
			}
		case <-release.C:
			releaseNow()
		case <-watch.C:
			if n, err := mappedBytes(); err == nil && n > s.mappedBudget {
				releaseNow()
			}
		}
	}
}

// collect runs value-log GC. Badger rewrites a file's live values through
// its log and then deletes the file, with no sync between when it does not
// sync every transaction: an open iterator holds the deletions back (Badger
// deletes rewritten files when the last iterator closes) until a sync has
// made the rewrites durable.
func (s *Store) collect() error {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	hold := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
	defer hold.Close()
	// Each call rewrites at most one file; loop until nothing is left.
	n := 0
	for n < 16 && s.db.RunValueLogGC(0.5) == nil {
		n++
	}
	if n == 0 || s.durable == nil {
		return nil
	}
	return s.durable.wait(true)
}

// RotateKey re-wraps Badger's data keys under newKey; afterwards oldKey no
// longer opens the store. The store must be closed. Badger writes the new
// registry to a temporary file and renames it into place.
func RotateKey(dir string, oldKey, newKey []byte) error {
	if err := CheckKey(dir, oldKey); err != nil {
		return err
	}
	kr, err := badger.OpenKeyRegistry(badger.KeyRegistryOptions{Dir: dir, ReadOnly: true, EncryptionKey: oldKey})
	if err != nil {
		return fmt.Errorf("rotate key: read key registry: %w", err)
	}
	defer kr.Close()
	if err := badger.WriteKeyRegistry(kr, badger.KeyRegistryOptions{Dir: dir, EncryptionKey: newKey}); err != nil {
		return fmt.Errorf("rotate key: write key registry: %w", err)
	}
	return nil
}

// Tx is a read or read-write transaction.
type Tx struct {
	txn *badger.Txn
	// wrote: the transaction set or deleted a key, so its commit must be
	// made durable; large: it set a value that Badger keeps in its value
	// log (durable.go).
	wrote, large bool
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(*Tx) error) error {
	return s.db.View(func(txn *badger.Txn) error { return fn(&Tx{txn: txn}) })
}

// Update runs fn in a read-write transaction, retrying on conflicts; fn must
// be safe to run more than once. When Update returns nil, the write is
// durable: it waits for a sync that began after its commit, shared with
// the commits of other goroutines (durable.go).
func (s *Store) Update(fn func(*Tx) error) error { return s.update(fn, false) }

// UpdateLazy is Update for records whose loss in a power failure is no
// worse than a crash just before they were made: it returns once the
// commit is made (every reader sees it at once), without waiting for it to
// be durable. It becomes durable with the next sync round: the next
// Update's or Sync's, and at the latest about lazyDelay later. A process
// crash loses nothing of it (the operating system has it); a power failure
// may lose it, and every commit after it, together.
func (s *Store) UpdateLazy(fn func(*Tx) error) error { return s.update(fn, true) }

// update runs fn in a read-write transaction, retrying on conflicts, and
// then waits for its sync unless lazy.
func (s *Store) update(fn func(*Tx) error, lazy bool) error {
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		var tx *Tx
		err = s.db.Update(func(txn *badger.Txn) error {
			tx = &Tx{txn: txn}
			return fn(tx)
		})
		if err == nil && tx.wrote && s.durable != nil {
			if lazy {
				s.durable.lazy(tx.large)
				return nil
			}
			return s.durable.wait(tx.large)
		}
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 2 * time.Millisecond)
	}
	return fmt.Errorf("update store: %w", err)
}

// Sync returns once every commit made before it is durable, the ones
// UpdateLazy made included; at once when there is none of those.
func (s *Store) Sync() error {
	if s.durable == nil {
		return nil
	}
	return s.durable.syncLazy()
}

// GetRaw returns the value at key.
func (t *Tx) GetRaw(key string) ([]byte, error) {
	item, err := t.txn.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return item.ValueCopy(nil)
}

// SetRaw writes value at key.
func (t *Tx) SetRaw(key string, value []byte) error {
	if err := t.txn.Set([]byte(key), value); err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	t.wrote = true
	t.large = t.large || len(value) >= valueThreshold
	return nil
}

// Get decodes the JSON value at key into v.
func (t *Tx) Get(key string, v any) error {
	raw, err := t.GetRaw(key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

// Put encodes v as JSON at key.
func (t *Tx) Put(key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return t.SetRaw(key, raw)
}

// Delete removes key; deleting an absent key is not an error.
func (t *Tx) Delete(key string) error {
	if err := t.txn.Delete([]byte(key)); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	t.wrote = true
	return nil
}

// Scan calls fn for each key with prefix, in key order, starting at the
// first key >= start (start "" means the prefix itself). fn returning
// ErrStop ends the scan without error.
func (t *Tx) Scan(prefix, start string, fn func(key string, value []byte) error) error {
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix), PrefetchValues: false})
	defer it.Close()
	seek := prefix
	if start > prefix {
		seek = start
	}
	for it.Seek([]byte(seek)); it.ValidForPrefix([]byte(prefix)); it.Next() {
		item := it.Item()
		val, err := item.ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("read %s: %w", item.Key(), err)
		}
		if err := fn(string(item.KeyCopy(nil)), val); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// Keys calls fn for each key with prefix, in key order, without reading
// the values (an index's keys, a count). fn returning ErrStop ends it.
func (t *Tx) Keys(prefix string, fn func(key string) error) error {
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix), PrefetchValues: false})
	defer it.Close()
	for it.Seek([]byte(prefix)); it.ValidForPrefix([]byte(prefix)); it.Next() {
		if err := fn(string(it.Item().Key())); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// ScanReverse is Scan from the last key with prefix backwards.
func (t *Tx) ScanReverse(prefix string, fn func(key string, value []byte) error) error {
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix), Reverse: true})
	defer it.Close()
	// Seek past every key with the prefix: 0xff sorts after any byte in our keys.
	for it.Seek(append([]byte(prefix), 0xff)); it.ValidForPrefix([]byte(prefix)); it.Next() {
		item := it.Item()
		val, err := item.ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("read %s: %w", item.Key(), err)
		}
		if err := fn(string(item.KeyCopy(nil)), val); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// ErrStop ends a scan early.
var ErrStop = errors.New("stop scan")

// Get reads one JSON value outside an explicit transaction.
func (s *Store) Get(key string, v any) error {
	return s.View(func(tx *Tx) error { return tx.Get(key, v) })
}

// Put writes one JSON value outside an explicit transaction.
func (s *Store) Put(key string, v any) error {
	return s.Update(func(tx *Tx) error { return tx.Put(key, v) })
}

// Delete removes one key outside an explicit transaction.
func (s *Store) Delete(key string) error {
	return s.Update(func(tx *Tx) error { return tx.Delete(key) })
}
