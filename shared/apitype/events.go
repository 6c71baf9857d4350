package apitype

// Payloads of the sync engine's and the license's events (the Data of an
// EventNotification; protocol.Events lists every event type with its
// payload). The engine's payloads were JSON objects built as maps until
// they were typed here, and maps encode their keys in sorted order: these
// structs keep the fields in that order, so an event reads byte for byte
// as it did.

// RunStarted: a run of a process began.
type RunStarted struct {
	Process string `json:"process"`
	Run     string `json:"run"`
	Trigger string `json:"trigger"`
}

// RunFinished: a run ended; Errors counts its errors (runs.get has them).
type RunFinished struct {
	Counts  Counts `json:"counts"`
	Errors  int    `json:"errors"`
	Process string `json:"process"`
	Run     string `json:"run"`
}

// PairFailed: an entity was parked after a permanent failure.
type PairFailed struct {
	// Cause classifies the failure (Health.Cause's words).
	Cause  string `json:"cause"`
	Entity string `json:"entity"`
	Error  string `json:"error"`
	Key    string `json:"key"`
	// Pair is empty when the entity has no pair yet (a create failed).
	Pair    string `json:"pair"`
	Process string `json:"process"`
	Side    Side   `json:"side"`
	Step    string `json:"step"`
	Title   string `json:"title"`
}

// PairChanged: a pair changed outside a run's counts. Change is one of
// deleted, unpaired, recreate, relinked, adopted, resolved (Pair is empty for an
// adoption, which may make many).
type PairChanged struct {
	Change  string `json:"change"`
	Pair    string `json:"pair"`
	Process string `json:"process"`
}

// BulkProgress: a bulk sync job moved on.
type BulkProgress struct {
	Done    int    `json:"done"`
	Error   string `json:"error"`
	ID      string `json:"id"`
	Percent int    `json:"percent"`
	Process string `json:"process"`
	State   string `json:"state"` // running, done, failed
	Total   int    `json:"total"`
}

// LicenseChanged: the license's state changed, or it warns (expiry,
// clock set back, users over the limit).
type LicenseChanged struct {
	State    string `json:"state"`
	Reason   string `json:"reason"` // imported, state, expiry_warning, clock_back, users_over_limit, users_within_limit
	DaysLeft int    `json:"daysLeft,omitempty"`
	Message  string `json:"message"`
}
