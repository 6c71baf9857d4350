package sandbox

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Knobs make the sandbox behave like a busy or flaky production system.
// They apply to /api/ requests only; /admin/ stays reachable so a test can
// always turn them back off.
type Knobs struct {
	// Latency is added to every request, plus a uniform random part up to
	// Jitter.
	Latency time.Duration
	Jitter  time.Duration
	// ErrorRate is the fraction (0-1) of requests answered with
	// ErrorStatus (default 503) before they touch any data, so a retry is
	// always safe.
	ErrorRate   float64
	ErrorStatus int
	// RatePerSecond and Burst are a token bucket: a request finding it
	// empty gets 429 with Retry-After. Burst 0 means one second's worth.
	RatePerSecond float64
	Burst         int
	// PerMinute caps requests per wall-clock minute: once spent, requests
	// get 429 until the minute rolls over.
	PerMinute int
}

type knobsWire struct {
	LatencyMs     float64 `json:"latencyMs"`
	JitterMs      float64 `json:"jitterMs"`
	ErrorRate     float64 `json:"errorRate"`
	ErrorStatus   int     `json:"errorStatus"`
	RatePerSecond float64 `json:"ratePerSecond"`
	Burst         int     `json:"burst"`
	PerMinute     int     `json:"perMinute"`
}

// MarshalJSON writes durations as milliseconds.
func (k Knobs) MarshalJSON() ([]byte, error) {
	return json.Marshal(knobsWire{
		LatencyMs: ms(k.Latency), JitterMs: ms(k.Jitter), ErrorRate: k.ErrorRate, ErrorStatus: k.ErrorStatus,
		RatePerSecond: k.RatePerSecond, Burst: k.Burst, PerMinute: k.PerMinute,
	})
}

// UnmarshalJSON reads only the members present, over the current values,
// so {"errorRate":0} changes nothing else.
func (k *Knobs) UnmarshalJSON(b []byte) error {
	w := knobsWire{LatencyMs: ms(k.Latency), JitterMs: ms(k.Jitter), ErrorRate: k.ErrorRate, ErrorStatus: k.ErrorStatus,
		RatePerSecond: k.RatePerSecond, Burst: k.Burst, PerMinute: k.PerMinute}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	*k = Knobs{Latency: fromMs(w.LatencyMs), Jitter: fromMs(w.JitterMs), ErrorRate: w.ErrorRate, ErrorStatus: w.ErrorStatus,
		RatePerSecond: w.RatePerSecond, Burst: w.Burst, PerMinute: w.PerMinute}
	return nil
}

func ms(d time.Duration) float64     { return float64(d) / float64(time.Millisecond) }
func fromMs(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// Validate checks ranges and fills defaults.
func (k Knobs) Validate() (Knobs, error) {
	switch {
	case k.Latency < 0 || k.Jitter < 0 || k.Latency > time.Minute || k.Jitter > time.Minute:
		return k, invalid("latencyMs", "latency and jitter must be 0-60000 ms")
	case k.ErrorRate < 0 || k.ErrorRate > 1 || math.IsNaN(k.ErrorRate):
		return k, invalid("errorRate", "must be between 0 and 1")
	case k.ErrorStatus != 0 && (k.ErrorStatus < 500 || k.ErrorStatus > 599):
		return k, invalid("errorStatus", "must be a 5xx status")
	case k.RatePerSecond < 0 || math.IsNaN(k.RatePerSecond) || k.Burst < 0 || k.PerMinute < 0:
		return k, invalid("ratePerSecond", "rates must be >= 0")
	}
	if k.ErrorStatus == 0 {
		k.ErrorStatus = http.StatusServiceUnavailable
	}
	if k.RatePerSecond > 0 && k.Burst == 0 {
		k.Burst = max(1, int(math.Ceil(k.RatePerSecond)))
	}
	return k, nil
}

// guard applies the knobs. One mutex covers the random source (so a seeded
// sandbox answers a sequence of requests the same way every run) and the
// limiter state.
type guard struct {
	mu     sync.Mutex
	knobs  Knobs
	rng    *rand.Rand
	tokens float64
	last   time.Time
	minute time.Time // start of the budget's current minute
	used   int
}

func newGuard(k Knobs, seed uint64) *guard {
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &guard{knobs: k, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), tokens: float64(k.Burst)}
}

func (g *guard) set(k Knobs) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if k.RatePerSecond != g.knobs.RatePerSecond || k.Burst != g.knobs.Burst {
		g.tokens, g.last = float64(k.Burst), time.Time{}
	}
	g.knobs = k
}

func (g *guard) get() Knobs {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.knobs
}

// delay is the latency to add to one request.
func (g *guard) delay() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.knobs.Latency
	if g.knobs.Jitter > 0 {
		d += time.Duration(g.rng.Int64N(int64(g.knobs.Jitter) + 1))
	}
	return d
}

// fault returns the status to fail a request with, or 0.
func (g *guard) fault() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.knobs.ErrorRate > 0 && g.rng.Float64() < g.knobs.ErrorRate {
		return g.knobs.ErrorStatus
	}
	return 0
}

// verdict is the rate limiter's answer for one request.
type verdict struct {
	limited    bool
	retryAfter int // seconds, for Retry-After
	headers    bool
	limit      int
	remaining  int
	reset      int64 // Unix seconds
	policy     string
}

func (v verdict) write(h http.Header) {
	if !v.headers {
		return
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(v.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(v.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(v.reset, 10))
	h.Set("RateLimit-Policy", v.policy)
	if v.limited {
		h.Set("Retry-After", strconv.Itoa(v.retryAfter))
	}
}

// admit spends one request from the token bucket and the minute budget.
// X-RateLimit-Reset says when the next request will be admitted (Unix
// seconds, rounded up); when both limits are on, the headers describe the
// tighter one. Refused requests spend nothing.
func (g *guard) admit(now time.Time) verdict {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := g.knobs
	var v verdict
	var bucketWait time.Duration
	if k.RatePerSecond > 0 {
		if !g.last.IsZero() && now.After(g.last) {
			g.tokens = math.Min(float64(k.Burst), g.tokens+now.Sub(g.last).Seconds()*k.RatePerSecond)
		}
		g.last = now
		if g.tokens < 1 {
			bucketWait = time.Duration((1 - g.tokens) / k.RatePerSecond * float64(time.Second))
		}
	}
	minuteEnd := now.Truncate(time.Minute).Add(time.Minute)
	if k.PerMinute > 0 {
		if start := now.Truncate(time.Minute); !start.Equal(g.minute) {
			g.minute, g.used = start, 0
		}
	}
	budgetSpent := k.PerMinute > 0 && g.used >= k.PerMinute
	switch {
	case budgetSpent:
		v = verdict{limited: true, retryAfter: ceilSeconds(minuteEnd.Sub(now))}
	case bucketWait > 0:
		v = verdict{limited: true, retryAfter: ceilSeconds(bucketWait)}
	default:
		if k.RatePerSecond > 0 {
			g.tokens--
		}
		if k.PerMinute > 0 {
			g.used++
		}
	}
	if k.RatePerSecond <= 0 && k.PerMinute <= 0 {
		return v
	}
	v.headers, v.policy = true, k.policy()
	bucketRemaining := math.MaxInt
	if k.RatePerSecond > 0 {
		bucketRemaining = max(0, int(math.Floor(g.tokens)))
	}
	budgetRemaining := math.MaxInt
	if k.PerMinute > 0 {
		budgetRemaining = k.PerMinute - g.used
	}
	if budgetRemaining <= bucketRemaining {
		v.limit, v.remaining = k.PerMinute, budgetRemaining
		v.reset = minuteEnd.Unix()
		if budgetRemaining > 0 {
			v.reset = now.Unix()
		}
	} else {
		v.limit, v.remaining = k.Burst, bucketRemaining
		next := now
		if g.tokens < 1 {
			next = now.Add(time.Duration((1 - g.tokens) / k.RatePerSecond * float64(time.Second)))
		}
		v.reset = ceilUnix(next)
	}
	return v
}

// policy states the limits in RateLimit-Policy, in the IETF draft's
// `quota;w=window` form, so clients can pace at the budget instead of
// learning it from 429s: the bucket as its rate (per second, or per
// minute when fractional) with its size as `burst`, the minute budget as
// a quota per 60 s.
func (k Knobs) policy() string {
	var items []string
	if k.RatePerSecond > 0 {
		if r := k.RatePerSecond; r == math.Trunc(r) {
			items = append(items, fmt.Sprintf("%d;w=1;burst=%d", int64(r), k.Burst))
		} else {
			items = append(items, fmt.Sprintf("%d;w=60;burst=%d", max(1, int64(math.Floor(r*60))), k.Burst))
		}
	}
	if k.PerMinute > 0 {
		items = append(items, fmt.Sprintf("%d;w=60", k.PerMinute))
	}
	return strings.Join(items, ", ")
}

func ceilSeconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

func ceilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

// BindFlags registers command-line flags for the knobs on fs, for
// "lockstep-agent sandbox serve".
func (k *Knobs) BindFlags(fs *flag.FlagSet) {
	fs.DurationVar(&k.Latency, "latency", k.Latency, "added latency per API request")
	fs.DurationVar(&k.Jitter, "jitter", k.Jitter, "random extra latency, up to this")
	fs.Float64Var(&k.ErrorRate, "error-rate", k.ErrorRate, "fraction (0-1) of API requests failed with --error-status")
	fs.IntVar(&k.ErrorStatus, "error-status", k.ErrorStatus, "status of injected failures (5xx; 0 means 503)")
	fs.Float64Var(&k.RatePerSecond, "rate", k.RatePerSecond, "token-bucket rate limit in requests per second (0: none)")
	fs.IntVar(&k.Burst, "burst", k.Burst, "token-bucket size (0: one second's worth)")
	fs.IntVar(&k.PerMinute, "per-minute", k.PerMinute, "requests allowed per wall-clock minute (0: no budget)")
}
