package connector

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The privacy statement promises that the agent keeps about entities only
// ids, keys, titles, types, versions and hashes. Errors end up stored (run
// records, parked entities, pairs) and logged, so an error about a field
// value names the field, the entity and at most the value's digest: never
// the value. Names a system's schema lists (statuses, priorities, the
// allowed values of an enum) are configuration, not entity content, and
// may be named.

// Digest names a value in an error or a log line without quoting it:
// "sha256:" and the first 12 hex digits of the SHA-256 of its text (a
// string as it is, a number as Go prints it, anything else as JSON). An
// administrator who suspects a value can compare: printf %s 'value' |
// sha256sum.
func Digest(v any) string {
	sum := sha256.Sum256([]byte(valueText(v)))
	return "sha256:" + hex.EncodeToString(sum[:6])
}

func valueText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int, int64, int32, uint64, json.Number:
		return fmt.Sprint(x)
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}

// DescribeUser names a person an error is about: the system's id for them
// (an id, which the statement allows), and only digests of an email or a
// name.
func DescribeUser(u User) string {
	var parts []string
	if u.ID != "" {
		parts = append(parts, "id "+strconv.Quote(u.ID))
	}
	if u.Email != "" {
		parts = append(parts, "email "+Digest(u.Email))
	}
	if u.Name != "" && u.Name != u.Email {
		parts = append(parts, "name "+Digest(u.Name))
	}
	if len(parts) == 0 {
		return "nobody"
	}
	return strings.Join(parts, ", ")
}

// minHidden is the shortest value HideValues replaces: a shorter one is
// as easily guessed from its digest, and replacing it would garble the
// words of the message around it.
const minHidden = 2

// HideValues replaces, in text a system sent back (an error message, a
// list of what it did), every value of values, and every line of a
// multi-line one, with its Digest: systems quote what they were sent
// ("Status 'x' is not valid", "Priority changed from 'a' to 'b'"). Forms
// as JSON escapes them are replaced too.
func HideValues(text string, values []string) string {
	if text == "" || len(values) == 0 {
		return text
	}
	var forms []string
	seen := map[string]bool{}
	add := func(s string) {
		if s = strings.TrimSpace(s); len(s) >= minHidden && !seen[s] {
			seen[s] = true
			forms = append(forms, s)
		}
	}
	for _, v := range values {
		for _, piece := range append([]string{v}, strings.Split(v, "\n")...) {
			add(piece)
			if j, err := json.Marshal(piece); err == nil {
				add(strings.Trim(string(j), `"`))
			}
		}
	}
	// Longest first: a value that contains another is replaced whole.
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	for _, f := range forms {
		text = replaceValue(text, f)
	}
	return text
}

// wordLen is the length below which a value is replaced only as a whole
// word: "add" or "open" inside "address" or "reopened" is not the value.
const wordLen = 8

func replaceValue(text, v string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, v)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		end := i + len(v)
		whole := len(v) >= wordLen || (i == 0 || !wordByte(text[i-1])) && (end == len(text) || !wordByte(text[end]))
		if whole {
			b.WriteString(text[:i])
			b.WriteString(Digest(v))
		} else {
			b.WriteString(text[:end])
		}
		text = text[end:]
	}
}

func wordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

// Texts lists the strings and numbers in a JSON-like value (what a
// request carried), for HideValues. Map keys are field names, not values,
// and are left out.
func Texts(v any) []string {
	var out []string
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 32 {
			return
		}
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case float64, json.Number, int, int64:
			out = append(out, fmt.Sprint(x))
		case []any:
			for _, e := range x {
				walk(e, depth+1)
			}
		case []string:
			out = append(out, x...)
		case map[string]any:
			for _, e := range x {
				walk(e, depth+1)
			}
		case Fields:
			for _, e := range x {
				walk(e, depth+1)
			}
		case User:
			out = append(out, x.ID, x.Email, x.Name)
		case *User:
			if x != nil {
				out = append(out, x.ID, x.Email, x.Name)
			}
		}
	}
	walk(v, 0)
	return out
}
