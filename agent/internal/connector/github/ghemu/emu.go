// Package ghemu is an in-memory GitHub for tests: the REST API v3 (version
// 2022-11-28) of issues, comments, labels, milestones, assignees,
// sub-issues, issue dependencies, issue search, repository webhooks and
// GraphQL's deleteIssue, served by httptest, written from GitHub's
// published REST reference ("REST API endpoints for issues" and the pages
// beside it) and its guides on pagination, conditional requests and rate
// limits.
//
// Where sync correctness depends on it, it behaves as GitHub documents:
// pages by number with a Link header (per_page up to 100, default 30),
// times in whole seconds, "since" on updated_at, sort and direction; weak
// ETags and Last-Modified, answering 304 Not Modified without charging
// the rate limit; x-ratelimit-* headers on every answer, the primary
// limit (5,000 an hour; search 30 a minute) answered with 403 and
// remaining 0, secondary limits (80 content creations a minute, 500 an
// hour, 900 points a minute per endpoint) answered with 403 or 429, a
// message and, unless told not to, retry-after; 401 "Bad credentials";
// 404 for what does not exist, 410 for a deleted issue, 422 "Validation
// Failed" for what the API refuses; a search index that lags behind
// writes (eventual consistency); webhook deliveries signed with
// X-Hub-Signature-256.
//
// It holds what the GitHub connector uses and no more; anything else
// answers 404 like an unknown route.
package ghemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Permissions a user can have on every repository.
const (
	Read   = "read"
	Triage = "triage"
	Write  = "write"
	Admin  = "admin"
)

// User is an account and its token.
type User struct {
	Login string
	Name  string
	Email string
	// Token authenticates as the user (Authorization: Bearer or token).
	Token string
	// Scopes make the token a classic one: GitHub lists them in
	// X-OAuth-Scopes. nil is a fine-grained token, which lists none.
	Scopes []string
	// Permission is the user's role on every repository (default Write).
	Permission string
	// ReadOnlyToken is a fine-grained token without Issues write: every
	// write answers 403 "Resource not accessible by personal access token".
	ReadOnlyToken bool
}

// Repo is a repository; its owner is an organization unless a user of
// that login exists.
type Repo struct {
	Owner, Name string
	Labels      []string // default bug, documentation, enhancement
	Milestones  []string // open milestones, numbered from 1
	NoIssues    bool     // has_issues false
	Archived    bool
}

// Options configure an emulator. Zero values give a usable GitHub.
type Options struct {
	Users []User
	Repos []Repo
	// Now is the clock (default time.Now); GitHub's times are whole
	// seconds, and so are the emulator's.
	Now func() time.Time
	// PathPrefix serves the API under a path, as an Enterprise Server does
	// under /api/v3.
	PathPrefix string
	// MaxPerPage caps per_page (default 100, GitHub's).
	MaxPerPage int
	// CoreLimit is the primary limit per hour (default 5000), SearchLimit
	// the search limit per minute (default 30).
	CoreLimit, SearchLimit int
	// ContentPerMinute and ContentPerHour are the secondary limits on
	// content creation (default 80 and 500); PointsPerMinute the points
	// one endpoint takes a minute (default 900: GET 1, writes 5).
	ContentPerMinute, ContentPerHour, PointsPerMinute int
	// Minute is how long a minute lasts for every limit (default a
	// minute); tests shorten it to exercise the limits quickly. An hour
	// is sixty of them.
	Minute time.Duration
	// SecondaryStatus answers a secondary limit: 403 (default) or 429.
	SecondaryStatus int
	// NoRetryAfter leaves retry-after out of secondary limit answers, as
	// GitHub sometimes does ("wait for at least one minute").
	NoRetryAfter bool
	// SearchLag is how long a write takes to reach the search index.
	SearchLag time.Duration
	// SinceExclusive reads "since" as strictly after, the other reading
	// of the documentation's "updated after the given time".
	SinceExclusive bool
}

// Emu is a running emulator.
type Emu struct {
	o   Options
	srv *httptest.Server
	mux *http.ServeMux
	// cmux holds the routes of single comments (.../issues/comments/{id}),
	// whose patterns overlap .../issues/{number}/comments in one mux.
	cmux *http.ServeMux

	mu         sync.Mutex
	repos      map[string]*repo // by lower-case "owner/name"
	issues     map[int64]*issue // by id
	comments   map[int64]*comment
	nextID     int64
	limits     map[string]*quota // primary limits by login and resource
	content    map[string][]time.Time
	points     map[string][]pointHit
	blocked    map[string]time.Time // secondary limit block, by login
	stats      Stats
	deliveries sync.WaitGroup
}

// Stats counts what the emulator saw, for tests and benchmarks.
type Stats struct {
	Requests     int // every request
	NotModified  int // 304 answers
	CoreUsed     int // requests charged to the primary limit
	SearchUsed   int // requests charged to the search limit
	Created      int // content creations (issues, comments)
	Secondary    int // secondary limit answers
	Primary      int // primary limit answers
	EarlyRetries int // requests that came back before retry-after elapsed
	Deliveries   int // webhook deliveries sent
}

// Start runs an emulator; Close stops it.
func Start(o Options) *Emu {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxPerPage <= 0 {
		o.MaxPerPage = 100
	}
	if o.CoreLimit <= 0 {
		o.CoreLimit = 5000
	}
	if o.SearchLimit <= 0 {
		o.SearchLimit = 30
	}
	if o.ContentPerMinute <= 0 {
		o.ContentPerMinute = 80
	}
	if o.ContentPerHour <= 0 {
		o.ContentPerHour = 500
	}
	if o.PointsPerMinute <= 0 {
		o.PointsPerMinute = 900
	}
	if o.Minute <= 0 {
		o.Minute = time.Minute
	}
	if o.SecondaryStatus == 0 {
		o.SecondaryStatus = http.StatusForbidden
	}
	o.PathPrefix = strings.TrimRight(o.PathPrefix, "/")
	e := &Emu{o: o, mux: http.NewServeMux(), cmux: http.NewServeMux(), repos: map[string]*repo{}, issues: map[int64]*issue{},
		comments: map[int64]*comment{}, nextID: 1000, limits: map[string]*quota{}, content: map[string][]time.Time{},
		points: map[string][]pointHit{}, blocked: map[string]time.Time{}}
	for _, r := range o.Repos {
		e.addRepo(r)
	}
	e.routes()
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	return e
}

// URL is the API's base URL (with the path prefix).
func (e *Emu) URL() string { return e.srv.URL + e.o.PathPrefix }

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

// now is the clock in whole seconds, as GitHub keeps its times.
func (e *Emu) now() time.Time { return e.o.Now().UTC().Truncate(time.Second) }

func (e *Emu) newID() int64 {
	e.nextID++
	return e.nextID
}

// route is one endpoint; its pattern names the secondary limit's bucket.
type route struct {
	pattern string
	search  bool // charged to the search limit
	create  bool // creates content
	h       func(w http.ResponseWriter, r *http.Request, u *User)
}

func (e *Emu) routes() {
	rs := []route{
		{pattern: "GET /user", h: e.getMe},
		{pattern: "GET /users/{login}", h: e.getUser},
		{pattern: "GET /rate_limit", h: e.rateLimit},
		{pattern: "GET /repos/{owner}/{repo}", h: e.getRepo},
		{pattern: "GET /repos/{owner}/{repo}/labels", h: e.listLabels},
		{pattern: "GET /repos/{owner}/{repo}/milestones", h: e.listMilestones},
		{pattern: "GET /repos/{owner}/{repo}/assignees", h: e.listAssignees},
		{pattern: "GET /repos/{owner}/{repo}/issues", h: e.listIssues},
		{pattern: "GET /repositories/{id}/issues", h: e.listIssues},
		{pattern: "POST /repos/{owner}/{repo}/issues", create: true, h: e.createIssue},
		{pattern: "GET /repos/{owner}/{repo}/issues/{number}", h: e.getIssue},
		{pattern: "PATCH /repos/{owner}/{repo}/issues/{number}", h: e.updateIssue},
		{pattern: "GET /repos/{owner}/{repo}/issues/{number}/comments", h: e.listComments},
		{pattern: "GET /repositories/{id}/issues/{number}/comments", h: e.listComments},
		{pattern: "POST /repos/{owner}/{repo}/issues/{number}/comments", create: true, h: e.createComment},
		{pattern: "GET /repos/{owner}/{repo}/issues/comments/{id}", h: e.getComment},
		{pattern: "PATCH /repos/{owner}/{repo}/issues/comments/{id}", h: e.updateComment},
		{pattern: "DELETE /repos/{owner}/{repo}/issues/comments/{id}", h: e.deleteComment},
		{pattern: "GET /repos/{owner}/{repo}/issues/{number}/sub_issues", h: e.listSubIssues},
		{pattern: "POST /repos/{owner}/{repo}/issues/{number}/sub_issues", h: e.addSubIssue},
		{pattern: "DELETE /repos/{owner}/{repo}/issues/{number}/sub_issue", h: e.removeSubIssue},
		{pattern: "GET /repos/{owner}/{repo}/issues/{number}/parent", h: e.getParent},
		{pattern: "GET /repos/{owner}/{repo}/issues/{number}/dependencies/blocked_by", h: e.listBlockedBy},
		{pattern: "POST /repos/{owner}/{repo}/issues/{number}/dependencies/blocked_by", h: e.addBlockedBy},
		{pattern: "DELETE /repos/{owner}/{repo}/issues/{number}/dependencies/blocked_by/{issue_id}", h: e.removeBlockedBy},
		{pattern: "GET /repos/{owner}/{repo}/issues/{number}/dependencies/blocking", h: e.listBlocking},
		{pattern: "GET /search/issues", search: true, h: e.searchIssues},
		{pattern: "GET /repos/{owner}/{repo}/hooks", h: e.listHooks},
		{pattern: "POST /repos/{owner}/{repo}/hooks", h: e.createHook},
		{pattern: "DELETE /repos/{owner}/{repo}/hooks/{id}", h: e.deleteHook},
		{pattern: "POST /graphql", h: e.graphql},
	}
	for _, rt := range rs {
		method, path, _ := strings.Cut(rt.pattern, " ")
		prefix := e.o.PathPrefix
		if path == "/graphql" {
			// An Enterprise Server's GraphQL is /api/graphql, beside /api/v3.
			prefix = strings.TrimSuffix(prefix, "/v3")
		}
		mux := e.mux
		if strings.Contains(path, "/issues/comments/") {
			mux = e.cmux
		}
		mux.HandleFunc(method+" "+prefix+path, func(w http.ResponseWriter, r *http.Request) { e.handle(w, r, rt) })
	}
}

func (e *Emu) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.stats.Requests++
	e.mu.Unlock()
	w.Header().Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	mux := e.mux
	if _, pattern := e.cmux.Handler(r); pattern != "" {
		mux = e.cmux
	}
	if _, pattern := mux.Handler(r); pattern == "" {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	mux.ServeHTTP(w, r)
}

// handle authenticates, applies the rate limits and answers, charging the
// primary limit unless the answer is 304.
func (e *Emu) handle(w http.ResponseWriter, r *http.Request, rt route) {
	u := e.authenticate(r)
	if u == nil {
		msg := "Bad credentials"
		if r.Header.Get("Authorization") == "" {
			msg = "Requires authentication"
		}
		writeError(w, http.StatusUnauthorized, msg)
		return
	}
	resource := "core"
	if rt.search {
		resource = "search"
	}
	if rt.pattern == "POST /graphql" {
		resource = "graphql"
	}
	before, ok := e.admit(w, r, u, rt, resource)
	if !ok {
		return
	}
	if u.Scopes != nil {
		w.Header().Set("X-OAuth-Scopes", strings.Join(u.Scopes, ", "))
	}
	if r.Method != http.MethodGet && u.ReadOnlyToken {
		w.Header().Set("X-Accepted-GitHub-Permissions", "issues=write")
		writeError(w, http.StatusForbidden, "Resource not accessible by personal access token")
		return
	}
	rec := &recorder{ResponseWriter: w, notModified: func() { rateHeaders(w, &before, resource) }}
	rt.h(rec, r, u)
	switch {
	case rec.status == http.StatusNotModified:
		e.mu.Lock()
		e.stats.NotModified++
		e.mu.Unlock()
	case rt.pattern != "GET /rate_limit":
		e.charge(u, resource)
	}
}

// recorder notes the status a handler answered, and gives a 304 the rate
// limit headers of a request that was not charged.
type recorder struct {
	http.ResponseWriter
	status      int
	notModified func()
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	if code == http.StatusNotModified {
		r.notModified()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (e *Emu) authenticate(r *http.Request) *User {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		token, ok = strings.CutPrefix(h, "token ")
	}
	if !ok || token == "" {
		return nil
	}
	for i := range e.o.Users {
		if u := &e.o.Users[i]; u.Token != "" && u.Token == token {
			return u
		}
	}
	return nil
}

func perm(u *User) string {
	if u.Permission == "" {
		return Write
	}
	return u.Permission
}

// can reports whether u's role reaches at least need.
func can(u *User, need string) bool {
	rank := map[string]int{Read: 0, Triage: 1, Write: 2, Admin: 3}
	return rank[perm(u)] >= rank[need]
}

// writeError answers in GitHub's error shape.
func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"message": message,
		"documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(status)})
}

// fieldError is one entry of a 422's errors.
type fieldError struct {
	Resource string `json:"resource"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message,omitempty"`
}

// writeValidation answers 422 Validation Failed.
func writeValidation(w http.ResponseWriter, errs ...fieldError) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": errs,
		"documentation_url": "https://docs.github.com/rest", "status": "422"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeGet answers a GET with v, a weak ETag of the body and, when
// modified is not zero, Last-Modified; a request whose If-None-Match (or,
// without one, If-Modified-Since) still matches gets 304 and no body.
func writeGet(w http.ResponseWriter, r *http.Request, v any, modified time.Time) {
	body, _ := json.Marshal(v)
	sum := sha256.Sum256(body)
	etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	w.Header().Set("Cache-Control", "private, max-age=60, s-maxage=60")
	if !modified.IsZero() {
		w.Header().Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if etagMatch(inm, etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	} else if ims := r.Header.Get("If-Modified-Since"); ims != "" && !modified.IsZero() {
		if t, err := http.ParseTime(ims); err == nil && !modified.After(t) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}

// etagMatch is If-None-Match's weak comparison over a list of tags.
func etagMatch(header, etag string) bool {
	strip := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, t := range strings.Split(header, ",") {
		if strings.TrimSpace(t) == "*" || strip(t) == strip(etag) {
			return true
		}
	}
	return false
}

// Sign is the X-Hub-Signature-256 of body under secret.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func timeJSON(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func (e *Emu) apiURL(path string) string { return e.srv.URL + e.o.PathPrefix + path }

func (e *Emu) htmlURL(path string) string { return e.srv.URL + path }

// pageOf reads per_page and page, answering 422 for what GitHub refuses.
func (e *Emu) pageOf(w http.ResponseWriter, r *http.Request) (perPage, page int, ok bool) {
	q := r.URL.Query()
	perPage, page = 30, 1
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeValidation(w, fieldError{Resource: "Search", Code: "invalid", Field: "per_page"})
			return 0, 0, false
		}
		perPage = min(n, e.o.MaxPerPage)
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			n = 1 // GitHub reads a bad page as the first
		}
		page = n
	}
	return perPage, page, true
}

// paginate cuts one page out of n items and sets the Link header the way
// GitHub does: next, last, first and prev, each the same query with
// another page number, at base.
func paginate(w http.ResponseWriter, r *http.Request, base string, n, perPage, page int) (from, to int) {
	last := max(1, (n+perPage-1)/perPage)
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return fmt.Sprintf(`<%s?%s>; rel="%s"`, base, q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	from = min((page-1)*perPage, n)
	return from, min(from+perPage, n)
}
