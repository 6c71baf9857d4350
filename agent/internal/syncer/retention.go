package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// Every run leaves a record, and a process polling every minute makes
// half a million a year: history is pruned so that the store stays
// bounded over years. A run prunes what fell out of the window as it is
// saved (a few deletes at most, so a run costs the same on day one and
// day 1000); the Pruner's periodic sweep does the rest: a window made
// smaller, a process deleted, an agent that was stopped for a while.

// Retention bounds each process's run history: runs that started before
// MaxAge ago are deleted, and so are all but the newest MaxRuns. Zero
// means no bound of that kind.
type Retention struct {
	MaxAge  time.Duration
	MaxRuns int
}

// The defaults: a month of history, and at most 10,000 runs per process
// (a week of polls every minute), which is what an administrator reads
// (runs.list pages 500 at most) and keeps a process's records at a few
// megabytes.
const (
	DefaultRunRetentionDays = 30
	DefaultRunRetentionRuns = 10000
)

// DefaultRetention is what an agent keeps without settings.
func DefaultRetention() Retention {
	return Retention{MaxAge: DefaultRunRetentionDays * 24 * time.Hour, MaxRuns: DefaultRunRetentionRuns}
}

// history is the engine's retention and, per process, the lowest run
// sequence number that may still have a record. A scan for old records
// starts there rather than at the oldest key: deleted records stay in the
// store as deletion markers until compaction, and stepping over thousands
// of them would make every run dearer as the history ages.
type history struct {
	keep atomic.Pointer[Retention] // nil: DefaultRetention
	mu   sync.Mutex
	low  map[string]uint64
}

func (h *history) from(proc string) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.low[proc]
}

// set records that proc has no run record below seq. A write that then
// fails leaves records below it, which the next sweep finds: it scans
// from the oldest key and sets the mark again.
func (h *history) set(proc string, seq uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.low == nil {
		h.low = map[string]uint64{}
	}
	h.low[proc] = seq
}

func (h *history) drop(proc string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.low, proc)
}

// SetRetention changes the history bounds (from the agent's settings);
// the next sweep applies them to what is there.
func (e *Engine) SetRetention(r Retention) {
	e.hist.keep.Store(&r)
}

func (e *Engine) retention() Retention {
	if r := e.hist.keep.Load(); r != nil {
		return *r
	}
	return DefaultRetention()
}

// perRunPrune bounds the deletes a run makes as it saves its record: the
// one or two records that left the window, with room for catching up
// after a pause; the sweep does anything bigger.
const perRunPrune = 16

// pruneTx deletes, in the transaction that saves run seq of proc, the
// records of proc that fell out of the window, at most perRunPrune: the
// run's record and its pruning are one write.
func (e *Engine) pruneTx(tx *store.Tx, proc string, seq uint64) error {
	old, next, err := e.outside(tx, proc, seq, e.hist.from(proc), perRunPrune)
	if err != nil {
		return err
	}
	for _, k := range old {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	e.hist.set(proc, next)
	return nil
}

// outside lists, oldest first and at most limit of them, the keys of
// proc's run records outside the retention, from sequence number from on;
// newest is the sequence number of the newest run. Records are in
// sequence order, which is start order, so the scan stops at the first
// record kept. next is the sequence number the next scan may start at.
func (e *Engine) outside(tx *store.Tx, proc string, newest, from uint64, limit int) (old []string, next uint64, err error) {
	ret := e.retention()
	var cutoff time.Time
	if ret.MaxAge > 0 {
		cutoff = e.d.Now().Add(-ret.MaxAge)
	}
	var floor uint64 // records at or below it are beyond MaxRuns
	if ret.MaxRuns > 0 && newest > uint64(ret.MaxRuns) {
		floor = newest - uint64(ret.MaxRuns)
	}
	next = from
	if cutoff.IsZero() && floor == 0 {
		return nil, next, nil
	}
	start := ""
	if from > 0 {
		start = keyRun(proc, from)
	}
	err = tx.Scan(prefixRuns(proc), start, func(k string, raw []byte) error {
		seq, _ := strconv.ParseUint(strings.TrimPrefix(k, prefixRuns(proc)), 10, 64)
		if seq > floor && !startedBefore(raw, cutoff) {
			next = seq
			return store.ErrStop
		}
		old, next = append(old, k), seq+1
		if len(old) == limit {
			return store.ErrStop
		}
		return nil
	})
	return old, next, err
}

// pruneRuns deletes all of proc's run records outside the retention, in
// batches, and returns how many it deleted.
func (e *Engine) pruneRuns(proc string, newest uint64) (int, error) {
	deleted := 0
	from := uint64(0) // the oldest key: a sweep trusts no mark
	for {
		var old []string
		if err := e.d.Store.View(func(tx *store.Tx) error {
			var err error
			old, from, err = e.outside(tx, proc, newest, from, 500)
			return err
		}); err != nil {
			return deleted, err
		}
		if len(old) == 0 {
			e.hist.set(proc, from)
			return deleted, nil
		}
		if err := e.deleteKeys(old); err != nil {
			return deleted, fmt.Errorf("prune the runs of process %s: %w", proc, err)
		}
		deleted += len(old)
	}
}

// startedBefore reports whether the run record raw started before cutoff
// (never, for a zero cutoff). A record that does not decode is old.
func startedBefore(raw []byte, cutoff time.Time) bool {
	if cutoff.IsZero() {
		return false
	}
	var r struct {
		StartedAt time.Time `json:"startedAt"`
	}
	if json.Unmarshal(raw, &r) != nil {
		return true
	}
	return r.StartedAt.Before(cutoff)
}

// bulkJobKeep is how long a finished bulk job stays for processes.bulkStatus.
const bulkJobKeep = 24 * time.Hour

// Sweep applies the retention to every process's history: run records
// outside the window, and the records of processes that no longer exist
// (their run counters too); finished bulk jobs older than a day are
// forgotten. It returns how many records it deleted.
func (e *Engine) Sweep(ctx context.Context) (int, error) {
	type counter struct {
		proc   string
		newest uint64
	}
	var procs []counter
	err := e.d.Store.View(func(tx *store.Tx) error {
		return tx.Scan("runseq/", "", func(k string, raw []byte) error {
			n, _ := strconv.ParseUint(string(raw), 10, 64)
			procs = append(procs, counter{strings.TrimPrefix(k, "runseq/"), n})
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("list run counters: %w", err)
	}
	deleted := 0
	for _, c := range procs {
		if ctx.Err() != nil {
			return deleted, ctx.Err()
		}
		if exists, err := e.procs.exists(c.proc); err != nil {
			return deleted, err
		} else if !exists {
			n, err := e.forget(c.proc)
			deleted += n
			if err != nil {
				return deleted, err
			}
			continue
		}
		n, err := e.pruneRuns(c.proc, c.newest)
		deleted += n
		if err != nil {
			return deleted, err
		}
	}
	e.pruneBulkJobs()
	return deleted, nil
}

// forget deletes the run history and run counter of a deleted process.
func (e *Engine) forget(proc string) (int, error) {
	e.hist.drop(proc)
	n, err := e.deletePrefixes(prefixRuns(proc), keyRunSeq(proc))
	if err != nil {
		return n, fmt.Errorf("forget the runs of deleted process %s: %w", proc, err)
	}
	return n, nil
}

// deletePrefixes deletes every key under each prefix, a batch of keys per
// transaction (Badger bounds a transaction's size), and returns how many
// it deleted.
func (e *Engine) deletePrefixes(prefixes ...string) (int, error) {
	deleted := 0
	for _, pre := range prefixes {
		var keys []string
		if err := e.d.Store.View(func(tx *store.Tx) error {
			return tx.Scan(pre, "", func(k string, _ []byte) error { keys = append(keys, k); return nil })
		}); err != nil {
			return deleted, err
		}
		for start := 0; start < len(keys); start += 500 {
			if err := e.deleteKeys(keys[start:min(start+500, len(keys))]); err != nil {
				return deleted, err
			}
			deleted += min(500, len(keys)-start)
		}
	}
	return deleted, nil
}

// deleteKeys deletes keys in one transaction.
func (e *Engine) deleteKeys(keys []string) error {
	return e.d.Store.Update(func(tx *store.Tx) error {
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// pruneBulkJobs forgets bulk jobs that ended more than bulkJobKeep ago.
func (e *Engine) pruneBulkJobs() {
	cutoff := e.d.Now().Add(-bulkJobKeep)
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, j := range e.bulk {
		s := j.snapshot()
		if !s.EndedAt.IsZero() && s.EndedAt.Before(cutoff) {
			delete(e.bulk, id)
		}
	}
}

// Pruner sweeps the history on a schedule: once when it starts, then
// every Interval (an hour when zero).
type Pruner struct {
	Engine   *Engine
	Interval time.Duration
}

// Serve sweeps until ctx ends. A failed sweep is logged and tried again
// at the next tick: history is not worth stopping the agent for.
func (p *Pruner) Serve(ctx context.Context) error {
	every := p.Interval
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := p.Engine.Sweep(ctx)
		switch {
		case errors.Is(err, context.Canceled):
			return nil
		case err != nil:
			p.Engine.d.Log.Warn().Err(err).Msg("prune history")
		case n > 0:
			p.Engine.d.Log.Info().Int("deleted", n).Msg("pruned history")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
