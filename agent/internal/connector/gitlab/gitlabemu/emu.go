// Package gitlabemu is an in-memory GitLab for tests: the REST API v4 of
// GitLab.com and self-managed GitLab, served by httptest, written from
// GitLab's published API reference (docs.gitlab.com/api: issues, notes,
// issue links, Markdown uploads, project hooks, personal access tokens,
// the REST pagination and rate-limit pages) and its client libraries
// (go-gitlab, python-gitlab).
//
// What sync correctness depends on is kept as GitLab has it: tokens in
// PRIVATE-TOKEN (or Authorization: Bearer) with their scopes and expiry,
// 401/403/404 bodies, offset pagination (X-Page, X-Next-Page, X-Total and
// a Link header; the totals left out past a count limit), timestamps held
// to the microsecond as PostgreSQL does but shown to the millisecond in
// the instance's time zone, updated_after compared with the stored value,
// ordering by updated_at then id, the full-text issue search with its
// prefix matching, system notes written for state, title, assignee and
// link changes, notes touching their issue, the Rack::Attack throttle
// (RateLimit-* on every answer, 429 "Retry later" with Retry-After) and
// the application limits on issue and note creation (429 without
// Retry-After), validation errors as {"message":{"field":["..."]}} or
// {"error":"..."}, and project hooks delivered with X-Gitlab-Token.
//
// It holds what the GitLab connector uses and no more; anything else
// answers 404 {"error":"404 Not Found"} as an unknown API route does.
package gitlabemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Access levels of project members.
const (
	Guest      = 10
	Planner    = 15
	Reporter   = 20
	Developer  = 30
	Maintainer = 40
	Owner      = 50
)

// User is an account. Token is a personal access token with Scopes
// (default: api); Expired makes every request with it a 401.
type User struct {
	ID       int
	Username string
	Name     string
	Email    string
	Token    string
	Scopes   []string
	Expired  bool
	Admin    bool
}

// Project is a project; Members maps a username to its access level.
type Project struct {
	ID         int
	Path       string // path with namespace, e.g. "acme/helpdesk"
	Name       string
	Members    map[string]int
	Milestones []string // active milestones' titles
	Labels     []string
}

// Options configure an emulator. Zero values give a usable GitLab.
type Options struct {
	Users    []User
	Projects []Project
	// Now is the clock (default time.Now). Times are kept to the
	// microsecond and shown to the millisecond in TimeZone (default UTC,
	// shown with "Z"; a self-managed instance may set another).
	Now      func() time.Time
	TimeZone *time.Location
	// Premium shows and takes weights, several assignees and blocking
	// links; Free ignores the weight and all assignees but the first.
	Premium bool
	// CountLimit is the number of records past which X-Total,
	// X-Total-Pages and the last link are left out (GitLab: 10,000).
	CountLimit int
	// APILimit is the authenticated API throttle: requests per user per
	// APIPeriod (default one minute); 0 disables it and its headers.
	APILimit  int
	APIPeriod time.Duration
	// IssueCreateLimit and NoteCreateLimit are the application limits on
	// creating issues and notes, per user per AppPeriod (GitLab's is a
	// minute, the default; tests shorten it); 0 disables them.
	IssueCreateLimit int
	NoteCreateLimit  int
	AppPeriod        time.Duration
	// MaxUploadBytes bounds an upload (GitLab's default 100 MiB).
	MaxUploadBytes int64
	// BlockLocalHooks refuses hooks to loopback and private addresses, as
	// GitLab does unless an administrator allows the local network.
	BlockLocalHooks bool
	// Version is what /version answers (default 17.5.0).
	Version string
}

// Emu is a running emulator.
type Emu struct {
	o   Options
	srv *httptest.Server
	mux *http.ServeMux

	mu         sync.Mutex
	projects   map[int]*project
	nextID     map[string]int // per kind of record
	issues     map[int]*issue // by global id
	links      map[int]*link
	uploads    map[int]*upload
	hooks      map[int]*hook
	windows    map[string]*window
	stats      Stats
	deliveries sync.WaitGroup
	hookLog    []Delivery
}

// Stats counts what the emulator saw, for tests and benchmarks.
type Stats struct {
	Requests     int
	Writes       int // POST, PUT and DELETE requests
	RateLimited  int // 429s answered
	EarlyRetries int // requests that came back before Retry-After elapsed
	Deliveries   int // webhook deliveries sent
}

type project struct {
	Project
	labels     []string
	milestones []*milestone
	nextIID    int
}

type milestone struct {
	ID, IID int
	Title   string
	State   string
}

// Start runs an emulator; Close stops it.
func Start(o Options) *Emu {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TimeZone == nil {
		o.TimeZone = time.UTC
	}
	if o.CountLimit <= 0 {
		o.CountLimit = 10000
	}
	if o.APIPeriod <= 0 {
		o.APIPeriod = time.Minute
	}
	if o.AppPeriod <= 0 {
		o.AppPeriod = time.Minute
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = 100 << 20
	}
	if o.Version == "" {
		o.Version = "17.5.0"
	}
	for i := range o.Users {
		if o.Users[i].Scopes == nil {
			o.Users[i].Scopes = []string{"api"}
		}
	}
	e := &Emu{o: o, mux: http.NewServeMux(), projects: map[int]*project{}, nextID: map[string]int{},
		issues: map[int]*issue{}, links: map[int]*link{}, uploads: map[int]*upload{}, hooks: map[int]*hook{},
		windows: map[string]*window{}}
	for _, p := range o.Projects {
		pr := &project{Project: p, labels: slices.Clone(p.Labels)}
		for _, t := range p.Milestones {
			pr.milestones = append(pr.milestones, &milestone{ID: e.newID("milestone"), IID: len(pr.milestones) + 1, Title: t, State: "active"})
		}
		e.projects[p.ID] = pr
	}
	e.routes()
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	return e
}

// URL is the instance's root URL (the API is under /api/v4).
func (e *Emu) URL() string { return e.srv.URL }

// Close stops the server after pending webhook deliveries.
func (e *Emu) Close() {
	e.srv.Close()
	e.deliveries.Wait()
}

// Stats returns the counters.
func (e *Emu) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

func (e *Emu) now() time.Time { return e.o.Now().UTC().Truncate(time.Microsecond) }

func (e *Emu) newID(kind string) int {
	e.nextID[kind]++
	return e.nextID[kind] + 100*len(kind) // ids of different kinds rarely meet
}

// stamp renders a time as GitLab's API does: milliseconds, truncated, in
// the instance's zone ("Z" for UTC).
func (e *Emu) stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(e.o.TimeZone).Format("2006-01-02T15:04:05.000Z07:00")
}

func (e *Emu) stampOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return e.stamp(t)
}

// route is one endpoint.
type route struct {
	pattern string
	write   bool // needs the api scope
	h       func(w http.ResponseWriter, r *http.Request, u *User)
}

func (e *Emu) routes() {
	const a = "/api/v4"
	rs := []route{
		{pattern: "GET " + a + "/user", h: e.currentUser},
		{pattern: "GET " + a + "/version", h: e.version},
		{pattern: "GET " + a + "/personal_access_tokens/self", h: e.tokenSelf},
		{pattern: "GET " + a + "/users", h: e.searchUsers},
		{pattern: "GET " + a + "/projects/{id}", h: e.getProject},
		{pattern: "GET " + a + "/projects/{id}/members/all", h: e.members},
		{pattern: "GET " + a + "/projects/{id}/labels", h: e.labelsList},
		{pattern: "GET " + a + "/projects/{id}/milestones", h: e.milestonesList},
		{pattern: "GET " + a + "/projects/{id}/issues", h: e.listIssues},
		{pattern: "POST " + a + "/projects/{id}/issues", write: true, h: e.createIssue},
		{pattern: "GET " + a + "/projects/{id}/issues/{iid}", h: e.getIssue},
		{pattern: "PUT " + a + "/projects/{id}/issues/{iid}", write: true, h: e.editIssue},
		{pattern: "DELETE " + a + "/projects/{id}/issues/{iid}", write: true, h: e.deleteIssue},
		{pattern: "GET " + a + "/projects/{id}/issues/{iid}/notes", h: e.listNotes},
		{pattern: "POST " + a + "/projects/{id}/issues/{iid}/notes", write: true, h: e.createNote},
		{pattern: "GET " + a + "/projects/{id}/issues/{iid}/notes/{note}", h: e.getNote},
		{pattern: "PUT " + a + "/projects/{id}/issues/{iid}/notes/{note}", write: true, h: e.editNote},
		{pattern: "DELETE " + a + "/projects/{id}/issues/{iid}/notes/{note}", write: true, h: e.deleteNote},
		{pattern: "GET " + a + "/projects/{id}/issues/{iid}/links", h: e.listLinks},
		{pattern: "POST " + a + "/projects/{id}/issues/{iid}/links", write: true, h: e.createLink},
		{pattern: "DELETE " + a + "/projects/{id}/issues/{iid}/links/{link}", write: true, h: e.deleteLink},
		{pattern: "POST " + a + "/projects/{id}/uploads", write: true, h: e.createUpload},
		{pattern: "GET " + a + "/projects/{id}/uploads", h: e.listUploads},
		{pattern: "GET " + a + "/projects/{id}/uploads/{secret}/{filename}", h: e.downloadUpload},
		{pattern: "DELETE " + a + "/projects/{id}/uploads/{secret}/{filename}", write: true, h: e.deleteUpload},
		{pattern: "GET " + a + "/projects/{id}/hooks", h: e.listHooks},
		{pattern: "POST " + a + "/projects/{id}/hooks", write: true, h: e.createHook},
		{pattern: "DELETE " + a + "/projects/{id}/hooks/{hook}", write: true, h: e.deleteHook},
	}
	for _, rt := range rs {
		e.mux.HandleFunc(rt.pattern, func(w http.ResponseWriter, r *http.Request) {
			u, refusal := e.authenticate(r)
			if u == nil {
				refusal(w)
				return
			}
			if !e.throttle(w, u) {
				return
			}
			if rt.write && !slices.Contains(u.Scopes, "api") {
				writeJSON(w, http.StatusForbidden, map[string]any{"error": "insufficient_scope",
					"error_description": "The request requires higher privileges than provided by the access token.", "scope": "api"})
				return
			}
			rt.h(w, r, u)
		})
	}
}

func (e *Emu) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.stats.Requests++
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		e.stats.Writes++
	}
	e.mu.Unlock()
	if _, pattern := e.mux.Handler(r); pattern == "" {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
		return
	}
	e.mux.ServeHTTP(w, r)
}

// authenticate finds the user of a request by its PRIVATE-TOKEN header or
// OAuth-style Bearer token; refusal answers as GitLab does.
func (e *Emu) authenticate(r *http.Request) (*User, func(http.ResponseWriter)) {
	token := r.Header.Get("Private-Token")
	if token == "" {
		token, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	unauthorized := func(w http.ResponseWriter) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
	}
	if token == "" {
		return nil, unauthorized
	}
	for i := range e.o.Users {
		u := &e.o.Users[i]
		if u.Token == "" || u.Token != token {
			continue
		}
		if u.Expired {
			return nil, func(w http.ResponseWriter) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="", error="invalid_token", error_description="Token has expired."`)
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Token has expired."})
			}
		}
		return u, nil
	}
	return nil, unauthorized
}

// window is one fixed window of a throttle, aligned to the epoch as
// Rack::Attack's are.
type window struct {
	start time.Time
	n     int
}

// count adds a request to the window of key and reports the count, the
// window's end and whether the request is within limit.
func (e *Emu) count(key string, limit int, period time.Duration, now time.Time) (int, time.Time, bool) {
	start := now.Truncate(period)
	win := e.windows[key]
	if win == nil || !win.start.Equal(start) {
		win = &window{start: start}
		e.windows[key] = win
	}
	win.n++
	return win.n, start.Add(period), win.n <= limit
}

// throttle applies the authenticated API limit and sets its headers on
// every answer.
func (e *Emu) throttle(w http.ResponseWriter, u *User) bool {
	if e.o.APILimit <= 0 {
		return true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.o.Now()
	n, reset, ok := e.count("api "+u.Username, e.o.APILimit, e.o.APIPeriod, now)
	perMinute := int(float64(e.o.APILimit) * float64(time.Minute) / float64(e.o.APIPeriod))
	h := w.Header()
	h.Set("RateLimit-Name", "throttle_authenticated_api")
	h.Set("RateLimit-Limit", strconv.Itoa(perMinute))
	h.Set("RateLimit-Observed", strconv.Itoa(n))
	h.Set("RateLimit-Remaining", strconv.Itoa(max(0, e.o.APILimit-n)))
	h.Set("RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	if ok {
		return true
	}
	if n > e.o.APILimit+1 {
		e.stats.EarlyRetries++ // told to wait, came back before the reset
	}
	e.stats.RateLimited++
	h.Set("RateLimit-ResetTime", reset.UTC().Format(http.TimeFormat))
	// Whole seconds, rounded up: a client that waits as told lands in the
	// next window.
	h.Set("Retry-After", strconv.Itoa(int((reset.Sub(now)+time.Second-1)/time.Second)))
	h.Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte("Retry later\n"))
	return false
}

// appLimit applies an application rate limit (issue or note creation):
// a 429 whose only headers are the API throttle's, as GitLab sends.
func (e *Emu) appLimit(w http.ResponseWriter, u *User, name string, limit int) bool {
	if limit <= 0 {
		return true
	}
	e.mu.Lock()
	n, _, ok := e.count(name+" "+u.Username, limit, e.o.AppPeriod, e.o.Now())
	if !ok {
		e.stats.RateLimited++
		if n > limit+1 {
			e.stats.EarlyRetries++
		}
	}
	e.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": map[string]string{
			"error": "This endpoint has been requested too many times. Try again later."}})
	}
	return ok
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// message answers {"message": msg}: GitLab's shape for 401, 403, 404 and
// most refusals.
func message(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

// paramError answers 400 {"error": msg}: Grape's shape for a missing or
// invalid parameter.
func paramError(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": msg})
}

// fieldErrors answers 400 {"message": {field: [msgs]}}: a model's
// validation errors.
func fieldErrors(w http.ResponseWriter, errs map[string][]string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"message": errs})
}

// projectOf resolves the {id} of a route, a number or a URL-encoded
// path, to a project the user can see; a project the user cannot see is
// "404 Project Not Found", as if it did not exist.
func (e *Emu) projectOf(w http.ResponseWriter, r *http.Request, u *User) (*project, int) {
	id := r.PathValue("id")
	var p *project
	if n, err := strconv.Atoi(id); err == nil {
		p = e.projects[n]
	} else {
		for _, x := range e.projects {
			if strings.EqualFold(x.Path, id) {
				p = x
			}
		}
	}
	level := 0
	if p != nil {
		level = p.Members[u.Username]
		if u.Admin {
			level = Owner
		}
	}
	if p == nil || level == 0 {
		message(w, http.StatusNotFound, "404 Project Not Found")
		return nil, 0
	}
	return p, level
}

// projectAt is projectOf for users of at least level; others are answered
// 403. The caller holds e.mu.
func (e *Emu) projectAt(w http.ResponseWriter, r *http.Request, u *User, level int) *project {
	p, have := e.projectOf(w, r, u)
	if p != nil && have < level {
		forbidden(w)
		return nil
	}
	return p
}

// issueAt resolves the {id} and {iid} of a route; a nil issue has been
// answered. The caller holds e.mu.
func (e *Emu) issueAt(w http.ResponseWriter, r *http.Request, u *User) (*project, int, *issue) {
	p, level := e.projectOf(w, r, u)
	if p == nil {
		return nil, 0, nil
	}
	return p, level, e.issueOf(w, r, p)
}

func forbidden(w http.ResponseWriter) { message(w, http.StatusForbidden, "403 Forbidden") }

// page is offset pagination as GitLab's API does it.
type page struct {
	number, size int
}

// paging reads page and per_page (default 20, at most 100).
func paging(r *http.Request) page {
	p := page{number: 1, size: 20}
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 0 {
		p.number = n
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && n > 0 {
		p.size = min(n, 100)
	}
	return p
}

// writePage answers one page of items with GitLab's pagination headers.
func (e *Emu) writePage(w http.ResponseWriter, r *http.Request, items []any) {
	p := paging(r)
	total := len(items)
	from := min((p.number-1)*p.size, total)
	to := min(from+p.size, total)
	h := w.Header()
	pages := max(1, (total+p.size-1)/p.size)
	h.Set("X-Page", strconv.Itoa(p.number))
	h.Set("X-Per-Page", strconv.Itoa(p.size))
	h.Set("X-Prev-Page", "")
	h.Set("X-Next-Page", "")
	if p.number > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(p.number-1))
	}
	link := func(n int, rel string) string {
		u := *r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(n))
		q.Set("per_page", strconv.Itoa(p.size))
		u.RawQuery = q.Encode()
		return fmt.Sprintf(`<%s%s>; rel="%s"`, e.URL(), u.RequestURI(), rel)
	}
	var links []string
	if p.number > 1 {
		links = append(links, link(p.number-1, "prev"))
	}
	if to < total {
		h.Set("X-Next-Page", strconv.Itoa(p.number+1))
		links = append(links, link(p.number+1, "next"))
	}
	links = append(links, link(1, "first"))
	if total <= e.o.CountLimit {
		h.Set("X-Total", strconv.Itoa(total))
		h.Set("X-Total-Pages", strconv.Itoa(pages))
		links = append(links, link(pages, "last"))
	}
	h.Set("Link", strings.Join(links, ", "))
	writeJSON(w, http.StatusOK, items[from:to])
}

// decodeBody reads a JSON or form body into a map of parameters.
func decodeBody(r *http.Request) (map[string]any, error) {
	out := map[string]any{}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 8<<20))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			return nil, err
		}
	default:
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		for k, v := range r.PostForm {
			if len(v) == 1 {
				out[k] = v[0]
			} else {
				out[k] = v
			}
		}
	}
	return out, nil
}

// param reads a text parameter; ok is false when it is absent.
func param(in map[string]any, name string) (string, bool) {
	v, ok := in[name]
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return fmt.Sprint(v), true
}

// intParam reads an integer parameter; "" and null are 0 (GitLab's way of
// clearing a milestone or an assignee); bad is the Grape error.
func intParam(in map[string]any, name string) (n int, present bool, bad bool) {
	s, ok := param(in, name)
	if !ok {
		return 0, false, false
	}
	if s == "" {
		return 0, true, false
	}
	n, err := strconv.Atoi(s)
	return n, true, err != nil
}

// intList reads an integer array parameter (a JSON array, or a comma list).
func intList(in map[string]any, name string) ([]int, bool, bool) {
	v, ok := in[name]
	if !ok {
		return nil, false, false
	}
	var parts []string
	switch x := v.(type) {
	case nil:
	case []any:
		for _, e := range x {
			parts = append(parts, fmt.Sprint(e))
		}
	case []string:
		parts = x
	default:
		s := fmt.Sprint(x)
		if s != "" {
			parts = strings.Split(s, ",")
		}
	}
	out := []int{}
	for _, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, true, true
		}
		if n != 0 {
			out = append(out, n)
		}
	}
	return out, true, false
}

// stringList reads labels: a comma list or an array of comma lists.
func stringList(in map[string]any, name string) ([]string, bool) {
	v, ok := in[name]
	if !ok {
		return nil, false
	}
	var raw []string
	switch x := v.(type) {
	case nil:
	case []any:
		for _, e := range x {
			raw = append(raw, fmt.Sprint(e))
		}
	default:
		raw = []string{fmt.Sprint(x)}
	}
	out := []string{}
	for _, r := range raw {
		for _, l := range strings.Split(r, ",") {
			if l = strings.TrimSpace(l); l != "" && !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	return out, true
}

func (e *Emu) user(id int) *User {
	for i := range e.o.Users {
		if e.o.Users[i].ID == id {
			return &e.o.Users[i]
		}
	}
	return nil
}

func (e *Emu) userByName(name string) *User {
	for i := range e.o.Users {
		if e.o.Users[i].Username == name {
			return &e.o.Users[i]
		}
	}
	return nil
}

// userJSON is the basic user entity (no email: only admins and the user
// see it).
func (e *Emu) userJSON(u *User) map[string]any {
	if u == nil {
		return nil
	}
	return map[string]any{"id": u.ID, "username": u.Username, "name": u.Name, "state": "active",
		"avatar_url": nil, "web_url": e.URL() + "/" + url.PathEscape(u.Username)}
}
