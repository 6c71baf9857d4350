package github

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// newHookServer receives webhook deliveries and hands each to got.
func newHookServer(t *testing.T, got func(http.Header, []byte)) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got(r.Header.Clone(), b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestPacer checks the reserved moments against GitHub's limits with a
// clock that only moves when told: a gap between writes, at most perMinute
// creations in any minute and perHour in any hour, and a refusal instead
// of a wait longer than maxPaceWait.
func TestPacer(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := newPacer(time.Second, 80, 500, time.Minute, clk.Now)
	var created []time.Time
	for range 500 {
		at, _, err := p.reserve(true)
		if errors.Is(err, connector.ErrRateLimited) {
			clk.Add(time.Minute) // as the engine would: try again later
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if n := len(created); n > 0 && at.Sub(created[n-1]) < time.Second {
			t.Fatalf("writes %v apart", at.Sub(created[n-1]))
		}
		created = append(created, at)
	}
	for i := range created {
		inMinute, inHour := 0, 0
		for _, x := range created[:i+1] {
			if x.After(created[i].Add(-time.Minute)) {
				inMinute++
			}
			if x.After(created[i].Add(-time.Hour)) {
				inHour++
			}
		}
		if inMinute > 80 || inHour > 500 {
			t.Fatalf("at %v: %d creations in a minute, %d in an hour", created[i], inMinute, inHour)
		}
	}
	// The hour's budget is spent: the next creation would wait for most of
	// an hour, which the pacer refuses, while a plain edit goes on.
	clk = agenttest.NewClock(created[len(created)-1])
	p.now = clk.Now
	if len(created) == 500 {
		if _, _, err := p.reserve(true); !errors.Is(err, connector.ErrRateLimited) {
			t.Fatalf("501st creation within the hour: %v", err)
		}
	}
	if _, _, err := p.reserve(false); err != nil {
		t.Fatalf("an edit: %v", err)
	}
}

func TestMarkerText(t *testing.T) {
	for _, tc := range []struct{ text, token, link string }{
		{"", "lockstep:o1:HELP-1", "https://jira.example/browse/HELP-1"},
		{"Body.\n", "lockstep:o1:A-1", ""},
		{"ends with two\n\n", "lockstep:o1:odd key--with > and %", "https://x.example/a b"},
		{"line\r\nline", "lockstep:a:12", ""},
	} {
		written := withMarker(tc.text, tc.token, tc.link)
		if strings.Count(written, "<!--") != 1 || strings.Contains(written[strings.Index(written, "<!--")+4:len(written)-3], "--") {
			t.Fatalf("written %q is not one clean HTML comment", written)
		}
		rest, token, link := splitMarker(written)
		if rest != tc.text || token != tc.token || link != tc.link {
			t.Fatalf("splitMarker(%q) = %q, %q, %q; want %q, %q, %q", written, rest, token, link, tc.text, tc.token, tc.link)
		}
		if again := withMarker(written, tc.token, tc.link); again != written {
			t.Fatalf("writing the marker again gave %q, want %q", again, written)
		}
	}
	if got := bareToken("<!-- lockstep:a:9 -->"); got != "lockstep:a:9" {
		t.Fatalf("bareToken = %q", got)
	}
	if rest, token, _ := splitMarker("no marker <!-- a comment -->"); token != "" || rest != "no marker <!-- a comment -->" {
		t.Fatalf("a plain comment: %q, %q", rest, token)
	}
}

func TestNextPage(t *testing.T) {
	// The example of "Using pagination in the REST API".
	link := `<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", <https://api.github.com/repositories/1300192/issues?page=4>; rel="next", ` +
		`<https://api.github.com/repositories/1300192/issues?page=515>; rel="last", <https://api.github.com/repositories/1300192/issues?page=1>; rel="first"`
	if n := nextPage(link); n != 4 {
		t.Fatalf("nextPage = %d, want 4", n)
	}
	for _, l := range []string{"", `<https://x/?page=1>; rel="first"`, `<https://x/?page=abc>; rel="next"`, `garbage`} {
		if n := nextPage(l); n != 0 {
			t.Fatalf("nextPage(%q) = %d", l, n)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	k := changesCursor{since: time.Unix(1700000000, 0).UTC(), page: 3, boundary: time.Unix(1700000001, 0).UTC(), seen: []int{4, 9}}
	got, err := parseCursor(k.String())
	if err != nil || got.String() != k.String() || !got.since.Equal(k.since) || got.page != 3 || len(got.seen) != 2 {
		t.Fatalf("parseCursor(%q) = %+v, %v", k.String(), got, err)
	}
	for _, bad := range []string{"", "v1;;0;;", "v1;x;1;;", "v1;;1;;a", "v2;;1;;"} {
		if _, err := parseCursor(bad); !errors.Is(err, connector.ErrInvalid) {
			t.Errorf("parseCursor(%q): %v", bad, err)
		}
	}
}
