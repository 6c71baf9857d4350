package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
)

const testToken = "test-token-0123456789"

func newClock() *agenttest.Clock {
	return agenttest.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
}

// newTest starts a sandbox with the demo projects and an HTTP front.
func newTest(t *testing.T, o Options) (*Server, *httptest.Server) {
	t.Helper()
	if o.Users == nil {
		o.Users = DemoUsers()
	}
	if o.Projects == nil {
		o.Projects = DemoProjects()
	}
	o.Tokens = append(o.Tokens, Token{Value: testToken, User: "alice"}, Token{Value: "read-only-token", User: "bob", ReadOnly: true})
	if o.Seed == 0 {
		o.Seed = 1
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, hs
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r result) errorBody(t *testing.T) Error {
	t.Helper()
	var e struct{ Error Error }
	r.decode(t, &e)
	return e.Error
}

// call sends one request with the test token (token "" sends none).
func call(t *testing.T, hs *httptest.Server, token, method, path string, body any, hdr ...string) result {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, hs.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: data}
}

func mustItem(t *testing.T, s *Server, n NewItem) Item {
	t.Helper()
	it, err := s.Store().CreateItem(n)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
