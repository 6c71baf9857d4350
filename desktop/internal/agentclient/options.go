package agentclient

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Default timings (PROTOCOL.md "Transport").
const (
	writeWait          = 10 * time.Second
	defaultPingPeriod  = 30 * time.Second
	defaultPongWait    = 60 * time.Second
	dialTimeout        = 15 * time.Second
	restoreTimeout     = 30 * time.Second
	defaultBackoffMin  = 500 * time.Millisecond
	defaultBackoffMax  = 30 * time.Second
	defaultClientName  = "lockstep-desktop"
	defaultAgentPort   = "7443"
	closeControlWait   = time.Second
	stableConnDuration = 30 * time.Second
)

// readLimit is the agent's largest frame plus room for the envelope, so a
// maximal configuration document still fits.
const readLimit = protocol.MaxFrameAfterLogin + 64<<10

// Options configure Dial.
type Options struct {
	// URL is wss://host:port/v1/ws; https://host:port and host:port are
	// accepted and completed. Plain ws:// and http:// are refused.
	URL string
	// Fingerprint is the pinned SHA-256 of the agent certificate's
	// SubjectPublicKeyInfo (64 hex characters; colons and case are
	// tolerated). Empty pins nothing: Dial then fails with a
	// *FingerprintMismatchError whose Got the user must confirm.
	Fingerprint string
	// Client names this program in session.hello, e.g. "lockstep-desktop/1.2.0".
	Client string
	// Logger receives connection events; nil discards them. Tokens and
	// passwords are never logged.
	Logger *slog.Logger
	// ReconnectMin and ReconnectMax bound the reconnect backoff (defaults
	// 0.5 s and 30 s).
	ReconnectMin, ReconnectMax time.Duration

	// Keepalive timings; tests shorten them.
	pingPeriod, pongWait time.Duration
	// onPong, when set, runs on the reader goroutine as each pong arrives,
	// before it extends the read deadline: tests see when the pong wait
	// last started instead of guessing it from the clock.
	onPong func()
}

// withDefaults validates o and fills in defaults.
func (o Options) withDefaults() (Options, error) {
	u, err := normalizeURL(o.URL)
	if err != nil {
		return o, err
	}
	o.URL = u
	if o.Fingerprint != "" {
		fp, err := NormalizeFingerprint(o.Fingerprint)
		if err != nil {
			return o, err
		}
		o.Fingerprint = fp
	}
	if o.Client == "" {
		o.Client = defaultClientName
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ReconnectMin <= 0 {
		o.ReconnectMin = defaultBackoffMin
	}
	switch {
	case o.ReconnectMax <= 0:
		o.ReconnectMax = max(defaultBackoffMax, o.ReconnectMin)
	case o.ReconnectMax < o.ReconnectMin:
		o.ReconnectMax = o.ReconnectMin
	}
	if o.pingPeriod <= 0 {
		o.pingPeriod = defaultPingPeriod
	}
	if o.pongWait <= o.pingPeriod {
		o.pongWait = max(defaultPongWait, 2*o.pingPeriod)
	}
	return o, nil
}

// NormalizeURL returns the endpoint URL Dial uses for what an administrator
// typed (host:port, https://host, wss://host:port/v1/ws...), so saved
// profiles hold the same URL the client dials.
func NormalizeURL(raw string) (string, error) { return normalizeURL(raw) }

// normalizeURL turns what an administrator types into the endpoint URL.
func normalizeURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("check agent URL: empty")
	}
	if !strings.Contains(raw, "://") {
		raw = "wss://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("check agent URL: %w", err)
	}
	switch u.Scheme {
	case "wss", "https":
		u.Scheme = "wss"
	default:
		// The agent serves TLS only; a plaintext URL is a typo or a downgrade.
		return "", fmt.Errorf("check agent URL %q: scheme must be wss or https", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("check agent URL %q: credentials do not belong in the URL", raw)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("check agent URL %q: no host", raw)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), defaultAgentPort)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = protocol.Path
	}
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}
