package syncer

import (
	"errors"
	"net/url"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
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
	e.at(probePairRead, s, entity)
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

// pairIDOf returns the id of an entity's pair, or "": its index entry
// alone, not the pair.
func (e *Engine) pairIDOf(proc string, s Side, entity string) (string, error) {
	e.at(probePairRead, s, entity)
	var id string
	err := e.d.Store.View(func(tx *store.Tx) error {
		raw, err := tx.GetRaw(keyIndex(proc, s, entity))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		id = string(raw)
		return err
	})
	return id, err
}

// putPairTx stores a pair and its two index entries.
func putPairTx(tx *store.Tx, p *Pair) error {
	if err := putPairRecordTx(tx, p); err != nil {
		return err
	}
	if err := tx.SetRaw(keyIndex(p.Process, SideA, p.A.ID), []byte(p.ID)); err != nil {
		return err
	}
	return tx.SetRaw(keyIndex(p.Process, SideB, p.B.ID), []byte(p.ID))
}

// deletePairTx removes a pair and its index entries.
func deletePairTx(tx *store.Tx, p *Pair) error {
	if err := deletePairRecordTx(tx, p.Process, p.ID); err != nil {
		return err
	}
	for _, k := range []string{keyIndex(p.Process, SideA, p.A.ID), keyIndex(p.Process, SideB, p.B.ID)} {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func refOf(e connector.Entity) EntityRef {
	return EntityRef{ID: e.ID, Key: e.Key, Title: e.Title, Type: e.Type, URL: e.URL, Version: e.Version}
}
