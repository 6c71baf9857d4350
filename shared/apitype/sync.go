package apitype

import (
	"encoding/json"
	"time"
)

// The sync engine's shapes (process configuration, pairs, runs) are defined
// by the agent and documented in docs/protocol.md; they travel here as JSON
// documents so that this package stays free of the engine's types.

// ProcessParams carry one process configuration document.
type ProcessParams struct {
	Process json.RawMessage `json:"process"`
}

// ProcessResult is one process with its state.
type ProcessResult struct {
	Process json.RawMessage `json:"process"`
}

// ProcessesListResult lists processes with a health summary each.
type ProcessesListResult struct {
	Processes []ProcessSummary `json:"processes"`
}

// ProcessSummary is a process and how it is doing.
type ProcessSummary struct {
	Process json.RawMessage `json:"process"`
	Pairs   int             `json:"pairs"`
	Errors  int             `json:"errors"`
	LastRun json.RawMessage `json:"lastRun,omitempty"`
	Health  *Health         `json:"health,omitempty"`
}

// SyncEntityParams name one entity of one side.
type SyncEntityParams struct {
	ID     string `json:"id"`
	Side   string `json:"side"`
	Entity string `json:"entity"`
}

// RunResult wraps one run record.
type RunResult struct {
	Run json.RawMessage `json:"run"`
}

// RunAccepted says a run was started in the background.
type RunAccepted struct {
	Accepted bool `json:"accepted"`
}

// PlanResult lists what a run would do.
type PlanResult struct {
	Items json.RawMessage `json:"items"`
}

// BulkSyncParams start a bulk sync from a date.
type BulkSyncParams struct {
	ID    string    `json:"id"`
	Since time.Time `json:"since"`
}

// BulkJobResult describes a bulk sync job.
type BulkJobResult struct {
	Job json.RawMessage `json:"job"`
}

// ExportParams choose processes to export (all when empty).
type ExportParams struct {
	IDs []string `json:"ids,omitempty"`
}

// DocumentResult is a YAML document.
type DocumentResult struct {
	Document string `json:"document"`
}

// ImportParams carry a YAML document.
type ImportParams struct {
	Document string `json:"document"`
}

// ImportResult says what an import did.
type ImportResult struct {
	Created []string `json:"created"`
	Updated []string `json:"updated"`
}

// ResolveParams settle a pair held for review.
type ResolveParams struct {
	Process string `json:"process"`
	Pair    string `json:"pair"`
	Winner  string `json:"winner"` // a or b
}

// PairsListParams filter pairs.
type PairsListParams struct {
	Process string `json:"process,omitempty"`
	Query   string `json:"query,omitempty"`
	Cursor  string `json:"cursor,omitempty"`
	Limit   int    `json:"limit,omitempty"`
}

// PairGetParams name one pair of a process.
type PairGetParams struct {
	Process string `json:"process"`
	ID      string `json:"id"`
}

// PairResult is one pair (the engine's shape, docs/protocol.md).
type PairResult struct {
	Pair json.RawMessage `json:"pair"`
}

// PairsListResult is one page of pairs.
type PairsListResult struct {
	Pairs  json.RawMessage `json:"pairs"`
	Cursor string          `json:"cursor"`
}

// RunsListParams select a process's runs.
type RunsListParams struct {
	Process string `json:"process"`
	Limit   int    `json:"limit,omitempty"`
}

// RunsListResult lists runs, newest first.
type RunsListResult struct {
	Runs json.RawMessage `json:"runs"`
}

// ErrorsListParams select parked errors.
type ErrorsListParams struct {
	Process string `json:"process,omitempty"`
}

// ErrorsListResult lists parked entities.
type ErrorsListResult struct {
	Errors json.RawMessage `json:"errors"`
}

// ErrorsRetryParams retry one parked entity, or all of a process.
type ErrorsRetryParams struct {
	Process string `json:"process"`
	Side    string `json:"side,omitempty"`
	Entity  string `json:"entity,omitempty"`
}

// ErrorsRetryResult counts what was queued again.
type ErrorsRetryResult struct {
	Retried int `json:"retried"`
}
