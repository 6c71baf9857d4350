package auth

import (
	"errors"
	"fmt"
	"time"
)

// Error kinds. The RPC layer maps them to wire kinds with errors.Is/As:
//
//	ErrUnauthorized -> unauthorized   (bad credentials, unknown user, bad or expired session)
//	*LockedError    -> locked_out     (data.retryAfterSeconds = RetryAfterSeconds())
//	ErrNotFound     -> not_found
//	ErrConflict     -> conflict       (username taken, last admin, already bootstrapped)
//	*InvalidError   -> invalid        (data.field = Field)
//
// No message ever contains a password, a token or a hash.
var (
	ErrUnauthorized = errors.New("not logged in")
	ErrNotFound     = errors.New("account not found")
	ErrConflict     = errors.New("conflict")
)

// More specific errors; each one matches its kind with errors.Is.
var (
	// ErrBadCredentials is the one answer to a wrong password and an unknown
	// username alike, so a login never tells which accounts exist.
	ErrBadCredentials error = &kindError{"invalid username or password", ErrUnauthorized}
	// ErrSessionExpired means the token was valid but its idle or absolute
	// timeout has passed; the RPC layer emits SessionExpired for it.
	ErrSessionExpired error = &kindError{"session expired: log in again", ErrUnauthorized}
	// ErrLastAdmin refuses deleting, demoting or locking the last usable administrator.
	ErrLastAdmin error = &kindError{"the last administrator cannot be deleted, demoted or locked: make another account admin first", ErrConflict}
	// ErrUsernameTaken refuses a username that exists in any letter case.
	ErrUsernameTaken error = &kindError{"username is already taken", ErrConflict}
	// ErrInitialized refuses Bootstrap once any account exists.
	ErrInitialized error = &kindError{"accounts already exist: bootstrap only creates the first administrator", ErrConflict}
)

// kindError is a sentinel with its own message that still matches its kind,
// so callers can branch on the kind and show people the precise message.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

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

// InvalidError is bad input; Field names the parameter ("username",
// "password", "role", "id").
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Message }
