package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// strictServer is a system with a bucket of one, as a RoundTripper: it
// admits a request only when it arrives at least gap after the last one
// admitted, and answers 429 with Retry-After 1 otherwise. Every answer
// states policy and that nothing is left. It runs on the clock of the
// synctest bubble, so the tests below are exact, whatever the machine.
type strictServer struct {
	policy string
	gap    time.Duration
	// transit delays the i-th request's arrival (the network, a loaded
	// server; the last value repeats); answerAfter delays every answer
	// after the server's verdict (its work on the request).
	transit     []time.Duration
	answerAfter time.Duration

	// refuseAll answers every request 429.
	refuseAll bool

	mu                   sync.Mutex
	last                 time.Time
	n, admitted, refused int
}

func (s *strictServer) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	var d time.Duration
	if len(s.transit) > 0 {
		d = s.transit[min(s.n, len(s.transit)-1)]
	}
	s.n++
	s.mu.Unlock()
	time.Sleep(d)

	defer time.Sleep(s.answerAfter)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	h := http.Header{"Ratelimit-Policy": {s.policy}, "X-Ratelimit-Limit": {"1"}, "X-Ratelimit-Remaining": {"0"}}
	code := http.StatusOK
	if s.refuseAll || (!s.last.IsZero() && now.Sub(s.last) < s.gap) {
		code = http.StatusTooManyRequests
		h.Set("Retry-After", "1")
		s.refused++
	} else {
		s.last = now
		s.admitted++
	}
	return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

func (s *strictServer) counts() (admitted, refused int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.admitted, s.refused
}

func strictClient(t *testing.T, s *strictServer, o Options) *Client {
	o.HTTPClient = &http.Client{Transport: s}
	return newClient(t, "https://system.test", o)
}

func get(c *Client) error {
	return c.DoJSON(context.Background(), Request{Method: "GET", Path: "/"}, nil, nil)
}

// twoAtOnce makes two calls at once.
func twoAtOnce(t *testing.T, c *Client) {
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if err := get(c); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// TestLateSenderDoesNotBunch: two callers wait for a system that admits
// one request a second. The machine wakes the first one half a second
// late; the second must still reach the server a whole interval after it,
// not at the time it was due, half a second after the first.
func TestLateSenderDoesNotBunch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &strictServer{policy: "1;w=1;burst=1", gap: time.Second}
		c := strictClient(t, s, Options{})
		if err := get(c); err != nil { // learns the policy: nothing left
			t.Fatal(err)
		}
		var late atomic.Bool
		c.sleep = func(ctx context.Context, d time.Duration) error {
			if d <= 1100*time.Millisecond && late.CompareAndSwap(false, true) {
				d += 500 * time.Millisecond // the first sender wakes late
			}
			return sleepCtx(ctx, d)
		}
		twoAtOnce(t, c)
		if admitted, refused := s.counts(); !late.Load() || admitted != 3 || refused != 0 {
			t.Fatalf("admitted %d, refused %d (a sender woke late: %v)", admitted, refused, late.Load())
		}
	})
}

// TestMarginAbsorbsTransit: a system that takes two seconds to answer,
// so a caller's token is taken before the answer to the one before is
// read. The first of two callers' requests takes 30 ms longer to reach the
// server than the second's: paced at exactly the policy, the second would
// arrive 970 ms after it and be refused.
func TestMarginAbsorbsTransit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &strictServer{policy: "1;w=1;burst=1", gap: time.Second, answerAfter: 2 * time.Second,
			transit: []time.Duration{0, 30 * time.Millisecond, 0}}
		c := strictClient(t, s, Options{})
		if err := get(c); err != nil { // learns the policy: nothing left
			t.Fatal(err)
		}
		twoAtOnce(t, c)
		if admitted, refused := s.counts(); admitted != 3 || refused != 0 {
			t.Fatalf("admitted %d, refused %d", admitted, refused)
		}
	})
}

// TestDriftKeepsAttempts: a server whose clock runs slow (it states one
// request a second but wants 1.2 s between them) refuses a request the
// policy paced. That refusal does not use up an attempt, so a call with a
// single attempt still comes through. A system refusing everything still
// ends the call, after MaxAttempts such refusals more at most, with its
// own error.
func TestDriftKeepsAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &strictServer{policy: "1;w=1;burst=1", gap: 1200 * time.Millisecond}
		c := strictClient(t, s, Options{MaxAttempts: 1})
		for range 2 {
			if err := get(c); err != nil {
				t.Fatal(err)
			}
		}
		if admitted, refused := s.counts(); admitted != 2 || refused != 1 {
			t.Fatalf("admitted %d, refused %d, want one refusal of drift", admitted, refused)
		}

		// The first refusal comes before the policy is known: a genuine
		// attempt. Then two refusals of paced requests are free, and the
		// third is the call's second and last attempt.
		always := &strictServer{policy: "1;w=1;burst=1", refuseAll: true}
		c = strictClient(t, always, Options{MaxAttempts: 2})
		err := get(c)
		var se *StatusError
		if !errors.Is(err, connector.ErrRateLimited) || !errors.As(err, &se) || se.Attempts != 4 {
			t.Fatalf("err = %v, want a 429 after 4 attempts", err)
		}
		if _, refused := always.counts(); refused != 4 {
			t.Fatalf("%d requests refused, want 4", refused)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPauseFailsFastForEveryCaller: while one caller sleeps out a system's
// pause, another whose budget the pause overruns fails at once instead of
// queueing behind it.
func TestPauseFailsFastForEveryCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			code, h := http.StatusOK, http.Header{}
			if calls.Add(1) == 1 {
				code = http.StatusTooManyRequests
				h.Set("Retry-After", "60")
			}
			return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
		})}
		patient := newClient(t, "https://system.test", Options{HTTPClient: hc, LimiterKey: t.Name(), MaxAttempts: 1})
		hasty := newClient(t, "https://system.test", Options{HTTPClient: hc, LimiterKey: t.Name(), MaxElapsed: 10 * time.Second})
		defer patient.Close() // the shared limiter belongs to this bubble: no other run may find it
		defer hasty.Close()
		if err := get(patient); !errors.Is(err, connector.ErrRateLimited) { // the system pauses for a minute
			t.Fatalf("first answer: %v", err)
		}
		done := make(chan error)
		go func() { done <- get(patient) }()
		synctest.Wait() // the patient caller sleeps out the pause
		start := time.Now()
		if err := get(hasty); !errors.Is(err, connector.ErrRateLimited) || time.Since(start) != 0 {
			t.Fatalf("hasty caller: %v after %v", err, time.Since(start))
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
