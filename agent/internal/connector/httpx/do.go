package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// maxJSONResponse bounds a decoded answer; lists are paged well below it.
const maxJSONResponse = 32 << 20

// Request is one call to the system.
type Request struct {
	Method string
	// Path is joined to the base URL's path, e.g. "/api/items/12". Put
	// parameters in Query, never in Path.
	Path string
	// RawPath, when set, is Path as it must go on the wire: for a segment
	// holding an escaped slash, such as GitLab's URL-encoded project path
	// ("/projects/group%2Fapp"), which Path alone cannot say. It must
	// unescape to Path.
	RawPath string
	Query   url.Values
	Header  http.Header
	// Body streams the request content. An io.ReadSeeker (a file, a
	// bytes.Reader) can be sent again on a retry; another reader only if
	// the server refused before reading any of it.
	Body io.Reader
	// GetBody, when set, makes a fresh body for each attempt (it wins
	// over Body).
	GetBody func() (io.ReadCloser, error)
	// ContentLength of the body; 0 with a body means unknown (chunked).
	ContentLength int64
	// Idempotent marks a POST or PATCH as safe to repeat after an
	// ambiguous failure (an upsert, a full-value update, a write guarded
	// by If-Match). GET, HEAD, OPTIONS, PUT and DELETE always are. Other
	// requests are repeated only when the server surely did not act on
	// them: 429, 503, or no connection at all.
	Idempotent bool
}

var errIdle = errors.New("timed out")

// Do sends a request, retrying as the package comment describes. A status
// below 400 returns the response, whose body the caller must close; it
// streams, with the idle timeout still guarding each read. Anything else
// is an error: a *StatusError for a refusal, connector.ErrUnavailable for
// network failures, the context's error when ctx ends.
func (c *Client) Do(ctx context.Context, r Request) (*http.Response, error) {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + "/" + strings.TrimLeft(r.Path, "/")
	u.RawPath, u.RawQuery = "", r.Query.Encode()
	if r.RawPath != "" {
		// url.URL sends RawPath only when it is a valid escaping of Path.
		u.RawPath = strings.TrimRight(c.base.EscapedPath(), "/") + "/" + strings.TrimLeft(r.RawPath, "/")
	}
	path := loggedPath(&u)
	id := newRequestID()
	deadline := c.o.Now().Add(c.o.MaxElapsed)
	idempotent := r.Idempotent || slices.Contains([]string{"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}, r.Method)
	body := newBodySource(r)
	fail := func(err error) error { return fmt.Errorf("%s %s: %w", r.Method, path, err) }

	// drifts counts the refusals that did not use up an attempt (below),
	// at most MaxAttempts of them.
	drifts := 0
	for attempt := 1; ; attempt++ {
		ticket, paced, err := c.waitTurn(ctx, deadline)
		if err != nil {
			return nil, fail(err)
		}
		tb, err := body.open()
		if err != nil {
			return nil, fail(fmt.Errorf("open request body: %w", err))
		}
		resp, authValues, err := c.send(ctx, r, &u, path, id, attempt, tb, body.oneShot())
		now := c.o.Now()
		var last error
		var wait time.Duration
		retry := false
		if err != nil {
			c.o.Observer.Response(0, false)
			if ctx.Err() != nil {
				return nil, fail(ctx.Err())
			}
			last = fail(fmt.Errorf("%w: %w", connector.ErrUnavailable, err))
			retry, wait = idempotent || notSent(err), c.backoff(attempt)
		} else {
			c.lim.observe(resp.Header, now, ticket)
			if resp.StatusCode < 400 {
				c.o.Observer.Response(resp.StatusCode, false)
				return resp, nil
			}
			scrub := c.scrubber(authValues)
			if sent := sentValues(r); len(sent) > 0 {
				secrets := scrub
				scrub = func(s string) string { return connector.HideValues(secrets(s), sent) }
			}
			se := newStatusError(r.Method, path, id, resp, scrub)
			se.Attempts = attempt
			ra, told := retryAfter(resp.Header, now)
			if !told && c.o.RateLimitWait != nil {
				if d, ok := c.o.RateLimitWait(resp.StatusCode, resp.Header, se.Message); ok {
					se.Kind, ra, told = connector.ErrRateLimited, d, true
				}
			}
			se.RetryAfter = ra
			c.o.Observer.Response(resp.StatusCode, errors.Is(se.Kind, connector.ErrRateLimited))
			last, wait = se, c.backoff(attempt)
			if told {
				wait = ra
			}
			switch {
			case errors.Is(se.Kind, connector.ErrRateLimited):
				c.stats.rateLimited.Add(1)
				retry = true
				if reset, ok := rateReset(resp.Header, now); !told && ok && reset.After(now) {
					wait, told = reset.Sub(now), true
				}
				if told {
					c.lim.pause(now.Add(wait)) // the quota is the system's, not this call's
				}
				// The server's own policy paced this request and it still
				// came a refill early: its clock and ours drifted (a late
				// sender, the network). The wait is the server's word and
				// the request was never processed, so it is retried without
				// using up an attempt, as a genuine failure would; MaxElapsed,
				// and MaxAttempts more such refusals at most, still bound a
				// system that refuses everything.
				if paced && told && drifts < c.o.MaxAttempts && c.lim.drift(wait) {
					drifts++
				}
			case resp.StatusCode == http.StatusServiceUnavailable:
				retry = true // refused, not attempted
			case resp.StatusCode >= 500:
				retry = idempotent
			}
		}
		if !retry || attempt-drifts >= c.o.MaxAttempts || now.Add(wait).After(deadline) || !body.rewind(ctx) {
			return nil, last
		}
		c.stats.retries.Add(1)
		c.o.Observer.Wait("retry", wait)
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fail(fmt.Errorf("%w (while waiting to retry after: %v)", err, last))
		}
	}
}

// DoJSON sends in (when not nil) as JSON and decodes the answer into out
// (when not nil).
func (c *Client) DoJSON(ctx context.Context, r Request, in, out any) error {
	r, err := r.JSON(in, "")
	if err != nil {
		return err
	}
	resp, err := c.Do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return DecodeJSON(r, resp, out)
}

// JSON returns r asking for a JSON answer and, when in is not nil,
// carrying in encoded as JSON: a body every retry can send again, of
// contentType ("" is application/json; some APIs want a variant such as
// application/json-patch+json). r's header is copied, not changed.
func (r Request) JSON(in any, contentType string) (Request, error) {
	r.Header = r.Header.Clone()
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return r, fmt.Errorf("%s %s: encode the request: %w", r.Method, r.Path, err)
		}
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		r.ContentLength = int64(len(data))
		if contentType == "" {
			contentType = "application/json"
		}
		r.Header.Set("Content-Type", contentType)
	}
	r.Header.Set("Accept", "application/json")
	return r, nil
}

// DecodeJSON decodes the JSON answer to r into out, bounded in size; with
// out nil, or an answer of 204 No Content, it drains what little there is
// so the connection can be reused. The caller still closes the body.
func DecodeJSON(r Request, resp *http.Response, out any) error {
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJSONResponse)).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode the answer: %w: %w", r.Method, r.Path, connector.ErrUnavailable, err)
	}
	return nil
}

// waitTurn holds a request while the system is paused and until the rate
// limiter has a token for it, taken as it leaves. It returns the token's
// number, which the response's rate-limit headers are observed under, and
// whether the server's policy made the request wait.
func (c *Client) waitTurn(ctx context.Context, deadline time.Time) (ticket uint64, paced bool, err error) {
	for {
		// Callers sleep out a pause all at once, outside the turn, so
		// that each whose deadline it overruns fails at once.
		if err := c.waitPause(ctx, deadline); err != nil {
			return 0, false, err
		}
		select {
		case c.lim.turn <- struct{}{}:
		case <-ctx.Done():
			return 0, false, ctx.Err()
		}
		ticket, byServer, err := c.takeToken(ctx)
		<-c.lim.turn
		paced = paced || byServer
		if err != nil || ticket > 0 {
			return ticket, paced, err
		}
		// A pause began while this request waited (another request's
		// answer spent the quota): wait that out too.
	}
}

func (c *Client) waitPause(ctx context.Context, deadline time.Time) error {
	for {
		now := c.o.Now()
		p := c.lim.paused(now)
		if p <= 0 {
			return nil
		}
		if now.Add(p).After(deadline) {
			return fmt.Errorf("%w: the system asked for a pause until %s", connector.ErrRateLimited, now.Add(p).UTC().Format(time.RFC3339))
		}
		c.stats.paused.Add(1)
		c.o.Observer.Wait("rate_limit", p)
		if err := c.sleep(ctx, p); err != nil {
			return err
		}
	}
}

// takeToken waits, holding the turn, for the limiter's next token and
// takes it; it returns no token and no error when a pause begins
// meanwhile.
func (c *Client) takeToken(ctx context.Context) (ticket uint64, paced bool, err error) {
	for {
		now := c.o.Now()
		if c.lim.paused(now) > 0 {
			return 0, paced, nil
		}
		d, ticket, byServer := c.lim.take(now)
		if d <= 0 {
			return ticket, paced, ctx.Err()
		}
		paced = paced || byServer
		c.o.Observer.Wait("pace", d)
		if err := c.sleep(ctx, d); err != nil {
			return 0, paced, err
		}
	}
}

// send makes one attempt. It returns the values of the headers Auth set,
// for scrubbing.
func (c *Client) send(ctx context.Context, r Request, u *url.URL, path, id string, attempt int, tb *trackedBody, oneShot bool) (*http.Response, []string, error) {
	actx, cancel := context.WithCancelCause(ctx)
	idle := newWatchdog(c.o.Timeout, func() { cancel(errIdle) })
	req, err := http.NewRequestWithContext(actx, r.Method, u.String(), nil)
	if err != nil {
		idle.stop()
		cancel(nil)
		return nil, nil, fmt.Errorf("build request: %w", err)
	}
	if tb != nil {
		tb.touch = idle.touch
		req.Body, req.ContentLength = tb, r.ContentLength
		if oneShot && r.ContentLength != 0 {
			// Let the server refuse (401, 429, 503) before the body flows,
			// so a body that cannot be rewound can still be retried.
			req.Header.Set("Expect", "100-continue")
		}
	}
	for k, v := range r.Header {
		req.Header[k] = slices.Clone(v)
	}
	req.Header.Set("X-Request-Id", id)
	req.Header.Set("User-Agent", c.o.UserAgent)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	var authValues []string
	if c.o.Auth != nil {
		before := req.Header.Clone()
		c.o.Auth(req)
		for k, v := range req.Header {
			if !slices.Equal(before[k], v) {
				authValues = append(authValues, v...)
			}
		}
	}

	start := time.Now()
	resp, err := c.hc.Do(req)
	elapsed := time.Since(start)
	c.stats.requests.Add(1)
	ev := c.o.Log.Debug()
	if c.o.System != "" {
		ev = ev.Str("system", c.o.System)
	}
	ev = ev.Str("method", r.Method).Str("path", path).Int("attempt", attempt).Str("request_id", id).
		Int64("duration_ms", elapsed.Milliseconds())
	if err != nil {
		idle.stop()
		var ue *url.Error
		switch {
		case context.Cause(actx) == errIdle:
			err = fmt.Errorf("no progress for %s: %w", c.o.Timeout, errIdle)
		case errors.As(err, &ue):
			err = ue.Err // url.Error quotes the full URL, query values and all
		}
		cancel(nil)
		ev.Str("error", err.Error()).Msg("http request")
		return nil, authValues, err
	}
	ev.Int("status", resp.StatusCode).Msg("http request")
	resp.Body = &streamBody{rc: resp.Body, idle: idle, cancel: cancel}
	return resp, authValues, nil
}

func (c *Client) backoff(attempt int) time.Duration {
	d := c.o.MaxDelay
	if shift := attempt - 1; shift < 30 && c.o.BaseDelay<<shift < d {
		d = c.o.BaseDelay << shift
	}
	return time.Duration(c.o.Rand() * float64(d))
}

// notSent reports a failure before any connection existed (dial, DNS,
// proxy connect): the server cannot have acted on the request.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// loggedPath is the URL's path with the query's names but not its values,
// which may carry tokens or personal data.
func loggedPath(u *url.URL) string {
	p := u.EscapedPath()
	if u.RawQuery == "" {
		return p
	}
	names := make([]string, 0, 4)
	for k := range u.Query() {
		names = append(names, k)
	}
	slices.Sort(names)
	return p + "?" + strings.Join(names, "&")
}
