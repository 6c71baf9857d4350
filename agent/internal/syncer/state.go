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
//	running/<proc>                      the run in progress (interrupted if found at start)
//	mark/<proc>/<side>/<marker>         entity id: the markers the side's polls read
//	lwait/<proc>/<side>/<target>/<src>  a link of src waits for target's pair
//	excl/<proc>/<side>/<entity>         Exclusion: unpaired by an administrator
//	plist/<proc>/<rank>/<pair>          the pair list's index (pairindex.go)
//	plistall/<rank>/<proc>/<pair>       the same over every process

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
func keyRunning(proc string) string { return "running/" + proc }
func keyMark(proc string, s Side, marker string) string {
	return "mark/" + proc + "/" + string(s) + "/" + esc(marker)
}
func keyWait(proc string, s Side, target, src string) string {
	return prefixWait(proc, s, target) + esc(src)
}
func prefixWait(proc string, s Side, target string) string {
	return "lwait/" + proc + "/" + string(s) + "/" + esc(target) + "/"
}
func keyExcluded(proc string, s Side, e string) string {
	return "excl/" + proc + "/" + string(s) + "/" + esc(e)
}

// stateprefixes are every key prefix of a process's state (its deletion
// removes them all).
func statePrefixes(proc string) []string {
	var out []string
	for _, p := range []string{"hook", "pair", "plist", "pidx", "intent", "queue", "wm", "perr", "run", "running", "mark", "lwait", "excl"} {
		out = append(out, p+"/"+proc+"/")
	}
	return append(out, keyRunSeq(proc), keyRunning(proc))
}

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
	PairError  = "error" // parked: a permanent failure
	PairHeld   = "held"  // fields in conflict await an administrator
	// PairDeleted: one side's entity was deleted; the other is kept as the
	// deletion policy left it, and nothing is created again until an
	// administrator unpairs, recreates or applies a policy.
	PairDeleted = "deleted"
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
	Resolve     map[string]Side   `json:"resolve,omitempty"`
	Fields      map[string]Base   `json:"fields"`
	Comments    map[string]string `json:"comments,omitempty"`    // "a:<id>" <-> "b:<id>", both directions
	Attachments map[string]string `json:"attachments,omitempty"` // as Comments
	Links       map[string]bool   `json:"links,omitempty"`       // synced links: "<type>|<a target>|<b target>"
	// CommentSums holds, per original comment ("a:<id>"), the hash of the
	// body last copied, so an edit of the original reaches its copy.
	CommentSums map[string]string `json:"commentSums,omitempty"`
	// AttachmentOrigins names the originals among Attachments ("a:<id>"),
	// whose deletion deletes their copy.
	AttachmentOrigins map[string]bool `json:"attachmentOrigins,omitempty"`
	// Gone names the side whose entity was deleted (state deleted).
	Gone Side `json:"gone,omitempty"`
	// Divergences say what could not be mirrored (a system that cannot
	// edit or delete a comment, say): reported, never silent.
	Divergences []string `json:"divergences,omitempty"`
	// WaitingLinks counts links whose target has no pair yet; each is made
	// when its target gets one.
	WaitingLinks int       `json:"waitingLinks,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	LastSyncedAt time.Time `json:"lastSyncedAt"`
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

// QueueItem is one entity to work. It stays until all of the entity's work
// (fields, comments, attachments, links) is done, or it is parked.
type QueueItem struct {
	Side      Side      `json:"side"`
	Entity    string    `json:"entity"`
	Attempts  int       `json:"attempts"` // of the step that failed last
	NotBefore time.Time `json:"notBefore"`
	LastError string    `json:"lastError,omitempty"`
	Enqueued  time.Time `json:"enqueued"`
	// Gen grows whenever the entity is queued again while queued: the
	// worker that read an older one leaves the entry for the next run.
	Gen int64 `json:"gen,omitempty"`
	// Steps counts failed attempts per step (read, fields, comments,
	// attachments, links); a step that succeeds starts again at zero.
	Steps map[string]int `json:"steps,omitempty"`
	// Step is the step that failed last.
	Step string `json:"step,omitempty"`
}

// Exclusion keeps an entity out of sync: an administrator unpaired it.
type Exclusion struct {
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`
	Peer  string    `json:"peer,omitempty"` // the other side's entity it was paired with
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
	Step     string    `json:"step,omitempty"` // the step that failed
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
	Deleted   int `json:"deleted"`
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
	// Interrupted: the agent stopped (a crash, a kill) before the run
	// ended; recorded at the next start.
	Interrupted bool `json:"interrupted,omitempty"`
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
