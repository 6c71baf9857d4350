package jiraemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// These tests pin the emulator's wire behaviour to Atlassian's documented
// shapes; the connector's own tests exercise the rest through it.

type fixture struct {
	t *testing.T
	e *Emu
}

func newFixture(t *testing.T, o Options) *fixture {
	o.Users = []User{{AccountID: "acc-1", Name: "ada", DisplayName: "Ada", Email: "ada@example.com", Token: "tok-1", TimeZone: "Europe/Berlin"}}
	o.Projects = []Project{{Key: "HELP", Name: "Help"}}
	e := Start(o)
	t.Cleanup(e.Close)
	return &fixture{t: t, e: e}
}

func (f *fixture) do(method, path string, body any, hdr ...string) (int, http.Header, map[string]any) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.e.URL()+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if f.e.Cloud() {
		req.SetBasicAuth("ada@example.com", "tok-1")
	} else {
		req.Header.Set("Authorization", "Bearer tok-1")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if json.Unmarshal(raw, &out) != nil {
		var list []any
		if json.Unmarshal(raw, &list) == nil {
			out = map[string]any{"list": list}
		}
	}
	return resp.StatusCode, resp.Header, out
}

func (f *fixture) create(summary string) string {
	f.t.Helper()
	desc := any("text")
	if f.e.Cloud() {
		desc = map[string]any{"type": "doc", "version": 1, "content": []any{}}
	}
	st, _, out := f.do("POST", f.e.api+"/issue", map[string]any{"fields": map[string]any{
		"project": map[string]string{"key": "HELP"}, "issuetype": map[string]string{"name": "Task"}, "summary": summary, "description": desc}})
	if st != http.StatusCreated {
		f.t.Fatalf("create: %d %v", st, out)
	}
	return out["key"].(string)
}

func TestErrorShapes(t *testing.T) {
	f := newFixture(t, Options{})
	st, h, out := f.do("GET", "/rest/api/3/myself", nil, "Authorization", "")
	if st != http.StatusUnauthorized || h.Get("WWW-Authenticate") == "" || out["errorMessages"] == nil || out["errors"] == nil {
		t.Fatalf("401: %d %v", st, out)
	}
	st, _, out = f.do("GET", "/rest/api/3/issue/HELP-9", nil)
	if st != http.StatusNotFound || len(out["errorMessages"].([]any)) != 1 {
		t.Fatalf("404: %d %v", st, out)
	}
	st, _, out = f.do("POST", "/rest/api/3/issue", map[string]any{"fields": map[string]any{
		"project": map[string]string{"key": "HELP"}, "issuetype": map[string]string{"name": "Task"}, "description": "not ADF"}})
	errs, _ := out["errors"].(map[string]any)
	if st != http.StatusBadRequest || errs["summary"] == nil || errs["description"] == nil {
		t.Fatalf("400: %d %v", st, out)
	}
	st, _, out = f.do("GET", "/rest/api/3/search/jql?"+url.Values{"jql": {"project = HELP AND colour = red"}}.Encode(), nil)
	if st != http.StatusBadRequest || !strings.Contains(out["errorMessages"].([]any)[0].(string), "colour") {
		t.Fatalf("bad JQL: %d %v", st, out)
	}
	st, _, _ = f.do("GET", "/rest/api/3/search/jql?"+url.Values{"jql": {"updated >= 2026-01-01"}}.Encode(), nil)
	if st != http.StatusBadRequest {
		t.Fatalf("unbounded JQL: %d", st)
	}
	key := f.create("a")
	st, _, out = f.do("POST", "/rest/api/3/issue/"+key+"/attachments", nil, "Content-Type", "multipart/form-data; boundary=x")
	if st != http.StatusForbidden || !strings.Contains(out["errorMessages"].([]any)[0].(string), "XSRF") {
		t.Fatalf("attachment without X-Atlassian-Token: %d %v", st, out)
	}
	if st, _, _ := f.do("GET", "/rest/api/2/myself", nil); st != http.StatusNotFound {
		t.Fatalf("v2 on Cloud: %d", st)
	}
}

func TestSearchPagingAndZone(t *testing.T) {
	clk := time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC) // 09:00 in Berlin
	f := newFixture(t, Options{MaxResults: 2, Now: func() time.Time { return clk }})
	for _, s := range []string{"a", "b", "c"} {
		f.create(s)
		clk = clk.Add(time.Minute)
	}
	search := func(jql, token string, fields bool) map[string]any {
		q := url.Values{"jql": {jql}}
		if token != "" {
			q.Set("nextPageToken", token)
		}
		if fields {
			q.Set("fields", "summary")
		}
		st, _, out := f.do("GET", "/rest/api/3/search/jql?"+q.Encode(), nil)
		if st != http.StatusOK {
			t.Fatalf("search %q: %d %v", jql, st, out)
		}
		return out
	}
	p1 := search(`project = HELP ORDER BY updated ASC`, "", false)
	first := p1["issues"].([]any)[0].(map[string]any)
	if p1["isLast"] != false || p1["nextPageToken"] == nil || first["fields"] != nil || first["id"] == nil {
		t.Fatalf("page 1 (no fields asked: ids only) %v", p1)
	}
	p2 := search(`project = HELP ORDER BY updated ASC`, p1["nextPageToken"].(string), true)
	if _, has := p2["nextPageToken"]; has || p2["isLast"] != true || len(p2["issues"].([]any)) != 1 {
		t.Fatalf("last page %v", p2)
	}
	// Ada's zone is Berlin: 09:01 there is 08:01 UTC, when "b" was made.
	got := search(`project = HELP AND updated >= "2026/01/10 09:01" ORDER BY updated ASC`, "", true)["issues"].([]any)
	if len(got) != 2 || got[0].(map[string]any)["fields"].(map[string]any)["summary"] != "b" {
		t.Fatalf("zone-aware JQL: %v", got)
	}
}

func TestServerSearchAndLimits(t *testing.T) {
	f := newFixture(t, Options{Deployment: Server, MaxResults: 2, IssueWrites: 1, Window: time.Hour})
	key := f.create("a")
	f.create("b")
	f.create("c")
	st, _, out := f.do("GET", "/rest/api/2/search?"+url.Values{"jql": {"project = HELP"}, "startAt": {"2"}}.Encode(), nil)
	if st != http.StatusOK || out["total"] != float64(3) || out["startAt"] != float64(2) || len(out["issues"].([]any)) != 1 {
		t.Fatalf("server search: %d %v", st, out)
	}
	edit := map[string]any{"fields": map[string]any{"summary": "edited"}}
	if st, _, out := f.do("PUT", "/rest/api/2/issue/"+key, edit); st != http.StatusNoContent {
		t.Fatalf("first write: %d %v", st, out)
	}
	st, h, _ := f.do("PUT", "/rest/api/2/issue/"+key, edit)
	if st != http.StatusTooManyRequests || h.Get("Retry-After") == "" || h.Get("RateLimit-Reason") != "jira-per-issue-on-write" || h.Get("X-RateLimit-Reset") == "" {
		t.Fatalf("second write: %d %v", st, h)
	}
	if st, _, _ := f.do("PUT", "/rest/api/2/issue/"+key, edit); st != http.StatusTooManyRequests || f.e.Stats().EarlyRetries != 1 {
		t.Fatalf("early retry not counted: %d %+v", st, f.e.Stats())
	}
	st, _, out = f.do("GET", "/rest/api/2/issue/"+key+"/transitions", nil)
	ts := out["transitions"].([]any)
	if st != http.StatusOK || len(ts) != 1 || ts[0].(map[string]any)["to"].(map[string]any)["name"] != "In Progress" {
		t.Fatalf("transitions from To Do: %v", out)
	}
}
