package connector

import (
	"crypto/sha256"
	"encoding/hex"
)

// MarkerPrefix starts a marker written out as text.
const MarkerPrefix = "lockstep:"

// Text is the marker as connectors write it where text fits (a remote
// link's global id, a custom field, a hyperlink's comment):
// "lockstep:<system>:<key>". A connector recognises what it wrote by
// MarkerPrefix.
func (m Marker) Text() string { return MarkerPrefix + m.System + ":" + m.Key }

// HashLabel is prefix followed by 16 hex digits of the SHA-256 of text: a
// marker for systems that search labels or tags exactly but limit their
// length and characters. Each connector passes the text it has always
// hashed for a marker, since a different text would no longer find the
// entities it marked before.
func HashLabel(prefix, text string) string {
	sum := sha256.Sum256([]byte(text))
	return prefix + hex.EncodeToString(sum[:8])
}
