package httpx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestLimiterReservations(t *testing.T) {
	start := time.Unix(1000, 0)
	l := &limiter{}
	l.setRate(120, start) // 2 per second, burst 2
	var waits []time.Duration
	for range 5 {
		waits = append(waits, l.reserve(start))
	}
	want := []time.Duration{0, 0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
	// Three seconds on, the queue has drained and the bucket is full again.
	if w := l.reserve(start.Add(4 * time.Second)); w != 0 {
		t.Fatalf("after refill: %v", w)
	}
	l.unreserve(start.Add(4 * time.Second))
	if l.tokens != 2 {
		t.Fatalf("tokens %v after unreserve", l.tokens)
	}
	off := &limiter{}
	off.setRate(0, start)
	if off.reserve(start) != 0 {
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
	// 20 go at once, the other 10 at 50 ms intervals: about 0.5 s.
	if d := time.Since(start); d < 450*time.Millisecond || d > 2*time.Second {
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
