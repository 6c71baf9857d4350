package license

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// userRecord is one account the agent has seen. Only keyed hashes are
// stored, never a name, login or email: the count is all the license needs.
type userRecord struct {
	Person string `json:"p"` // hash of the person (through user maps) or of the account itself
	Day    string `json:"d"` // the last day it was seen, YYYY-MM-DD (UTC)
}

// UserRef is one account of one system: the author, assignee or commenter
// of something synced.
type UserRef struct {
	System string // the system's id
	Key    string // the user's id in that system
}

func (m *Manager) hash(parts ...string) string {
	h := hmac.New(sha256.New, m.salt)
	for _, p := range parts {
		// Length-prefixed, so ("ab","c") and ("a","bc") differ.
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func (m *Manager) loadUsers() error {
	return m.st.View(func(tx *store.Tx) error {
		return store.NewRepo[userRecord](m.st, userKind).EachTx(tx, "", func(id string, u userRecord) error {
			m.users[id] = u
			return nil
		})
	})
}

// SeeUser counts one account as seen today.
func (m *Manager) SeeUser(system, userKey string) error {
	return m.SeeUsers([]UserRef{{System: system, Key: userKey}})
}

// SeeUsers counts accounts as seen today, deduplicated through the user
// maps (Options.PersonOf). Counting never stops sync: the caller logs an
// error and carries on. It writes only what changed (a new account, a new
// person mapping, or the first sighting of the day), in one transaction.
func (m *Manager) SeeUsers(refs []UserRef) error {
	type seen struct {
		system string
		key    string
		person string
	}
	batch := make([]seen, 0, len(refs))
	for _, r := range refs {
		if r.System == "" || r.Key == "" {
			continue
		}
		person := ""
		if m.o.PersonOf != nil {
			person = m.o.PersonOf(r.System, r.Key)
		}
		batch = append(batch, seen{system: r.System, key: r.Key, person: person})
	}
	if len(batch) == 0 {
		return nil
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	today := m.observeLocked(now).Format(time.DateOnly)
	dirty := map[string]userRecord{}
	for _, b := range batch {
		id := m.hash("account", b.system, b.key)
		person := id
		if b.person != "" {
			person = m.hash("person", b.person)
		}
		next := userRecord{Person: person, Day: today}
		if cur, ok := m.users[id]; ok && cur == next {
			continue
		}
		dirty[id] = next
	}
	if len(dirty) == 0 {
		return nil
	}
	err := m.st.Update(func(tx *store.Tx) error {
		repo := store.NewRepo[userRecord](m.st, userKind)
		for id, u := range dirty {
			if err := repo.PutTx(tx, id, u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("count users: %w", err)
	}
	for id, u := range dirty {
		m.users[id] = u
	}
	return nil
}

// UsersSeen is the number of distinct people seen in the last year.
func (m *Manager) UsersSeen() int {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.countLocked(m.observeLocked(now))
}

func cutoffDay(at time.Time) string {
	return at.AddDate(0, 0, -UserWindowDays).Format(time.DateOnly)
}

func (m *Manager) countLocked(at time.Time) int {
	cutoff := cutoffDay(at)
	people := map[string]struct{}{}
	for _, u := range m.users {
		if u.Day >= cutoff {
			people[u.Person] = struct{}{}
		}
	}
	return len(people)
}

// staleUsersLocked lists accounts not seen in the last year: they no
// longer count, and are deleted so the set does not grow forever.
func (m *Manager) staleUsersLocked(at time.Time) []string {
	cutoff := cutoffDay(at)
	var out []string
	for id, u := range m.users {
		if u.Day < cutoff {
			out = append(out, id)
		}
	}
	return out
}
