// Package licensetest issues licenses signed with the test key, for the
// tests of packages that use the license manager. The agent never imports
// it. In-process tests pass Keys() as license.Options.ExtraKeys; tests of
// the real binary build it with `go build -tags licensetest`, which
// trusts the same key.
package licensetest

import (
	"crypto/ed25519"
	"encoding/base64"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/license"
)

// KeyID is the test key's id.
const KeyID = "test"

// seed is the test private key, the same as
// agent/internal/license/testdata/test.key (a test checks they match).
// It is public on purpose: only test builds trust this key.
const seed = "xyt14mqJot/Uer+JZFcIWOeIwuixO662Kt7f3dEth8A="

// PrivateKey is the test signing key.
func PrivateKey() ed25519.PrivateKey {
	s, _ := base64.StdEncoding.DecodeString(seed)
	return ed25519.NewKeyFromSeed(s)
}

// PublicKey is the test verification key.
func PublicKey() ed25519.PublicKey { return PrivateKey().Public().(ed25519.PublicKey) }

// Keys is a ring of the test key, for license.Options.ExtraKeys.
func Keys() license.Ring { return license.Ring{KeyID: PublicKey()} }

// Issue signs p with the test key. Empty fields get defaults: format 1,
// key id "test", license id "LIC-TEST", customer "Test Customer", a year
// from NotBefore (or IssuedAt, or now), 14 grace days, max users 50, and
// every kind but sandbox allowed.
func Issue(t testing.TB, p license.Payload) []byte {
	t.Helper()
	if p.Format == 0 {
		p.Format = license.Format
	}
	if p.KeyID == "" {
		p.KeyID = KeyID
	}
	if p.LicenseID == "" {
		p.LicenseID = "LIC-TEST"
	}
	if p.Customer == "" {
		p.Customer = "Test Customer"
	}
	if p.IssuedAt.IsZero() {
		p.IssuedAt = p.NotBefore
		if p.IssuedAt.IsZero() {
			p.IssuedAt = time.Now().UTC().Truncate(time.Second)
		}
	}
	if p.NotBefore.IsZero() {
		p.NotBefore = p.IssuedAt
	}
	if p.ExpiresAt.IsZero() {
		p.ExpiresAt = p.NotBefore.AddDate(1, 0, 0)
	}
	if p.GraceDays == 0 {
		p.GraceDays = 14
	}
	if p.MaxUsers == 0 {
		p.MaxUsers = 50
	}
	if p.AllowedSystems == nil {
		p.AllowedSystems = []string{"jira", "azuredevops", "servicenow", "github", "gitlab", "redmine", "rt"}
	}
	text, err := license.Issue(PrivateKey(), p)
	if err != nil {
		t.Fatalf("issue test license: %v", err)
	}
	return text
}

// Valid is a license valid from a day before now for a year, for kinds.
func Valid(t testing.TB, now time.Time, kinds ...string) []byte {
	t.Helper()
	p := license.Payload{NotBefore: now.UTC().Add(-24 * time.Hour).Truncate(time.Second)}
	if len(kinds) > 0 {
		p.AllowedSystems = kinds
	}
	return Issue(t, p)
}
