package apitype

import (
	"strings"
	"time"
)

// The process document: the configuration a sync process stores, exports as
// YAML (processes.export) and the desktop edits. The agent's mapping package
// gives it its behaviour (validation, defaults, Apply) and the sync engine
// runs it; both use these types, so the JSON and YAML a process travels as
// are defined once. Zero values are meaningful where noted so that a
// hand-written YAML file can stay short. JSON and YAML use the same
// camelCase names, and validation errors name fields by them.

// Side names one end of a process: "a" or "b".
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

// Direction says which way a field flows.
type Direction string

// Directions. A field pair says one of them; a flow (mapping.Apply) is
// AtoB or BtoA.
const (
	AtoB Direction = "a_to_b"
	BtoA Direction = "b_to_a"
	Both Direction = "both"
)

// Flows reports whether a field pair configured with d flows in dir. A
// field pair without a direction flows nowhere.
func (d Direction) Flows(dir Direction) bool {
	return d == Both || d == dir
}

// Process is a sync process's configuration. The agent sets CreatedAt and
// UpdatedAt; a client leaves them out of processes.create and .update.
type Process struct {
	ID        string         `json:"id" yaml:"id,omitempty"`
	Name      string         `json:"name" yaml:"name"`
	A         ProcessEnd     `json:"a" yaml:"a"`
	B         ProcessEnd     `json:"b" yaml:"b"`
	Types     []TypePair     `json:"types" yaml:"types"`
	Users     UserMap        `json:"users" yaml:"users"`
	Options   ProcessOptions `json:"options" yaml:"options"`
	Schedule  Schedule       `json:"schedule" yaml:"schedule"`
	Active    bool           `json:"active" yaml:"active"`
	CreatedAt time.Time      `json:"createdAt" yaml:"-" ts:"optional"`
	UpdatedAt time.Time      `json:"updatedAt" yaml:"-" ts:"optional"`
}

// End returns the end of side s.
func (p *Process) End(s Side) ProcessEnd {
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

// PollInterval is the time between scheduled runs (a minute when unset).
func (p *Process) PollInterval() time.Duration {
	if p.Schedule.PollSeconds <= 0 {
		return time.Minute
	}
	return time.Duration(p.Schedule.PollSeconds) * time.Second
}

// OnDelete is the policy for a deletion on side s (ignore when unset).
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

// TypePairOf returns the entity-type pair for an entity of type typ on
// side s (type names compare ignoring case).
func (p *Process) TypePairOf(s Side, typ string) (TypePair, bool) {
	for _, tp := range p.Types {
		if (s == SideA && strings.EqualFold(tp.A, typ)) || (s == SideB && strings.EqualFold(tp.B, typ)) {
			return tp, true
		}
	}
	return TypePair{}, false
}

// ProcessEnd is one side of a process: a system and its project scope.
type ProcessEnd struct {
	System  string `json:"system" yaml:"system"`
	Project string `json:"project" yaml:"project"`
}

// ConflictPolicy says who wins a field changed on both sides.
type ConflictPolicy string

// Conflict policies; empty is hold.
const (
	ConflictAWins ConflictPolicy = "a_wins"
	ConflictBWins ConflictPolicy = "b_wins"
	ConflictHold  ConflictPolicy = "hold"
)

// ProcessOptions are what a process copies and how.
type ProcessOptions struct {
	CreateInA          bool           `json:"createInA" yaml:"createInA"`
	CreateInB          bool           `json:"createInB" yaml:"createInB"`
	Comments           bool           `json:"comments" yaml:"comments"`
	Attachments        bool           `json:"attachments" yaml:"attachments"`
	MaxAttachmentBytes int64          `json:"maxAttachmentBytes" yaml:"maxAttachmentBytes"`
	WritePeerKey       bool           `json:"writePeerKey" yaml:"writePeerKey"`
	Conflict           ConflictPolicy `json:"conflict" yaml:"conflict"`
	// Deletes says what happens to a peer when an entity is deleted.
	Deletes Deletes `json:"deletes,omitzero" yaml:"deletes,omitempty"`
}

// DeleteAction is what happens to the peer of a deleted entity.
type DeleteAction string

// Deletion actions.
const (
	DeleteIgnore DeleteAction = "ignore" // the peer stays; the pair says deleted
	DeleteMirror DeleteAction = "mirror" // the peer is deleted too
	DeleteMark   DeleteAction = "mark"   // the peer gets a field value and a comment
)

// Deletes holds a deletion policy per side: A is what happens to B's
// entity when A's is deleted, and B the reverse.
type Deletes struct {
	A DeletePolicy `json:"a,omitzero" yaml:"a,omitempty"`
	B DeletePolicy `json:"b,omitzero" yaml:"b,omitempty"`
}

// DeletePolicy is what happens to the peer of a deleted entity.
type DeletePolicy struct {
	Action DeleteAction `json:"action,omitempty" yaml:"action,omitempty"` // ignore (default), mirror, mark
	// Field and Value: mark sets this field of the peer to this value.
	Field string `json:"field,omitempty" yaml:"field,omitempty"`
	Value string `json:"value,omitempty" yaml:"value,omitempty"`
	// Comment is added to the peer when marking ({key} and {system} are
	// the deleted entity's key and system); empty takes a default.
	Comment string `json:"comment,omitempty" yaml:"comment,omitempty"`
}

// Schedule of a process.
type Schedule struct {
	PollSeconds int  `json:"pollSeconds" yaml:"pollSeconds"`
	Webhooks    bool `json:"webhooks" yaml:"webhooks"`
}

// TypePair pairs an entity type of system A with one of system B.
type TypePair struct {
	A         string         `json:"a" yaml:"a"`
	B         string         `json:"b" yaml:"b"`
	Fields    []FieldPair    `json:"fields" yaml:"fields"`
	Filters   []Filter       `json:"filters,omitempty" yaml:"filters,omitempty"`
	LinkTypes []LinkTypePair `json:"linkTypes,omitempty" yaml:"linkTypes,omitempty"`
}

// FieldPair pairs a field of A with a field of B.
//
// The source side may be empty when the transform of every direction that
// flows computes its value on its own (constant or template): "set B's
// origin to 'Jira'" needs no A field.
type FieldPair struct {
	A         string    `json:"a" yaml:"a"`
	B         string    `json:"b" yaml:"b"`
	Direction Direction `json:"direction" yaml:"direction"`
	ValueMap  *ValueMap `json:"valueMap,omitempty" yaml:"valueMap,omitempty"`
	// UserMap makes the value go through the process's user map.
	UserMap       bool       `json:"userMap,omitempty" yaml:"userMap,omitempty"`
	TransformAToB *Transform `json:"transformAToB,omitempty" yaml:"transformAToB,omitempty"`
	TransformBToA *Transform `json:"transformBToA,omitempty" yaml:"transformBToA,omitempty"`
}

// OnMissing says what happens when a value or user map has no entry for a
// value.
type OnMissing string

// What to do when a value or user map has no entry for a value.
const (
	// OnMissingDefault uses DefaultA or DefaultB.
	OnMissingDefault OnMissing = "default"
	// OnMissingError fails the field with an error naming field and value.
	OnMissingError OnMissing = "error"
	// OnMissingKeep passes the source value through unchanged.
	OnMissingKeep OnMissing = "keep"
	// OnMissingEmpty clears the target field.
	OnMissingEmpty OnMissing = "empty"
)

// ValueMap maps values (status, priority...) between the two sides.
//
// Matching ignores case and surrounding space. Several A values may map to
// one B value (and the other way round); against the flow of a pair, the
// first pair in list order whose value matches wins, so put the preferred
// reverse mapping first.
//
// An empty OnMissing means "default" when the direction has a default and
// "error" when it has none: a value nobody mapped is never guessed.
type ValueMap struct {
	Pairs     []ValuePair `json:"pairs" yaml:"pairs"`
	DefaultA  *string     `json:"defaultA,omitempty" yaml:"defaultA,omitempty"`
	DefaultB  *string     `json:"defaultB,omitempty" yaml:"defaultB,omitempty"`
	OnMissing OnMissing   `json:"onMissing,omitempty" yaml:"onMissing,omitempty"`
}

// ValuePair is one row of a value map.
type ValuePair struct {
	A string `json:"a" yaml:"a"`
	B string `json:"b" yaml:"b"`
}

// MatchBy says how a user map recognises a person.
type MatchBy string

// How a user map recognises a person.
const (
	// MatchAuto tries the account id, then the email, then the display name.
	MatchAuto  MatchBy = "auto"
	MatchID    MatchBy = "id"
	MatchEmail MatchBy = "email"
	MatchName  MatchBy = "name"
)

// UserMap maps people between the two systems; a process has one and the
// field pairs with UserMap set use it.
//
// An empty MatchBy is MatchAuto. An empty OnMissing means "default" when
// the direction has a default and "keep" otherwise: people in two systems of
// one organisation usually share an email, which the target connector can
// resolve.
type UserMap struct {
	Entries   []UserEntry `json:"entries" yaml:"entries"`
	MatchBy   MatchBy     `json:"matchBy,omitempty" yaml:"matchBy,omitempty"`
	DefaultA  *UserRef    `json:"defaultA,omitempty" yaml:"defaultA,omitempty"`
	DefaultB  *UserRef    `json:"defaultB,omitempty" yaml:"defaultB,omitempty"`
	OnMissing OnMissing   `json:"onMissing,omitempty" yaml:"onMissing,omitempty"`
}

// UserEntry says that A and B are the same person.
type UserEntry struct {
	A UserRef `json:"a" yaml:"a"`
	B UserRef `json:"b" yaml:"b"`
}

// UserRef identifies a person by any of account id, email and display name.
// It has a connector user's fields with omitempty, so exported user maps
// stay short.
type UserRef struct {
	ID    string `json:"id,omitempty" yaml:"id,omitempty"`
	Email string `json:"email,omitempty" yaml:"email,omitempty"`
	Name  string `json:"name,omitempty" yaml:"name,omitempty"`
}

// TransformKind names a transform.
type TransformKind string

// Transform kinds.
const (
	TransformConstant       TransformKind = "constant"
	TransformTemplate       TransformKind = "template"
	TransformRegex          TransformKind = "regex"
	TransformMarkdownToHTML TransformKind = "markdown_to_html"
	TransformHTMLToMarkdown TransformKind = "html_to_markdown"
	TransformMarkdownToText TransformKind = "markdown_to_text"
	TransformHTMLToText     TransformKind = "html_to_text"
)

// Transform changes a value on its way to the target.
//
//   - constant: Value, whatever the source says.
//   - template: Value with {{name}} placeholders replaced by the source
//     entity's fields, and {{id}}, {{key}}, {{title}}, {{url}}, {{type}} by
//     its metadata. Deliberately not text/template: an administrator's string
//     must not be able to call functions or loop.
//   - regex: every match of Pattern (RE2 syntax) replaced by Replace ($1 and
//     ${name} expand groups).
//   - the conversions between Markdown, HTML and plain text.
type Transform struct {
	Kind    TransformKind `json:"kind" yaml:"kind"`
	Value   string        `json:"value,omitempty" yaml:"value,omitempty"`
	Pattern string        `json:"pattern,omitempty" yaml:"pattern,omitempty"`
	Replace string        `json:"replace,omitempty" yaml:"replace,omitempty"`
}

// FilterOp is a filter's operator.
type FilterOp string

// Filter operators.
const (
	OpEq          FilterOp = "eq"
	OpNeq         FilterOp = "neq"
	OpIn          FilterOp = "in"
	OpNotIn       FilterOp = "not_in"
	OpContains    FilterOp = "contains"
	OpNotContains FilterOp = "not_contains"
	OpEmpty       FilterOp = "empty"
	OpNotEmpty    FilterOp = "not_empty"
	OpGt          FilterOp = "gt"
	OpLt          FilterOp = "lt"
	OpMatches     FilterOp = "matches"
)

// Filter is one condition on an entity's field; a type pair's filters are
// ANDed. Side says whose entities it tests: "a" (the default) or "b".
// Value is a string, number or boolean, or a list of them for in and
// not_in.
type Filter struct {
	Side  Side     `json:"side,omitempty" yaml:"side,omitempty"`
	Field string   `json:"field" yaml:"field"`
	Op    FilterOp `json:"op" yaml:"op"`
	Value any      `json:"value,omitempty" yaml:"value,omitempty"`
}

// LinkTypePair pairs a link type of A with one of B.
type LinkTypePair struct {
	A string `json:"a" yaml:"a"`
	B string `json:"b" yaml:"b"`
}
