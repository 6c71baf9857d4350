package store

import (
	"errors"
	"fmt"
	"strconv"
)

// Key layout. Every key starts with a prefix naming its record kind; ids
// never contain "/".
const (
	keySchema  = "meta/schema"
	prefixMeta = "meta/"
	prefixDEK  = "dek/"
)

// migration moves the store from version i to i+1 (index i in migrations).
type migration func(*Tx) error

// migrations in order; the schema version is len(migrations). Append only:
// a released migration is never edited. Each one must keep every release's
// store fixture opening with all it holds: see TestStoresOfEarlierReleasesOpen
// in agent/internal/app (upgrade_test.go), which runs them on real stores.
var migrations = []migration{
	// 0 -> 1: the initial layout, nothing to move.
	func(*Tx) error { return nil },
}

// SchemaVersion is the version this build writes.
func SchemaVersion() int { return len(migrations) }

// ErrNewerSchema means the store was written by a newer agent.
var ErrNewerSchema = errors.New("store was written by a newer agent version")

func (s *Store) migrate() error {
	return s.Update(func(tx *Tx) error {
		v := 0
		raw, err := tx.GetRaw(keySchema)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		default:
			if v, err = strconv.Atoi(string(raw)); err != nil {
				return fmt.Errorf("read schema version %q: %w", raw, err)
			}
		}
		if v > len(migrations) {
			return fmt.Errorf("open store: schema version %d, this agent knows %d: %w", v, len(migrations), ErrNewerSchema)
		}
		for ; v < len(migrations); v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate store schema %d -> %d: %w", v, v+1, err)
			}
		}
		return tx.SetRaw(keySchema, []byte(strconv.Itoa(v)))
	})
}

// Schema returns the stored schema version.
func (s *Store) Schema() (int, error) {
	var v int
	err := s.View(func(tx *Tx) error {
		raw, err := tx.GetRaw(keySchema)
		if err != nil {
			return err
		}
		v, err = strconv.Atoi(string(raw))
		return err
	})
	return v, err
}
