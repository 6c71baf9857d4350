package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/fault"
)

// Error kinds. The RPC layer maps them to wire kinds with errors.Is/As:
//
//	ErrUnauthorized      -> unauthorized   (bad credentials, unknown user, bad or expired session)
//	*LockedError         -> locked_out     (data.retryAfterSeconds = RetryAfterSeconds())
//	ErrNotFound          -> not_found      (fault.ErrNotFound)
//	ErrConflict          -> conflict       (fault.ErrConflict: username taken, last admin, already bootstrapped)
//	*fault.InvalidError  -> invalid        (data.field = Field)
//
// No message ever contains a password, a token or a hash.
var (
	ErrUnauthorized = errors.New("not logged in")
	ErrNotFound     = fault.New(fault.ErrNotFound, "account not found")
	ErrConflict     = fault.New(fault.ErrConflict, "conflict")
)

// More specific errors; each one matches its kind with errors.Is.
var (
	// ErrBadCredentials is the one answer to a wrong password and an unknown
	// username alike, so a login never tells which accounts exist.
	ErrBadCredentials = fault.New(ErrUnauthorized, "invalid username or password")
	// ErrSessionExpired means the token was valid but its idle or absolute
	// timeout has passed; the RPC layer emits SessionExpired for it.
	ErrSessionExpired = fault.New(ErrUnauthorized, "session expired: log in again")
	// ErrLastAdmin refuses deleting, demoting or locking the last usable administrator.
	ErrLastAdmin = fault.New(ErrConflict, "the last administrator cannot be deleted, demoted or locked: make another account admin first")
	// ErrUsernameTaken refuses a username that exists in any letter case.
	ErrUsernameTaken = fault.New(ErrConflict, "username is already taken")
	// ErrInitialized refuses Bootstrap once any account exists.
	ErrInitialized = fault.New(ErrConflict, "accounts already exist: bootstrap only creates the first administrator")
)

// LockedError refuses a login to a locked account.
type LockedError struct {
	// RetryAfter is how long the automatic lock still lasts; zero means the
	// account was locked by an administrator and stays locked until unlocked.
	RetryAfter time.Duration
}

func (e *LockedError) Error() string {
	if e.RetryAfter <= 0 {
		return "account is locked: ask an administrator to unlock it"
	}
	return fmt.Sprintf("account is locked after too many failed logins: try again in %s", e.RetryAfter.Round(time.Second))
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds (at least 1
// for an automatic lock), the value of the wire's data.retryAfterSeconds;
// 0 means "until an administrator unlocks it".
func (e *LockedError) RetryAfterSeconds() int {
	if e.RetryAfter <= 0 {
		return 0
	}
	return int((e.RetryAfter + time.Second - 1) / time.Second)
}
