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
	Kind    string      `json:"kind"`
	Title   string      `json:"title"`
	URLHelp string      `json:"urlHelp,omitempty"`
	Fields  []KindField `json:"fields"`
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
	// LastTest is the last connection test's result, kept across restarts.
	LastTest *SystemTest `json:"lastTest,omitempty"`
	// Health combines the runs of the processes that use the system and
	// its last connection test (systems.list only).
	Health *Health `json:"health,omitempty"`
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

// SystemsTestParams name a saved system to test, or describe one not yet
// saved (Kind set, ID empty) so that a form can be tested before saving.
// With ID and any of URL, Settings or Secrets, the saved system is tested
// with those changes (an omitted secret keeps its stored value). A plain
// test of a saved system is kept as its last test; a draft's test is kept
// only when exactly the connection it tested is then saved (for a saved
// system, its latest draft).
type SystemsTestParams struct {
	ID       string            `json:"id,omitempty"`
	Kind     string            `json:"kind,omitempty"`
	Name     string            `json:"name,omitempty"`
	URL      *string           `json:"url,omitempty"`
	Settings map[string]any    `json:"settings,omitempty"`
	Secrets  map[string]Secret `json:"secrets,omitempty"`
}

// SystemsTestResult is the outcome of a connection test: Message as the
// system answered, Problem and Action in words when it failed.
type SystemsTestResult struct {
	OK        bool      `json:"ok"`
	Message   string    `json:"message"`
	Problem   string    `json:"problem,omitempty"`
	Action    string    `json:"action,omitempty"`
	LatencyMs int64     `json:"latencyMs"`
	At        time.Time `json:"at"`
}
