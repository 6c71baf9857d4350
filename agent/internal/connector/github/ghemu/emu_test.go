package ghemu

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The emulator's own behaviour, checked where GitHub documents it: a
// connector test could agree with a wrong emulator, these cannot.

const token = "ghp_emu0123456789"

func startEmu(t *testing.T, o Options) *Emu {
	t.Helper()
	o.Users = []User{{Login: "octo", Token: token, Permission: Admin}}
	o.Repos = []Repo{{Owner: "acme", Name: "widgets"}}
	e := Start(o)
	t.Cleanup(e.Close)
	return e
}

func call(t *testing.T, e *Emu, method, path, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// TestPagingLink: 30 a page by default, per_page up to 100, and a Link
// header naming the next and last pages at /repositories/{id}/issues
// ("Using pagination in the REST API").
func TestPagingLink(t *testing.T) {
	e := startEmu(t, Options{})
	for range 35 {
		e.Seed("acme/widgets", "octo", Issue{Title: "x"})
	}
	resp, body := call(t, e, "GET", "/repos/acme/widgets/issues", "")
	var list []map[string]any
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != 30 {
		t.Fatalf("default page: %d issues, %v", len(list), err)
	}
	link := resp.Header.Get("Link")
	if !strings.Contains(link, `/repositories/`) || !strings.Contains(link, `page=2>; rel="next"`) || !strings.Contains(link, `rel="last"`) ||
		strings.Contains(link, `rel="prev"`) {
		t.Fatalf("Link %q", link)
	}
	next := link[strings.Index(link, "<")+1 : strings.Index(link, ">")]
	u, _ := url.Parse(next)
	resp, body = call(t, e, "GET", u.Path+"?"+u.RawQuery, "")
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != 5 || strings.Contains(resp.Header.Get("Link"), `rel="next"`) {
		t.Fatalf("last page: %d issues, Link %q", len(list), resp.Header.Get("Link"))
	}
	if _, body = call(t, e, "GET", "/repos/acme/widgets/issues?per_page=500", ""); json.Unmarshal([]byte(body), &list) != nil || len(list) != 35 {
		t.Fatalf("per_page above 100: %d", len(list))
	}
}

// TestNotModifiedIsFree: a matching If-None-Match is answered 304 with no
// body, and the rate limit does not move ("Best practices for using the
// REST API").
func TestNotModifiedIsFree(t *testing.T) {
	e := startEmu(t, Options{})
	e.Seed("acme/widgets", "octo", Issue{Title: "x"})
	first, _ := call(t, e, "GET", "/repos/acme/widgets/issues/1", "")
	etag, used := first.Header.Get("ETag"), first.Header.Get("X-RateLimit-Used")
	second, body := call(t, e, "GET", "/repos/acme/widgets/issues/1", "", "If-None-Match", etag)
	if second.StatusCode != http.StatusNotModified || body != "" || second.Header.Get("X-RateLimit-Used") != used {
		t.Fatalf("304: %s %q, used %s then %s", second.Status, body, used, second.Header.Get("X-RateLimit-Used"))
	}
	byDate, _ := call(t, e, "GET", "/repos/acme/widgets/issues/1", "", "If-Modified-Since", first.Header.Get("Last-Modified"))
	if byDate.StatusCode != http.StatusNotModified {
		t.Fatalf("If-Modified-Since: %s", byDate.Status)
	}
	e.Edit("acme/widgets", 1, "y", "", "")
	third, _ := call(t, e, "GET", "/repos/acme/widgets/issues/1", "", "If-None-Match", etag)
	if third.StatusCode != http.StatusOK || third.Header.Get("ETag") == etag {
		t.Fatalf("after an edit: %s", third.Status)
	}
	if st := e.Stats(); st.NotModified != 2 || st.CoreUsed != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestRefusals: GitHub's answers to what it refuses.
func TestRefusals(t *testing.T) {
	e := startEmu(t, Options{})
	e.Seed("acme/widgets", "octo", Issue{Title: "x"})
	for _, tc := range []struct {
		method, path, body string
		status             int
		text               string
	}{
		{"POST", "/repos/acme/widgets/issues", `{"body":"no title"}`, 422, `"code":"missing_field","field":"title"`},
		{"POST", "/repos/acme/widgets/issues", `{"title":"x","milestone":9}`, 422, `"field":"milestone"`},
		{"POST", "/repos/acme/widgets/issues", `{"title":`, 400, "Problems parsing JSON"},
		{"PATCH", "/repos/acme/widgets/issues/1", `{"state":"closed","state_reason":"duplicate"}`, 422, "duplicate_issue_id"},
		{"GET", "/repos/acme/widgets/issues/9", "", 404, `"message":"Not Found"`},
		{"GET", "/repos/acme/nothing/issues", "", 404, "Not Found"},
		{"GET", "/search/issues?q=x+repo:acme/nothing", "", 422, "Validation Failed"},
	} {
		resp, body := call(t, e, tc.method, tc.path, tc.body)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.text) {
			t.Errorf("%s %s: %s %s, want %d with %s", tc.method, tc.path, resp.Status, body, tc.status, tc.text)
		}
	}
	req, _ := http.NewRequest("GET", e.URL()+"/user", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestSinceAndDeletion: since is on updated_at; a deleted issue is 410
// and out of every list.
func TestSinceAndDeletion(t *testing.T) {
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	e := startEmu(t, Options{Now: func() time.Time { return now }})
	e.Seed("acme/widgets", "octo", Issue{Title: "old"})
	now = now.Add(time.Minute)
	e.Seed("acme/widgets", "octo", Issue{Title: "new"})
	_, body := call(t, e, "GET", "/repos/acme/widgets/issues?state=all&since=2026-05-04T10:01:00Z", "")
	if strings.Contains(body, `"old"`) || !strings.Contains(body, `"new"`) {
		t.Fatalf("since: %s", body)
	}
	_, body = call(t, e, "GET", "/repos/acme/widgets/issues/2", "")
	var is struct {
		NodeID string `json:"node_id"`
	}
	_ = json.Unmarshal([]byte(body), &is)
	call(t, e, "POST", "/graphql", `{"query":"mutation($id: ID!) { deleteIssue(input: {issueId: $id}) { clientMutationId } }","variables":{"id":"`+is.NodeID+`"}}`)
	if resp, body := call(t, e, "GET", "/repos/acme/widgets/issues/2", ""); resp.StatusCode != http.StatusGone || !strings.Contains(body, "deleted") {
		t.Fatalf("deleted issue: %s %s", resp.Status, body)
	}
	if _, body := call(t, e, "GET", "/repos/acme/widgets/issues?state=all", ""); strings.Contains(body, `"new"`) {
		t.Fatalf("a deleted issue is listed: %s", body)
	}
}

// TestSearchLag: the index lags writes.
func TestSearchLag(t *testing.T) {
	e := startEmu(t, Options{SearchLag: time.Hour})
	e.Seed("acme/widgets", "octo", Issue{Title: "x", Body: "needle"})
	resp, body := call(t, e, "GET", "/search/issues?q=needle+repo:acme/widgets", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"total_count":0`) || resp.Header.Get("X-RateLimit-Resource") != "search" ||
		resp.Header.Get("X-RateLimit-Limit") != "30" {
		t.Fatalf("search right after the write: %s %s %v", resp.Status, body, resp.Header)
	}
}
