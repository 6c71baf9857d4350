package auth

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// testParams keep the suite fast; production parameters are covered by
// TestHashRoundTrip and TestParamsNormalize.
var testParams = Params{Memory: 64, Time: 1, Threads: 1}

const (
	adminPW = "admin-password-1234"
	alicePW = "alice-password-5678"
	remote  = "192.0.2.7:51234"
)

type sleeper struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *sleeper) Sleep(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays = append(s.delays, d)
}
func (s *sleeper) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.delays) }

type env struct {
	*Service
	st    *store.Store
	audit *audit.Log
	clk   *agenttest.Clock
	sleep *sleeper
}

// newEnv opens a real encrypted Badger with a random key and a service with
// an injected clock and a recording no-op sleeper.
func newEnv(t *testing.T, tune func(*Options)) *env {
	t.Helper()
	st := agenttest.Store(t)
	e := &env{st: st, clk: agenttest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)), sleep: &sleeper{}}
	e.audit = audit.New(st, e.clk.Now)
	// An hour of (not really slept) delay: Login then always calls Sleep,
	// however slow a busy machine makes the attempt itself.
	o := Options{Now: e.clk.Now, Sleep: e.sleep.Sleep, FailureDelay: time.Hour}
	if tune != nil {
		tune(&o)
	}
	e.Service = newService(st, e.audit, o.withDefaults(), testParams)
	return e
}

// withAccounts bootstraps "admin" and creates "alice" (operator).
func (e *env) withAccounts(t *testing.T) (admin, alice apitype.Account) {
	t.Helper()
	admin, err := e.Bootstrap("admin", adminPW)
	if err != nil {
		t.Fatal(err)
	}
	alice, err = e.Create("admin", "alice", alicePW, protocol.RoleOperator)
	if err != nil {
		t.Fatal(err)
	}
	return admin, alice
}

func (e *env) login(t *testing.T, user, pw string) Session {
	t.Helper()
	s, err := e.Login(context.Background(), user, pw, remote)
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return s
}

func (e *env) records(t *testing.T, action string) []audit.Record {
	t.Helper()
	var out []audit.Record
	err := e.audit.Each(func(r audit.Record) error {
		if action == "" || r.Action == action {
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func role(r protocol.Role) *protocol.Role { return &r }
func boolp(b bool) *bool                  { return &b }

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, pw string
		ok       bool
	}{
		{"empty", "", false},
		{"11 chars", "abcdefghijk", false},
		{"12 chars", "abcdefghijkl", true},
		{"12 multi-byte chars", "ääääääääääää", true},
		{"1024 bytes", strings.Repeat("x", 1024), true},
		{"1025 bytes", strings.Repeat("x", 1025), false},
		{"invalid utf-8", "abcdefghijkl\xff", false},
	}
	e := newEnv(t, nil)
	e.withAccounts(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckPassword(c.pw)
			if c.ok != (err == nil) {
				t.Fatalf("CheckPassword: %v, want ok=%v", err, c.ok)
			}
			_, cerr := e.Create("admin", "u"+strings.ReplaceAll(c.name, " ", ""), c.pw, protocol.RoleViewer)
			if c.ok {
				if cerr != nil {
					t.Fatalf("create: %v", cerr)
				}
				return
			}
			var inv *fault.InvalidError
			if !errors.As(cerr, &inv) || inv.Field != "password" {
				t.Fatalf("create: %v, want an InvalidError for password", cerr)
			}
			if c.pw != "" && strings.Contains(cerr.Error(), c.pw) {
				t.Fatalf("the error shows the password: %v", cerr)
			}
		})
	}
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, user string
		role       protocol.Role
		field      string // "" means success
		conflict   bool
	}{
		{"ok", "bob", protocol.RoleViewer, "", false},
		{"all allowed characters", "A.b_c@d-9", protocol.RoleViewer, "", false},
		{"64 characters", strings.Repeat("u", 64), protocol.RoleViewer, "", false},
		{"65 characters", strings.Repeat("u", 65), protocol.RoleViewer, "username", false},
		{"empty", "", protocol.RoleViewer, "username", false},
		{"slash", "a/b", protocol.RoleViewer, "username", false},
		{"space", "a b", protocol.RoleViewer, "username", false},
		{"unicode", "jürgen", protocol.RoleViewer, "username", false},
		{"bad role", "carol", protocol.Role("root"), "role", false},
		{"taken", "alice", protocol.RoleViewer, "", true},
		{"taken in another case", "ALICE", protocol.RoleViewer, "", true},
	}
	e := newEnv(t, nil)
	e.withAccounts(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := e.Create("admin", c.user, "a-good-long-password", c.role)
			var inv *fault.InvalidError
			switch {
			case c.conflict:
				if !errors.Is(err, ErrUsernameTaken) || !errors.Is(err, ErrConflict) {
					t.Fatalf("err = %v, want ErrUsernameTaken", err)
				}
			case c.field != "":
				if !errors.As(err, &inv) || inv.Field != c.field {
					t.Fatalf("err = %v, want invalid %s", err, c.field)
				}
			default:
				if err != nil || a.Username != c.user || a.Role != string(c.role) || a.ID == "" {
					t.Fatalf("create: %+v %v", a, err)
				}
			}
		})
	}
	// Logins ignore letter case, like the uniqueness check.
	e.login(t, "ALICE", alicePW)
}

func TestBootstrap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if n, _ := e.Count(); n != 0 {
		t.Fatalf("count = %d", n)
	}
	a, err := e.Bootstrap("root", adminPW)
	if err != nil || a.Role != "admin" {
		t.Fatalf("bootstrap: %+v %v", a, err)
	}
	if _, err := e.Bootstrap("root2", adminPW); !errors.Is(err, ErrInitialized) || !errors.Is(err, ErrConflict) {
		t.Fatalf("second bootstrap: %v", err)
	}
	recs := e.records(t, "accounts.create")
	if len(recs) != 1 || recs[0].Actor != SystemActor || recs[0].Target != "account:root" {
		t.Fatalf("audit: %+v", recs)
	}
	e.login(t, "root", adminPW)
}

func TestGeneratePassword(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 200 {
		p := GeneratePassword()
		if len(p) != 20 || strings.Trim(p, alphabet) != "" || CheckPassword(p) != nil {
			t.Fatalf("bad password %q", p)
		}
		if seen[p] {
			t.Fatalf("repeated password %q", p)
		}
		seen[p] = true
	}
}

// TestLockout: 5 failures lock for 1 minute, the right password is refused
// while locked, the lock expires, the next one is twice as long, a success
// resets the count.
func TestLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, alice := e.withAccounts(t)
	ctx := context.Background()
	fail := func(n int) error {
		t.Helper()
		var err error
		for i := 1; i <= n; i++ {
			_, err = e.Login(ctx, "alice", "wrong-password-"+string(rune('a'+i)), remote)
			if i < n && !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		return err
	}
	wantLocked := func(err error, retry time.Duration) {
		t.Helper()
		var le *LockedError
		if !errors.As(err, &le) || le.RetryAfter != retry {
			t.Fatalf("err = %v, want locked for %v", err, retry)
		}
		if errors.Is(err, ErrUnauthorized) {
			t.Fatal("a lock must map to locked_out, not unauthorized")
		}
	}

	wantLocked(fail(5), time.Minute)
	e.clk.Add(20 * time.Second)
	_, err := e.Login(ctx, "alice", alicePW, remote)
	wantLocked(err, 40*time.Second)
	if a, _ := e.Get(alice.ID); !a.Locked || a.LockedUntil == nil {
		t.Fatalf("account view while locked: %+v", a)
	}
	if n := len(e.records(t, "session.lockout")); n != 1 {
		t.Fatalf("%d lockout records, want 1", n)
	}

	e.clk.Add(41 * time.Second)
	if a, _ := e.Get(alice.ID); a.Locked || a.LockedUntil != nil {
		t.Fatalf("account view after the lock: %+v", a)
	}
	wantLocked(fail(5), 2*time.Minute)
	e.clk.Add(2 * time.Minute)
	wantLocked(fail(5), 4*time.Minute)
	e.clk.Add(4 * time.Minute)

	// A success resets both the failures and the growth.
	e.login(t, "alice", alicePW)
	wantLocked(fail(5), time.Minute)

	// Every failed attempt (locked ones too) was slowed, successes were not.
	if got, want := e.sleep.count(), 5+1+5+5+5; got != want {
		t.Fatalf("%d delays, want %d", got, want)
	}
	for _, d := range e.sleep.delays {
		if d <= 0 || d >= 2*e.o.FailureDelay {
			t.Fatalf("delay %v outside (0, %v)", d, 2*e.o.FailureDelay)
		}
	}
}

func TestLockDurations(t *testing.T) {
	t.Parallel()
	o := Options{}.withDefaults()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var l lockState
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour} {
		for f := 1; f < o.MaxFailures; f++ {
			if l.fail(now, o) {
				t.Fatalf("lock %d: locked after %d failures", i+1, f)
			}
		}
		if !l.fail(now, o) {
			t.Fatalf("lock %d: not locked after %d failures", i+1, o.MaxFailures)
		}
		if got := l.LockedUntil.Sub(now); got != want {
			t.Fatalf("lock %d lasts %v, want %v", i+1, got, want)
		}
		now = *l.LockedUntil
	}
	// A quiet day forgets everything: the next lock is the shortest again,
	// and so are old failures.
	l.fail(now, o)
	now = now.Add(lockoutMemory + time.Second)
	if !l.forgotten(now) {
		t.Fatal("state not forgotten after a quiet day")
	}
	for f := 1; f < o.MaxFailures; f++ {
		if l.fail(now, o) {
			t.Fatalf("old failures still counted")
		}
	}
	if !l.fail(now, o) || l.LockedUntil.Sub(now) != time.Minute {
		t.Fatalf("after a quiet day the lock lasts %v", l.LockedUntil.Sub(now))
	}
}

func TestLockedErrorSeconds(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    time.Duration
		want int
	}{{0, 0}, {time.Millisecond, 1}, {time.Second, 1}, {1500 * time.Millisecond, 2}, {time.Hour, 3600}} {
		if got := (&LockedError{RetryAfter: c.d}).RetryAfterSeconds(); got != c.want {
			t.Fatalf("RetryAfterSeconds(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}

func TestAdminLockAndUnlock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, alice := e.withAccounts(t)
	ctx := context.Background()
	for range 5 {
		e.Login(ctx, "alice", "not-her-password", remote)
	}
	if _, err := e.Update("admin", alice.ID, nil, boolp(false)); err != nil {
		t.Fatal(err)
	}
	sess := e.login(t, "alice", alicePW)

	// An administrator's lock has no end, ends the sessions and refuses the
	// right password.
	a, err := e.Update("admin", alice.ID, nil, boolp(true))
	if err != nil || !a.Locked || a.LockedUntil != nil {
		t.Fatalf("lock: %+v %v", a, err)
	}
	if _, err := e.Validate(sess.Token.Reveal()); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("session survived the lock: %v", err)
	}
	_, err = e.Login(ctx, "alice", alicePW, remote)
	var le *LockedError
	if !errors.As(err, &le) || le.RetryAfter != 0 || le.RetryAfterSeconds() != 0 {
		t.Fatalf("login while admin-locked: %v", err)
	}
	e.clk.Add(48 * time.Hour)
	if _, err := e.Login(ctx, "alice", alicePW, remote); !errors.As(err, &le) {
		t.Fatalf("an admin lock expired: %v", err)
	}
	if _, err := e.Update("admin", alice.ID, nil, boolp(false)); err != nil {
		t.Fatal(err)
	}
	e.login(t, "alice", alicePW)

	var diffs []string
	for _, r := range e.records(t, "accounts.update") {
		diffs = append(diffs, string(r.Diff))
	}
	if len(diffs) != 3 || !strings.Contains(diffs[1], `"field":"locked","before":false,"after":true`) ||
		!strings.Contains(diffs[1], `"field":"sessions"`) {
		t.Fatalf("update diffs: %q", diffs)
	}
}

// TestNoEnumeration: an unknown username and a wrong password are told
// apart by nothing the caller sees: the error, the delay, the lockout; both
// are audited with the remote address.
func TestNoEnumeration(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.withAccounts(t)
	type outcome struct {
		errs   []string
		delays int
		lock   time.Duration
	}
	try := func(user string) outcome {
		var o outcome
		before := e.sleep.count()
		for range 6 {
			_, err := e.Login(context.Background(), user, "some-wrong-password", remote)
			o.errs = append(o.errs, err.Error())
			var le *LockedError
			if errors.As(err, &le) {
				o.lock = le.RetryAfter
			} else if !errors.Is(err, ErrBadCredentials) || !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("%s: %v", user, err)
			}
		}
		o.delays = e.sleep.count() - before
		return o
	}
	known, unknown := try("alice"), try("mallory")
	if strings.Join(known.errs, "|") != strings.Join(unknown.errs, "|") || known.delays != unknown.delays || known.lock != unknown.lock {
		t.Fatalf("known and unknown users differ:\n%+v\n%+v", known, unknown)
	}
	if known.lock != time.Minute {
		t.Fatalf("lock %v", known.lock)
	}
	// The dummy hash costs what a real one does.
	d, err := parseHash(e.dummy)
	if err != nil || d.p != e.params || len(d.salt) != saltLen || len(d.key) != keyLen {
		t.Fatalf("dummy hash %+v %v", d.p, err)
	}
	n := 0
	for _, r := range e.records(t, "session.login") {
		if r.Actor == "alice" && r.Result == audit.Failure && r.Remote == remote && r.Target == "account:alice" {
			n++
		}
		if r.Actor == "mallory" || strings.Contains(string(r.Diff), "mallory") {
			t.Fatalf("an unknown user's attempt was audited on its own: %+v", r)
		}
	}
	if n != 6 {
		t.Fatalf("alice: %d audited failures with the remote address, want 6", n)
	}
	if n := len(e.records(t, "session.lockout")); n != 1 {
		t.Fatalf("%d lockouts audited, want 1 (alice's; mallory's is in the window's record)", n)
	}
	// The unknown user's attempts are in one record for the address.
	e.FlushFailures(true)
	agg := e.records(t, "session.login")
	last := agg[len(agg)-1]
	if last.Actor != UnknownActor || last.Remote != remote || last.Result != audit.Failure ||
		!strings.Contains(string(last.Diff), `{"field":"attempts","after":6}`) ||
		!strings.Contains(string(last.Diff), `{"field":"lockouts","after":1}`) ||
		!strings.Contains(string(last.Diff), `"after":["mallory"]`) {
		t.Fatalf("aggregate record: %+v %s", last, last.Diff)
	}
	if len(e.phantoms) != 1 {
		t.Fatalf("phantoms %v", e.phantoms)
	}
	e.clk.Add(lockoutMemory + time.Hour)
	if _, err := e.Sweep(); err != nil || len(e.phantoms) != 0 {
		t.Fatalf("sweep kept %d phantoms: %v", len(e.phantoms), err)
	}
}

func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// steps advance the clock and validate; the last one must expire.
		steps []time.Duration
	}{
		{"idle", []time.Duration{29 * time.Minute, 29 * time.Minute, 30 * time.Minute}},
		{"idle exactly", []time.Duration{30 * time.Minute}},
		{"absolute", append(repeat(20*time.Minute, 12*3-1), 20*time.Minute)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.withAccounts(t)
			sess := e.login(t, "alice", alicePW)
			for i, d := range c.steps {
				e.clk.Add(d)
				got, err := e.Validate(sess.Token.Reveal())
				if i < len(c.steps)-1 {
					if err != nil || got.Account.Username != "alice" || got.Role != protocol.RoleOperator || got.Token != "" {
						t.Fatalf("step %d: %+v %v", i, got, err)
					}
					continue
				}
				if !errors.Is(err, ErrSessionExpired) || !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("last step: %v, want expired", err)
				}
			}
			// The expired session is gone, not expired again.
			if _, err := e.Validate(sess.Token.Reveal()); !errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrSessionExpired) {
				t.Fatalf("after expiry: %v", err)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestValidateTouchesAtMostOncePerMinute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.withAccounts(t)
	sess := e.login(t, "alice", alicePW)
	id, _ := tokenID(sess.Token.Reveal())
	lastSeen := func() time.Time {
		r, err := e.sessions.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		return r.LastSeenAt
	}
	login := lastSeen()
	e.clk.Add(50 * time.Second)
	if s, err := e.Validate(sess.Token.Reveal()); err != nil || !s.ExpiresAt.Equal(login.Add(30*time.Minute)) {
		t.Fatalf("validate: %+v %v", s, err)
	}
	if !lastSeen().Equal(login) {
		t.Fatal("validate wrote within the first minute")
	}
	e.clk.Add(20 * time.Second)
	s, err := e.Validate(sess.Token.Reveal())
	if err != nil || !lastSeen().Equal(e.clk.Now()) || !s.ExpiresAt.Equal(e.clk.Now().Add(30*time.Minute)) {
		t.Fatalf("validate after a minute: %+v %v, last seen %v", s, err, lastSeen())
	}
}

func TestValidateRejectsBadTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.withAccounts(t)
	good := e.login(t, "alice", alicePW).Token.Reveal()
	unknown, _ := newToken()
	for name, tok := range map[string]string{
		"empty": "", "short": "abc", "long": good + "A", "padded": good + "=",
		"not base64url": strings.Repeat("*", len(good)), "unknown": unknown,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := e.Validate(tok); !errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrSessionExpired) {
				t.Fatalf("validate: %v", err)
			}
			if err := e.Logout(tok, remote); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("logout: %v", err)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.withAccounts(t)
	sess := e.login(t, "alice", alicePW)
	other := e.login(t, "alice", alicePW)
	if err := e.Logout(sess.Token.Reveal(), remote); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Validate(sess.Token.Reveal()); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("validate after logout: %v", err)
	}
	if _, err := e.Validate(other.Token.Reveal()); err != nil {
		t.Fatalf("logout ended another session: %v", err)
	}
	if err := e.Logout(sess.Token.Reveal(), remote); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("second logout: %v", err)
	}
	recs := e.records(t, "session.logout")
	if len(recs) != 1 || recs[0].Actor != "alice" || recs[0].Remote != remote {
		t.Fatalf("audit %+v", recs)
	}
}

// TestRevocation: a password change and a deletion end every session of
// the account; a role change keeps them but applies at once.
func TestRevocation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(e *env, id string) error
		ends   bool
	}{
		{"set password", func(e *env, id string) error { return e.SetPassword("admin", id, "a-brand-new-password") }, true},
		{"delete", func(e *env, id string) error { return e.Delete("admin", id) }, true},
		{"lock", func(e *env, id string) error { _, err := e.Update("admin", id, nil, boolp(true)); return err }, true},
		{"role", func(e *env, id string) error {
			_, err := e.Update("admin", id, role(protocol.RoleViewer), nil)
			return err
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			_, alice := e.withAccounts(t)
			s1, s2 := e.login(t, "alice", alicePW), e.login(t, "alice", alicePW)
			adminSess := e.login(t, "admin", adminPW)
			if err := c.change(e, alice.ID); err != nil {
				t.Fatal(err)
			}
			for _, s := range []Session{s1, s2} {
				got, err := e.Validate(s.Token.Reveal())
				if c.ends && !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("session survived: %v", err)
				}
				if !c.ends && (err != nil || got.Role != protocol.RoleViewer || got.Account.Role != "viewer") {
					t.Fatalf("after the role change: %+v %v", got, err)
				}
			}
			if _, err := e.Validate(adminSess.Token.Reveal()); err != nil {
				t.Fatalf("another account's session ended: %v", err)
			}
		})
	}
}

func TestSetPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, alice := e.withAccounts(t)
	const newPW = "the-new-password-42"
	if err := e.SetPassword("admin", alice.ID, "short"); !isInvalid(err, "password") {
		t.Fatalf("short password: %v", err)
	}
	if err := e.SetPassword("admin", "0123456789abcdef0123456789abcdef", newPW); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if err := e.SetPassword("admin", alice.ID, newPW); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Login(context.Background(), "alice", alicePW, remote); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password: %v", err)
	}
	e.login(t, "alice", newPW)
	recs := e.records(t, "accounts.setPassword")
	if len(recs) != 1 || recs[0].Actor != "admin" || string(recs[0].Diff) != `[{"field":"password","before":"[redacted]","after":"[redacted]"}]` {
		t.Fatalf("audit %+v %s", recs, recs[0].Diff)
	}
}

func isInvalid(err error, field string) bool {
	var inv *fault.InvalidError
	return errors.As(err, &inv) && inv.Field == field
}

func TestLastAdmin(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		setup     func(e *env) // runs after withAccounts
		change    func(e *env, id string) error
		forbidden bool
	}{
		{"delete the only admin", nil, func(e *env, id string) error { return e.Delete("admin", id) }, true},
		{"demote the only admin", nil, func(e *env, id string) error {
			_, err := e.Update("admin", id, role(protocol.RoleOperator), nil)
			return err
		}, true},
		{"lock the only admin", nil, func(e *env, id string) error { _, err := e.Update("admin", id, nil, boolp(true)); return err }, true},
		{"the other admin is locked", func(e *env) {
			b, _ := e.Create("admin", "bob", "bob-password-1234", protocol.RoleAdmin)
			e.Update("admin", b.ID, nil, boolp(true))
		}, func(e *env, id string) error { return e.Delete("admin", id) }, true},
		{"delete with a second admin", func(e *env) {
			e.Create("admin", "bob", "bob-password-1234", protocol.RoleAdmin)
		}, func(e *env, id string) error { return e.Delete("admin", id) }, false},
		{"demote with a second admin", func(e *env) {
			e.Create("admin", "bob", "bob-password-1234", protocol.RoleAdmin)
		}, func(e *env, id string) error {
			_, err := e.Update("admin", id, role(protocol.RoleViewer), nil)
			return err
		}, false},
		{"re-affirm the only admin's role", nil, func(e *env, id string) error {
			_, err := e.Update("admin", id, role(protocol.RoleAdmin), boolp(false))
			return err
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			admin, _ := e.withAccounts(t)
			if c.setup != nil {
				c.setup(e)
			}
			err := c.change(e, admin.ID)
			if c.forbidden != errors.Is(err, ErrLastAdmin) {
				t.Fatalf("err = %v, want last-admin refusal: %v", err, c.forbidden)
			}
			if c.forbidden {
				if !errors.Is(err, ErrConflict) {
					t.Fatalf("%v is not a conflict", err)
				}
				if a, err := e.Get(admin.ID); err != nil || a.Role != "admin" || a.Locked {
					t.Fatalf("the refused change happened: %+v %v", a, err)
				}
			}
		})
	}
}

// TestLastAdminConcurrent: two admins demoting each other at once cannot
// both succeed.
func TestLastAdminConcurrent(t *testing.T) {
	t.Parallel()
	for range 5 {
		e := newEnv(t, nil)
		a, _ := e.withAccounts(t)
		b, _ := e.Create("admin", "bob", "bob-password-1234", protocol.RoleAdmin)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []string{a.ID, b.ID} {
			wg.Go(func() { _, errs[i] = e.Update("admin", id, role(protocol.RoleViewer), nil) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("errors %v", errs)
		}
	}
}

func TestAccountsReadAndDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	admin, alice := e.withAccounts(t)
	e.Create("admin", "Bob", "bob-password-1234", protocol.RoleViewer)
	e.login(t, "alice", alicePW)
	list, err := e.List()
	if err != nil || len(list) != 3 || list[0].Username != "admin" || list[1].Username != "alice" || list[2].Username != "Bob" {
		t.Fatalf("list: %+v %v", list, err)
	}
	if list[1].LastLoginAt == nil || !list[1].LastLoginAt.Equal(e.clk.Now()) || list[0].LastLoginAt != nil {
		t.Fatalf("last login: %+v", list)
	}
	raw, _ := json.Marshal(list)
	if strings.Contains(string(raw), "argon2") || strings.Contains(string(raw), "hash") {
		t.Fatalf("list leaks the hash: %s", raw)
	}
	if got, err := e.Get(admin.ID); err != nil || got.Username != "admin" {
		t.Fatalf("get: %+v %v", got, err)
	}
	for _, id := range []string{"", "nope", "../account/x", strings.ToUpper(alice.ID)} {
		if _, err := e.Get(id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("get %q: %v", id, err)
		}
	}
	if err := e.Delete("admin", alice.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.Delete("admin", alice.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if n, err := e.Count(); err != nil || n != 2 {
		t.Fatalf("count %d %v", n, err)
	}
	// The name is free again.
	if _, err := e.Create("admin", "ALICE", alicePW, protocol.RoleViewer); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Update("admin", alice.ID, role(protocol.RoleAdmin), nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update deleted: %v", err)
	}
	if _, err := e.Update("admin", admin.ID, role("god"), nil); !isInvalid(err, "role") {
		t.Fatalf("bad role: %v", err)
	}
}

// TestNothingSecretStored: the store holds neither a token nor a password,
// and the audit never a password or hash.
func TestNothingSecretStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, alice := e.withAccounts(t)
	const newPW = "the-new-password-42"
	sess := e.login(t, "alice", alicePW)
	adminSess := e.login(t, "admin", adminPW)
	e.Login(context.Background(), "alice", "typo-password-1", remote)
	e.Login(context.Background(), "nobody", "typo-password-2", remote)
	e.SetPassword("admin", alice.ID, newPW)
	sess2 := e.login(t, "alice", newPW)
	e.Update("admin", alice.ID, role(protocol.RoleViewer), boolp(true))
	e.Update("admin", alice.ID, nil, boolp(false))
	e.Delete("admin", alice.ID)

	secrets := []string{adminPW, alicePW, newPW, "typo-password-1", "typo-password-2",
		sess.Token.Reveal(), sess2.Token.Reveal(), adminSess.Token.Reveal()}
	sessions, hashes := 0, 0
	err := e.st.View(func(tx *store.Tx) error {
		return tx.Scan("", "", func(key string, value []byte) error {
			if strings.HasPrefix(key, "session/") {
				sessions++
			}
			if strings.Contains(string(value), "$argon2id$") {
				hashes++
				if !strings.HasPrefix(key, "account/") {
					t.Errorf("a hash is stored under %s", key)
				}
			}
			for _, s := range secrets {
				if strings.Contains(key, s) || strings.Contains(string(value), s) {
					t.Errorf("%s holds a secret", key)
				}
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if sessions == 0 || hashes != 1 {
		t.Fatalf("scanned %d sessions and %d hashes: the test looked at nothing", sessions, hashes)
	}
	recs := e.records(t, "")
	if len(recs) < 10 {
		t.Fatalf("only %d audit records", len(recs))
	}
	for _, r := range recs {
		raw, _ := json.Marshal(r)
		for _, s := range append(secrets, "argon2") {
			if strings.Contains(string(raw), s) {
				t.Fatalf("audit record %d (%s) contains a secret: %s", r.Seq, r.Action, raw)
			}
		}
	}
	if v, err := e.audit.Verify(); err != nil || !v.OK {
		t.Fatalf("audit chain: %+v %v", v, err)
	}
}

func TestRehashOnLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, alice := e.withAccounts(t)
	stronger := Params{Memory: 128, Time: 2, Threads: 1}
	e2 := newService(e.st, e.audit, e.o, stronger)
	if _, err := e2.Login(context.Background(), "alice", alicePW, remote); err != nil {
		t.Fatal(err)
	}
	a, _ := e.accounts.Get(alice.ID)
	h, err := parseHash(a.Hash)
	if err != nil || h.p != stronger {
		t.Fatalf("stored params %+v after login, want %+v (%v)", h.p, stronger, err)
	}
	// The new hash still verifies, with either service.
	if _, err := e2.Login(context.Background(), "alice", alicePW, remote); err != nil {
		t.Fatal(err)
	}
}

func TestMaxSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.MaxSessions = 2 })
	_, alice := e.withAccounts(t)
	var ended []string
	e.OnSessionsEnded(func(id string) { ended = append(ended, id) })
	s1 := e.login(t, "alice", alicePW)
	e.clk.Add(time.Second)
	s2 := e.login(t, "alice", alicePW)
	if len(ended) != 0 {
		t.Fatalf("a login that evicted nothing reported ended sessions of %v", ended)
	}
	e.clk.Add(time.Second)
	s3 := e.login(t, "alice", alicePW)
	// The evicted session's connections are told at once.
	if !slices.Equal(ended, []string{alice.ID}) {
		t.Fatalf("sessions ended reported for %v, want [%s]", ended, alice.ID)
	}
	if _, err := e.Validate(s1.Token.Reveal()); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("oldest session survived: %v", err)
	}
	for _, s := range []Session{s2, s3} {
		if _, err := e.Validate(s.Token.Reveal()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSweepAndServe(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.SweepInterval = time.Millisecond })
	e.withAccounts(t)
	old := e.login(t, "alice", alicePW)
	e.clk.Add(20 * time.Minute)
	fresh := e.login(t, "admin", adminPW)
	e.clk.Add(15 * time.Minute)
	n, err := e.Sweep()
	if err != nil || n != 1 {
		t.Fatalf("sweep deleted %d: %v", n, err)
	}
	if _, err := e.Validate(old.Token.Reveal()); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("swept session: %v", err)
	}
	if _, err := e.Validate(fresh.Token.Reveal()); err != nil {
		t.Fatalf("live session: %v", err)
	}
	e.clk.Add(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx) }()
	agenttest.Eventually(t, "Serve to remove the expired sessions", func() bool {
		left := 0
		e.st.View(func(tx *store.Tx) error {
			return tx.Scan("session/", "", func(string, []byte) error { left++; return nil })
		})
		return left == 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

func TestLoginHonoursContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.MaxConcurrentHashes = 1 })
	e.withAccounts(t)
	for _, addr := range []string{"elsewhere", "elsewhere-2"} { // every slot busy, the spare too
		release, err := e.gate.acquire(context.Background(), addr, false)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := e.Login(ctx, "alice", alicePW, remote); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("login: %v", err)
	}
	if e.sleep.count() != 0 {
		t.Fatal("a cancelled login was delayed")
	}
}

// TestConcurrentUse is for -race: logins, validations and changes at once.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, alice := e.withAccounts(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 5 {
				pw := alicePW
				if (i+j)%3 == 0 {
					pw = "wrong-password-xyz"
				}
				s, err := e.Login(context.Background(), "alice", pw, remote)
				if err == nil {
					e.Validate(s.Token.Reveal())
					e.Logout(s.Token.Reveal(), remote)
				}
				e.clk.Add(time.Second)
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			e.Update("admin", alice.ID, nil, boolp(false))
			e.Sweep()
		}
	})
	wg.Wait()
	if v, err := e.audit.Verify(); err != nil || !v.OK {
		t.Fatalf("audit chain: %+v %v", v, err)
	}
}

// Account changes are announced by auth itself (not by the API layer), so
// every way an account changes tells the desktop: one ConfigChanged each.
func TestAccountChangesAreAnnounced(t *testing.T) {
	bus := events.New(64, nil)
	sub, _, _ := bus.Subscribe([]string{apitype.EventConfigChanged}, nil, 64)
	defer sub.Close()
	e := newEnv(t, func(o *Options) { o.Bus = bus })
	_, alice := e.withAccounts(t)
	viewer := protocol.RoleViewer
	if _, err := e.Update("admin", alice.ID, &viewer, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.SetPassword("admin", alice.ID, "another long password 42"); err != nil {
		t.Fatal(err)
	}
	if err := e.Delete("admin", alice.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Create("admin", "alice", "short", protocol.RoleViewer); err == nil {
		t.Fatal("a refused create succeeded")
	}
	want := []string{"create", "update", "update", "delete"}
	for i, action := range want {
		var ev events.Event
		select {
		case ev = <-sub.C(): // Publish delivers before it returns
		default:
			t.Fatalf("event %d (%s) was not published", i, action)
		}
		var cc apitype.ConfigChanged
		if err := json.Unmarshal(ev.Data, &cc); err != nil {
			t.Fatal(err)
		}
		if cc.Kind != "account" || cc.ID != alice.ID || cc.Action != action || cc.Actor != "admin" {
			t.Fatalf("event %d: %+v, want account %s %s by admin", i, cc, alice.ID, action)
		}
	}
	select {
	case ev := <-sub.C():
		t.Fatalf("an extra event: %+v", ev)
	default:
	}
}

// TestSessionCheckStoreFailureIsNotUnauthorized: when the store cannot
// give a session's record, Validate and Remaining fail with an error that
// is not ErrUnauthorized, so the API layer answers the call with an
// internal error and keeps the session instead of ending it; the record
// is left as it was.
func TestSessionCheckStoreFailureIsNotUnauthorized(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.withAccounts(t)
	s := e.login(t, "alice", alicePW)
	id, _ := tokenID(s.Token.Reveal())
	key := e.sessions.Key(id)
	var good []byte
	if err := e.st.Update(func(tx *store.Tx) error {
		var err error
		if good, err = tx.GetRaw(key); err != nil {
			return err
		}
		return tx.SetRaw(key, []byte("{not a session"))
	}); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(2 * time.Minute) // Validate would write the last-seen time
	if _, err := e.Validate(s.Token.Reveal()); err == nil || errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Validate of an unreadable session: %v, want a store error that is not unauthorized", err)
	}
	if _, err := e.Remaining(s.Token.Reveal()); err == nil || errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Remaining of an unreadable session: %v, want a store error that is not unauthorized", err)
	}
	// Once the store reads again, the session is there, as alive as before.
	if err := e.st.Update(func(tx *store.Tx) error { return tx.SetRaw(key, good) }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Validate(s.Token.Reveal()); err != nil {
		t.Fatalf("the session did not survive the store's failure: %v", err)
	}
}
