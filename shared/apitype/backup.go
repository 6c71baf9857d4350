package apitype

// BackupCreateParams choose how a backup archive is sealed: under the
// agent's master key (no passphrase), or under a passphrase (argon2id), in
// which case the archive also carries the master key and restores without
// it.
type BackupCreateParams struct {
	Passphrase Secret `json:"passphrase,omitempty"`
}

// BackupCreateResult names the backup job.
type BackupCreateResult struct {
	ID string `json:"id"`
}

// BackupProgress reports a backup being written.
type BackupProgress struct {
	ID      string `json:"id"`
	State   string `json:"state"`
	Percent int    `json:"percent"`
}

// EventBackupProgress is the event type of BackupProgress.
const EventBackupProgress = "BackupProgress"

// A backup job is read like a support package: the same states, status and
// chunked download.
type (
	BackupStatusResult   = SupportStatusResult
	BackupDownloadParams = SupportDownloadParams
	BackupDownloadResult = SupportDownloadResult
)
