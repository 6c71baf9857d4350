package apitype

import "time"

// The sync engine's read models (pairs, parked errors, the queue, adoption):
// what the engine stores of an entity pair and how the API shows it. About
// entities the agent keeps only ids, keys, titles, types, versions and
// hashes (the privacy statement's promise).

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

// PairState is where a pair stands.
type PairState string

// Pair states.
const (
	PairSynced PairState = "synced"
	PairError  PairState = "error" // parked: a permanent failure
	PairHeld   PairState = "held"  // fields in conflict await an administrator
	// PairDeleted: one side's entity was deleted; the other is kept as the
	// deletion policy left it, and nothing is created again until an
	// administrator unpairs, recreates or applies a policy.
	PairDeleted PairState = "deleted"
)

// Pair links one entity in A to one in B.
type Pair struct {
	ID      string    `json:"id"`
	Process string    `json:"process"`
	A       EntityRef `json:"a"`
	B       EntityRef `json:"b"`
	State   PairState `json:"state"`
	Error   string    `json:"error,omitempty"`
	Held    []string  `json:"held,omitempty"` // fields in conflict awaiting review
	// Resolve holds an administrator's decision on held fields: the named
	// side's value flows on the next run.
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

// Pending is an entity of a pair waiting in the queue.
type Pending struct {
	Side        Side      `json:"side"`
	Entity      string    `json:"entity"`
	Attempts    int       `json:"attempts"`
	Step        string    `json:"step,omitempty"`
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
	LastError   string    `json:"lastError,omitempty"`
	Enqueued    time.Time `json:"enqueued"`
}

// PairView is a pair with its pending work and its state in words
// (pairs.list, pairs.get).
type PairView struct {
	Pair
	Pending []Pending `json:"pending,omitempty"`
	Status  string    `json:"status"`
}

// FieldValues are both sides' current values of one field pair, read live
// (pairs.values).
type FieldValues struct {
	Field string `json:"field"` // "<a field>|<b field>"
	A     any    `json:"a"`
	B     any    `json:"b"`
	// InB is A's value as it would be written into B, and InA the
	// reverse: what choosing a side would write.
	InB  any  `json:"inB"`
	InA  any  `json:"inA"`
	Held bool `json:"held"`
	Same bool `json:"same"` // the sides agree (after mapping)
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
	// Version is the entity's version the failing attempt worked, when its
	// poll read it: polls that read that version again leave the entity
	// parked; a new version is worked again.
	Version string `json:"version,omitempty"`
}

// ParkedError is a parked entity with its process (errors.list).
type ParkedError struct {
	Process string `json:"process"`
	Parked
}

// Brief names an entity in an adoption's answer.
type Brief struct {
	ID    string `json:"id"`
	Key   string `json:"key"`
	Title string `json:"title"`
}

// AdoptMatch is one pair found.
type AdoptMatch struct {
	A Brief `json:"a"`
	B Brief `json:"b"`
}

// AdoptAmbiguity is a value (or key) matching more than one entity.
type AdoptAmbiguity struct {
	Match string  `json:"match"`
	A     []Brief `json:"a"`
	B     []Brief `json:"b"`
}

// AdoptResult says what an adoption found and (unless a dry run) did.
type AdoptResult struct {
	Matches       []AdoptMatch     `json:"matches"`
	Ambiguous     []AdoptAmbiguity `json:"ambiguous"`
	UnmatchedA    []Brief          `json:"unmatchedA"`
	UnmatchedB    []Brief          `json:"unmatchedB"`
	AlreadyPaired []AdoptMatch     `json:"alreadyPaired"`
	Problems      []string         `json:"problems"` // CSV lines that name nothing
	Adopted       int              `json:"adopted"`
	DryRun        bool             `json:"dryRun"`
}

// QueueEntry is one entity waiting to be worked.
type QueueEntry struct {
	Pending
	Key   string `json:"key,omitempty"`
	Title string `json:"title,omitempty"`
	Pair  string `json:"pair,omitempty"`
	// Reason says why it waits, in words.
	Reason string `json:"reason"`
}

// QueueView is a process's queue: how much waits, since when, and why
// (queue.list).
type QueueView struct {
	Total    int          `json:"total"`
	Retrying int          `json:"retrying"` // failed at least once, waiting for a retry
	Oldest   time.Time    `json:"oldest,omitzero"`
	Items    []QueueEntry `json:"items"`
}
