// Package syncer is the sync engine: it keeps the entities of two systems in
// lockstep according to a sync process, with no duplicates (intent records
// and peer-key markers), no echoes (hashes of what was last written or read),
// conflicts detected against the last-synced base, a durable queue, parked
// errors, and a record of every run.
package syncer

import (
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/shared/input"
)

// Side names one end of a process.
type Side string

// The two sides.
const (
	SideA Side = "a"
	SideB Side = "b"
)

// Other returns the opposite side.
func (s Side) Other() Side {
	if s == SideA {
		return SideB
	}
	return SideA
}

// Conflict policies.
const (
	ConflictAWins = "a_wins"
	ConflictBWins = "b_wins"
	ConflictHold  = "hold"
)

// End is one side of a process: a system and its project scope.
type End struct {
	System  string `json:"system" yaml:"system"`
	Project string `json:"project" yaml:"project"`
}

// Options of a process.
type Options struct {
	CreateInA          bool   `json:"createInA" yaml:"createInA"`
	CreateInB          bool   `json:"createInB" yaml:"createInB"`
	Comments           bool   `json:"comments" yaml:"comments"`
	Attachments        bool   `json:"attachments" yaml:"attachments"`
	MaxAttachmentBytes int64  `json:"maxAttachmentBytes" yaml:"maxAttachmentBytes"`
	WritePeerKey       bool   `json:"writePeerKey" yaml:"writePeerKey"`
	Conflict           string `json:"conflict" yaml:"conflict"`
	// Deletes says what happens to a peer when an entity is deleted.
	Deletes Deletes `json:"deletes,omitzero" yaml:"deletes,omitempty"`
}

// Deletion actions.
const (
	DeleteIgnore = "ignore" // the peer stays; the pair says deleted
	DeleteMirror = "mirror" // the peer is deleted too
	DeleteMark   = "mark"   // the peer gets a field value and a comment
)

// Deletes holds a deletion policy per side: A is what happens to B's
// entity when A's is deleted, and B the reverse.
type Deletes struct {
	A DeletePolicy `json:"a,omitzero" yaml:"a,omitempty"`
	B DeletePolicy `json:"b,omitzero" yaml:"b,omitempty"`
}

// DeletePolicy is what happens to the peer of a deleted entity.
type DeletePolicy struct {
	Action string `json:"action,omitempty" yaml:"action,omitempty"` // ignore (default), mirror, mark
	// Field and Value: mark sets this field of the peer to this value.
	Field string `json:"field,omitempty" yaml:"field,omitempty"`
	Value string `json:"value,omitempty" yaml:"value,omitempty"`
	// Comment is added to the peer when marking ({key} and {system} are
	// the deleted entity's key and system); empty takes a default.
	Comment string `json:"comment,omitempty" yaml:"comment,omitempty"`
}

// OnDelete is the policy for a deletion on side s.
func (p *Process) OnDelete(s Side) DeletePolicy {
	d := p.Options.Deletes.B
	if s == SideA {
		d = p.Options.Deletes.A
	}
	if d.Action == "" {
		d.Action = DeleteIgnore
	}
	return d
}

// Schedule of a process.
type Schedule struct {
	PollSeconds int  `json:"pollSeconds" yaml:"pollSeconds"`
	Webhooks    bool `json:"webhooks" yaml:"webhooks"`
}

// Process is a sync process's configuration.
type Process struct {
	ID        string             `json:"id" yaml:"id,omitempty"`
	Name      string             `json:"name" yaml:"name"`
	A         End                `json:"a" yaml:"a"`
	B         End                `json:"b" yaml:"b"`
	Types     []mapping.TypePair `json:"types" yaml:"types"`
	Users     mapping.UserMap    `json:"users" yaml:"users"`
	Options   Options            `json:"options" yaml:"options"`
	Schedule  Schedule           `json:"schedule" yaml:"schedule"`
	Active    bool               `json:"active" yaml:"active"`
	CreatedAt time.Time          `json:"createdAt" yaml:"-"`
	UpdatedAt time.Time          `json:"updatedAt" yaml:"-"`
}

// End returns the end of side s.
func (p *Process) End(s Side) End {
	if s == SideA {
		return p.A
	}
	return p.B
}

// CanCreateIn reports whether entities may be created in side s.
func (p *Process) CanCreateIn(s Side) bool {
	if s == SideA {
		return p.Options.CreateInA
	}
	return p.Options.CreateInB
}

// PollInterval is the time between scheduled runs.
func (p *Process) PollInterval() time.Duration {
	if p.Schedule.PollSeconds <= 0 {
		return time.Minute
	}
	return time.Duration(p.Schedule.PollSeconds) * time.Second
}

// typePair returns the entity-type pair for an entity of type typ on side s.
func (p *Process) typePair(s Side, typ string) (mapping.TypePair, bool) {
	for _, tp := range p.Types {
		if (s == SideA && strings.EqualFold(tp.A, typ)) || (s == SideB && strings.EqualFold(tp.B, typ)) {
			return tp, true
		}
	}
	return mapping.TypePair{}, false
}

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
func (p *Process) validateShape() []FieldError {
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
