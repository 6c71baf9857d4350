// Package jiraemu is an in-memory Jira for tests: Jira Cloud's REST API v3
// or Jira Server/Data Center's v2, served by httptest, written from
// Atlassian's published API reference (paths, JSON shapes, error bodies
// {"errorMessages":[...],"errors":{...}}, paging, JQL on updated with minute
// precision in the user's time zone, workflow transitions, ADF bodies on
// v3 and wiki markup on v2, admin webhooks signed with X-Hub-Signature, and
// 429s with Retry-After for burst and per-issue write limits).
//
// It holds what the Jira connector uses and no more; anything else answers
// 404 like an unknown REST resource.
package jiraemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Deployments.
const (
	Cloud  = "cloud"
	Server = "server"
)

// User is an account. On Cloud it signs in with Email and Token (an API
// token, HTTP basic); on Server with Token (a personal access token,
// Bearer).
type User struct {
	AccountID   string // Cloud id
	Name        string // Server user name
	DisplayName string
	Email       string
	HideEmail   bool // Cloud profile visibility: emailAddress left out
	Token       string
	TimeZone    string // IANA name; JQL dates are read in it (default UTC)
	ReadOnly    bool   // may browse but not create or edit
}

// Project is a project with its issue types.
type Project struct {
	Key        string
	Name       string
	IssueTypes []string // default Bug, Task, Story
}

// Options configure an emulator. Zero values give a usable Jira.
type Options struct {
	Deployment string // Cloud (default) or Server
	Users      []User
	Projects   []Project
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxResults caps a page of search results and comments (default 50).
	MaxResults int
	// Burst is how many requests one endpoint and method accept per
	// Window before answering 429 with RateLimit-Reason jira-burst-based;
	// 0 is no limit. IssueWrites likewise bounds writes to one issue
	// (jira-per-issue-on-write).
	Burst       int
	IssueWrites int
	Window      time.Duration // default one second
}

// Emu is a running emulator.
type Emu struct {
	o   Options
	srv *httptest.Server
	mux *http.ServeMux
	api string // "/rest/api/3" or "/rest/api/2"

	mu          sync.Mutex
	nextID      int
	issues      map[string]*issue // by id
	keys        map[string]string // key -> id
	counters    map[string]int    // project -> last number
	links       map[string]*link
	attachments map[string]*attachment
	webhooks    map[string]*webhook
	limits      map[string]*window
	stats       Stats
	deliveries  sync.WaitGroup
}

// Stats counts what the emulator saw, for tests.
type Stats struct {
	Requests     int
	RateLimited  int // 429s answered
	EarlyRetries int // requests that came back before Retry-After elapsed
	Deliveries   int // webhook deliveries sent
}

// Start runs an emulator; Close stops it.
func Start(o Options) *Emu {
	if o.Deployment == "" {
		o.Deployment = Cloud
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxResults <= 0 {
		o.MaxResults = 50
	}
	if o.Window <= 0 {
		o.Window = time.Second
	}
	e := &Emu{o: o, mux: http.NewServeMux(), nextID: 10000,
		issues: map[string]*issue{}, keys: map[string]string{}, counters: map[string]int{},
		links: map[string]*link{}, attachments: map[string]*attachment{}, webhooks: map[string]*webhook{},
		limits: map[string]*window{}}
	e.api = "/rest/api/3"
	if o.Deployment == Server {
		e.api = "/rest/api/2"
	}
	e.routes()
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	return e
}

// URL is the site's base URL.
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

// Cloud reports whether the emulator is Jira Cloud.
func (e *Emu) Cloud() bool { return e.o.Deployment != Server }

func (e *Emu) now() time.Time { return e.o.Now() }

func (e *Emu) newID() string {
	e.nextID++
	return fmt.Sprint(e.nextID)
}

// route is one endpoint: its pattern names the rate-limit bucket.
type route struct {
	pattern string
	write   bool // counts against the per-issue write limit
	h       func(w http.ResponseWriter, r *http.Request, u *User)
}

func (e *Emu) routes() {
	a := e.api
	rs := []route{
		{pattern: "GET " + a + "/myself", h: e.myself},
		{pattern: "GET " + a + "/mypermissions", h: e.myPermissions},
		{pattern: "GET " + a + "/project/{key}", h: e.project},
		{pattern: "GET " + a + "/issue/createmeta/{project}/issuetypes", h: e.createMetaTypes},
		{pattern: "GET " + a + "/issue/createmeta/{project}/issuetypes/{type}", h: e.createMetaFields},
		{pattern: "GET " + a + "/priority", h: e.priorities},
		{pattern: "GET " + a + "/status", h: e.statuses},
		{pattern: "GET " + a + "/field", h: e.fields},
		{pattern: "GET " + a + "/issueLinkType", h: e.linkTypes},
		{pattern: "GET " + a + "/user/assignable/search", h: e.assignable},
		{pattern: "GET " + a + "/user/search", h: e.userSearch},
		{pattern: "POST " + a + "/issue", h: e.createIssue},
		{pattern: "GET " + a + "/issue/{key}", h: e.getIssue},
		{pattern: "PUT " + a + "/issue/{key}", write: true, h: e.editIssue},
		{pattern: "GET " + a + "/issue/{key}/transitions", h: e.transitions},
		{pattern: "POST " + a + "/issue/{key}/transitions", write: true, h: e.doTransition},
		{pattern: "GET " + a + "/issue/{key}/comment", h: e.comments},
		{pattern: "POST " + a + "/issue/{key}/comment", write: true, h: e.addComment},
		{pattern: "POST " + a + "/issue/{key}/attachments", write: true, h: e.addAttachments},
		{pattern: "GET " + a + "/issue/{key}/remotelink", h: e.remoteLinks},
		{pattern: "POST " + a + "/issue/{key}/remotelink", write: true, h: e.addRemoteLink},
		{pattern: "DELETE " + a + "/issue/{key}/remotelink/{id}", write: true, h: e.deleteRemoteLink},
		{pattern: "POST " + a + "/issueLink", h: e.addLink},
		{pattern: "DELETE " + a + "/issueLink/{id}", h: e.deleteLink},
		{pattern: "POST /rest/webhooks/1.0/webhook", h: e.registerWebhook},
		{pattern: "GET /rest/webhooks/1.0/webhook", h: e.listWebhooks},
		{pattern: "DELETE /rest/webhooks/1.0/webhook/{id}", h: e.deleteWebhook},
	}
	if e.Cloud() {
		rs = append(rs,
			route{pattern: "GET " + a + "/search/jql", h: e.searchJQL},
			route{pattern: "GET " + a + "/attachment/content/{id}", h: e.attachmentContent},
			route{pattern: "GET /media/file/{id}", h: e.mediaFile})
	} else {
		rs = append(rs,
			route{pattern: "GET " + a + "/search", h: e.searchServer},
			route{pattern: "GET /secure/attachment/{id}/{name}", h: e.secureAttachment})
	}
	for _, rt := range rs {
		e.mux.HandleFunc(rt.pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/media/file/"+r.PathValue("id") {
				rt.h(w, r, nil) // the media API authenticates by its signed URL
				return
			}
			u := e.authenticate(r)
			if u == nil {
				w.Header().Set("WWW-Authenticate", `Basic realm="protected-area"`)
				writeError(w, http.StatusUnauthorized, "You are not authenticated. Authentication required to perform this operation.")
				return
			}
			if !e.admit(w, rt, r) {
				return
			}
			if u.ReadOnly && r.Method != http.MethodGet {
				writeError(w, http.StatusForbidden, "You do not have the permission to perform this operation.")
				return
			}
			rt.h(w, r, u)
		})
	}
}

func (e *Emu) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.stats.Requests++
	e.mu.Unlock()
	if _, pattern := e.mux.Handler(r); pattern == "" {
		writeError(w, http.StatusNotFound, "null for uri: "+r.URL.Path)
		return
	}
	e.mux.ServeHTTP(w, r)
}

// authenticate finds the user of a request: basic email:token on Cloud,
// a Bearer personal access token on Server.
func (e *Emu) authenticate(r *http.Request) *User {
	for i := range e.o.Users {
		u := &e.o.Users[i]
		if u.Token == "" {
			continue
		}
		if e.Cloud() {
			if email, token, ok := r.BasicAuth(); ok && strings.EqualFold(email, u.Email) && token == u.Token {
				return u
			}
		} else if r.Header.Get("Authorization") == "Bearer "+u.Token {
			return u
		}
	}
	return nil
}

// window is a fixed-window counter for one rate-limit bucket.
type window struct {
	start        time.Time
	n            int
	blockedUntil time.Time
}

// admit applies the burst and per-issue write limits.
func (e *Emu) admit(w http.ResponseWriter, rt route, r *http.Request) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	check := func(bucket string, budget int, reason string) bool {
		if budget <= 0 {
			return true
		}
		win := e.limits[bucket]
		if win == nil {
			win = &window{start: now}
			e.limits[bucket] = win
		}
		if now.Before(win.blockedUntil) {
			e.stats.EarlyRetries++ // the client did not wait as told
		} else {
			if !now.Before(win.start.Add(e.o.Window)) {
				win.start, win.n = now, 0
			}
			win.n++
			if win.n <= budget {
				return true
			}
			// Retry-After is whole seconds, and the block lasts exactly
			// that long: a client that honours it is never early.
			wait := win.start.Add(e.o.Window).Sub(now)
			secs := max(1, int((wait+time.Second-1)/time.Second))
			win.blockedUntil = now.Add(time.Duration(secs) * time.Second)
		}
		e.stats.RateLimited++
		secs := int((win.blockedUntil.Sub(now) + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		w.Header().Set("X-RateLimit-Reset", win.blockedUntil.UTC().Format("2006-01-02T15:04Z"))
		w.Header().Set("RateLimit-Reason", reason)
		writeError(w, http.StatusTooManyRequests, "Rate limit exceeded.")
		return false
	}
	if !check("burst "+rt.pattern, e.o.Burst, "jira-burst-based") {
		return false
	}
	if rt.write {
		return check("issue "+r.PathValue("key"), e.o.IssueWrites, "jira-per-issue-on-write")
	}
	return true
}

// writeError answers in Jira's error shape.
func writeError(w http.ResponseWriter, status int, messages ...string) {
	if messages == nil {
		messages = []string{}
	}
	writeJSON(w, status, map[string]any{"errorMessages": messages, "errors": map[string]string{}})
}

// writeFieldErrors answers 400 with per-field errors.
func writeFieldErrors(w http.ResponseWriter, errs map[string]string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"errorMessages": []string{}, "errors": errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Jira's timestamp format.
const timeFormat = "2006-01-02T15:04:05.000-0700"

func (e *Emu) userByID(id string) *User {
	for i := range e.o.Users {
		u := &e.o.Users[i]
		if id != "" && (id == u.AccountID || id == u.Name) {
			return u
		}
	}
	return nil
}

// userJSON is a user as the deployment shows it: accountId on Cloud (and
// no email when the profile hides it), name and key on Server.
func (e *Emu) userJSON(u *User) map[string]any {
	if u == nil {
		return nil
	}
	out := map[string]any{"displayName": u.DisplayName, "active": true, "timeZone": tz(u)}
	if e.Cloud() {
		out["accountId"] = u.AccountID
		out["accountType"] = "atlassian"
		out["self"] = e.URL() + e.api + "/user?accountId=" + u.AccountID
		if !u.HideEmail {
			out["emailAddress"] = u.Email
		}
	} else {
		out["name"] = u.Name
		out["key"] = "JIRAUSER" + u.Name
		out["emailAddress"] = u.Email
		out["self"] = e.URL() + e.api + "/user?username=" + u.Name
	}
	return out
}

func tz(u *User) string {
	if u.TimeZone == "" {
		return "UTC"
	}
	return u.TimeZone
}
