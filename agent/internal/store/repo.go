package store

import (
	"errors"
	"fmt"
	"strings"
)

// Repo is a typed repository: records of one kind, JSON-encoded under
// "<kind>/<id>".
type Repo[T any] struct {
	s      *Store
	prefix string
}

// NewRepo returns the repository of kind (a short lowercase noun).
func NewRepo[T any](s *Store, kind string) *Repo[T] {
	return &Repo[T]{s: s, prefix: kind + "/"}
}

// Key returns the store key of id, for callers that combine records of
// several kinds in one transaction.
func (r *Repo[T]) Key(id string) string { return r.prefix + id }

func (r *Repo[T]) check(id string) error {
	if id == "" || strings.ContainsAny(id, "/\x00") {
		return fmt.Errorf("invalid %s id %q", strings.TrimSuffix(r.prefix, "/"), id)
	}
	return nil
}

// Get reads the record id; ErrNotFound when absent.
func (r *Repo[T]) Get(id string) (T, error) {
	var v T
	if err := r.check(id); err != nil {
		return v, err
	}
	err := r.s.Get(r.prefix+id, &v)
	return v, err
}

// GetTx reads inside a transaction.
func (r *Repo[T]) GetTx(tx *Tx, id string) (T, error) {
	var v T
	if err := r.check(id); err != nil {
		return v, err
	}
	err := tx.Get(r.prefix+id, &v)
	return v, err
}

// Put writes the record id.
func (r *Repo[T]) Put(id string, v T) error {
	if err := r.check(id); err != nil {
		return err
	}
	return r.s.Put(r.prefix+id, v)
}

// PutTx writes inside a transaction.
func (r *Repo[T]) PutTx(tx *Tx, id string, v T) error {
	if err := r.check(id); err != nil {
		return err
	}
	return tx.Put(r.prefix+id, v)
}

// Delete removes the record id.
func (r *Repo[T]) Delete(id string) error {
	if err := r.check(id); err != nil {
		return err
	}
	return r.s.Delete(r.prefix + id)
}

// DeleteTx removes inside a transaction.
func (r *Repo[T]) DeleteTx(tx *Tx, id string) error {
	if err := r.check(id); err != nil {
		return err
	}
	return tx.Delete(r.prefix + id)
}

// List returns every record in id order.
func (r *Repo[T]) List() ([]T, error) {
	var out []T
	err := r.s.View(func(tx *Tx) error {
		return r.EachTx(tx, "", func(_ string, v T) error {
			out = append(out, v)
			return nil
		})
	})
	return out, err
}

// EachTx calls fn for each record with id >= after (exclusive when set).
func (r *Repo[T]) EachTx(tx *Tx, after string, fn func(id string, v T) error) error {
	start := ""
	if after != "" {
		start = r.prefix + after + "\x00"
	}
	return tx.Scan(r.prefix, start, func(key string, raw []byte) error {
		var v T
		if err := decodeJSON(raw, &v); err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		return fn(strings.TrimPrefix(key, r.prefix), v)
	})
}

// Exists reports whether id has a record.
func (r *Repo[T]) Exists(id string) (bool, error) {
	_, err := r.Get(id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
