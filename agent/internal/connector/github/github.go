// Package github is the connector for GitHub issues (REST API v3, version
// 2022-11-28) on github.com and GitHub Enterprise Server, one repository
// per sync process side: the system names an owner (organization or
// user), the process's project names the repository ("repo" under that
// owner, or "owner/repo"). docs/connectors/github.md describes it for
// administrators.
//
// Field names the engine sees: title, description (the body, GitHub
// Markdown, without the connector's marker), status (open, completed,
// not_planned, duplicate: state and state_reason in one value), state,
// stateReason, labels, assignee (the first assignee, a connector.User whose
// id is the login), assignees (logins), milestone (its title) and author
// (read only). Pull requests are entities of type "pull_request", which a
// process syncs only when it maps that type.
//
// An entity's id is "owner/repo#number": GitHub addresses issues by
// repository and number, and the engine reads entities by id alone.
//
// The peer marker is a hidden HTML comment at the end of the body,
// "<!-- lockstep:<origin>:<key> <source URL> -->", written in the create
// request itself. FindByMarker asks the search API (eventually consistent)
// and also scans the most recently created issues, which covers the
// index's delay. Every GET is conditional (If-None-Match, If-Modified-
// Since): an unchanged answer is a 304, which GitHub does not count
// against the rate limit, so an idle poll costs no budget.
package github

import (
	"fmt"
	"net/http"
	"net/url"
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

// Kind is the registry name of GitHub.
const Kind = "github"

// Defaults and GitHub's own limits.
const (
	defaultURL = "https://api.github.com"
	// apiVersion is the REST API version the connector is written for.
	apiVersion = "2022-11-28"
	// pageSize is the most GitHub lists per page.
	pageSize = 100
	// defaultWritesPerMinute spaces mutative requests a second apart, as
	// GitHub's best practices ask.
	defaultWritesPerMinute = 60
	// defaultContentPerHour and contentPerMinute are GitHub's secondary
	// limits on content creation (new issues and comments).
	defaultContentPerHour = 500
	contentPerMinute      = 80
	// secondaryWait is how long GitHub asks a client to wait after a
	// secondary rate limit that names no time.
	secondaryWait = time.Minute
)

// Attachment modes: what an attachment from the other side becomes.
const (
	AttachComment = apitype.AttachmentsComment // a comment naming the file, linking the source item
	AttachSkip    = apitype.AttachmentsSkip    // nothing: reported as skipped
)

// opener is Open as the registry takes it.
var opener = connector.OpenerOf(Open)

func init() {
	connector.MustRegister(connector.Spec{
		Kind:  Kind,
		Title: "GitHub",
		Fields: append([]apitype.KindField{
			{Name: "owner", Label: "Owner", Type: apitype.FieldString, Required: true,
				Help: "The organization or user that owns the repositories."},
			{Name: "token", Label: "Token", Type: apitype.FieldSecret, Secret: true, Required: true,
				Help: "A fine-grained personal access token with Issues read & write (Webhooks read & write to register webhooks), or a classic token with the repo scope."},
			{Name: "repository", Label: "Repository", Type: apitype.FieldString,
				Help: "The repository sync processes use when they name none."},
			{Name: "attachments", Label: "Attachments from the other side", Type: apitype.FieldSelect,
				Options: []string{AttachComment, AttachSkip}, Default: AttachComment,
				Help: "GitHub issues cannot hold files: comment adds a comment naming the file and linking the item that has it; skip leaves them out and counts them as skipped."},
			{Name: "writesPerMinute", Label: "Writes per minute", Type: apitype.FieldInt, Default: defaultWritesPerMinute,
				Help: "Spacing of creates, edits and deletes; GitHub asks for at least a second between them."},
			{Name: "contentPerHour", Label: "New issues and comments per hour", Type: apitype.FieldInt, Default: defaultContentPerHour,
				Help: "GitHub's secondary limit is 500 an hour (and 80 a minute); lower it when people share the account."},
		}, connector.ConnectionFields()...),
		Test: connector.ValidateTest(opener),
		Open: opener,
	})
}

// Conn is an open GitHub system.
type Conn struct {
	http   *httpx.Client
	graph  *httpx.Client // the GraphQL endpoint, for deleting issues
	owner  string
	repo   string // the default repository
	name   string // the system's name, for errors
	attach string
	now    func() time.Time
	log    zerolog.Logger
	cache  *condCache
	pace   *pacer
	// secondaryWait is how long to pause after a secondary rate limit
	// that names no time (tests shorten it).
	secondaryWait time.Duration

	mu   sync.Mutex
	meta map[string]repoMeta // by "owner/repo": milestones and assignees
}

var (
	_ connector.Connector         = (*Conn)(nil)
	_ connector.Webhooks          = (*Conn)(nil)
	_ connector.MarkerIndexer     = (*Conn)(nil)
	_ connector.CommentEditor     = (*Conn)(nil)
	_ connector.Deleter           = (*Conn)(nil)
	_ connector.AttachmentDeleter = (*Conn)(nil)
)

// Open connects to a configured GitHub. No request is made until a method
// is called.
func Open(cfg connector.Config, env connector.Env) (*Conn, error) {
	token := cfg.Secrets["token"]
	if !token.IsSet() {
		return nil, fmt.Errorf("open GitHub system %s: the token is required: %w", cfg.Name, connector.ErrUnauthorized)
	}
	owner := cfg.SettingString("owner")
	if owner == "" || strings.ContainsAny(owner, "/ ") {
		return nil, fmt.Errorf("open GitHub system %s: the owner must be an organization or user name, not %q: %w", cfg.Name, owner, connector.ErrInvalid)
	}
	attach := cfg.SettingString("attachments")
	switch attach {
	case "":
		attach = AttachComment
	case AttachComment, AttachSkip:
	default:
		return nil, fmt.Errorf("open GitHub system %s: attachments must be %s or %s, not %q: %w", cfg.Name, AttachComment, AttachSkip, attach, connector.ErrInvalid)
	}
	base, graphBase, err := apiBase(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("open GitHub system %s: %w", cfg.Name, err)
	}
	now := env.Clock()
	o := httpx.SystemOptions(cfg, env)
	o.BaseURL = base
	o.Auth, o.Secrets = httpx.Bearer(httpx.Static(token)), []secret.Secret{token}
	c := &Conn{owner: owner, repo: cfg.SettingString("repository"), name: cfg.Name, attach: attach, now: now, log: env.Log,
		cache: newCondCache(condCacheBytes), secondaryWait: secondaryWait, meta: map[string]repoMeta{}}
	o.RateLimitWait = c.secondaryLimit
	client, err := httpx.New(o)
	if err != nil {
		return nil, fmt.Errorf("open GitHub system %s: %w: %w", cfg.Name, connector.ErrInvalid, err)
	}
	o.BaseURL = graphBase
	graph, err := httpx.New(o)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("open GitHub system %s: %w: %w", cfg.Name, connector.ErrInvalid, err)
	}
	writes := cfg.SettingInt("writesPerMinute")
	if writes <= 0 {
		writes = defaultWritesPerMinute
	}
	content := cfg.SettingInt("contentPerHour")
	if content <= 0 {
		content = defaultContentPerHour
	}
	c.http, c.graph = client, graph
	c.pace = newPacer(time.Minute/time.Duration(writes), min(content, contentPerMinute), content, time.Minute, now)
	return c, nil
}

// Close releases the connector's idle connections and its share of the
// system's rate limiter (connector.Close); calls in flight finish.
func (c *Conn) Close() error {
	c.http.Close()
	return c.graph.Close()
}

// apiBase is the REST API's root for a system URL, and the GraphQL
// endpoint's: github.com (or empty) means api.github.com, whose GraphQL
// is /graphql beside the REST paths; an Enterprise Server's REST API is
// https://HOST/api/v3 and its GraphQL https://HOST/api/graphql.
func apiBase(raw string) (rest, graph string, err error) {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	if raw == "" {
		return defaultURL, defaultURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("URL %q is not an http(s) URL: %w", raw, connector.ErrInvalid)
	}
	switch strings.ToLower(u.Hostname()) {
	case "github.com", "www.github.com":
		return defaultURL, defaultURL, nil
	}
	if p, ok := strings.CutSuffix(u.Path, "/v3"); ok {
		g := *u
		g.Path = p
		return raw, g.String(), nil
	}
	return raw, raw, nil
}

// secondaryLimit recognises GitHub's secondary rate limit when it names no
// time: "wait for at least one minute before retrying" (Rate limits for
// the REST API). A spent primary limit (remaining 0) is read from
// x-ratelimit-reset by the client layer itself.
func (c *Conn) secondaryLimit(status int, h http.Header, message string) (time.Duration, bool) {
	if status != http.StatusForbidden && status != http.StatusTooManyRequests {
		return 0, false
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		return 0, false
	}
	msg := strings.ToLower(message)
	if status == http.StatusTooManyRequests || strings.Contains(msg, "secondary rate limit") || strings.Contains(msg, "abuse") {
		return c.secondaryWait, true
	}
	return 0, false
}

// HTTPStats returns the connector's request counters.
func (c *Conn) HTTPStats() httpx.Stats { return c.http.Stats() }

// IndexesMarkers says that Changes and Get fill Entity.Marker: the marker
// is in the body, which every list and read returns.
func (c *Conn) IndexesMarkers() bool { return true }

// repoRef names one repository.
type repoRef struct{ owner, name string }

func (r repoRef) String() string { return r.owner + "/" + r.name }

func (r repoRef) path(rest ...string) string {
	return "/repos/" + url.PathEscape(r.owner) + "/" + url.PathEscape(r.name) + strings.Join(rest, "")
}

// validName is GitHub's alphabet for owner and repository names.
func validName(s string) bool {
	if s == "" || len(s) > 100 || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// scope reads a process's project: "repo" under the system's owner, or
// "owner/repo"; empty is the system's default repository.
func (c *Conn) scope(project string) (repoRef, error) {
	p, err := connector.Scope("repository", project, c.repo)
	if err != nil {
		return repoRef{}, err
	}
	owner, name, ok := strings.Cut(p, "/")
	if !ok {
		owner, name = c.owner, p
	}
	if !validName(owner) || !validName(name) {
		return repoRef{}, fmt.Errorf("%q is not a repository name (repo or owner/repo): %w", p, connector.ErrInvalid)
	}
	return repoRef{owner, name}, nil
}

// issueRef is one issue: its repository and number.
type issueRef struct {
	repo   repoRef
	number int
}

func (r issueRef) String() string { return r.repo.String() + "#" + strconv.Itoa(r.number) }

func (r issueRef) path(rest ...string) string {
	return r.repo.path(append([]string{"/issues/" + strconv.Itoa(r.number)}, rest...)...)
}

// parseRef reads an entity reference: "owner/repo#number" (the id and key
// the connector gives), or a bare number in the default repository.
func (c *Conn) parseRef(ref connector.Ref) (issueRef, error) {
	s := strings.TrimSpace(ref.ID)
	if s == "" {
		s = strings.TrimSpace(ref.Key)
	}
	repo, num, hasRepo := strings.Cut(s, "#")
	if !hasRepo {
		repo, num = "", s
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 {
		return issueRef{}, fmt.Errorf("entity reference %q is not owner/repo#number: %w", s, connector.ErrInvalid)
	}
	r, err := c.scope(repo)
	if err != nil {
		return issueRef{}, fmt.Errorf("entity reference %q: %w", s, err)
	}
	return issueRef{repo: r, number: n}, nil
}
