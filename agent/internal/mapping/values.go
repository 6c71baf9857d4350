package mapping

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Helpers over the JSON-like values connectors hand over: string, float64,
// bool, []string, map[string]any, nil, plus connector.User for people. They
// also accept what a JSON or YAML round trip makes of those ([]any,
// map[string]any users, integers) so a value read back from the store or a
// test fixture behaves like the original.

// isEmpty reports whether v carries nothing: nil, a blank string, an empty
// list or map, or a user with no identity.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []string:
		for _, s := range x {
			if strings.TrimSpace(s) != "" {
				return false
			}
		}
		return true
	case []any:
		for _, e := range x {
			if !isEmpty(e) {
				return false
			}
		}
		return true
	case map[string]any:
		if u, ok := toUser(x); ok {
			return u == (connector.User{})
		}
		return len(x) == 0
	case connector.User:
		return x == (connector.User{})
	case *connector.User:
		return x == nil || *x == (connector.User{})
	}
	return false
}

// formatNumber is the canonical text of a number: no exponent for the
// numbers tickets carry, no trailing zeros, and no negative zero.
func formatNumber(f float64) string {
	switch {
	case f == 0:
		return "0"
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.Abs(f) >= 1e21 || math.Abs(f) < 1e-6:
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// scalarString returns the text of a scalar value; ok is false for lists,
// maps, users and nil.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return formatNumber(x), true
	case float32:
		return formatNumber(float64(x)), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return formatNumber(f), true
		}
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// number returns v as a float64 when it is a number or the text of one.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

// list returns the elements of a list value, or nil and false.
func list(v any) ([]any, bool) {
	switch x := v.(type) {
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, true
	case []any:
		return x, true
	case []connector.User:
		out := make([]any, len(x))
		for i, u := range x {
			out[i] = u
		}
		return out, true
	}
	return nil, false
}

// toUser recognises a person: mapping's UserRef, or whatever
// connector.AsUser takes for one (the one reading every layer shares).
func toUser(v any) (connector.User, bool) {
	switch x := v.(type) {
	case UserRef:
		return UserOf(x), true
	case *UserRef:
		if x == nil {
			return connector.User{}, false
		}
		return UserOf(*x), true
	}
	return connector.AsUser(v)
}

// UserOf converts a reference to the connector's type.
func UserOf(r UserRef) connector.User {
	return connector.User{ID: r.ID, Email: r.Email, Name: r.Name}
}

// display is the text a person would read for v: what templates insert and
// what regex transforms and filters work on.
func display(v any) string {
	if s, ok := scalarString(v); ok {
		return s
	}
	if u, ok := toUser(v); ok {
		switch {
		case u.Name != "":
			return u.Name
		case u.Email != "":
			return u.Email
		}
		return u.ID
	}
	if l, ok := list(v); ok {
		parts := make([]string, 0, len(l))
		for _, e := range l {
			if s := display(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	}
	if v == nil {
		return ""
	}
	// A map or a type no connector should send: JSON is at least readable
	// and deterministic (encoding/json sorts map keys).
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// fold is the key value maps, filters and hashes of users compare by:
// case, surrounding space and Unicode composition ("é" typed as e and a
// combining accent) do not count.
func fold(s string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
}
