package syncer

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// Views are the engine's read models: the pairs with their pending work,
// the runs, the parked errors, the queue, the counts the metrics and the
// support package read, and health (health.go). They read what the run
// loop and the administrator's commands stored, and change nothing.
type Views struct {
	st    *store.Store
	procs *Processes
}

// Views returns the engine's read models.
func (e *Engine) Views() *Views { return e.views }

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

// Pairs lists pairs (of one process, or all), optionally filtered by a
// query whose every word begins a word of a key or title (searchMatches),
// in a stable order: last synced first, then by process and id. The
// cursor is the position of the last pair returned, so paging never skips
// or repeats a pair while others sync (a pair synced meanwhile moves ahead
// of the cursor and is seen on a reload). Each pair comes with its pending
// work and its state in words.
func (vs *Views) Pairs(proc, query, cursor string, limit int) ([]PairView, string, error) {
	limit = pageLimit(limit, DefaultPairsLimit)
	if vs.pairIndexReady() {
		page, more, err := vs.pairPage(proc, query, cursor, limit) // pairindex.go
		if err != nil {
			return nil, "", err
		}
		next := ""
		if more && len(page) > 0 {
			next = pairCursor(&page[len(page)-1])
		}
		return vs.withWork(page, next)
	}
	// Until the index is built (buildPairIndex, at start): every pair read
	// and sorted.
	q := queryWords(query)
	prefix := "pair/"
	if proc != "" {
		prefix = prefixPairs(proc)
	}
	var all []Pair
	err := vs.st.View(func(tx *store.Tx) error {
		return tx.Scan(prefix, "", func(_ string, raw []byte) error {
			var p Pair
			if json.Unmarshal(raw, &p) != nil {
				return nil
			}
			if len(q) > 0 && !searchMatches(searchWords(searchText(&p)), q) {
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
	return vs.withWork(page, next)
}

// withWork adds each pair's pending work and state in words.
func (vs *Views) withWork(page []Pair, next string) ([]PairView, string, error) {
	out := make([]PairView, 0, len(page))
	err := vs.st.View(func(tx *store.Tx) error {
		for _, p := range page {
			out = append(out, vs.view(tx, p))
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
func (vs *Views) GetPair(proc, id string) (Pair, error) {
	var p Pair
	if proc == "" || id == "" || strings.ContainsAny(proc+id, "/\x00") {
		return Pair{}, fmt.Errorf("pair %s: %w", id, ErrNotFound)
	}
	if err := vs.st.Get(keyPair(proc, id), &p); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Pair{}, fmt.Errorf("pair %s: %w", id, ErrNotFound)
		}
		return Pair{}, err
	}
	return p, nil
}

// PairCounts counts pairs per process (processes.list, support packages):
// from the counts kept with the pairs, or, until they are built at start,
// by the pairs' keys.
func (vs *Views) PairCounts() (map[string]int, error) {
	if vs.pairIndexReady() {
		return vs.countPairs()
	}
	counts := map[string]int{}
	err := vs.st.View(func(tx *store.Tx) error {
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
func (vs *Views) Backlog() (queued, parked map[string]int, err error) {
	queued, parked = map[string]int{}, map[string]int{}
	err = vs.st.View(func(tx *store.Tx) error {
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
func (vs *Views) Runs(proc string, limit int) ([]Run, error) {
	limit = pageLimit(limit, DefaultRunsLimit)
	var out []Run
	err := vs.st.View(func(tx *store.Tx) error {
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
func (vs *Views) GetRun(id string) (Run, error) {
	seq, err := runSeq(id)
	if err != nil {
		return Run{}, err
	}
	proc := id[:strings.LastIndexByte(id, '-')]
	var r Run
	if err := vs.st.Get(keyRun(proc, seq), &r); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Run{}, fmt.Errorf("run %s: %w", id, ErrNotFound)
		}
		return Run{}, err
	}
	return r, nil
}

// Errors lists parked entities of a process (all processes when empty).
func (vs *Views) Errors(proc string) ([]ParkedError, error) {
	prefix := "perr/"
	if proc != "" {
		prefix = prefixParked(proc)
	}
	var out []ParkedError
	err := vs.st.View(func(tx *store.Tx) error {
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

// view adds a pair's queue entries and says its state in words.
func (vs *Views) view(tx *store.Tx, p Pair) PairView {
	v := PairView{Pair: p}
	for _, s := range []Side{SideA, SideB} {
		var it QueueItem
		if tx.Get(keyQueue(p.Process, s, p.Ref(s).ID), &it) == nil {
			v.Pending = append(v.Pending, Pending{Side: s, Entity: it.Entity, Attempts: it.Attempts, Step: it.Step,
				NextAttempt: it.NotBefore, LastError: it.LastError, Enqueued: it.Enqueued})
		}
	}
	v.Status = statusOf(v)
	return v
}

// statusOf says a pair's state as an administrator reads it.
func statusOf(v PairView) string {
	switch v.State {
	case PairDeleted:
		return v.Error
	case PairError:
		return "Stopped on an error that needs attention: " + v.Error + " Fix the cause, then retry it."
	case PairHeld:
		return fmt.Sprintf("Held for review: both sides changed %s. Compare both values and choose which wins.", strings.Join(v.Held, ", "))
	}
	for _, pd := range v.Pending {
		if pd.Attempts > 0 {
			return fmt.Sprintf("Waiting for a retry of its %s (attempt %d, next at %s): %s", pd.Step, pd.Attempts+1, pd.NextAttempt.UTC().Format(time.RFC3339), pd.LastError)
		}
	}
	if len(v.Pending) > 0 {
		return "Changed: queued for the next run."
	}
	if v.WaitingLinks > 0 {
		return fmt.Sprintf("In sync; %d link(s) wait until their target is synced.", v.WaitingLinks)
	}
	return "In sync."
}

// PairDetail returns one pair with its pending work.
func (vs *Views) PairDetail(proc, id string) (PairView, error) {
	p, err := vs.GetPair(proc, id)
	if err != nil {
		return PairView{}, err
	}
	var v PairView
	err = vs.st.View(func(tx *store.Tx) error {
		v = vs.view(tx, p)
		return nil
	})
	return v, err
}

// Queue lists a process's queue (the first limit entries, oldest first).
func (vs *Views) Queue(proc string, limit int) (QueueView, error) {
	if _, err := vs.procs.Get(proc); err != nil {
		return QueueView{}, err
	}
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 500)
	v := QueueView{Items: []QueueEntry{}}
	var all []QueueEntry
	err := vs.st.View(func(tx *store.Tx) error {
		return tx.Scan(prefixQueue(proc), "", func(_ string, raw []byte) error {
			var it QueueItem
			if json.Unmarshal(raw, &it) != nil {
				return nil
			}
			v.Total++
			if it.Attempts > 0 {
				v.Retrying++
			}
			if v.Oldest.IsZero() || it.Enqueued.Before(v.Oldest) {
				v.Oldest = it.Enqueued
			}
			qe := QueueEntry{Pending: Pending{Side: it.Side, Entity: it.Entity, Attempts: it.Attempts, Step: it.Step,
				NextAttempt: it.NotBefore, LastError: it.LastError, Enqueued: it.Enqueued}}
			if p, _ := pairInTx(tx, proc, it.Side, it.Entity); p != nil {
				qe.Key, qe.Title, qe.Pair = p.Ref(it.Side).Key, p.Ref(it.Side).Title, p.ID
			}
			switch {
			case it.Attempts > 0:
				qe.Reason = fmt.Sprintf("its %s failed %d time(s); next attempt at %s: %s", it.Step, it.Attempts, it.NotBefore.UTC().Format(time.RFC3339), it.LastError)
			case qe.Pair == "":
				qe.Reason = "new: not synced yet"
			default:
				qe.Reason = "changed since the last sync"
			}
			all = append(all, qe)
			return nil
		})
	})
	sort.SliceStable(all, func(i, j int) bool { return all[i].Enqueued.Before(all[j].Enqueued) })
	v.Items = append(v.Items, all[:min(limit, len(all))]...)
	return v, err
}
