package syncer

import (
	"fmt"

	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// An item's pair record is saved, and a new pair registered, with the
// item's next commit rather than at once: every durable commit waits for a
// disk sync, and an item used to register its pair, save it after each
// step and then settle its queue entry, a sync each. A save is deferred
// only until the item's next write to a system
// (flushPairs runs before each, so what an earlier write did is durable
// before the next one leaves, as before), its settling (in the same
// transaction as the queue entry's removal) or its failure. A crash in
// between loses only saves that recorded reads, which the entity's queue
// entry, still there, has read again, and registrations, whose creates'
// intents, still there too, have their peers found by their markers.

// later queues fn for the item's next commit, before the pair saves.
func (c *cycle) later(fn func(*store.Tx) error) {
	c.deferred = append(c.deferred, fn)
}

// savePair records p's state for the item's next commit.
func (c *cycle) savePair(p *Pair) error {
	if c.dry {
		return nil
	}
	if c.unsaved == nil {
		c.unsaved = map[string]*Pair{}
	}
	c.unsaved[p.ID] = p
	return nil
}

// putUnsavedTx writes the deferred saves inside tx.
func (c *cycle) putUnsavedTx(tx *store.Tx) error {
	for _, fn := range c.deferred {
		if err := fn(tx); err != nil {
			return err
		}
	}
	for _, p := range c.unsaved {
		if err := putPairRecordTx(tx, p); err != nil {
			return fmt.Errorf("save pair %s: %w", p.ID, err)
		}
	}
	return nil
}

// commit runs fn in one durable transaction with the deferred saves.
func (c *cycle) commit(fn func(*store.Tx) error) error {
	err := c.e.d.Store.Update(func(tx *store.Tx) error {
		if err := c.putUnsavedTx(tx); err != nil {
			return err
		}
		if fn == nil {
			return nil
		}
		return fn(tx)
	})
	if err == nil {
		clear(c.unsaved)
		c.deferred = c.deferred[:0]
	}
	return err
}

// flushPairs makes the deferred saves durable: before the item writes to
// a system, and before anything reads its pair back from the store.
func (c *cycle) flushPairs() error {
	if len(c.unsaved) == 0 && len(c.deferred) == 0 {
		return nil
	}
	return c.commit(nil)
}

// forgetUnsaved drops a deferred save of a pair being deleted, so that it
// cannot bring the record back.
func (c *cycle) forgetUnsaved(id string) { delete(c.unsaved, id) }
