// Package jira is the connector for Jira Cloud (REST API v3, email and API
// token) and Jira Server/Data Center (REST API v2, personal access token).
//
// Field names the engine sees: title (summary), description (Markdown,
// converted from ADF on Cloud and from wiki markup on Server), status (set
// through a workflow transition), priority, assignee (connector.User: the
// accountId on Cloud, the user name on Server), labels, dueDate
// ("YYYY-MM-DD"), and each supported custom field as "cf:<name>".
//
// The peer marker is a label, lockstep-<16 hex digits of SHA-256 of
// "<system>:<key>">, written in the create request itself so an issue never
// exists without it: JQL can search labels (labels = "...") but not remote
// links, and FindByMarker must be a query. A remote link with globalId
// "lockstep:<system>:<key>" is added after the create for people, pointing
// at the source; both are left out of the fields and links the engine sees.
//
// Jira has no optimistic concurrency on issue edits: Update's version
// check re-reads the updated timestamp first, which narrows the
// window for a lost update but cannot close it.
package jira

import (
	"fmt"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Jira users' time zones are IANA names; JQL dates are read in them

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/rs/zerolog"
)

// Kind is the registry name of Jira.
const Kind = "jira"

// Deployments.
const (
	Cloud  = "cloud"
	Server = "server"
)

// pageSize is what the connector asks for per page; Jira may answer less.
const pageSize = 100

// opener is Open as the registry takes it.
var opener = connector.OpenerOf(Open)

func init() {
	connector.MustRegister(connector.Spec{
		Kind:  Kind,
		Title: "Jira",
		Fields: append([]apitype.KindField{
			{Name: "deployment", Label: "Deployment", Type: apitype.FieldSelect, Options: []string{Cloud, Server}, Required: true, Default: Cloud},
			{Name: "email", Label: "Account email", Type: apitype.FieldString, Help: "Cloud: the account the API token belongs to."},
			{Name: "apiToken", Label: "API token", Type: apitype.FieldSecret, Secret: true, Help: "Cloud: an API token of that account."},
			{Name: "personalAccessToken", Label: "Personal access token", Type: apitype.FieldSecret, Secret: true, Help: "Server/Data Center: a personal access token."},
		}, connector.ConnectionFields()...),
		Test: connector.ValidateTest(opener),
		Open: opener,
	})
}

// Conn is an open Jira system.
type Conn struct {
	http   *httpx.Client
	system string
	cloud  bool
	api    string // "/rest/api/3" or "/rest/api/2"
	now    func() time.Time
	log    zerolog.Logger

	mu        sync.Mutex
	fields    *catalogue
	fieldsAt  time.Time
	linkTypes []wireLinkType
	loc       *time.Location // the API user's time zone, in which JQL dates are read
	users     map[string]userCache
}

var (
	_ connector.Connector = (*Conn)(nil)
	_ connector.Webhooks  = (*Conn)(nil)
)

// Open connects to a configured Jira. No request is made until a method is
// called.
func Open(cfg connector.Config, env connector.Env) (*Conn, error) {
	deployment := cfg.SettingString("deployment")
	if deployment == "" {
		deployment = Cloud
	}
	now := env.Clock()
	o := httpx.SystemOptions(cfg, env)
	c := &Conn{system: cfg.ID, now: now, log: env.Log, users: map[string]userCache{}}
	switch deployment {
	case Cloud:
		email := cfg.SettingString("email")
		token := cfg.Secrets["apiToken"]
		if email == "" || !token.IsSet() {
			return nil, fmt.Errorf("open Jira Cloud system %s: the account email and API token are required: %w", cfg.Name, connector.ErrUnauthorized)
		}
		o.Auth, o.Secrets = httpx.Basic(email, httpx.Static(token)), []secret.Secret{token}
		c.cloud, c.api = true, "/rest/api/3"
	case Server:
		token := cfg.Secrets["personalAccessToken"]
		if !token.IsSet() {
			return nil, fmt.Errorf("open Jira Server system %s: the personal access token is required: %w", cfg.Name, connector.ErrUnauthorized)
		}
		o.Auth, o.Secrets = httpx.Bearer(httpx.Static(token)), []secret.Secret{token}
		c.api = "/rest/api/2"
	default:
		return nil, fmt.Errorf("open Jira system %s: deployment %q is neither cloud nor server: %w", cfg.Name, deployment, connector.ErrInvalid)
	}
	client, err := httpx.New(o)
	if err != nil {
		return nil, fmt.Errorf("open Jira system %s: %w: %w", cfg.Name, connector.ErrInvalid, err)
	}
	c.http = client
	return c, nil
}

// Close releases the connector's idle connections and its share of the
// system's rate limiter (connector.Close); calls in flight finish.
func (c *Conn) Close() error { return c.http.Close() }

// HTTPStats returns the connector's request counters.
func (c *Conn) HTTPStats() httpx.Stats { return c.http.Stats() }

func (c *Conn) product() string {
	if c.cloud {
		return "Jira Cloud"
	}
	return "Jira Server"
}

func scope(project string) (string, error) {
	if strings.TrimSpace(project) == "" {
		return "", fmt.Errorf("no project given: %w", connector.ErrInvalid)
	}
	return strings.TrimSpace(project), nil
}
