package license

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// defaultTelemetryEndpoint is where reports go when an admin enables
// telemetry without naming an endpoint; set at build time with
// -ldflags "-X github.com/lockstep-sync/lockstep/agent/internal/license.defaultTelemetryEndpoint=https://...".
// Empty (development builds) means an endpoint must be given.
var defaultTelemetryEndpoint string

// TelemetrySchema is the report's schema number. Adding or changing a
// field means a new number and asking the admin again.
const TelemetrySchema = 1

// Telemetry timing.
const (
	TelemetryInterval = 24 * time.Hour
	telemetryTimeout  = 15 * time.Second
)

const (
	keyTelemetry      = "telemetry/settings"
	keyTelemetryState = "telemetry/state"
)

// TelemetrySettings are the admin's choice; telemetry is off by default.
type TelemetrySettings struct {
	Enabled  bool   `json:"enabled"`
	Endpoint string `json:"endpoint"`
}

type telemetryState struct {
	LastAttemptAt time.Time `json:"lastAttemptAt"`
	LastSentAt    time.Time `json:"lastSentAt"`
	LastError     string    `json:"lastError,omitempty"`
}

// report is the whole telemetry body. The struct fixes the key order, and
// these four fields are the privacy statement's promise: adding one is a
// schema change (and the contract test fails).
type report struct {
	Schema         int    `json:"schema"`
	Version        string `json:"version"`
	InstanceID     string `json:"instance_id"`
	UsersOverLimit bool   `json:"users_over_limit"`
}

func defaultClient() *http.Client {
	return &http.Client{
		Timeout: telemetryTimeout,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DisableCompression:  true, // no Accept-Encoding header: the request carries only what is documented
			TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConns:        1,
			IdleConnTimeout:     30 * time.Second,
			ForceAttemptHTTP2:   true,
		},
		// A redirect would send the report somewhere the admin did not
		// choose: it counts as a failed send.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		// No Jar: no cookie is stored or sent.
	}
}

func (m *Manager) loadTelemetry() error {
	if err := m.st.Get(keyTelemetry, &m.tel); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := m.st.Get(keyTelemetryState, &m.telState); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

func (m *Manager) telemetryInfoLocked() apitype.TelemetryInfo {
	return apitype.TelemetryInfo{Enabled: m.tel.Enabled, Endpoint: m.tel.Endpoint, LastAttemptAt: timePtr(m.telState.LastAttemptAt),
		LastSentAt: timePtr(m.telState.LastSentAt), LastError: m.telState.LastError}
}

// Telemetry returns the settings and the last send's outcome.
func (m *Manager) Telemetry() apitype.TelemetryInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.telemetryInfoLocked()
}

// ValidateEndpoint accepts an https URL, or http to a loopback address
// (tests, a local relay), without credentials or fragment.
func ValidateEndpoint(raw string) error {
	if len(raw) > 2048 {
		return &fault.InvalidError{Field: "endpoint", Message: "must be at most 2048 characters"}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.Host == "" {
		return &fault.InvalidError{Field: "endpoint", Message: "must be an absolute URL like https://telemetry.example.com/v1/report"}
	}
	if u.User != nil {
		return &fault.InvalidError{Field: "endpoint", Message: "must not carry credentials: the report is sent without any"}
	}
	if u.Fragment != "" {
		return &fault.InvalidError{Field: "endpoint", Message: "must not have a fragment"}
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || strings.EqualFold(host, "localhost") {
			return nil
		}
		return &fault.InvalidError{Field: "endpoint", Message: "must use https (http only to a loopback address)"}
	}
	return &fault.InvalidError{Field: "endpoint", Message: "must use https"}
}

// SetTelemetry turns telemetry on or off and sets its endpoint, audited as
// telemetry.set. An empty endpoint keeps the current one, or takes the
// build's default when none is set.
func (m *Manager) SetTelemetry(actor string, enabled bool, endpoint string) (apitype.TelemetryInfo, error) {
	endpoint = strings.TrimSpace(endpoint)
	if endpoint == "" {
		m.mu.Lock()
		endpoint = m.tel.Endpoint
		m.mu.Unlock()
	}
	if endpoint == "" {
		endpoint = defaultTelemetryEndpoint
	}
	if endpoint != "" {
		if err := ValidateEndpoint(endpoint); err != nil {
			return apitype.TelemetryInfo{}, err
		}
	} else if enabled {
		return apitype.TelemetryInfo{}, &fault.InvalidError{Field: "endpoint", Message: "is required to enable telemetry (this build has no default endpoint)"}
	}
	next := TelemetrySettings{Enabled: enabled, Endpoint: endpoint}
	m.mu.Lock()
	defer m.mu.Unlock()
	before := m.tel
	diff := audit.Diff(map[string]any{"enabled": before.Enabled, "endpoint": before.Endpoint},
		map[string]any{"enabled": next.Enabled, "endpoint": next.Endpoint})
	err := m.st.Update(func(tx *store.Tx) error {
		if err := tx.Put(keyTelemetry, next); err != nil {
			return err
		}
		_, err := m.audit.AppendTx(tx, audit.Entry{Actor: actor, Action: "telemetry.set", Target: "telemetry", Result: audit.Success, Diff: diff})
		return err
	})
	if err != nil {
		return apitype.TelemetryInfo{}, fmt.Errorf("save telemetry settings: %w", err)
	}
	m.tel = next
	if m.bus != nil {
		m.bus.Publish(apitype.EventConfigChanged, apitype.ConfigChanged{Kind: "telemetry", Action: "update", Actor: actor})
	}
	return m.telemetryInfoLocked(), nil
}

func (m *Manager) bodyLocked(now time.Time) []byte {
	s := m.statusLocked(now)
	// Marshalling a struct of a string, an int and a bool cannot fail.
	b, _ := json.Marshal(report{Schema: TelemetrySchema, Version: m.o.Version, InstanceID: m.o.InstanceID, UsersOverLimit: s.OverLimit})
	return b
}

// Preview is the exact body the next report would send, byte for byte,
// whether or not telemetry is enabled.
func (m *Manager) Preview() []byte {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bodyLocked(now)
}

// sendTelemetry sends the report when enabled and a day has passed since
// the last attempt, successful or not: a failure is logged and retried the
// next day. The attempt is recorded before sending, so a crash or restart
// loop cannot send more than once a day. Only Serve calls it, so nothing
// ever waits on the network.
func (m *Manager) sendTelemetry(ctx context.Context) {
	now := m.now()
	m.mu.Lock()
	at := m.observeLocked(now)
	last := m.telState.LastAttemptAt
	if !m.tel.Enabled || m.tel.Endpoint == "" || (!last.IsZero() && at.Sub(last) < TelemetryInterval) {
		m.mu.Unlock()
		return
	}
	endpoint, body := m.tel.Endpoint, m.bodyLocked(now)
	state := m.telState
	state.LastAttemptAt = at
	if err := m.st.Put(keyTelemetryState, state); err != nil {
		m.mu.Unlock()
		m.log.Error().Err(err).Msg("telemetry: record the attempt; not sending")
		return
	}
	m.telState = state
	m.mu.Unlock()

	err := m.post(ctx, endpoint, body)

	m.mu.Lock()
	state = m.telState
	if err != nil {
		state.LastError = err.Error()
	} else {
		state.LastSentAt, state.LastError = at, ""
	}
	perr := m.st.Put(keyTelemetryState, state)
	if perr == nil {
		m.telState = state
	}
	m.mu.Unlock()
	switch {
	case err != nil:
		m.log.Warn().Err(err).Str("endpoint", endpoint).Msg("telemetry report not sent; retrying in a day")
	default:
		m.log.Info().Str("endpoint", endpoint).Msg("telemetry report sent")
	}
	if perr != nil {
		m.log.Error().Err(perr).Msg("telemetry: record the outcome")
	}
}

func (m *Manager) post(ctx context.Context, endpoint string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, telemetryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build telemetry request: %w", err)
	}
	// Exactly these headers (Go adds Host and Content-Length): no cookie,
	// no authorization, nothing identifying beyond the body.
	req.Header = http.Header{
		"Content-Type": {"application/json"},
		"User-Agent":   {"lockstep-agent/" + m.o.Version},
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return fmt.Errorf("send telemetry report: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("send telemetry report: the endpoint answered %s", resp.Status)
	}
	return nil
}
