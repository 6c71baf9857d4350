// Package httpx is the HTTP client layer every connector shares. A Client
// talks to one system: it sets credentials at request time, bounds each
// attempt with a timeout, retries transient failures with exponential
// backoff and full jitter, honours Retry-After and X-RateLimit-* (pausing
// every client of the system when the quota is spent), keeps to the
// system's requests-per-minute with a token bucket, stamps X-Request-Id,
// logs one debug line per attempt, and turns HTTP statuses into the
// connector package's errors. Bodies stream both ways; nothing buffers an
// attachment.
//
// Secrets never reach the logs: headers are never logged, query values are
// dropped from logged paths, and bodies quoted in errors are scrubbed of the
// credentials the request carried.
package httpx

import (
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/rs/zerolog"
)

// Defaults for zero Options.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxAttempts = 5
	DefaultMaxElapsed  = 2 * time.Minute
	DefaultBaseDelay   = 250 * time.Millisecond
	DefaultMaxDelay    = 30 * time.Second
	DefaultUserAgent   = "lockstep-agent"
)

// Options configure a Client.
type Options struct {
	// BaseURL is the system's root; request paths are joined to it.
	BaseURL string
	// System names the system in log lines (its id); leave it empty when
	// Log already carries the system field.
	System string
	// Auth sets credentials on each attempt (nil: none).
	Auth Auth
	// Secrets are also scrubbed from error snippets, beyond what Auth set.
	Secrets []secret.Secret
	// Timeout bounds each attempt's wait for response headers, and the
	// time a streamed body (up or down) may go without progress.
	Timeout time.Duration
	// InsecureSkipVerify accepts any certificate: the system's
	// allowSelfSigned setting, for private CAs that cannot be installed.
	InsecureSkipVerify bool
	// AllowPlainHTTP permits http:// to hosts other than loopback. Off,
	// because the product promises encryption in transport.
	AllowPlainHTTP bool
	// HTTPClient sends the requests (nil: one with the proxy from the
	// environment and TLS 1.2+). Its Transport is used as is.
	HTTPClient *http.Client
	// RequestsPerMinute caps the request rate (0: no cap of our own).
	RequestsPerMinute int
	// LimiterKey shares the rate limiter and rate-limit pauses between
	// Clients of the same system (its id); empty gives this Client its own.
	LimiterKey string
	// MaxAttempts and MaxElapsed bound one call: attempts made, and time
	// spent including waits. A wait that would overrun MaxElapsed is not
	// started: the call fails at once with the server's error. A 429 to a
	// request the server's own policy paced, asking for no more than a
	// refill, is the clocks drifting and does not use up an attempt (at
	// most MaxAttempts such refusals more per call).
	MaxAttempts int
	MaxElapsed  time.Duration
	// BaseDelay and MaxDelay shape the backoff: attempt n waits a random
	// time in [0, min(MaxDelay, BaseDelay*2^(n-1))).
	BaseDelay time.Duration
	MaxDelay  time.Duration
	UserAgent string
	// RateLimitWait, when set, recognises a refusal that its status and
	// headers alone do not mark as rate limiting, nor say how long to wait
	// for (GitHub's secondary limit: 403 or 429 with only a message), and
	// says how long to pause. It is asked only when the answer carries no
	// Retry-After; message is the server's own (see StatusError).
	RateLimitWait func(status int, h http.Header, message string) (time.Duration, bool)
	// Log gets one debug line per attempt; the zero value discards.
	Log zerolog.Logger
	// Observer is told each attempt's status and each wait (metrics).
	Observer connector.HTTPObserver
	// Now is the clock (nil: time.Now); Rand returns [0,1) for jitter
	// (nil: math/rand/v2).
	Now  func() time.Time
	Rand func() float64
}

// Client is a system's HTTP client. It is safe for concurrent use.
type Client struct {
	o     Options
	base  *url.URL
	hc    *http.Client
	lim   *limiter
	sleep func(ctx context.Context, d time.Duration) error
	// ownTransport: hc was made here, not lent in Options.HTTPClient.
	ownTransport bool
	closed       atomic.Bool
	stats        struct {
		requests, retries, rateLimited, paused atomic.Int64
	}
}

// Stats counts a Client's traffic, for benchmarks.
type Stats struct {
	Requests    int64 // attempts sent
	Retries     int64 // attempts that were repeats
	RateLimited int64 // 429 (or rate-limit 403) answers
	Paused      int64 // waits imposed by X-RateLimit-Remaining: 0
}

// New makes a Client.
func New(o Options) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") {
		return nil, fmt.Errorf("make HTTP client: base URL %q is not an http(s) URL", o.BaseURL)
	}
	if base.Scheme == "http" && !o.AllowPlainHTTP && !loopback(base.Hostname()) {
		return nil, fmt.Errorf("make HTTP client: %s is plain HTTP to another host; use https", base.Redacted())
	}
	base.RawQuery, base.Fragment = "", ""
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxElapsed <= 0 {
		o.MaxElapsed = DefaultMaxElapsed
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = DefaultBaseDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	hc, own := o.HTTPClient, o.HTTPClient == nil
	if own {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = http.ProxyFromEnvironment
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.InsecureSkipVerify}
		t.MaxIdleConnsPerHost = 16
		hc = &http.Client{Transport: t}
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	c := &Client{o: o, base: base, hc: hc, lim: sharedLimiter(o.LimiterKey, o.RequestsPerMinute, o.Now()), sleep: sleepCtx, ownTransport: own}
	return c, nil
}

// Close releases what the Client holds between requests: the idle
// connections of a transport it made (not of one lent in
// Options.HTTPClient) and its use of the system's shared limiter. Requests
// in flight finish, and a later request still works on a new connection,
// so closing a Client that a sync run is still using is safe. Close is
// idempotent and always returns nil.
func (c *Client) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	if c.ownTransport {
		c.hc.CloseIdleConnections()
	}
	if c.o.LimiterKey != "" {
		releaseLimiter(c.o.LimiterKey, c.lim)
	}
	return nil
}

type noObserver struct{}

func (noObserver) Response(int, bool)         {}
func (noObserver) Wait(string, time.Duration) {}

// BaseURL returns the system's root URL.
func (c *Client) BaseURL() string { return c.base.String() }

// Stats returns the counters.
func (c *Client) Stats() Stats {
	return Stats{Requests: c.stats.requests.Load(), Retries: c.stats.retries.Load(),
		RateLimited: c.stats.rateLimited.Load(), Paused: c.stats.paused.Load()}
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newRequestID makes the X-Request-Id of one call (all its attempts share
// it, so the server's logs and ours line up).
func newRequestID() string { return crand.Text()[:16] }

// SystemOptions are the Options a connector starts from: the system's URL
// and its allowSelfSigned and requestsPerMinute settings (see
// connector.ConnectionFields), its id as the limiter key, and the client,
// logger and clock the agent lends it. The connector adds its Auth and
// Secrets, and changes what its system needs otherwise.
func SystemOptions(cfg connector.Config, env connector.Env) Options {
	return Options{
		BaseURL:            cfg.URL,
		InsecureSkipVerify: cfg.SettingBool("allowSelfSigned"),
		HTTPClient:         env.HTTP,
		RequestsPerMinute:  cfg.SettingInt("requestsPerMinute"),
		LimiterKey:         cfg.ID,
		Log:                env.Log,
		Observer:           env.Observer,
		Now:                env.Clock(),
	}
}
