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
// clients of the system spend the same budget). Reservations may drive a
// bucket negative: each caller learns how long to wait for its own token,
// so concurrent callers queue fairly instead of racing for refills.
type limiter struct {
	mu  sync.Mutex
	own *bucket // nil: no cap of our own
	// srv mirrors the server's policy, parsed from policy.
	srv    []*bucket
	policy string
	// seq numbers reservations. A response to reservation n describes the
	// server's count before it saw the ones made after n.
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

// take spends a token and says how long until it is really there.
func (b *bucket) take(now time.Time) time.Duration {
	b.advance(now)
	b.tokens--
	return b.wait()
}

// wait is how long the last token taken has to wait for its refill.
func (b *bucket) wait() time.Duration {
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.perSec * float64(time.Second))
}

func (b *bucket) give(now time.Time) {
	b.advance(now)
	b.tokens = math.Min(b.burst, b.tokens+1)
}

var (
	limitersMu sync.Mutex
	limiters   = map[string]*limiter{}
)

// sharedLimiter returns the limiter of key (a new one for ""), set to rpm.
// Each Client given a keyed limiter is one of its users until it closes.
func sharedLimiter(key string, rpm int, now time.Time) *limiter {
	if key == "" {
		l := &limiter{}
		l.setRate(rpm, now)
		return l
	}
	limitersMu.Lock()
	defer limitersMu.Unlock()
	l, ok := limiters[key]
	if !ok {
		l = &limiter{}
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

// reserve takes a token from every bucket and says how long to wait before
// using them, and the reservation's number for observe.
func (l *limiter) reserve(now time.Time) (time.Duration, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	var d time.Duration
	for _, b := range l.buckets() {
		d = max(d, b.take(now))
	}
	return d, l.seq
}

// unreserve returns the tokens of a caller that gave up waiting.
func (l *limiter) unreserve(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.buckets() {
		b.give(now)
	}
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
// the number of the reservation the request was sent under.
//
// The policy sets the mirrored buckets. Remaining caps the bucket whose
// size X-RateLimit-Limit names (all of them when it names none), less the
// reservations made since this one, which the server had not counted yet.
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
			l.srv = append(l.srv, newBucket(float64(q.quota)/q.window.Seconds(), q.burst, now))
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
