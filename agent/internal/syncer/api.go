package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// PlanItem is one thing a run would do (shared/apitype).
type PlanItem = apitype.PlanItem

// RunNow runs a process at once and returns its run record. An active
// process runs on its own runner, so two runs never overlap.
func (e *Engine) RunNow(ctx context.Context, id string) (Run, error) {
	p, err := e.procs.Get(id)
	if err != nil {
		return Run{}, err
	}
	defer e.lockRuns(id)()
	return e.runOnce(ctx, &p, "manual", nil), nil
}

// SyncEntity syncs one entity of one side now.
func (e *Engine) SyncEntity(ctx context.Context, id string, side Side, entity string) (Run, error) {
	p, err := e.procs.Get(id)
	if err != nil {
		return Run{}, err
	}
	if side != SideA && side != SideB {
		return Run{}, &ValidationError{Errors: []FieldError{{Field: "side", Message: "must be a or b"}}}
	}
	defer e.lockRuns(id)()
	return e.runOnce(ctx, &p, "entity", &QueueItem{Side: side, Entity: entity}), nil
}

// Plan says what a run would do now, changing nothing.
func (e *Engine) Plan(ctx context.Context, id string) ([]PlanItem, error) {
	p, err := e.procs.Get(id)
	if err != nil {
		return nil, err
	}
	c := &cycle{e: e, p: &p, con: map[Side]connector.Connector{}, dry: true, schemas: &schemaCache{}}
	c.log = e.d.Log.With().Str("process", p.ID).Str("run", "plan").Logger()
	if err := c.execute(ctx, nil); err != nil {
		return e.named(p.ID, c.plan), err
	}
	return e.named(p.ID, c.plan), nil
}

// Page sizes of Pairs and Runs: a limit of 0 (or less) is the default,
// one above the maximum is the maximum (the API refuses it before).
const (
	DefaultPairsLimit = 100
	DefaultRunsLimit  = 50
	MaxListLimit      = 500
)

// pageLimit is limit within (0, MaxListLimit], def when not set.
func pageLimit(limit, def int) int {
	if limit <= 0 {
		return def
	}
	return min(limit, MaxListLimit)
}

// Pairs lists pairs (of one process, or all), optionally filtered by key or
// title, in a stable order: last synced first, then by process and id. The
// cursor is the position of the last pair returned, so paging never skips
// or repeats a pair while others sync (a pair synced meanwhile moves ahead
// of the cursor and is seen on a reload). Each pair comes with its pending
// work and its state in words.
func (e *Engine) Pairs(proc, query, cursor string, limit int) ([]PairView, string, error) {
	limit = pageLimit(limit, DefaultPairsLimit)
	q := strings.ToLower(query)
	if _, err := e.getRaw(keyPairIndexBuilt); err == nil {
		page, more, err := e.pairPage(proc, q, cursor, limit) // pairindex.go
		if err != nil {
			return nil, "", err
		}
		next := ""
		if more && len(page) > 0 {
			next = pairCursor(&page[len(page)-1])
		}
		return e.views(page, next)
	}
	// Until the index is built (buildPairIndex, at start): every pair read
	// and sorted.
	prefix := "pair/"
	if proc != "" {
		prefix = prefixPairs(proc)
	}
	var all []Pair
	err := e.d.Store.View(func(tx *store.Tx) error {
		return tx.Scan(prefix, "", func(_ string, raw []byte) error {
			var p Pair
			if json.Unmarshal(raw, &p) != nil {
				return nil
			}
			if q != "" && !strings.Contains(strings.ToLower(p.A.Key+" "+p.A.Title+" "+p.B.Key+" "+p.B.Title), q) {
				return nil
			}
			all = append(all, p)
			return nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	sort.Slice(all, func(i, j int) bool { return pairBefore(&all[i], &all[j]) })
	start := 0
	if cursor != "" {
		at, ok := parsePairCursor(cursor)
		if !ok {
			return nil, "", &ValidationError{Errors: []FieldError{{Field: "cursor", Message: "is not a cursor this list returned"}}}
		}
		start = sort.Search(len(all), func(i int) bool { return pairBefore(&at, &all[i]) })
	}
	page := all[start:min(start+limit, len(all))]
	next := ""
	if start+limit < len(all) && len(page) > 0 {
		next = pairCursor(&page[len(page)-1])
	}
	return e.views(page, next)
}

// views adds each pair's pending work and state in words.
func (e *Engine) views(page []Pair, next string) ([]PairView, string, error) {
	out := make([]PairView, 0, len(page))
	err := e.d.Store.View(func(tx *store.Tx) error {
		for _, p := range page {
			out = append(out, e.view(tx, p))
		}
		return nil
	})
	return out, next, err
}

// pairBefore is the list order: last synced first, then process and id.
func pairBefore(a, b *Pair) bool {
	if !a.LastSyncedAt.Equal(b.LastSyncedAt) {
		return a.LastSyncedAt.After(b.LastSyncedAt)
	}
	if a.Process != b.Process {
		return a.Process < b.Process
	}
	return a.ID < b.ID
}

func pairCursor(p *Pair) string {
	return p.LastSyncedAt.UTC().Format(time.RFC3339Nano) + "|" + p.Process + "|" + p.ID
}

func parsePairCursor(c string) (Pair, bool) {
	parts := strings.SplitN(c, "|", 3)
	if len(parts) != 3 {
		return Pair{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, parts[0])
	if err != nil {
		return Pair{}, false
	}
	return Pair{LastSyncedAt: t, Process: parts[1], ID: parts[2]}, true
}

// GetPair returns one pair of a process.
func (e *Engine) GetPair(proc, id string) (Pair, error) {
	var p Pair
	if proc == "" || id == "" || strings.ContainsAny(proc+id, "/\x00") {
		return Pair{}, fmt.Errorf("pair %s: %w", id, ErrNotFound)
	}
	if err := e.d.Store.Get(keyPair(proc, id), &p); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Pair{}, fmt.Errorf("pair %s: %w", id, ErrNotFound)
		}
		return Pair{}, err
	}
	return p, nil
}

// PairCounts counts pairs per process (support packages, dashboard), by
// their keys alone.
func (e *Engine) PairCounts() (map[string]int, error) {
	counts := map[string]int{}
	err := e.d.Store.View(func(tx *store.Tx) error {
		return tx.Keys("pair/", func(k string) error {
			parts := strings.SplitN(k, "/", 3)
			if len(parts) == 3 {
				counts[parts[1]]++
			}
			return nil
		})
	})
	return counts, err
}

// Backlog counts, per process, the items waiting in its queue and the
// parked ones (the agent's metrics).
func (e *Engine) Backlog() (queued, parked map[string]int, err error) {
	queued, parked = map[string]int{}, map[string]int{}
	err = e.d.Store.View(func(tx *store.Tx) error {
		for prefix, counts := range map[string]map[string]int{"queue/": queued, "perr/": parked} {
			err := tx.Scan(prefix, "", func(k string, _ []byte) error {
				if parts := strings.SplitN(k, "/", 3); len(parts) == 3 {
					counts[parts[1]]++
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return queued, parked, err
}

// Runs lists a process's runs, newest first.
func (e *Engine) Runs(proc string, limit int) ([]Run, error) {
	limit = pageLimit(limit, DefaultRunsLimit)
	var out []Run
	err := e.d.Store.View(func(tx *store.Tx) error {
		return tx.ScanReverse(prefixRuns(proc), func(_ string, raw []byte) error {
			var r Run
			if json.Unmarshal(raw, &r) == nil {
				out = append(out, r)
			}
			if len(out) == limit {
				return store.ErrStop
			}
			return nil
		})
	})
	return out, err
}

// GetRun returns one run.
func (e *Engine) GetRun(id string) (Run, error) {
	seq, err := runSeq(id)
	if err != nil {
		return Run{}, err
	}
	proc := id[:strings.LastIndexByte(id, '-')]
	var r Run
	if err := e.d.Store.Get(keyRun(proc, seq), &r); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Run{}, fmt.Errorf("run %s: %w", id, ErrNotFound)
		}
		return Run{}, err
	}
	return r, nil
}

// Errors lists parked entities of a process (all processes when empty).
func (e *Engine) Errors(proc string) ([]ParkedError, error) {
	prefix := "perr/"
	if proc != "" {
		prefix = prefixParked(proc)
	}
	var out []ParkedError
	err := e.d.Store.View(func(tx *store.Tx) error {
		return tx.Scan(prefix, "", func(k string, raw []byte) error {
			var p Parked
			if json.Unmarshal(raw, &p) != nil {
				return nil
			}
			parts := strings.SplitN(k, "/", 3)
			out = append(out, ParkedError{Process: parts[1], Parked: p})
			return nil
		})
	})
	return out, err
}

// ParkedError is a parked entity with its process (shared/apitype).
type ParkedError = apitype.ParkedError

// Retry queues parked entities again (all of a process when entity is "")
// and, for an active process, runs it.
func (e *Engine) Retry(proc string, side Side, entity string) (int, error) {
	list, err := e.Errors(proc)
	if err != nil {
		return 0, err
	}
	n := 0
	now := e.d.Now()
	err = e.d.Store.Update(func(tx *store.Tx) error {
		n = 0
		for _, pe := range list {
			if entity != "" && (pe.Entity != entity || pe.Side != side) {
				continue
			}
			if err := tx.Delete(keyParked(pe.Process, pe.Side, pe.Entity)); err != nil {
				return err
			}
			if err := tx.Delete(keyQueue(pe.Process, pe.Side, pe.Entity)); err != nil {
				return err
			}
			if err := enqueueTx(tx, pe.Process, QueueItem{Side: pe.Side, Entity: pe.Entity}, now); err != nil {
				return err
			}
			if pe.Pair != "" {
				var p Pair
				if tx.Get(keyPair(pe.Process, pe.Pair), &p) == nil {
					p.State, p.Error = PairSynced, ""
					if err := putPairRecordTx(tx, &p); err != nil {
						return err
					}
				}
			}
			n++
		}
		return nil
	})
	if err == nil && n > 0 {
		e.Trigger(proc, "retry")
	}
	return n, err
}

// RunAsync starts a run now without waiting for it: an active process is
// triggered on its runner; an inactive one runs once in the background.
func (e *Engine) RunAsync(id string) error {
	p, err := e.procs.Get(id)
	if err != nil {
		return err
	}
	if e.Trigger(id, "manual") {
		return nil
	}
	e.mu.Lock()
	ctx := e.ctx
	e.mu.Unlock()
	if ctx == nil {
		return fmt.Errorf("run %s: the engine is not running", p.Name)
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer e.lockRuns(p.ID)()
		e.runOnce(ctx, &p, "manual", nil)
	}()
	return nil
}
