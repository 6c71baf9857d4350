package apitype

import (
	"encoding/json"
	"time"
)

// LogLine is one structured log line.
type LogLine struct {
	Time      time.Time      `json:"time"`
	Level     string         `json:"level"`
	Component string         `json:"component"`
	Message   string         `json:"message"`
	Fields    map[string]any `json:"fields,omitempty"`
}

// LogsSubscribeParams filter a live log stream. Backlog asks for up to that
// many recent matching lines first.
type LogsSubscribeParams struct {
	MinLevel string `json:"minLevel,omitempty"`
	Process  string `json:"process,omitempty"`
	System   string `json:"system,omitempty"`
	Backlog  int    `json:"backlog,omitempty"`
}

// SubResult names a subscription.
type SubResult struct {
	Sub string `json:"sub"`
}

// LogsNotification delivers lines; Dropped counts lines lost for this
// subscriber since the previous notification.
type LogsNotification struct {
	Sub     string    `json:"sub"`
	Lines   []LogLine `json:"lines"`
	Dropped uint64    `json:"dropped"`
}

// LogsQueryParams search the log files.
type LogsQueryParams struct {
	Since    *time.Time `json:"since,omitempty"`
	Until    *time.Time `json:"until,omitempty"`
	MinLevel string     `json:"minLevel,omitempty"`
	Text     string     `json:"text,omitempty"`
	Limit    int        `json:"limit,omitempty"`
}

// LogsQueryResult holds matching lines, oldest first.
type LogsQueryResult struct {
	Lines []LogLine `json:"lines"`
}

// EventsSubscribeParams subscribe to events, optionally replaying those
// after Since.
type EventsSubscribeParams struct {
	Types []string `json:"types,omitempty"`
	Since *uint64  `json:"since,omitempty"`
}

// EventsSubscribeResult: Resync means Since is older than the agent's ring;
// the client reloads its state.
type EventsSubscribeResult struct {
	Sub    string `json:"sub"`
	Seq    uint64 `json:"seq"`
	Resync bool   `json:"resync,omitempty"`
}

// EventNotification is one event.
type EventNotification struct {
	Sub  string          `json:"sub"`
	Seq  uint64          `json:"seq"`
	Time time.Time       `json:"time"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
}

// SubCancelParams end a subscription.
type SubCancelParams struct {
	Sub string `json:"sub"`
}

// Event types.
const (
	EventConfigChanged   = "ConfigChanged"
	EventSupportProgress = "SupportProgress"
	EventSessionExpired  = "SessionExpired"
	EventRunStarted      = "RunStarted"
	EventRunFinished     = "RunFinished"
	EventPairFailed      = "PairFailed"
	EventPairChanged     = "PairChanged" // a pair deleted, held, unpaired, relinked or adopted
	EventBulkProgress    = "BulkProgress"
	EventLicenseChanged  = "LicenseChanged"
	EventHealthChanged   = "HealthChanged"
)

// ConfigChanged tells clients to reload a record.
type ConfigChanged struct {
	Kind   string `json:"kind"` // system, account, settings, process
	ID     string `json:"id,omitempty"`
	Action string `json:"action"` // create, update, delete
	Actor  string `json:"actor"`
}

// SupportProgress reports a support package being built.
type SupportProgress struct {
	ID      string `json:"id"`
	State   string `json:"state"`
	Part    string `json:"part,omitempty"`
	Percent int    `json:"percent"`
}

// SupportCreateResult names the package job.
type SupportCreateResult struct {
	ID string `json:"id"`
}

// Support package states.
const (
	SupportRunning = "running"
	SupportReady   = "ready"
	SupportFailed  = "failed"
)

// SupportStatusResult describes a package.
type SupportStatusResult struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Error  string `json:"error,omitempty"`
}

// SupportDownloadParams ask for one chunk (Length <= 1 MiB).
type SupportDownloadParams struct {
	ID     string `json:"id"`
	Offset int64  `json:"offset"`
	Length int    `json:"length"`
}

// SupportDownloadResult is a chunk; Data is base64 on the wire.
type SupportDownloadResult struct {
	Data []byte `json:"data"`
	EOF  bool   `json:"eof"`
}
