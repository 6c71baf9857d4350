package gitlabemu

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
)

// The emulator's own tests: GitLab's answers as its API documentation
// shows them, asked over plain HTTP.

func start(t *testing.T, o Options) *Emu {
	t.Helper()
	o.Users = append(o.Users, User{ID: 1, Username: "ada", Name: "Ada", Token: "tok-ada"},
		User{ID: 2, Username: "rita", Name: "Rita", Token: "tok-rita", Scopes: []string{"read_api"}})
	o.Projects = append(o.Projects, Project{ID: 7, Path: "g/sub/p", Name: "P", Members: map[string]int{"ada": Owner, "rita": Reporter}})
	e := Start(o)
	t.Cleanup(e.Close)
	return e
}

func call(t *testing.T, e *Emu, method, path, token, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("PRIVATE-TOKEN", token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestAuthAnswers(t *testing.T) {
	e := start(t, Options{})
	for _, tc := range []struct {
		method, path, token string
		status              int
		body                string
	}{
		{"GET", "/api/v4/user", "", 401, `{"message":"401 Unauthorized"}`},
		{"GET", "/api/v4/user", "nope", 401, `{"message":"401 Unauthorized"}`},
		{"POST", "/api/v4/projects/7/issues", "tok-rita", 403, `"error":"insufficient_scope"`},
		{"GET", "/api/v4/projects/8", "tok-ada", 404, `{"message":"404 Project Not Found"}`},
		{"GET", "/api/v4/projects/g%2Fsub%2Fp", "tok-ada", 200, `"path_with_namespace":"g/sub/p"`},
		{"GET", "/api/v4/projects/7/issues/9", "tok-ada", 404, `{"message":"404 Issue Not Found"}`},
		{"GET", "/api/v4/nothing", "tok-ada", 404, `{"error":"404 Not Found"}`},
		{"POST", "/api/v4/projects/7/issues", "tok-ada", 400, `{"error":"title is missing"}`},
		{"GET", "/api/v4/projects/7/issues?order_by=colour", "tok-ada", 400, `{"error":"order_by does not have a valid value"}`},
	} {
		body := ""
		if tc.method == "POST" {
			body = "{}"
		}
		resp, got := call(t, e, tc.method, tc.path, tc.token, body)
		if resp.StatusCode != tc.status || !strings.Contains(got, tc.body) {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, resp.StatusCode, got, tc.status, tc.body)
		}
	}
}

// TestPagingAndTime: offset pages with X-* headers and a Link header,
// times kept to the microsecond, shown to the millisecond, compared with
// updated_after as stored, ordered by updated_at then id.
func TestPagingAndTime(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 3, 1, 8, 0, 0, 123_456_000, time.UTC))
	e := start(t, Options{Now: clk.Now, CountLimit: 4})
	for i := range 5 {
		clk.Add(300 * time.Microsecond)
		if _, err := e.CreateIssue(7, "ada", map[string]any{"title": "i" + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := call(t, e, "GET", "/api/v4/projects/7/issues?order_by=updated_at&sort=asc&per_page=2&page=1&updated_after=2026-03-01T08:00:00.124Z", "tok-ada", "")
	var list []struct {
		IID       int    `json:"iid"`
		UpdatedAt string `json:"updated_at"`
	}
	_ = json.Unmarshal([]byte(body), &list)
	// Issues 1 and 2 were at .123756 and .124056: only the second is on or
	// after .124000, shown as .124.
	if len(list) != 2 || list[0].IID != 2 || list[0].UpdatedAt != "2026-03-01T08:00:00.124Z" || list[1].IID != 3 {
		t.Fatalf("page %s", body)
	}
	h := resp.Header
	if h.Get("X-Next-Page") != "2" || h.Get("X-Page") != "1" || h.Get("X-Total") != "4" || !strings.Contains(h.Get("Link"), `rel="next"`) {
		t.Fatalf("headers %v", h)
	}
	resp, _ = call(t, e, "GET", "/api/v4/projects/7/issues?per_page=2&page=3", "tok-ada", "")
	if resp.Header.Get("X-Next-Page") != "" || resp.Header.Get("X-Total") != "" || strings.Contains(resp.Header.Get("Link"), `rel="last"`) {
		t.Fatalf("past the count limit the totals must go: %v", resp.Header)
	}
}

func TestThrottle(t *testing.T) {
	e := start(t, Options{APILimit: 2, APIPeriod: time.Hour})
	for i := range 3 {
		resp, body := call(t, e, "GET", "/api/v4/user", "tok-ada", "")
		h := resp.Header
		if h.Get("RateLimit-Name") != "throttle_authenticated_api" || h.Get("RateLimit-Observed") != strconv.Itoa(i+1) {
			t.Fatalf("request %d: headers %v", i, h)
		}
		if i < 2 {
			continue
		}
		if resp.StatusCode != 429 || body != "Retry later\n" || h.Get("Retry-After") == "" || h.Get("RateLimit-Remaining") != "0" ||
			h.Get("RateLimit-ResetTime") == "" {
			t.Fatalf("throttled: %d %q %v", resp.StatusCode, body, h)
		}
	}
	if st := e.Stats(); st.RateLimited != 1 || st.EarlyRetries != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSearch(t *testing.T) {
	e := start(t, Options{})
	for _, d := range []string{"see <!-- lockstep:o1:K lockstep0123456789abcdef -->", "lockstep01234 elsewhere", "nothing"} {
		if _, err := e.CreateIssue(7, "ada", map[string]any{"title": "t", "description": d}); err != nil {
			t.Fatal(err)
		}
	}
	_, body := call(t, e, "GET", "/api/v4/projects/7/issues?search=lockstep0123456789abcdef&in=description", "tok-ada", "")
	if strings.Count(body, `"iid"`) != 1 || !strings.Contains(body, `"iid":1`) {
		t.Fatalf("search for the full token: %s", body)
	}
	// Words match by prefix: a shorter query finds both.
	_, body = call(t, e, "GET", "/api/v4/projects/7/issues?search=lockstep01234&in=description", "tok-ada", "")
	if strings.Count(body, `"iid"`) != 2 {
		t.Fatalf("prefix search: %s", body)
	}
}
