package connector

import (
	"context"
	"errors"
	"slices"

	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// kinds are the errors a caller tells failures apart by.
var kinds = []error{ErrNotFound, ErrConflict, ErrUnauthorized, ErrForbidden, ErrInvalid, ErrRateLimited, ErrUnavailable,
	context.Canceled, context.DeadlineExceeded}

// scrubbed is an error whose text had secrets removed. It unwraps to the
// kinds the original matched, not to the original itself, whose details
// (the start of the answer an httpx.StatusError keeps) may hold the
// secret even when its text does not.
type scrubbed struct {
	msg   string
	kinds []error
}

func (s scrubbed) Error() string   { return s.msg }
func (s scrubbed) Unwrap() []error { return s.kinds }

// ScrubSecret removes secrets that travelled in a request body (a
// webhook's signing secret) from an error: a server may quote the body
// back in its message, as is, JSON-escaped or URL-encoded; whole
// occurrences only (see secret.Scrub). The client
// layer scrubs only the credentials it was given. errors.Is still finds
// the error's kind (ErrInvalid...); errors.As no longer reaches the
// original's details.
func ScrubSecret(err error, secrets ...string) error {
	if err == nil || !slices.ContainsFunc(secrets, func(s string) bool { return s != "" }) {
		return err
	}
	msg := secret.Scrub(err.Error(), secrets...)
	out := scrubbed{msg: msg}
	for _, k := range kinds {
		if errors.Is(err, k) {
			out.kinds = append(out.kinds, k)
		}
	}
	return out
}
