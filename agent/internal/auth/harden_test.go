package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
)

// TestUnknownUserFailuresAreAggregated: a flood of failed logins for names
// without an account costs one audit record per address and window, which
// still says how many, from where, when and which names; every failure
// against a real account keeps its own record.
func TestUnknownUserFailuresAreAggregated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.FailureWindow = time.Minute })
	e.withAccounts(t)
	before := len(e.records(t, ""))
	ctx := context.Background()
	const flood = 400
	for i := range flood {
		e.Login(ctx, fmt.Sprintf("guess%03d", i%40), "password-guess", "203.0.113.9")
		if i%100 == 99 {
			e.clk.Add(time.Second)
		}
	}
	for range 3 {
		e.Login(ctx, "nobody", "password-guess", "198.51.100.4")
	}
	for range 3 {
		e.Login(ctx, "alice", "wrong-password-x", "198.51.100.4")
	}
	// Before the window ends, only alice's failures are written.
	recs := e.records(t, "")[before:]
	if len(recs) != 3 {
		t.Fatalf("%d records before the window ended, want alice's 3: %+v", len(recs), recs)
	}
	for _, r := range recs {
		if r.Actor != "alice" || r.Result != audit.Failure || r.Remote != "198.51.100.4" {
			t.Fatalf("unexpected record %+v", r)
		}
	}
	// The window ends: one record per address.
	e.clk.Add(time.Minute)
	e.FlushFailures(false)
	recs = e.records(t, "")[before+3:]
	if len(recs) != 2 {
		t.Fatalf("%d aggregate records, want 2: %+v", len(recs), recs)
	}
	byAddr := map[string]audit.Record{}
	for _, r := range recs {
		if r.Actor != UnknownActor || r.Action != "session.login" || r.Result != audit.Failure {
			t.Fatalf("aggregate record %+v", r)
		}
		byAddr[r.Remote] = r
	}
	flood1 := string(byAddr["203.0.113.9"].Diff)
	for _, want := range []string{fmt.Sprintf(`{"field":"attempts","after":%d}`, flood), `"guess000"`, `"guess009"`,
		`{"field":"moreUsernames","after":true}`, `{"field":"lockouts","after":`, `{"field":"from","after":"2026-03-01T09:00:00Z"}`} {
		if !strings.Contains(flood1, want) {
			t.Errorf("flood record %s lacks %s", flood1, want)
		}
	}
	if strings.Contains(flood1, `"guess010"`) {
		t.Errorf("the record lists more than %d names: %s", sampleNames, flood1)
	}
	if d := string(byAddr["198.51.100.4"].Diff); !strings.Contains(d, `{"field":"attempts","after":3}`) || !strings.Contains(d, `["nobody"]`) {
		t.Errorf("second address: %s", d)
	}
	if n := len(e.records(t, "session.lockout")); n != 0 {
		t.Errorf("%d lockout records for unknown names, want them counted in the window's record", n)
	}

	// Stopping writes what is still open.
	e.Login(ctx, "ghost", "password-guess", "192.0.2.55")
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Serve(sctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	last := e.records(t, "")
	if r := last[len(last)-1]; r.Actor != UnknownActor || r.Remote != "192.0.2.55" || !strings.Contains(string(r.Diff), `["ghost"]`) {
		t.Fatalf("shutdown did not write the open window: %+v %s", r, r.Diff)
	}
	if v, err := e.audit.Verify(); err != nil || !v.OK {
		t.Fatalf("audit chain: %+v %v", v, err)
	}
}

// TestLockoutEndsSessions: the failure that locks an account also ends the
// sessions it already has, and says so to whoever holds them.
func TestLockoutEndsSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, alice := e.withAccounts(t)
	s1 := e.login(t, "alice", alicePW)
	s2 := e.login(t, "alice", alicePW)
	admin := e.login(t, "admin", adminPW)
	var mu sync.Mutex
	var told []string
	e.OnSessionsEnded(func(id string) { mu.Lock(); told = append(told, id); mu.Unlock() })
	var err error
	for range 5 {
		_, err = e.Login(context.Background(), "alice", "wrong-password-y", remote)
	}
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("fifth failure: %v", err)
	}
	for _, s := range []Session{s1, s2} {
		if _, err := e.Validate(s.Token.Reveal()); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("alice's session after the lockout: %v", err)
		}
	}
	if _, err := e.Validate(admin.Token.Reveal()); err != nil {
		t.Fatalf("another account's session ended: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(told) != 1 || told[0] != alice.ID {
		t.Fatalf("told %v, want alice's id once", told)
	}
	lock := e.records(t, "session.lockout")
	if len(lock) != 1 || !strings.Contains(string(lock[0].Diff), `{"field":"sessions","before":2,"after":0}`) {
		t.Fatalf("lockout record: %+v", lock)
	}
}

// TestGateServesCleanAddressesFirst: with the one slot busy and guessers
// waiting, an attempt from an address without failures is next, each
// address runs one attempt at a time, and an address cannot queue more
// than its share.
func TestGateServesCleanAddressesFirst(t *testing.T) {
	t.Parallel()
	g := newGate(1, 0, 2, 100)
	ctx := context.Background()
	hold, err := g.acquire(ctx, "guesser-0", true)
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 16)
	var wg sync.WaitGroup
	start := func(addr string, suspect bool, inLine int) {
		queued := make(chan struct{})
		wg.Go(func() {
			go func() {
				// Wait until the attempt is in line, so the order is defined.
				for {
					g.mu.Lock()
					l := g.addrs[addr]
					n := 0
					if l != nil {
						n = len(l.waiters)
					}
					g.mu.Unlock()
					if n >= inLine {
						close(queued)
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
			release, err := g.acquire(ctx, addr, suspect)
			if err != nil {
				t.Errorf("%s: %v", addr, err)
				return
			}
			order <- addr
			release()
		})
		<-queued
	}
	for i := 1; i <= 3; i++ {
		start(fmt.Sprintf("guesser-%d", i), true, 1)
	}
	start("admin-desk", false, 1)
	// guesser-0 may queue two more, not a third.
	start("guesser-0", true, 1)
	start("guesser-0", true, 2)
	if _, err := g.acquire(ctx, "guesser-0", true); !errors.Is(err, ErrBusy) {
		t.Fatalf("a third waiting attempt from one address: %v, want ErrBusy", err)
	}
	// A cancelled wait leaves the line.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.acquire(cctx, "guesser-9", true); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	hold()
	wg.Wait()
	close(order)
	var got []string
	for a := range order {
		got = append(got, a)
	}
	want := "admin-desk guesser-1 guesser-2 guesser-3 guesser-0 guesser-0"
	if strings.Join(got, " ") != want {
		t.Fatalf("order %v, want %s", got, want)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.free != 1 || g.waiting != 0 || len(g.addrs) != 0 || len(g.ready[0])+len(g.ready[1]) != 0 {
		t.Fatalf("gate not back to rest: free %d waiting %d addrs %d", g.free, g.waiting, len(g.addrs))
	}
}

// TestGateKeepsASpareSlotForCleanAddresses: with the general slot held by a
// guess, an attempt from an address without failures starts at once in the
// spare slot; a guess never takes the spare, and none starts while the
// honest attempt is hashing.
func TestGateKeepsASpareSlotForCleanAddresses(t *testing.T) {
	t.Parallel()
	g := newGate(1, 1, 4, 100)
	ctx := context.Background()
	guess, err := g.acquire(ctx, "guesser", true)
	if err != nil {
		t.Fatal(err)
	}
	honest, err := g.acquire(ctx, "admin-desk", false) // must not block
	if err != nil {
		t.Fatal(err)
	}
	guess() // the general slot is free again, but the honest hash runs
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := g.acquire(short, "guesser-2", true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a guess started beside an honest login: %v", err)
	}
	honest()
	next, err := g.acquire(ctx, "guesser-2", true)
	if err != nil {
		t.Fatalf("a guess after the honest login: %v", err)
	}
	next()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.free != 1 || g.spare != 1 || g.clean != 0 || len(g.addrs) != 0 {
		t.Fatalf("slots not returned: free %d spare %d clean %d addrs %d", g.free, g.spare, g.clean, len(g.addrs))
	}
}

// TestAuditNamesAreDefanged: a username an attacker typed reaches the audit
// trail without control or bidirectional characters, bounded.
func TestAuditNamesAreDefanged(t *testing.T) {
	for in, want := range map[string]string{
		"admin":                        "admin",
		"evil\x1b[2J\a":                "evil?[2J?",
		"abc\u202Edcba":                "abc?dcba",
		"a\xffb":                       "a?b",
		strings.Repeat("x", 70):        strings.Repeat("x", 64) + "...",
		"line\nbreak\u2028separator\t": "line?break?separator?",
	} {
		if got := auditName(in); got != want {
			t.Errorf("auditName(%q) = %q, want %q", in, got, want)
		}
	}
}
