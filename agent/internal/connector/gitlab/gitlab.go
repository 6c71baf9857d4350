// Package gitlab is the connector for the issues of a GitLab project,
// on GitLab.com or a self-managed GitLab (REST API v4, 17.4 or later for
// attachments), with a personal, project or group access token sent in
// PRIVATE-TOKEN.
//
// Entities are issues. An issue's Ref.ID is "<project id>:<iid>" (the
// numeric project id survives renames and transfers; the iid is what the
// API addresses), its Key is GitLab's full reference, "group/app#12".
//
// Field names the engine sees: title, description (GitLab Flavored
// Markdown, as stored), status ("opened" or "closed", written with
// state_event), labels, assignee (the first assignee, a connector.User
// whose id is the GitLab username), assignees (all usernames), milestone
// (its title), dueDate ("YYYY-MM-DD"), confidential, and weight where the
// project's tier has weights (GitLab Premium).
//
// The peer marker is a hidden HTML comment at the end of the description,
// "<!-- lockstep:<system>:<key> lockstep<16 hex digits> -->": the text
// for people and for Entity.Marker, the hex token (a hash of the text) for
// the issues search, whose full-text index matches words by prefix. It is
// written in the create request itself, kept by every update of the
// description, and never shown in the description the engine reads.
//
// GitLab has no conditional update of an issue: Update's version check
// re-reads the issue's updated_at first, which narrows the window for a
// lost update but cannot close it.
package gitlab

import (
	"context"
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

// Kind is the registry name of GitLab.
const Kind = "gitlab"

// apiPath is where REST API v4 lives under the instance's root URL.
const apiPath = "/api/v4"

// pageSize is what the connector asks for per page (GitLab's maximum).
const pageSize = 100

// cacheFor bounds how long project metadata (members, milestones, the
// tier) is trusted before it is read again.
const cacheFor = 5 * time.Minute

var opener = connector.OpenerOf(Open)

func init() {
	connector.MustRegister(connector.Spec{
		Kind:  Kind,
		Title: "GitLab",
		Fields: append([]apitype.KindField{
			{Name: "token", Label: "Access token", Type: apitype.FieldSecret, Secret: true, Required: true,
				Help: "A personal, project or group access token with the api scope (read_api cannot write). Registering webhooks needs the Maintainer role."},
			{Name: "project", Label: "Default project", Type: apitype.FieldString,
				Help: "The project used when a sync process names none: its numeric id or its path, e.g. group/app."},
		}, connector.ConnectionFields()...),
		Test: connector.ValidateTest(opener),
		Open: opener,
	})
}

// Conn is an open GitLab system.
type Conn struct {
	http    *httpx.Client
	base    string // the instance's root URL, without /api/v4
	project string // the default project
	now     func() time.Time
	log     zerolog.Logger

	mu       sync.Mutex
	projects map[string]*projectInfo // by the id or path a caller named
}

var (
	_ connector.Connector         = (*Conn)(nil)
	_ connector.Webhooks          = (*Conn)(nil)
	_ connector.CommentEditor     = (*Conn)(nil)
	_ connector.Deleter           = (*Conn)(nil)
	_ connector.AttachmentDeleter = (*Conn)(nil)
	_ connector.MarkerIndexer     = (*Conn)(nil)
)

// Open connects to a configured GitLab. No request is made until a method
// is called.
func Open(cfg connector.Config, env connector.Env) (*Conn, error) {
	token := cfg.Secrets["token"]
	if !token.IsSet() {
		return nil, fmt.Errorf("open GitLab system %s: the access token is required: %w", cfg.Name, connector.ErrUnauthorized)
	}
	root := strings.TrimRight(strings.TrimSpace(cfg.URL), "/")
	root = strings.TrimSuffix(root, apiPath) // a URL given with /api/v4 works too
	if root == "" {
		root = "https://gitlab.com"
	}
	o := httpx.SystemOptions(cfg, env)
	o.BaseURL = root + apiPath
	o.Auth, o.Secrets = httpx.Header("PRIVATE-TOKEN", httpx.Static(token)), []secret.Secret{token}
	client, err := httpx.New(o)
	if err != nil {
		return nil, fmt.Errorf("open GitLab system %s: %w: %w", cfg.Name, connector.ErrInvalid, err)
	}
	return &Conn{http: client, base: root, project: cfg.SettingString("project"), now: env.Clock(), log: env.Log,
		projects: map[string]*projectInfo{}}, nil
}

// Close releases the connector's idle connections and its share of the
// system's rate limiter (connector.Close); calls in flight finish.
func (c *Conn) Close() error { return c.http.Close() }

// HTTPStats returns the connector's request counters.
func (c *Conn) HTTPStats() httpx.Stats { return c.http.Stats() }

// projectInfo is what the connector keeps of a project.
type projectInfo struct {
	ID     int64
	Path   string // path with namespace
	WebURL string

	mu         sync.Mutex
	membersAt  time.Time
	members    []wireUser
	milestones []wireMilestone
	msAt       time.Time
	// premium is whether the project's issues carry a weight (a GitLab
	// Premium feature, as are blocking links): nil until an issue was
	// read.
	premium *bool
}

// resolve finds a project by the id or path given (the argument, else the
// system's default) and remembers it.
func (c *Conn) resolve(ctx context.Context, project string) (*projectInfo, error) {
	name, err := connector.Scope("project", project, c.project)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	p := c.projects[name]
	c.mu.Unlock()
	if p != nil {
		return p, nil
	}
	var wp wireProject
	if err := c.http.DoJSON(ctx, projectRequest(http.MethodGet, name, ""), nil, &wp); err != nil {
		return nil, fmt.Errorf("read GitLab project %s: %w", name, err)
	}
	if wp.ID <= 0 {
		return nil, fmt.Errorf("read GitLab project %s: the answer names no project: %w", name, connector.ErrUnavailable)
	}
	p = &projectInfo{ID: wp.ID, Path: wp.PathWithNamespace, WebURL: strings.TrimRight(wp.WebURL, "/")}
	c.mu.Lock()
	c.projects[name] = p
	c.projects[strconv.FormatInt(wp.ID, 10)] = p
	c.mu.Unlock()
	return p, nil
}

// byID is the project of a numeric id read from a Ref: known already, or
// read once.
func (c *Conn) byID(ctx context.Context, id int64) (*projectInfo, error) {
	return c.resolve(ctx, strconv.FormatInt(id, 10))
}

// projectRequest is a request under /projects/:id, where id is a number or
// a path, which GitLab takes URL-encoded ("group%2Fapp").
func projectRequest(method, project, rest string) httpx.Request {
	return httpx.Request{Method: method, Path: "/projects/" + project + rest,
		RawPath: "/projects/" + url.PathEscape(project) + escapePath(rest)}
}

// escapePath escapes each segment of a path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// issueRef is an issue's address: its project's numeric id and its iid.
type issueRef struct {
	project int64
	iid     int64
}

func (r issueRef) id() string { return fmt.Sprintf("%d:%d", r.project, r.iid) }

// path is the API path of the issue, and rest below it.
func (r issueRef) request(method, rest string) httpx.Request {
	return projectRequest(method, strconv.FormatInt(r.project, 10), fmt.Sprintf("/issues/%d%s", r.iid, rest))
}

// parseRef reads a Ref: its ID ("<project id>:<iid>"), else its Key
// ("group/app#12", resolved to the project's id).
func (c *Conn) parseRef(ctx context.Context, ref connector.Ref) (issueRef, error) {
	if ref.ID != "" {
		p, i, ok := strings.Cut(ref.ID, ":")
		pid, err1 := strconv.ParseInt(p, 10, 64)
		iid, err2 := strconv.ParseInt(i, 10, 64)
		if !ok || err1 != nil || err2 != nil || pid <= 0 || iid <= 0 {
			// No issue has such an id: it is not found, whatever put it there.
			return issueRef{}, fmt.Errorf("%q is not a GitLab issue id (<project id>:<iid>): %w", ref.ID, connector.ErrNotFound)
		}
		return issueRef{project: pid, iid: iid}, nil
	}
	path, num, ok := strings.Cut(ref.Key, "#")
	iid, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || path == "" || iid <= 0 {
		return issueRef{}, fmt.Errorf("%q is not a GitLab issue reference (group/app#12): %w", ref.Key, connector.ErrInvalid)
	}
	p, err := c.resolve(ctx, path)
	if err != nil {
		return issueRef{}, err
	}
	return issueRef{project: p.ID, iid: iid}, nil
}
