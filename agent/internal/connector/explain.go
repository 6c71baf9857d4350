package connector

import (
	"context"
	"errors"
	"fmt"
)

// Causes: the classes of a connector error an administrator acts on
// differently. Cause picks one; Explain says it in words.
const (
	CauseUnauthorized = "unauthorized"
	CauseForbidden    = "forbidden"
	CauseNotFound     = "not_found"
	CauseUnavailable  = "unavailable"
	CauseRateLimited  = "rate_limited"
	CauseInvalid      = "invalid"
	CauseConflict     = "conflict"
	CauseCanceled     = "canceled"
	CauseOther        = "other"
)

// Cause classifies err by the contract's errors. A cancelled context (the
// agent stopping) is its own class: it says nothing about the system.
func Cause(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return CauseCanceled
	case errors.Is(err, ErrUnauthorized):
		return CauseUnauthorized
	case errors.Is(err, ErrForbidden):
		return CauseForbidden
	case errors.Is(err, ErrNotFound):
		return CauseNotFound
	case errors.Is(err, ErrRateLimited):
		return CauseRateLimited
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return CauseUnavailable
	case errors.Is(err, ErrConflict):
		return CauseConflict
	case errors.Is(err, ErrInvalid):
		return CauseInvalid
	}
	return CauseOther
}

// Explain says what a cause means for a system (its name) and project, and
// what to do about it: one sentence each, for people, never the raw error.
// project may be empty when the failure was not about one.
func Explain(cause, system, project string) (problem, action string) {
	if system == "" {
		system = "The system"
	}
	switch cause {
	case CauseUnauthorized:
		return fmt.Sprintf("%s refused the credentials (HTTP 401): the token or password is wrong, expired or revoked.", system),
			fmt.Sprintf("Enter a valid token or password for %s on the Systems page, then test the connection.", system)
	case CauseForbidden:
		return fmt.Sprintf("%s accepted the credentials but denied access (HTTP 403).", system),
			fmt.Sprintf("Give the account Lockstep signs in with read and write access to the project in %s, or use another account.", system)
	case CauseNotFound:
		if project != "" {
			return fmt.Sprintf("Project %s was not found in %s: it was deleted, renamed or moved, or the account cannot see it.", project, system),
				fmt.Sprintf("Check that project %s exists in %s and that Lockstep's account can see it, or change the project in the process.", project, system)
		}
		return fmt.Sprintf("%s answered that what Lockstep asked for does not exist (HTTP 404): the URL may point at the wrong server or path.", system),
			fmt.Sprintf("Check the URL of %s on the Systems page.", system)
	case CauseUnavailable:
		return fmt.Sprintf("%s could not be reached, or answered with a server error.", system),
			fmt.Sprintf("Check that %s is running and reachable from the agent's host (address, port, firewall, proxy). Lockstep keeps retrying on its own.", system)
	case CauseRateLimited:
		return fmt.Sprintf("%s is limiting how fast Lockstep may send requests (HTTP 429).", system),
			fmt.Sprintf("Nothing to do if it passes: Lockstep waits and retries. If it persists, lower Requests per minute of %s or the process's poll frequency.", system)
	case CauseConflict:
		return fmt.Sprintf("An entity in %s changed while Lockstep was writing it.", system),
			"Nothing to do: Lockstep reads it again and retries."
	case CauseInvalid:
		return fmt.Sprintf("%s rejected what Lockstep sent (a field, a value or a setting it does not accept).", system),
			"Read the details, then check the process's mapping with a dry run on its page."
	}
	return fmt.Sprintf("Syncing with %s failed.", system), "Read the details below and the live log; test the connection on the Systems page."
}
