// Package license applies the customer's license offline: it verifies
// ed25519-signed license files against public keys compiled into the
// binary, decides which system kinds may be configured and synced, counts
// the people the agent identifies, detects a clock set back, and sends the
// opt-in telemetry report of exactly three facts: the version, the
// instance id, and whether the users exceed the license's limit (never the
// number).
//
// # License file
//
// Text with two blocks (see file.go): the payload, base64 of the exact
// JSON bytes the vendor signed, and the signature, a "Key-Id:" line and
// base64 of the ed25519 signature over those bytes. The verifier picks the
// key by the key id, verifies the exact bytes, and only then decodes the
// JSON (strictly: known, exact, unique field names; format 1). Licenses
// are issued with agent/tools/licensegen, which never ships in the agent.
//
// # Keys
//
// Release builds set the vendor's public keys at link time:
//
//	-ldflags "-X github.com/lockstep-sync/lockstep/agent/internal/license.productionKeys=prod-2026:<base64>"
//
// The test key pair is testdata/test.key and testdata/test.pub. Only test
// builds trust it: this package's own tests, and agents built with
//
//	go build -tags licensetest ./agent
//
// for end-to-end tests of the real binary. In-process tests of other
// packages pass licensetest.Keys() as Options.ExtraKeys and sign with
// licensetest.Issue. A plain build trusts no test key (tested).
//
// # States
//
//	missing   no license: evaluation mode. sandbox always; every kind for
//	          30 days from init; then other kinds stop as if expired.
//	invalid   the stored license no longer verifies (its key left the
//	          ring): evaluation rules, with the reason shown.
//	valid     more than 60 days left.
//	expiring  60 days or fewer: warnings at 60, 30 and 7 days, each once,
//	          as LicenseChanged events and audit records.
//	grace     expired, within grace_days: sync continues, warnings shown.
//	expired   grace over: sync of non-sandbox kinds stops; configuration
//	          stays readable and editable (kinds the license lists can
//	          still be created); nothing is deleted.
//
// # Clock
//
// The latest time seen is kept in the store. The license is evaluated at
// max(now, latest seen), so setting the clock back neither revives an
// expired license nor extends the evaluation. A clock more than 24 hours
// behind is an incident: audited (license.clock_back) and announced once,
// shown as a warning until the clock is corrected. The flip side: a clock
// once set far into the future and corrected keeps the license evaluated
// at that future time until real time catches up.
//
// # Users
//
// SeeUser/SeeUsers record authors, assignees and commenters as keyed
// hashes (HMAC with a per-installation salt), deduplicated through the
// user maps (Options.PersonOf). People seen in the last 365 days count.
// Over the limit is a warning and the telemetry flag, never a stop.
//
// # Store layout
//
//	license/file        the imported file, byte for byte (verified at every start)
//	license/record      what has been announced (state, warnings, clock, limit)
//	licenseuser/<hash>  one account: person hash and last day seen
//	telemetry/settings  {enabled, endpoint}
//	telemetry/state     last attempt, last success, last error
//	meta license_max_seen, license_user_salt, license_evaluation_start
package license
