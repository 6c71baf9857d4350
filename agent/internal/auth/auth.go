// Package auth owns the agent's accounts, password hashing (argon2id, PHC
// strings), logins with lockout, sessions and the last-admin rule.
//
// Storage: accounts live in the store under "account/<id>" (id: 32 random hex
// digits) with a case-insensitive username index "accountname/<lowercased
// username>" -> id written in the same transaction; sessions live under
// "session/<hex SHA-256 of the token>", so the store never holds a token.
// Password hashes never leave the package: every exported result is an
// apitype.Account, which has no hash.
//
// Audit: auth writes the audit records for what it does, because it alone
// knows the remote address of a login and the before/after of an account:
//
//	session.login    every attempt for a real account; result success or
//	                 failure, diff names the reason of a failure (wrong
//	                 password, locked) or the new session's id. Attempts
//	                 for usernames without an account are summed up per
//	                 address and window instead (actor UnknownActor; see
//	                 failures.go).
//	session.lockout  an account became locked (diff: until when, and how
//	                 many of its sessions the lockout ended)
//	session.logout   a session ended by Logout (diff: its id)
//	session.end      a session that timed out (result EndTimeout or
//	                 EndExpired), was evicted by a newer login (EndEvicted)
//	                 or revoked with its account's lock, lockout, password
//	                 change or deletion (EndRevoked); actor and target its
//	                 account, remote the address it logged in from, diff
//	                 its id, login, last call, end, evicting session or
//	                 cause (endFacts). Written in the transaction that
//	                 deletes the session, so once whichever path finds the
//	                 end, and before anyone is told. A restart ends no
//	                 session: they are stored.
//	accounts.create, accounts.update, accounts.delete, accounts.setPassword
//	                 successful changes, with a diff in which a password only
//	                 ever appears as [redacted]
//
// The caller passes the acting username (actor). The RPC layer audits only
// what never reaches auth: calls it refused as forbidden (result denied).
// When a change is committed but its audit record cannot be written, the
// method returns an error that says so; a successful login whose record
// cannot be written does not happen (fail closed). A lock, lockout or new
// password whose sessions' records cannot be written ends them all the
// same (updateRevoking): the lock matters more than its record.
//
// Lockout: after MaxFailures consecutive failures an account is locked for
// LockoutDuration, doubled with every further lockout up to
// MaxLockoutDuration; a successful login or an administrator's unlock resets
// the count, and so does a day without a lockout. Unknown usernames get the
// same treatment in memory, so neither the answer, the timing nor the lockout
// tells an attacker which accounts exist. Every failed attempt is answered no
// sooner than FailureDelay plus random jitter after it began. A lockout ends
// the account's sessions. Password hashing is scheduled by a gate (gate.go)
// that keeps a login flood from starving everything else.
package auth

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// Options tune a Service; zero values take the defaults in brackets.
type Options struct {
	// Now is the clock for session timeouts and locks [time.Now].
	Now func() time.Time
	// Bus, when set, is told of every account created, changed or deleted
	// (ConfigChanged), whichever way the change came.
	Bus *events.Bus
	// Sleep delays failed logins [time.Sleep]; tests pass a no-op.
	Sleep func(time.Duration)

	IdleTimeout     time.Duration // a session unused this long ends [30m]
	AbsoluteTimeout time.Duration // a session ends this long after login [12h]
	MaxSessions     int           // per account; the least recently used goes first [25]
	SweepInterval   time.Duration // how often Serve deletes expired sessions [5m]

	MaxFailures        int           // consecutive failures that lock an account [5]
	LockoutDuration    time.Duration // the first lock [1m]
	MaxLockoutDuration time.Duration // the cap of the doubling [1h]
	// FailureDelay is the least time a failed login takes; each failure
	// takes a random time in [FailureDelay, 2*FailureDelay) [500ms].
	FailureDelay time.Duration

	// Argon are the hashing costs [DefaultParams]. Values below
	// DefaultParams are raised to it and p is always 1 (DESIGN.md), so
	// configuration can only make hashing stronger.
	Argon Params
	// MaxConcurrentHashes bounds simultaneous argon2 computations, each of
	// which holds Argon.Memory KiB and a whole core, so a login flood can
	// exhaust neither memory nor CPU [GOMAXPROCS-1, at least 1: one core
	// stays for everything else]. One more is kept for attempts from
	// addresses without recent failures, so an honest login does not wait
	// for a guess's hash.
	MaxConcurrentHashes int
	// MaxWaitingPerAddress bounds the login attempts of one address that
	// wait for a hashing slot; more are refused at once with ErrBusy [16].
	MaxWaitingPerAddress int
	// MaxWaiting bounds the attempts waiting in all [1024].
	MaxWaiting int
	// FailureWindow is how long failed logins for unknown usernames are
	// counted per address before one audit record sums them up, and how
	// long an address that failed is served after the others [1m].
	FailureWindow time.Duration

	// Log receives problems nobody else would see (a failed sweep, an audit
	// record that could not be written) [discarded].
	Log zerolog.Logger
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = time.Sleep
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.IdleTimeout, 30*time.Minute)
	def(&o.AbsoluteTimeout, 12*time.Hour)
	def(&o.SweepInterval, 5*time.Minute)
	def(&o.LockoutDuration, time.Minute)
	def(&o.MaxLockoutDuration, time.Hour)
	def(&o.FailureDelay, 500*time.Millisecond)
	if o.MaxLockoutDuration < o.LockoutDuration {
		o.MaxLockoutDuration = o.LockoutDuration
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 25
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.MaxConcurrentHashes <= 0 {
		o.MaxConcurrentHashes = max(1, runtime.GOMAXPROCS(0)-1)
	}
	if o.MaxWaitingPerAddress <= 0 {
		o.MaxWaitingPerAddress = 16
	}
	if o.MaxWaiting <= 0 {
		o.MaxWaiting = 1024
	}
	def(&o.FailureWindow, time.Minute)
	o.Argon = o.Argon.normalize()
	return o
}

// Service manages accounts and sessions. It is safe for concurrent use.
type Service struct {
	st       *store.Store
	log      *audit.Log
	o        Options
	params   Params
	dummy    string        // a hash no password matches, with params
	touch    time.Duration // how stale a session's last-seen time may get before Validate writes it
	gate     *gate
	fails    *failures
	accounts *store.Repo[account]
	names    *store.Repo[string]
	sessions *store.Repo[sessionRecord]

	phantomMu sync.Mutex
	phantoms  map[string]*phantom // lock state of unknown usernames

	endedMu sync.Mutex
	ended   []func(accountID string)
}

// New returns the service over st; every attempt and change is recorded in
// log, which must not be nil (without it every audited operation fails).
func New(st *store.Store, log *audit.Log, o Options) *Service {
	o = o.withDefaults()
	return newService(st, log, o, o.Argon)
}

// newService takes params as given: tests use cheap ones that New refuses.
func newService(st *store.Store, log *audit.Log, o Options, params Params) *Service {
	// Writing last-seen on every call would cost a durable write per RPC;
	// once a minute keeps the idle timeout accurate to a minute.
	touch := min(time.Minute, o.IdleTimeout/4)
	return &Service{
		st: st, log: log, o: o, params: params,
		dummy:    dummyHash(params),
		touch:    touch,
		gate:     newGate(o.MaxConcurrentHashes, 1, o.MaxWaitingPerAddress, o.MaxWaiting),
		fails:    newFailures(o.FailureWindow),
		accounts: store.NewRepo[account](st, "account"),
		names:    store.NewRepo[string](st, "accountname"),
		sessions: store.NewRepo[sessionRecord](st, "session"),
		phantoms: map[string]*phantom{},
	}
}

// hash computes a new password hash within the concurrency bound; an
// administrator's change waits like a login from an address with no
// failures.
func (s *Service) hash(password string) string {
	release, err := s.gate.acquire(context.Background(), "", false)
	if err == nil {
		defer release()
	} // ErrBusy: the administrator's own address is full; hash anyway, it is one
	return hashPassword(password, s.params)
}

// OnSessionsEnded registers fn to be told when sessions of an account were
// ended by something other than their own logout (a lock, a lockout, a
// password change, a deletion, an eviction by a login past MaxSessions),
// so that connections holding them stop being served at once.
func (s *Service) OnSessionsEnded(fn func(accountID string)) {
	s.endedMu.Lock()
	s.ended = append(s.ended, fn)
	s.endedMu.Unlock()
}

func (s *Service) sessionsEnded(accountID string) {
	s.endedMu.Lock()
	fns := slices.Clone(s.ended)
	s.endedMu.Unlock()
	for _, fn := range fns {
		fn(accountID)
	}
}

// record appends an audit entry and logs a failure, which would otherwise
// go unseen on the paths that only return a credential error.
func (s *Service) record(e audit.Entry) error {
	if s.log == nil {
		return fmt.Errorf("audit %s: no audit log configured", e.Action)
	}
	if _, err := s.log.Append(e); err != nil {
		s.o.Log.Error().Err(err).Str("action", e.Action).Str("target", e.Target).Msg("write audit record")
		return err
	}
	return nil
}

// Serve deletes expired sessions every SweepInterval and writes the audit
// records of failed-login windows as they end, until ctx ends; then it
// writes the records of the windows still open. A failed sweep is logged
// and retried at the next tick: it must not stop the agent.
func (s *Service) Serve(ctx context.Context) error {
	t := time.NewTicker(s.o.SweepInterval)
	defer t.Stop()
	flush := time.NewTicker(max(s.o.FailureWindow/4, 10*time.Millisecond))
	defer flush.Stop()
	for {
		if _, err := s.Sweep(); err != nil {
			s.o.Log.Warn().Err(err).Msg("sweep sessions")
		}
		for swept := false; !swept; {
			select {
			case <-ctx.Done():
				s.FlushFailures(true)
				return nil
			case <-flush.C:
				s.FlushFailures(false)
			case <-t.C:
				swept = true
			}
		}
	}
}
