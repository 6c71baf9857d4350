package syncer

import "github.com/lockstep-sync/lockstep/agent/internal/store"

// A dry run (Engine.Plan) decides and plans as a real run does, in the
// same code, and applies nothing. What it does differently is all here,
// each with why:
//
//   - its queue is memQueue (queue.go): in memory, over the store's, which
//     it reads and never writes;
//   - the choices in this file, the only code that asks whether a run is
//     dry.

// sendsWrites reports whether apply (write.go) sends each write to its
// system; a dry run lists them in its plan instead.
func (c *cycle) sendsWrites() bool { return !c.dry }

// recordsInStore reports whether the run records what it learns in the
// store (pairs, intents, waiting links). A dry run records nothing: what
// it notes on a pair stays in memory, for the item's own decisions.
func (c *cycle) recordsInStore() bool { return !c.dry }

// recordNow commits fn at once, durably, apart from the item's deferred
// saves (a pair found for a deleted entity, a link waiting for its
// target); a dry run records nothing.
func (c *cycle) recordNow(fn func(*store.Tx) error) error {
	if !c.recordsInStore() {
		return nil
	}
	return c.e.d.Store.Update(fn)
}

// workers is how many workers drain the run's items. A dry run works them
// one at a time, so its plan lists them in the order they were polled.
func (c *cycle) workers(items int) int {
	if c.dry {
		return min(1, items)
	}
	return min(c.e.workers, items)
}

// looksAhead reports whether unpaired items look for a peer made before
// ahead of all creates (drain). A dry run creates nothing, so nothing can
// be taken for an original ahead of its copy; each item's own work lists
// the peer it would adopt, once.
func (c *cycle) looksAhead() bool { return !c.dry }

// trustsBases reports whether a peer not read may be taken to be as last
// synced, to be written with If-Match of its last-synced version (update).
// A dry run sends no write whose refusal would say the peer changed
// since: it reads the peer.
func (c *cycle) trustsBases() bool { return !c.dry }

// tellsUsers reports whether the people the run reads are passed to the
// user directory (Deps.SeeUsers), which records them: a dry run changes
// nothing.
func (c *cycle) tellsUsers() bool { return !c.dry }

// listsDeletion reports whether a deletion is listed as one plan entry
// naming its policy, rather than carried out (gone): a policy's writes
// and records (a mirrored delete, a mark, the pair's state) are one
// decision to an administrator reading the plan.
func (c *cycle) listsDeletion() bool { return c.dry }
