// Package audit is the agent's append-only, hash-chained audit trail: logins,
// how each session ended and every configuration change. Each record carries the hash of the
// one before it, and a head pointer carries the last hash, so a modified,
// removed or truncated record is detected by Verify.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// Redacted is how a secret appears in a diff.
const Redacted = "[redacted]"

// Results.
const (
	Success = "success"
	Failure = "failure"
	Denied  = "denied"
)

// Entry is what a caller records.
type Entry struct {
	Actor  string // username, or "system" for the agent itself
	Action string // e.g. session.login, systems.create
	Target string // e.g. system:abc, account:admin
	Result string // Success, Failure, Denied, or a short reason
	Remote string // the client's address, for logins
	Diff   any    // a Diff or any JSON value with secrets already redacted
}

// Record is a stored entry.
type Record struct {
	Seq      uint64          `json:"seq"`
	Time     time.Time       `json:"time"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Target   string          `json:"target"`
	Result   string          `json:"result"`
	Remote   string          `json:"remote,omitempty"`
	Diff     json.RawMessage `json:"diff,omitempty"`
	PrevHash string          `json:"prevHash"`
	Hash     string          `json:"hash"`
}

const (
	prefix  = "audit/"
	headKey = "auditmeta/head"
)

type head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

func key(seq uint64) string { return fmt.Sprintf("%s%020d", prefix, seq) }

// Log appends and reads audit records.
type Log struct {
	st  *store.Store
	now func() time.Time
}

// New returns the log over st.
func New(st *store.Store, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{st: st, now: now}
}

// hashOf is SHA-256 over the record's JSON with Hash empty; the JSON of a
// struct has a fixed field order, so it is canonical for our own records.
func hashOf(r Record) string {
	r.Hash = ""
	b, _ := json.Marshal(r)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Append adds an entry and returns the stored record.
func (l *Log) Append(e Entry) (Record, error) {
	var rec Record
	err := l.st.Update(func(tx *store.Tx) error {
		var err error
		rec, err = l.AppendTx(tx, e)
		return err
	})
	if err != nil {
		return Record{}, fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return rec, nil
}

// AppendTx adds an entry inside the caller's transaction, so a configuration
// change and its audit record are committed together or not at all. Two
// transactions appending at once conflict on the head pointer and the store
// retries one of them, which keeps the chain linear.
func (l *Log) AppendTx(tx *store.Tx, e Entry) (Record, error) {
	var diff json.RawMessage
	if e.Diff != nil {
		b, err := json.Marshal(e.Diff)
		if err != nil {
			return Record{}, fmt.Errorf("audit %s: encode diff: %w", e.Action, err)
		}
		diff = b
	}
	var h head
	if err := tx.Get(headKey, &h); err != nil && !errors.Is(err, store.ErrNotFound) {
		return Record{}, err
	}
	rec := Record{
		Seq: h.Seq + 1, Time: l.now().UTC(), Actor: e.Actor, Action: e.Action, Target: e.Target,
		Result: e.Result, Remote: e.Remote, Diff: diff, PrevHash: h.Hash,
	}
	rec.Hash = hashOf(rec)
	if err := tx.Put(key(rec.Seq), rec); err != nil {
		return Record{}, err
	}
	if err := tx.Put(headKey, head{Seq: rec.Seq, Hash: rec.Hash}); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// Page sizes of List: a Limit of 0 is the default, one above the maximum
// is the maximum.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// Filter selects records for List.
type Filter struct {
	Since, Until *time.Time
	Actor        string
	Action       string
	// Before continues a listing: only records with a smaller seq.
	Before uint64
	Limit  int
}

// List returns matching records, newest first, and the cursor of the next
// page (0 when there is none).
func (l *Log) List(f Filter) ([]Record, uint64, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	var out []Record
	var next uint64
	err := l.st.View(func(tx *store.Tx) error {
		return tx.ScanReverse(prefix, func(k string, raw []byte) error {
			var r Record
			if err := json.Unmarshal(raw, &r); err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			if f.Before != 0 && r.Seq >= f.Before {
				return nil
			}
			if f.Since != nil && r.Time.Before(*f.Since) {
				return store.ErrStop // newest first: everything further is older
			}
			if (f.Until != nil && r.Time.After(*f.Until)) || (f.Actor != "" && r.Actor != f.Actor) || (f.Action != "" && r.Action != f.Action) {
				return nil
			}
			if len(out) == limit {
				next = out[len(out)-1].Seq
				return store.ErrStop
			}
			out = append(out, r)
			return nil
		})
	})
	return out, next, err
}

// Each calls fn for every record, oldest first (support packages).
func (l *Log) Each(fn func(Record) error) error {
	return l.st.View(func(tx *store.Tx) error {
		return tx.Scan(prefix, "", func(k string, raw []byte) error {
			var r Record
			if err := json.Unmarshal(raw, &r); err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			return fn(r)
		})
	})
}

// Verification is the outcome of Verify.
type Verification struct {
	OK       bool
	Records  int
	BrokenAt uint64 // the first seq that fails, when !OK
	Problem  string
}

// Verify walks the chain: sequence numbers contiguous from 1, each record's
// hash matching its content, each prevHash matching the record before, and
// the head pointer matching the last record (which catches a removed tail).
func (l *Log) Verify() (Verification, error) {
	var v Verification
	var prev Record
	fail := func(seq uint64, format string, args ...any) error {
		v.BrokenAt, v.Problem = seq, fmt.Sprintf(format, args...)
		return store.ErrStop
	}
	var h head
	err := l.st.View(func(tx *store.Tx) error {
		if err := tx.Get(headKey, &h); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return tx.Scan(prefix, "", func(k string, raw []byte) error {
			var r Record
			if err := json.Unmarshal(raw, &r); err != nil {
				seq, _ := strconv.ParseUint(k[len(prefix):], 10, 64)
				return fail(seq, "record %s is not valid JSON", k)
			}
			want := prev.Seq + 1
			switch {
			case k != key(r.Seq):
				return fail(want, "record stored at %s claims seq %d", k, r.Seq)
			case r.Seq != want:
				return fail(want, "record %d is missing", want)
			case r.PrevHash != prev.Hash:
				return fail(r.Seq, "record %d does not follow record %d (chain broken)", r.Seq, prev.Seq)
			case hashOf(r) != r.Hash:
				return fail(r.Seq, "record %d was modified", r.Seq)
			}
			prev = r
			v.Records++
			return nil
		})
	})
	if err != nil {
		return v, fmt.Errorf("verify audit: %w", err)
	}
	if v.Problem == "" && (h.Seq != prev.Seq || h.Hash != prev.Hash) {
		v.BrokenAt, v.Problem = prev.Seq+1, fmt.Sprintf("records after %d were removed (head says %d)", prev.Seq, h.Seq)
	}
	v.OK = v.Problem == ""
	return v, nil
}
