package apitype

import "time"

// Field types of a system kind's schema.
const (
	FieldString   = "string"
	FieldURL      = "url"
	FieldInt      = "int"
	FieldBool     = "bool"
	FieldSecret   = "secret"
	FieldSelect   = "select"
	FieldDuration = "duration"
)

// KindField is one setting or secret of a system kind, enough for the
// desktop app to generate a form.
type KindField struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Secret   bool     `json:"secret"`
	Help     string   `json:"help,omitempty"`
	Options  []string `json:"options,omitempty"`
	Default  any      `json:"default,omitempty"`
}

// Kind is a system kind the connector registry offers.
type Kind struct {
	Kind   string      `json:"kind"`
	Title  string      `json:"title"`
	Fields []KindField `json:"fields"`
}

// KindsResult lists the kinds.
type KindsResult struct {
	Kinds []Kind `json:"kinds"`
}

// SecretState is all the API ever says about a secret.
type SecretState struct {
	Set bool `json:"set"`
}

// System is one configured work-system instance.
type System struct {
	ID        string                 `json:"id"`
	Name      string                 `json:"name"`
	Kind      string                 `json:"kind"`
	URL       string                 `json:"url"`
	Settings  map[string]any         `json:"settings"`
	Secrets   map[string]SecretState `json:"secrets"`
	CreatedAt time.Time              `json:"createdAt"`
	UpdatedAt time.Time              `json:"updatedAt"`
}

// SystemsListResult lists systems.
type SystemsListResult struct {
	Systems []System `json:"systems"`
}

// SystemResult wraps one system.
type SystemResult struct {
	System System `json:"system"`
}

// SystemsCreateParams create a system.
type SystemsCreateParams struct {
	Name     string            `json:"name"`
	Kind     string            `json:"kind"`
	URL      string            `json:"url"`
	Settings map[string]any    `json:"settings,omitempty"`
	Secrets  map[string]Secret `json:"secrets,omitempty"`
}

// SystemsUpdateParams change a system. Omitted fields keep their value; a
// secret omitted keeps its value and "" clears it; Settings, when present,
// replace the settings whole.
type SystemsUpdateParams struct {
	ID       string            `json:"id"`
	Name     *string           `json:"name,omitempty"`
	URL      *string           `json:"url,omitempty"`
	Settings map[string]any    `json:"settings,omitempty"`
	Secrets  map[string]Secret `json:"secrets,omitempty"`
}

// SystemsTestResult is the outcome of a connection test.
type SystemsTestResult struct {
	OK        bool   `json:"ok"`
	Message   string `json:"message"`
	LatencyMs int64  `json:"latencyMs"`
}
