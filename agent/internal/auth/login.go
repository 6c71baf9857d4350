package auth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/input"
)

// Reasons a login failed, as the audit diff names them. Only the audit log
// (admins) sees them; the caller always gets ErrBadCredentials or a
// *LockedError.
const (
	reasonUnknownUser   = "unknown user"
	reasonWrongPassword = "wrong password"
	reasonLocked        = "locked"
	reasonUnknownLocked = "unknown user, locked"
	reasonBadHash       = "stored password hash unreadable"
	reasonChanged       = "account changed during login"
)

// Login checks a username and password and starts a session. It returns
// ErrBadCredentials (an ErrUnauthorized) for a wrong password and an unknown
// username alike, and a *LockedError while the account (or username) is
// locked; the attempt that reaches MaxFailures already gets the
// *LockedError. Every attempt is audited with remote. A failed attempt
// returns no sooner than FailureDelay plus jitter after it began (measured on
// the real clock and slept through Options.Sleep with no lock held), which
// also hides how long the password check and store writes took.
func (s *Service) Login(ctx context.Context, username, password, remote string) (Session, error) {
	start := time.Now() // real time on purpose: this pads the real response time
	sess, err := s.login(ctx, username, password, remote)
	if err != nil && ctx.Err() == nil {
		d := s.o.FailureDelay + rand.N(s.o.FailureDelay) - time.Since(start)
		if d > 0 {
			s.o.Sleep(d)
		}
	}
	return sess, err
}

// attempt is the outcome of the password check.
type attempt struct {
	acct   account
	found  bool
	ok     bool
	locked bool
	retry  time.Duration
	rehash string // a new hash when the stored one has outdated params
	reason string
}

func (s *Service) login(ctx context.Context, username, password, remote string) (Session, error) {
	now := s.o.Now().UTC()
	at, err := s.check(ctx, username, password, remote, now)
	if errors.Is(err, ErrBusy) {
		s.fails.refusedBusy(remote, username, now)
	}
	if err != nil {
		return Session{}, fmt.Errorf("log in: %w", err)
	}
	switch {
	case at.locked && !at.found:
		s.fails.unknown(remote, username, now, false)
		return Session{}, &LockedError{RetryAfter: at.retry}
	case at.locked:
		s.fails.mark(remote, now)
		s.auditLogin(at.acct.Username, remote, audit.Failure, at.reason)
		return Session{}, &LockedError{RetryAfter: at.retry}
	case !at.found:
		return Session{}, s.failUnknown(username, remote, now)
	case !at.ok:
		return Session{}, s.failKnown(at.acct, remote, now, at.reason)
	}
	return s.succeed(at, remote, now)
}

// check runs argon2 exactly once whatever the case (unknown user, locked
// account, wrong or right password), so the answer's timing carries nothing.
// It holds a hashing slot (see gate) only for the lookup and the hash.
func (s *Service) check(ctx context.Context, username, password, remote string, now time.Time) (attempt, error) {
	release, err := s.gate.acquire(ctx, remote, s.fails.suspect(remote, now))
	if err != nil {
		return attempt{}, err
	}
	defer release()
	var at attempt
	a, err := s.lookup(username)
	if errors.Is(err, ErrNotFound) {
		at.reason = reasonUnknownUser
		if at.locked, at.retry = s.phantomLocked(username, now); at.locked {
			at.reason = reasonUnknownLocked
		}
		_, _, _ = verifyPassword(password, s.dummy, s.params)
		return at, nil
	}
	if err != nil {
		return attempt{}, err
	}
	at.acct, at.found = a, true
	if at.locked, at.retry = a.locked(now); at.locked {
		// Never check the password of a locked account: the answer would
		// tell a guesser when they got it right.
		at.reason = reasonLocked
		_, _, _ = verifyPassword(password, s.dummy, s.params)
		return at, nil
	}
	ok, rehash, err := verifyPassword(password, a.Hash, s.params)
	switch {
	case err != nil:
		// A damaged hash shuts its owner out; the caller learns nothing more
		// than from a wrong password, the operator learns it from the log.
		s.o.Log.Error().Err(err).Str("account", a.Username).Msg("verify password")
		at.reason = reasonBadHash
	case !ok:
		at.reason = reasonWrongPassword
	default:
		at.ok = true
		if rehash {
			at.rehash = hashPassword(password, s.params)
		}
	}
	return at, nil
}

// lookup finds an account by username, letter case ignored.
func (s *Service) lookup(username string) (account, error) {
	if !validUsername(username) {
		return account{}, ErrNotFound
	}
	var a account
	err := s.st.View(func(tx *store.Tx) error {
		id, err := s.names.GetTx(tx, strings.ToLower(username))
		if err != nil {
			return err
		}
		a, err = s.accounts.GetTx(tx, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return account{}, ErrNotFound
	}
	if err != nil {
		return account{}, fmt.Errorf("look up account: %w", err)
	}
	return a, nil
}

// failUnknown counts a failure for a username without an account in its
// address's window (see failures), not in a record of its own.
func (s *Service) failUnknown(username, remote string, now time.Time) error {
	locked, retry := s.phantomFail(username, now)
	s.fails.unknown(remote, username, now, locked)
	if locked {
		return &LockedError{RetryAfter: retry}
	}
	return ErrBadCredentials
}

// failKnown counts a failure against a real account, audited on its own. A
// failure that locks the account also ends its sessions: whoever is
// guessing may already hold one.
func (s *Service) failKnown(a account, remote string, now time.Time, reason string) error {
	var locked bool
	var until time.Time
	var revoked int
	// A lockout ends the account's sessions even when their ends cannot be
	// recorded (updateRevoking logs that).
	_, err := s.updateRevoking(CauseLockout, func(tx *store.Tx, cause string) error {
		locked, revoked = false, 0
		cur, err := s.accounts.GetTx(tx, a.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil // deleted meanwhile: nothing left to count against
		}
		if err != nil {
			return err
		}
		if locked = cur.fail(now, s.o); locked {
			until = *cur.LockedUntil
			if revoked, err = s.revokeTx(tx, a.ID, cause); err != nil {
				return err
			}
		}
		return s.accounts.PutTx(tx, a.ID, cur)
	})
	s.fails.mark(remote, now)
	s.auditLogin(a.Username, remote, audit.Failure, reason)
	if err != nil {
		return fmt.Errorf("log in: count failed attempt: %w", err)
	}
	if locked {
		s.auditLockout(a.Username, remote, until, revoked)
		if revoked > 0 {
			s.sessionsEnded(a.ID)
		}
		return &LockedError{RetryAfter: until.Sub(now)}
	}
	return ErrBadCredentials
}

func (s *Service) succeed(at attempt, remote string, now time.Time) (Session, error) {
	token, id := newToken()
	rec := sessionRecord{AccountID: at.acct.ID, CreatedAt: now, LastSeenAt: now, Remote: remote}
	var a account
	var refused error
	var evicted int
	err := s.st.Update(func(tx *store.Tx) error {
		var err error
		refused, evicted = nil, 0
		a, err = s.accounts.GetTx(tx, at.acct.ID)
		if errors.Is(err, store.ErrNotFound) {
			refused = ErrBadCredentials
			return nil
		}
		if err != nil {
			return err
		}
		// The password was checked against a snapshot: if it changed since,
		// the old password must not open a session.
		if a.Hash != at.acct.Hash {
			refused = ErrBadCredentials
			return nil
		}
		if locked, retry := a.locked(now); locked {
			refused = &LockedError{RetryAfter: retry}
			return nil
		}
		a.lockState = lockState{}
		last := now
		a.LastLoginAt = &last
		if at.rehash != "" {
			a.Hash = at.rehash
		}
		if err := s.sessions.PutTx(tx, id, rec); err != nil {
			return err
		}
		if err := s.accounts.PutTx(tx, a.ID, a); err != nil {
			return err
		}
		// The login and the evictions it causes are recorded with the
		// session, in its transaction: no session exists that the audit
		// trail does not show (fail closed), and the evicted sessions'
		// connections, told below, find their end recorded already.
		if s.log == nil {
			return errors.New("audit session.login: no audit log configured")
		}
		if _, err := s.log.AppendTx(tx, audit.Entry{Actor: a.Username, Action: "session.login", Target: target(a.Username),
			Result: audit.Success, Remote: remote, Diff: sessionFact{Session: id[:16]}}); err != nil {
			return err
		}
		evicted, err = s.evictTx(tx, a.ID, id, s.o.MaxSessions-1, now)
		return err
	})
	if err != nil {
		s.o.Log.Error().Err(err).Str("action", "session.login").Str("target", target(at.acct.Username)).Msg("log in")
		return Session{}, fmt.Errorf("log in: %w", err)
	}
	if refused != nil {
		s.auditLogin(at.acct.Username, remote, audit.Failure, reasonChanged)
		return Session{}, refused
	}
	if evicted > 0 {
		// The evicted sessions' connections stop being served now, not
		// when their timeout comes round.
		s.sessionsEnded(a.ID)
	}
	sess := s.sessionView(id, rec, a, now)
	sess.Token = apitype.Secret(token)
	return sess, nil
}

// auditLogin records a login attempt. A failure to write is logged by
// record; the caller is refused either way, so nothing unaudited is granted.
func (s *Service) auditLogin(name, remote, result, reason string) {
	e := audit.Entry{Actor: name, Action: "session.login", Target: target(name), Result: result, Remote: remote}
	if reason != "" {
		e.Diff = []audit.Change{{Field: "reason", After: reason}}
	}
	_ = s.record(e)
}

func (s *Service) auditLockout(name, remote string, until time.Time, revoked int) {
	diff := []audit.Change{{Field: "lockedUntil", After: until}}
	if revoked > 0 {
		diff = append(diff, audit.Change{Field: "sessions", Before: revoked, After: 0})
	}
	_ = s.record(audit.Entry{Actor: SystemActor, Action: "session.lockout", Target: target(name), Result: "locked", Remote: remote, Diff: diff})
}

// auditName is the username of an attempt as the audit shows it: bounded,
// since an unknown one comes straight from the network.
func auditName(u string) string {
	const limit = MaxUsernameChars
	more := ""
	if len(u) > limit {
		u, more = u[:limit], "..."
	}
	// What an attacker typed must not rewrite the terminal or the page that
	// shows the audit trail: control and bidirectional characters become "?".
	return strings.Map(func(r rune) rune {
		if input.Refused(r) != "" {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(u, "?")) + more
}

// phantom is the lock state of a username that has no account, kept in
// memory so that it locks exactly like a real one: otherwise "locked_out
// after five tries" would reveal which usernames exist. It is deliberately
// not persisted, to keep attacker-chosen names out of the store; the cost is
// that a restart resets unknown names while accounts keep their counts.
type phantom struct{ lockState }

// maxPhantoms bounds the memory an attacker can make us spend by spraying
// usernames (about 1 MB). The residual leak is documented: an attacker who
// sprays more names than this while probing can evict a phantom's count.
const maxPhantoms = 4096

func phantomKey(username string) string {
	k := strings.ToLower(username)
	if len(k) > 2*MaxUsernameChars {
		k = k[:2*MaxUsernameChars]
	}
	return k
}

func (s *Service) phantomLocked(username string, now time.Time) (bool, time.Duration) {
	s.phantomMu.Lock()
	defer s.phantomMu.Unlock()
	p := s.phantoms[phantomKey(username)]
	if p == nil {
		return false, 0
	}
	return p.autoLocked(now)
}

func (s *Service) phantomFail(username string, now time.Time) (bool, time.Duration) {
	s.phantomMu.Lock()
	defer s.phantomMu.Unlock()
	k := phantomKey(username)
	p := s.phantoms[k]
	if p == nil {
		if len(s.phantoms) >= maxPhantoms {
			s.prunePhantomsLocked(now)
		}
		for victim := range s.phantoms {
			if len(s.phantoms) < maxPhantoms {
				break
			}
			delete(s.phantoms, victim)
		}
		p = &phantom{}
		s.phantoms[k] = p
	}
	if p.fail(now, s.o) {
		return true, p.LockedUntil.Sub(now)
	}
	return false, 0
}

func (s *Service) prunePhantoms(now time.Time) {
	s.phantomMu.Lock()
	defer s.phantomMu.Unlock()
	s.prunePhantomsLocked(now)
}

// prunePhantomsLocked forgets names whose state a real account would have
// forgotten too, so pruning is invisible from outside.
func (s *Service) prunePhantomsLocked(now time.Time) {
	for k, p := range s.phantoms {
		if p.forgotten(now) {
			delete(s.phantoms, k)
		}
	}
}
