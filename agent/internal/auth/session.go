package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Session is a logged-in session as the RPC layer sees it.
type Session struct {
	// Token is the bearer secret: set only in Login's result, the one time
	// it exists outside the client. Its type prints as [redacted].
	Token apitype.Secret
	// ID names the session in logs and events without being usable as a
	// credential: the first 16 hex digits of the token's SHA-256.
	ID string
	// ExpiresAt is when the session ends unless used: the earlier of the
	// idle deadline (which each use pushes back) and the absolute one.
	ExpiresAt time.Time
	// Account and Role are read afresh on every Validate, so a role change
	// or lock applies to the very next call.
	Account apitype.Account
	Role    protocol.Role
}

// sessionRecord is stored under the hex SHA-256 of the token: a copy of the
// store reveals no usable token.
type sessionRecord struct {
	AccountID  string    `json:"accountId"`
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	Remote     string    `json:"remote,omitempty"`
}

const tokenBytes = 32 // 256 bits

var tokenEncoding = base64.RawURLEncoding.Strict()

// newToken returns a fresh token and the id it is stored under.
func newToken() (token, id string) {
	raw := make([]byte, tokenBytes)
	rand.Read(raw) // never fails since Go 1.24
	sum := sha256.Sum256(raw)
	return tokenEncoding.EncodeToString(raw), hex.EncodeToString(sum[:])
}

// tokenID maps a presented token to its storage id; false for anything that
// is not a token we could have issued, which then never reaches the store.
func tokenID(token string) (string, bool) {
	if len(token) != tokenEncoding.EncodedLen(tokenBytes) {
		return "", false
	}
	raw, err := tokenEncoding.DecodeString(token)
	if err != nil || len(raw) != tokenBytes {
		return "", false
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), true
}

// deadline is when rec ends; computed from the current options, so a
// shorter timeout configured later also applies to existing sessions.
func (s *Service) deadline(rec sessionRecord) time.Time {
	idle := rec.LastSeenAt.Add(s.o.IdleTimeout)
	abs := rec.CreatedAt.Add(s.o.AbsoluteTimeout)
	if abs.Before(idle) {
		return abs
	}
	return idle
}

func (s *Service) sessionView(id string, rec sessionRecord, a account, now time.Time) Session {
	return Session{ID: id[:16], ExpiresAt: s.deadline(rec), Account: a.view(now), Role: a.Role}
}

// Validate returns the session of token with its account as it is now. It
// fails with ErrSessionExpired (which is also ErrUnauthorized) when the
// session timed out, and with ErrUnauthorized when the token is unknown or
// its account was deleted or locked by an administrator. It writes the
// last-seen time at most once a minute, so the idle timeout is exact to
// within that.
func (s *Service) Validate(token string) (Session, error) {
	id, rec, a, now, err := s.live(token)
	if err != nil {
		return Session{}, err
	}
	if now.Sub(rec.LastSeenAt) >= s.touch {
		err := s.st.Update(func(tx *store.Tx) error {
			cur, err := s.sessions.GetTx(tx, id)
			if err != nil {
				return err
			}
			if now.After(cur.LastSeenAt) {
				cur.LastSeenAt = now
			}
			rec = cur
			return s.sessions.PutTx(tx, id, cur)
		})
		if errors.Is(err, store.ErrNotFound) {
			return Session{}, ErrUnauthorized // revoked between the read and the write
		}
		if err != nil {
			return Session{}, fmt.Errorf("validate session: %w", err)
		}
	}
	return s.sessionView(id, rec, a, now), nil
}

// Remaining is how long the session of token has left before it times out,
// as Validate would judge it now, without counting as a use: the idle
// deadline is not pushed back. It fails as Validate does. The RPC layer
// asks it when a connection's session is due to end, to end it on time
// rather than at the connection's next call.
func (s *Service) Remaining(token string) (time.Duration, error) {
	_, rec, _, now, err := s.live(token)
	if err != nil {
		return 0, err
	}
	return s.deadline(rec).Sub(now), nil
}

// live reads the session of token and its account, and ends it (deleting
// it) when it timed out or its account is gone or locked; it writes
// nothing else.
func (s *Service) live(token string) (id string, rec sessionRecord, a account, now time.Time, err error) {
	id, ok := tokenID(token)
	if !ok {
		return "", rec, a, now, ErrUnauthorized
	}
	now = s.o.Now().UTC()
	var orphan bool
	err = s.st.View(func(tx *store.Tx) error {
		var err error
		orphan = false
		if rec, err = s.sessions.GetTx(tx, id); err != nil {
			return err
		}
		a, err = s.accounts.GetTx(tx, rec.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			orphan = true
			return nil
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", rec, a, now, ErrUnauthorized
	}
	if err != nil {
		return "", rec, a, now, fmt.Errorf("validate session: %w", err)
	}
	if !now.Before(s.deadline(rec)) {
		// End it now rather than at the next sweep, so it fails the same way
		// on every later call, and its end is recorded when it is found.
		live, err := s.endIfDue(id, now)
		if err != nil || live == nil {
			// Past its deadline it is over even when its end could not be
			// recorded (endIfDue logged why): it stays stored until a later
			// check or the sweep records it, refused all the same.
			return "", rec, a, now, ErrSessionExpired
		}
		rec = *live // used meanwhile by a call that read it before it was due
	}
	if orphan || a.AdminLocked {
		// Ended already by the account's deletion or lock, which recorded
		// it; this is a leftover.
		if err := s.sessions.Delete(id); err != nil {
			s.o.Log.Warn().Err(err).Msg("delete ended session")
		}
		return "", rec, a, now, ErrUnauthorized
	}
	return id, rec, a, now, nil
}

// Why a session ended, as the result of its session.end audit record.
const (
	EndTimeout = "timeout" // no call for IdleTimeout
	EndExpired = "expired" // AbsoluteTimeout after its login
	EndEvicted = "evicted" // a newer login of its account, past MaxSessions
	EndRevoked = "revoked" // its account was locked, locked out, deleted or given a new password
)

// What revoked a session, as its session.end record's cause.
const (
	CauseLocked   = "account locked"
	CauseLockout  = "locked out after failed logins"
	CausePassword = "password changed"
	CauseDeleted  = "account deleted"
)

// endFacts is the diff of a session.end record: facts, not an edit. The
// session is named by its id, never by its token.
type endFacts struct {
	Session    string    `json:"session"`
	LoggedInAt time.Time `json:"loggedInAt"`
	// LastUsedAt is its last call, to the minute (Validate's touch).
	LastUsedAt time.Time `json:"lastUsedAt"`
	// EndedAt is when it ended: for a timeout its deadline, which is
	// earlier than the record when nobody was watching it then (the agent
	// was stopped, or no connection held it and the sweep found it).
	EndedAt time.Time `json:"endedAt"`
	// By is the session whose login evicted it.
	By string `json:"by,omitempty"`
	// Cause is what revoked it.
	Cause string `json:"cause,omitempty"`
	// Why is the record's result.
	Why string `json:"-"`
}

// timedOut is the end of a session past its deadline: its deadline, and
// which one it was.
func (s *Service) timedOut(rec sessionRecord) endFacts {
	why := EndTimeout
	if !rec.CreatedAt.Add(s.o.AbsoluteTimeout).After(rec.LastSeenAt.Add(s.o.IdleTimeout)) {
		why = EndExpired
	}
	return endFacts{Why: why, EndedAt: s.deadline(rec)}
}

// endTx deletes session id (stored as rec) and appends its session.end
// record in the same transaction: a session is gone exactly when its end
// is recorded. So whichever path finds its end (a call, a connection's
// timer, the sweep, a login evicting it), only the one that deletes it
// records it, and a record that cannot be written leaves the session for
// a later try (a timed-out one is refused meanwhile all the same).
func (s *Service) endTx(tx *store.Tx, id string, rec sessionRecord, f endFacts) error {
	if s.log == nil {
		return errors.New("audit session.end: no audit log configured")
	}
	name, err := s.usernameTx(tx, rec.AccountID)
	if err != nil {
		return err
	}
	if err := s.sessions.DeleteTx(tx, id); err != nil {
		return err
	}
	f.Session, f.LoggedInAt, f.LastUsedAt = id[:16], rec.CreatedAt, rec.LastSeenAt
	_, err = s.log.AppendTx(tx, audit.Entry{Actor: name, Action: "session.end", Target: target(name), Result: f.Why, Remote: rec.Remote, Diff: f})
	return err
}

// usernameTx is the username of a session's account, "" when the account
// is gone (its deletion ended its sessions; a leftover may remain).
func (s *Service) usernameTx(tx *store.Tx, accountID string) (string, error) {
	a, err := s.accounts.GetTx(tx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return a.Username, err
}

// endIfDue ends session id if it is past its deadline at now, with its
// record; it returns the session instead when a use moved its deadline
// past now, and nil with no error when it is gone (ended by this call or
// another).
func (s *Service) endIfDue(id string, now time.Time) (*sessionRecord, error) {
	var live *sessionRecord
	err := s.st.Update(func(tx *store.Tx) error {
		live = nil
		rec, err := s.sessions.GetTx(tx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if end := s.deadline(rec); now.Before(end) {
			live = &rec
			return nil
		}
		return s.endTx(tx, id, rec, s.timedOut(rec))
	})
	if err != nil {
		s.o.Log.Error().Err(err).Msg("end a timed-out session")
		return nil, err
	}
	return live, nil
}

// Logout ends the session of token; ErrUnauthorized when there is none,
// ErrSessionExpired when it had timed out already (its end is then
// recorded as that, not as a logout).
func (s *Service) Logout(token, remote string) error {
	id, ok := tokenID(token)
	if !ok {
		return fmt.Errorf("log out: %w", ErrUnauthorized)
	}
	now := s.o.Now().UTC()
	var username string
	var due bool
	logout := func(tx *store.Tx) error {
		username, due = "", false
		rec, err := s.sessions.GetTx(tx, id)
		if err != nil {
			return err
		}
		if !now.Before(s.deadline(rec)) {
			due = true
			return s.endTx(tx, id, rec, s.timedOut(rec))
		}
		if username, err = s.usernameTx(tx, rec.AccountID); err != nil {
			return err
		}
		if err := s.sessions.DeleteTx(tx, id); err != nil {
			return err
		}
		if s.log == nil {
			return errors.New("audit session.logout: no audit log configured")
		}
		// In the same transaction as the deletion, so that a timeout found
		// at the same moment cannot record the session's end a second time.
		_, err = s.log.AppendTx(tx, audit.Entry{Actor: username, Action: "session.logout", Target: target(username),
			Result: audit.Success, Remote: remote, Diff: sessionFact{Session: id[:16]}})
		return err
	}
	err := s.st.Update(logout)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("log out: %w", ErrUnauthorized)
	case err == nil && due:
		return fmt.Errorf("log out: %w", ErrSessionExpired)
	case err == nil:
		return nil
	}
	// The record could not be written. The session still ends, as its
	// owner asked: one nobody can end is worse than one end unrecorded.
	s.o.Log.Error().Err(err).Str("action", "session.logout").Msg("write audit record")
	if derr := s.sessions.Delete(id); derr != nil {
		return fmt.Errorf("log out: %w", errors.Join(err, derr))
	}
	return fmt.Errorf("logged out, but the audit record was not written: %w", err)
}

// sessionFact names the session of a session.login or session.logout
// record, so that its login and its end can be matched.
type sessionFact struct {
	Session string `json:"session"`
}

// sessionsOfTx lists the sessions of one account. Sessions have no
// per-account index: there are at most MaxSessions per account and few
// accounts, so a scan is cheaper than keeping an index consistent.
func (s *Service) sessionsOfTx(tx *store.Tx, accountID string) (ids []string, recs []sessionRecord, err error) {
	err = s.sessions.EachTx(tx, "", func(id string, r sessionRecord) error {
		if r.AccountID == accountID {
			ids, recs = append(ids, id), append(recs, r)
		}
		return nil
	})
	return ids, recs, err
}

// revokeTx ends every session of an account and returns how many. With a
// cause, each end is recorded with it (session.end, revoked), in tx;
// without one they end unrecorded, as updateRevoking's fallback.
func (s *Service) revokeTx(tx *store.Tx, accountID, cause string) (int, error) {
	ids, recs, err := s.sessionsOfTx(tx, accountID)
	if err != nil {
		return 0, err
	}
	now := s.o.Now().UTC()
	for i, id := range ids {
		if cause == "" {
			err = s.sessions.DeleteTx(tx, id)
		} else {
			err = s.endTx(tx, id, recs[i], endFacts{Why: EndRevoked, EndedAt: now, Cause: cause})
		}
		if err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// updateRevoking runs fn in a transaction, passing it the cause for
// revokeTx. When that fails, it runs fn once more without a cause, so the
// sessions end unrecorded: a lock, a lockout or a new password must not
// wait for an audit trail that cannot be written. unrecorded is then the
// first failure, which the caller reports; err is the second one's.
func (s *Service) updateRevoking(cause string, fn func(tx *store.Tx, cause string) error) (unrecorded, err error) {
	first := s.st.Update(func(tx *store.Tx) error { return fn(tx, cause) })
	if first == nil {
		return nil, nil
	}
	if err := s.st.Update(func(tx *store.Tx) error { return fn(tx, "") }); err != nil {
		return nil, err
	}
	s.o.Log.Error().Err(first).Str("action", "session.end").Msg("write audit record")
	return first, nil
}

// evictTx ends the least recently used sessions of an account other than
// the new session newID until at most keep others are left, with their
// records (evicted by newID's login at now); it returns how many it ended.
func (s *Service) evictTx(tx *store.Tx, accountID, newID string, keep int, now time.Time) (int, error) {
	ids, recs, err := s.sessionsOfTx(tx, accountID)
	if err != nil {
		return 0, err
	}
	if i := slices.Index(ids, newID); i >= 0 {
		ids, recs = slices.Delete(ids, i, i+1), slices.Delete(recs, i, i+1)
	}
	if len(ids) <= keep {
		return 0, nil
	}
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return recs[a].LastSeenAt.Compare(recs[b].LastSeenAt) })
	for _, i := range order[:len(ids)-keep] {
		if err := s.endTx(tx, ids[i], recs[i], endFacts{Why: EndEvicted, EndedAt: now, By: newID[:16]}); err != nil {
			return 0, err
		}
	}
	return len(ids) - keep, nil
}

// Live counts the sessions that have not timed out (metrics).
func (s *Service) Live() (int, error) {
	now := s.o.Now().UTC()
	n := 0
	err := s.st.View(func(tx *store.Tx) error {
		return s.sessions.EachTx(tx, "", func(_ string, r sessionRecord) error {
			if now.Before(s.deadline(r)) {
				n++
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}

// sweepBatch bounds one transaction: Badger refuses transactions that grow
// too large.
const sweepBatch = 256

// Sweep ends expired sessions (with their records) and forgets stale lock state of unknown
// usernames; it returns how many sessions it deleted. Serve calls it
// periodically.
func (s *Service) Sweep() (int, error) {
	now := s.o.Now().UTC()
	s.prunePhantoms(now)
	var ids []string
	err := s.st.View(func(tx *store.Tx) error {
		ids = ids[:0]
		return s.sessions.EachTx(tx, "", func(id string, r sessionRecord) error {
			if !now.Before(s.deadline(r)) {
				ids = append(ids, id)
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("sweep sessions: %w", err)
	}
	n := 0
	for batch := range slices.Chunk(ids, sweepBatch) {
		deleted := 0
		err := s.st.Update(func(tx *store.Tx) error {
			deleted = 0
			for _, id := range batch {
				// Read again: a Validate may have used the session since the scan.
				r, err := s.sessions.GetTx(tx, id)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if now.Before(s.deadline(r)) {
					continue
				}
				if err := s.endTx(tx, id, r, s.timedOut(r)); err != nil {
					return err
				}
				deleted++
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("sweep sessions: %w", err)
		}
		n += deleted
	}
	return n, nil
}
