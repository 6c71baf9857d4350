package store

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// ScanVersions calls fn for every version of every key the store still
// holds: current values, older versions and deletion markers that
// compaction has not yet dropped (a deleted or overwritten value lives on
// until then). It is what a check of what the store keeps (the privacy
// statement's promise) must look through; value is nil for a deletion.
func (s *Store) ScanVersions(fn func(key string, value []byte) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{AllVersions: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			var val []byte
			if !item.IsDeletedOrExpired() {
				v, err := item.ValueCopy(nil)
				if err != nil {
					return fmt.Errorf("read %s: %w", item.Key(), err)
				}
				val = v
			}
			if err := fn(string(item.KeyCopy(nil)), val); err != nil {
				return err
			}
		}
		return nil
	})
}
