package license

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/fault"
)

// schema is the subset of JSON Schema the telemetry contract uses.
type schema struct {
	Type                 string             `json:"type"`
	AdditionalProperties *bool              `json:"additionalProperties"`
	Required             []string           `json:"required"`
	Properties           map[string]*schema `json:"properties"`
	Const                any                `json:"const"`
	MinLength            *int               `json:"minLength"`
	MaxLength            *int               `json:"maxLength"`
	Pattern              string             `json:"pattern"`
}

// validate checks v (decoded with UseNumber) against s.
func (s *schema) validate(path string, v any) error {
	switch s.Type {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: not an object", path)
		}
		for _, r := range s.Required {
			if _, ok := obj[r]; !ok {
				return fmt.Errorf("%s: missing required %q", path, r)
			}
		}
		for k, fv := range obj {
			sub, ok := s.Properties[k]
			if !ok {
				if s.AdditionalProperties != nil && !*s.AdditionalProperties {
					return fmt.Errorf("%s: additional property %q", path, k)
				}
				continue
			}
			if err := sub.validate(path+"."+k, fv); err != nil {
				return err
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: not a string", path)
		}
		if s.MinLength != nil && len(str) < *s.MinLength || s.MaxLength != nil && len(str) > *s.MaxLength {
			return fmt.Errorf("%s: length %d out of bounds", path, len(str))
		}
		if s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString(str) {
			return fmt.Errorf("%s: %q does not match %s", path, str, s.Pattern)
		}
	case "integer":
		n, ok := v.(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			return fmt.Errorf("%s: not an integer", path)
		}
		if s.Const != nil && n.String() != fmt.Sprint(s.Const) {
			return fmt.Errorf("%s: %s, want %v", path, n, s.Const)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: not a boolean", path)
		}
	default:
		return fmt.Errorf("%s: the test validator does not know type %q", path, s.Type)
	}
	return nil
}

func loadSchema(t *testing.T) *schema {
	t.Helper()
	raw, err := os.ReadFile("testdata/telemetry.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s schema
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	if s.AdditionalProperties == nil || *s.AdditionalProperties {
		t.Fatal("the contract must forbid additional properties")
	}
	return &s
}

func checkBody(s *schema, body []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return s.validate("$", v)
}

// TestTelemetryContract: the body matches the JSON schema, whose
// additionalProperties is false, and the validator does reject anything
// else (so the check means something).
func TestTelemetryContract(t *testing.T) {
	s := loadSchema(t)
	e := newEnv(t)
	body := e.m.Preview()
	want := `{"schema":1,"version":"1.2.3","instance_id":"` + testInstance + `","users_over_limit":false}`
	if string(body) != want {
		t.Fatalf("preview = %s\nwant      %s", body, want)
	}
	if err := checkBody(s, body); err != nil {
		t.Fatalf("the report breaks its contract: %v", err)
	}
	for _, bad := range []string{
		`{"schema":1,"version":"1.2.3","instance_id":"` + testInstance + `","users_over_limit":false,"users":4}`,
		`{"schema":1,"version":"1.2.3","instance_id":"` + testInstance + `","users_over_limit":false,"hostname":"srv"}`,
		`{"schema":1,"version":"1.2.3","instance_id":"` + testInstance + `"}`,
		`{"schema":2,"version":"1.2.3","instance_id":"` + testInstance + `","users_over_limit":false}`,
		`{"schema":1,"version":"1.2.3","instance_id":"ACME-server-01","users_over_limit":false}`,
		`{"schema":1,"version":"1.2.3","instance_id":"` + testInstance + `","users_over_limit":4}`,
	} {
		if checkBody(s, []byte(bad)) == nil {
			t.Errorf("the validator accepted %s", bad)
		}
	}
	// The report struct has exactly the schema's properties, in this order.
	var fields []string
	for _, f := range strings.Split(strings.Trim(want, "{}"), ",") {
		fields = append(fields, strings.Trim(strings.SplitN(f, ":", 2)[0], `"`))
	}
	props := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		props = append(props, k)
	}
	sort.Strings(props)
	sorted := slices.Clone(fields)
	sort.Strings(sorted)
	if !slices.Equal(sorted, props) {
		t.Fatalf("report fields %v, schema properties %v", fields, props)
	}
}

type received struct {
	method, path, query string
	header              http.Header
	body                []byte
}

type sink struct {
	mu     sync.Mutex
	got    []received
	status int
	srv    *httptest.Server
}

func newSink(t *testing.T) *sink {
	k := &sink{status: http.StatusNoContent}
	k.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		k.mu.Lock()
		k.got = append(k.got, received{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		status := k.status
		k.mu.Unlock()
		// A cookie the agent must never send back.
		http.SetCookie(w, &http.Cookie{Name: "track", Value: "me"})
		w.WriteHeader(status)
	}))
	t.Cleanup(k.srv.Close)
	return k
}

func (k *sink) requests() []received {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.got)
}

func (k *sink) setStatus(s int) {
	k.mu.Lock()
	k.status = s
	k.mu.Unlock()
}

func TestTelemetryOffByDefault(t *testing.T) {
	k := newSink(t)
	e := newEnv(t)
	if info := e.m.Telemetry(); info.Enabled {
		t.Fatalf("telemetry on by default: %+v", info)
	}
	// Even with an endpoint configured, nothing is sent while disabled.
	if _, err := e.m.SetTelemetry("admin", false, k.srv.URL+"/v1/report"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		e.m.check(context.Background())
		e.clk.Add(25 * time.Hour)
	}
	if n := len(k.requests()); n != 0 {
		t.Fatalf("%d requests while disabled", n)
	}
}

// TestTelemetrySendsExactlyTheBody: one POST a day, carrying the preview
// byte for byte, with only Content-Type and User-Agent (and the
// Content-Length HTTP needs), never a cookie.
func TestTelemetrySendsExactlyTheBody(t *testing.T) {
	k := newSink(t)
	schema := loadSchema(t)
	e := newEnv(t)
	ctx := context.Background()
	info, err := e.m.SetTelemetry("admin", true, k.srv.URL+"/v1/report")
	if err != nil {
		t.Fatal(err)
	}
	if !info.Enabled || info.Endpoint != k.srv.URL+"/v1/report" {
		t.Fatalf("info = %+v", info)
	}
	if recs := e.records(t, "telemetry.set"); len(recs) != 1 || recs[0].Actor != "admin" {
		t.Fatalf("audit = %+v", recs)
	}

	e.m.check(ctx)
	e.clk.Add(time.Hour)
	e.m.check(ctx)
	e.clk.Add(22*time.Hour + 59*time.Minute)
	e.m.check(ctx) // 23h59m after the first
	if n := len(k.requests()); n != 1 {
		t.Fatalf("%d requests in the first day, want 1", n)
	}
	e.clk.Add(time.Minute)
	e.m.check(ctx)
	got := k.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests after a day, want 2", len(got))
	}
	preview := e.m.Preview()
	for i, r := range got {
		if r.method != http.MethodPost || r.path != "/v1/report" || r.query != "" {
			t.Fatalf("request %d: %s %s?%s", i, r.method, r.path, r.query)
		}
		if !bytes.Equal(r.body, preview) {
			t.Fatalf("request %d body = %s, preview = %s", i, r.body, preview)
		}
		if err := checkBody(schema, r.body); err != nil {
			t.Fatalf("request %d breaks the contract: %v", i, err)
		}
		var names []string
		for name := range r.header {
			names = append(names, name)
		}
		sort.Strings(names)
		if strings.Join(names, ",") != "Content-Length,Content-Type,User-Agent" {
			t.Fatalf("request %d headers = %v", i, r.header)
		}
		if r.header.Get("Content-Type") != "application/json" || r.header.Get("User-Agent") != "lockstep-agent/1.2.3" {
			t.Fatalf("request %d headers = %v", i, r.header)
		}
	}
	info = e.m.Telemetry()
	if info.LastSentAt == nil || !info.LastSentAt.Equal(e.clk.Now()) || info.LastError != "" {
		t.Fatalf("info = %+v", info)
	}

	// Over the limit: the flag flips, nothing else changes.
	if _, err := e.m.Import("admin", issue(t, payload())); err != nil { // 3 users
		t.Fatal(err)
	}
	for _, u := range []string{"a", "b", "c", "d"} {
		e.m.SeeUser("jira-1", u)
	}
	e.clk.Add(day)
	e.m.check(ctx)
	got = k.requests()
	want := `{"schema":1,"version":"1.2.3","instance_id":"` + testInstance + `","users_over_limit":true}`
	if len(got) != 3 || string(got[2].body) != want {
		t.Fatalf("over-limit report = %s", got[len(got)-1].body)
	}

	// At most once a day holds across restarts too.
	m := e.reopen(t)
	m.check(ctx)
	if n := len(k.requests()); n != 3 {
		t.Fatalf("a restart sent again: %d requests", n)
	}
}

func TestTelemetryFailureRetriedNextDay(t *testing.T) {
	k := newSink(t)
	k.setStatus(http.StatusServiceUnavailable)
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.m.SetTelemetry("admin", true, k.srv.URL); err != nil {
		t.Fatal(err)
	}
	e.m.check(ctx)
	info := e.m.Telemetry()
	if info.LastAttemptAt == nil || info.LastSentAt != nil || !strings.Contains(info.LastError, "503") {
		t.Fatalf("after a failure: %+v", info)
	}
	e.clk.Add(12 * time.Hour)
	e.m.check(ctx)
	if n := len(k.requests()); n != 1 {
		t.Fatalf("retried within the day: %d requests", n)
	}
	k.setStatus(http.StatusOK)
	e.clk.Add(12 * time.Hour)
	e.m.check(ctx)
	if n := len(k.requests()); n != 2 {
		t.Fatalf("not retried the next day: %d requests", n)
	}
	if info := e.m.Telemetry(); info.LastSentAt == nil || info.LastError != "" {
		t.Fatalf("after the retry: %+v", info)
	}

	// An unreachable endpoint: logged, recorded, nothing else breaks.
	k.srv.Close()
	e.clk.Add(day)
	e.m.check(ctx)
	if info := e.m.Telemetry(); info.LastError == "" {
		t.Fatalf("unreachable endpoint: %+v", info)
	}
}

// TestTelemetryNeverBlocks: while a send hangs, status, preview and
// settings answer at once; cancelling Serve's context ends the send.
func TestTelemetryNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	ended := make(chan struct{}) // closed when the hanging send ends
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		defer close(ended)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	e := newEnv(t)
	if _, err := e.m.SetTelemetry("admin", true, srv.URL); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.m.Serve(ctx) }()
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("no report sent")
	}
	_ = e.m.Status()
	_ = e.m.Preview()
	_ = e.m.Telemetry()
	if err := e.m.SeeUser("jira-1", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Import("admin", issue(t, payload())); err != nil {
		t.Fatal(err)
	}
	// The send hangs until the test releases it (or its own timeout ends
	// it): calls that waited for it would return only after it ended.
	select {
	case <-ended:
		t.Fatal("the calls returned only after the hanging send ended")
	default:
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop while a send hung")
	}
}

func TestTelemetryDoesNotFollowRedirects(t *testing.T) {
	elsewhere := newSink(t)
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.srv.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	e := newEnv(t)
	if _, err := e.m.SetTelemetry("admin", true, redirect.URL); err != nil {
		t.Fatal(err)
	}
	e.m.check(context.Background())
	if n := len(elsewhere.requests()); n != 0 {
		t.Fatalf("the report followed a redirect: %d requests", n)
	}
	if info := e.m.Telemetry(); !strings.Contains(info.LastError, "307") {
		t.Fatalf("info = %+v", info)
	}
}

func TestTelemetryClientHonoursProxyEnvironment(t *testing.T) {
	tr, ok := defaultClient().Transport.(*http.Transport)
	if !ok || tr.Proxy == nil || !tr.DisableCompression {
		t.Fatalf("transport = %+v", tr)
	}
	if defaultClient().Jar != nil {
		t.Fatal("the client keeps cookies")
	}
	// ProxyFromEnvironment reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY
	// (once per process, so it is compared rather than exercised).
	if reflect.ValueOf(tr.Proxy).Pointer() != reflect.ValueOf(http.ProxyFromEnvironment).Pointer() {
		t.Fatal("the telemetry client ignores the proxy environment")
	}
}

func TestSetTelemetryValidation(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ endpoint, want string }{
		{"http://telemetry.example/v1", "must use https (http only to a loopback address)"},
		{"https://user:pw@telemetry.example/v1", "must not carry credentials"},
		{"ftp://telemetry.example/v1", "must use https"},
		{"telemetry.example/v1", "must be an absolute URL"},
		{"https:///v1", "must be an absolute URL"},
		{"https://telemetry.example/v1#x", "must not have a fragment"},
		{"https://telemetry.example/" + strings.Repeat("a", 2100), "at most 2048"},
	}
	for _, tc := range cases {
		_, err := e.m.SetTelemetry("admin", true, tc.endpoint)
		var ie *fault.InvalidError
		if !errors.As(err, &ie) || ie.Field != "endpoint" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want endpoint error %q", tc.endpoint, err, tc.want)
		}
	}
	if _, err := e.m.SetTelemetry("admin", true, ""); err == nil || !strings.Contains(err.Error(), "endpoint: is required") {
		t.Errorf("enable without endpoint: %v", err)
	}
	for _, ok := range []string{"https://telemetry.example/v1", "http://127.0.0.1:8080/x", "http://[::1]/x", "http://localhost/x"} {
		if _, err := e.m.SetTelemetry("admin", true, ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	info, err := e.m.SetTelemetry("admin", false, "")
	if err != nil || info.Enabled || info.Endpoint != "http://localhost/x" {
		t.Errorf("disable keeping the endpoint: %+v, %v", info, err)
	}
	if recs := e.records(t, "telemetry.set"); len(recs) != 5 {
		t.Fatalf("%d telemetry.set records, want 5 (refusals change nothing)", len(recs))
	}
	if info := e.m.Telemetry(); info.Enabled {
		t.Fatalf("info = %+v", info)
	}
}
