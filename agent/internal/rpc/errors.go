package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/lockstep-sync/lockstep/agent/internal/auth"
	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/license"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// toWire translates a component's error into the wire's kinds; this and the
// desktop bridge are the only places that know both vocabularies. Domain
// errors are recognised by their fault kind, not their type; only what is
// the API's own business has its own case: a session (auth's lockout,
// login throttling and unauthorized) and the license. Internal errors are
// logged here and reach the client without their detail, which could name
// paths or store keys.
func (s *Server) toWire(method string, err error) *protocol.Error {
	var pe *protocol.Error
	var locked *auth.LockedError
	var input fault.Input
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.As(err, &locked):
		e := protocol.Errorf(protocol.KindLockedOut, "%s", locked.Error())
		e.Data.RetryAfterSeconds = locked.RetryAfterSeconds()
		return e
	case errors.Is(err, license.ErrNotAllowed):
		return protocol.Errorf(protocol.KindLicense, "%s", err.Error())
	case errors.As(err, &input):
		// The input error's own text: wrapping context is for logs.
		e := protocol.Invalid(input.InvalidField(), "%s", input.Error())
		if list, ok := input.(fault.IssueLister); ok {
			for _, is := range list.Issues() {
				e.Data.Issues = append(e.Data.Issues, protocol.Issue{Field: is.Field, Message: is.Message})
			}
		}
		return e
	case errors.Is(err, auth.ErrBusy):
		e := protocol.Errorf(protocol.KindRateLimited, "%s", auth.ErrBusy.Error())
		e.Data.RetryAfterSeconds = 2
		return e
	case errors.Is(err, auth.ErrUnauthorized):
		return protocol.Errorf(protocol.KindUnauthorized, "%s", err.Error())
	case errors.Is(err, fault.ErrInvalid):
		return protocol.Invalid("", "%s", err.Error())
	case errors.Is(err, fault.ErrNotFound):
		return protocol.Errorf(protocol.KindNotFound, "%s", err.Error())
	case errors.Is(err, fault.ErrConflict):
		return protocol.Errorf(protocol.KindConflict, "%s", err.Error())
	case errors.Is(err, fault.ErrForbidden):
		return protocol.Errorf(protocol.KindForbidden, "%s", err.Error())
	case errors.Is(err, fault.ErrUnavailable):
		return protocol.Errorf(protocol.KindUnavailable, "%s", err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return protocol.Errorf(protocol.KindTimeout, "%s took too long", method)
	case errors.Is(err, context.Canceled):
		return protocol.Errorf(protocol.KindCanceled, "%s was canceled", method)
	}
	id := newErrorID()
	s.log.Error().Err(err).Str("method", method).Str("error_id", id).Msg("method failed")
	return &protocol.Error{Code: protocol.CodeInternal, Message: "internal error (see the agent log, error id " + id + ")",
		Data: &protocol.ErrorData{Kind: protocol.KindInternal}}
}

func newErrorID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
