package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/rs/zerolog"
)

// hit is one request as the test server saw it.
type hit struct {
	at     time.Time
	header http.Header
	body   []byte
	query  string
}

// server answers the i-th request with answers[i] (the last one repeats).
type server struct {
	*httptest.Server
	mu   sync.Mutex
	hits []hit
}

type answer func(w http.ResponseWriter, r *http.Request)

func status(code int, hdr ...string) answer {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":{"code":"x","message":"status %d"}}`, code)
	}
}

func newServer(t *testing.T, answers ...answer) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		n := len(s.hits)
		s.hits = append(s.hits, hit{at: time.Now(), header: r.Header.Clone(), query: r.URL.RawQuery})
		s.mu.Unlock()
		a := answers[min(n, len(answers)-1)]
		a(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// readBody is an answer that reads the whole request body first.
func readBody(s *server, then answer) answer {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.hits[len(s.hits)-1].body = b
		s.mu.Unlock()
		then(w, r)
	}
}

func (s *server) seen() []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hit(nil), s.hits...)
}

func newClient(t *testing.T, base string, o Options) *Client {
	t.Helper()
	o.BaseURL = base
	if o.BaseDelay == 0 {
		o.BaseDelay = 5 * time.Millisecond
	}
	if o.MaxDelay == 0 {
		o.MaxDelay = 20 * time.Millisecond
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetryThenSuccess(t *testing.T) {
	s := newServer(t, status(503), status(502), status(200))
	c := newClient(t, s.URL, Options{})
	var out map[string]any
	if err := c.DoJSON(context.Background(), Request{Method: "GET", Path: "/api/x"}, nil, &out); err != nil {
		t.Fatal(err)
	}
	hits := s.seen()
	if len(hits) != 3 {
		t.Fatalf("%d requests", len(hits))
	}
	id := hits[0].header.Get("X-Request-Id")
	if id == "" || hits[2].header.Get("X-Request-Id") != id {
		t.Fatal("attempts of one call must share a request id")
	}
	if st := c.Stats(); st.Requests != 3 || st.Retries != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	s := newServer(t, status(429, "Retry-After", "1"), status(200))
	c := newClient(t, s.URL, Options{})
	if err := c.DoJSON(context.Background(), Request{Method: "GET", Path: "/"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	hits := s.seen()
	if len(hits) != 2 {
		t.Fatalf("%d requests", len(hits))
	}
	if gap := hits[1].at.Sub(hits[0].at); gap < 990*time.Millisecond {
		t.Fatalf("retried after %v, server asked for 1 s", gap)
	}
	if st := c.Stats(); st.RateLimited != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRateLimitHeadersPause(t *testing.T) {
	reset := func() string {
		return strconv.FormatFloat(float64(time.Now().Add(300*time.Millisecond).UnixMilli())/1000, 'f', 3, 64)
	}
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", reset())
		w.WriteHeader(200)
	}, status(200))
	c := newClient(t, s.URL, Options{LimiterKey: t.Name()})
	other := newClient(t, s.URL, Options{LimiterKey: t.Name()}) // same system: shares the pause
	for _, cl := range []*Client{c, other} {
		if err := cl.DoJSON(context.Background(), Request{Method: "GET", Path: "/"}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	hits := s.seen()
	if gap := hits[1].at.Sub(hits[0].at); gap < 250*time.Millisecond {
		t.Fatalf("next request after %v; the quota was spent for 300 ms", gap)
	}
	if other.Stats().Paused != 1 {
		t.Fatalf("stats %+v", other.Stats())
	}
}

func TestPauseBeyondBudgetFailsFast(t *testing.T) {
	s := newServer(t, status(429, "Retry-After", "3600"))
	c := newClient(t, s.URL, Options{MaxElapsed: time.Second})
	start := time.Now()
	err := c.DoJSON(context.Background(), Request{Method: "GET", Path: "/"}, nil, nil)
	var se *StatusError
	if !errors.Is(err, connector.ErrRateLimited) || !errors.As(err, &se) || se.RetryAfter != time.Hour {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 20*time.Second || len(s.seen()) != 1 { // far below the hour it must not wait
		t.Fatal("waited for a pause longer than the call's budget")
	}
	// The whole system is paused now: the next call does not even ask.
	if err := c.DoJSON(context.Background(), Request{Method: "GET", Path: "/"}, nil, nil); !errors.Is(err, connector.ErrRateLimited) || len(s.seen()) != 1 {
		t.Fatalf("paused call: %v, %d requests", err, len(s.seen()))
	}
}

func TestStatusMapping(t *testing.T) {
	tests := []struct {
		answer answer
		want   error
		msg    string
	}{
		{status(400), connector.ErrInvalid, "status 400"},
		{func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(422)
			io.WriteString(w, `{"errorMessages":["bad"],"errors":{"summary":"required"}}`)
		}, connector.ErrInvalid, "bad; summary: required"},
		{func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"code":"invalid","field":"title","message":"is required"}}`)
		}, connector.ErrInvalid, "title: is required"},
		{func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(422)
			io.WriteString(w, `{"message":"Validation Failed","errors":[{"resource":"Issue","code":"missing_field","field":"title"},`+
				`{"resource":"Issue","code":"custom","field":"body","message":"body is too long (maximum is 65536 characters)"}]}`)
		}, connector.ErrInvalid, "Validation Failed (title: missing_field; body is too long (maximum is 65536 characters))"},
		{func(w http.ResponseWriter, r *http.Request) { // GitLab's model validation
			w.WriteHeader(400)
			io.WriteString(w, `{"message":{"title":["is too long (maximum is 255 characters)"],"description":["is too long","is bad"]}}`)
		}, connector.ErrInvalid, "description: is too long, is bad; title: is too long (maximum is 255 characters)"},
		{func(w http.ResponseWriter, r *http.Request) { // GitLab's token refusals (OAuth's shape)
			w.WriteHeader(401)
			io.WriteString(w, `{"error":"invalid_token","error_description":"Token has expired."}`)
		}, connector.ErrUnauthorized, "invalid_token: Token has expired."},
		{status(401), connector.ErrUnauthorized, ""},
		{status(403), connector.ErrForbidden, ""},
		{status(403, "X-RateLimit-Remaining", "0"), connector.ErrRateLimited, ""},
		{status(404), connector.ErrNotFound, ""},
		{status(410), connector.ErrNotFound, ""},
		{status(409), connector.ErrConflict, ""},
		{status(412), connector.ErrConflict, ""},
		{status(413), connector.ErrInvalid, ""},
		{status(429), connector.ErrRateLimited, ""},
		{status(500), connector.ErrUnavailable, ""},
		{status(503), connector.ErrUnavailable, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.want, " ", tc.msg), func(t *testing.T) {
			s := newServer(t, tc.answer)
			c := newClient(t, s.URL, Options{MaxAttempts: 2})
			err := c.DoJSON(context.Background(), Request{Method: "GET", Path: "/items/1"}, nil, nil)
			var se *StatusError
			if !errors.Is(err, tc.want) || !errors.As(err, &se) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.msg != "" && se.Message != tc.msg {
				t.Fatalf("message %q, want %q", se.Message, tc.msg)
			}
			if se.Path != "/items/1" || se.RequestID == "" {
				t.Fatalf("error %+v", se)
			}
			retried := errors.Is(err, connector.ErrRateLimited) || errors.Is(err, connector.ErrUnavailable)
			if want := map[bool]int{true: 2, false: 1}[retried]; len(s.seen()) != want {
				t.Fatalf("%d requests, want %d", len(s.seen()), want)
			}
		})
	}
}

// TestRawPath: a path segment holding an escaped slash (GitLab's
// URL-encoded project path) reaches the server escaped, under the base
// URL's own path; without RawPath the slash would split the segment.
func TestRawPath(t *testing.T) {
	var got string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.EscapedPath()
		io.WriteString(w, "{}")
	}))
	t.Cleanup(s.Close)
	c := newClient(t, s.URL+"/gitlab/api/v4", Options{})
	err := c.DoJSON(context.Background(), Request{Method: "GET", Path: "/projects/group/sub app/issues",
		RawPath: "/projects/group%2Fsub%20app/issues"}, nil, nil)
	if err != nil || got != "/gitlab/api/v4/projects/group%2Fsub%20app/issues" {
		t.Fatalf("path %q, %v", got, err)
	}
}

// TestNonIdempotentRetries: a POST is repeated only when the server surely
// did not act on it.
func TestNonIdempotentRetries(t *testing.T) {
	tests := []struct {
		name       string
		answer     answer
		idempotent bool
		want       int
	}{
		{"500 is ambiguous", status(500), false, 1},
		{"503 was refused", status(503), false, 3},
		{"429 was refused", status(429, "Retry-After", "0"), false, 3},
		{"500 on an idempotent POST", status(500), true, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, tc.answer)
			c := newClient(t, s.URL, Options{MaxAttempts: 3})
			err := c.DoJSON(context.Background(), Request{Method: "POST", Path: "/", Idempotent: tc.idempotent}, map[string]int{"a": 1}, nil)
			if err == nil || len(s.seen()) != tc.want {
				t.Fatalf("%d requests (err %v), want %d", len(s.seen()), err, tc.want)
			}
		})
	}
}

func TestNetworkErrorRetriedWhenNeverSent(t *testing.T) {
	s := newServer(t, status(200))
	addr := s.Listener.Addr().String()
	s.Close() // nothing listens: every dial is refused
	c := newClient(t, "http://"+addr, Options{MaxAttempts: 3})
	err := c.DoJSON(context.Background(), Request{Method: "POST", Path: "/"}, map[string]int{}, nil)
	if !errors.Is(err, connector.ErrUnavailable) || c.Stats().Requests != 3 {
		t.Fatalf("err %v, stats %+v", err, c.Stats())
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	s := newServer(t, status(503, "Retry-After", "10"))
	c := newClient(t, s.URL, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.DoJSON(ctx, Request{Method: "GET", Path: "/"}, nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 20*time.Second || len(s.seen()) != 1 { // bound only catches a hang
		t.Fatalf("took %v and %d requests after cancel", d, len(s.seen()))
	}
}

func TestTimeout(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	c := newClient(t, s.URL, Options{Timeout: 100 * time.Millisecond, MaxAttempts: 2})
	start := time.Now()
	err := c.DoJSON(context.Background(), Request{Method: "GET", Path: "/"}, nil, nil)
	if !errors.Is(err, connector.ErrUnavailable) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 20*time.Second { // bound only catches a hang
		t.Fatalf("took %v", d)
	}
}

func TestNoSecretInLogsOrErrors(t *testing.T) {
	const token = "s3cr3t-t0ken-value"
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401) // a careless server echoing what it got
		fmt.Fprintf(w, `{"message":"bad credentials %s for %s"}`, r.Header.Get("Authorization"), r.URL.RawQuery)
	})
	var logs bytes.Buffer
	c := newClient(t, s.URL, Options{System: "sys1", Log: zerolog.New(&logs).Level(zerolog.DebugLevel),
		Auth: Bearer(Static(secret.New(token)))})
	err := c.DoJSON(context.Background(), Request{Method: "GET", Path: "/api/items",
		Query: map[string][]string{"api_key": {token}, "project": {"HELP"}}}, nil, nil)
	if !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("err = %v", err)
	}
	var se *StatusError
	errors.As(err, &se)
	for what, text := range map[string]string{"log": logs.String(), "error": err.Error(), "body": se.Body} {
		if strings.Contains(text, token) {
			t.Errorf("%s shows the token: %s", what, text)
		}
	}
	if !strings.Contains(se.Message, secret.Redacted) {
		t.Errorf("message not scrubbed visibly: %q", se.Message)
	}
	line := logs.String()
	for _, want := range []string{`"path":"/api/items?api_key&project"`, `"status":401`, `"system":"sys1"`, `"request_id":"`, `"attempt":1`, `"duration_ms":`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %s: %s", want, line)
		}
	}
	if got := s.seen()[0].header.Get("Authorization"); got != "Bearer "+token {
		t.Fatalf("auth header %q", got)
	}
}

func TestUploadRetries(t *testing.T) {
	content := strings.Repeat("attachment ", 5000)
	t.Run("seekable body is rewound", func(t *testing.T) {
		var s *server
		s = newServer(t, func(w http.ResponseWriter, r *http.Request) { readBody(s, status(503))(w, r) },
			func(w http.ResponseWriter, r *http.Request) { readBody(s, status(201))(w, r) })
		c := newClient(t, s.URL, Options{})
		resp, err := c.Do(context.Background(), Request{Method: "POST", Path: "/up", Body: strings.NewReader(content), ContentLength: int64(len(content))})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		hits := s.seen()
		if len(hits) != 2 || string(hits[0].body) != content || string(hits[1].body) != content {
			t.Fatalf("%d requests, bodies %d and %d bytes", len(hits), len(hits[0].body), len(hits[len(hits)-1].body))
		}
	})
	t.Run("one-shot body refused before it flowed", func(t *testing.T) {
		var s *server
		s = newServer(t, status(503), func(w http.ResponseWriter, r *http.Request) { readBody(s, status(201))(w, r) })
		c := newClient(t, s.URL, Options{})
		body := io.MultiReader(strings.NewReader(content)) // not a Seeker
		resp, err := c.Do(context.Background(), Request{Method: "POST", Path: "/up", Body: body, ContentLength: int64(len(content))})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if hits := s.seen(); len(hits) != 2 || string(hits[1].body) != content {
			t.Fatalf("%d requests", len(hits))
		}
	})
	t.Run("one-shot body consumed is not resent", func(t *testing.T) {
		var s *server
		s = newServer(t, func(w http.ResponseWriter, r *http.Request) { readBody(s, status(503))(w, r) })
		c := newClient(t, s.URL, Options{})
		_, err := c.Do(context.Background(), Request{Method: "POST", Path: "/up", Body: io.MultiReader(strings.NewReader(content)), ContentLength: int64(len(content))})
		if !errors.Is(err, connector.ErrUnavailable) || len(s.seen()) != 1 {
			t.Fatalf("err %v after %d requests", err, len(s.seen()))
		}
	})
}

func TestDownloadStreamsWithIdleTimeout(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		// Steady progress: 16 × 150 ms is longer than the timeout, each gap
		// is a tenth of it, so a busy machine's stalls do not end the read.
		for range 16 {
			w.Write(bytes.Repeat([]byte("x"), 500))
			w.(http.Flusher).Flush()
			time.Sleep(150 * time.Millisecond)
		}
	}, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.Write([]byte("start"))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // then stall
	})
	c := newClient(t, s.URL, Options{Timeout: 1500 * time.Millisecond})
	resp, err := c.Do(context.Background(), Request{Method: "GET", Path: "/content"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != 8000 {
		t.Fatalf("read %d: %v", n, err)
	}
	resp, err = c.Do(context.Background(), Request{Method: "GET", Path: "/content"})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	if _, err := io.Copy(io.Discard, resp.Body); err == nil || time.Since(start) > 20*time.Second {
		t.Fatalf("stalled body: err %v after %v", err, time.Since(start))
	}
}

func TestPlainHTTP(t *testing.T) {
	for base, ok := range map[string]bool{
		"http://127.0.0.1:8089": true, "http://localhost": true, "http://[::1]:1": true,
		"http://sandbox.example": false, "https://sandbox.example": true, "ftp://x": false, "/relative": false,
	} {
		if _, err := New(Options{BaseURL: base}); (err == nil) != ok {
			t.Errorf("%s: err %v", base, err)
		}
	}
	if _, err := New(Options{BaseURL: "http://sandbox.example", AllowPlainHTTP: true}); err != nil {
		t.Error(err)
	}
}

func TestSystemOptions(t *testing.T) {
	hc := &http.Client{}
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := connector.Config{ID: "sys-1", URL: "https://tracker.example", Settings: map[string]any{"allowSelfSigned": true, "requestsPerMinute": int64(90)}}
	o := SystemOptions(cfg, connector.Env{HTTP: hc, Now: func() time.Time { return fixed }})
	if o.BaseURL != cfg.URL || !o.InsecureSkipVerify || o.RequestsPerMinute != 90 || o.LimiterKey != "sys-1" || o.HTTPClient != hc || !o.Now().Equal(fixed) {
		t.Fatalf("options %+v", o)
	}
	if o.Auth != nil || o.Secrets != nil {
		t.Fatal("credentials are the connector's to set")
	}
	o = SystemOptions(connector.Config{URL: "https://tracker.example"}, connector.Env{})
	if o.InsecureSkipVerify || o.RequestsPerMinute != 0 || o.HTTPClient != nil || o.Now == nil {
		t.Fatalf("defaults %+v", o)
	}
}

func TestRequestJSON(t *testing.T) {
	orig := Request{Method: http.MethodPatch, Path: "/items/1", Header: http.Header{"X-Trace": {"a"}}}
	r, err := orig.JSON([]map[string]string{{"op": "test"}}, "application/json-patch+json")
	if err != nil {
		t.Fatal(err)
	}
	if orig.Header.Get("Accept") != "" || orig.Header.Get("Content-Type") != "" {
		t.Fatal("the caller's header was changed")
	}
	if r.Header.Get("Content-Type") != "application/json-patch+json" || r.Header.Get("Accept") != "application/json" || r.Header.Get("X-Trace") != "a" {
		t.Fatalf("header %v", r.Header)
	}
	for range 2 { // every attempt gets the whole body
		rc, err := r.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		if string(b) != `[{"op":"test"}]` || r.ContentLength != int64(len(b)) {
			t.Fatalf("body %q, length %d", b, r.ContentLength)
		}
	}
	r, err = Request{Method: http.MethodGet, Path: "/items"}.JSON(nil, "")
	if err != nil || r.GetBody != nil || r.Header.Get("Content-Type") != "" || r.Header.Get("Accept") != "application/json" {
		t.Fatalf("without a body: %+v, %v", r, err)
	}
	if _, err := (Request{Method: http.MethodPost, Path: "/x"}).JSON(func() {}, ""); err == nil || !strings.Contains(err.Error(), "POST /x: encode the request") {
		t.Fatalf("unencodable body: %v", err)
	}
}

// TestRateLimitWait: a refusal only the server's message marks as rate
// limiting (GitHub's secondary limit answers 403 with no Retry-After) is
// retried after the wait the hook names, pausing the whole system; other
// refusals stay what their status says.
func TestRateLimitWait(t *testing.T) {
	secondary := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`)
	}
	s := newServer(t, secondary, status(403), status(200))
	var asked []string
	hook := func(status int, h http.Header, msg string) (time.Duration, bool) {
		asked = append(asked, msg)
		return 300 * time.Millisecond, strings.Contains(msg, "secondary rate limit")
	}
	c := newClient(t, s.URL, Options{RateLimitWait: hook})
	err := c.DoJSON(context.Background(), Request{Method: "GET", Path: "/"}, nil, nil)
	if !errors.Is(err, connector.ErrForbidden) {
		t.Fatalf("a plain 403 after the limit: %v, want ErrForbidden", err)
	}
	hits := s.seen()
	if len(hits) != 2 || hits[1].at.Sub(hits[0].at) < 250*time.Millisecond {
		t.Fatalf("%d requests; the retry must wait the hook's 300 ms", len(hits))
	}
	if st := c.Stats(); st.RateLimited != 1 || len(asked) != 2 {
		t.Fatalf("stats %+v, hook asked %d times", st, len(asked))
	}
	// A Retry-After answers the question itself: the hook is not asked.
	s2 := newServer(t, status(429, "Retry-After", "0"), status(200))
	asked = nil
	c2 := newClient(t, s2.URL, Options{RateLimitWait: hook})
	if err := c2.DoJSON(context.Background(), Request{Method: "GET", Path: "/"}, nil, nil); err != nil || len(asked) != 0 {
		t.Fatalf("Retry-After answer: %v, hook asked %d times", err, len(asked))
	}
}

// TestSentValuesHiddenFromErrors: a system that refuses a write and
// quotes the values it was sent (as the sandbox, RT and Jira do) gets an
// error that names their digests instead, in its message and in the body
// snippet alike; the message keeps its words.
func TestSentValuesHiddenFromErrors(t *testing.T) {
	const value = "CANARY-a7f3 the customer's secret plan"
	const line = "second line of the description, also private"
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(422) // a server quoting what it got, as JSON and as text
		fmt.Fprintf(w, `{"error":{"field":"labels","message":"label \"%s\" is not valid; %s; status open is closed to addresses"},"got":%s}`,
			value, line, body)
	})
	var logs bytes.Buffer
	c := newClient(t, s.URL, Options{System: "sys1", Log: zerolog.New(&logs).Level(zerolog.DebugLevel)})
	in := map[string]any{"labels": []string{value}, "description": "first line\n" + line, "status": "open", "n": 12345}
	err := c.DoJSON(context.Background(), Request{Method: "POST", Path: "/api/items"}, in, nil)
	if !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	var se *StatusError
	errors.As(err, &se)
	for what, text := range map[string]string{"log": logs.String(), "error": err.Error(), "body": se.Body} {
		for _, v := range []string{value, line, "12345"} {
			if strings.Contains(text, v) {
				t.Errorf("%s quotes %q: %s", what, v, text)
			}
		}
	}
	for _, want := range []string{"labels: label \"" + connector.Digest(value) + "\" is not valid", connector.Digest(line), "status " + connector.Digest("open") + " is closed to addresses"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
