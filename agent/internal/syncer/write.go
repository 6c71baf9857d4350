package syncer

import (
	"context"

	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// An item's work is decided from what it read (the pair, both sides'
// entities, the mapping), planned as writes, and applied. A write is one
// change a run makes to a system, as data: the plan entry that names it
// and the request that makes it. What the item records when a write lands
// (the pair's new base, a comment's map entry) follows apply, in the same
// code for a real run and a dry run: a dry run records nothing in the
// store (commit drops its saves, dryrun.go), so what it notes stays in
// memory for the item's own decisions.
type write struct {
	entry PlanItem
	// before, when set, is committed with the item's deferred pair saves
	// before the request leaves: a create's intent, so that a crash after
	// the request finds the peer by its marker, never creates a second.
	before func(*store.Tx) error
	// send makes the request; nil for a decision that writes to no system
	// (a field held for an administrator), listed in a plan all the same.
	send func(context.Context) error
}

// apply performs a planned write. A dry run lists it and sends nothing:
// this is where a dry run stops short of writing. A real run first makes
// the item's deferred pair saves durable, so that what an earlier write did
// is recorded before the next one leaves (deferred.go), and with them
// everything recorded before, then sends it.
// sent says the request was made (its error aside).
func (c *cycle) apply(ctx context.Context, w write) (sent bool, err error) {
	if !c.sendsWrites() {
		c.plan = append(c.plan, w.entry)
		return false, nil
	}
	if w.send == nil {
		return false, nil
	}
	switch {
	case w.before != nil:
		err = c.commit(w.before)
	case c.pending():
		err = c.flushPairs()
	default:
		// Nothing of the item's own to record; what was recorded before
		// without waiting for the disk (items settled, pages polled) is
		// made durable all the same, so no write ever leaves ahead of a
		// record it may rest on. (A durable commit of the item's own, as
		// above, covers every commit made before it.)
		err = c.e.d.Store.Sync()
	}
	if err != nil {
		return false, err
	}
	return true, w.send(ctx)
}
