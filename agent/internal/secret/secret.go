// Package secret keeps credentials out of sight: the Secret type that never
// prints its value, and AES-256-GCM sealing of secret fields before they
// reach the store.
package secret

import "encoding/json"

// Redacted is what every secret prints as.
const Redacted = "[redacted]"

// Secret holds a credential in memory. fmt, encoding/json and zerolog (which
// uses json.Marshaler for Interface and fmt.Stringer for Stringer) all print
// [redacted]; only Reveal gives the value, and only connectors call it.
type Secret struct {
	value string
}

// New wraps a value.
func New(v string) Secret { return Secret{value: v} }

// Reveal returns the value, for the one place that must send it (an HTTP
// Authorization header, say).
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s.value != "" }

// String implements fmt.Stringer.
func (Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer, for %#v.
func (Secret) GoString() string { return Redacted }

// MarshalJSON never writes the value: secrets are write-only on the wire.
func (Secret) MarshalJSON() ([]byte, error) { return json.Marshal(Redacted) }

// MarshalText covers encoders that prefer text (yaml, map keys).
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// UnmarshalJSON accepts a string, so request params can carry a new secret in.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	s.value = v
	return nil
}
