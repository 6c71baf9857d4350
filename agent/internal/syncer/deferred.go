package syncer

import (
	"fmt"

	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// An item's pair record is saved, and a new pair registered, with the
// item's next commit rather than at once: every durable commit waits for a
// disk sync, and an item used to register its pair, save it after each
// step and then settle its queue entry, a sync each. A save waits at most
// until the item's next write to a system (flushPairs runs before each, so
// what an earlier write did is durable before the next one leaves, as
// before), its settling (in the same transaction as the queue entry's
// removal) or its failure.
//
// So a crash can lose only what the item read since its last write and
// the record of that last write, the same moment of loss as a crash
// between a write and its save had before, held open longer: the queue
// entry, still there, works the item again; a create's intent, still
// there, finds its peer by its marker, comments their copies by their
// markers, attachments their twins, and fields and links read equal on
// both sides.

// later queues fn for the item's next commit, before the pair saves.
func (c *cycle) later(fn func(*store.Tx) error) {
	c.deferred = append(c.deferred, fn)
}

// savePair records p's state for the item's next commit.
func (c *cycle) savePair(p *Pair) error {
	if c.unsaved == nil {
		c.unsaved = map[string]*Pair{}
	}
	c.unsaved[p.ID] = p
	return nil
}

// putUnsavedTx writes the deferred saves inside tx. A pair removed
// meanwhile (an administrator unpaired it while its item was worked) stays
// removed: its save would bring back a record without its index.
func (c *cycle) putUnsavedTx(tx *store.Tx) error {
	for _, fn := range c.deferred {
		if err := fn(tx); err != nil {
			return err
		}
	}
	for _, p := range c.unsaved {
		if _, err := resavePairRecordTx(tx, p); err != nil {
			return fmt.Errorf("save pair %s: %w", p.ID, err)
		}
	}
	return nil
}

// commit runs fn in one durable transaction with the deferred saves. A
// run that records nothing in the store (a dry run) drops them.
func (c *cycle) commit(fn func(*store.Tx) error) error {
	return c.commitWith(c.e.d.Store.Update, fn)
}

// commitLazy is commit for an item's last transaction, its settling: it
// does not wait for the disk. A power failure that loses it leaves the item
// as a crash just before its settling did, queued to be worked again, and
// the next write any item makes first makes it durable (apply).
func (c *cycle) commitLazy(fn func(*store.Tx) error) error {
	return c.commitWith(c.e.d.Store.UpdateLazy, fn)
}

func (c *cycle) commitWith(update func(func(*store.Tx) error) error, fn func(*store.Tx) error) error {
	if !c.recordsInStore() {
		clear(c.unsaved)
		c.deferred = c.deferred[:0]
		return nil
	}
	err := update(func(tx *store.Tx) error {
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
	if !c.pending() {
		return nil
	}
	return c.commit(nil)
}

// pending says the item has saves not committed yet.
func (c *cycle) pending() bool { return len(c.unsaved) > 0 || len(c.deferred) > 0 }
