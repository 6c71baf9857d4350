package mapping

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// HashVersion prefixes every hash. Stored hashes outlive releases: if the
// normalisation ever changes, the prefix changes with it, and the engine
// can tell "old hash" from "the value changed" instead of seeing every
// field of every pair as changed at once.
const HashVersion = "h1"

// Hash returns a stable content hash of a field value for echo suppression:
// the engine stores the hash of what it wrote or read per field and compares
// it with the hash of what it sees later. Values that a system hands back
// differently but that mean the same thing hash equal:
//
//   - nothing: nil, "", whitespace only, an empty list or map and a user
//     with no identity are all the same empty value (systems disagree on
//     how a cleared field reads back);
//   - text: CRLF and CR become LF, Unicode is NFC, trailing spaces on each
//     line, runs of blank lines and surrounding whitespace are dropped
//     (rich-text editors and converters change exactly those);
//   - text that is an RFC 3339 time (also Jira's "+0000" offset) is that
//     instant in UTC, whatever the precision and offset it was written in;
//   - numbers have one canonical text (2, 2.0 and -0 vs 0 alike), and a
//     number equals the string of its canonical text: "2" == 2 but
//     "2.0" != 2, so a version field "1.10" never equals "1.1"; booleans
//     likewise equal "true" and "false";
//   - lists are sets: order and duplicates do not count, empty elements are
//     dropped (labels, tags, multi-selects: no system keeps their order);
//   - users compare by account id when they have one, else by email, else
//     by display name, ignoring case;
//   - maps compare by their non-empty entries.
//
// The hash is the first 128 bits of a SHA-256, hex, after HashVersion.
func Hash(v any) string {
	var b bytes.Buffer
	encodeHash(&b, v)
	sum := sha256.Sum256(b.Bytes())
	return HashVersion + ":" + hex.EncodeToString(sum[:16])
}

// encodeHash writes an unambiguous encoding of v's normal form: a tag byte,
// then length-prefixed parts.
func encodeHash(b *bytes.Buffer, v any) {
	if isEmpty(v) {
		b.WriteByte('0')
		return
	}
	if u, ok := toUser(v); ok {
		key, kind := u.ID, "i"
		switch {
		case strings.TrimSpace(u.ID) != "":
		case strings.TrimSpace(u.Email) != "":
			key, kind = u.Email, "e"
		default:
			key, kind = u.Name, "n"
		}
		writePart(b, 'u', kind+fold(key))
		return
	}
	if l, ok := list(v); ok {
		parts := make([]string, 0, len(l))
		for _, e := range l {
			if isEmpty(e) {
				continue
			}
			var eb bytes.Buffer
			encodeHash(&eb, e)
			parts = append(parts, eb.String())
		}
		sort.Strings(parts)
		b.WriteByte('l')
		prev := ""
		for i, p := range parts {
			if i > 0 && p == prev {
				continue
			}
			prev = p
			writePart(b, 'e', p)
		}
		return
	}
	if m, ok := v.(map[string]any); ok {
		keys := make([]string, 0, len(m))
		for k, e := range m {
			if !isEmpty(e) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		b.WriteByte('m')
		for _, k := range keys {
			writePart(b, 'k', k)
			var eb bytes.Buffer
			encodeHash(&eb, m[k])
			writePart(b, 'v', eb.String())
		}
		return
	}
	switch x := v.(type) {
	case string:
		writePart(b, 's', normalText(x))
		return
	case time.Time:
		writePart(b, 's', x.UTC().Format(time.RFC3339Nano))
		return
	}
	if s, ok := scalarString(v); ok {
		writePart(b, 's', s)
		return
	}
	// Not a value connectors send; hash what a person would read.
	writePart(b, 'x', display(v))
}

func writePart(b *bytes.Buffer, tag byte, s string) {
	b.WriteByte(tag)
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
}

// Layouts of the times systems write: RFC 3339 and Jira's offset without
// a colon.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"}

// normalText is the normal form of text for Hash.
func normalText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = norm.NFC.String(s)
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\u00a0")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	s = strings.TrimSpace(strings.Join(out, "\n"))
	if len(s) >= 20 && len(s) <= 40 && s[4] == '-' && (s[10] == 'T' || s[10] == 't') {
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC().Format(time.RFC3339Nano)
			}
		}
	}
	return s
}
