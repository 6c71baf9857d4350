package bridge

import (
	"errors"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient"
	"github.com/lockstep-sync/lockstep/desktop/internal/profile"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// The desktop's own error kinds, beside the protocol's.
const (
	KindFingerprintMismatch = "fingerprint_mismatch"
	KindNotConnected        = "not_connected"
	KindCanceled            = string(protocol.KindCanceled)
)

// Error is what a rejected bridge promise carries in JS: {kind, message},
// plus the invalid field(s) when the agent named them, so forms can show
// each at its input.
type Error struct {
	Kind    string           `json:"kind"`
	Message string           `json:"message"`
	Field   string           `json:"field,omitempty"`
	Issues  []protocol.Issue `json:"issues,omitempty"`
}

func (e *Error) Error() string { return e.Message }

func newError(kind protocol.Kind, msg string) *Error {
	return &Error{Kind: string(kind), Message: msg}
}

// invalid marks a local validation failure (the agent was not asked).
func invalid(err error) *Error {
	return &Error{Kind: string(protocol.KindInvalid), Message: err.Error()}
}

var errNotConnected = &Error{Kind: KindNotConnected, Message: "Not connected to an agent."}

// FormatError turns any error a bridge method returns into the {kind,
// message} object the UI receives. It is the Wails ErrorFormatter and the
// harness's error encoder, so both speak the same shape. Messages are the
// errors' own texts, which never carry a password or token: the client keeps
// those out of every error it builds.
func FormatError(err error) *Error {
	if err == nil {
		return nil
	}
	var be *Error
	if errors.As(err, &be) {
		return be
	}
	var mm *agentclient.FingerprintMismatchError
	if errors.As(err, &mm) {
		return &Error{Kind: KindFingerprintMismatch, Message: mm.Error()}
	}
	var pe *protocol.Error
	if errors.As(err, &pe) {
		// The agent's own message (e.g. a lockout's "try again in 15 minutes")
		// is what the administrator needs, without our call-site prefixes.
		e := &Error{Kind: string(pe.ErrorKind()), Message: pe.Message}
		if pe.Data != nil {
			e.Field, e.Issues = pe.Data.Field, pe.Data.Issues
		}
		return e
	}
	if errors.Is(err, profile.ErrNotFound) {
		return &Error{Kind: string(protocol.KindNotFound), Message: err.Error()}
	}
	if errors.Is(err, agentclient.ErrClosed) {
		return &Error{Kind: KindNotConnected, Message: err.Error()}
	}
	return &Error{Kind: string(agentclient.KindOf(err)), Message: err.Error()}
}
