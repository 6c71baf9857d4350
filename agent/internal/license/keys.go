package license

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// productionKeys is the vendor's public key ring, set at build time so no
// key can be swapped by editing a file next to the binary:
//
//	-ldflags "-X github.com/lockstep-sync/lockstep/agent/internal/license.productionKeys=prod-2026:<base64>,prod-2027:<base64>"
//
// A build without it (make demo, go test) trusts no vendor key and runs in
// evaluation mode until a license signed by a trusted key is imported.
var productionKeys string

// testKeys is set only by test builds: this package's own tests
// (testkey_test.go) and agents built with `-tags licensetest`
// (testkey_licensetest.go). A plain build never assigns it.
var testKeys string

// Ring maps a key id to the ed25519 public key that verifies licenses
// signed under it. Rotation adds a key id; revocation ships a build without it.
type Ring map[string]ed25519.PublicKey

// keyIDPattern keeps key ids short and printable: they appear in file
// headers, error messages and ldflags.
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidKeyID reports whether id is usable as a key id.
func ValidKeyID(id string) bool { return keyIDPattern.MatchString(id) }

// ParseRing reads a key list "kid:base64,kid:base64" (the ldflags format,
// and the one line licensegen keygen prints). Whitespace around entries is
// ignored; an empty list is an empty ring.
func ParseRing(list string) (Ring, error) {
	r := Ring{}
	for _, entry := range strings.Split(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		kid, b64, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("parse key %q: want KEY_ID:BASE64", entry)
		}
		if !ValidKeyID(kid) {
			return nil, fmt.Errorf("parse key: malformed key id %q", kid)
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("parse key %s: %w", kid, err)
		}
		if len(raw) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("parse key %s: public key is %d bytes, want %d", kid, len(raw), ed25519.PublicKeySize)
		}
		if _, dup := r[kid]; dup {
			return nil, fmt.Errorf("parse key: key id %s appears twice", kid)
		}
		r[kid] = ed25519.PublicKey(raw)
	}
	return r, nil
}

// FormatKey is the one-line form of a public key that ParseRing reads.
func FormatKey(kid string, pub ed25519.PublicKey) string {
	return kid + ":" + base64.StdEncoding.EncodeToString(pub)
}

// BuiltinKeys is the ring compiled into this binary: the production keys,
// plus the test key in test builds only.
func BuiltinKeys() (Ring, error) {
	prod, err := ParseRing(productionKeys)
	if err != nil {
		return nil, fmt.Errorf("read build-time license keys: %w", err)
	}
	test, err := ParseRing(testKeys)
	if err != nil {
		return nil, fmt.Errorf("read test license keys: %w", err)
	}
	return prod.merge(test)
}

// merge returns a new ring with both rings' keys; a key id in both is an
// error rather than a silent override.
func (r Ring) merge(other Ring) (Ring, error) {
	out := make(Ring, len(r)+len(other))
	for kid, pub := range r {
		out[kid] = pub
	}
	for kid, pub := range other {
		if _, dup := out[kid]; dup {
			return nil, fmt.Errorf("merge license keys: key id %s is defined twice", kid)
		}
		out[kid] = pub
	}
	return out, nil
}

// IDs lists the key ids, sorted.
func (r Ring) IDs() []string {
	ids := make([]string, 0, len(r))
	for kid := range r {
		ids = append(ids, kid)
	}
	slices.Sort(ids)
	return ids
}
