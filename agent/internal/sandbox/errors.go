package sandbox

import (
	"fmt"
	"net/http"
)

// Error codes of the API's error body {"error":{"code","message","field"}}.
const (
	CodeInvalid      = "invalid"
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeNotFound     = "not_found"
	CodeConflict     = "conflict"
	CodeTooLarge     = "too_large"
	CodeRateLimited  = "rate_limited"
	CodeUnavailable  = "unavailable"
	CodeInternal     = "internal"
	CodeMethod       = "method_not_allowed"
)

// Error is what the store's methods return for a refused operation; the
// HTTP layer sends it as the error body with Status.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"` // the offending field of a 400
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Code + ": " + e.Field + ": " + e.Message
	}
	return e.Code + ": " + e.Message
}

// Is makes errors.Is(err, sandbox.ErrNotFound) match on the code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrNotFound = &Error{Status: http.StatusNotFound, Code: CodeNotFound}
	ErrInvalid  = &Error{Status: http.StatusBadRequest, Code: CodeInvalid}
	ErrConflict = &Error{Status: http.StatusConflict, Code: CodeConflict}
	ErrTooLarge = &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge}
)

func invalid(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) *Error {
	return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: fmt.Sprintf(format, args...)}
}

func tooLarge(format string, args ...any) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Message: fmt.Sprintf(format, args...)}
}

func internal(format string, args ...any) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: fmt.Sprintf(format, args...)}
}
