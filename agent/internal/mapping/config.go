package mapping

// The configuration a sync process stores, exports as YAML and the desktop
// edits. Zero values are meaningful where noted so that a hand-written YAML
// file can stay short.

// Direction says which way a field flows.
type Direction string

// Directions. Apply takes AtoB or BtoA; a field pair may also say Both.
const (
	AtoB Direction = "a_to_b"
	BtoA Direction = "b_to_a"
	Both Direction = "both"
)

// Flows reports whether a field pair configured with d flows in dir.
func (d Direction) Flows(dir Direction) bool {
	return d == Both || d == dir
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

// source, target and transform name the sides of a pair for one direction.
func (f FieldPair) source(dir Direction) string {
	if dir == BtoA {
		return f.B
	}
	return f.A
}

func (f FieldPair) target(dir Direction) string {
	if dir == BtoA {
		return f.A
	}
	return f.B
}

// targetSide is "a" or "b": the JSON name of dir's target.
func (f FieldPair) targetSide(dir Direction) string {
	if dir == BtoA {
		return "a"
	}
	return "b"
}

func (f FieldPair) transform(dir Direction) *Transform {
	if dir == BtoA {
		return f.TransformBToA
	}
	return f.TransformAToB
}

// What to do when a value or user map has no entry for a value.
const (
	// OnMissingDefault uses DefaultA or DefaultB.
	OnMissingDefault = "default"
	// OnMissingError fails the field with an error naming field and value.
	OnMissingError = "error"
	// OnMissingKeep passes the source value through unchanged.
	OnMissingKeep = "keep"
	// OnMissingEmpty clears the target field.
	OnMissingEmpty = "empty"
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
	OnMissing string      `json:"onMissing,omitempty" yaml:"onMissing,omitempty"`
}

// ValuePair is one row of a value map.
type ValuePair struct {
	A string `json:"a" yaml:"a"`
	B string `json:"b" yaml:"b"`
}

// How a user map recognises a person.
const (
	// MatchAuto tries the account id, then the email, then the display name.
	MatchAuto  = "auto"
	MatchID    = "id"
	MatchEmail = "email"
	MatchName  = "name"
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
	MatchBy   string      `json:"matchBy,omitempty" yaml:"matchBy,omitempty"`
	DefaultA  *UserRef    `json:"defaultA,omitempty" yaml:"defaultA,omitempty"`
	DefaultB  *UserRef    `json:"defaultB,omitempty" yaml:"defaultB,omitempty"`
	OnMissing string      `json:"onMissing,omitempty" yaml:"onMissing,omitempty"`
}

// UserEntry says that A and B are the same person.
type UserEntry struct {
	A UserRef `json:"a" yaml:"a"`
	B UserRef `json:"b" yaml:"b"`
}

// UserRef identifies a person by any of account id, email and display name.
// It has connector.User's fields with YAML tags and omitempty, so exported
// user maps stay short.
type UserRef struct {
	ID    string `json:"id,omitempty" yaml:"id,omitempty"`
	Email string `json:"email,omitempty" yaml:"email,omitempty"`
	Name  string `json:"name,omitempty" yaml:"name,omitempty"`
}

// Transform kinds.
const (
	TransformConstant       = "constant"
	TransformTemplate       = "template"
	TransformRegex          = "regex"
	TransformMarkdownToHTML = "markdown_to_html"
	TransformHTMLToMarkdown = "html_to_markdown"
	TransformMarkdownToText = "markdown_to_text"
	TransformHTMLToText     = "html_to_text"
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
	Kind    string `json:"kind" yaml:"kind"`
	Value   string `json:"value,omitempty" yaml:"value,omitempty"`
	Pattern string `json:"pattern,omitempty" yaml:"pattern,omitempty"`
	Replace string `json:"replace,omitempty" yaml:"replace,omitempty"`
}

// Filter operators.
const (
	OpEq          = "eq"
	OpNeq         = "neq"
	OpIn          = "in"
	OpNotIn       = "not_in"
	OpContains    = "contains"
	OpNotContains = "not_contains"
	OpEmpty       = "empty"
	OpNotEmpty    = "not_empty"
	OpGt          = "gt"
	OpLt          = "lt"
	OpMatches     = "matches"
)

// Sides a filter can look at.
const (
	SideA = "a"
	SideB = "b"
)

// Filter is one condition on an entity's field; a type pair's filters are
// ANDed. Side says whose entities it tests: "a" (the default) or "b".
type Filter struct {
	Side  string `json:"side,omitempty" yaml:"side,omitempty"`
	Field string `json:"field" yaml:"field"`
	Op    string `json:"op" yaml:"op"`
	Value any    `json:"value,omitempty" yaml:"value,omitempty"`
}

// LinkTypePair pairs a link type of A with one of B.
type LinkTypePair struct {
	A string `json:"a" yaml:"a"`
	B string `json:"b" yaml:"b"`
}
