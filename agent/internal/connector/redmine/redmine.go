// Package redmine is the connector for Redmine (4.2 and 5.x) over its REST
// API, authenticated with an API key in the X-Redmine-API-Key header. The
// system URL is Redmine's base URL; the project scope is the project
// identifier (e.g. "sync-test").
//
// Field names the engine sees: title (subject), description (Markdown;
// converted to and from Textile when the system's textFormatting setting
// says the instance uses Textile, see format.go), status, priority, category and
// targetVersion (enums of names), assignee (connector.User), startDate and
// dueDate ("YYYY-MM-DD"), doneRatio and estimatedHours (numbers), private
// (bool), and each custom field as "cf:<name>". The tracker is the entity
// type. docs/connectors/redmine.md explains each choice, the peer marker,
// change detection with its reconcile walk, and what is not synced.
package redmine

import (
	"fmt"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// Kind is the registry name of Redmine.
const Kind = "redmine"

// Defaults of the connector's tunables.
const (
	// maxPage is the largest page Redmine serves (limit is capped at 100).
	maxPage = 100
	// defaultReconcile is how often Changes walks a project to catch what
	// updated_on misses (relations, attachment deletions).
	defaultReconcile = 10 * time.Minute
)

// opener is Open as the registry takes it.
var opener = connector.OpenerOf(Open)

func init() {
	connector.MustRegister(connector.Spec{
		Kind:  Kind,
		Title: "Redmine",
		Fields: append([]apitype.KindField{
			{Name: "project", Label: "Project", Type: apitype.FieldString, Help: "Project identifier, e.g. sync-test (the default scope)."},
			{Name: "apiKey", Label: "API key", Type: apitype.FieldSecret, Secret: true, Required: true, Help: "My account > API access key."},
			{Name: "markerField", Label: "Marker custom field", Type: apitype.FieldString,
				Help: "Name of an issue custom field (text, enabled for the project's trackers) that holds the peer key. Empty: a hidden line in the description."},
			{Name: "reconcileMinutes", Label: "Reconcile every (minutes)", Type: apitype.FieldInt,
				Help: "How often polling also walks the project for relation and attachment changes, which Redmine does not date. 0 means 10.", Default: 0},
			{Name: "textFormatting", Label: "Text formatting", Type: apitype.FieldSelect, Options: formats, Default: Textile,
				Help: "Set it as in Redmine's Administration > Settings > General > Text formatting (Redmine's REST API does not tell). " +
					"With textile, descriptions and notes are converted from and to Markdown; markdown and common_mark pass through."},
		}, connector.ConnectionFields()...),
		Test: connector.ValidateTest(opener),
		Open: opener,
	})
}

// Conn is an open Redmine system.
type Conn struct {
	http        *httpx.Client
	system      string
	project     string
	markerField string
	textile     bool // descriptions and notes are Textile
	now         func() time.Time

	// pageSize and reconcileEvery are fields so tests can make paging and
	// the reconcile walk happen with a handful of issues and no waiting.
	pageSize       int
	reconcileEvery time.Duration

	metaMu sync.Mutex
	meta   *meta // instance-wide lists (trackers, statuses, ...), see schema.go

	usersMu sync.Mutex
	users   map[string]connector.User // by id
	usersAt time.Time

	recMu     sync.Mutex
	reconcile map[string]*reconcileState // by project identifier
}

var _ connector.Connector = (*Conn)(nil)

// Open connects to a configured Redmine. No request is made until a method
// is called.
func Open(cfg connector.Config, env connector.Env) (*Conn, error) {
	key := cfg.Secrets["apiKey"]
	if !key.IsSet() {
		return nil, fmt.Errorf("open redmine system %s: the API key is not set: %w", cfg.Name, connector.ErrUnauthorized)
	}
	now := env.Clock()
	o := httpx.SystemOptions(cfg, env)
	o.Auth, o.Secrets = httpx.Header("X-Redmine-API-Key", httpx.Static(key)), []secret.Secret{key}
	client, err := httpx.New(o)
	if err != nil {
		return nil, fmt.Errorf("open redmine system %s: %w: %w", cfg.Name, connector.ErrInvalid, err)
	}
	textile, err := textileSetting(cfg)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("open redmine system %s: %w", cfg.Name, err)
	}
	every := defaultReconcile
	if m := cfg.SettingInt("reconcileMinutes"); m > 0 {
		every = time.Duration(m) * time.Minute
	}
	return &Conn{http: client, system: cfg.ID, project: cfg.SettingString("project"), markerField: cfg.SettingString("markerField"),
		textile: textile, now: now, pageSize: maxPage, reconcileEvery: every, reconcile: map[string]*reconcileState{}}, nil
}

// Close releases the connector's idle connections and its share of the
// system's rate limiter (connector.Close); calls in flight finish.
func (c *Conn) Close() error { return c.http.Close() }

// scope picks the project: the argument, else the system's setting.
func (c *Conn) scope(project string) (string, error) {
	return connector.Scope("project", project, c.project)
}
