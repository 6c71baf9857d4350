// Package adoemu is an in-memory Azure DevOps Services emulator for tests.
// It follows Microsoft's published REST reference (api-version 7.1, the
// vsts-rest-api-specs examples): the same paths under
// /{organization}[/{project}]/_apis/..., the same JSON shapes, api-version
// required on every call (400 VssVersionNotSpecifiedException without it,
// a "-preview" suffix required for preview resources such as comments),
// error bodies shaped like the service's ({"$id","innerException",
// "message":"TF...","typeName","typeKey","errorCode","eventId"}), PAT
// basic authentication (401, or 203 with an HTML sign-in page when
// SignInPage is set), JSON Patch work item writes with the /rev test
// (412 TF26071 on a stale revision), WIQL with the ChangedDate filter,
// workitemsbatch (max 200 ids), comments with continuationToken paging,
// attachments and AttachedFile relations (100 per item), work item links
// with their reverse ends, service hook subscriptions that really deliver,
// and TSTU rate limiting (X-RateLimit-* headers, X-RateLimit-Delay, 429
// with Retry-After) under a configurable budget.
package adoemu

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// User is an identity of the organization.
type User struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	UniqueName  string `json:"uniqueName"`
}

// Budget is the TSTU budget of the one PAT: Limit TSTUs in a sliding
// Window. From DelayFrom (a fraction of Limit) on, responses carry
// X-RateLimit-Delay; at Limit, requests are blocked with 429.
type Budget struct {
	Limit     float64
	Window    time.Duration
	DelayFrom float64
	// Delay is what X-RateLimit-Delay reports in the delay zone.
	Delay time.Duration
}

// Options configure a Server.
type Options struct {
	Organization string
	Projects     []string
	PAT          string
	Users        []User
	// SignInPage answers bad credentials with 203 and an HTML page, as the
	// service does for some clients, instead of 401.
	SignInPage bool
	// Budget, when set, rate-limits the PAT.
	Budget *Budget
	// MaxAttachmentBytes bounds one upload (0: 60 MB, the service default).
	MaxAttachmentBytes int64
	// WIQLSeconds compares dateTime values to the second even with
	// timePrecision=true. Microsoft's reference says only "whether or not
	// to use time precision", not how fine that is, so the connector's
	// paging must hold with either reading.
	WIQLSeconds bool
	// StripHTMLComments drops <!-- ... --> from comment text, as a rich
	// text sanitizer may: whether the service keeps them is not documented.
	StripHTMLComments bool
	Now               func() time.Time
}

// Stats count what the server saw.
type Stats struct {
	Requests  int
	Throttled int // 429 answers
	Delayed   int // answers with X-RateLimit-Delay
	// Blocked is when each 429 was sent and what Retry-After it carried.
	Blocked []Block
	// After lists when requests arrived, for checking waits.
	Arrivals []time.Time
}

// Block is one 429.
type Block struct {
	At         time.Time
	RetryAfter time.Duration
}

// Server is the emulator.
type Server struct {
	o    Options
	base string // set by the test after httptest starts, for URLs in bodies

	mu          sync.Mutex
	projects    map[string]*project // by lower-case name
	items       map[int]*item
	nextID      int
	nextComment int
	attachments map[string]*attachment
	subs        map[string]*Subscription
	commentList map[int][]*comment
	usage       []spend
	stats       Stats
	deliveries  sync.WaitGroup
}

type project struct {
	ID   string
	Name string
}

type spend struct {
	at   time.Time
	cost float64
}

// New makes a server. Organization defaults to "contoso", Projects to
// ["Fabrikam"], Users to three people.
func New(o Options) *Server {
	if o.Organization == "" {
		o.Organization = "contoso"
	}
	if len(o.Projects) == 0 {
		o.Projects = []string{"Fabrikam"}
	}
	if len(o.Users) == 0 {
		o.Users = []User{
			{ID: "d291b0c4-a05c-4ea6-8df1-4b41d5f39eff", DisplayName: "Jamal Hartnett", UniqueName: "jamal@contoso.test"},
			{ID: "8c8c7d32-6b1b-47f4-b2e9-30b477b5ab3d", DisplayName: "Norma Paulk", UniqueName: "norma@contoso.test"},
			{ID: "3b5f0c80-2d6b-4b5c-9a4f-2f3a4d5e6f70", DisplayName: "Chuck Reinhart", UniqueName: "chuck@contoso.test"},
		}
	}
	if o.MaxAttachmentBytes <= 0 {
		o.MaxAttachmentBytes = 60 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o, projects: map[string]*project{}, items: map[int]*item{}, nextID: 1, nextComment: 1,
		attachments: map[string]*attachment{}, subs: map[string]*Subscription{}}
	for _, p := range o.Projects {
		s.projects[strings.ToLower(p)] = &project{ID: newGUID(), Name: p}
	}
	return s
}

// SetBase tells the server its own root URL (the httptest server's), which
// appears in the url fields of its answers.
func (s *Server) SetBase(u string) {
	s.mu.Lock()
	s.base = strings.TrimRight(u, "/")
	s.mu.Unlock()
}

// SetBudget changes the rate-limit budget (nil: none) and forgets usage.
func (s *Server) SetBudget(b *Budget) {
	s.mu.Lock()
	s.o.Budget, s.usage = b, nil
	s.mu.Unlock()
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Blocked = append([]Block(nil), s.stats.Blocked...)
	st.Arrivals = append([]time.Time(nil), s.stats.Arrivals...)
	return st
}

// Close waits for webhook deliveries in flight.
func (s *Server) Close() { s.deliveries.Wait() }

func (s *Server) orgURL() string { return s.base + "/" + s.o.Organization }

// Handler serves the API.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serve)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		if s.o.SignInPage {
			// What a browser-like client gets for a bad PAT: a sign-in page,
			// with a success-looking status.
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNonAuthoritativeInfo)
			fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body><form>Sign in</form></body></html>")
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="https://dev.azure.com/"`)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, "<html><head><title>Access denied</title></head><body>401 - Unauthorized: Access is denied due to invalid credentials.</body></html>")
		return
	}
	if !s.meter(w, r) {
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 || !strings.EqualFold(parts[0], s.o.Organization) {
		s.fail(w, http.StatusNotFound, "TF400813: The resource cannot be found.", "ResourceNotFoundException", 0)
		return
	}
	parts = parts[1:]
	var proj *project
	if !strings.EqualFold(parts[0], "_apis") {
		s.mu.Lock()
		proj = s.projects[strings.ToLower(parts[0])]
		s.mu.Unlock()
		if proj == nil {
			s.fail(w, http.StatusNotFound, fmt.Sprintf("TF200016: The following project does not exist: %s. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.", parts[0]), "ProjectDoesNotExistWithNameException", 0)
			return
		}
		parts = parts[1:]
	}
	if len(parts) == 0 || !strings.EqualFold(parts[0], "_apis") {
		s.fail(w, http.StatusNotFound, "TF400813: The resource cannot be found.", "ResourceNotFoundException", 0)
		return
	}
	s.route(w, r, proj, parts[1:])
}

// authorized accepts basic credentials whose password is the PAT; the
// service ignores the user name.
func (s *Server) authorized(r *http.Request) bool {
	_, pw, ok := r.BasicAuth()
	return ok && s.o.PAT != "" && subtle.ConstantTimeCompare([]byte(pw), []byte(s.o.PAT)) == 1
}

// meter charges the request to the budget and sets the TSTU headers; it
// answers 429 itself when the budget is spent.
func (s *Server) meter(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	s.stats.Requests++
	s.stats.Arrivals = append(s.stats.Arrivals, now)
	b := s.o.Budget
	if b == nil {
		return true
	}
	keep := s.usage[:0]
	used := 0.0
	for _, sp := range s.usage {
		if now.Sub(sp.at) < b.Window {
			keep = append(keep, sp)
			used += sp.cost
		}
	}
	s.usage = keep
	h := w.Header()
	reset := now.Add(b.Window)
	if len(s.usage) > 0 {
		reset = s.usage[len(s.usage)-1].at.Add(b.Window)
	}
	h.Set("X-RateLimit-Resource", "WorkItemTracking.ATCPU")
	h.Set("X-RateLimit-Limit", strconv.FormatFloat(b.Limit, 'f', -1, 64))
	if used >= b.Limit {
		wait := s.usage[0].at.Add(b.Window).Sub(now)
		secs := int((wait + time.Second - 1) / time.Second)
		secs = max(secs, 1)
		h.Set("Retry-After", strconv.Itoa(secs))
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		s.stats.Throttled++
		s.stats.Blocked = append(s.stats.Blocked, Block{At: now, RetryAfter: time.Duration(secs) * time.Second})
		s.failLocked(w, http.StatusTooManyRequests, "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource 'ATCPU' in namespace 'WorkItemTracking'.", "RequestBlockedException", 0)
		return false
	}
	cost := 1.0
	if strings.Contains(strings.ToLower(r.URL.Path), "/wiql") {
		cost = 2 // queries are the expensive calls
	}
	s.usage = append(s.usage, spend{at: now, cost: cost})
	used += cost
	h.Set("X-RateLimit-Remaining", strconv.FormatFloat(max(0, b.Limit-used), 'f', -1, 64))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	if b.DelayFrom > 0 && used >= b.DelayFrom*b.Limit {
		h.Set("X-RateLimit-Delay", strconv.FormatFloat(b.Delay.Seconds(), 'f', 3, 64))
		s.stats.Delayed++
	}
	return true
}

// errorBody is the service's exception shape.
type errorBody struct {
	ID             string  `json:"$id"`
	InnerException *string `json:"innerException"`
	Message        string  `json:"message"`
	TypeName       string  `json:"typeName"`
	TypeKey        string  `json:"typeKey"`
	ErrorCode      int     `json:"errorCode"`
	EventID        int     `json:"eventId"`
}

func (s *Server) fail(w http.ResponseWriter, status int, msg, typeKey string, eventID int) {
	s.failLocked(w, status, msg, typeKey, eventID)
}

func (s *Server) failLocked(w http.ResponseWriter, status int, msg, typeKey string, eventID int) {
	if eventID == 0 {
		eventID = 3000
	}
	ns := "Microsoft.TeamFoundation.WorkItemTracking.Server"
	if strings.HasPrefix(typeKey, "Vss") {
		ns = "Microsoft.VisualStudio.Services.WebApi"
	}
	writeJSON(w, status, errorBody{ID: "1", Message: msg, TypeName: ns + "." + typeKey + ", " + ns, TypeKey: typeKey, EventID: eventID})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8; api-version=7.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiVersion enforces the api-version rules: required; a preview resource
// needs "-preview"; versions above 7.1 do not exist yet.
func (s *Server) apiVersion(w http.ResponseWriter, r *http.Request, preview bool) bool {
	v := r.URL.Query().Get("api-version")
	if v == "" {
		s.fail(w, http.StatusBadRequest, fmt.Sprintf("No api-version was supplied for the %q request. The version must be supplied either as part of the Accept header (e.g. \"application/json; api-version=1.0\") or as a query parameter (e.g. '?api-version=1.0').", r.Method), "VssVersionNotSpecifiedException", 0)
		return false
	}
	num, suffix, _ := strings.Cut(v, "-")
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		s.fail(w, http.StatusBadRequest, fmt.Sprintf("The requested REST API version of %s is not a valid version string.", v), "VssInvalidApiResourceVersionException", 0)
		return false
	}
	if f > 7.1 {
		s.fail(w, http.StatusBadRequest, fmt.Sprintf("The requested REST API version of %s is out of range for this server. The latest REST API version this server supports is 7.1.", v), "VssVersionOutOfRangeException", 0)
		return false
	}
	if preview && !strings.HasPrefix(suffix, "preview") {
		s.fail(w, http.StatusBadRequest, fmt.Sprintf("The requested version %q of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: \"%s-preview\"", v, num), "VssInvalidPreviewVersionException", 0)
		return false
	}
	return true
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func identityRef(u User, base string) map[string]any {
	return map[string]any{"displayName": u.DisplayName, "id": u.ID, "uniqueName": u.UniqueName,
		"url": base + "/_apis/Identities/" + u.ID, "imageUrl": base + "/_api/_common/identityImage?id=" + u.ID,
		"descriptor": "aad." + base64.RawStdEncoding.EncodeToString([]byte(u.ID))}
}

// me is the PAT's owner: the first user.
func (s *Server) me() User { return s.o.Users[0] }
