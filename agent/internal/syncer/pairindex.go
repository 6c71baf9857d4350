package syncer

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// The pair list's index: pairs.list pages through it in its order (last
// synced first, then process and id) instead of reading and sorting every
// pair of a process on each page, and a search looks its words up instead
// of reading every pair. All of it is written with the pair, in the same
// transaction (putPairRecordTx, deletePairRecordTx).
//
//	plist/<proc>/<rank>/<pair>      search text: the list of a process
//	plistall/<rank>/<proc>/<pair>   search text: the list of all processes
//	ptext/<proc>/<pair>             rank/search text, for a search's matches
//	pword/<word>/<proc>/<pair>      one per search word of the pair
//	pcount/<proc>/<shard>           how many pairs the process has, in shards
//	plist-built                     the index's version: all of it holds
//	                                every pair (buildPairIndex)
//
// The search words change only when a key or title does; the rank at
// every sync, and with it three entries.

const keyPairIndexBuilt = "plist-built"

// pairIndexVersion is the index's layout: 1 was the lists alone, 2 added
// the search words and the counts.
const pairIndexVersion = "2"

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

func keyPairText(proc, id string) string { return "ptext/" + proc + "/" + id }

func prefixPairWord(word string) string { return "pword/" + esc(word) }

func keyPairWord(word, proc, id string) string { return prefixPairWord(word) + "/" + proc + "/" + id }

// pairCountShards spreads a process's count over keys, so that workers
// registering pairs at the same moment rarely write the same one (Badger
// makes one of two transactions that did retry).
const pairCountShards = 32

func prefixPairCounts(proc string) string { return "pcount/" + proc + "/" }

func keyPairCount(proc, id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("%s%02d", prefixPairCounts(proc), h.Sum32()%pairCountShards)
}

// searchText is what a pairs.list query is looked for in.
func searchText(p *Pair) string {
	return strings.ToLower(p.A.Key + " " + p.A.Title + " " + p.B.Key + " " + p.B.Title)
}

// maxWordBytes bounds an indexed word (and a query's word, the same way).
const maxWordBytes = 40

// cutWord shortens w to at most maxWordBytes, at a character's start.
func cutWord(w string) string {
	if len(w) <= maxWordBytes {
		return w
	}
	n := maxWordBytes
	for n > 0 && !utf8.RuneStart(w[n]) {
		n--
	}
	return w[:n]
}

// searchWords are the words a query is matched against: the text's words
// (split at spaces) and each one's parts between characters other than
// letters and digits, so that a key HELP-12 is found by help-1, help and
// 12.
func searchWords(text string) []string {
	var out []string
	add := func(w string) {
		if w = cutWord(w); w != "" && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	for _, w := range strings.Fields(text) {
		add(w)
		for _, part := range strings.FieldsFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			add(part)
		}
	}
	return out
}

// queryWords are a query's words, lower case, as searchWords cuts them.
func queryWords(query string) []string {
	var out []string
	for _, w := range strings.Fields(strings.ToLower(query)) {
		out = append(out, cutWord(w))
	}
	return out
}

// textMatches is searchMatches for a pair's search text. A word that
// begins one of the text's words is in the text: a text missing one of the
// query's words is passed over without being cut into words (most of
// those a search reads through).
func textMatches(text string, query []string) bool {
	for _, q := range query {
		if !strings.Contains(text, q) {
			return false
		}
	}
	return searchMatches(searchWords(text), query)
}

// searchMatches reports whether every word of a query begins one of the
// text's words: what pairs.list's query means.
func searchMatches(words, query []string) bool {
	for _, q := range query {
		if !slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, q) }) {
			return false
		}
	}
	return true
}

// listed is what the index needs of a stored pair.
type listed struct {
	ID           string    `json:"id"`
	Process      string    `json:"process"`
	LastSyncedAt time.Time `json:"lastSyncedAt"`
	A            EntityRef `json:"a"`
	B            EntityRef `json:"b"`
}

// putPairRecordTx writes a pair's record and its index entries, replacing
// those of its previous last-synced time and search text.
func putPairRecordTx(tx *store.Tx, p *Pair) error {
	_, err := writePairRecordTx(tx, p, true)
	return err
}

// resavePairRecordTx is putPairRecordTx for a pair the store holds: one
// removed meanwhile is left removed, and it reports false. The record's
// one read tells both.
func resavePairRecordTx(tx *store.Tx, p *Pair) (bool, error) {
	return writePairRecordTx(tx, p, false)
}

// writePairRecordTx writes p's record and index entries; a pair the store
// does not hold is written only when create is set (saved reports whether
// it was written).
func writePairRecordTx(tx *store.Tx, p *Pair, create bool) (saved bool, err error) {
	k := keyPair(p.Process, p.ID)
	text := searchText(p)
	var old listed
	// fresh: its words are written (a new pair, or its text changed);
	// moved: its list entries are (fresh, or its last-synced time changed).
	// An item saves its pair with each of its commits, mostly unchanged
	// but for what the list does not hold.
	fresh, moved := false, false
	if err := tx.Get(k, &old); errors.Is(err, store.ErrNotFound) {
		if !create {
			return false, nil
		}
		fresh, moved = true, true
	} else if err != nil {
		return false, err
	} else {
		oldText := searchText(&Pair{A: old.A, B: old.B})
		if !old.LastSyncedAt.Equal(p.LastSyncedAt) {
			if err := unlistTx(tx, p.Process, p.ID, old.LastSyncedAt); err != nil {
				return false, err
			}
			moved = true
		}
		if oldText != text {
			if err := unwordTx(tx, p.Process, p.ID, oldText); err != nil {
				return false, err
			}
			fresh, moved = true, true
		}
	}
	if err := tx.Put(k, p); err != nil {
		return false, err
	}
	if moved {
		if err := listTx(tx, p, text); err != nil {
			return false, err
		}
	}
	if !fresh {
		return true, nil
	}
	for _, w := range searchWords(text) {
		if err := tx.SetRaw(keyPairWord(w, p.Process, p.ID), nil); err != nil {
			return false, err
		}
	}
	if old.ID == "" { // a new pair
		return true, countPairTx(tx, p.Process, p.ID, +1)
	}
	return true, nil
}

// listTx writes a pair's entries in both lists and its text.
func listTx(tx *store.Tx, p *Pair, text string) error {
	if err := tx.SetRaw(keyPairList(p.Process, p.LastSyncedAt, p.ID), []byte(text)); err != nil {
		return err
	}
	if err := tx.SetRaw(keyPairListAll(p.Process, p.LastSyncedAt, p.ID), []byte(text)); err != nil {
		return err
	}
	return tx.SetRaw(keyPairText(p.Process, p.ID), []byte(rank(p.LastSyncedAt)+"/"+text))
}

// unlistTx removes a pair's list entries for last-synced time t.
func unlistTx(tx *store.Tx, proc, id string, t time.Time) error {
	if err := tx.Delete(keyPairList(proc, t, id)); err != nil {
		return err
	}
	return tx.Delete(keyPairListAll(proc, t, id))
}

// unwordTx removes a pair's search words of text.
func unwordTx(tx *store.Tx, proc, id, text string) error {
	for _, w := range searchWords(text) {
		if err := tx.Delete(keyPairWord(w, proc, id)); err != nil {
			return err
		}
	}
	return nil
}

// countPairTx adds delta to a process's count of pairs.
func countPairTx(tx *store.Tx, proc, id string, delta int) error {
	k := keyPairCount(proc, id)
	n := 0
	if raw, err := tx.GetRaw(k); err == nil {
		n, _ = strconv.Atoi(string(raw))
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return tx.SetRaw(k, []byte(strconv.Itoa(n+delta)))
}

// deletePairRecordTx removes a pair's record and its index entries (as
// stored: the caller's copy may carry a newer time).
func deletePairRecordTx(tx *store.Tx, proc, id string) error {
	k := keyPair(proc, id)
	var old listed
	if err := tx.Get(k, &old); errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if err := unlistTx(tx, proc, id, old.LastSyncedAt); err != nil {
		return err
	}
	if err := unwordTx(tx, proc, id, searchText(&Pair{A: old.A, B: old.B})); err != nil {
		return err
	}
	if err := tx.Delete(keyPairText(proc, id)); err != nil {
		return err
	}
	if err := countPairTx(tx, proc, id, -1); err != nil {
		return err
	}
	return tx.Delete(k)
}

// dropPairList removes a deleted process's entries from the list of all
// processes and its search words (its own list, texts and counts go with
// its other state, statePrefixes).
func (e *Engine) dropPairList(proc string) error {
	var keys []string
	err := e.d.Store.View(func(tx *store.Tx) error {
		if err := tx.Keys(prefixPairList(proc), func(k string) error {
			rk, id, ok := strings.Cut(strings.TrimPrefix(k, prefixPairList(proc)), "/")
			if ok {
				keys = append(keys, prefixPairListAll+rk+"/"+proc+"/"+id)
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.Scan("ptext/"+proc+"/", "", func(k string, v []byte) error {
			id := strings.TrimPrefix(k, "ptext/"+proc+"/")
			_, text, _ := strings.Cut(string(v), "/")
			for _, w := range searchWords(text) {
				keys = append(keys, keyPairWord(w, proc, id))
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

// pairIndexReady reports whether the index holds every pair, in its
// current layout.
func (vs *Views) pairIndexReady() bool {
	v, err := vs.getRaw(keyPairIndexBuilt)
	return err == nil && string(v) == pairIndexVersion
}

// buildPairIndex indexes every pair stored before the index had its
// current layout (a store of an earlier release, or restored from its
// backup), in batches, then counts them; until it is done, pairs.list
// reads the pairs themselves. It runs at start, before any run.
func (e *Engine) buildPairIndex() error {
	if e.views.pairIndexReady() {
		return nil
	}
	// The entries of an earlier layout (or of a build cut short) are
	// replaced, not added to.
	if _, err := e.deletePrefixes("plist/", prefixPairListAll, "ptext/", "pword/", "pcount/"); err != nil {
		return fmt.Errorf("index the pairs: %w", err)
	}
	counts := map[string]int{}
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
					text := searchText(&p)
					if err := listTx(tx, &p, text); err != nil {
						return err
					}
					for _, w := range searchWords(text) {
						if err := tx.SetRaw(keyPairWord(w, p.Process, p.ID), nil); err != nil {
							return err
						}
					}
				}
				after = k
				if n++; n == 200 {
					return store.ErrStop
				}
				return nil
			})
		})
		if err != nil {
			return fmt.Errorf("index the pairs: %w", err)
		}
		if n < 200 {
			break
		}
	}
	err := e.d.Store.Update(func(tx *store.Tx) error {
		clear(counts)
		if err := tx.Keys("pair/", func(k string) error {
			if parts := strings.SplitN(k, "/", 3); len(parts) == 3 {
				counts[parts[1]]++
			}
			return nil
		}); err != nil {
			return err
		}
		for proc, n := range counts {
			if err := tx.SetRaw(prefixPairCounts(proc)+"00", []byte(strconv.Itoa(n))); err != nil {
				return err
			}
		}
		return tx.SetRaw(keyPairIndexBuilt, []byte(pairIndexVersion))
	})
	if err != nil {
		return fmt.Errorf("count the pairs: %w", err)
	}
	return nil
}

// countPairs sums each process's count shards.
func (vs *Views) countPairs() (map[string]int, error) {
	counts := map[string]int{}
	err := vs.st.View(func(tx *store.Tx) error {
		return tx.Scan("pcount/", "", func(k string, v []byte) error {
			parts := strings.Split(k, "/")
			n, err := strconv.Atoi(string(v))
			if len(parts) == 3 && err == nil {
				counts[parts[1]] += n
			}
			return nil
		})
	})
	return counts, err
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

// A search looks its rarest word up when that word begins the words of at
// most searchCandidates pairs (found among at most searchScan entries):
// those pairs are read and ordered. A query whose every word is common
// matches many pairs, and the ordered list, read from its start, fills a
// page soon.
var (
	searchCandidates = 5000
	searchScan       = 50000
	// searchChunk is how many entries of a word are scanned before the
	// next word's turn.
	searchChunk = 1000
)

// pairPage is one page of the pair list from its index: the pairs after
// cursor (a pairCursor, "" for the first page) that match query, at most
// limit, and whether more follow.
func (vs *Views) pairPage(proc, query, cursor string, limit int) ([]Pair, bool, error) {
	var at *Pair
	if cursor != "" {
		p, ok := parsePairCursor(cursor)
		if !ok {
			return nil, false, &ValidationError{Errors: []FieldError{{Field: "cursor", Message: "is not a cursor this list returned"}}}
		}
		at = &p
	}
	q := queryWords(query)
	var page []Pair
	more := false
	err := vs.st.View(func(tx *store.Tx) error {
		found, ok, err := searchByWord(tx, proc, q)
		if err != nil {
			return err
		}
		if ok {
			page, more, err = pageOf(tx, found, at, limit)
			return err
		}
		page, more, err = scanList(tx, proc, q, at, limit)
		return err
	})
	return page, more, err
}

// match is a pair a search found, with what orders it.
type match struct {
	rank, proc, id string
}

// searchByWord finds the pairs matching q through its rarest word, or
// says (false) that every word of q is too common for that.
//
// The words are scanned side by side, a chunk of entries each in turn, and
// the first whose entries end gives the candidates: a common word costs
// what the rare one does, not searchScan entries (in one process, a word's
// entries of every other process are scanned past, and a common word
// rarely has searchCandidates of them in the process searched).
func searchByWord(tx *store.Tx, proc string, q []string) ([]match, bool, error) {
	type scan struct {
		cands []match
		seen  map[string]bool
		next  string // where the next chunk starts; "" before the first
		n     int    // entries scanned
		over  bool
	}
	scans := make([]*scan, len(q))
	for i := range scans {
		scans[i] = &scan{seen: map[string]bool{}}
	}
	var best []match
	bestOK := false
	for live := len(q); live > 0 && !bestOK; {
		live = 0
		for i, w := range q {
			s := scans[i]
			if s.over {
				continue
			}
			chunk, ended := 0, true
			err := tx.Scan(prefixPairWord(w), s.next, func(k string, _ []byte) error {
				if chunk == searchChunk {
					s.next, ended = k, false
					return store.ErrStop
				}
				chunk++
				if s.n++; s.n > searchScan {
					s.over = true
					return store.ErrStop
				}
				parts := strings.Split(strings.TrimPrefix(k, "pword/"), "/")
				if len(parts) != 3 || (proc != "" && parts[1] != proc) || s.seen[parts[1]+"/"+parts[2]] {
					return nil
				}
				s.seen[parts[1]+"/"+parts[2]] = true
				if s.cands = append(s.cands, match{proc: parts[1], id: parts[2]}); len(s.cands) > searchCandidates {
					s.over = true
					return store.ErrStop
				}
				return nil
			})
			if err != nil {
				return nil, false, err
			}
			switch {
			case s.over:
			case ended: // every entry of the word read: its candidates are all
				if !bestOK || len(s.cands) < len(best) {
					best, bestOK = s.cands, true
				}
			default:
				live++
			}
		}
	}
	if !bestOK {
		return nil, false, nil
	}
	found := best[:0]
	for _, m := range best {
		raw, err := tx.GetRaw(keyPairText(m.proc, m.id))
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, false, err
		}
		rk, text, _ := strings.Cut(string(raw), "/")
		if textMatches(text, q) {
			m.rank = rk
			found = append(found, m)
		}
	}
	return found, true, nil
}

// pageOf orders a search's matches as the list does and reads the page
// after at.
func pageOf(tx *store.Tx, found []match, at *Pair, limit int) ([]Pair, bool, error) {
	slices.SortFunc(found, func(a, b match) int {
		return cmp.Or(strings.Compare(a.rank, b.rank), strings.Compare(a.proc, b.proc), strings.Compare(a.id, b.id))
	})
	if at != nil {
		after := match{rank: rank(at.LastSyncedAt), proc: at.Process, id: at.ID}
		i, _ := slices.BinarySearchFunc(found, after, func(a, b match) int {
			return cmp.Or(strings.Compare(a.rank, b.rank), strings.Compare(a.proc, b.proc), strings.Compare(a.id, b.id))
		})
		for i < len(found) && found[i] == after {
			i++
		}
		found = found[i:]
	}
	var page []Pair
	for _, m := range found {
		if len(page) == limit {
			return page, true, nil
		}
		var p Pair
		if err := tx.Get(keyPair(m.proc, m.id), &p); errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, false, err
		}
		page = append(page, p)
	}
	return page, false, nil
}

// scanList reads the list in its order from after at, keeping the pairs
// that match q.
func scanList(tx *store.Tx, proc string, q []string, at *Pair, limit int) ([]Pair, bool, error) {
	prefix, start := prefixPairListAll, ""
	if proc != "" {
		prefix = prefixPairList(proc)
	}
	if at != nil {
		if proc != "" {
			start = keyPairList(proc, at.LastSyncedAt, at.ID) + "\x00"
		} else {
			start = keyPairListAll(at.Process, at.LastSyncedAt, at.ID) + "\x00"
		}
	}
	var page []Pair
	more := false
	err := tx.Scan(prefix, start, func(k string, text []byte) error {
		if len(q) > 0 && !textMatches(string(text), q) {
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
	return page, more, err
}
