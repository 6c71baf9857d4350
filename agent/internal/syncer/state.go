package syncer

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"
)

// The engine's state in the store. About entities it keeps only ids, keys,
// titles, types, versions and hashes (the privacy statement's promise);
// queue items are references, and the source is re-read when worked.
//
//	proc/<proc>                         Process
//	pair/<proc>/<pair>                  Pair
//	pidx/<proc>/<side>/<entity>         pair id (one entry per system entity)
//	intent/<proc>/<side>/<entity>       Intent: a create in flight
//	queue/<proc>/<side>/<entity>        QueueItem
//	wm/<proc>/<side>                    Watermark
//	perr/<proc>/<side>/<entity>         Parked: a permanent failure
//	run/<proc>/<seq>                    Run
//	runseq/<proc>                       last run seq

func esc(id string) string { return url.PathEscape(id) }

func keyPair(proc, pair string) string { return "pair/" + proc + "/" + pair }
func prefixPairs(proc string) string   { return "pair/" + proc + "/" }
func keyIndex(proc string, s Side, e string) string {
	return "pidx/" + proc + "/" + string(s) + "/" + esc(e)
}
func keyIntent(proc string, s Side, e string) string {
	return "intent/" + proc + "/" + string(s) + "/" + esc(e)
}
func prefixIntents(proc string) string { return "intent/" + proc + "/" }
func keyQueue(proc string, s Side, e string) string {
	return "queue/" + proc + "/" + string(s) + "/" + esc(e)
}
func prefixQueue(proc string) string          { return "queue/" + proc + "/" }
func keyWatermark(proc string, s Side) string { return "wm/" + proc + "/" + string(s) }
func keyParked(proc string, s Side, e string) string {
	return "perr/" + proc + "/" + string(s) + "/" + esc(e)
}
func prefixParked(proc string) string { return "perr/" + proc + "/" }
func keyRun(proc string, seq uint64) string {
	return fmt.Sprintf("run/%s/%020d", proc, seq)
}
func prefixRuns(proc string) string { return "run/" + proc + "/" }
func keyRunSeq(proc string) string  { return "runseq/" + proc }

// EntityRef is what the pair registry knows of one entity.
type EntityRef struct {
	ID      string `json:"id"`
	Key     string `json:"key,omitempty"`
	Title   string `json:"title,omitempty"`
	Type    string `json:"type,omitempty"`
	URL     string `json:"url,omitempty"`
	Version string `json:"version,omitempty"`
	// Extras is the version at which the entity's comments, attachments
	// and links were last all read and copied: while the entity's version
	// is still that, there is nothing new to list. Empty when unknown
	// (never listed, or Lockstep wrote to them since).
	Extras string `json:"extras,omitempty"`
}

// Base is the last-synced state of one field pair: the hash of each side's
// value as Lockstep last read or wrote it. A side whose current hash differs
// from its base changed since; a write that lands is recorded here, so the
// next read of it is not mistaken for a change (no echo).
type Base struct {
	A string `json:"a"`
	B string `json:"b"`
}

// Pair states.
const (
	PairSynced = "synced"
	PairError  = "error"
	PairHeld   = "held"
)

// Pair links one entity in A to one in B.
type Pair struct {
	ID      string    `json:"id"`
	Process string    `json:"process"`
	A       EntityRef `json:"a"`
	B       EntityRef `json:"b"`
	State   string    `json:"state"`
	Error   string    `json:"error,omitempty"`
	Held    []string  `json:"held,omitempty"` // fields in conflict awaiting review
	// Resolve holds an administrator\'s decision on held fields: the named
	// side\'s value flows on the next run.
	Resolve      map[string]Side   `json:"resolve,omitempty"`
	Fields       map[string]Base   `json:"fields"`
	Comments     map[string]string `json:"comments,omitempty"`    // "a:<id>" <-> "b:<id>", both directions
	Attachments  map[string]string `json:"attachments,omitempty"` // as Comments
	Links        map[string]bool   `json:"links,omitempty"`       // synced links: "<type>|<a target>|<b target>"
	CreatedAt    time.Time         `json:"createdAt"`
	LastSyncedAt time.Time         `json:"lastSyncedAt"`
}

// Ref returns the side's entity.
func (p *Pair) Ref(s Side) *EntityRef {
	if s == SideA {
		return &p.A
	}
	return &p.B
}

// Intent records a create before it is sent, so that after a crash the
// engine searches the target for the marker before creating again.
type Intent struct {
	Target    Side      `json:"target"`
	SourceKey string    `json:"sourceKey"`
	At        time.Time `json:"at"`
}

// QueueItem is one entity to work; it stays until worked or parked.
type QueueItem struct {
	Side      Side      `json:"side"`
	Entity    string    `json:"entity"`
	Attempts  int       `json:"attempts"`
	NotBefore time.Time `json:"notBefore"`
	LastError string    `json:"lastError,omitempty"`
	Enqueued  time.Time `json:"enqueued"`
}

// Watermark is where the next poll of a side starts.
type Watermark struct {
	Since time.Time `json:"since"`
}

// Parked is a permanent failure the administrator sees and can retry.
type Parked struct {
	Side     Side      `json:"side"`
	Entity   string    `json:"entity"`
	Key      string    `json:"key,omitempty"`
	Title    string    `json:"title,omitempty"`
	Pair     string    `json:"pair,omitempty"`
	Error    string    `json:"error"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// Counts of a run.
type Counts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Commented int `json:"commented"`
	Attached  int `json:"attached"`
	Linked    int `json:"linked"`
	Skipped   int `json:"skipped"`
	Failed    int `json:"failed"`
	Conflicts int `json:"conflicts"`
}

// ConflictRecord names a conflict and how it was resolved: never silent.
type ConflictRecord struct {
	Pair     string `json:"pair"`
	Field    string `json:"field"`
	AVersion string `json:"aVersion"`
	BVersion string `json:"bVersion"`
	Winner   string `json:"winner"` // a, b, or held
}

// RunError is one failure in a run.
type RunError struct {
	Side    Side   `json:"side"`
	Entity  string `json:"entity"`
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
	Parked  bool   `json:"parked"`
	// Cause classifies a whole run's failure (health.go); Side then names the side at fault.
	Cause string `json:"cause,omitempty"`
}

// Run records one cycle.
type Run struct {
	ID        string           `json:"id"`
	Process   string           `json:"process"`
	Trigger   string           `json:"trigger"` // schedule, manual, webhook, entity, bulk
	StartedAt time.Time        `json:"startedAt"`
	EndedAt   time.Time        `json:"endedAt"`
	Counts    Counts           `json:"counts"`
	Conflicts []ConflictRecord `json:"conflicts,omitempty"`
	Errors    []RunError       `json:"errors,omitempty"`
	Requests  int              `json:"requests,omitempty"`
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
