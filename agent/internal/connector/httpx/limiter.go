package httpx

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// limiter keeps one system's requests within its budget. It holds up to
// three kinds of limit, and a request waits for the strictest:
//
//   - our own cap (Options.RequestsPerMinute): a token bucket refilling at
//     rpm/60 per second up to one second's worth (at least 1);
//   - the server's own policy, learned from RateLimit-Policy: one bucket
//     per advertised quota, mirroring the server's count so the client
//     paces at the budget instead of running into 429s;
//   - a pause, the server's word that nothing is admitted before a time:
//     a 429's Retry-After, or X-RateLimit-Remaining: 0 with a reset time.
//
// Every response's X-RateLimit-Remaining lowers the mirrored count (other
// clients of the system spend the same budget).
//
// A token is spent when its request leaves, never reserved ahead for a
// time to come: a sender the machine wakes late has then spent it late,
// and the next one waits a whole refill from there, as the server's own
// bucket counts. (Reservations made ahead, as golang.org/x/time/rate's
// are, keep their slots when an earlier request goes late; against a
// bucket of one, two requests then reach the server closer than its
// interval and the second is refused.) Callers take turns, one waiting
// for the next token at a time, so concurrent callers queue in order
// instead of racing for refills.
type limiter struct {
	// turn is held by the caller waiting for the next token.
	turn chan struct{}
	mu   sync.Mutex
	own  *bucket // nil: no cap of our own
	// srv mirrors the server's policy, parsed from policy.
	srv    []*bucket
	policy string
	// seq numbers the tokens taken. A response to the request of token n
	// describes the server's count before it saw the ones taken after n.
	seq        uint64
	pauseUntil time.Time
	// users counts the Clients holding a keyed limiter; limitersMu guards it.
	users int
}

// bucket is one token bucket.
type bucket struct {
	perSec float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(perSec, burst float64, now time.Time) *bucket {
	return &bucket{perSec: perSec, burst: burst, tokens: burst, last: now}
}

// advance refills the bucket.
func (b *bucket) advance(now time.Time) {
	if now.After(b.last) {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.perSec)
		b.last = now
	}
}

// wait is how long until the bucket holds a whole token.
func (b *bucket) wait(now time.Time) time.Duration {
	b.advance(now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - b.tokens) / b.perSec * float64(time.Second)))
}

// interval is the time one token takes to refill.
func (b *bucket) interval() time.Duration {
	return time.Duration(float64(time.Second) / b.perSec)
}

// The mirror of a server's policy paces a little below it: a request
// leaves at its token's time but reaches the server a moment later, and
// that moment varies (a loaded machine, the network). Against a bucket of
// one, the server refuses a request arriving even slightly closer than its
// interval after the one before. A twentieth of the interval, at most
// 50 ms, covers that jitter and costs at most 5% of the budget.
const (
	paceMargin    = 0.05
	maxPaceMargin = 50 * time.Millisecond
)

// pacedRate is q's rate of requests per second with the margin.
func pacedRate(q quota) float64 {
	interval := q.window.Seconds() / float64(q.quota)
	return 1 / (interval + min(interval*paceMargin, maxPaceMargin.Seconds()))
}

var (
	limitersMu sync.Mutex
	limiters   = map[string]*limiter{}
)

func newLimiter() *limiter { return &limiter{turn: make(chan struct{}, 1)} }

// sharedLimiter returns the limiter of key (a new one for ""), set to rpm.
// Each Client given a keyed limiter is one of its users until it closes.
func sharedLimiter(key string, rpm int, now time.Time) *limiter {
	if key == "" {
		l := newLimiter()
		l.setRate(rpm, now)
		return l
	}
	limitersMu.Lock()
	defer limitersMu.Unlock()
	l, ok := limiters[key]
	if !ok {
		l = newLimiter()
		limiters[key] = l
	}
	l.users++
	l.setRate(rpm, now)
	return l
}

// releaseLimiter ends one Client's use of key's limiter; the last user's
// release forgets it, so a deleted system leaves nothing behind. A Client
// that replaces another for the same system (its settings changed) is made
// before the old one is closed, so pauses and budgets carry over.
func releaseLimiter(key string, l *limiter) {
	limitersMu.Lock()
	defer limitersMu.Unlock()
	l.users--
	if l.users <= 0 && limiters[key] == l {
		delete(limiters, key)
	}
}

// setRate sets our own cap; rpm 0 removes it.
func (l *limiter) setRate(rpm int, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	perSec := float64(max(rpm, 0)) / 60
	switch {
	case perSec == 0:
		l.own = nil
	case l.own == nil || l.own.perSec != perSec:
		l.own = newBucket(perSec, math.Max(1, math.Floor(perSec)), now)
	}
}

func (l *limiter) buckets() []*bucket {
	if l.own == nil {
		return l.srv
	}
	return append([]*bucket{l.own}, l.srv...)
}

// take spends a token of every bucket when each holds one, and returns
// the token's number for observe. Otherwise it spends nothing and says how
// long until they all will, and whether the server's policy (a mirrored
// bucket) is what the request waits for.
func (l *limiter) take(now time.Time) (wait time.Duration, ticket uint64, byServer bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.buckets() {
		if d := b.wait(now); d > 0 {
			wait = max(wait, d)
			byServer = byServer || b != l.own
		}
	}
	if wait > 0 {
		return wait, 0, byServer
	}
	for _, b := range l.buckets() {
		b.tokens--
	}
	l.seq++
	return 0, l.seq, false
}

// drift reports whether a refusal asking for wait, of a request the
// server's policy paced, is within one refill of a mirrored bucket (plus a
// second: systems round their times up to whole seconds). That is what
// the server's clock running apart from ours costs, not a budget spent.
func (l *limiter) drift(wait time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.srv {
		if wait <= b.interval()+time.Second {
			return true
		}
	}
	return false
}

// pause holds requests until t (a later pause wins).
func (l *limiter) pause(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.After(l.pauseUntil) {
		l.pauseUntil = t
	}
}

func (l *limiter) paused(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pauseUntil.Sub(now)
}

// observe feeds a response's rate-limit headers to the limiter; ticket is
// the number of the token the request was sent with.
//
// The policy sets the mirrored buckets. Remaining caps the bucket whose
// size X-RateLimit-Limit names (all of them when it names none), less the
// tokens taken since this one, which the server had not counted yet.
// Remaining 0 pauses every request until Reset, unless a mirrored bucket
// already explains the wait: systems round Reset up to whole seconds,
// and sleeping to it would leave most of a fast budget unused.
func (l *limiter) observe(h http.Header, now time.Time, ticket uint64) {
	policy := strings.TrimSpace(h.Get("RateLimit-Policy"))
	rem, ok := headerInt(h, "X-RateLimit-Remaining", "RateLimit-Remaining")
	l.mu.Lock()
	defer l.mu.Unlock()
	if policy != "" && policy != l.policy {
		l.policy = policy
		l.srv = nil
		for _, q := range parsePolicy(policy) {
			l.srv = append(l.srv, newBucket(pacedRate(q), q.burst, now))
		}
	}
	if !ok {
		return
	}
	limit, hasLimit := headerInt(h, "X-RateLimit-Limit", "RateLimit-Limit")
	left := float64(rem) - float64(l.seq-ticket)
	var matched []*bucket
	for _, b := range l.srv {
		if !hasLimit || b.burst == float64(limit) {
			matched = append(matched, b)
		}
	}
	if len(matched) == 0 && l.own != nil && len(l.srv) == 0 {
		matched = []*bucket{l.own} // no policy: our own cap is the best mirror there is
	}
	var next time.Duration // when the mirror expects the server to admit again
	for _, b := range matched {
		b.advance(now)
		b.tokens = math.Min(b.tokens, left)
		next = max(next, time.Duration((1-b.tokens)/b.perSec*float64(time.Second)))
	}
	if rem > 0 {
		return
	}
	reset, ok := rateReset(h, now)
	if !ok || !reset.After(now) {
		return
	}
	if len(matched) > 0 && len(l.srv) > 0 && reset.Sub(now) <= next+time.Second {
		return // a bucket refill, with Reset rounded up: the mirror paces it
	}
	if reset.After(l.pauseUntil) {
		l.pauseUntil = reset
	}
}

// headerInt reads the first of names present as a whole number >= 0.
func headerInt(h http.Header, names ...string) (int, bool) {
	for _, n := range names {
		if v := strings.TrimSpace(h.Get(n)); v != "" {
			i, err := strconv.Atoi(v)
			return i, err == nil && i >= 0
		}
	}
	return 0, false
}

// quota is one policy of RateLimit-Policy.
type quota struct {
	quota  int
	window time.Duration
	burst  float64
}

// parsePolicy reads RateLimit-Policy in the IETF draft's forms, a list of
// `10;w=1` (drafts up to 06) or `"name";q=10;w=1` (07 on). A `burst`
// parameter (the sandbox's) is a token bucket's size, refilled at q per w;
// without it the whole quota may be spent at once. Items without a quota
// or a window are skipped.
func parsePolicy(v string) []quota {
	var out []quota
	for _, item := range strings.Split(v, ",") {
		parts := strings.Split(item, ";")
		q := quota{}
		if n, err := strconv.Atoi(strings.TrimSpace(parts[0])); err == nil {
			q.quota = n
		}
		for _, p := range parts[1:] {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			switch strings.TrimSpace(k) {
			case "q":
				q.quota, _ = strconv.Atoi(val)
			case "w":
				if s, err := strconv.ParseFloat(val, 64); err == nil && s > 0 && !math.IsInf(s, 0) {
					q.window = time.Duration(s * float64(time.Second))
				}
			case "burst":
				if b, err := strconv.Atoi(val); err == nil && b > 0 {
					q.burst = float64(b)
				}
			}
		}
		if q.quota <= 0 || q.window <= 0 {
			continue
		}
		if q.burst == 0 {
			q.burst = float64(q.quota)
		}
		out = append(out, q)
	}
	return out
}

// Sleep waits for d, or until ctx ends (its error then).
func Sleep(ctx context.Context, d time.Duration) error { return sleepCtx(ctx, d) }

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
