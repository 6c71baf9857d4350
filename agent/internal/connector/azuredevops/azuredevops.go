// Package azuredevops is the connector for Azure DevOps Services and Azure
// DevOps Server work items (REST api-version 7.1). It speaks to the
// system's REST API only, through httpx; docs/connectors/azuredevops.md
// describes it for administrators.
//
// Field names the engine sees: title, description (Markdown; the system
// stores HTML), status (System.State), priority ("1".."4"), assignee
// (connector.User), labels (System.Tags), dueDate, areaPath, iterationPath,
// and every other writable field of the project's work item types as
// "cf:<reference name>", e.g. "cf:Custom.Team". Version is the work item's
// rev; updates carry a JSON Patch test of /rev, so a stale write is
// refused (ErrConflict).
//
// The peer marker is two things written in the create request itself: a
// tag "lockstep-<hash of system and key>", which WIQL can search (it
// cannot query hyperlinks), and, when the source has a URL, a Hyperlink
// relation to it, which people can follow.
package azuredevops

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
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

// Kind is the registry name of Azure DevOps.
const Kind = "azuredevops"

// Defaults and the service's own limits.
const (
	defaultURL        = "https://dev.azure.com"
	defaultAPIVersion = "7.1"
	// batchMax is the most ids workitemsbatch takes.
	batchMax = 200
	// maxAttachments is the service's limit of attached files per item.
	maxAttachments = 100
	// defaultMaxAttachmentMB is the service's default attachment limit.
	defaultMaxAttachmentMB = 60
	// maxSlowdown caps how long one X-RateLimit-Delay holds the next
	// request; the service delays requests by up to 30 s itself.
	maxSlowdown = 10 * time.Second
)

// opener is Open as the registry takes it.
var opener = connector.OpenerOf(Open)

func init() {
	connector.MustRegister(connector.Spec{
		Kind:  Kind,
		Title: "Azure DevOps",
		Fields: append([]apitype.KindField{
			{Name: "organization", Label: "Organization or collection", Type: apitype.FieldString, Required: true,
				Help: "e.g. contoso, or DefaultCollection on Server"},
			{Name: "pat", Label: "Personal access token", Type: apitype.FieldSecret, Secret: true, Required: true,
				Help: "Scopes: Work Items (read & write); Service hooks (read & write) for webhooks."},
			{Name: "project", Label: "Project", Type: apitype.FieldString,
				Help: "The project sync processes use when they name none."},
			{Name: "apiVersion", Label: "API version", Type: apitype.FieldString, Default: defaultAPIVersion,
				Help: "7.1 for Azure DevOps Services and Server 2022.1 or later; 7.0 or 6.0 for older servers."},
			{Name: "maxAttachmentMB", Label: "Attachment size limit (MB)", Type: apitype.FieldInt, Default: defaultMaxAttachmentMB,
				Help: "Larger attachments are skipped with a warning; the service's default limit is 60 MB."},
		}, connector.ConnectionFields()...),
		Test: connector.ValidateTest(opener),
		Open: opener,
	})
}

// Conn is an open Azure DevOps organization (or Server collection).
type Conn struct {
	http          *httpx.Client
	system        string
	org           string
	project       string
	apiVersion    string
	maxAttachment int64
	now           func() time.Time
	log           zerolog.Logger
	slow          *slowdown

	mu        sync.Mutex
	projectOf map[int]string // work item id -> project name, learned on reads
	projectID map[string]string
}

var (
	_ connector.Connector = (*Conn)(nil)
	_ connector.Webhooks  = (*Conn)(nil)
)

// Open connects to a configured organization. No request is made until a
// method is called. The system URL is the service root (https://dev.azure.com,
// the default) or a Server's root (https://tfs.example/tfs); the
// organization or collection is appended unless the URL already ends with
// it or names it as its host (https://contoso.visualstudio.com).
func Open(cfg connector.Config, env connector.Env) (*Conn, error) {
	pat := cfg.Secrets["pat"]
	if !pat.IsSet() {
		return nil, fmt.Errorf("open Azure DevOps system %s: the personal access token is not set: %w", cfg.Name, connector.ErrUnauthorized)
	}
	org := strings.Trim(cfg.SettingString("organization"), "/ ")
	if org == "" {
		return nil, fmt.Errorf("open Azure DevOps system %s: the organization is not set: %w", cfg.Name, connector.ErrInvalid)
	}
	base, err := baseURL(cfg.URL, org)
	if err != nil {
		return nil, fmt.Errorf("open Azure DevOps system %s: %w: %w", cfg.Name, connector.ErrInvalid, err)
	}
	now := env.Clock()
	slow := &slowdown{now: now}
	o := httpx.SystemOptions(cfg, env)
	o.BaseURL = base
	// A PAT is sent as basic credentials with an empty user name.
	o.Auth, o.Secrets = httpx.Basic("", httpx.Static(pat)), []secret.Secret{pat}
	o.HTTPClient = slow.client(env.HTTP, o.InsecureSkipVerify)
	client, err := httpx.New(o)
	if err != nil {
		return nil, fmt.Errorf("open Azure DevOps system %s: %w: %w", cfg.Name, connector.ErrInvalid, err)
	}
	version := cfg.SettingString("apiVersion")
	if version == "" {
		version = defaultAPIVersion
	}
	mb := cfg.SettingInt("maxAttachmentMB")
	if mb <= 0 {
		mb = defaultMaxAttachmentMB
	}
	return &Conn{http: client, system: cfg.ID, org: org, project: cfg.SettingString("project"),
		apiVersion: version, maxAttachment: int64(mb) << 20, now: now, log: env.Log, slow: slow,
		projectOf: map[int]string{}, projectID: map[string]string{}}, nil
}

// Close releases the connector's idle connections and its share of the
// system's rate limiter (connector.Close); calls in flight finish.
func (c *Conn) Close() error { return c.http.Close() }

func baseURL(raw, org string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		raw = defaultURL
	}
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("system URL %q is not a URL", raw)
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if strings.EqualFold(segs[len(segs)-1], org) || strings.EqualFold(strings.Split(u.Hostname(), ".")[0], org) && strings.HasSuffix(u.Hostname(), ".visualstudio.com") {
		return u.String(), nil
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/" + org
	return u.String(), nil
}

// HTTPStats returns the connector's request counters, for benchmarks.
func (c *Conn) HTTPStats() httpx.Stats { return c.http.Stats() }

// scope picks the project: the argument, else the system's setting.
func (c *Conn) scope(project string) (string, error) {
	return connector.Scope("project", project, c.project)
}

// call sends one request and decodes a JSON answer into out. in is sent
// as JSON (as a JSON Patch document when patch is set). A 203 whose body
// is not JSON is the service's sign-in page: the PAT was refused.
func (c *Conn) call(ctx context.Context, r httpx.Request, in any, patch bool, out any) error {
	q := r.Query
	if q == nil {
		q = url.Values{}
	}
	if q.Get("api-version") == "" {
		q.Set("api-version", c.apiVersion)
	}
	r.Query = q
	ct := ""
	if patch {
		ct = "application/json-patch+json"
	}
	r, err := r.JSON(in, ct)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(ctx, r)
	if err != nil {
		return adoError(err)
	}
	defer resp.Body.Close()
	if err := signInPage(r, resp); err != nil {
		return err
	}
	return httpx.DecodeJSON(r, resp, out)
}

// signInPage turns the service's HTML sign-in answer into ErrUnauthorized:
// a 203 that is not JSON, or an HTML page where JSON was asked for.
func signInPage(r httpx.Request, resp *http.Response) error {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if (resp.StatusCode == http.StatusNonAuthoritativeInfo && mt != "application/json") || mt == "text/html" {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return fmt.Errorf("%s %s: HTTP %d with a sign-in page instead of data: the personal access token was refused or has expired: %w",
			r.Method, r.Path, resp.StatusCode, connector.ErrUnauthorized)
	}
	return nil
}

// adoError refines httpx's mapping where the service differs: a revision
// test that failed is a conflict even when a Server answers 400.
func adoError(err error) error {
	var se *httpx.StatusError
	if errors.As(err, &se) && se.Status == http.StatusBadRequest && strings.Contains(se.Message, "TF26071") {
		return fmt.Errorf("%w: %w", connector.ErrConflict, err)
	}
	return err
}

// projectPath is /<project>/_apis/<rest>.
func projectPath(project, rest string) string { return "/" + project + "/_apis/" + rest }

// slowdown follows the service's advice on its global consumption limit:
// when responses carry X-RateLimit-Delay the user is being delayed, so
// space requests out before the service starts refusing them with 429.
// It wraps the transport so it sees every response.
type slowdown struct {
	now   func() time.Time
	mu    sync.Mutex
	until time.Time
}

func (s *slowdown) client(base *http.Client, insecure bool) *http.Client {
	var rt http.RoundTripper
	out := &http.Client{}
	if base != nil {
		*out = *base
		rt = base.Transport
	}
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = http.ProxyFromEnvironment
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
		t.MaxIdleConnsPerHost = 16
		rt = t
	}
	out.Transport = roundTripper{next: rt, s: s}
	return out
}

type roundTripper struct {
	next http.RoundTripper
	s    *slowdown
}

func (t roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	t.s.mu.Lock()
	wait := t.s.until.Sub(t.s.now())
	t.s.mu.Unlock()
	if wait > 0 {
		timer := time.NewTimer(wait)
		select {
		case <-r.Context().Done():
			timer.Stop()
			return nil, r.Context().Err()
		case <-timer.C:
		}
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if d, err := strconv.ParseFloat(strings.TrimSpace(resp.Header.Get("X-RateLimit-Delay")), 64); err == nil && d > 0 {
		delay := min(time.Duration(d*float64(time.Second)), maxSlowdown)
		t.s.mu.Lock()
		if u := t.s.now().Add(delay); u.After(t.s.until) {
			t.s.until = u
		}
		t.s.mu.Unlock()
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		// For this service X-RateLimit-Remaining: 0 means "being delayed",
		// not "refused", and X-RateLimit-Reset is when usage would decay
		// to zero (minutes away). The shared client would stop every
		// request until then; the delay above is the right reaction, and
		// a real refusal comes as 429 with Retry-After.
		resp.Header.Del("X-RateLimit-Remaining")
	}
	return resp, nil
}
