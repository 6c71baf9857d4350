package httpx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestLimiterTokens: a token is spent only when one is there; the caller
// told to wait spends nothing, and the wait counts from the moment it asks.
func TestLimiterTokens(t *testing.T) {
	start := time.Unix(1000, 0)
	l := newLimiter()
	l.setRate(120, start) // 2 per second, burst 2
	for i := range 2 {
		if w, n, _ := l.take(start); w != 0 || n != uint64(i+1) {
			t.Fatalf("take %d: wait %v, token %d", i, w, n)
		}
	}
	w, n, byServer := l.take(start)
	if w != 500*time.Millisecond || n != 0 || byServer {
		t.Fatalf("empty bucket: wait %v, token %d, by the server %v", w, n, byServer)
	}
	// Taken late, a token leaves the next wait a whole refill from then.
	late := start.Add(750 * time.Millisecond)
	if w, n, _ := l.take(late); w != 0 || n != 3 {
		t.Fatalf("after the refill: wait %v, token %d", w, n)
	}
	if w, _, _ := l.take(late); w != 250*time.Millisecond {
		t.Fatalf("next wait %v, want 250 ms (half a token left)", w)
	}
	off := newLimiter()
	off.setRate(0, start)
	if w, _, _ := off.take(start); w != 0 {
		t.Fatal("rpm 0 must not limit")
	}
}

func TestLimiterRateUnderConcurrency(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
	}))
	defer s.Close()
	c := newClient(t, s.URL, Options{RequestsPerMinute: 1200}) // 20/s, burst 20
	start := time.Now()
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			if err := c.DoJSON(context.Background(), Request{Method: "GET", Path: "/"}, nil, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// 20 go at once, the other 10 at 50 ms intervals: about 0.5 s. The
	// upper bound only catches pacing far too slow (a pause to a reset, or
	// 1/s: 10 s); a busy machine stays well inside it.
	if d := time.Since(start); d < 450*time.Millisecond || d > 8*time.Second {
		t.Fatalf("30 requests at 20/s with burst 20 took %v", d)
	}
	if len(times) != 30 {
		t.Fatalf("%d requests", len(times))
	}
}

func TestHeaderParsing(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		header, value string
		want          time.Duration
		ok            bool
	}{
		{"Retry-After", "5", 5 * time.Second, true},
		{"Retry-After", "Sat, 01 Mar 2025 12:00:30 GMT", 30 * time.Second, true},
		{"Retry-After", "Sat, 01 Mar 2025 11:00:00 GMT", 0, true},
		{"Retry-After", "soon", 0, false},
		{"X-RateLimit-Reset", "1740830410", 10 * time.Second, true}, // Unix seconds
		{"X-RateLimit-Reset", "1740830400.250", 250 * time.Millisecond, true},
		{"RateLimit-Reset", "7", 7 * time.Second, true},               // seconds from now
		{"X-RateLimit-Reset", "2025-03-01T12:01Z", time.Minute, true}, // Jira
		{"X-RateLimit-Reset", "2025-03-01T12:00:02.5Z", 2500 * time.Millisecond, true},
	}
	for _, tc := range tests {
		h := http.Header{}
		h.Set(tc.header, tc.value)
		var got time.Duration
		var ok bool
		if tc.header == "Retry-After" {
			got, ok = retryAfter(h, now)
		} else {
			var at time.Time
			at, ok = rateReset(h, now)
			got = at.Sub(now)
		}
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("%s: %s = %v %v, want %v %v", tc.header, tc.value, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in   string
		want []quota
	}{
		{"10;w=1", []quota{{10, time.Second, 10}}},
		{"20;w=1;burst=5, 600;w=60", []quota{{20, time.Second, 5}, {600, time.Minute, 600}}},
		{`"default";q=100;w=60`, []quota{{100, time.Minute, 100}}},
		{"5;w=0.25", []quota{{5, 250 * time.Millisecond, 5}}},
		{"10", nil},      // no window: unusable
		{"x;w=1", nil},   // no quota
		{"0;w=1", nil},   // nothing to pace by
		{"10;w=-1", nil}, // nonsense window
		{"", nil},
	}
	for _, tc := range tests {
		got := parsePolicy(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// limitHeaders are one response's rate-limit headers.
func limitHeaders(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// TestLimiterMirrorsPolicy: with the server's policy known, Remaining 0
// and a Reset rounded up to the next second do not stall the system until
// that second: the mirrored bucket paces the next request at the refill
// rate. A window budget's far Reset still pauses.
func TestLimiterMirrorsPolicy(t *testing.T) {
	now := time.Unix(1740830400, 100*int64(time.Millisecond)) // Reset is Unix time above 10^9
	reset := strconv.FormatInt(now.Unix()+1, 10)              // rounded up: 900 ms away
	l := newLimiter()
	_, ticket, _ := l.take(now)
	l.observe(limitHeaders("RateLimit-Policy", "20;w=1;burst=5", "X-RateLimit-Limit", "5",
		"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset), now, ticket)
	if p := l.paused(now); p > 0 {
		t.Fatalf("paused %v for a bucket that refills every 50 ms", p)
	}
	// One refill (50 ms) and the margin (5% of it).
	if d, _, byServer := l.take(now); d != 52500*time.Microsecond || !byServer {
		t.Fatalf("next request waits %v (by the server's policy: %v), want 52.5 ms", d, byServer)
	}
	// Two more tokens taken before the next answer was read: the server
	// had not counted them, so its Remaining 2 leaves none.
	later := now.Add(200 * time.Millisecond)
	_, t2, _ := l.take(later)
	l.take(later)
	l.take(later)
	l.observe(limitHeaders("RateLimit-Policy", "20;w=1;burst=5", "X-RateLimit-Limit", "5",
		"X-RateLimit-Remaining", "2", "X-RateLimit-Reset", reset), later, t2)
	if got := l.srv[0].tokens; got > 0 {
		t.Fatalf("mirror holds %v tokens, the server has none left for new requests", got)
	}

	// A minute budget spent: Reset is the minute's end, far beyond a refill.
	w := newLimiter()
	_, ticket, _ = w.take(now)
	w.observe(limitHeaders("RateLimit-Policy", "600;w=60", "X-RateLimit-Limit", "600",
		"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Unix()+40, 10)), now, ticket)
	if p := w.paused(now); p < 39*time.Second {
		t.Fatalf("paused %v, the budget is spent for 40 s", p)
	}

	// No policy: Remaining 0 pauses until Reset, as systems without one ask.
	n := newLimiter()
	_, ticket, _ = n.take(now)
	n.observe(limitHeaders("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset), now, ticket)
	if p := n.paused(now); p != 900*time.Millisecond {
		t.Fatalf("paused %v without a policy, want until Reset", p)
	}
}
