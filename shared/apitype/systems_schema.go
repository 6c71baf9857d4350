package apitype

// Value types of a schema field (systems.schema): what the sync engine
// reads and writes for the field.
const (
	SchemaTypeString   = "string"
	SchemaTypeText     = "text" // Markdown
	SchemaTypeNumber   = "number"
	SchemaTypeBool     = "bool"
	SchemaTypeDate     = "date" // YYYY-MM-DD
	SchemaTypeDateTime = "datetime"
	SchemaTypeEnum     = "enum"
	SchemaTypeLabels   = "labels" // a list of strings
	SchemaTypeUser     = "user"
)

// SystemsSchemaParams name a system and the project scope to describe. An
// empty project means the project set on the system, for connectors that
// have one.
type SystemsSchemaParams struct {
	ID      string `json:"id"`
	Project string `json:"project,omitempty"`
}

// SchemaField is one field of a project as the sync engine sees it.
type SchemaField struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Values   []string `json:"values,omitempty"` // allowed values of an enum
	ReadOnly bool     `json:"readOnly,omitempty"`
	Required bool     `json:"required,omitempty"`
}

// SchemaUser is a person of the system, for user maps.
type SchemaUser struct {
	ID    string `json:"id"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

// SystemsSchemaResult is what a system holds in one project: the names a
// sync process may use for entity types, fields and link types.
type SystemsSchemaResult struct {
	System      string        `json:"system"`
	Project     string        `json:"project"`
	EntityTypes []string      `json:"entityTypes"`
	Fields      []SchemaField `json:"fields"`
	LinkTypes   []string      `json:"linkTypes"`
	// TypeValues narrows a field's allowed values for one entity type
	// (type -> field -> values), where the system says so; a field not
	// named here allows its Values in every type.
	TypeValues map[string]map[string][]string `json:"typeValues,omitempty"`
	// Users are the system's people. They carry emails, so they are sent
	// only to the operator and admin roles; UsersOmitted says they were
	// left out for this caller (rather than the system having none).
	Users        []SchemaUser `json:"users,omitempty"`
	UsersOmitted bool         `json:"usersOmitted,omitempty"`
	// Attachments says what the system makes of the other side's
	// attachments when it cannot hold files (GitHub issues):
	// AttachmentsComment or AttachmentsSkip. Empty: it stores them.
	Attachments string `json:"attachments,omitempty"`
}

// What a system that cannot hold files does with attachments.
const (
	// AttachmentsComment: a comment names each file and links the item
	// that has it.
	AttachmentsComment = "comment"
	// AttachmentsSkip: they are left out and counted as skipped.
	AttachmentsSkip = "skip"
)
