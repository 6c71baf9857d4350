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

// PairValuesResult is both sides' current values of a pair's fields, read
// live for the administrator who asked; never stored.
type PairValuesResult struct {
	Fields json.RawMessage `json:"fields"`
}

// PairsResolveParams settle held fields one by one: field ("<a>|<b>") to
// the side ("a" or "b") whose value wins.
type PairsResolveParams struct {
	Process string            `json:"process"`
	ID      string            `json:"id"`
	Fields  map[string]string `json:"fields"`
}

// PairsUnpairParams name pairs to unpair.
type PairsUnpairParams struct {
	Process string   `json:"process"`
	Pairs   []string `json:"pairs"`
}

// CountResult counts what a call changed.
type CountResult struct {
	Count int `json:"count"`
}

// PairsRelinkParams pair entity A with entity B, each by id or key.
type PairsRelinkParams struct {
	Process string `json:"process"`
	A       string `json:"a"`
	B       string `json:"b"`
}

// PairsRelinkResult is the new pair, and the entities its old pairs left
// alone (excluded from sync until relinked).
type PairsRelinkResult struct {
	Pair     json.RawMessage `json:"pair"`
	Excluded []string        `json:"excluded"`
}

// PairsApplyDeletionParams apply a deletion policy to a pair whose entity
// was deleted.
type PairsApplyDeletionParams struct {
	Process string `json:"process"`
	ID      string `json:"id"`
	Action  string `json:"action"` // ignore, mirror, mark
}

// PairsAdoptParams adopt pairs that already exist on both sides: a CSV of
// key pairs, or a field of each side to match.
type PairsAdoptParams struct {
	Process string `json:"process"`
	CSV     string `json:"csv,omitempty"`
	MatchA  string `json:"matchA,omitempty"`
	MatchB  string `json:"matchB,omitempty"`
	DryRun  bool   `json:"dryRun"`
}

// PairsAdoptResult says what an adoption found and did.
type PairsAdoptResult struct {
	Result json.RawMessage `json:"result"`
}

// QueueListParams select a process's queue.
type QueueListParams struct {
	Process string `json:"process"`
	Limit   int    `json:"limit,omitempty"`
}

// QueueListResult is a process's queue.
type QueueListResult struct {
	Queue json.RawMessage `json:"queue"`
}
