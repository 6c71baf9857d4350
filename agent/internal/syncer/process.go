// Package syncer is the sync engine: it keeps the entities of two systems in
// lockstep according to a sync process, with no duplicates (intent records
// and peer-key markers), no echoes (hashes of what was last written or read),
// conflicts detected against the last-synced base, a durable queue, parked
// errors, and a record of every run.
//
// It has three parts. Processes (processes.go, document.go) is the
// process-configuration service: it validates, stores, audits and
// announces changes to sync processes, and tells the engine what a change
// means to it. Views (views.go, health.go) are the read models: pairs,
// runs, parked errors, the queue and health, read from the store. The
// Engine (engine.go, run.go and the files of an item's work) runs the
// processes and the administrator's commands on pairs.
package syncer

import (
	"fmt"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/input"
)

// The process document and the engine's read models are the wire types
// of shared/apitype (one definition for the store, the export, the API and
// the desktop); the engine names them here.
type (
	// Side names one end of a process.
	Side = apitype.Side
	// Process is a sync process's configuration.
	Process = apitype.Process
	// End is one side of a process: a system and its project scope.
	End = apitype.ProcessEnd
	// Options of a process.
	Options = apitype.ProcessOptions
	// Deletes holds a deletion policy per side.
	Deletes = apitype.Deletes
	// DeletePolicy is what happens to the peer of a deleted entity.
	DeletePolicy = apitype.DeletePolicy
	// Schedule of a process.
	Schedule = apitype.Schedule
	// ConflictPolicy says who wins a field changed on both sides.
	ConflictPolicy = apitype.ConflictPolicy
	// DeleteAction is what happens to the peer of a deleted entity.
	DeleteAction = apitype.DeleteAction
)

// The two sides.
const (
	SideA = apitype.SideA
	SideB = apitype.SideB
)

// Conflict policies.
const (
	ConflictAWins = apitype.ConflictAWins
	ConflictBWins = apitype.ConflictBWins
	ConflictHold  = apitype.ConflictHold
)

// Deletion actions.
const (
	DeleteIgnore = apitype.DeleteIgnore
	DeleteMirror = apitype.DeleteMirror
	DeleteMark   = apitype.DeleteMark
)

// FieldError is a validation failure naming the offending field path.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError collects every field error of a configuration.
type ValidationError struct {
	Errors []FieldError
}

// InvalidField implements fault.Input: the first problem's field.
func (e *ValidationError) InvalidField() string {
	if len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Field
}

// Issues implements fault.IssueLister: every problem.
func (e *ValidationError) Issues() []fault.Issue {
	out := make([]fault.Issue, len(e.Errors))
	for i, fe := range e.Errors {
		out[i] = fault.Issue{Field: fe.Field, Message: fe.Message}
	}
	return out
}

// Is makes a validation failure fault.ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == fault.ErrInvalid }

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Errors))
	for _, fe := range e.Errors {
		parts = append(parts, fe.Error())
	}
	return "invalid sync process: " + strings.Join(parts, "; ")
}

// validateShape checks what needs no system: names, options, schedule.
func validateShape(p *Process) []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if _, err := input.Name(p.Name, input.MaxName); err != nil {
		add("name", "%v", err)
	}
	for _, e := range []struct {
		field string
		end   End
	}{{"a", p.A}, {"b", p.B}} {
		if e.end.System == "" {
			add(e.field+".system", "is required")
		}
		if e.end.Project == "" {
			add(e.field+".project", "is required")
		}
	}
	if p.A.System != "" && p.A.System == p.B.System && p.A.Project == p.B.Project {
		add("b.project", "must differ from a's: a process syncs two different scopes")
	}
	if len(p.Types) == 0 {
		add("types", "needs at least one entity-type pair")
	}
	switch p.Options.Conflict {
	case ConflictAWins, ConflictBWins, ConflictHold:
	case "":
		p.Options.Conflict = ConflictHold
	default:
		add("options.conflict", "must be a_wins, b_wins or hold")
	}
	if p.Options.MaxAttachmentBytes < 0 {
		add("options.maxAttachmentBytes", "must not be negative")
	}
	for _, d := range []struct {
		field  string
		policy DeletePolicy
	}{{"options.deletes.a", p.Options.Deletes.A}, {"options.deletes.b", p.Options.Deletes.B}} {
		switch d.policy.Action {
		case "", DeleteIgnore, DeleteMirror:
		case DeleteMark:
			if d.policy.Field == "" && d.policy.Comment == "" {
				add(d.field+".field", "mark needs a field to set or a comment to add")
			}
			if len(d.policy.Comment) > 2000 {
				add(d.field+".comment", "is longer than 2000 characters")
			}
		default:
			add(d.field+".action", "must be ignore, mirror or mark")
		}
	}
	if p.Schedule.PollSeconds != 0 && (p.Schedule.PollSeconds < 5 || p.Schedule.PollSeconds > 86400) {
		add("schedule.pollSeconds", "must be between 5 and 86400")
	}
	return errs
}
