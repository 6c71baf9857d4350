package apitype

import "time"

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
	// Cause classifies a whole run's failure (the same words as
	// Health.Cause); Side then names the side at fault.
	Cause string `json:"cause,omitempty"`
}

// Run records one cycle of a process.
type Run struct {
	ID        string           `json:"id"`
	Process   string           `json:"process"`
	Trigger   string           `json:"trigger"` // schedule, manual, webhook, entity, bulk, retry, recreate, test
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

// PlanItem is one thing a run would do (processes.plan). Action is one of
// read, create, update, comment, comment-edit, comment-delete, attach,
// attachment-delete, link, unlink, adopt, hold, deleted, error; or stopped,
// the last entry of a dry run stopped before it finished, which is about
// the plan, not an item: it has no Side (the field is left out, so the
// wire never carries a side that is neither a nor b) and its Detail says
// why and how far the dry run got. Every other action has a Side.
type PlanItem struct {
	Action string `json:"action"`
	Side   Side   `json:"side,omitempty"`
	Entity string `json:"entity,omitempty"`
	Key    string `json:"key,omitempty"`
	Title  string `json:"title,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// BulkJob is a bulk sync from a date: every entity changed since then on
// either side is queued and worked, with progress events.
type BulkJob struct {
	ID      string    `json:"id"`
	Process string    `json:"process"`
	Since   time.Time `json:"since"`
	State   string    `json:"state"` // running, done, failed
	Total   int       `json:"total"`
	Done    int       `json:"done"`
	Error   string    `json:"error,omitempty"`
	Run     string    `json:"run,omitempty"`
	// EndedAt is when the job finished or failed; a day later it is
	// forgotten.
	EndedAt time.Time `json:"endedAt,omitempty"`
}
