// Package support builds support diagnostic packages: a zip of host info,
// connection info, accounts, operational data, settings, the audit trail and
// the logs, with a manifest.
//
// A package is built from an allow list: only the parts named collectors
// hand over go in, and every byte of every part, the manifest included,
// passes a Scrubber on its way into the zip. Structured parts are also
// cleaned by key (secret-named keys become "[redacted]", account hashes are
// dropped) before they are encoded. Secrets are expected to be gone before
// the collectors see the data (the Secret type, redacted views); the two
// passes here are defence in depth, because a support package is the one
// artefact that leaves the customer's network.
//
// Logs are streamed line by line through the scrubber, so a package of any
// size is built in constant memory. A collector that fails is recorded in
// the manifest and the package is still produced.
package support

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/job"
)

// FormatVersion is the package layout's version, recorded in the manifest.
const FormatVersion = 1

// Part statuses in the manifest.
const (
	StatusOK      = "ok"
	StatusError   = "error"
	StatusSkipped = "skipped" // no collector was given
)

// Part names. Log files go in as "logs/" + their base name, without ".gz".
const (
	PartManifest    = "manifest.json"
	PartHost        = "host.json"
	PartSystems     = "systems.json"
	PartAccounts    = "accounts.json"
	PartOperational = "operational.json"
	PartSettings    = "settings.json"
	PartAudit       = "audit.jsonl"
	PartLogRing     = "logs/ring.jsonl"
	// PartLogFiles stands for the log files in the manifest when the list
	// itself is missing or could not be had.
	PartLogFiles = "logs/*"
)

// DefaultCollectorTimeout bounds each collector. A collector that hangs
// would otherwise hold the one build slot until the agent restarts.
const DefaultCollectorTimeout = 2 * time.Minute

// Sources are the collectors a package is built from; each may be nil, and
// is then recorded as skipped. The value collectors return any JSON-encodable
// value; it is cleaned by key and scrubbed before it is written.
type Sources struct {
	AgentVersion string
	InstanceID   string

	Host        func(ctx context.Context) (any, error)
	Systems     func(ctx context.Context) (any, error) // a redacted view: no secret values
	Accounts    func(ctx context.Context) (any, error) // id, username, role, created, last login
	Operational func(ctx context.Context) (any, error) // pair counts and recent pairs
	Settings    func(ctx context.Context) (any, error)

	// Audit streams the audit trail, oldest first, one record per emit
	// call. It must stop and return emit's error when emit fails.
	Audit func(ctx context.Context, emit func(record any) error) error

	// LogFiles lists the log files, oldest first: the rotated backups
	// (".gz" ones are decompressed) and the active file.
	LogFiles func() []string
	// LogRing returns the in-memory ring's lines, raw JSON, oldest first.
	LogRing func() [][]byte

	// KnownSecrets returns the secret values the agent can unseal, so that
	// any that slipped into a log are removed. The values are held in the
	// scrubber's memory for the build and written nowhere. When it fails
	// the package is still built, with the patterns only, and the manifest
	// says so.
	KnownSecrets func(ctx context.Context) ([]string, error)

	// Now is the clock for the manifest's creation time (time.Now if nil).
	Now func() time.Time
	// CollectorTimeout bounds each collector (DefaultCollectorTimeout if
	// zero). A collector that does not return in time is recorded as an
	// error and abandoned; its late output is discarded.
	CollectorTimeout time.Duration
}

func (s Sources) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s Sources) timeout() time.Duration {
	if s.CollectorTimeout > 0 {
		return s.CollectorTimeout
	}
	return DefaultCollectorTimeout
}

// Manifest is manifest.json: what the package holds and how each part was
// collected.
type Manifest struct {
	FormatVersion int         `json:"formatVersion"`
	AgentVersion  string      `json:"agentVersion"`
	InstanceID    string      `json:"instanceId"`
	CreatedAt     time.Time   `json:"createdAt"`
	Parts         []Part      `json:"parts"`
	Scrub         ScrubReport `json:"scrub"`
}

// Part describes one file of the package. SHA256 and Size are of the
// uncompressed content as stored; a part without SHA256 has no file (its
// collector failed before writing anything, or was skipped). A part that
// failed half-way keeps what was written, and its hash covers exactly that.
type Part struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
}

// ScrubReport tells support how the package was scrubbed: the rule set, how
// many known secret forms were looked for (never which) and how many
// replacements each rule made.
type ScrubReport struct {
	RulesVersion      int              `json:"rulesVersion"`
	KnownSecrets      int              `json:"knownSecrets"`
	KnownSecretsError string           `json:"knownSecretsError,omitempty"`
	Redactions        map[string]int64 `json:"redactions"`
}

// Errors of the job API (the job package's, under the names the rpc layer
// and older callers use): ErrNotFound maps to not_found, ErrNotReady to
// conflict, *InvalidError to invalid with its Field, ErrClosed to
// unavailable.
var (
	ErrNotFound = job.ErrNotFound
	ErrNotReady = job.ErrNotReady
	ErrClosed   = job.ErrClosed
	ErrInvalid  = job.ErrInvalid
)

// InvalidError is a bad request parameter; Field names it as the protocol
// does (offset, length). It matches ErrInvalid with errors.Is.
type InvalidError = job.InvalidError

// FileName is the name a package is saved under:
// lockstep-support-<instance>-<UTC time>.zip. The time has no colons, so
// the name is valid on Windows and unzips cleanly everywhere.
func FileName(instanceID string, t time.Time) string {
	id := strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '-' || r == '_' {
			return r
		}
		return -1
	}, instanceID)
	if len(id) > 16 {
		id = id[:16]
	}
	if id != "" {
		id += "-"
	}
	return "lockstep-support-" + id + t.UTC().Format("20060102T150405Z") + ".zip"
}

// ReadManifest reads the manifest of a package file (the command line
// reports it after downloading a package from a running agent).
func ReadManifest(path string) (Manifest, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("read support package: %w", err)
	}
	defer zr.Close()
	f, err := zr.Open(PartManifest)
	if err != nil {
		return Manifest{}, fmt.Errorf("read support package: %w", err)
	}
	defer f.Close()
	var m Manifest
	if err := json.NewDecoder(f).Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("read support package manifest: %w", err)
	}
	return m, nil
}
