package mapping

import (
	"fmt"
	"strconv"
)

// Error codes let the desktop group and translate errors; Message is the
// English sentence for logs and for when it does not.
const (
	CodeRequired      = "required"
	CodeInvalid       = "invalid"
	CodeUnknownType   = "unknown_type"
	CodeUnknownField  = "unknown_field"
	CodeReadOnly      = "read_only"
	CodeTypeMismatch  = "type_mismatch"
	CodeNotInEnum     = "not_in_enum"
	CodeBadRegex      = "bad_regex"
	CodeBadTemplate   = "bad_template"
	CodeDuplicate     = "duplicate_target"
	CodeNoMatch       = "no_match"
	CodeTransform     = "transform_failed"
	CodeUnknownLink   = "unknown_link_type"
	CodeUnusedUserMap = "user_map_unused"
)

// FieldError is a problem with one place of a mapping. Path uses the JSON
// and YAML names, e.g. "fields[2].b" from ValidatePair and Apply, or
// "types[0].fields[2].b" from ValidateTypes, so the desktop can show it at
// the control that holds the offending value.
type FieldError struct {
	Path    string `json:"path"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Path + ": " + e.Message }

// errs collects FieldErrors; its methods keep the call sites one line long.
type errs []FieldError

func (e *errs) add(path, code, format string, args ...any) {
	*e = append(*e, FieldError{Path: path, Code: code, Message: fmt.Sprintf(format, args...)})
}

// at builds "prefix[i]" or "prefix[i].suffix".
func at(prefix string, i int, suffix string) string {
	p := prefix + "[" + strconv.Itoa(i) + "]"
	if suffix != "" {
		p += "." + suffix
	}
	return p
}

// Prefix returns errs with prefix and a dot put before every path, for a
// caller that embeds a mapping in a larger document.
func Prefix(prefix string, list []FieldError) []FieldError {
	out := make([]FieldError, len(list))
	for i, e := range list {
		e.Path = prefix + "." + e.Path
		out[i] = e
	}
	return out
}

func quote[S ~string](s S) string { return strconv.Quote(string(s)) }

func itoa(i int) string { return strconv.Itoa(i) }
