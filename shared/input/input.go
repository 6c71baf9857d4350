// Package input holds the checks that every string the API accepts goes
// through, so that the agent's services and the desktop app refuse the same
// things with the same words: names (of systems, sync processes, accounts,
// saved agents) and bounded free text. It imports only the standard library.
//
// A name is shown in lists, logs, audit records and terminals. Control
// characters (TAB, ESC, BEL, DEL...) can rewrite a terminal or a log line,
// and bidirectional controls and line separators (U+202E, U+2028...) make a
// name display as something it is not, so names refuse both.
package input

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the strings the API stores; a check's error states the limit.
const (
	// MaxName is the longest name of a system, sync process or saved agent, in characters.
	MaxName = 100
	// MaxURL bounds a URL (a system's address, the agent's public URL, an
	// origin, a telemetry endpoint), in bytes: well above real ones and
	// below what every proxy and server accepts.
	MaxURL = 2048
	// MaxSetting bounds one text setting of a system, in bytes.
	MaxSetting = 4096
	// MaxID bounds an identifier a caller sends back (a record id, a
	// cursor, a subscription), in bytes.
	MaxID = 256
	// MaxString is the ceiling of any string in any request, in bytes;
	// fields that need more (an import document) say so.
	MaxString = 64 << 10
)

// Name checks a display name: required, at most limit characters, valid
// UTF-8, and free of control, bidirectional-control and separator
// characters. It returns the name without surrounding spaces. The error
// message starts with a verb phrase ("is longer than...") to follow the
// field's name.
func Name(s string, limit int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("is required")
	}
	if err := Line(s, limit); err != nil {
		return "", err
	}
	return s, nil
}

// Line checks one line of text shown to people: at most limit characters,
// valid UTF-8, no control, bidirectional-control or separator characters.
// An empty string passes.
func Line(s string, limit int) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > limit {
		return fmt.Errorf("is longer than %d characters (it has %d)", limit, n)
	}
	for i, r := range []rune(s) {
		if why := Refused(r); why != "" {
			return fmt.Errorf("must not contain %s (%U at character %d)", why, r, i+1)
		}
	}
	return nil
}

// Bounded checks free text: valid UTF-8 and at most limit bytes. Text may
// hold line breaks and any character (a description, a template).
func Bounded(s string, limit int) error {
	if len(s) > limit {
		return fmt.Errorf("is longer than %d bytes (it has %d)", limit, len(s))
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("is not valid UTF-8")
	}
	return nil
}

// Refused says why r may not appear in a name or a line, or "" when it may.
func Refused(r rune) string {
	switch {
	case r == utf8.RuneError:
		return "the replacement character (invalid UTF-8)"
	case unicode.IsControl(r):
		return "control characters"
	case r == '\u2028' || r == '\u2029' || unicode.In(r, unicode.Zl, unicode.Zp):
		return "line or paragraph separators"
	case bidi(r):
		return "bidirectional text controls"
	case r == '\uFEFF' || r == '\u200B' || r == '\u2060' || r == '\u00AD':
		return "invisible characters"
	case unicode.In(r, unicode.Co, unicode.Cs) || r&0xFFFE == 0xFFFE || (r >= 0xFDD0 && r <= 0xFDEF):
		return "private-use or non-characters"
	}
	return ""
}

// bidi reports the Unicode bidirectional formatting characters: marks,
// embeddings, overrides and isolates (UAX #9), the tools of "Trojan Source"
// spoofing.
func bidi(r rune) bool {
	switch {
	case r == '\u061C', r == '\u200E', r == '\u200F':
		return true
	case r >= '\u202A' && r <= '\u202E':
		return true
	case r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}
