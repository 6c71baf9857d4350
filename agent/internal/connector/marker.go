package connector

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"strings"
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

// Origin names a source system by what survives configuring it again: its
// URL (scheme and host lower-cased, default port, trailing slash and
// credentials dropped) and the project. A process re-created, or imported
// on another agent whose systems point at the same servers, writes and
// finds the same markers. It is "o" and 12 hex digits: short enough for
// labels and custom fields, in the characters every system accepts.
func Origin(systemURL, project string) string {
	norm := strings.TrimSpace(systemURL)
	if u, err := url.Parse(norm); err == nil && u.Host != "" {
		u.User, u.RawQuery, u.Fragment = nil, "", ""
		u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		if p := u.Port(); (u.Scheme == "https" && p == "443") || (u.Scheme == "http" && p == "80") {
			u.Host = u.Hostname()
		}
		norm = u.String()
	}
	norm = strings.TrimRight(norm, "/")
	sum := sha256.Sum256([]byte(norm + "\n" + project))
	return "o" + hex.EncodeToString(sum[:6])
}

// ParseMarker reads a marker's Text() back; ok is false for anything else.
func ParseMarker(text string) (m Marker, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(text), MarkerPrefix)
	if !found {
		return Marker{}, false
	}
	sys, key, found := strings.Cut(rest, ":")
	if !found || sys == "" || key == "" {
		return Marker{}, false
	}
	return Marker{System: sys, Key: key}, true
}

// HideMarker ends a Markdown or HTML body with marker as an HTML comment:
// invisible where the body is rendered, and read back by SplitMarker. It
// is how connectors whose systems keep comment bodies as written store a
// comment's marker (NewComment.Marker): once, after the text.
func HideMarker(body, marker string) string {
	if marker == "" {
		return body
	}
	return strings.TrimRight(body, " \t\r\n") + "\n\n<!-- " + strings.ReplaceAll(marker, "--", "- -") + " -->"
}

// hiddenMarker matches a marker HideMarker wrote at the end of a body, and
// the doubled form older releases wrote (the engine's own comment, wrapped
// again by the connector with its dashes escaped).
var hiddenMarker = regexp.MustCompile(`\s*<!-- (?:<!- - )?(lockstep:[^\s<>]+?)(?: - ->)? -->\s*$`)

// SplitMarker takes the markers HideMarker (or an older release) left at the
// end of a body out of it: the text as its author wrote it, and the first
// marker ("" when there is none).
func SplitMarker(body string) (text, marker string) {
	for {
		m := hiddenMarker.FindStringSubmatchIndex(body)
		if m == nil {
			return body, marker
		}
		marker = body[m[2]:m[3]]
		body = body[:m[0]]
	}
}
