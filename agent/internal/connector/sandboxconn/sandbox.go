// Package sandboxconn is the connector of the kind "sandbox", the built-in
// sandbox work system (its server is package sandbox, its API
// docs/sandbox-api.md); the name keeps the two packages apart. It talks to
// the sandbox only over its HTTP API, through httpx, exactly as a
// connector for a third-party tracker would: it is the reference the
// others are measured against.
//
// Field names the engine sees: title, description (Markdown), status,
// priority, assignee (connector.User), labels ([]string), dueDate
// ("YYYY-MM-DD"), and each custom field as "cf.<name>". The peer marker is
// a remote link with globalId "lockstep:<system>:<key>", created in the
// same request as the item, so an item never exists without its marker.
package sandboxconn

import (
	"fmt"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// Kind is the registry name of the sandbox.
const Kind = "sandbox"

// pageSize is the sandbox's maximum page.
const pageSize = 100

// opener is Open as the registry takes it.
var opener = connector.OpenerOf(Open)

func init() {
	connector.MustRegister(connector.Spec{
		Kind:    Kind,
		Title:   "Sandbox (built-in)",
		URLHelp: "The address the sandbox serves on: `lockstep-agent sandbox serve --listen ADDR` prints it (Sandbox serving http://...), and `lockstep-agent demo` prints its two sandboxes' addresses at start.",
		Fields: append([]apitype.KindField{
			{Name: "project", Label: "Project", Type: apitype.FieldString, Help: "The key of a project in the sandbox, e.g. HELP or ENG; processes may name another."},
			{Name: "token", Label: "API token", Type: apitype.FieldSecret, Secret: true, Required: true, Help: "The token the sandbox was started with (`lockstep-agent sandbox serve --token`); `lockstep-agent demo` prints its sandboxes' tokens at start."},
		}, connector.ConnectionFields()...),
		Test: connector.ValidateTest(opener),
		Open: opener,
	})
}

// Conn is an open sandbox system.
type Conn struct {
	http    *httpx.Client
	system  string
	project string
	now     func() time.Time

	usersMu sync.Mutex
	users   map[string]connector.User
	usersAt time.Time
}

var (
	_ connector.Connector = (*Conn)(nil)
	_ connector.Webhooks  = (*Conn)(nil)
)

// Open connects to a configured sandbox. No request is made until a method
// is called. requestsPerMinute 0 sets no limit of the connector's own: the
// sandbox is local, and its rate limits (if its knobs set any) are honoured
// from its headers. When env.HTTP is set its transport is used as is, so
// allowSelfSigned is then that client's business.
func Open(cfg connector.Config, env connector.Env) (*Conn, error) {
	token := cfg.Secrets["token"]
	if !token.IsSet() {
		return nil, fmt.Errorf("open sandbox system %s: the API token is not set: %w", cfg.Name, connector.ErrUnauthorized)
	}
	now := env.Clock()
	o := httpx.SystemOptions(cfg, env)
	o.Auth, o.Secrets = httpx.Bearer(httpx.Static(token)), []secret.Secret{token}
	client, err := httpx.New(o)
	if err != nil {
		return nil, fmt.Errorf("open sandbox system %s: %w: %w", cfg.Name, connector.ErrInvalid, err)
	}
	return &Conn{http: client, system: cfg.ID, project: cfg.SettingString("project"), now: now}, nil
}

// Close releases the connector's idle connections and its share of the
// system's rate limiter (connector.Close); calls in flight finish.
func (c *Conn) Close() error { return c.http.Close() }

// HTTPStats returns the connector's request counters, for benchmarks.
func (c *Conn) HTTPStats() httpx.Stats { return c.http.Stats() }

// scope picks the project: the argument, else the system's setting.
func (c *Conn) scope(project string) (string, error) {
	return connector.Scope("project", project, c.project)
}
