package config

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/input"
)

const (
	settingsKey     = "settings/agent"
	metricsTokenKey = "settings/metrics-token" // sealed
	// MinMetricsToken is the shortest metrics token accepted: it is all
	// that guards /metrics, which has no lockout.
	MinMetricsToken = 16
	maxMetricsToken = 1024
)

// SecretSealer seals secret settings under the master key; *secret.Sealer
// is one.
type SecretSealer interface {
	Seal(scope, kind, id, field string, plain []byte) ([]byte, error)
	Open(scope, kind, id, field string, sealed []byte) ([]byte, error)
}

// DefaultSettings are what a new agent runs with.
func DefaultSettings() apitype.Settings {
	return apitype.Settings{Origins: []string{}, LogLevel: "info", LogRetentionDays: 30, SupportRetentionHours: 24,
		RunRetentionDays: 30, RunRetentionRuns: 10000}
}

// Bounds of runRetentionRuns: a page of runs.list at least, and no more
// than keeps a process's history near a few hundred megabytes.
const (
	MinRunRetentionRuns = 500
	MaxRunRetentionRuns = 1_000_000
)

// MaxOrigins bounds the WebSocket Origin allow list.
const MaxOrigins = 64

// LogLevels accepted by settings.
var LogLevels = []string{"trace", "debug", "info", "warn", "error"}

// Settings keeps the agent's runtime settings in the store and tells
// listeners when they change.
type Settings struct {
	st     *store.Store
	audit  *audit.Log
	bus    *events.Bus // told of every change; nil in tools that only read
	mu     sync.RWMutex
	cur    apitype.Settings
	hooks  []func(apitype.Settings)
	sealer SecretSealer
	// token is the SHA-256 of the metrics token, the only form it takes in
	// memory; tokenSet says there is one.
	token    [32]byte
	tokenSet bool
}

// UseSealer lets the settings hold secrets (the metrics token) and loads
// the sealed ones.
func (s *Settings) UseSealer(sl SecretSealer) error {
	var sealed []byte
	err := s.st.Get(metricsTokenKey, &sealed)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("load the metrics token: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sealer = sl
	if err == nil {
		plain, err := sl.Open("settings", "settings", "agent", "metricsToken", sealed)
		if err != nil {
			return fmt.Errorf("unseal the metrics token: %w", err)
		}
		s.token, s.tokenSet = sha256.Sum256(plain), true
	}
	return nil
}

// MetricsTokenValid reports whether presented is the metrics token, in
// constant time; false when none is set.
func (s *Settings) MetricsTokenValid(presented string) bool {
	sum := sha256.Sum256([]byte(presented))
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tokenSet && subtle.ConstantTimeCompare(sum[:], s.token[:]) == 1
}

// MetricsTokenSet reports whether a metrics token is set.
func (s *Settings) MetricsTokenSet() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tokenSet
}

// LoadSettings reads the settings (defaults when none were saved). bus,
// when not nil, is told of every change (ConfigChanged).
func LoadSettings(st *store.Store, log *audit.Log, bus *events.Bus) (*Settings, error) {
	s := &Settings{st: st, audit: log, bus: bus, cur: DefaultSettings()}
	err := st.Get(settingsKey, &s.cur)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("load settings: %w", err)
	}
	if s.cur.Origins == nil {
		s.cur.Origins = []string{}
	}
	return s, nil
}

// Get returns the current settings.
func (s *Settings) Get() apitype.Settings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.cur
	c.Origins = slices.Clone(s.cur.Origins)
	c.MetricsToken = apitype.SecretState{Set: s.tokenSet}
	return c
}

// OnChange registers fn to run after every change (log level, origins).
func (s *Settings) OnChange(fn func(apitype.Settings)) {
	s.mu.Lock()
	s.hooks = append(s.hooks, fn)
	s.mu.Unlock()
	fn(s.Get())
}

func normaliseOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "wails") || u.Host == "" || u.Path != "" && u.Path != "/" {
		return "", errors.New("must be an origin like https://admin.example.com")
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// Set applies a partial change, audited with its diff.
func (s *Settings) Set(actor string, p apitype.SettingsSetParams) (apitype.Settings, error) {
	next := s.Get()
	if p.Origins != nil {
		if len(*p.Origins) > MaxOrigins {
			return apitype.Settings{}, &fault.InvalidError{Field: "origins", Message: fmt.Sprintf("lists %d origins; at most %d are allowed", len(*p.Origins), MaxOrigins)}
		}
		next.Origins = []string{}
		for i, o := range *p.Origins {
			if err := input.Bounded(o, input.MaxURL); err != nil {
				return apitype.Settings{}, &fault.InvalidError{Field: fmt.Sprintf("origins[%d]", i), Message: err.Error()}
			}
			n, err := normaliseOrigin(o)
			if err != nil {
				return apitype.Settings{}, &fault.InvalidError{Field: fmt.Sprintf("origins[%d]", i), Message: err.Error()}
			}
			if !slices.Contains(next.Origins, n) {
				next.Origins = append(next.Origins, n)
			}
		}
	}
	if p.LogLevel != nil {
		if !slices.Contains(LogLevels, *p.LogLevel) {
			return apitype.Settings{}, &fault.InvalidError{Field: "logLevel", Message: "must be one of " + strings.Join(LogLevels, ", ")}
		}
		next.LogLevel = *p.LogLevel
	}
	if p.LogRetentionDays != nil {
		if *p.LogRetentionDays < 1 || *p.LogRetentionDays > 3650 {
			return apitype.Settings{}, &fault.InvalidError{Field: "logRetentionDays", Message: "must be between 1 and 3650"}
		}
		next.LogRetentionDays = *p.LogRetentionDays
	}
	if p.SupportRetentionHours != nil {
		if *p.SupportRetentionHours < 1 || *p.SupportRetentionHours > 24*30 {
			return apitype.Settings{}, &fault.InvalidError{Field: "supportRetentionHours", Message: "must be between 1 and 720"}
		}
		next.SupportRetentionHours = *p.SupportRetentionHours
	}
	if p.RunRetentionDays != nil {
		if *p.RunRetentionDays < 1 || *p.RunRetentionDays > 3650 {
			return apitype.Settings{}, &fault.InvalidError{Field: "runRetentionDays", Message: "must be between 1 and 3650"}
		}
		next.RunRetentionDays = *p.RunRetentionDays
	}
	if p.RunRetentionRuns != nil {
		if *p.RunRetentionRuns < MinRunRetentionRuns || *p.RunRetentionRuns > MaxRunRetentionRuns {
			return apitype.Settings{}, &fault.InvalidError{Field: "runRetentionRuns", Message: fmt.Sprintf("must be between %d and %d", MinRunRetentionRuns, MaxRunRetentionRuns)}
		}
		next.RunRetentionRuns = *p.RunRetentionRuns
	}
	if p.PublicURL != nil {
		if err := input.Bounded(*p.PublicURL, input.MaxURL); err != nil {
			return apitype.Settings{}, &fault.InvalidError{Field: "publicUrl", Message: err.Error()}
		}
		u := strings.TrimRight(strings.TrimSpace(*p.PublicURL), "/")
		if u != "" {
			parsed, err := url.Parse(u)
			if err != nil || parsed.Scheme != "https" || parsed.Host == "" || parsed.User != nil {
				return apitype.Settings{}, &fault.InvalidError{Field: "publicUrl", Message: "must be an https:// URL without credentials, e.g. https://agent.example.com:7443"}
			}
		}
		next.PublicURL = u
	}
	before := s.Get()
	diff := audit.Diff(flatSettings(before), flatSettings(next))
	var token *[]byte // the sealed new token; empty to clear; nil: unchanged
	var tokenSum [32]byte
	if p.MetricsToken != nil {
		v := p.MetricsToken.Reveal()
		sealed := []byte{}
		if v != "" {
			if err := checkMetricsToken(v); err != nil {
				return apitype.Settings{}, err
			}
			s.mu.RLock()
			sl := s.sealer
			s.mu.RUnlock()
			if sl == nil {
				return apitype.Settings{}, errors.New("save settings: this agent cannot hold secret settings (no sealer)")
			}
			var err error
			if sealed, err = sl.Seal("settings", "settings", "agent", "metricsToken", []byte(v)); err != nil {
				return apitype.Settings{}, fmt.Errorf("save settings: seal the metrics token: %w", err)
			}
			tokenSum = sha256.Sum256([]byte(v))
		}
		token = &sealed
		diff = append(diff, audit.Change{Field: "metricsToken", Before: tokenState(before.MetricsToken.Set), After: tokenState(v != "")})
	}
	next.MetricsToken = apitype.SecretState{}
	err := s.st.Update(func(tx *store.Tx) error {
		if err := tx.Put(settingsKey, next); err != nil {
			return err
		}
		if token != nil && len(*token) > 0 {
			if err := tx.Put(metricsTokenKey, *token); err != nil {
				return err
			}
		} else if token != nil {
			if err := tx.Delete(metricsTokenKey); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		_, err := s.audit.AppendTx(tx, audit.Entry{Actor: actor, Action: "settings.set", Target: "settings", Result: audit.Success, Diff: diff})
		return err
	})
	if err != nil {
		return apitype.Settings{}, fmt.Errorf("save settings: %w", err)
	}
	s.mu.Lock()
	s.cur = next
	if token != nil {
		s.token, s.tokenSet = tokenSum, len(*token) > 0
	}
	next.MetricsToken = apitype.SecretState{Set: s.tokenSet}
	hooks := slices.Clone(s.hooks)
	s.mu.Unlock()
	for _, h := range hooks {
		h(next)
	}
	if s.bus != nil {
		s.bus.Publish(apitype.EventConfigChanged, apitype.ConfigChanged{Kind: "settings", Action: "update", Actor: actor})
	}
	return next, nil
}

func checkMetricsToken(v string) error {
	switch {
	case len(v) > maxMetricsToken:
		return &fault.InvalidError{Field: "metricsToken", Message: fmt.Sprintf("is longer than %d bytes (it has %d)", maxMetricsToken, len(v))}
	case utf8.RuneCountInString(v) < MinMetricsToken:
		return &fault.InvalidError{Field: "metricsToken", Message: fmt.Sprintf("is too short: it is all that guards /metrics, so it needs at least %d characters (e.g. the output of: openssl rand -hex 32)", MinMetricsToken)}
	case strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return &fault.InvalidError{Field: "metricsToken", Message: "must not contain spaces or control characters: it travels in an HTTP header"}
	}
	return nil
}

// tokenState is how the audit trail shows the metrics token: never its value.
func tokenState(set bool) string {
	if set {
		return audit.Redacted
	}
	return "(none)"
}

func flatSettings(s apitype.Settings) map[string]any {
	return map[string]any{"origins": s.Origins, "logLevel": s.LogLevel, "logRetentionDays": s.LogRetentionDays,
		"supportRetentionHours": s.SupportRetentionHours, "runRetentionDays": s.RunRetentionDays,
		"runRetentionRuns": s.RunRetentionRuns, "publicUrl": s.PublicURL}
}

// OriginAllowed reports whether a WebSocket upgrade's Origin may connect.
// No Origin (the desktop app's Go client) is allowed: the check exists to
// stop a web page in an administrator's browser from hijacking a session.
func (s *Settings) OriginAllowed(origin string) bool {
	if origin == "" {
		return true
	}
	n, err := normaliseOrigin(origin)
	if err != nil {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Contains(s.cur.Origins, n)
}
