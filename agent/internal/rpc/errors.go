package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/lockstep-sync/lockstep/agent/internal/alert"
	"github.com/lockstep-sync/lockstep/agent/internal/auth"
	"github.com/lockstep-sync/lockstep/agent/internal/config"
	"github.com/lockstep-sync/lockstep/agent/internal/job"
	"github.com/lockstep-sync/lockstep/agent/internal/license"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/agent/internal/support"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/agent/internal/system"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// toWire translates a component's error into the wire's kinds; this and the
// desktop bridge are the only places that know both vocabularies. Internal
// errors are logged here and reach the client without their detail, which
// could name paths or store keys.
func (s *Server) toWire(method string, err error) *protocol.Error {
	var pe *protocol.Error
	var locked *auth.LockedError
	var authInvalid *auth.InvalidError
	var sysInvalid *system.InvalidError
	var setInvalid *config.SettingsError
	var supInvalid *support.InvalidError
	var procInvalid *syncer.ValidationError
	var licFile *license.FileError
	var licInvalid *license.InvalidError
	var alertInvalid *alert.InvalidError
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.As(err, &locked):
		e := protocol.Errorf(protocol.KindLockedOut, "%s", locked.Error())
		e.Data.RetryAfterSeconds = locked.RetryAfterSeconds()
		return e
	case errors.As(err, &authInvalid):
		return protocol.Invalid(authInvalid.Field, "%s", authInvalid.Error())
	case errors.As(err, &sysInvalid):
		return protocol.Invalid(sysInvalid.Field, "%s", sysInvalid.Error())
	case errors.As(err, &setInvalid):
		return protocol.Invalid(setInvalid.Field, "%s", setInvalid.Error())
	case errors.Is(err, license.ErrNotAllowed):
		return protocol.Errorf(protocol.KindLicense, "%s", err.Error())
	case errors.As(err, &licFile):
		return protocol.Invalid("license", "%s", licFile.Error())
	case errors.As(err, &licInvalid):
		return protocol.Invalid(licInvalid.Field, "%s", licInvalid.Error())
	case errors.As(err, &alertInvalid):
		return protocol.Invalid(alertInvalid.Field, "%s", alertInvalid.Error())
	case errors.Is(err, alert.ErrTestRunning):
		return protocol.Errorf(protocol.KindConflict, "%s", err.Error())
	case errors.As(err, &procInvalid):
		e := protocol.Invalid(procInvalid.Errors[0].Field, "%s", procInvalid.Error())
		for _, fe := range procInvalid.Errors {
			e.Data.Issues = append(e.Data.Issues, protocol.Issue{Field: fe.Field, Message: fe.Message})
		}
		return e
	case errors.Is(err, syncer.ErrNotFound):
		return protocol.Errorf(protocol.KindNotFound, "%s", err.Error())
	case errors.As(err, &supInvalid):
		return protocol.Invalid(supInvalid.Field, "%s", supInvalid.Error())
	case errors.Is(err, support.ErrNotReady), errors.Is(err, job.ErrBusy):
		return protocol.Errorf(protocol.KindConflict, "%s", err.Error())
	case errors.Is(err, support.ErrClosed):
		return protocol.Errorf(protocol.KindUnavailable, "%s", err.Error())
	case errors.Is(err, auth.ErrBusy):
		e := protocol.Errorf(protocol.KindRateLimited, "%s", auth.ErrBusy.Error())
		e.Data.RetryAfterSeconds = 2
		return e
	case errors.Is(err, auth.ErrUnauthorized):
		return protocol.Errorf(protocol.KindUnauthorized, "%s", err.Error())
	case errors.Is(err, auth.ErrNotFound), errors.Is(err, system.ErrNotFound), errors.Is(err, support.ErrNotFound), errors.Is(err, store.ErrNotFound):
		return protocol.Errorf(protocol.KindNotFound, "%s", err.Error())
	case errors.Is(err, auth.ErrConflict), errors.Is(err, system.ErrConflict):
		return protocol.Errorf(protocol.KindConflict, "%s", err.Error())
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
