package license

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// State is the license state PROTOCOL.md names.
type State string

// States.
const (
	StateMissing  State = "missing"  // no license: evaluation mode
	StateInvalid  State = "invalid"  // the stored license no longer verifies: evaluation rules
	StateValid    State = "valid"    // more than 60 days left
	StateExpiring State = "expiring" // 60 days or fewer left
	StateGrace    State = "grace"    // expired, sync continues until the grace period ends
	StateExpired  State = "expired"  // grace over: sync of licensed kinds stops
)

// Policy constants.
const (
	// EvaluationDays is how long every kind works without a license.
	EvaluationDays = 30
	// SandboxKind is the built-in test system: always allowed, with or
	// without a license, so demos and tests never depend on one.
	SandboxKind = "sandbox"
	// ExpiringDays starts the expiring state and its first warning.
	ExpiringDays = 60
	// ClockBackTolerance is how far the clock may go back before it counts
	// as set back (time zone or NTP corrections stay well inside it).
	ClockBackTolerance = 24 * time.Hour
	// UserWindowDays is how long a user counts after last being seen: the
	// license is annual, so it counts the people of the last year.
	UserWindowDays = 365
)

// warningDays are the expiry warnings, most urgent first.
var warningDays = []int{7, 30, ExpiringDays}

const dayDur = 24 * time.Hour

// Status is the license as the agent applies it at one moment.
type Status struct {
	State State
	// Evaluation is true when there is no usable license (missing or
	// invalid): sandbox always works, other kinds until EvaluationEndsAt.
	Evaluation         bool
	EvaluationEndsAt   time.Time // set when Evaluation
	EvaluationEnded    bool
	EvaluationDaysLeft int
	// Problem says why the state is invalid.
	Problem string

	// From the license, when one is installed (also when invalid because
	// it is not valid yet).
	Customer       string
	LicenseID      string
	KeyID          string
	IssuedAt       time.Time
	NotBefore      time.Time
	ExpiresAt      time.Time
	GraceEndsAt    time.Time
	AllowedSystems []string
	Features       []string
	MaxUsers       int
	DaysLeft       int // until expiry, in valid and expiring

	UsersSeen int
	OverLimit bool // users seen exceed max users: a warning and the telemetry flag, never a stop

	// ClockBack is true while the clock is more than a day behind the
	// latest time the agent has seen; the license is then evaluated at
	// that latest time (At).
	ClockBack bool
	At        time.Time // the time the status was evaluated at

	Warnings []string
}

// daysCeil counts started days: 59 days and 1 hour left is 60 days left.
func daysCeil(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + dayDur - 1) / dayDur)
}

// evaluate is the state machine, a pure function of the license (or why it
// is unusable), the evaluation start and the time.
func evaluate(lic *License, problem error, initAt, at time.Time) Status {
	s := Status{At: at}
	if lic != nil {
		p := lic.Payload
		s.Customer, s.LicenseID, s.KeyID = p.Customer, p.LicenseID, p.KeyID
		s.IssuedAt, s.NotBefore, s.ExpiresAt, s.GraceEndsAt = p.IssuedAt, p.NotBefore, p.ExpiresAt, p.GraceEndsAt()
		s.AllowedSystems, s.Features, s.MaxUsers = slices.Clone(p.AllowedSystems), slices.Clone(p.Features), p.MaxUsers
		switch {
		case at.Before(p.NotBefore):
			// Import refuses such a license; it appears only with a
			// restored store. It grants nothing before its start.
			problem = &FileError{Kind: ErrNotYetValid, Msg: "the license is valid from " + dateOf(p.NotBefore)}
		case at.Before(p.ExpiresAt.Add(-ExpiringDays * dayDur)):
			s.State, s.DaysLeft = StateValid, daysCeil(p.ExpiresAt.Sub(at))
			return s
		case at.Before(p.ExpiresAt):
			s.State, s.DaysLeft = StateExpiring, daysCeil(p.ExpiresAt.Sub(at))
			s.Warnings = append(s.Warnings, fmt.Sprintf("The license expires on %s (%d days left). Import the renewed license before then.",
				dateOf(p.ExpiresAt), s.DaysLeft))
			return s
		case at.Before(s.GraceEndsAt):
			s.State = StateGrace
			s.Warnings = append(s.Warnings, fmt.Sprintf("The license expired on %s. Sync continues during the grace period, until %s; import the renewed license.",
				dateOf(p.ExpiresAt), dateOf(s.GraceEndsAt)))
			return s
		default:
			s.State = StateExpired
			s.Warnings = append(s.Warnings, fmt.Sprintf("The license expired on %s and its grace period ended on %s: sync of licensed systems has stopped (sandbox still runs). Configuration stays readable and editable and no data is deleted; import a renewed license to resume.",
				dateOf(p.ExpiresAt), dateOf(s.GraceEndsAt)))
			return s
		}
	}
	s.State = StateMissing
	if problem != nil {
		s.State, s.Problem = StateInvalid, problem.Error()
		s.Warnings = append(s.Warnings, "The installed license is not usable: "+s.Problem+".")
	}
	s.Evaluation = true
	s.EvaluationEndsAt = initAt.Add(EvaluationDays * dayDur)
	if at.Before(s.EvaluationEndsAt) {
		s.EvaluationDaysLeft = daysCeil(s.EvaluationEndsAt.Sub(at))
		s.Warnings = append(s.Warnings, fmt.Sprintf("Evaluation mode: every system kind works until %s (%d days left), the sandbox kind always. Import a license to keep syncing other kinds.",
			dateOf(s.EvaluationEndsAt), s.EvaluationDaysLeft))
	} else {
		s.EvaluationEnded = true
		s.Warnings = append(s.Warnings, fmt.Sprintf("Evaluation mode: the %d-day evaluation ended on %s; only sandbox systems sync. Import a license to sync other kinds.",
			EvaluationDays, dateOf(s.EvaluationEndsAt)))
	}
	return s
}

// Licensed reports whether a license is in force (valid, expiring, grace or
// expired), as opposed to evaluation mode.
func (s Status) Licensed() bool { return !s.Evaluation }

// phase is the state as announced: the evaluation's end is a change too.
func (s Status) phase() string {
	if s.Evaluation && s.EvaluationEnded {
		return string(s.State) + ":evaluation_ended"
	}
	return string(s.State)
}

// ErrNotAllowed is what a refusal by the license matches (errors.Is); the
// RPC layer answers it with kind "license".
var ErrNotAllowed = errors.New("not allowed by the license")

// NotAllowedError is a refusal by the license.
type NotAllowedError struct {
	Kind   string // the system kind refused
	State  State
	Reason string
}

func (e *NotAllowedError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrNotAllowed) true.
func (e *NotAllowedError) Is(target error) bool { return target == ErrNotAllowed }

// AllowsKind says whether a system of kind may be created or activated
// under s: sandbox always; in evaluation any kind until it ends; with a
// license, the kinds it lists, whatever its state (an expired license
// still lets an admin edit the configuration it covers).
func (s Status) AllowsKind(kind string) error {
	if kind == SandboxKind {
		return nil
	}
	if s.Evaluation {
		if !s.EvaluationEnded {
			return nil
		}
		return &NotAllowedError{Kind: kind, State: s.State, Reason: fmt.Sprintf(
			"the %d-day evaluation ended on %s: import a license to use %s systems (sandbox systems work without one)",
			EvaluationDays, dateOf(s.EvaluationEndsAt), kind)}
	}
	if !slices.Contains(s.AllowedSystems, kind) {
		return &NotAllowedError{Kind: kind, State: s.State, Reason: fmt.Sprintf(
			"the license does not include %s systems (it allows: %s)", kind, strings.Join(s.AllowedSystems, ", "))}
	}
	return nil
}

// SyncAllowed says whether a sync process over systems of these kinds may
// run: every kind allowed, and a license not past its grace period.
func (s Status) SyncAllowed(kinds []string) error {
	for _, k := range kinds {
		if err := s.AllowsKind(k); err != nil {
			return err
		}
		if k != SandboxKind && s.State == StateExpired {
			return &NotAllowedError{Kind: k, State: s.State, Reason: fmt.Sprintf(
				"the license expired on %s and its grace period ended on %s: sync of %s systems is stopped until a renewed license is imported",
				dateOf(s.ExpiresAt), dateOf(s.GraceEndsAt), k)}
		}
	}
	return nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// Wire is the status as license.get and license.import answer it.
func (s Status) Wire() apitype.LicenseInfo {
	in := apitype.LicenseInfo{
		State: string(s.State), Problem: s.Problem, Customer: s.Customer, LicenseID: s.LicenseID, KeyID: s.KeyID,
		NotBefore: timePtr(s.NotBefore), ExpiresAt: timePtr(s.ExpiresAt), Features: slices.Clone(s.Features),
		AllowedSystems: slices.Clone(s.AllowedSystems), MaxUsers: s.MaxUsers, UsersSeen: s.UsersSeen, OverLimit: s.OverLimit,
		Warnings: slices.Clone(s.Warnings),
	}
	if s.Evaluation {
		in.EvaluationEndsAt = timePtr(s.EvaluationEndsAt)
	}
	if s.State == StateExpiring || s.State == StateGrace || s.State == StateExpired {
		in.GraceEndsAt = timePtr(s.GraceEndsAt)
	}
	return in
}

// Summary is the short form agent.info carries ({state, expiresAt}).
func (s Status) Summary() (state string, expiresAt *time.Time) {
	return string(s.State), timePtr(s.ExpiresAt)
}

// Text is a human-readable report for `lockstep-agent license show`.
func (s Status) Text() string {
	in := s.Wire()
	if s.LicenseID != "" {
		in.GraceEndsAt = timePtr(s.GraceEndsAt)
	}
	return Report(in)
}

// Report is the report of `lockstep-agent license show` from the wire form,
// so the command reads the same whether it asked a running agent or opened
// a stopped one's store.
func Report(in apitype.LicenseInfo) string {
	var b strings.Builder
	state := in.State
	if in.EvaluationEndsAt != nil {
		state += " (evaluation mode)"
	}
	fmt.Fprintf(&b, "State:            %s\n", state)
	if in.Problem != "" {
		fmt.Fprintf(&b, "Problem:          %s\n", in.Problem)
	}
	if in.EvaluationEndsAt != nil {
		fmt.Fprintf(&b, "Evaluation ends:  %s\n", in.EvaluationEndsAt.UTC().Format(time.RFC3339))
	}
	if in.LicenseID != "" {
		fmt.Fprintf(&b, "Customer:         %s\n", in.Customer)
		fmt.Fprintf(&b, "License id:       %s (key %s)\n", in.LicenseID, in.KeyID)
		fmt.Fprintf(&b, "Valid:            %s to %s\n", timeText(in.NotBefore), timeText(in.ExpiresAt))
		if in.GraceEndsAt != nil {
			fmt.Fprintf(&b, "Grace ends:       %s\n", timeText(in.GraceEndsAt))
		}
		fmt.Fprintf(&b, "Allowed systems:  %s\n", strings.Join(in.AllowedSystems, ", "))
		if len(in.Features) > 0 {
			fmt.Fprintf(&b, "Features:         %s\n", strings.Join(in.Features, ", "))
		}
		fmt.Fprintf(&b, "Users:            %d seen, %d allowed\n", in.UsersSeen, in.MaxUsers)
	} else {
		fmt.Fprintf(&b, "Users:            %d seen\n", in.UsersSeen)
	}
	for _, w := range in.Warnings {
		fmt.Fprintf(&b, "Warning:          %s\n", w)
	}
	return b.String()
}

func timeText(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
