package snemu

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// These tests pin the emulator to the behaviour ServiceNow documents,
// where the connector's correctness depends on it.

const pw = "emu-test-password"

func startEmu(t *testing.T, o Options) *Emu {
	t.Helper()
	if o.Users == nil {
		o.Users = []User{{UserName: "itil", Name: "Ian Itil", Email: "ian@example.com", Password: pw, TimeZone: "Asia/Tokyo", DateFormat: "dd.MM.yyyy"}}
	}
	e := Start(o)
	t.Cleanup(e.Close)
	return e
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func call(t *testing.T, e *Emu, method, path, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, e.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("itil", pw)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func errorOf(a answer) (message, detail, status any) {
	e, _ := a.body["error"].(map[string]any)
	return e["message"], e["detail"], a.body["status"]
}

func TestErrorShapes(t *testing.T) {
	e := startEmu(t, Options{})
	req, _ := http.NewRequest(http.MethodGet, e.URL()+"/api/now/table/incident", nil)
	req.SetBasicAuth("itil", "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 401 || body["status"] != "failure" || body["error"].(map[string]any)["message"] != "User Not Authenticated" {
		t.Fatalf("401: %d %v", resp.StatusCode, body)
	}
	a := call(t, e, "GET", "/api/now/table/incident/0123456789abcdef0123456789abcdef", "")
	if m, d, s := errorOf(a); a.status != 404 || m != "No Record found" || !strings.Contains(d.(string), "ACL restricts") || s != "failure" {
		t.Fatalf("404: %d %s", a.status, a.raw)
	}
	a = call(t, e, "GET", "/api/now/table/incidentx", "")
	if m, d, _ := errorOf(a); a.status != 400 || m != "Invalid table incidentx" || d != nil {
		t.Fatalf("invalid table: %d %s", a.status, a.raw)
	}
	a = call(t, e, "POST", "/api/now/table/incident", "{not json")
	if m, _, _ := errorOf(a); a.status != 400 || m != "Exception while reading request" {
		t.Fatalf("bad JSON: %d %s", a.status, a.raw)
	}
}

func TestPagingHeaders(t *testing.T) {
	e := startEmu(t, Options{})
	for i := range 5 {
		if _, err := e.Insert("incident", "itil", map[string]string{"short_description": "p" + string(rune('0'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	a := call(t, e, "GET", "/api/now/table/incident?sysparm_limit=2&sysparm_offset=2&sysparm_fields=number", "")
	link := a.header.Get("Link")
	if a.status != 200 || a.header.Get("X-Total-Count") != "5" || len(a.body["result"].([]any)) != 2 {
		t.Fatalf("page: %d %v %s", a.status, a.header, a.raw)
	}
	for _, want := range []string{`sysparm_offset=0>;rel="first"`, `sysparm_offset=0>;rel="prev"`, `sysparm_offset=4>;rel="next"`, `sysparm_offset=4>;rel="last"`} {
		if !strings.Contains(link, want) {
			t.Errorf("Link %s lacks %s", link, want)
		}
	}
	if a := call(t, e, "GET", "/api/now/table/incident?sysparm_limit=10", ""); a.header.Get("Link") != "" {
		t.Fatalf("one page has no Link header: %s", a.header.Get("Link"))
	}
	if a := call(t, e, "GET", "/api/now/table/incident?sysparm_limit=2&sysparm_no_count=true", ""); a.header.Get("X-Total-Count") != "" {
		t.Fatal("sysparm_no_count still counted")
	}
}

func TestTimesAreUTCInternallyAndLocalOnDisplay(t *testing.T) {
	at := time.Date(2026, 1, 2, 20, 30, 45, 600_000_000, time.UTC)
	e := startEmu(t, Options{Now: func() time.Time { return at }})
	id, err := e.Insert("incident", "itil", map[string]string{"short_description": "tz"})
	if err != nil {
		t.Fatal(err)
	}
	a := call(t, e, "GET", "/api/now/table/incident/"+id+"?sysparm_fields=sys_updated_on&sysparm_display_value=all", "")
	f := a.body["result"].(map[string]any)["sys_updated_on"].(map[string]any)
	// One-second precision, UTC internally; Tokyo and dd.MM.yyyy shown.
	if f["value"] != "2026-01-02 20:30:45" || f["display_value"] != "03.01.2026 05:30:45" {
		t.Fatalf("sys_updated_on %v", f)
	}
	// A plain value in a query is UTC; gs.dateGenerate is the user's zone.
	for q, want := range map[string]int{
		"sys_updated_on>=2026-01-02 20:30:45":                                 1,
		"sys_updated_on>2026-01-02 20:30:45":                                  0,
		"sys_updated_on>=javascript:gs.dateGenerate('2026-01-03','05:30:45')": 1,
		"sys_updated_on>javascript:gs.dateGenerate('2026-01-03','05:30:44')":  1,
		"sys_updated_on>=javascript:gs.dateGenerate('2026-01-03','05:30:46')": 0,
	} {
		a := call(t, e, "GET", "/api/now/table/incident?sysparm_query="+url.QueryEscape(q), "")
		if n := len(a.body["result"].([]any)); n != want {
			t.Errorf("%s: %d records, want %d", q, n, want)
		}
	}
}

func TestWhatTheInstanceAcceptsSilently(t *testing.T) {
	e := startEmu(t, Options{})
	// Unknown fields are dropped, choices are not checked, text is cut to
	// its length, and a query part naming an unknown field is ignored.
	a := call(t, e, "POST", "/api/now/table/incident", `{"short_description":"`+strings.Repeat("x", 200)+`","nonsense":"1","state":"42","sys_mod_count":"99"}`)
	if a.status != 201 {
		t.Fatalf("insert: %d %s", a.status, a.raw)
	}
	r := a.body["result"].(map[string]any)
	if _, ok := r["nonsense"]; ok || r["state"] != "42" || r["sys_mod_count"] != "0" || len(r["short_description"].(string)) != 160 {
		t.Fatalf("stored %v", r)
	}
	if !strings.HasPrefix(a.header.Get("Location"), e.URL()+"/api/now/table/incident/") {
		t.Fatalf("Location %q", a.header.Get("Location"))
	}
	q := url.QueryEscape("no_such_field=1^short_descriptionSTARTSWITHxx")
	if a := call(t, e, "GET", "/api/now/table/incident?sysparm_query="+q, ""); len(a.body["result"].([]any)) != 1 {
		t.Fatalf("an unknown field must be ignored: %s", a.raw)
	}
	strict := startEmu(t, Options{InvalidQueryReturnsNoRows: true})
	if _, err := strict.Insert("incident", "itil", map[string]string{"short_description": "x"}); err != nil {
		t.Fatal(err)
	}
	if a := call(t, strict, "GET", "/api/now/table/incident?sysparm_query="+q, ""); len(a.body["result"].([]any)) != 0 {
		t.Fatalf("glide.invalid_query.returns_no_rows: %s", a.raw)
	}
	// Equality is case-insensitive.
	if a := call(t, e, "GET", "/api/now/table/incident?sysparm_query="+url.QueryEscape("short_description="+strings.Repeat("X", 160)), ""); len(a.body["result"].([]any)) != 1 {
		t.Fatalf("case-insensitive equality: %s", a.raw)
	}
}

func TestWritesAndJournal(t *testing.T) {
	e := startEmu(t, Options{})
	a := call(t, e, "POST", "/api/now/table/incident?sysparm_fields=sys_id,sys_mod_count", `{"short_description":"j"}`)
	id := a.body["result"].(map[string]any)["sys_id"].(string)
	a = call(t, e, "PATCH", "/api/now/table/incident/"+id+"?sysparm_fields=sys_mod_count,comments", `{"work_notes":"note one"}`)
	if a.status != 200 || a.body["result"].(map[string]any)["sys_mod_count"] != "1" || a.body["result"].(map[string]any)["comments"] != "" {
		t.Fatalf("journal write: %d %s", a.status, a.raw)
	}
	a = call(t, e, "PATCH", "/api/now/table/incident/"+id+"?sysparm_fields=sys_mod_count", `{"short_description":"j"}`)
	if a.body["result"].(map[string]any)["sys_mod_count"] != "1" {
		t.Fatalf("a write that changes nothing is no update: %s", a.raw)
	}
	a = call(t, e, "GET", "/api/now/table/sys_journal_field?sysparm_query="+url.QueryEscape("element_id="+id), "")
	if l := a.body["result"].([]any); len(l) != 1 || l[0].(map[string]any)["value"] != "note one" || l[0].(map[string]any)["sys_created_by"] != "itil" {
		t.Fatalf("journal: %s", a.raw)
	}
	a = call(t, e, "DELETE", "/api/now/table/incident/"+id, "")
	if m, d, _ := errorOf(a); a.status != 403 || m != "Operation Failed" || !strings.Contains(d.(string), "ACL Exception Delete") {
		t.Fatalf("delete as itil: %d %s", a.status, a.raw)
	}
	a = call(t, e, "PATCH", "/api/now/table/incident/"+id, `{"state":"6"}`)
	if _, d, _ := errorOf(a); a.status != 403 || !strings.Contains(d.(string), "Data Policy Exception") {
		t.Fatalf("resolve without the policy's fields: %d %s", a.status, a.raw)
	}
}

func TestDisplayValuesAndReferenceLinks(t *testing.T) {
	e := startEmu(t, Options{Groups: []string{"Network"}})
	id, err := e.Insert("incident", "itil", map[string]string{"short_description": "d", "assigned_to": e.UserID("itil"),
		"assignment_group": e.GroupID("Network"), "state": "2"})
	if err != nil {
		t.Fatal(err)
	}
	fields := "&sysparm_fields=state,assigned_to,assigned_to.email,assignment_group"
	a := call(t, e, "GET", "/api/now/table/incident/"+id+"?sysparm_display_value=true"+fields, "")
	r := a.body["result"].(map[string]any)
	if r["state"] != "In Progress" || r["assigned_to"].(map[string]any)["display_value"] != "Ian Itil" || r["assigned_to.email"] != "ian@example.com" {
		t.Fatalf("display values: %s", a.raw)
	}
	a = call(t, e, "GET", "/api/now/table/incident/"+id+"?sysparm_display_value=false&sysparm_exclude_reference_link=true"+fields, "")
	r = a.body["result"].(map[string]any)
	if r["state"] != "2" || r["assigned_to"] != e.UserID("itil") {
		t.Fatalf("actual values: %s", a.raw)
	}
	a = call(t, e, "GET", "/api/now/table/incident/"+id+"?sysparm_display_value=all"+fields, "")
	g := a.body["result"].(map[string]any)["assignment_group"].(map[string]any)
	if g["display_value"] != "Network" || g["value"] != e.GroupID("Network") || !strings.HasSuffix(g["link"].(string), "/api/now/table/sys_user_group/"+e.GroupID("Network")) {
		t.Fatalf("all: %s", a.raw)
	}
}

func TestRateLimitHeaders(t *testing.T) {
	e := startEmu(t, Options{RateLimit: 2, Window: time.Hour})
	for i := range 3 {
		a := call(t, e, "GET", "/api/now/table/incident?sysparm_limit=1", "")
		if a.header.Get("X-RateLimit-Limit") != "2" || a.header.Get("X-RateLimit-Rule") == "" || a.header.Get("X-RateLimit-Reset") == "" {
			t.Fatalf("request %d headers %v", i, a.header)
		}
		if i < 2 && a.status != 200 {
			t.Fatalf("request %d: %d", i, a.status)
		}
		if i == 2 {
			if m, _, _ := errorOf(a); a.status != 429 || a.header.Get("Retry-After") == "" || m != "Rate limit exceeded" {
				t.Fatalf("over the limit: %d %v %s", a.status, a.header, a.raw)
			}
		}
	}
}
