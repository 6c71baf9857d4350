package agentclient

import (
	"context"
	"errors"

	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Transport and session errors. Errors the agent returns are *protocol.Error
// instead; KindOf maps both to the protocol's kinds.
var (
	// ErrClosed: Close was called.
	ErrClosed = errors.New("agent client closed")
	// ErrConnectionLost: the connection dropped while the call was in flight.
	// The call may or may not have run on the agent; it is not re-sent.
	ErrConnectionLost = errors.New("connection to agent lost")
	// ErrSessionExpired: the agent no longer accepts the session (it expired,
	// was revoked, or the agent restarted without it). Reconnecting stops
	// until Login succeeds.
	ErrSessionExpired = errors.New("session expired; log in again")
	// ErrNotLoggedIn: Resume without a session to resume.
	ErrNotLoggedIn = errors.New("not logged in")
	// ErrFrameTooLarge: the request exceeds the agent's frame limit; it was
	// not sent.
	ErrFrameTooLarge = errors.New("request too large")
)

// KindOf classifies any error this package returns by the protocol's error
// kinds, so the UI can branch the same way on agent and transport errors.
// It returns "" for nil.
func KindOf(err error) protocol.Kind {
	if err == nil {
		return ""
	}
	var pe *protocol.Error
	switch {
	case errors.As(err, &pe):
		return pe.ErrorKind()
	case errors.Is(err, ErrSessionExpired), errors.Is(err, ErrNotLoggedIn):
		return protocol.KindUnauthorized
	case errors.Is(err, ErrFrameTooLarge):
		return protocol.KindInvalid
	case errors.Is(err, context.DeadlineExceeded):
		return protocol.KindTimeout
	case errors.Is(err, context.Canceled):
		return protocol.KindCanceled
	}
	// Closed, lost, unreachable, refused pin: the agent is not available.
	return protocol.KindUnavailable
}
