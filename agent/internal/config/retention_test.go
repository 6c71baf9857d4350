package config

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// TestRunRetentionSettings: the run history's retention is a setting with
// the engine's defaults, checked, audited, kept across a reopen, and an
// agent whose saved settings predate it gets the defaults.
func TestRunRetentionSettings(t *testing.T) {
	d := DefaultSettings()
	def := syncer.DefaultRetention()
	if time.Duration(d.RunRetentionDays)*24*time.Hour != def.MaxAge || d.RunRetentionRuns != def.MaxRuns {
		t.Fatalf("settings default to %d days and %d runs, the engine to %v and %d", d.RunRetentionDays, d.RunRetentionRuns, def.MaxAge, def.MaxRuns)
	}
	st := agenttest.Store(t)
	// Settings saved by an agent before retention was a setting.
	old, _ := json.Marshal(map[string]any{"origins": []string{}, "logLevel": "debug", "logRetentionDays": 7, "supportRetentionHours": 24})
	if err := st.Update(func(tx *store.Tx) error { return tx.SetRaw(settingsKey, old) }); err != nil {
		t.Fatal(err)
	}
	log := audit.New(st, nil)
	s, err := LoadSettings(st, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Get(); got.RunRetentionDays != 30 || got.RunRetentionRuns != 10000 || got.LogLevel != "debug" {
		t.Fatalf("older settings load as %+v", got)
	}
	for _, bad := range []apitype.SettingsSetParams{
		{RunRetentionDays: ptr(0)}, {RunRetentionDays: ptr(3651)}, {RunRetentionRuns: ptr(MinRunRetentionRuns - 1)}, {RunRetentionRuns: ptr(MaxRunRetentionRuns + 1)},
	} {
		var se *fault.InvalidError
		if _, err := s.Set("admin", bad); !errors.As(err, &se) || (se.Field != "runRetentionDays" && se.Field != "runRetentionRuns") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	var heard apitype.Settings
	s.OnChange(func(v apitype.Settings) { heard = v })
	if _, err := s.Set("admin", apitype.SettingsSetParams{RunRetentionDays: ptr(7), RunRetentionRuns: ptr(2000)}); err != nil {
		t.Fatal(err)
	}
	if heard.RunRetentionDays != 7 || heard.RunRetentionRuns != 2000 {
		t.Fatalf("listeners heard %+v", heard)
	}
	recs, _, _ := log.List(audit.Filter{Action: "settings.set"})
	if len(recs) == 0 || !json.Valid(recs[0].Diff) || !strings.Contains(string(recs[0].Diff), "runRetentionRuns") {
		t.Fatalf("the change is not audited with its diff: %+v", recs)
	}
	again, err := LoadSettings(st, log, nil)
	if err != nil || again.Get().RunRetentionDays != 7 || again.Get().RunRetentionRuns != 2000 {
		t.Fatalf("after a reopen: %+v, %v", again.Get(), err)
	}
}

func ptr[T any](v T) *T { return &v }
