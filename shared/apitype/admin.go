package apitype

import (
	"encoding/json"
	"time"
)

// AccountsListResult lists accounts.
type AccountsListResult struct {
	Accounts []Account `json:"accounts"`
}

// AccountsCreateParams create an account.
type AccountsCreateParams struct {
	Username string `json:"username"`
	Password Secret `json:"password"`
	Role     string `json:"role"`
}

// AccountsUpdateParams change an account's role or lock state.
type AccountsUpdateParams struct {
	ID     string  `json:"id"`
	Role   *string `json:"role,omitempty"`
	Locked *bool   `json:"locked,omitempty"`
}

// AccountsSetPasswordParams set a password (which revokes its sessions).
type AccountsSetPasswordParams struct {
	ID       string `json:"id"`
	Password Secret `json:"password"`
}

// AuditListParams filter the audit trail; results are newest first.
type AuditListParams struct {
	Since  *time.Time `json:"since,omitempty"`
	Until  *time.Time `json:"until,omitempty"`
	Actor  string     `json:"actor,omitempty"`
	Action string     `json:"action,omitempty"`
	Cursor string     `json:"cursor,omitempty"`
	Limit  int        `json:"limit,omitempty"`
}

// AuditRecord is one audit entry. Diff shows secrets only as [redacted].
type AuditRecord struct {
	Seq    uint64          `json:"seq"`
	Time   time.Time       `json:"time"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Result string          `json:"result"`
	Remote string          `json:"remote,omitempty"`
	Diff   json.RawMessage `json:"diff,omitempty"`
}

// AuditListResult is one page; Cursor is empty on the last page.
type AuditListResult struct {
	Records []AuditRecord `json:"records"`
	Cursor  string        `json:"cursor"`
}

// AuditVerifyResult says whether the hash chain is intact.
type AuditVerifyResult struct {
	OK       bool    `json:"ok"`
	Records  int     `json:"records"`
	BrokenAt *uint64 `json:"brokenAt,omitempty"`
	Problem  string  `json:"problem,omitempty"`
}

// Settings are the agent's runtime settings.
type Settings struct {
	// Origins is the WebSocket Origin allow list; requests without Origin
	// (the desktop app's Go client) are always allowed.
	Origins []string `json:"origins"`
	// LogLevel is trace, debug, info, warn or error.
	LogLevel string `json:"logLevel"`
	// LogRetentionDays bounds rotated log files' age.
	LogRetentionDays int `json:"logRetentionDays"`
	// SupportRetentionHours is how long built support packages are kept.
	SupportRetentionHours int `json:"supportRetentionHours"`
	// RunRetentionDays and RunRetentionRuns bound each sync process's run
	// history: older runs, and all but the newest RunRetentionRuns, are
	// pruned.
	RunRetentionDays int `json:"runRetentionDays"`
	RunRetentionRuns int `json:"runRetentionRuns"`
	// PublicURL is the agent's address as work systems reach it, for
	// webhooks (https://agent.example:7443); empty: polling only.
	PublicURL string `json:"publicUrl"`
	// MetricsToken says whether a bearer token for GET /metrics is set;
	// the value is write-only. Without one, /metrics answers 404.
	MetricsToken SecretState `json:"metricsToken"`
}

// SettingsResult wraps the settings.
type SettingsResult struct {
	Settings Settings `json:"settings"`
}

// SettingsSetParams change some settings; omitted fields keep their value.
type SettingsSetParams struct {
	Origins               *[]string `json:"origins,omitempty"`
	LogLevel              *string   `json:"logLevel,omitempty"`
	LogRetentionDays      *int      `json:"logRetentionDays,omitempty"`
	SupportRetentionHours *int      `json:"supportRetentionHours,omitempty"`
	RunRetentionDays      *int      `json:"runRetentionDays,omitempty"`
	RunRetentionRuns      *int      `json:"runRetentionRuns,omitempty"`
	PublicURL             *string   `json:"publicUrl,omitempty"`
	// MetricsToken sets the bearer token Prometheus presents to GET
	// /metrics (at least 16 characters); "" clears it.
	MetricsToken *Secret `json:"metricsToken,omitempty"`
}
