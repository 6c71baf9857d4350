package syncer

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/lockstep-sync/lockstep/shared/apitype"
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
//	lwait/<proc>/<side>/<target>/       empty: written with each wait, read by
//	                                    the target's registration (a conflict)
//	excl/<proc>/<side>/<entity>         Exclusion: unpaired by an administrator
//	plist/<proc>/<rank>/<pair>          the pair list's index (pairindex.go)
//	plistall/<rank>/<proc>/<pair>       the same over every process
//	ptext/<proc>/<pair>                 its search text
//	pword/<word>/<proc>/<pair>          its search words
//	pcount/<proc>/<shard>               its counts

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

// statePrefixes are every key prefix of a process's state (its deletion
// removes them all).
func statePrefixes(proc string) []string {
	var out []string
	for _, p := range []string{"hook", "pair", "plist", "ptext", "pcount", "pidx", "intent", "queue", "wm", "perr", "run", "running", "mark", "lwait", "excl"} {
		out = append(out, p+"/"+proc+"/")
	}
	return append(out, keyRunSeq(proc), keyRunning(proc))
}

// The pair registry's records and a run's record (shared/apitype).
type (
	// EntityRef is what the pair registry knows of one entity.
	EntityRef = apitype.EntityRef
	// Base is the last-synced state of one field pair.
	Base = apitype.Base
	// Pair links one entity in A to one in B.
	Pair = apitype.Pair
	// Parked is a permanent failure the administrator sees and can retry.
	Parked = apitype.Parked
	// Counts of a run.
	Counts = apitype.Counts
	// ConflictRecord names a conflict and how it was resolved.
	ConflictRecord = apitype.ConflictRecord
	// RunError is one failure in a run.
	RunError = apitype.RunError
	// Run records one cycle.
	Run = apitype.Run
)

// Pair states.
const (
	PairSynced  = apitype.PairSynced
	PairError   = apitype.PairError
	PairHeld    = apitype.PairHeld
	PairDeleted = apitype.PairDeleted
)

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
	// FailedOn is the side whose system answered the last failure (""
	// when no system did, or in an entry written before it was kept): a
	// passing connection test of that system ends its backoff
	// (RetrySystem).
	FailedOn Side `json:"failedOn,omitempty"`
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
	// Partial: the last poll stopped after a round, before the side's
	// last change (reach.go).
	Partial bool `json:"partial,omitempty"`
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
