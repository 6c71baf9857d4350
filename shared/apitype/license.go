package apitype

import "time"

// LicenseInfo is license.get's and license.import's result.
type LicenseInfo struct {
	State            string     `json:"state"`             // valid, expiring, grace, expired, missing (evaluation), invalid
	Problem          string     `json:"problem,omitempty"` // why the state is invalid
	Customer         string     `json:"customer,omitempty"`
	LicenseID        string     `json:"licenseId,omitempty"`
	KeyID            string     `json:"keyId,omitempty"` // the vendor key that signed it
	NotBefore        *time.Time `json:"notBefore,omitempty"`
	ExpiresAt        *time.Time `json:"expiresAt,omitempty"`
	Features         []string   `json:"features,omitempty"`
	AllowedSystems   []string   `json:"allowedSystems,omitempty"`
	MaxUsers         int        `json:"maxUsers,omitempty"`
	UsersSeen        int        `json:"usersSeen"`
	OverLimit        bool       `json:"overLimit"`
	EvaluationEndsAt *time.Time `json:"evaluationEndsAt,omitempty"`
	GraceEndsAt      *time.Time `json:"graceEndsAt,omitempty"`
	Warnings         []string   `json:"warnings,omitempty"`
}

// LicenseImportParams carry a license file's text.
type LicenseImportParams struct {
	License string `json:"license"`
}

// TelemetryInfo is telemetry.get's result.
type TelemetryInfo struct {
	Enabled       bool       `json:"enabled"`
	Endpoint      string     `json:"endpoint"`
	LastAttemptAt *time.Time `json:"lastAttemptAt,omitempty"`
	LastSentAt    *time.Time `json:"lastSentAt,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
}

// TelemetrySetParams turn telemetry on or off.
type TelemetrySetParams struct {
	Enabled  bool   `json:"enabled"`
	Endpoint string `json:"endpoint"`
}

// TelemetryPreview is the exact body a send would post.
type TelemetryPreview struct {
	Body string `json:"body"`
}
