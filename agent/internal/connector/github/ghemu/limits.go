package ghemu

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// quota is one primary limit: a user's budget of one resource in a window.
type quota struct {
	limit   int
	used    int
	reset   time.Time
	refused bool // a request was refused for it in this window
}

// pointHit is a request's cost against the points limit.
type pointHit struct {
	at     time.Time
	points int
}

// window returns the primary quota of a user and resource, renewed when
// its window has passed: an hour for core and graphql, a minute for search.
func (e *Emu) window(u *User, resource string) *quota {
	key := u.Login + "/" + resource
	q := e.limits[key]
	now := e.o.Now()
	if q == nil || !now.Before(q.reset) {
		limit, span := e.o.CoreLimit, 60*e.o.Minute
		if resource == "search" {
			limit, span = e.o.SearchLimit, e.o.Minute
		}
		// x-ratelimit-reset is in whole epoch seconds: a window ends on
		// one, so a client that waits for it is never early.
		reset := now.Add(span)
		if r := reset.Truncate(time.Second); !r.Equal(reset) {
			reset = r.Add(time.Second)
		}
		q = &quota{limit: limit, reset: reset}
		e.limits[key] = q
	}
	return q
}

// rateHeaders sets the x-ratelimit-* headers ("Rate limits for the REST
// API": limit, remaining, used, reset in UTC epoch seconds, resource).
func rateHeaders(w http.ResponseWriter, q *quota, resource string) {
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(q.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, q.limit-q.used)))
	h.Set("X-RateLimit-Used", strconv.Itoa(q.used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(q.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", resource)
}

// admit applies the primary limit and the secondary limits before a
// request is served; it answers the refusal itself.
// It returns the quota as it stands before this request, for a 304's
// headers (a 304 is not charged).
func (e *Emu) admit(w http.ResponseWriter, r *http.Request, u *User, rt route, resource string) (quota, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.o.Now() // limits count real time, not GitHub's whole seconds
	q := e.window(u, resource)
	before := *q
	if q.used >= q.limit {
		if q.refused {
			e.stats.EarlyRetries++ // told to wait for the reset, and did not
		}
		q.refused = true
		e.stats.Primary++
		rateHeaders(w, q, resource)
		writeError(w, http.StatusForbidden, fmt.Sprintf("API rate limit exceeded for user %s. Wait until the limit resets.", u.Login))
		return before, false
	}
	// The headers as they will read once this request is charged.
	q.used++
	rateHeaders(w, q, resource)
	q.used--

	points := 1
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		points = 5
	}
	pointsKey := "points:" + u.Login + ":" + rt.pattern
	contentKey := "content:" + u.Login
	for _, key := range []string{pointsKey, contentKey} {
		if key == contentKey && !rt.create {
			continue
		}
		if until, ok := e.blocked[key]; ok && now.Before(until) {
			e.stats.EarlyRetries++
			e.secondary(w, until.Sub(now))
			return before, false
		}
	}
	minute, hour := e.o.Minute, 60*e.o.Minute
	hits := e.points[pointsKey]
	for len(hits) > 0 && !hits[0].at.After(now.Add(-minute)) {
		hits = hits[1:]
	}
	sum := points
	for _, h := range hits {
		sum += h.points
	}
	if sum > e.o.PointsPerMinute {
		e.points[pointsKey] = hits
		wait := hits[0].at.Add(minute).Sub(now)
		e.blocked[pointsKey] = now.Add(e.blockFor(wait))
		e.secondary(w, e.blockFor(wait))
		return before, false
	}
	e.points[pointsKey] = append(hits, pointHit{at: now, points: points})
	if rt.create {
		made := e.content[contentKey]
		for len(made) > 0 && !made[0].After(now.Add(-hour)) {
			made = made[1:]
		}
		e.content[contentKey] = made
		var wait time.Duration
		if n := len(made); n >= e.o.ContentPerHour {
			wait = made[n-e.o.ContentPerHour].Add(hour).Sub(now)
		}
		inMinute := 0
		for _, t := range made {
			if t.After(now.Add(-minute)) {
				inMinute++
			}
		}
		if inMinute >= e.o.ContentPerMinute {
			wait = max(wait, made[len(made)-e.o.ContentPerMinute].Add(minute).Sub(now))
		}
		if wait > 0 {
			e.blocked[contentKey] = now.Add(e.blockFor(wait))
			e.secondary(w, e.blockFor(wait))
			return before, false
		}
		e.content[contentKey] = append(made, now)
		e.stats.Created++
	}
	return before, true
}

// blockFor is how long a secondary limit holds: what the limit needs, or
// a minute when the answer says no time (GitHub's advice then).
func (e *Emu) blockFor(wait time.Duration) time.Duration {
	if e.o.NoRetryAfter {
		return max(wait, e.o.Minute)
	}
	return max(wait, time.Second)
}

// secondary answers a secondary rate limit.
func (e *Emu) secondary(w http.ResponseWriter, wait time.Duration) {
	e.stats.Secondary++
	if !e.o.NoRetryAfter {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	}
	writeError(w, e.o.SecondaryStatus, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "+
		"If you reach out to GitHub Support for help, please include the request ID 0000:1111:2222.")
}

// charge counts a served request against its primary limit.
func (e *Emu) charge(u *User, resource string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.window(u, resource).used++
	switch resource {
	case "search":
		e.stats.SearchUsed++
	default:
		e.stats.CoreUsed++
	}
}

// rateLimit is GET /rate_limit, which costs nothing.
func (e *Emu) rateLimit(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	res := map[string]any{}
	for _, name := range []string{"core", "search", "graphql"} {
		q := e.window(u, name)
		res[name] = map[string]any{"limit": q.limit, "used": q.used, "remaining": q.limit - q.used, "reset": q.reset.Unix()}
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"resources": res, "rate": res["core"]})
}
