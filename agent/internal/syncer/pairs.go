package syncer

import (
	"errors"
	"net/url"

	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

func unesc(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// pairOf returns the pair of an entity, or nil.
func (e *Engine) pairOf(proc string, s Side, entity string) (*Pair, error) {
	var p *Pair
	err := e.d.Store.View(func(tx *store.Tx) error {
		id, err := tx.GetRaw(keyIndex(proc, s, entity))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var pair Pair
		if err := tx.Get(keyPair(proc, string(id)), &pair); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		p = &pair
		return nil
	})
	return p, err
}
