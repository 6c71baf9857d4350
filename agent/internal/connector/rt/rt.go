// Package rt is the connector for Request Tracker 5 over its REST2 API
// (<base URL>/REST/2.0), authenticated with an auth token
// ("Authorization: token ..."). The project scope is a queue name.
//
// Field names the engine sees: title (Subject), description (Markdown,
// the text/plain body of the ticket's Create transaction), status (the
// queue's lifecycle), priority (a number, 0-100 by default), owner
// (connector.User), requestors (email addresses), due (RFC 3339 or nil),
// queue (read-only) and each ticket custom field as "cf:<name>". The peer
// marker is kept in a ticket custom field (setting markerField, default
// "External ID") that FindByMarker searches with TicketSQL.
//
// Changes reads RT's transaction feed, whose ids only grow, so its cursor
// is a transaction id: see changes.go. docs/connectors/rt.md is the
// administrator's view of all this.
package rt

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// Kind is the registry name of Request Tracker.
const Kind = "rt"

// Settings and their defaults.
const (
	defaultMarkerField  = "External ID"
	commentAsComment    = "comment"
	commentAsCorrespond = "correspond"
	// maxPage is REST2's largest page.
	maxPage = 100
)

// defaultStatuses is RT's "default" lifecycle. REST2 does not publish a
// queue's lifecycle definition, so a queue with another lifecycle lists
// its statuses in the statuses setting.
var defaultStatuses = []string{"new", "open", "stalled", "resolved", "rejected", "deleted"}

// deletedStatus is how RT deletes a ticket: RT::Ticket::Delete sets it,
// and the ticket then leaves every search. The connector reads a ticket in
// it as deleted (Get answers not found, Changes lists it in Page.Deleted),
// so the status is neither offered for mapping nor written as a field.
const deletedStatus = "deleted"

// opener is Open as the registry takes it.
var opener = connector.OpenerOf(Open)

func init() {
	connector.MustRegister(connector.Spec{
		Kind:  Kind,
		Title: "Request Tracker",
		Fields: append([]apitype.KindField{
			{Name: "queue", Label: "Queue", Type: apitype.FieldString, Help: "The queue name, e.g. General"},
			{Name: "token", Label: "Auth token", Type: apitype.FieldSecret, Secret: true, Required: true,
				Help: "RT 5 REST2 auth token (Logged in as > Settings > Auth Tokens)."},
			{Name: "commentAs", Label: "Write comments as", Type: apitype.FieldSelect, Options: []string{commentAsComment, commentAsCorrespond},
				Default: commentAsComment, Help: "comment: internal, nobody is emailed. correspond: public reply, emailed to the requestors."},
			{Name: "markerField", Label: "Marker custom field", Type: apitype.FieldString, Default: defaultMarkerField,
				Help: "A ticket custom field (single value, freeform) applied to the queue, where Lockstep keeps the synced item's key."},
			{Name: "statuses", Label: "Statuses", Type: apitype.FieldString,
				Help: "Only for a queue with a custom lifecycle: its statuses, comma-separated."},
		}, connector.ConnectionFields()...),
		Test: connector.ValidateTest(opener),
		Open: opener,
	})
}

// Conn is an open Request Tracker.
type Conn struct {
	http        *httpx.Client
	web         string // the RT base URL, for links people open
	queue       string
	commentAs   string
	markerField string
	statuses    []string
	now         func() time.Time
	// pageSize is the per_page of feed and list requests; tests lower it
	// to cross page boundaries with few tickets.
	pageSize int

	// Caches of what tickets name by id only. usersMu guards them all.
	usersMu    sync.Mutex
	users      map[string]userEntry // by RT user name
	queueNames map[string]string    // queue name by id
	queueIDs   map[string]string    // queue id by name
	cfMultis   map[string]bool      // whether a custom field is multi-valued, by id

	descMu sync.Mutex
	descs  map[string]string // description text by transaction id
}

var _ connector.Connector = (*Conn)(nil)

// Open connects to a configured RT. No request is made until a method is
// called.
func Open(cfg connector.Config, env connector.Env) (*Conn, error) {
	token := cfg.Secrets["token"]
	if !token.IsSet() {
		return nil, fmt.Errorf("open Request Tracker system %s: the auth token is not set: %w", cfg.Name, connector.ErrUnauthorized)
	}
	commentAs := cfg.SettingString("commentAs")
	switch commentAs {
	case "":
		commentAs = commentAsComment
	case commentAsComment, commentAsCorrespond:
	default:
		return nil, fmt.Errorf("open Request Tracker system %s: commentAs is %q, not comment or correspond: %w", cfg.Name, commentAs, connector.ErrInvalid)
	}
	now := env.Clock()
	web := strings.TrimRight(strings.TrimSpace(cfg.URL), "/")
	web = strings.TrimSuffix(web, "/REST/2.0")
	o := httpx.SystemOptions(cfg, env)
	o.BaseURL, o.Auth, o.Secrets = web+"/REST/2.0", tokenAuth(token), []secret.Secret{token}
	client, err := httpx.New(o)
	if err != nil {
		return nil, fmt.Errorf("open Request Tracker system %s: %w: %w", cfg.Name, connector.ErrInvalid, err)
	}
	marker := cfg.SettingString("markerField")
	if marker == "" {
		marker = defaultMarkerField
	}
	statuses := defaultStatuses
	if s := cfg.SettingString("statuses"); s != "" {
		statuses = nil
		for _, st := range strings.Split(s, ",") {
			if st = strings.TrimSpace(st); st != "" {
				statuses = append(statuses, st)
			}
		}
	}
	return &Conn{
		http: client, web: web, queue: cfg.SettingString("queue"),
		commentAs: commentAs, markerField: marker, statuses: statuses, now: now, pageSize: maxPage,
		users: map[string]userEntry{}, queueNames: map[string]string{}, queueIDs: map[string]string{}, cfMultis: map[string]bool{}, descs: map[string]string{},
	}, nil
}

// Close releases the connector's idle connections and its share of the
// system's rate limiter (connector.Close); calls in flight finish.
func (c *Conn) Close() error { return c.http.Close() }

// tokenAuth sends RT's own scheme, "Authorization: token <token>".
func tokenAuth(token secret.Secret) httpx.Auth {
	return func(r *http.Request) { r.Header.Set("Authorization", "token "+token.Reveal()) }
}

// scope picks the queue: the argument, else the system's setting.
func (c *Conn) scope(queue string) (string, error) { return connector.Scope("queue", queue, c.queue) }
