package license

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

const day = 24 * time.Hour

func TestEvaluationWithoutLicense(t *testing.T) {
	e := newEnv(t)
	s := e.m.Status()
	if s.State != StateMissing || !s.Evaluation || s.EvaluationDaysLeft != 30 || len(s.Warnings) == 0 {
		t.Fatalf("fresh status = %+v", s)
	}
	if err := e.m.AllowsKind("jira"); err != nil {
		t.Fatalf("jira during evaluation: %v", err)
	}
	e.m.check(context.Background())
	if evs := e.events(t); len(evs) != 0 {
		t.Fatalf("a new install's evaluation is not news: %+v", evs)
	}

	e.clk.Add(31 * day)
	if err := e.m.AllowsKind("jira"); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("jira after evaluation: %v", err)
	}
	if err := e.m.SyncAllowed([]string{"sandbox", "jira"}); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("sync after evaluation: %v", err)
	}
	if err := e.m.SyncAllowed([]string{"sandbox"}); err != nil {
		t.Fatalf("sandbox after evaluation: %v", err)
	}
	e.m.check(context.Background())
	e.m.check(context.Background())
	evs := e.events(t)
	if len(evs) != 1 || evs[0].Reason != "state" || evs[0].State != "missing" || !strings.Contains(evs[0].Message, "evaluation ended") {
		t.Fatalf("events = %+v", evs)
	}
	if recs := e.records(t, "license.state"); len(recs) != 1 || recs[0].Result != "missing:evaluation_ended" || recs[0].Actor != "system" {
		t.Fatalf("audit = %+v", recs)
	}

	// Importing a license ends evaluation mode.
	e.clk.Set(t0.Add(40 * day))
	st, err := e.m.Import("admin", issue(t, func() Payload { p := payload(); p.NotBefore = t0.Add(35 * day); return p }()))
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateValid || st.Evaluation || e.m.AllowsKind("jira") != nil {
		t.Fatalf("after import = %+v", st)
	}
}

func TestImportStoresAndSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	text := issue(t, payload())
	s, err := e.m.Import("admin", text)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != StateValid || s.Customer != "ACME Corp" || s.LicenseID != "LIC-1" || s.MaxUsers != 3 || s.DaysLeft != 365 {
		t.Fatalf("import status = %+v", s)
	}
	w := s.Wire()
	if w.State != "valid" || w.ExpiresAt == nil || w.EvaluationEndsAt != nil || strings.Join(w.AllowedSystems, ",") != "jira,servicenow" {
		t.Fatalf("wire = %+v", w)
	}
	evs := e.events(t)
	if len(evs) != 1 || evs[0].Reason != "imported" || evs[0].State != "valid" {
		t.Fatalf("events = %+v", evs)
	}
	recs := e.records(t, "license.import")
	if len(recs) != 1 || recs[0].Actor != "admin" || recs[0].Target != "license:LIC-1" || recs[0].Result != audit.Success {
		t.Fatalf("audit = %+v", recs)
	}
	var stored []byte
	e.st.View(func(tx *store.Tx) error { stored, err = tx.GetRaw(keyFile); return err })
	if !bytes.Equal(stored, text) {
		t.Fatal("the stored license is not the imported file, byte for byte")
	}
	m2 := e.reopen(t)
	if s2 := m2.Status(); s2.State != StateValid || s2.LicenseID != "LIC-1" {
		t.Fatalf("after restart = %+v", s2)
	}
	// check after import announces nothing new.
	m2.check(context.Background())
	if evs := e.events(t); len(evs) != 0 {
		t.Fatalf("events after restart = %+v", evs)
	}
	var changed []Status
	m2.OnChange(func(s Status) { changed = append(changed, s) })
	p := payload()
	p.LicenseID = "LIC-2"
	if _, err := m2.Import("admin", issue(t, p)); err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0].LicenseID != "LIC-2" {
		t.Fatalf("OnChange = %+v", changed)
	}
}

func TestImportRefusals(t *testing.T) {
	e := newEnv(t)
	good := issue(t, payload())
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	unknown := func() []byte {
		p := payload()
		p.KeyID = "prod-2030"
		text, err := Issue(otherPriv, p)
		if err != nil {
			t.Fatal(err)
		}
		return text
	}()
	tampered := bytes.Replace(good, []byte("Key-Id: test\n"), []byte("Key-Id: test\n"), 1)
	tampered[len(beginLicense)+5] ^= 0x01
	expired := func() []byte {
		p := payload()
		p.IssuedAt, p.NotBefore, p.ExpiresAt = t0.AddDate(-2, 0, 0), t0.AddDate(-2, 0, 0), t0.AddDate(-1, 0, 0)
		return issue(t, p)
	}()
	future := func() []byte {
		p := payload()
		p.NotBefore, p.ExpiresAt = t0.Add(10*day), t0.Add(375*day)
		return issue(t, p)
	}()
	cases := []struct {
		name string
		text []byte
		kind error
		want string
	}{
		{"garbage", []byte("hello"), ErrMalformed, "line 1: expected -----BEGIN LOCKSTEP LICENSE-----"},
		{"tampered", tampered, ErrBadSignature, "the file was altered"},
		{"unknown key", unknown, ErrUnknownKey, `signed with key "prod-2030"`},
		{"expired", expired, ErrExpired, "the license expired on 2025-03-01 and its grace period ended on 2025-03-15"},
		{"not yet valid", future, ErrNotYetValid, "the license is valid from 2026-03-11T12:00:00Z; import it on or after that day"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.m.Import("admin", tc.text)
			var fe *FileError
			if !errors.Is(err, tc.kind) || !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.kind, tc.want)
			}
		})
	}
	if s := e.m.Status(); s.State != StateMissing {
		t.Fatalf("a refused import changed the state: %+v", s)
	}
	var stored []byte
	err := e.st.View(func(tx *store.Tx) error { var err error; stored, err = tx.GetRaw(keyFile); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused license was stored: %q %v", stored, err)
	}
	if recs := e.records(t, "license.import"); len(recs) != len(cases) || recs[0].Result != audit.Failure {
		t.Fatalf("refusals audited = %+v", recs)
	}
	// Within grace, a license is still importable.
	p := payload()
	p.IssuedAt, p.NotBefore, p.ExpiresAt = t0.AddDate(-1, 0, 0), t0.AddDate(-1, 0, 0), t0.Add(-day)
	if s, err := e.m.Import("admin", issue(t, p)); err != nil || s.State != StateGrace {
		t.Fatalf("import in grace = %+v, %v", s, err)
	}
}

// TestExpiryLifecycle walks a license from valid through the 60/30/7-day
// warnings (each once), grace and expiry, checking events and audit.
func TestExpiryLifecycle(t *testing.T) {
	e := newEnv(t)
	if _, err := e.m.Import("admin", issue(t, payload())); err != nil {
		t.Fatal(err)
	}
	e.events(t)
	exp := t0.AddDate(1, 0, 0)
	ctx := context.Background()
	type step struct {
		at      time.Time
		state   State
		reasons string // events of this check, comma-separated
	}
	steps := []step{
		{t0.Add(day), StateValid, ""},
		{exp.Add(-61 * day), StateValid, ""},
		{exp.Add(-59 * day), StateExpiring, "expiry_warning"},
		{exp.Add(-58 * day), StateExpiring, ""},
		{exp.Add(-29 * day), StateExpiring, "expiry_warning"},
		{exp.Add(-29*day + time.Hour), StateExpiring, ""},
		{exp.Add(-6 * day), StateExpiring, "expiry_warning"},
		{exp.Add(-1 * day), StateExpiring, ""},
		{exp.Add(time.Hour), StateGrace, "state"},
		{exp.Add(2 * day), StateGrace, ""},
		{exp.Add(14*day + time.Hour), StateExpired, "state"},
		{exp.Add(30 * day), StateExpired, ""},
	}
	for _, st := range steps {
		e.clk.Set(st.at)
		e.m.check(ctx)
		e.m.check(ctx) // a second check at the same time announces nothing
		var reasons []string
		for _, ev := range e.events(t) {
			reasons = append(reasons, ev.Reason)
			if ev.State != string(st.state) {
				t.Fatalf("%s: event %+v, want state %s", st.at, ev, st.state)
			}
		}
		if got := strings.Join(reasons, ","); got != st.reasons {
			t.Fatalf("%s: events %q, want %q", st.at, got, st.reasons)
		}
		s := e.m.Status()
		if s.State != st.state {
			t.Fatalf("%s: state %s, want %s", st.at, s.State, st.state)
		}
		switch s.State {
		case StateGrace:
			if err := e.m.SyncAllowed([]string{"jira"}); err != nil || len(s.Warnings) == 0 {
				t.Fatalf("grace must sync with a warning: %v %v", err, s.Warnings)
			}
		case StateExpired:
			if err := e.m.SyncAllowed([]string{"jira"}); !errors.Is(err, ErrNotAllowed) {
				t.Fatalf("expired must stop sync: %v", err)
			}
			if err := e.m.AllowsKind("jira"); err != nil {
				t.Fatalf("expired must keep configuration editable: %v", err)
			}
		}
	}
	warnings := e.records(t, "license.expiry_warning")
	var results []string
	for _, r := range warnings {
		results = append(results, r.Result)
	}
	if strings.Join(results, ",") != "60-day warning,30-day warning,7-day warning" {
		t.Fatalf("warning records = %v", results)
	}
	states := e.records(t, "license.state")
	if len(states) != 2 || states[0].Result != "grace" || states[1].Result != "expired" {
		t.Fatalf("state records = %+v", states)
	}
	// A restart does not repeat any announcement.
	e.reopen(t).check(ctx)
	if evs := e.events(t); len(evs) != 0 {
		t.Fatalf("events after restart: %+v", evs)
	}
}

func TestWarningAfterDowntimeIsTheMostUrgentOnly(t *testing.T) {
	e := newEnv(t)
	if _, err := e.m.Import("admin", issue(t, payload())); err != nil {
		t.Fatal(err)
	}
	e.events(t)
	e.clk.Set(t0.AddDate(1, 0, 0).Add(-5 * day)) // the agent was off from day 1 until 5 days before expiry
	e.m.check(context.Background())
	evs := e.events(t)
	if len(evs) != 1 || evs[0].Reason != "expiry_warning" || evs[0].DaysLeft != 5 {
		t.Fatalf("events = %+v", evs)
	}
	if recs := e.records(t, "license.expiry_warning"); len(recs) != 1 || recs[0].Result != "7-day warning" {
		t.Fatalf("records = %+v", recs)
	}
}

func TestClockSetBack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.clk.Set(t0.Add(29 * day)) // one evaluation day left
	e.m.check(ctx)
	if s := e.m.Status(); s.EvaluationDaysLeft != 1 || s.ClockBack {
		t.Fatalf("status = %+v", s)
	}

	// Back 12 hours: noise, not an incident, and the evaluation is not extended.
	e.clk.Set(t0.Add(29*day - 12*time.Hour))
	e.m.check(ctx)
	if s := e.m.Status(); s.ClockBack || s.EvaluationDaysLeft != 1 || len(e.records(t, "license.clock_back")) != 0 {
		t.Fatalf("12h back: %+v", s)
	}

	// Back ten days: detected and audited once; the license is evaluated at
	// the latest time seen, so the evaluation is not extended.
	e.clk.Set(t0.Add(19 * day))
	e.m.check(ctx)
	e.m.check(ctx)
	s := e.m.Status()
	if !s.ClockBack || s.EvaluationDaysLeft != 1 || !s.At.Equal(t0.Add(29*day)) || !strings.Contains(strings.Join(s.Warnings, " "), "system clock") {
		t.Fatalf("10 days back: %+v", s)
	}
	recs := e.records(t, "license.clock_back")
	if len(recs) != 1 || recs[0].Actor != "system" {
		t.Fatalf("clock_back records = %+v", recs)
	}
	if evs := e.events(t); len(evs) != 1 || evs[0].Reason != "clock_back" {
		t.Fatalf("events = %+v", evs)
	}

	// After a restart, still set back: detected from the stored latest
	// time, not audited again.
	m := e.reopen(t)
	if !m.Status().ClockBack {
		t.Fatal("the latest time seen did not survive a restart")
	}
	m.check(ctx)
	if n := len(e.records(t, "license.clock_back")); n != 1 {
		t.Fatalf("the same incident was audited %d times", n)
	}

	// The clock is corrected, later set back again: a new incident.
	e.clk.Set(t0.Add(31 * day))
	m.check(ctx)
	if s := m.Status(); s.ClockBack || !s.EvaluationEnded {
		t.Fatalf("corrected: %+v", s)
	}
	e.clk.Set(t0)
	m.check(ctx)
	if n := len(e.records(t, "license.clock_back")); n != 2 {
		t.Fatalf("second incident: %d records", n)
	}
	if err := m.AllowsKind("jira"); !errors.Is(err, ErrNotAllowed) {
		t.Fatal("setting the clock back revived the evaluation")
	}
}

func TestClockBackDoesNotReviveExpiredLicense(t *testing.T) {
	e := newEnv(t)
	if _, err := e.m.Import("admin", issue(t, payload())); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(t0.AddDate(1, 0, 30))
	e.m.check(context.Background())
	e.clk.Set(t0.Add(100 * day))
	if s := e.m.Status(); s.State != StateExpired || !s.ClockBack {
		t.Fatalf("status = %+v", s)
	}
}

func TestRevokedKeyMakesStoredLicenseInvalid(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	withKey := func(o *Options) { o.ExtraKeys = Ring{"old-2025": pub} }
	e := newEnv(t, withKey)
	p := payload()
	p.KeyID = "old-2025"
	text, err := Issue(priv, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Import("admin", text); err != nil {
		t.Fatal(err)
	}
	// A later build no longer trusts the key.
	m := e.reopen(t)
	s := m.Status()
	if s.State != StateInvalid || !s.Evaluation || !strings.Contains(s.Problem, `"old-2025"`) {
		t.Fatalf("status = %+v", s)
	}
	e.clk.Add(31 * day)
	if err := m.AllowsKind("jira"); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("an invalid license after the evaluation: %v", err)
	}
}

func TestNewNeedsInstanceID(t *testing.T) {
	st := agenttest.Store(t)
	if _, err := New(st, audit.New(st, nil), nil, Options{}); err == nil || !strings.Contains(err.Error(), "instance id") {
		t.Fatalf("err = %v", err)
	}
	// With an instance id but no initialised_at, the evaluation starts now
	// and stays put across restarts.
	clk := agenttest.NewClock(t0)
	m, err := New(st, audit.New(st, nil), nil, Options{Now: clk.Now, InstanceID: testInstance})
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(10 * day)
	m, _ = New(st, audit.New(st, nil), nil, Options{Now: clk.Now, InstanceID: testInstance})
	if s := m.Status(); s.EvaluationDaysLeft != 20 {
		t.Fatalf("evaluation days left = %d", s.EvaluationDaysLeft)
	}
}

func TestUserCounting(t *testing.T) {
	people := map[string]string{"jira-1/alice": "person-alice", "ado-1/alice@acme.example": "person-alice"}
	e := newEnv(t, func(o *Options) {
		o.PersonOf = func(system, key string) string { return people[system+"/"+key] }
	})
	if _, err := e.m.Import("admin", issue(t, payload())); err != nil { // max 3 users
		t.Fatal(err)
	}
	e.events(t)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.m.SeeUser("jira-1", "alice"))
	must(e.m.SeeUsers([]UserRef{{"ado-1", "alice@acme.example"}, {"jira-1", "bob"}, {"jira-1", "bob"}, {"", "x"}, {"jira-1", ""}}))
	must(e.m.SeeUser("ado-1", "bob@acme.example")) // unmapped: another account, counted apart
	if n := e.m.UsersSeen(); n != 3 {
		t.Fatalf("users seen = %d, want 3 (alice mapped across systems, bob twice in jira)", n)
	}
	e.m.check(ctx)
	if s := e.m.Status(); s.OverLimit || len(e.events(t)) != 0 {
		t.Fatalf("at the limit: %+v", s)
	}
	if bytes.Contains(e.m.Preview(), []byte(`"users_over_limit":true`)) {
		t.Fatal("telemetry flag set at the limit")
	}

	must(e.m.SeeUser("rt-1", "carol"))
	s := e.m.Status()
	if !s.OverLimit || s.UsersSeen != 4 || !strings.Contains(strings.Join(s.Warnings, " "), "4 users were identified in the last year; the license allows 3") {
		t.Fatalf("over the limit: %+v", s)
	}
	if err := e.m.SyncAllowed([]string{"jira"}); err != nil {
		t.Fatalf("over the limit must never stop sync: %v", err)
	}
	if !bytes.Contains(e.m.Preview(), []byte(`"users_over_limit":true`)) {
		t.Fatalf("preview = %s", e.m.Preview())
	}
	e.m.check(ctx)
	e.m.check(ctx)
	if evs := e.events(t); len(evs) != 1 || evs[0].Reason != "users_over_limit" {
		t.Fatalf("events = %+v", evs)
	}
	if recs := e.records(t, "license.users_over_limit"); len(recs) != 1 {
		t.Fatalf("records = %+v", recs)
	}

	// Nothing identifying is stored: only keyed hashes.
	err := e.st.View(func(tx *store.Tx) error {
		return tx.Scan(userKind+"/", "", func(key string, v []byte) error {
			for _, name := range []string{"alice", "bob", "carol", "jira-1", "acme"} {
				if strings.Contains(key, name) || bytes.Contains(v, []byte(name)) {
					t.Errorf("stored user record %s = %s names %q", key, v, name)
				}
			}
			return nil
		})
	})
	must(err)

	// Counts survive a restart; a user maps change merges them.
	people["jira-1/bob"] = "person-bob"
	people["ado-1/bob@acme.example"] = "person-bob"
	m := e.reopen(t, func(o *Options) { o.PersonOf = func(system, key string) string { return people[system+"/"+key] } })
	if n := m.UsersSeen(); n != 4 {
		t.Fatalf("after restart: %d", n)
	}
	must(m.SeeUsers([]UserRef{{"jira-1", "bob"}, {"ado-1", "bob@acme.example"}}))
	if n := m.UsersSeen(); n != 3 {
		t.Fatalf("after mapping bob: %d, want 3", n)
	}
	m.check(ctx)
	if evs := e.events(t); len(evs) != 1 || evs[0].Reason != "users_within_limit" {
		t.Fatalf("events = %+v", evs)
	}

	// A year later nobody counts, and the records are deleted.
	e.clk.Set(t0.Add(400 * day))
	if n := m.UsersSeen(); n != 0 {
		t.Fatalf("a year later: %d", n)
	}
	m.check(ctx)
	left := 0
	e.st.View(func(tx *store.Tx) error {
		return tx.Scan(userKind+"/", "", func(string, []byte) error { left++; return nil })
	})
	if left != 0 {
		t.Fatalf("%d stale user records kept", left)
	}
}

func TestNoLimitWithoutLicense(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{"a", "b", "c", "d", "e"} {
		if err := e.m.SeeUser("sandbox-1", u); err != nil {
			t.Fatal(err)
		}
	}
	if s := e.m.Status(); s.UsersSeen != 5 || s.OverLimit {
		t.Fatalf("status = %+v", s)
	}
}

func TestServeStopsWithContext(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.CheckInterval = time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.m.Serve(ctx) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop")
	}
}
