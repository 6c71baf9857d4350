// Package fault is the agent's small vocabulary of what went wrong, in the
// terms a caller can act on: not found, conflict, invalid (with the input
// it is about), forbidden, unavailable. Domain packages keep their own
// errors and texts, and make each one of these kinds by wrapping it (New,
// or an Is method) or by being an invalid-input error (InvalidError, or
// the Input interface). The API layer (rpc) then translates kinds, never
// domain types, so it need not import every domain package to recognise
// their errors, and a new domain error is answered right by saying its
// kind.
//
// Connector errors (connector.ErrNotFound and friends) are about a remote
// work system, not the caller's request, and are deliberately not these
// kinds: a system's missing project is not the caller's missing resource.
package fault

import (
	"errors"
	"fmt"
)

// The kinds. A domain error matches one with errors.Is.
var (
	// ErrNotFound: what the caller named does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request contradicts the current state (a name in
	// use, the last administrator, a job not finished yet).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the caller's input is wrong; the error says which input
	// (Input).
	ErrInvalid = errors.New("invalid")
	// ErrForbidden: the caller may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable: the agent cannot do it now (shutting down, a part
	// not running); trying later may work.
	ErrUnavailable = errors.New("unavailable")
)

// New returns an error whose text is text and which matches kind with
// errors.Is: a domain's own sentinel, compared by identity as before, that
// also speaks the shared vocabulary. kind may itself be such an error (a
// domain's more general sentinel), so chains like "username taken" ->
// auth's conflict -> ErrConflict hold.
func New(kind error, text string) error { return &kindError{text: text, kind: kind} }

type kindError struct {
	text string
	kind error
}

func (e *kindError) Error() string { return e.text }
func (e *kindError) Unwrap() error { return e.kind }

// Input is implemented by every error of kind ErrInvalid that knows the
// input it is about: InvalidField names it as the API does (a JSON path
// such as "origins[2]" or "types[0].fields[1].b"), so a client can show
// the message beside the control that holds the value. The error's own
// text is the message.
type Input interface {
	error
	InvalidField() string
}

// Issue is one problem of an input that has several.
type Issue struct {
	Field   string
	Message string
}

// IssueLister is implemented by invalid-input errors that gather several
// problems at once (a whole sync process's); InvalidField is then the
// first one's.
type IssueLister interface {
	Issues() []Issue
}

// InvalidError is bad input about one field, written "field: message".
type InvalidError struct {
	Field   string
	Message string
}

// Invalid returns an *InvalidError with a formatted message.
func Invalid(field, format string, args ...any) *InvalidError {
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, args...)}
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Message }

// InvalidField implements Input.
func (e *InvalidError) InvalidField() string { return e.Field }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }
