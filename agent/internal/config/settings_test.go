package config

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// TestMetricsTokenIsSealedAndWriteOnly: the metrics token is checked, kept
// sealed in the store (not in the settings document), shown only as set,
// audited as [redacted], survives a reopen, and can be cleared.
func TestMetricsTokenIsSealedAndWriteOnly(t *testing.T) {
	st, sealer := agenttest.SealedStore(t)
	open := func() *Settings {
		t.Helper()
		s, err := LoadSettings(st, audit.New(st, nil), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.UseSealer(sealer); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	const token = "scrape-token-0123456789abcdef"
	tok := func(v string) apitype.SettingsSetParams {
		sv := apitype.Secret(v)
		return apitype.SettingsSetParams{MetricsToken: &sv}
	}
	for _, bad := range []string{"short-token", "has a space in it, 1234567", strings.Repeat("x", 1025)} {
		var se *fault.InvalidError
		if _, err := s.Set("admin", tok(bad)); !errors.As(err, &se) || se.Field != "metricsToken" || strings.Contains(err.Error(), bad) {
			t.Errorf("token %.20q: %v", bad, err)
		}
	}
	if s.MetricsTokenSet() || s.MetricsTokenValid("") {
		t.Fatal("a token is set before any was")
	}
	got, err := s.Set("admin", tok(token))
	if err != nil || !got.MetricsToken.Set {
		t.Fatalf("set: %+v %v", got, err)
	}
	if !s.MetricsTokenValid(token) || s.MetricsTokenValid(token+"x") || s.MetricsTokenValid("") {
		t.Fatal("token comparison")
	}
	// Nowhere in the store in plain text; the settings document has no copy.
	var raw apitype.Settings
	if err := st.Get(settingsKey, &raw); err != nil || raw.MetricsToken.Set {
		t.Fatalf("settings document: %+v %v", raw, err)
	}
	var sealed []byte
	if err := st.Get(metricsTokenKey, &sealed); err != nil || strings.Contains(string(sealed), token) {
		t.Fatalf("sealed token: %v", err)
	}
	var diffs []string
	audit.New(st, nil).Each(func(r audit.Record) error { diffs = append(diffs, string(r.Diff)); return nil })
	last := diffs[len(diffs)-1]
	if strings.Contains(strings.Join(diffs, "\n"), token) || !strings.Contains(last, `{"field":"metricsToken","before":"(none)","after":"[redacted]"}`) {
		t.Fatalf("audit: %s", last)
	}
	// A reopen finds it; another settings change keeps it; "" clears it.
	s = open()
	if !s.MetricsTokenValid(token) || !s.Get().MetricsToken.Set {
		t.Fatal("the token did not survive a reopen")
	}
	level := "debug"
	if _, err := s.Set("admin", apitype.SettingsSetParams{LogLevel: &level}); err != nil || !s.MetricsTokenValid(token) {
		t.Fatalf("another change lost the token: %v", err)
	}
	if got, err := s.Set("admin", tok("")); err != nil || got.MetricsToken.Set || s.MetricsTokenValid(token) {
		t.Fatalf("clear: %+v %v", got, err)
	}
	if err := st.Get(metricsTokenKey, &sealed); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the sealed token stayed after clearing: %v", err)
	}
}

// A change of settings is announced by the settings themselves, once, and
// a refused one is not.
func TestSettingsChangesAreAnnounced(t *testing.T) {
	st := agenttest.Store(t)
	bus := events.New(16, nil)
	sub, _, _ := bus.Subscribe([]string{apitype.EventConfigChanged}, nil, 16)
	defer sub.Close()
	s, err := LoadSettings(st, audit.New(st, nil), bus)
	if err != nil {
		t.Fatal(err)
	}
	bad, good := "loud", "debug"
	if _, err := s.Set("admin", apitype.SettingsSetParams{LogLevel: &bad}); err == nil {
		t.Fatal("a bad log level was accepted")
	}
	if _, err := s.Set("admin", apitype.SettingsSetParams{LogLevel: &good}); err != nil {
		t.Fatal(err)
	}
	var ev events.Event
	select {
	case ev = <-sub.C(): // Publish delivers before it returns
	default:
		t.Fatal("the change was not published")
	}
	var cc apitype.ConfigChanged
	if err := json.Unmarshal(ev.Data, &cc); err != nil || cc != (apitype.ConfigChanged{Kind: "settings", Action: "update", Actor: "admin"}) {
		t.Fatalf("event %+v (%v)", cc, err)
	}
	select {
	case ev := <-sub.C():
		t.Fatalf("an extra event: %+v", ev)
	default:
	}
}
