package store

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

func decodeJSON(raw []byte, v any) error { return json.Unmarshal(raw, v) }

// DataKeys adapts the store to secret.KeyStore.
func (s *Store) DataKeys() secret.KeyStore { return dataKeys{s} }

type dataKeys struct{ s *Store }

func (d dataKeys) GetDataKey(scope string) ([]byte, error) {
	var raw []byte
	err := d.s.View(func(tx *Tx) error {
		var err error
		raw, err = tx.GetRaw(prefixDEK + scope)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, secret.ErrNoDataKey
	}
	return raw, err
}

func (d dataKeys) PutDataKey(scope string, record []byte) error {
	return d.s.Update(func(tx *Tx) error { return tx.SetRaw(prefixDEK+scope, record) })
}

func (d dataKeys) DeleteDataKey(scope string) error {
	return d.s.Delete(prefixDEK + scope)
}

func (d dataKeys) ListDataKeys(fn func(scope string, record []byte) error) error {
	return d.s.View(func(tx *Tx) error {
		return tx.Scan(prefixDEK, "", func(key string, v []byte) error {
			return fn(strings.TrimPrefix(key, prefixDEK), v)
		})
	})
}

// Meta reads a small agent-wide value (instance id, first-start time).
func (s *Store) Meta(name string) (string, error) {
	var v string
	err := s.View(func(tx *Tx) error {
		raw, err := tx.GetRaw(prefixMeta + name)
		v = string(raw)
		return err
	})
	return v, err
}

// SetMeta writes a small agent-wide value.
func (s *Store) SetMeta(name, value string) error {
	return s.Update(func(tx *Tx) error { return tx.SetRaw(prefixMeta+name, []byte(value)) })
}
