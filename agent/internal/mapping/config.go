package mapping

import "github.com/lockstep-sync/lockstep/shared/apitype"

// The configuration a sync process stores, exports as YAML and the desktop
// edits is the process document of shared/apitype: this package names its
// parts and gives them their behaviour (Validate, Apply, MatchFilters...),
// so the wire and the engine share one definition.

type (
	// Side names one end of a process: "a" or "b".
	Side = apitype.Side
	// Direction says which way a field flows.
	Direction = apitype.Direction
	// TypePair pairs an entity type of system A with one of system B.
	TypePair = apitype.TypePair
	// FieldPair pairs a field of A with a field of B.
	FieldPair = apitype.FieldPair
	// ValueMap maps values (status, priority...) between the two sides.
	ValueMap = apitype.ValueMap
	// ValuePair is one row of a value map.
	ValuePair = apitype.ValuePair
	// UserMap maps people between the two systems.
	UserMap = apitype.UserMap
	// UserEntry says that A and B are the same person.
	UserEntry = apitype.UserEntry
	// UserRef identifies a person by any of account id, email and name.
	UserRef = apitype.UserRef
	// MatchBy says how a user map recognises a person.
	MatchBy = apitype.MatchBy
	// OnMissing says what a value or user map does with a value it lacks.
	OnMissing = apitype.OnMissing
	// TransformKind names a transform.
	TransformKind = apitype.TransformKind
	// FilterOp is a filter's operator.
	FilterOp = apitype.FilterOp
	// Transform changes a value on its way to the target.
	Transform = apitype.Transform
	// Filter is one condition on an entity's field.
	Filter = apitype.Filter
	// LinkTypePair pairs a link type of A with one of B.
	LinkTypePair = apitype.LinkTypePair
)

// Directions. Apply takes AtoB or BtoA; a field pair may also say Both.
const (
	AtoB = apitype.AtoB
	BtoA = apitype.BtoA
	Both = apitype.Both
)

// What to do when a value or user map has no entry for a value.
const (
	OnMissingDefault = apitype.OnMissingDefault
	OnMissingError   = apitype.OnMissingError
	OnMissingKeep    = apitype.OnMissingKeep
	OnMissingEmpty   = apitype.OnMissingEmpty
)

// How a user map recognises a person.
const (
	MatchAuto  = apitype.MatchAuto
	MatchID    = apitype.MatchID
	MatchEmail = apitype.MatchEmail
	MatchName  = apitype.MatchName
)

// Transform kinds.
const (
	TransformConstant       = apitype.TransformConstant
	TransformTemplate       = apitype.TransformTemplate
	TransformRegex          = apitype.TransformRegex
	TransformMarkdownToHTML = apitype.TransformMarkdownToHTML
	TransformHTMLToMarkdown = apitype.TransformHTMLToMarkdown
	TransformMarkdownToText = apitype.TransformMarkdownToText
	TransformHTMLToText     = apitype.TransformHTMLToText
)

// Filter operators.
const (
	OpEq          = apitype.OpEq
	OpNeq         = apitype.OpNeq
	OpIn          = apitype.OpIn
	OpNotIn       = apitype.OpNotIn
	OpContains    = apitype.OpContains
	OpNotContains = apitype.OpNotContains
	OpEmpty       = apitype.OpEmpty
	OpNotEmpty    = apitype.OpNotEmpty
	OpGt          = apitype.OpGt
	OpLt          = apitype.OpLt
	OpMatches     = apitype.OpMatches
)

// Sides a filter can look at.
const (
	SideA = apitype.SideA
	SideB = apitype.SideB
)

// source, target and transform name the sides of a field pair for one
// direction.
func source(f FieldPair, dir Direction) string {
	if dir == BtoA {
		return f.B
	}
	return f.A
}

func target(f FieldPair, dir Direction) string {
	if dir == BtoA {
		return f.A
	}
	return f.B
}

// targetSide is "a" or "b": the JSON name of dir's target.
func targetSide(dir Direction) string {
	if dir == BtoA {
		return "a"
	}
	return "b"
}

func transformOf(f FieldPair, dir Direction) *Transform {
	if dir == BtoA {
		return f.TransformBToA
	}
	return f.TransformAToB
}
