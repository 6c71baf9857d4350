// Package snemu is an in-memory ServiceNow instance for tests, written
// from ServiceNow's published REST API reference: the Table API
// (/api/now/table/{table}: encoded queries with ORDERBY, sysparm_fields
// with dot-walking, sysparm_display_value false|true|all, offset paging
// with the Link header and X-Total-Count), the Attachment API
// (/api/now/attachment, /attachment/file, /attachment/{sys_id}/file),
// OAuth tokens from /oauth_token.do (client credentials and password
// grants), basic authentication, inbound REST rate limiting (429 with
// Retry-After, X-RateLimit-Limit/-Reset/-Rule), and error bodies of the
// form {"error":{"message","detail"},"status":"failure"}.
//
// It is faithful where sync correctness depends on it: timestamps have
// one-second precision, are stored and queried in UTC and displayed in
// the user's time zone and date format; a query part naming an unknown
// field is ignored, as the instance does by default; string equality is
// case-insensitive; unknown and read-only fields in a write are dropped
// without a word; choice values are not checked; journal fields
// (comments, work_notes) append entries to sys_journal_field; the
// incident priority follows impact and urgency; resolving an incident
// needs a resolution code and notes (a data policy); only admins delete.
// A business rule posting record changes to a URL (the set-up the
// connector documents for webhooks) can be configured.
package snemu

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// User is a sys_user who can sign in with basic credentials.
type User struct {
	SysID    string // generated when empty
	UserName string
	Name     string
	Email    string
	Password string
	// TimeZone is an IANA name (default America/Los_Angeles, the usual
	// system time zone): display values of dates are in it.
	TimeZone string
	// DateFormat is the user's date format in Java's notation
	// (default yyyy-MM-dd); display values use it.
	DateFormat string
	Admin      bool // may delete records
	ReadOnly   bool // may read but not write
	// NoDictionary hides sys_db_object, sys_dictionary and sys_choice
	// from the user, as their read ACLs do for most roles.
	NoDictionary bool
	// Hidden is an encoded query of task records the user's ACLs hide.
	// As on the instance, they are removed from a page after the query
	// ran: a page holds fewer records than asked, even none, while
	// X-Total-Count and the Link header still count them.
	Hidden string
	// NoAttachments refuses the user the Attachment API (403).
	NoAttachments bool
	Inactive      bool
}

// Client is an OAuth application registry entry. Tokens issued to it act
// as User (its OAuth Application User, for client credentials).
type Client struct {
	ID, Secret string
	User       string // user_name
}

// Hook is an after business rule sending an outbound REST message for
// every insert, update and delete on Table (or a table extending it): a
// POST of {"table","sys_id","number","operation","sys_updated_on"} with
// the shared secret in Header.
type Hook struct {
	Table  string
	URL    string
	Header string // default X-Lockstep-Secret
	Secret string
}

// Options configure an emulator. Zero values give a usable instance.
type Options struct {
	Users   []User
	Groups  []string
	Clients []Client
	// ClientCredentials enables the client credentials grant (the
	// glide.oauth.inbound.client.credential.grant_type.enabled property,
	// off on a new instance).
	ClientCredentials bool
	// TokenTTL is an access token's life (default 30 minutes).
	TokenTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// RateLimit is a rate limit rule for all users: requests per window
	// (0: no rule). Window defaults to an hour.
	RateLimit int
	Window    time.Duration
	// InvalidQueryReturnsNoRows is glide.invalid_query.returns_no_rows.
	InvalidQueryReturnsNoRows bool
	// MaxAttachment is com.glide.attachment.max_size in bytes (default
	// 1024 MB).
	MaxAttachment int64
	// NoDataPolicy turns off the resolution data policy on incidents.
	NoDataPolicy bool
	Hooks        []Hook
	// HookClient sends business rule deliveries (default: one trusting
	// the system's roots, with a 30 s timeout).
	HookClient *http.Client
}

// Emu is a running emulator.
type Emu struct {
	o   Options
	srv *httptest.Server
	mux *http.ServeMux

	mu      sync.Mutex
	records map[string]*record // by sys_id
	numbers map[string]int     // table -> last number
	seq     int
	files   map[string][]byte // attachment sys_id -> content
	tokens  map[string]token
	window  map[string]*window // user sys_id -> rate-limit window
	stats   Stats
	hooks   sync.WaitGroup
}

type token struct {
	user    string // sys_id
	expires time.Time
}

// Stats counts what the emulator saw, for tests.
type Stats struct {
	Requests     int
	RateLimited  int // 429s answered
	EarlyRetries int // requests that came back before Retry-After elapsed
	Tokens       int // access tokens issued
	Deliveries   int // business rule deliveries sent
	FailedHooks  int // deliveries the receiver refused or missed
}

// record is one row of any table.
type record struct {
	class string // sys_class_name
	seq   int    // insertion order: the database's order of ties
	vals  map[string]string
}

// Start runs an emulator; Close stops it.
func Start(o Options) *Emu {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 30 * time.Minute
	}
	if o.Window <= 0 {
		o.Window = time.Hour
	}
	if o.HookClient == nil {
		o.HookClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.MaxAttachment <= 0 {
		o.MaxAttachment = 1024 << 20
	}
	e := &Emu{o: o, mux: http.NewServeMux(), records: map[string]*record{}, numbers: map[string]int{},
		files: map[string][]byte{}, tokens: map[string]token{}, window: map[string]*window{}}
	e.seed()
	e.routes()
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	return e
}

// URL is the instance's base URL.
func (e *Emu) URL() string { return e.srv.URL }

// Close stops the server after pending business rule deliveries.
func (e *Emu) Close() {
	e.srv.Close()
	e.hooks.Wait()
}

// Stats returns the counters.
func (e *Emu) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

func (e *Emu) now() time.Time { return e.o.Now().UTC().Truncate(time.Second) }

// stamp is the instance's internal date-time format (UTC).
const stamp = "2006-01-02 15:04:05"

func newSysID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// seed fills the system tables and the users and groups of the options.
func (e *Emu) seed() {
	ids := map[string]string{}
	for _, t := range tables {
		ids[t.name] = newSysID()
	}
	for _, t := range tables {
		super := ""
		if t.super != "" {
			super = ids[t.super]
		}
		e.insertRaw("sys_db_object", ids[t.name], map[string]string{"name": t.name, "label": t.label, "super_class": super})
		fields := t.fields
		if t.super == "" {
			fields = append(append([]fieldDef{}, t.fields...), sysFields...)
		}
		e.insertRaw("sys_dictionary", "", map[string]string{"name": t.name, "element": "", "internal_type": "collection", "column_label": t.label, "active": "true"})
		for _, f := range fields {
			e.insertRaw("sys_dictionary", "", map[string]string{"name": t.name, "element": f.element, "column_label": f.label,
				"internal_type": f.typ, "max_length": fmt.Sprint(f.maxLen), "reference": f.ref, "mandatory": fmt.Sprint(f.mandatory),
				"read_only": fmt.Sprint(f.readOnly), "active": "true", "display": fmt.Sprint(f.display), "choice": fmt.Sprint(f.choice)})
		}
	}
	for i, c := range baseChoices {
		e.insertRaw("sys_choice", "", map[string]string{"name": c.table, "element": c.element, "value": c.value, "label": c.label,
			"sequence": fmt.Sprint(i * 10), "inactive": "false", "language": "en"})
	}
	for i := range e.o.Users {
		u := &e.o.Users[i]
		if u.SysID == "" {
			u.SysID = newSysID()
		}
		if u.TimeZone == "" {
			u.TimeZone = "America/Los_Angeles"
		}
		if u.DateFormat == "" {
			u.DateFormat = "yyyy-MM-dd"
		}
		first, last, _ := strings.Cut(u.Name, " ")
		e.insertRaw("sys_user", u.SysID, map[string]string{"user_name": u.UserName, "name": u.Name, "first_name": first, "last_name": last,
			"email": u.Email, "active": fmt.Sprint(!u.Inactive), "time_zone": u.TimeZone, "date_format": u.DateFormat})
	}
	for _, g := range e.o.Groups {
		e.insertRaw("sys_user_group", "", map[string]string{"name": g, "active": "true"})
	}
}

// insertRaw stores a record as the instance's own set-up would, without
// rules. The caller holds e.mu or owns e.
func (e *Emu) insertRaw(class, id string, vals map[string]string) *record {
	if id == "" {
		id = newSysID()
	}
	now := e.now().Format(stamp)
	e.seq++
	r := &record{class: class, seq: e.seq, vals: map[string]string{"sys_id": id, "sys_class_name": class, "sys_created_on": now,
		"sys_updated_on": now, "sys_created_by": "system", "sys_updated_by": "system", "sys_mod_count": "0"}}
	for k, v := range vals {
		r.vals[k] = v
	}
	e.records[id] = r
	return r
}

func (e *Emu) routes() {
	e.mux.HandleFunc("POST /oauth_token.do", e.oauthToken)
	api := func(pattern string, h func(w http.ResponseWriter, r *http.Request, u *User)) {
		e.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			u := e.authenticate(r)
			if u == nil {
				w.Header().Set("WWW-Authenticate", `BASIC realm="Service-now"`)
				writeError(w, http.StatusUnauthorized, "User Not Authenticated", "Required to provide Auth information")
				return
			}
			if !e.admit(w, u) {
				return
			}
			h(w, r, u)
		})
	}
	for _, prefix := range []string{"/api/now", "/api/now/v1", "/api/now/v2"} {
		api("GET "+prefix+"/table/{table}", e.list)
		api("POST "+prefix+"/table/{table}", e.insert)
		api("GET "+prefix+"/table/{table}/{id}", e.get)
		api("PATCH "+prefix+"/table/{table}/{id}", e.update)
		api("PUT "+prefix+"/table/{table}/{id}", e.update)
		api("DELETE "+prefix+"/table/{table}/{id}", e.delete)
	}
	files := func(h func(w http.ResponseWriter, r *http.Request, u *User)) func(w http.ResponseWriter, r *http.Request, u *User) {
		return func(w http.ResponseWriter, r *http.Request, u *User) {
			if u.NoAttachments {
				writeError(w, http.StatusForbidden, "Operation Failed", "ACL Exception Read Failed due to security constraints")
				return
			}
			h(w, r, u)
		}
	}
	api("GET /api/now/attachment", files(e.attachments))
	api("POST /api/now/attachment/file", files(e.upload))
	api("GET /api/now/attachment/{id}", files(e.attachment))
	api("GET /api/now/attachment/{id}/file", files(e.download))
	api("DELETE /api/now/attachment/{id}", files(e.deleteAttachment))
}

func (e *Emu) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.stats.Requests++
	e.mu.Unlock()
	if _, pattern := e.mux.Handler(r); pattern == "" {
		writeError(w, http.StatusBadRequest, "Requested URI does not represent any resource", "")
		return
	}
	e.mux.ServeHTTP(w, r)
}

// authenticate finds the user of a request: basic credentials or an
// OAuth bearer token that has not expired.
func (e *Emu) authenticate(r *http.Request) *User {
	if name, pw, ok := r.BasicAuth(); ok {
		for i := range e.o.Users {
			u := &e.o.Users[i]
			if u.UserName == name && u.Password != "" && u.Password == pw && !u.Inactive {
				return u
			}
		}
		return nil
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil
	}
	e.mu.Lock()
	t, found := e.tokens[tok]
	e.mu.Unlock()
	if !found || !e.o.Now().Before(t.expires) {
		return nil
	}
	return e.userBySysID(t.user)
}

func (e *Emu) userBySysID(id string) *User {
	for i := range e.o.Users {
		if e.o.Users[i].SysID == id {
			return &e.o.Users[i]
		}
	}
	return nil
}

func (e *Emu) userByName(name string) *User {
	for i := range e.o.Users {
		if e.o.Users[i].UserName == name {
			return &e.o.Users[i]
		}
	}
	return nil
}

// window is one user's count in the current rate-limit window.
type window struct {
	start   time.Time
	n       int
	refused bool // a 429 was answered in this window
}

// rateRule is the sys_id of the emulator's rate limit rule.
const rateRule = "8d3b2b1e1b3a10104c5b2f4bd34bcb2e"

// admit applies the rate limit rule, with the headers the instance sends
// on every request a rule matches. The count restarts when the window
// (an hour by default) ends; Retry-After says when that is, so a client
// that honours it is never refused twice.
func (e *Emu) admit(w http.ResponseWriter, u *User) bool {
	if e.o.RateLimit <= 0 {
		return true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.o.Now()
	win := e.window[u.SysID]
	if win == nil || !now.Before(win.start.Add(e.o.Window)) {
		win = &window{start: now}
		e.window[u.SysID] = win
	}
	reset := win.start.Add(e.o.Window)
	w.Header().Set("X-RateLimit-Limit", fmt.Sprint(e.o.RateLimit))
	w.Header().Set("X-RateLimit-Reset", fmt.Sprint(reset.Unix()))
	w.Header().Set("X-RateLimit-Rule", rateRule)
	win.n++
	if win.n <= e.o.RateLimit {
		return true
	}
	if win.refused {
		e.stats.EarlyRetries++ // told to wait, and came back before the window ended
	}
	win.refused = true
	e.stats.RateLimited++
	secs := int((reset.Sub(now) + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", fmt.Sprint(max(secs, 1)))
	writeError(w, http.StatusTooManyRequests, "Rate limit exceeded",
		fmt.Sprintf("Rate limit of %d requests per %s exceeded for the rule %s", e.o.RateLimit, e.o.Window, rateRule))
	return false
}

// writeError answers in the REST API's error shape.
func writeError(w http.ResponseWriter, status int, message, detail string) {
	var d any
	if detail != "" {
		d = detail
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": message, "detail": d}, "status": "failure"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
