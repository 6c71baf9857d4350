package auth

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// endFactsOf decodes the diff of a session.end record.
func endFactsOf(t *testing.T, r audit.Record) endFacts {
	t.Helper()
	var f endFacts
	if err := json.Unmarshal(r.Diff, &f); err != nil {
		t.Fatalf("record %d (%s): diff %s: %v", r.Seq, r.Action, r.Diff, err)
	}
	return f
}

// sessionOf decodes the session id a session.login or session.logout
// record names.
func sessionOf(t *testing.T, r audit.Record) string {
	t.Helper()
	var f struct {
		Session string `json:"session"`
	}
	if err := json.Unmarshal(r.Diff, &f); err != nil {
		t.Fatalf("record %d (%s): diff %s: %v", r.Seq, r.Action, r.Diff, err)
	}
	return f.Session
}

// checkNoToken fails if any audit record carries one of the tokens.
func (e *env) checkNoToken(t *testing.T, sessions ...Session) {
	t.Helper()
	for _, r := range e.records(t, "") {
		raw, _ := json.Marshal(r)
		for _, s := range sessions {
			if tok := s.Token.Reveal(); tok == "" || strings.Contains(string(raw), tok) {
				t.Fatalf("audit record %d (%s) carries a session's token (or the test has none): %s", r.Seq, r.Action, raw)
			}
		}
	}
	if v, err := e.audit.Verify(); err != nil || !v.OK {
		t.Fatalf("audit chain: %+v %v", v, err)
	}
}

// TestTimedOutSessionIsAuditedOnce: a session that times out leaves one
// session.end record saying why (timeout: idle; expired: 12 h since its
// login), whose it was and which session, and when it ended; whichever way
// its end is found (a call, a connection's timer asking Remaining, the
// sweep, several at once), and however often it is asked about after.
func TestTimedOutSessionIsAuditedOnce(t *testing.T) {
	t.Parallel()
	type finder struct {
		name string
		find func(e *env, token string)
	}
	finders := []finder{
		{"validate", func(e *env, tok string) { e.Validate(tok) }},
		{"remaining", func(e *env, tok string) { e.Remaining(tok) }},
		{"sweep", func(e *env, _ string) { e.Sweep() }},
		{"all at once", func(e *env, tok string) {
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					switch i % 3 {
					case 0:
						e.Validate(tok)
					case 1:
						e.Remaining(tok)
					default:
						e.Sweep()
					}
				})
			}
			wg.Wait()
		}},
	}
	cases := []struct {
		name  string
		steps []time.Duration // the clock's moves; Validate after each but the last
		why   string
		ended func(login, lastUse time.Time) time.Time
	}{
		{"idle", []time.Duration{10 * time.Minute, 31 * time.Minute}, EndTimeout,
			func(_, lastUse time.Time) time.Time { return lastUse.Add(30 * time.Minute) }},
		{"absolute", append(repeat(20*time.Minute, 12*3-1), 21*time.Minute), EndExpired,
			func(login, _ time.Time) time.Time { return login.Add(12 * time.Hour) }},
	}
	for _, c := range cases {
		for _, f := range finders {
			t.Run(c.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, nil)
				e.withAccounts(t)
				login := e.clk.Now()
				sess := e.login(t, "alice", alicePW)
				other := e.login(t, "admin", adminPW)
				lastUse := login
				for _, d := range c.steps[:len(c.steps)-1] {
					e.clk.Add(d)
					if _, err := e.Validate(sess.Token.Reveal()); err != nil {
						t.Fatal(err)
					}
					lastUse = e.clk.Now()
					e.Validate(other.Token.Reveal()) // kept alive: only alice's ends
				}
				e.clk.Add(c.steps[len(c.steps)-1])
				f.find(e, sess.Token.Reveal())
				// Asked again, by every way: nothing more is recorded.
				e.Validate(sess.Token.Reveal())
				e.Remaining(sess.Token.Reveal())
				e.Sweep()

				var recs []audit.Record
				for _, r := range e.records(t, "session.end") {
					if r.Actor == "alice" { // admin's session ends too at 12 h
						recs = append(recs, r)
					}
				}
				if len(recs) != 1 {
					t.Fatalf("%d session.end records, want 1: %+v", len(recs), recs)
				}
				r := recs[0]
				if r.Actor != "alice" || r.Target != "account:alice" || r.Result != c.why || r.Remote != remote {
					t.Fatalf("record %+v, want alice's, result %s, remote %s", r, c.why, remote)
				}
				facts := endFactsOf(t, r)
				if facts.Session != sess.ID || !facts.LoggedInAt.Equal(login) || !facts.LastUsedAt.Equal(lastUse) || facts.By != "" {
					t.Fatalf("facts %+v: want session %s, logged in at %v, last used at %v", facts, sess.ID, login, lastUse)
				}
				if want := c.ended(login, lastUse); !facts.EndedAt.Equal(want) {
					t.Fatalf("ended at %v, want %v", facts.EndedAt, want)
				}
				// The login record names the same session, so the two are matched.
				logins := e.records(t, "session.login")
				if len(logins) != 2 || sessionOf(t, logins[0]) != sess.ID {
					t.Fatalf("login records %+v: the first should name session %s", logins, sess.ID)
				}
				if _, err := e.Validate(sess.Token.Reveal()); !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("the ended session: %v", err)
				}
				e.checkNoToken(t, sess, other)
			})
		}
	}
}

// TestSweptSessionEndedWhileStopped: a session whose timeout passed while
// nothing was watching it (the agent stopped) is recorded by the next sweep
// as ended at its deadline, not at the sweep.
func TestSweptSessionEndedWhileStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.withAccounts(t)
	login := e.clk.Now()
	sess := e.login(t, "alice", alicePW)
	e.clk.Add(3 * time.Hour)
	if n, err := e.Sweep(); err != nil || n != 1 {
		t.Fatalf("sweep ended %d: %v", n, err)
	}
	recs := e.records(t, "session.end")
	if len(recs) != 1 || recs[0].Result != EndTimeout {
		t.Fatalf("records %+v", recs)
	}
	if f := endFactsOf(t, recs[0]); !f.EndedAt.Equal(login.Add(30*time.Minute)) || !recs[0].Time.Equal(e.clk.Now()) {
		t.Fatalf("ended at %v, recorded at %v: want the deadline %v, recorded now %v", f.EndedAt, recs[0].Time, login.Add(30*time.Minute), e.clk.Now())
	}
	e.checkNoToken(t, sess)
}

// TestEvictionIsAuditedBeforeItIsReported: a login past MaxSessions evicts
// the least recently used session; when the evicted session's connections
// are told (OnSessionsEnded), the new login's record and the eviction's
// are both in the audit trail already, the eviction naming the session
// that evicted it.
func TestEvictionIsAuditedBeforeItIsReported(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.MaxSessions = 2 })
	e.withAccounts(t)
	s1 := e.login(t, "alice", alicePW)
	e.clk.Add(time.Second)
	s2 := e.login(t, "alice", alicePW)
	e.clk.Add(time.Second)
	var atReport []audit.Record
	reported := 0
	e.OnSessionsEnded(func(string) {
		reported++
		atReport = e.records(t, "")
	})
	s3 := e.login(t, "alice", alicePW)
	if reported != 1 {
		t.Fatalf("the eviction was reported %d times", reported)
	}
	var login, end []audit.Record
	for _, r := range atReport {
		switch r.Action {
		case "session.login":
			if sessionOf(t, r) == s3.ID {
				login = append(login, r)
			}
		case "session.end":
			end = append(end, r)
		}
	}
	if len(login) != 1 {
		t.Fatalf("when the eviction was reported, the login that caused it was not audited: %+v", atReport)
	}
	if len(end) != 1 {
		t.Fatalf("when the eviction was reported, %d session.end records: %+v", len(end), end)
	}
	r := end[0]
	f := endFactsOf(t, r)
	if r.Result != EndEvicted || r.Actor != "alice" || r.Target != "account:alice" || f.Session != s1.ID || f.By != s3.ID {
		t.Fatalf("eviction record %+v %+v: want s1 (%s) evicted by s3 (%s)", r, f, s1.ID, s3.ID)
	}
	if !f.EndedAt.Equal(e.clk.Now()) {
		t.Fatalf("evicted at %v, want now %v", f.EndedAt, e.clk.Now())
	}
	// Nothing more later: the evicted session is gone, not timed out.
	e.clk.Add(13 * time.Hour)
	e.Validate(s1.Token.Reveal())
	e.Sweep()
	ends := e.records(t, "session.end")
	if len(ends) != 3 { // the eviction, then s2 and s3 timing out in the sweep
		t.Fatalf("session.end records %+v", ends)
	}
	for _, r := range ends[1:] {
		if f := endFactsOf(t, r); f.Session == s1.ID || r.Result != EndTimeout {
			t.Fatalf("after the eviction: %+v %+v", r, f)
		}
	}
	e.checkNoToken(t, s1, s2, s3)
}

// TestLoggedOutSessionIsNotAuditedAgain: a logout is recorded once, naming
// the session, and the session's timeout coming round later records
// nothing: it no longer exists.
func TestLoggedOutSessionIsNotAuditedAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.withAccounts(t)
	sess := e.login(t, "alice", alicePW)
	e.clk.Add(29 * time.Minute)
	if err := e.Logout(sess.Token.Reveal(), remote); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(13 * time.Hour)
	e.Validate(sess.Token.Reveal())
	e.Remaining(sess.Token.Reveal())
	e.Sweep()
	if recs := e.records(t, "session.end"); len(recs) != 0 {
		t.Fatalf("a logged-out session was recorded as ended again: %+v", recs)
	}
	outs := e.records(t, "session.logout")
	if len(outs) != 1 || sessionOf(t, outs[0]) != sess.ID || outs[0].Actor != "alice" {
		t.Fatalf("logout records %+v, want one naming session %s", outs, sess.ID)
	}
	e.checkNoToken(t, sess)
}

// TestLogoutRacingTimeout: a logout and the timeout's discovery at the
// same moment leave exactly one record of the session's end, whichever
// wins.
func TestLogoutRacingTimeout(t *testing.T) {
	t.Parallel()
	for range 10 {
		e := newEnv(t, nil)
		e.withAccounts(t)
		sess := e.login(t, "alice", alicePW)
		e.clk.Add(30 * time.Minute) // due now: Remaining and Sweep end it, Logout may come first
		var wg sync.WaitGroup
		wg.Go(func() { e.Logout(sess.Token.Reveal(), remote) })
		wg.Go(func() { e.Remaining(sess.Token.Reveal()) })
		wg.Go(func() { e.Sweep() })
		wg.Wait()
		if n := len(e.records(t, "session.end")) + len(e.records(t, "session.logout")); n != 1 {
			t.Fatalf("%d records of one session's end", n)
		}
	}
}

// TestRevokedSessionsAreAuditedBeforeTold: a lock, a lockout, a new
// password and a deletion end every session of the account, each with its
// own session.end record (result revoked, naming the cause and the
// session), and the change's own record is written too by the time the
// sessions' connections are told.
func TestRevokedSessionsAreAuditedBeforeTold(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, cause, action string
		change              func(e *env, id string) error
	}{
		{"lock", CauseLocked, "accounts.update", func(e *env, id string) error { _, err := e.Update("admin", id, nil, boolp(true)); return err }},
		{"lockout", CauseLockout, "session.lockout", func(e *env, _ string) error {
			for range 5 {
				e.Login(t.Context(), "alice", "wrong-password-z", remote)
			}
			return nil
		}},
		{"set password", CausePassword, "accounts.setPassword", func(e *env, id string) error { return e.SetPassword("admin", id, "a-brand-new-password") }},
		{"delete", CauseDeleted, "accounts.delete", func(e *env, id string) error { return e.Delete("admin", id) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			_, alice := e.withAccounts(t)
			s1, s2 := e.login(t, "alice", alicePW), e.login(t, "alice", alicePW)
			adminSess := e.login(t, "admin", adminPW)
			var atReport []audit.Record
			e.OnSessionsEnded(func(string) { atReport = e.records(t, "") })
			if err := c.change(e, alice.ID); err != nil {
				t.Fatal(err)
			}
			if atReport == nil {
				t.Fatal("the sessions' end was not reported")
			}
			ended := map[string]bool{}
			changes := 0
			for _, r := range atReport {
				switch {
				case r.Action == "session.end":
					f := endFactsOf(t, r)
					if r.Result != EndRevoked || f.Cause != c.cause || r.Actor != "alice" || !f.EndedAt.Equal(e.clk.Now()) {
						t.Fatalf("record %+v %+v: want alice's, revoked, cause %q", r, f, c.cause)
					}
					ended[f.Session] = true
				case r.Action == c.action:
					changes++
				}
			}
			if len(ended) != 2 || !ended[s1.ID] || !ended[s2.ID] || changes != 1 {
				t.Fatalf("when told: sessions recorded as ended %v (want %s and %s), %d %s records: %+v", ended, s1.ID, s2.ID, changes, c.action, atReport)
			}
			// Nothing more for them later.
			e.clk.Add(13 * time.Hour)
			e.Sweep()
			for _, r := range e.records(t, "session.end") {
				if f := endFactsOf(t, r); (f.Session == s1.ID || f.Session == s2.ID) && r.Result != EndRevoked {
					t.Fatalf("a revoked session recorded again: %+v", r)
				}
			}
			e.checkNoToken(t, s1, s2, adminSess)
		})
	}
}

// TestRevocationDoesNotWaitForTheAudit: with the audit trail unwritable
// (its head damaged), a lockout and an administrator's lock still end the
// account's sessions: the lock is what matters; the lock says its records
// are missing.
func TestRevocationDoesNotWaitForTheAudit(t *testing.T) {
	t.Parallel()
	for _, lockout := range []bool{false, true} {
		e := newEnv(t, nil)
		_, alice := e.withAccounts(t)
		sess := e.login(t, "alice", alicePW)
		if err := e.st.Update(func(tx *store.Tx) error { return tx.SetRaw("auditmeta/head", []byte("{damaged")) }); err != nil {
			t.Fatal(err)
		}
		if lockout {
			var err error
			for range 5 {
				_, err = e.Login(t.Context(), "alice", "wrong-password-z", remote)
			}
			var le *LockedError
			if !errors.As(err, &le) {
				t.Fatalf("the fifth failure with the audit unwritable: %v, want locked", err)
			}
		} else if _, err := e.Update("admin", alice.ID, nil, boolp(true)); err == nil || !strings.Contains(err.Error(), "audit record was not written") {
			t.Fatalf("the lock with the audit unwritable: %v, want it done and said unrecorded", err)
		}
		if _, err := e.Validate(sess.Token.Reveal()); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("lockout %v: the session survived: %v", lockout, err)
		}
	}
}

// TestTimedOutSessionEndsUnrecordable: with the audit trail unwritable, a
// session past its deadline is refused all the same; once the trail can
// be written again, the sweep records its end once.
func TestTimedOutSessionEndsUnrecordable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.withAccounts(t)
	sess := e.login(t, "alice", alicePW)
	var head []byte
	if err := e.st.Update(func(tx *store.Tx) error {
		var err error
		if head, err = tx.GetRaw("auditmeta/head"); err != nil {
			return err
		}
		return tx.SetRaw("auditmeta/head", []byte("{damaged"))
	}); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(31 * time.Minute)
	for range 2 {
		if _, err := e.Validate(sess.Token.Reveal()); !errors.Is(err, ErrSessionExpired) {
			t.Fatalf("a timed-out session with the audit unwritable: %v, want expired", err)
		}
		if _, err := e.Remaining(sess.Token.Reveal()); !errors.Is(err, ErrSessionExpired) {
			t.Fatalf("Remaining of it: %v, want expired", err)
		}
	}
	if err := e.st.Update(func(tx *store.Tx) error { return tx.SetRaw("auditmeta/head", head) }); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Sweep(); err != nil || n != 1 {
		t.Fatalf("the sweep ended %d: %v", n, err)
	}
	if recs := e.records(t, "session.end"); len(recs) != 1 || recs[0].Result != EndTimeout {
		t.Fatalf("records %+v", recs)
	}
	e.checkNoToken(t, sess)
}
