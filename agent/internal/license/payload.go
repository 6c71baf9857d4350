package license

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Format is the payload format this agent reads. A change the agent must
// understand gets a new number; older agents then refuse the file with a
// precise error instead of misreading it.
const Format = 1

// Payload is what a license says. Field names are the vendor's contract
// with every agent ever shipped: never rename one.
type Payload struct {
	Format         int       `json:"format"`
	LicenseID      string    `json:"license_id"`
	KeyID          string    `json:"key_id"`
	Customer       string    `json:"customer"`
	IssuedAt       time.Time `json:"issued_at"`
	NotBefore      time.Time `json:"not_before"`
	ExpiresAt      time.Time `json:"expires_at"`
	GraceDays      int       `json:"grace_days"`
	AllowedSystems []string  `json:"allowed_systems"`
	MaxUsers       int       `json:"max_users"`
	Features       []string  `json:"features,omitempty"`
}

// GraceEndsAt is when sync stops after expiry.
func (p Payload) GraceEndsAt() time.Time {
	return p.ExpiresAt.Add(time.Duration(p.GraceDays) * 24 * time.Hour)
}

// Allows reports whether the license lists kind.
func (p Payload) Allows(kind string) bool { return slices.Contains(p.AllowedSystems, kind) }

// MaxGraceDays bounds grace_days: a longer grace is a longer license.
const MaxGraceDays = 90

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

func badPayload(format string, args ...any) *FileError {
	return &FileError{Kind: ErrBadPayload, Msg: fmt.Sprintf(format, args...)}
}

func printable(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

// Validate checks the payload's own consistency (not the time of day).
func (p Payload) Validate() error {
	switch {
	case p.Format != Format:
		return badPayload("unsupported license format %d (this agent reads format %d)", p.Format, Format)
	case p.LicenseID == "":
		return badPayload("missing field license_id")
	case len(p.LicenseID) > 128 || !printable(p.LicenseID) || strings.ContainsAny(p.LicenseID, "/ "):
		return badPayload("license_id must be at most 128 printable characters without spaces or slashes")
	case p.KeyID == "":
		return badPayload("missing field key_id")
	case !ValidKeyID(p.KeyID):
		return badPayload("malformed key_id")
	case strings.TrimSpace(p.Customer) == "":
		return badPayload("missing field customer")
	case len(p.Customer) > 256 || !printable(p.Customer):
		return badPayload("customer must be at most 256 printable characters")
	case p.IssuedAt.IsZero():
		return badPayload("missing field issued_at")
	case p.NotBefore.IsZero():
		return badPayload("missing field not_before")
	case p.ExpiresAt.IsZero():
		return badPayload("missing field expires_at")
	case !p.ExpiresAt.After(p.NotBefore):
		return badPayload("expires_at (%s) is not after not_before (%s)", dateOf(p.ExpiresAt), dateOf(p.NotBefore))
	case p.ExpiresAt.Before(p.IssuedAt):
		return badPayload("expires_at (%s) is before issued_at (%s)", dateOf(p.ExpiresAt), dateOf(p.IssuedAt))
	case p.GraceDays < 0 || p.GraceDays > MaxGraceDays:
		return badPayload("grace_days is %d; want 0 to %d", p.GraceDays, MaxGraceDays)
	case len(p.AllowedSystems) == 0:
		return badPayload("missing field allowed_systems")
	case p.MaxUsers < 1:
		return badPayload("max_users is %d; want at least 1", p.MaxUsers)
	}
	if err := checkNames("allowed_systems", p.AllowedSystems); err != nil {
		return err
	}
	return checkNames("features", p.Features)
}

func checkNames(field string, names []string) error {
	seen := map[string]bool{}
	for i, n := range names {
		if !namePattern.MatchString(n) {
			return badPayload("%s[%d] is not a lowercase name", field, i)
		}
		if seen[n] {
			return badPayload("%s lists %q twice", field, n)
		}
		seen[n] = true
	}
	return nil
}

func dateOf(t time.Time) string { return t.UTC().Format("2006-01-02") }

// License is a verified license.
type License struct {
	Payload
	Raw  []byte // the exact signed payload bytes
	Text []byte // the file as imported
}

// Verify parses text, checks the signature over the exact payload bytes
// with the ring's key, and only then decodes and validates the payload. It
// does not look at the clock: see Manager.Import and Status.
func Verify(text []byte, ring Ring) (*License, error) {
	f, err := Parse(text)
	if err != nil {
		return nil, err
	}
	lic, err := f.Verify(ring)
	if err != nil {
		return nil, err
	}
	lic.Text = bytes.Clone(text)
	return lic, nil
}

// Verify checks a parsed file against ring.
func (f *File) Verify(ring Ring) (*License, error) {
	pub, ok := ring[f.KeyID]
	if !ok {
		trusted := "none: a build without license keys runs in evaluation mode"
		if ids := ring.IDs(); len(ids) > 0 {
			trusted = strings.Join(ids, ", ")
		}
		return nil, &FileError{Kind: ErrUnknownKey, Msg: fmt.Sprintf("the license is signed with key %q, which this agent does not trust (trusted keys: %s)", f.KeyID, trusted)}
	}
	// ed25519.Verify panics on a key of the wrong size; rings are checked
	// when built, this guards a hand-made Ring.
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, f.Payload, f.Signature) {
		return nil, &FileError{Kind: ErrBadSignature, Msg: fmt.Sprintf("the signature does not match the payload under key %q: the file was altered", f.KeyID)}
	}
	p, err := decodePayload(f.Payload)
	if err != nil {
		return nil, err
	}
	if p.KeyID != f.KeyID {
		return nil, badPayload("the payload names key %q but the signature block names %q", p.KeyID, f.KeyID)
	}
	return &License{Payload: p, Raw: bytes.Clone(f.Payload)}, nil
}

// payloadFields are the JSON names of format 1, matched exactly:
// encoding/json alone would accept "License_ID" or a repeated key.
var payloadFields = map[string]bool{
	"format": true, "license_id": true, "key_id": true, "customer": true, "issued_at": true,
	"not_before": true, "expires_at": true, "grace_days": true, "allowed_systems": true,
	"max_users": true, "features": true,
}

// decodePayload reads the JSON strictly: one object whose keys are exact,
// known and unique, nothing after it; the format first, so a newer format
// is reported as such rather than as an unknown field.
func decodePayload(raw []byte) (Payload, error) {
	fields, err := objectFields(raw)
	if err != nil {
		return Payload{}, badPayload("the payload is not a valid JSON object: %v", err)
	}
	fraw, ok := fields["format"]
	if !ok {
		return Payload{}, badPayload("missing field format")
	}
	var format int
	if err := json.Unmarshal(fraw, &format); err != nil {
		return Payload{}, badPayload("format must be an integer")
	}
	if format != Format {
		return Payload{}, badPayload("unsupported license format %d (this agent reads format %d)", format, Format)
	}
	for name := range fields {
		if !payloadFields[name] {
			return Payload{}, badPayload("unknown field %q in format %d", name, Format)
		}
	}
	var p Payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return Payload{}, badPayload("the payload does not match format %d: %v", Format, err)
	}
	if err := p.Validate(); err != nil {
		return Payload{}, err
	}
	return p, nil
}

// objectFields splits one JSON object into its members, refusing repeated
// keys and anything after the object.
func objectFields(raw []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("expected a field name")
		}
		if _, dup := fields[name]; dup {
			return nil, fmt.Errorf("field %q appears twice", name)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("field %q: %w", name, err)
		}
		fields[name] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the object")
	}
	return fields, nil
}

// Issue signs p with priv and returns the license file. Only the vendor's
// licensegen tool and tests call it: the agent never holds a private key.
func Issue(priv ed25519.PrivateKey, p Payload) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("issue license: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("issue license: %w", err)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("issue license: encode payload: %w", err)
	}
	return Encode(p.KeyID, raw, ed25519.Sign(priv, raw)), nil
}
