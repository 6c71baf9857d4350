package license

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEvaluateStates(t *testing.T) {
	lic := &License{Payload: payload()} // t0 .. t0+1y, 14 grace days
	exp := lic.ExpiresAt
	cases := []struct {
		name     string
		lic      *License
		problem  error
		at       time.Time
		state    State
		eval     bool
		ended    bool
		daysLeft int
		warn     string
	}{
		{"missing, day 0", nil, nil, t0, StateMissing, true, false, 0, "Evaluation mode: every system kind works until 2026-03-31 (30 days left)"},
		{"missing, day 29", nil, nil, t0.Add(29 * day), StateMissing, true, false, 0, "(1 days left)"},
		{"missing, day 31", nil, nil, t0.Add(31 * day), StateMissing, true, true, 0, "the 30-day evaluation ended on 2026-03-31; only sandbox systems sync"},
		{"invalid", nil, &FileError{Kind: ErrUnknownKey, Msg: "key gone"}, t0, StateInvalid, true, false, 0, "not usable: unknown license key: key gone"},
		{"not yet valid", lic, nil, t0.Add(-time.Hour), StateInvalid, true, false, 0, "license not valid yet: the license is valid from 2026-03-01"},
		{"valid", lic, nil, t0, StateValid, false, false, 365, ""},
		{"valid, 61 days left", lic, nil, exp.Add(-61 * day), StateValid, false, false, 61, ""},
		{"expiring, 59 days left", lic, nil, exp.Add(-59 * day), StateExpiring, false, false, 59, "expires on 2027-03-01 (59 days left)"},
		{"expiring, 29 days left", lic, nil, exp.Add(-29 * day), StateExpiring, false, false, 29, "(29 days left)"},
		{"expiring, 6 days left", lic, nil, exp.Add(-6 * day), StateExpiring, false, false, 6, "(6 days left)"},
		{"grace", lic, nil, exp, StateGrace, false, false, 0, "expired on 2027-03-01. Sync continues during the grace period, until 2027-03-15"},
		{"grace, last minute", lic, nil, exp.Add(14*day - time.Minute), StateGrace, false, false, 0, "grace period"},
		{"expired", lic, nil, exp.Add(14 * day), StateExpired, false, false, 0, "sync of licensed systems has stopped"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := evaluate(tc.lic, tc.problem, t0, tc.at)
			if s.State != tc.state || s.Evaluation != tc.eval || s.EvaluationEnded != tc.ended || s.DaysLeft != tc.daysLeft {
				t.Fatalf("status = %s eval=%v ended=%v daysLeft=%d; want %s %v %v %d", s.State, s.Evaluation, s.EvaluationEnded, s.DaysLeft,
					tc.state, tc.eval, tc.ended, tc.daysLeft)
			}
			all := strings.Join(s.Warnings, " | ")
			if tc.warn == "" && len(s.Warnings) != 0 || !strings.Contains(all, tc.warn) {
				t.Fatalf("warnings = %q, want %q", all, tc.warn)
			}
			w := s.Wire()
			if w.State != string(tc.state) || (tc.eval != (w.EvaluationEndsAt != nil)) {
				t.Fatalf("wire = %+v", w)
			}
		})
	}
}

func TestAllowsKindAndSyncAllowed(t *testing.T) {
	lic := &License{Payload: payload()} // jira, servicenow
	evalDay0 := evaluate(nil, nil, t0, t0)
	evalDay31 := evaluate(nil, nil, t0, t0.Add(31*day))
	valid := evaluate(lic, nil, t0, t0)
	grace := evaluate(lic, nil, t0, lic.ExpiresAt.Add(day))
	expired := evaluate(lic, nil, t0, lic.GraceEndsAt())
	invalid := evaluate(nil, errors.New("revoked"), t0, t0.Add(40*day))
	cases := []struct {
		name      string
		s         Status
		kind      string
		allowed   bool // AllowsKind: create/activate
		syncs     bool // SyncAllowed
		errSubstr string
	}{
		{"evaluation: sandbox", evalDay0, "sandbox", true, true, ""},
		{"evaluation: any kind", evalDay0, "redmine", true, true, ""},
		{"evaluation ended: sandbox", evalDay31, "sandbox", true, true, ""},
		{"evaluation ended: jira", evalDay31, "jira", false, false, "evaluation ended on 2026-03-31"},
		{"invalid after evaluation", invalid, "jira", false, false, "import a license"},
		{"valid: listed", valid, "jira", true, true, ""},
		{"valid: not listed", valid, "redmine", false, false, "does not include redmine systems (it allows: jira, servicenow)"},
		{"valid: sandbox", valid, "sandbox", true, true, ""},
		{"grace: listed syncs", grace, "servicenow", true, true, ""},
		{"expired: listed stays configurable but does not sync", expired, "jira", true, false, "grace period ended on 2027-03-15"},
		{"expired: sandbox", expired, "sandbox", true, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.AllowsKind(tc.kind)
			if (err == nil) != tc.allowed {
				t.Fatalf("AllowsKind(%s) = %v, want allowed=%v", tc.kind, err, tc.allowed)
			}
			serr := tc.s.SyncAllowed([]string{"sandbox", tc.kind})
			if (serr == nil) != tc.syncs {
				t.Fatalf("SyncAllowed(%s) = %v, want %v", tc.kind, serr, tc.syncs)
			}
			for _, e := range []error{err, serr} {
				if e == nil {
					continue
				}
				var na *NotAllowedError
				if !errors.Is(e, ErrNotAllowed) || !errors.As(e, &na) || na.Kind != tc.kind || !strings.Contains(e.Error(), tc.errSubstr) {
					t.Fatalf("refusal = %v (%+v), want ErrNotAllowed for %s containing %q", e, na, tc.kind, tc.errSubstr)
				}
			}
		})
	}
}

func TestStatusText(t *testing.T) {
	s := evaluate(&License{Payload: payload()}, nil, t0, t0)
	s.UsersSeen = 2
	txt := s.Text()
	for _, want := range []string{"State:            valid", "Customer:         ACME Corp", "License id:       LIC-1 (key test)", "Allowed systems:  jira, servicenow", "Users:            2 seen, 3 allowed"} {
		if !strings.Contains(txt, want) {
			t.Errorf("Text() lacks %q:\n%s", want, txt)
		}
	}
	if txt := evaluate(nil, nil, t0, t0).Text(); !strings.Contains(txt, "missing (evaluation mode)") {
		t.Errorf("evaluation text:\n%s", txt)
	}
	state, exp := s.Summary()
	if state != "valid" || exp == nil || !exp.Equal(s.ExpiresAt) {
		t.Fatalf("Summary = %s %v", state, exp)
	}
}
