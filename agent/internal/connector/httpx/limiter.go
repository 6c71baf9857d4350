package httpx

import (
	"context"
	"math"
	"sync"
	"time"
)

// limiter is a token bucket plus a pause. The bucket keeps a system under
// its requests-per-minute: tokens refill at rpm/60 per second up to a burst
// of one second's worth (at least 1). Reservations may drive the count
// negative: each caller learns how long to wait for its own token, so
// concurrent callers queue fairly instead of racing for refills.
//
// The pause is the server's own word: X-RateLimit-Remaining: 0 with a reset
// time, or a 429's Retry-After, holds every request of the system until then.
type limiter struct {
	mu         sync.Mutex
	perSec     float64 // 0: no bucket
	burst      float64
	tokens     float64
	last       time.Time
	pauseUntil time.Time
}

var (
	limitersMu sync.Mutex
	limiters   = map[string]*limiter{}
)

// sharedLimiter returns the limiter of key (a new one for ""), set to rpm.
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
	l.setRate(rpm, now)
	return l
}

func (l *limiter) setRate(rpm int, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	perSec := float64(max(rpm, 0)) / 60
	if perSec == l.perSec {
		return
	}
	l.perSec = perSec
	l.burst = math.Max(1, math.Floor(perSec))
	l.tokens, l.last = l.burst, now
}

// advance refills the bucket; callers hold mu.
func (l *limiter) advance(now time.Time) {
	if now.After(l.last) {
		l.tokens = math.Min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.perSec)
		l.last = now
	}
}

// reserve takes a token and says how long to wait before using it.
func (l *limiter) reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perSec == 0 {
		return 0
	}
	l.advance(now)
	l.tokens--
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens / l.perSec * float64(time.Second))
}

// unreserve returns a token whose holder gave up waiting.
func (l *limiter) unreserve(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perSec == 0 {
		return
	}
	l.advance(now)
	l.tokens = math.Min(l.burst, l.tokens+1)
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
