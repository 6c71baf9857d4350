package syncer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// The pair list's index: pairs.list pages through it in its order (last
// synced first, then process and id) instead of reading and sorting every
// pair of a process on each page. Each pair has two entries, one in its
// process's list and one in the list of all processes, whose value is the
// text a search looks in (keys and titles of both sides, lower case), so a
// search reads the index, not the pairs. They are written with the pair, in
// the same transaction (putPairRecordTx, deletePairTx).
//
//	plist/<proc>/<rank>/<pair>      search text
//	plistall/<rank>/<proc>/<pair>   search text
//	plist-built                     the index holds every pair (buildPairIndex)

const keyPairIndexBuilt = "plist-built"

// rank orders times newest first as text: the nanoseconds left until the
// largest time, zero-padded.
func rank(t time.Time) string {
	n := int64(0)
	if t.Unix() > 0 && t.Year() < 2200 {
		n = t.UnixNano()
	}
	return fmt.Sprintf("%019d", math.MaxInt64-n)
}

func prefixPairList(proc string) string { return "plist/" + proc + "/" }

const prefixPairListAll = "plistall/"

func keyPairList(proc string, t time.Time, id string) string {
	return prefixPairList(proc) + rank(t) + "/" + id
}

func keyPairListAll(proc string, t time.Time, id string) string {
	return prefixPairListAll + rank(t) + "/" + proc + "/" + id
}

// searchText is what a pairs.list query is looked for in.
func searchText(p *Pair) string {
	return strings.ToLower(p.A.Key + " " + p.A.Title + " " + p.B.Key + " " + p.B.Title)
}

// listed is what the index needs of a stored pair.
type listed struct {
	ID           string    `json:"id"`
	Process      string    `json:"process"`
	LastSyncedAt time.Time `json:"lastSyncedAt"`
}

// putPairRecordTx writes a pair's record and its list entries, replacing
// the entries of its previous last-synced time.
func putPairRecordTx(tx *store.Tx, p *Pair) error {
	k := keyPair(p.Process, p.ID)
	var old listed
	if err := tx.Get(k, &old); err == nil {
		if !old.LastSyncedAt.Equal(p.LastSyncedAt) {
			if err := unlistTx(tx, p.Process, p.ID, old.LastSyncedAt); err != nil {
				return err
			}
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := tx.Put(k, p); err != nil {
		return err
	}
	text := []byte(searchText(p))
	if err := tx.SetRaw(keyPairList(p.Process, p.LastSyncedAt, p.ID), text); err != nil {
		return err
	}
	return tx.SetRaw(keyPairListAll(p.Process, p.LastSyncedAt, p.ID), text)
}

// unlistTx removes a pair's list entries for last-synced time t.
func unlistTx(tx *store.Tx, proc, id string, t time.Time) error {
	if err := tx.Delete(keyPairList(proc, t, id)); err != nil {
		return err
	}
	return tx.Delete(keyPairListAll(proc, t, id))
}

// deletePairRecordTx removes a pair's record and its list entries (as
// stored: the caller's copy may carry a newer time).
func deletePairRecordTx(tx *store.Tx, proc, id string) error {
	k := keyPair(proc, id)
	var old listed
	if err := tx.Get(k, &old); err == nil {
		if err := unlistTx(tx, proc, id, old.LastSyncedAt); err != nil {
			return err
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return tx.Delete(k)
}

// dropPairList removes a deleted process's entries from the list of all
// processes (its own list goes with its other state).
func (e *Engine) dropPairList(proc string) error {
	var keys []string
	err := e.d.Store.View(func(tx *store.Tx) error {
		return tx.Keys(prefixPairList(proc), func(k string) error {
			rk, id, ok := strings.Cut(strings.TrimPrefix(k, prefixPairList(proc)), "/")
			if ok {
				keys = append(keys, prefixPairListAll+rk+"/"+proc+"/"+id)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for start := 0; start < len(keys); start += 500 {
		if err := e.deleteKeys(keys[start:min(start+500, len(keys))]); err != nil {
			return err
		}
	}
	return nil
}

// buildPairIndex lists every pair stored before the index existed (a store
// of an earlier release, or restored from its backup), in batches; until
// it is done, pairs.list reads the pairs themselves.
func (e *Engine) buildPairIndex() error {
	if _, err := e.views.getRaw(keyPairIndexBuilt); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	after := ""
	for {
		n := 0
		err := e.d.Store.Update(func(tx *store.Tx) error {
			n = 0
			start := ""
			if after != "" {
				start = after + "\x00"
			}
			return tx.Scan("pair/", start, func(k string, raw []byte) error {
				var p Pair
				if json.Unmarshal(raw, &p) == nil && p.ID != "" && p.Process != "" {
					text := []byte(searchText(&p))
					if err := tx.SetRaw(keyPairList(p.Process, p.LastSyncedAt, p.ID), text); err != nil {
						return err
					}
					if err := tx.SetRaw(keyPairListAll(p.Process, p.LastSyncedAt, p.ID), text); err != nil {
						return err
					}
				}
				after = k
				if n++; n == 1000 {
					return store.ErrStop
				}
				return nil
			})
		})
		if err != nil {
			return fmt.Errorf("index the pairs: %w", err)
		}
		if n < 1000 {
			break
		}
	}
	return e.d.Store.Update(func(tx *store.Tx) error { return tx.SetRaw(keyPairIndexBuilt, []byte(strconv.Itoa(1))) })
}

func (vs *Views) getRaw(key string) ([]byte, error) {
	var v []byte
	err := vs.st.View(func(tx *store.Tx) error {
		var err error
		v, err = tx.GetRaw(key)
		return err
	})
	return v, err
}

// pairPage is one page of the pair list from its index: the pairs after
// cursor (a pairCursor, "" for the first page) whose search text holds q,
// at most limit, and whether more follow.
func (vs *Views) pairPage(proc, q, cursor string, limit int) ([]Pair, bool, error) {
	prefix, start := prefixPairListAll, ""
	if proc != "" {
		prefix = prefixPairList(proc)
	}
	if cursor != "" {
		at, ok := parsePairCursor(cursor)
		if !ok {
			return nil, false, &ValidationError{Errors: []FieldError{{Field: "cursor", Message: "is not a cursor this list returned"}}}
		}
		if proc != "" {
			start = keyPairList(proc, at.LastSyncedAt, at.ID) + "\x00"
		} else {
			start = keyPairListAll(at.Process, at.LastSyncedAt, at.ID) + "\x00"
		}
	}
	var page []Pair
	more := false
	err := vs.st.View(func(tx *store.Tx) error {
		return tx.Scan(prefix, start, func(k string, text []byte) error {
			if q != "" && !strings.Contains(string(text), q) {
				return nil
			}
			if len(page) == limit {
				more = true
				return store.ErrStop
			}
			parts := strings.Split(strings.TrimPrefix(k, prefix), "/")
			pp, id := proc, parts[len(parts)-1]
			if proc == "" && len(parts) == 3 {
				pp = parts[1]
			}
			var p Pair
			if err := tx.Get(keyPair(pp, id), &p); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return nil // deleted meanwhile
				}
				return err
			}
			page = append(page, p)
			return nil
		})
	})
	return page, more, err
}
