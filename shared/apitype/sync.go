package apitype

import "time"

// The sync engine's methods: params and results. The shapes they carry (the
// process document, pairs, runs) are in process.go, pairs.go and runs.go.

// ProcessParams carry one process configuration document (required).
type ProcessParams struct {
	Process *Process `json:"process"`
}

// ProcessResult is one process with its state.
type ProcessResult struct {
	Process Process `json:"process"`
}

// ProcessesListResult lists processes with a health summary each.
type ProcessesListResult struct {
	Processes []ProcessSummary `json:"processes"`
}

// ProcessSummary is a process and how it is doing.
type ProcessSummary struct {
	Process Process `json:"process"`
	Pairs   int     `json:"pairs"`
	Errors  int     `json:"errors"`
	LastRun *Run    `json:"lastRun,omitempty"`
	Health  *Health `json:"health,omitempty"`
}

// SyncEntityParams name one entity of one side.
type SyncEntityParams struct {
	ID     string `json:"id"`
	Side   Side   `json:"side"`
	Entity string `json:"entity"`
}

// RunResult wraps one run record.
type RunResult struct {
	Run Run `json:"run"`
}

// RunAccepted says a run was started in the background.
type RunAccepted struct {
	Accepted bool `json:"accepted"`
}

// PlanResult lists what a run would do.
type PlanResult struct {
	Items []PlanItem `json:"items"`
}

// BulkSyncParams start a bulk sync from a date.
type BulkSyncParams struct {
	ID    string    `json:"id"`
	Since time.Time `json:"since"`
}

// BulkJobResult describes a bulk sync job.
type BulkJobResult struct {
	Job BulkJob `json:"job"`
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
	Winner  Side   `json:"winner"`
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

// PairResult is one pair with its pending work.
type PairResult struct {
	Pair PairView `json:"pair"`
}

// PairsListResult is one page of pairs.
type PairsListResult struct {
	Pairs  []PairView `json:"pairs"`
	Cursor string     `json:"cursor"`
}

// RunsListParams select a process's runs.
type RunsListParams struct {
	Process string `json:"process"`
	Limit   int    `json:"limit,omitempty"`
}

// RunsListResult lists runs, newest first.
type RunsListResult struct {
	Runs []Run `json:"runs"`
}

// ErrorsListParams select parked errors.
type ErrorsListParams struct {
	Process string `json:"process,omitempty"`
}

// ErrorsListResult lists parked entities.
type ErrorsListResult struct {
	Errors []ParkedError `json:"errors"`
}

// ErrorsRetryParams retry one parked entity, or all of a process.
type ErrorsRetryParams struct {
	Process string `json:"process"`
	Side    Side   `json:"side,omitempty"`
	Entity  string `json:"entity,omitempty"`
}

// ErrorsRetryResult counts what was queued again.
type ErrorsRetryResult struct {
	Retried int `json:"retried"`
}

// PairValuesResult is both sides' current values of a pair's fields, read
// live for the administrator who asked; never stored.
type PairValuesResult struct {
	Fields []FieldValues `json:"fields"`
}

// PairsResolveParams settle held fields one by one: field ("<a>|<b>") to
// the side ("a" or "b") whose value wins.
type PairsResolveParams struct {
	Process string          `json:"process"`
	ID      string          `json:"id"`
	Fields  map[string]Side `json:"fields"`
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
	Pair     PairView `json:"pair"`
	Excluded []string `json:"excluded"`
}

// PairsApplyDeletionParams apply a deletion policy to a pair whose entity
// was deleted.
type PairsApplyDeletionParams struct {
	Process string       `json:"process"`
	ID      string       `json:"id"`
	Action  DeleteAction `json:"action"`
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
	Result AdoptResult `json:"result"`
}

// QueueListParams select a process's queue.
type QueueListParams struct {
	Process string `json:"process"`
	Limit   int    `json:"limit,omitempty"`
}

// QueueListResult is a process's queue.
type QueueListResult struct {
	Queue QueueView `json:"queue"`
}
