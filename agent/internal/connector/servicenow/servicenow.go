// Package servicenow is the connector for ServiceNow's Table API: the
// records of incident, or of any table extending task (problem, sc_task,
// change_request...), with their journal (comments and work notes) and
// attachments. docs/connectors/servicenow.md describes it for
// administrators.
//
// The process's project is a table name: a table has its own fields and
// choice lists (incident and problem states differ), and the schema is
// read per project. Each record's id is "<table>:<sys_id>", its key the
// record's number (INC0010001), its version sys_mod_count.
//
// Field names the engine sees: title (short_description), description,
// status (state), priority, assignee (assigned_to), and every other field
// of the table's dictionary by its element name (impact, urgency,
// assignment_group, caller_id, category, u_custom...). Choice fields are
// enums of their labels (sys_choice, language en); user references are
// connector.User with the sys_id as id; other references read and write
// the referenced record's display value. References to other task records
// (parent, problem_id, parent_incident...) are links, not fields.
//
// The peer marker is written in correlation_id (the marker's text) and
// correlation_display (the source's key), the fields ServiceNow keeps for
// integrations, in the create request itself.
package servicenow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/rs/zerolog"
)

// Kind is the registry name of ServiceNow.
const Kind = "servicenow"

// Authentication methods.
const (
	AuthBasic = "basic"
	AuthOAuth = "oauth"
)

// Journal settings: which journal fields are read as comments, and which
// one comments are written to.
const (
	JournalBoth      = "both"
	JournalComments  = "comments"
	JournalWorkNotes = "work_notes"
)

const (
	defaultTable = "incident"
	// pageSize is the records asked per page of changes.
	pageSize = 100
	// schemaTTL is how long a table's dictionary is trusted.
	schemaTTL = 10 * time.Minute
)

// opener is Open as the registry takes it.
var opener = connector.OpenerOf(Open)

func init() {
	connector.MustRegister(connector.Spec{
		Kind:  Kind,
		Title: "ServiceNow",
		Fields: append([]apitype.KindField{
			{Name: "auth", Label: "Authentication", Type: apitype.FieldSelect, Options: []string{AuthBasic, AuthOAuth}, Default: AuthBasic, Required: true,
				Help: "basic: user name and password. oauth: an OAuth client (client credentials; with a user name and password too, the password grant)."},
			{Name: "username", Label: "User name", Type: apitype.FieldString, Help: "An integration user (user_name) with the itil role."},
			{Name: "password", Label: "Password", Type: apitype.FieldSecret, Secret: true},
			{Name: "clientId", Label: "OAuth client id", Type: apitype.FieldString, Help: "From System OAuth > Application Registry."},
			{Name: "clientSecret", Label: "OAuth client secret", Type: apitype.FieldSecret, Secret: true},
			{Name: "table", Label: "Default table", Type: apitype.FieldString, Default: defaultTable,
				Help: "The table sync processes use when they name none: incident, problem, sc_task or any table extending task."},
			{Name: "readJournals", Label: "Comments read from", Type: apitype.FieldSelect, Options: []string{JournalBoth, JournalComments, JournalWorkNotes},
				Default: JournalBoth, Help: "Which journal fields become comments on the other side: additional comments, work notes, or both."},
			{Name: "writeJournal", Label: "Comments written to", Type: apitype.FieldSelect, Options: []string{JournalWorkNotes, JournalComments},
				Default: JournalWorkNotes, Help: "work_notes stay internal; comments (additional comments) are visible to the caller and may be emailed."},
			{Name: "detectAttachments", Label: "Detect new attachments", Type: apitype.FieldBool, Default: true,
				Help: "Attaching a file does not update a record; one more request per poll finds records with new attachments."},
			{Name: "webhookSecret", Label: "Webhook secret", Type: apitype.FieldSecret, Secret: true,
				Help: "The shared secret your business rule sends in X-Lockstep-Secret (see the ServiceNow connector's documentation)."},
		}, connector.ConnectionFields()...),
		Test: connector.ValidateTest(opener),
		Open: opener,
	})
}

// Conn is an open ServiceNow instance.
type Conn struct {
	http          *httpx.Client
	oauth         *tokenSource // nil with basic authentication
	who           string       // the user name or OAuth client, for messages
	system        string
	table         string
	readJournals  []string
	writeJournal  string
	scanFiles     bool
	webhookSecret secret.Secret
	now           func() time.Time
	log           zerolog.Logger

	mu       sync.Mutex
	schemas  map[string]*tableSchema
	chains   map[string][]string // table -> itself and the tables it extends
	users    map[string]userEntry
	uploaded map[string]bool // attachment sys_ids this connector added
}

var (
	_ connector.Connector         = (*Conn)(nil)
	_ connector.Webhooks          = (*Conn)(nil)
	_ connector.MarkerIndexer     = (*Conn)(nil)
	_ connector.Deleter           = (*Conn)(nil)
	_ connector.AttachmentDeleter = (*Conn)(nil)
)

// Open connects to a configured instance. No request is made until a
// method is called.
func Open(cfg connector.Config, env connector.Env) (*Conn, error) {
	o := httpx.SystemOptions(cfg, env)
	o.BaseURL = strings.TrimRight(strings.TrimSpace(cfg.URL), "/")
	c := &Conn{system: cfg.ID, now: env.Clock(), log: env.Log, webhookSecret: cfg.Secrets["webhookSecret"],
		schemas: map[string]*tableSchema{}, chains: map[string][]string{}, users: map[string]userEntry{}, uploaded: map[string]bool{}}
	fail := func(err error) (*Conn, error) {
		c.Close() // the clients made so far
		return nil, fmt.Errorf("open ServiceNow system %s: %w", cfg.Name, err)
	}
	user, password := cfg.SettingString("username"), cfg.Secrets["password"]
	switch auth := cfg.SettingString("auth"); auth {
	case AuthBasic, "":
		if user == "" || !password.IsSet() {
			return fail(fmt.Errorf("basic authentication needs the user name and password: %w", connector.ErrUnauthorized))
		}
		o.Auth, o.Secrets, c.who = httpx.Basic(user, httpx.Static(password)), []secret.Secret{password}, "user "+user
	case AuthOAuth:
		id, sec := cfg.SettingString("clientId"), cfg.Secrets["clientSecret"]
		if id == "" || !sec.IsSet() {
			return fail(fmt.Errorf("OAuth needs the client id and client secret: %w", connector.ErrUnauthorized))
		}
		if (user == "") != !password.IsSet() {
			return fail(fmt.Errorf("the OAuth password grant needs both the user name and the password (leave both empty for client credentials): %w", connector.ErrUnauthorized))
		}
		ts, err := newTokenSource(o, id, sec, user, password)
		if err != nil {
			return fail(fmt.Errorf("%w: %w", connector.ErrInvalid, err))
		}
		c.oauth, c.who = ts, "OAuth client "+id
		if user != "" {
			c.who += " as user " + user
		}
		o.Auth, o.Secrets = ts.auth, []secret.Secret{sec, password}
	default:
		return fail(fmt.Errorf("authentication %q is neither basic nor oauth: %w", auth, connector.ErrInvalid))
	}
	client, err := httpx.New(o)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", connector.ErrInvalid, err))
	}
	c.http = client
	if c.table = cfg.SettingString("table"); c.table == "" {
		c.table = defaultTable
	}
	if !validName(c.table) {
		return fail(fmt.Errorf("default table %q is not a table name: %w", c.table, connector.ErrInvalid))
	}
	switch j := cfg.SettingString("readJournals"); j {
	case JournalBoth, "":
		c.readJournals = []string{JournalComments, JournalWorkNotes}
	case JournalComments, JournalWorkNotes:
		c.readJournals = []string{j}
	default:
		return fail(fmt.Errorf("comments read from %q: want both, comments or work_notes: %w", j, connector.ErrInvalid))
	}
	switch j := cfg.SettingString("writeJournal"); j {
	case JournalWorkNotes, "":
		c.writeJournal = JournalWorkNotes
	case JournalComments:
		c.writeJournal = j
	default:
		return fail(fmt.Errorf("comments written to %q: want work_notes or comments: %w", j, connector.ErrInvalid))
	}
	c.scanFiles = true
	if v, ok := cfg.Settings["detectAttachments"].(bool); ok {
		c.scanFiles = v
	}
	return c, nil
}

// Close releases the connector's idle connections and its share of the
// system's rate limiter (connector.Close); calls in flight finish.
func (c *Conn) Close() error {
	if c.oauth != nil {
		c.oauth.http.Close()
	}
	if c.http != nil {
		c.http.Close()
	}
	return nil
}

// HTTPStats returns the connector's request counters, for benchmarks.
func (c *Conn) HTTPStats() httpx.Stats { return c.http.Stats() }

// names are table and field names: the instance's own are lower case
// letters, digits and underscores.
var names = regexp.MustCompile(`^[a-z0-9_]{1,80}$`)

func validName(s string) bool { return names.MatchString(s) }

// sysIDs are 32 hex digits.
var sysIDs = regexp.MustCompile(`^[0-9a-f]{32}$`)

// scope picks the table: the process's project, else the default.
func (c *Conn) scope(project string) (string, error) {
	t, err := connector.Scope("table", project, c.table)
	if err != nil {
		return "", err
	}
	if !validName(t) {
		return "", fmt.Errorf("%q is not a ServiceNow table name (lower case letters, digits and _): %w", t, connector.ErrInvalid)
	}
	return t, nil
}

// do sends a request with a fresh OAuth token when one is used; a 401
// with a token the connector thought valid (revoked, or expired early)
// gets one new token and one more try.
func (c *Conn) do(ctx context.Context, r httpx.Request) (*http.Response, error) {
	if c.oauth == nil {
		resp, err := c.http.Do(ctx, r)
		return resp, instanceError(err)
	}
	tok, err := c.oauth.get(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(ctx, r)
	if errors.Is(err, connector.ErrUnauthorized) && r.Body == nil {
		c.oauth.invalidate(tok)
		if _, terr := c.oauth.get(ctx); terr != nil {
			return nil, terr
		}
		resp, err = c.http.Do(ctx, r)
	}
	return resp, instanceError(err)
}

// instanceError refines httpx's reading of a refusal where ServiceNow
// means something else: a 403 for a data policy (fields a state needs)
// or a business rule's abort is a rejected value, not a missing
// permission.
func instanceError(err error) error {
	var se *httpx.StatusError
	if errors.As(err, &se) && se.Status == http.StatusForbidden {
		for _, s := range []string{"Data Policy Exception", "Invalid update", "Invalid insert"} {
			if strings.Contains(se.Message, s) {
				return fmt.Errorf("%s: %w", se.Error(), connector.ErrInvalid)
			}
		}
	}
	return err
}

// call sends in (when not nil) as JSON and decodes the "result" of the
// answer into out (when not nil).
func (c *Conn) call(ctx context.Context, r httpx.Request, in, out any) error {
	r, err := r.JSON(in, "")
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return httpx.DecodeJSON(r, resp, nil)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := httpx.DecodeJSON(r, resp, &env); err != nil {
		return err
	}
	if len(env.Result) == 0 || string(env.Result) == "null" {
		return fmt.Errorf("%s %s: the answer has no result: %w", r.Method, r.Path, connector.ErrUnavailable)
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return fmt.Errorf("%s %s: decode the result: %w: %w", r.Method, r.Path, connector.ErrUnavailable, err)
	}
	return nil
}

// list reads one page of a table: the records of query, shaped by fields
// (all display and actual values, no reference links).
func (c *Conn) list(ctx context.Context, table, query string, fields []string, limit, offset int) ([]record, error) {
	recs, _, err := c.page(ctx, "/api/now/table/"+table, query, fields, limit, offset)
	return recs, err
}

// page reads one page of a list and whether more follow. A page can hold
// fewer records than asked, even none, while more follow: the instance
// removes the records ACLs hide from the account after the query ran.
// So the end is where the Link header has no "next" (or, without it,
// where X-Total-Count is reached), never a short page.
func (c *Conn) page(ctx context.Context, path, query string, fields []string, limit, offset int) ([]record, bool, error) {
	q := url.Values{"sysparm_query": {query}, "sysparm_display_value": {"all"}, "sysparm_exclude_reference_link": {"true"},
		"sysparm_limit": {fmt.Sprint(limit)}}
	if offset > 0 {
		q.Set("sysparm_offset", fmt.Sprint(offset))
	}
	if len(fields) > 0 {
		q.Set("sysparm_fields", strings.Join(fields, ","))
	}
	r, _ := httpx.Request{Method: http.MethodGet, Path: path, Query: q}.JSON(nil, "")
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	var env struct {
		Result []record `json:"result"`
	}
	if err := httpx.DecodeJSON(r, resp, &env); err != nil {
		return nil, false, err
	}
	more := len(env.Result) >= limit
	if link := resp.Header.Get("Link"); link != "" {
		more = strings.Contains(link, `rel="next"`)
	} else if total, err := strconv.Atoi(resp.Header.Get("X-Total-Count")); err == nil {
		more = offset+limit < total
	}
	return env.Result, more, nil
}

// listAll reads every page of a query (system tables: dictionary,
// choices, journal), bounded so a looping answer cannot run forever.
func (c *Conn) listAll(ctx context.Context, table, query string, fields []string) ([]record, error) {
	const size, maxPages = 1000, 100
	var all []record
	for n := 0; n < maxPages; n++ {
		recs, more, err := c.page(ctx, "/api/now/table/"+table, query, fields, size, n*size)
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
		if !more {
			return all, nil
		}
	}
	return nil, fmt.Errorf("read %s: more than %d pages match %q: %w", table, maxPages, query, connector.ErrInvalid)
}

// quote escapes a value for an encoded query: ^ is written ^^.
func quote(v string) string { return strings.ReplaceAll(v, "^", "^^") }

// drain reads what is left of a body so the connection can be reused.
func drain(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	rc.Close()
}
