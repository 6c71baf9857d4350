package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Password policy (NIST SP 800-63B: length, not composition rules). The byte
// ceiling bounds the work one login request can ask of the hasher.
const (
	MinPasswordChars = 12
	MaxPasswordBytes = 1024
	MaxUsernameChars = 64
)

// SystemActor is the audit actor of changes the agent makes by itself
// (bootstrap, automatic lockout).
const SystemActor = "system"

// account is the stored record; only this package sees Hash.
type account struct {
	ID                string        `json:"id"`
	Username          string        `json:"username"`
	Role              protocol.Role `json:"role"`
	Hash              string        `json:"hash"`
	CreatedAt         time.Time     `json:"createdAt"`
	LastLoginAt       *time.Time    `json:"lastLoginAt,omitempty"`
	PasswordChangedAt time.Time     `json:"passwordChangedAt"`
	// AdminLocked is an administrator's lock: it lasts until unlocked.
	AdminLocked bool `json:"adminLocked,omitempty"`
	lockState
}

// lockState counts failures; accounts persist it, unknown usernames keep it
// in memory (see phantom).
type lockState struct {
	Failures      int        `json:"failures,omitempty"` // consecutive, since the last lock or success
	LastFailureAt *time.Time `json:"lastFailureAt,omitempty"`
	Lockouts      int        `json:"lockouts,omitempty"` // automatic locks since the last success or unlock
	LockedUntil   *time.Time `json:"lockedUntil,omitempty"`
}

// lockoutMemory is how long failures and locks are remembered: after a
// quiet day a user who mistyped starts again from zero failures and the
// shortest lock.
const lockoutMemory = 24 * time.Hour

// autoLocked reports an automatic lock in force at now and its time left.
func (l lockState) autoLocked(now time.Time) (bool, time.Duration) {
	if l.LockedUntil == nil || !now.Before(*l.LockedUntil) {
		return false, 0
	}
	return true, l.LockedUntil.Sub(now)
}

// forgotten reports whether the state behaves exactly like a fresh one at
// now, so dropping it changes nothing.
func (l lockState) forgotten(now time.Time) bool {
	return (l.LastFailureAt == nil || now.Sub(*l.LastFailureAt) > lockoutMemory) &&
		(l.LockedUntil == nil || now.Sub(*l.LockedUntil) > lockoutMemory)
}

// fail counts one failure and reports whether it locked; the lock lasts
// LockoutDuration * 2^(lockouts-1), capped at MaxLockoutDuration.
func (l *lockState) fail(now time.Time, o Options) bool {
	if l.LastFailureAt != nil && now.Sub(*l.LastFailureAt) > lockoutMemory {
		l.Failures = 0
	}
	if l.LockedUntil != nil && now.Sub(*l.LockedUntil) > lockoutMemory {
		l.Lockouts, l.LockedUntil = 0, nil
	}
	at := now
	l.LastFailureAt = &at
	l.Failures++
	if l.Failures < o.MaxFailures {
		return false
	}
	l.Failures = 0
	l.Lockouts++
	d := o.LockoutDuration
	for i := 1; i < l.Lockouts && d < o.MaxLockoutDuration; i++ {
		d *= 2
	}
	d = min(d, o.MaxLockoutDuration)
	until := now.Add(d)
	l.LockedUntil = &until
	return true
}

// locked reports whether a login is refused at now; retry is 0 for an
// administrator's lock.
func (a account) locked(now time.Time) (bool, time.Duration) {
	if a.AdminLocked {
		return true, 0
	}
	return a.autoLocked(now)
}

// usableAdmin is an admin who can log in (sooner or later): what the
// last-admin rule protects. An automatic lock passes by itself, so it does
// not count against it.
func (a account) usableAdmin() bool { return a.Role == protocol.RoleAdmin && !a.AdminLocked }

func (a account) view(now time.Time) apitype.Account {
	v := apitype.Account{ID: a.ID, Username: a.Username, Role: string(a.Role), CreatedAt: a.CreatedAt, LastLoginAt: a.LastLoginAt}
	if locked, _ := a.locked(now); locked {
		v.Locked = true
		if !a.AdminLocked {
			v.LockedUntil = a.LockedUntil
		}
	}
	return v
}

// auditView is what account diffs compare; it has no hash by construction.
func (a account) auditView(now time.Time) map[string]any {
	locked, _ := a.locked(now)
	return map[string]any{"username": a.Username, "role": string(a.Role), "locked": locked}
}

func target(username string) string { return "account:" + username }

// validUsername reports 1-64 characters of [A-Za-z0-9._@-].
func validUsername(u string) bool {
	if len(u) == 0 || len(u) > MaxUsernameChars {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '@' || c == '-') {
			return false
		}
	}
	return true
}

func checkUsername(u string) error {
	if !validUsername(u) {
		return &fault.InvalidError{Field: "username", Message: fmt.Sprintf("must be 1 to %d characters of letters, digits, '.', '_', '@' and '-'", MaxUsernameChars)}
	}
	return nil
}

// CheckPassword applies the password policy; the error names the field
// "password" and never contains the password.
func CheckPassword(p string) error {
	switch {
	case len(p) > MaxPasswordBytes:
		return &fault.InvalidError{Field: "password", Message: fmt.Sprintf("must be at most %d bytes", MaxPasswordBytes)}
	case !utf8.ValidString(p):
		return &fault.InvalidError{Field: "password", Message: "must be valid UTF-8"}
	case utf8.RuneCountInString(p) < MinPasswordChars:
		return &fault.InvalidError{Field: "password", Message: fmt.Sprintf("must be at least %d characters", MinPasswordChars)}
	}
	return nil
}

func checkRole(r protocol.Role) error {
	if !r.Valid() {
		return &fault.InvalidError{Field: "role", Message: "must be admin, operator or viewer"}
	}
	return nil
}

// validID accepts only ids this package makes, so a caller's id can never
// address another kind of key.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails since Go 1.24
	return hex.EncodeToString(b)
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// GeneratePassword returns 20 characters drawn uniformly from [A-Za-z0-9]
// with crypto/rand (about 119 bits), for init when no password file is given.
func GeneratePassword() string {
	const n = 20
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		rand.Read(buf[:])
		for _, b := range buf {
			// 248 = 4*62: rejecting larger bytes keeps every character equally likely.
			if b < 248 && len(out) < n {
				out = append(out, alphabet[b%62])
			}
		}
	}
	return string(out)
}

// Bootstrap creates the first administrator; it fails with ErrInitialized
// (a conflict) once any account exists. Audited with actor "system".
func (s *Service) Bootstrap(username, password string) (apitype.Account, error) {
	a, err := s.create(SystemActor, username, password, protocol.RoleAdmin, true)
	if err != nil {
		return apitype.Account{}, fmt.Errorf("bootstrap first administrator: %w", err)
	}
	return a, nil
}

// Create adds an account. The username must be new in any letter case.
func (s *Service) Create(actor, username, password string, role protocol.Role) (apitype.Account, error) {
	a, err := s.create(actor, username, password, role, false)
	if err != nil {
		return apitype.Account{}, fmt.Errorf("create account: %w", err)
	}
	s.changed(actor, a.ID, "create")
	return a, nil
}

// changed announces a change to an account.
func (s *Service) changed(actor, id, action string) {
	if s.o.Bus != nil {
		s.o.Bus.Publish(apitype.EventConfigChanged, apitype.ConfigChanged{Kind: "account", ID: id, Action: action, Actor: actor})
	}
}

func (s *Service) create(actor, username, password string, role protocol.Role, onlyFirst bool) (apitype.Account, error) {
	if err := checkUsername(username); err != nil {
		return apitype.Account{}, err
	}
	if err := CheckPassword(password); err != nil {
		return apitype.Account{}, err
	}
	if err := checkRole(role); err != nil {
		return apitype.Account{}, err
	}
	// Hash before the transaction: it is slow and Update may run fn again.
	now := s.o.Now().UTC()
	a := account{ID: newID(), Username: username, Role: role, Hash: s.hash(password), CreatedAt: now, PasswordChangedAt: now}
	err := s.st.Update(func(tx *store.Tx) error {
		if onlyFirst {
			exists := false
			if err := s.accounts.EachTx(tx, "", func(string, account) error { exists = true; return store.ErrStop }); err != nil {
				return err
			}
			if exists {
				return ErrInitialized
			}
		}
		if _, err := s.names.GetTx(tx, strings.ToLower(username)); err == nil {
			return ErrUsernameTaken
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := s.accounts.PutTx(tx, a.ID, a); err != nil {
			return err
		}
		return s.names.PutTx(tx, strings.ToLower(username), a.ID)
	})
	if err != nil {
		return apitype.Account{}, err
	}
	diff := audit.Diff(nil, map[string]any{"username": a.Username, "role": string(a.Role), "password": true}, "password")
	if err := s.record(audit.Entry{Actor: actor, Action: "accounts.create", Target: target(a.Username), Result: audit.Success, Diff: diff}); err != nil {
		return apitype.Account{}, fmt.Errorf("account %s was created, but its audit record was not written: %w", a.Username, err)
	}
	return a.view(now), nil
}

// Get returns one account.
func (s *Service) Get(id string) (apitype.Account, error) {
	if !validID(id) {
		return apitype.Account{}, ErrNotFound
	}
	a, err := s.accounts.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return apitype.Account{}, ErrNotFound
	}
	if err != nil {
		return apitype.Account{}, fmt.Errorf("read account: %w", err)
	}
	return a.view(s.o.Now()), nil
}

// List returns every account ordered by username (letter case ignored).
func (s *Service) List() ([]apitype.Account, error) {
	all, err := s.accounts.List()
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	now := s.o.Now()
	out := make([]apitype.Account, 0, len(all))
	for _, a := range all {
		out = append(out, a.view(now))
	}
	slices.SortFunc(out, func(a, b apitype.Account) int {
		return strings.Compare(strings.ToLower(a.Username), strings.ToLower(b.Username))
	})
	return out, nil
}

// Count returns the number of accounts (license user counting, support
// packages) without reading anything sensitive out of the package.
func (s *Service) Count() (int, error) {
	n := 0
	err := s.st.View(func(tx *store.Tx) error {
		return s.accounts.EachTx(tx, "", func(string, account) error { n++; return nil })
	})
	if err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}

// getTx reads an account by id for a mutation.
func (s *Service) getTx(tx *store.Tx, id string) (account, error) {
	if !validID(id) {
		return account{}, ErrNotFound
	}
	a, err := s.accounts.GetTx(tx, id)
	if errors.Is(err, store.ErrNotFound) {
		return account{}, ErrNotFound
	}
	return a, err
}

// checkLastAdminTx refuses when a stops being a usable admin and no other
// account is one. Reading every account inside the transaction makes two
// concurrent demotions conflict, so they cannot both pass.
func (s *Service) checkLastAdminTx(tx *store.Tx, before, after account, deleting bool) error {
	if !before.usableAdmin() || (!deleting && after.usableAdmin()) {
		return nil
	}
	other := false
	err := s.accounts.EachTx(tx, "", func(id string, a account) error {
		if id != before.ID && a.usableAdmin() {
			other = true
			return store.ErrStop
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !other {
		return ErrLastAdmin
	}
	return nil
}

// Update changes an account's role and/or lock; nil leaves a field alone.
// locked=true locks the account until unlocked and ends its sessions;
// locked=false also lifts an automatic lock and forgets the failures. A
// role change keeps the sessions: Validate reads the current role on every
// call. Neither may leave the agent without a usable administrator.
func (s *Service) Update(actor, id string, role *protocol.Role, locked *bool) (apitype.Account, error) {
	if role != nil {
		if err := checkRole(*role); err != nil {
			return apitype.Account{}, fmt.Errorf("update account: %w", err)
		}
	}
	now := s.o.Now().UTC()
	var before, after account
	var revoked int
	unrecorded, err := s.updateRevoking(CauseLocked, func(tx *store.Tx, cause string) error {
		var err error
		revoked = 0
		if before, err = s.getTx(tx, id); err != nil {
			return err
		}
		after = before
		if role != nil {
			after.Role = *role
		}
		if locked != nil {
			after.AdminLocked = *locked
			if !*locked {
				after.lockState = lockState{}
			}
		}
		if err := s.checkLastAdminTx(tx, before, after, false); err != nil {
			return err
		}
		if after.AdminLocked && !before.AdminLocked {
			if revoked, err = s.revokeTx(tx, id, cause); err != nil {
				return err
			}
		}
		return s.accounts.PutTx(tx, id, after)
	})
	if err != nil {
		return apitype.Account{}, fmt.Errorf("update account: %w", err)
	}
	diff := audit.Diff(before.auditView(now), after.auditView(now))
	if revoked > 0 {
		diff = append(diff, audit.Change{Field: "sessions", Before: revoked, After: 0})
	}
	var rerr error
	if len(diff) > 0 {
		rerr = s.record(audit.Entry{Actor: actor, Action: "accounts.update", Target: target(after.Username), Result: audit.Success, Diff: diff})
	}
	rerr = errors.Join(unrecorded, rerr)
	if revoked > 0 {
		s.sessionsEnded(id) // after the record: their connections find it written
	}
	if rerr != nil {
		return apitype.Account{}, fmt.Errorf("account %s was updated, but its audit record was not written: %w", after.Username, rerr)
	}
	s.changed(actor, id, "update")
	return after.view(now), nil
}

// Delete removes an account and ends its sessions; the last usable
// administrator cannot be deleted.
func (s *Service) Delete(actor, id string) error {
	now := s.o.Now().UTC()
	var before account
	var revoked int
	unrecorded, err := s.updateRevoking(CauseDeleted, func(tx *store.Tx, cause string) error {
		var err error
		if before, err = s.getTx(tx, id); err != nil {
			return err
		}
		if err := s.checkLastAdminTx(tx, before, before, true); err != nil {
			return err
		}
		if revoked, err = s.revokeTx(tx, id, cause); err != nil {
			return err
		}
		name := strings.ToLower(before.Username)
		if owner, err := s.names.GetTx(tx, name); err == nil && owner == id {
			if err := s.names.DeleteTx(tx, name); err != nil {
				return err
			}
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return s.accounts.DeleteTx(tx, id)
	})
	if err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	diff := audit.Diff(before.auditView(now), nil)
	if revoked > 0 {
		diff = append(diff, audit.Change{Field: "sessions", Before: revoked, After: 0})
	}
	rerr := errors.Join(unrecorded, s.record(audit.Entry{Actor: actor, Action: "accounts.delete", Target: target(before.Username), Result: audit.Success, Diff: diff}))
	if revoked > 0 {
		s.sessionsEnded(id) // after the record: their connections find it written
	}
	if rerr != nil {
		return fmt.Errorf("account %s was deleted, but its audit record was not written: %w", before.Username, rerr)
	}
	s.changed(actor, id, "delete")
	return nil
}

// SetPassword replaces an account's password and ends all its sessions, the
// caller's own included. A lock stays as it is: unlocking is a separate,
// separately audited decision.
func (s *Service) SetPassword(actor, id, password string) error {
	if err := CheckPassword(password); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	// Answer a wrong id before paying for a hash.
	if _, err := s.Get(id); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	hash := s.hash(password)
	now := s.o.Now().UTC()
	var a account
	var revoked int
	unrecorded, err := s.updateRevoking(CausePassword, func(tx *store.Tx, cause string) error {
		var err error
		if a, err = s.getTx(tx, id); err != nil {
			return err
		}
		a.Hash, a.PasswordChangedAt = hash, now
		if revoked, err = s.revokeTx(tx, id, cause); err != nil {
			return err
		}
		return s.accounts.PutTx(tx, id, a)
	})
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	// Built by hand rather than from values: neither the password nor its
	// hash ever comes near the audit log.
	diff := []audit.Change{{Field: "password", Before: audit.Redacted, After: audit.Redacted}}
	if revoked > 0 {
		diff = append(diff, audit.Change{Field: "sessions", Before: revoked, After: 0})
	}
	rerr := errors.Join(unrecorded, s.record(audit.Entry{Actor: actor, Action: "accounts.setPassword", Target: target(a.Username), Result: audit.Success, Diff: diff}))
	if revoked > 0 {
		s.sessionsEnded(id) // after the record: their connections find it written
	}
	if rerr != nil {
		return fmt.Errorf("password of %s was changed, but its audit record was not written: %w", a.Username, rerr)
	}
	s.changed(actor, id, "update")
	return nil
}
