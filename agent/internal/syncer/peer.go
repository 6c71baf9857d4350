package syncer

// Making and finding an unpaired entity's peer: a create whose intent is
// durable before its request, a peer made before found by its marker and
// adopted, the pair registered.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// create makes the peer of src in the other side, unless one exists: a
// peer made before (its pair lost, or a create whose answer was lost) is
// found by its marker and adopted. The intent is durable before the request
// leaves, and the target carries src's marker, so a crash at any point is
// recovered by finding the marker, never by creating a second peer.
func (c *cycle) create(ctx context.Context, s Side, tp mapping.TypePair, src connector.Entity) (*Pair, error) {
	t := s.Other()
	fields, ferrs := mapping.Apply(tp, dirOf(s), src, c.p.Users)
	if len(ferrs) > 0 {
		return nil, fmt.Errorf("map %s: %s: %w", src.Key, ferrs[0].Error(), ErrPermanent)
	}
	fields, err := c.coerce(ctx, t, fields)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", src.Key, err)
	}
	if p, err := c.findPeer(ctx, s, src, tp); err != nil || p != nil {
		return p, err
	}
	targetType := tp.B
	if t == SideA {
		targetType = tp.A
	}
	ikey := keyIntent(c.p.ID, s, src.ID)
	var created connector.Entity
	sent, err := c.apply(ctx, write{
		entry: PlanItem{Action: "create", Side: t, Entity: src.ID, Key: src.Key, Title: src.Title, Detail: fmt.Sprintf("%s from %s %s", targetType, s, src.Key)},
		// The intent is durable, with the item's pending saves, before the
		// request leaves.
		before: func(tx *store.Tx) error {
			if _, err := tx.GetRaw(ikey); err == nil {
				return nil
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return tx.Put(ikey, Intent{Target: t, SourceKey: src.Key, At: c.now().UTC()})
		},
		send: func(ctx context.Context) (err error) {
			created, err = c.con[t].Create(ctx, c.p.End(t).Project, targetType, fields, c.marker(s, src))
			return err
		},
	})
	switch {
	case !sent && err != nil:
		return nil, fmt.Errorf("record the create of %s: %w", src.Key, err)
	case !sent:
		return &Pair{State: PairSynced}, nil // planned: a pair to be, with no id
	case err != nil:
		if refused(err) {
			// The system's answer says nothing was made: there is no
			// create in flight to recover, and the intent would have
			// every run send it again (recoverIntents), past the park.
			c.later(func(tx *store.Tx) error { return tx.Delete(ikey) })
		}
		return nil, fmt.Errorf("create peer of %s: %w", src.Key, err)
	}
	c.run.Counts.Created++
	if c.newPeers == nil {
		c.newPeers = map[string]bool{}
	}
	c.newPeers[freshKey(t, created.ID)] = true
	return c.register(s, src, created, tp, true)
}

// refused says a write's error is the system's answer that it did not do
// it: the request was read and turned down. Any other error (unavailable, a
// timeout, an answer that could not be read) may hide a write that was made.
func refused(err error) bool {
	return errors.Is(err, connector.ErrInvalid) || errors.Is(err, connector.ErrForbidden) ||
		errors.Is(err, connector.ErrUnauthorized) || errors.Is(err, connector.ErrNotFound)
}

// marker is what src's copy carries: src's origin and key.
func (c *cycle) marker(s Side, src connector.Entity) connector.Marker {
	return connector.Marker{System: c.origin(s), Key: keyOr(src), URL: src.URL}
}

func keyOr(e connector.Entity) string {
	if e.Key != "" {
		return e.Key
	}
	return e.ID
}

// markers are the forms src's copy may carry: by origin, and as markers
// written before origins did (by the source system's id).
func (c *cycle) markers(s Side, src connector.Entity) []connector.Marker {
	m := c.marker(s, src)
	out := []connector.Marker{m}
	if legacy := c.p.End(s).System; legacy != m.System {
		out = append(out, connector.Marker{System: legacy, Key: m.Key, URL: m.URL})
	}
	return out
}

// findPeer looks for an entity of the other side carrying src's marker and
// adopts it. On a side whose polls read markers, the index they fill is
// asked (no request); elsewhere the system is searched.
func (c *cycle) findPeer(ctx context.Context, s Side, src connector.Entity, tp mapping.TypePair) (*Pair, error) {
	t := s.Other()
	var cands []string
	if c.indexed(t) {
		if err := c.allMarks(ctx, t); err != nil {
			return nil, err
		}
		for _, m := range c.markers(s, src) {
			id, ok, err := c.q.marked(t, m.Text())
			if err != nil {
				return nil, err
			}
			if ok {
				cands = append(cands, id)
			}
		}
	} else {
		for _, m := range c.markers(s, src) {
			found, err := c.con[t].FindByMarker(ctx, c.p.End(t).Project, m)
			if err != nil {
				return nil, fmt.Errorf("look for the peer of %s: %w", src.Key, err)
			}
			for _, f := range found {
				cands = append(cands, f.ID)
				c.remember(t, f)
			}
			if len(found) > 0 {
				break
			}
		}
	}
	for _, id := range cands {
		if other, err := c.e.pairOf(c.p.ID, t, id); err != nil {
			return nil, err
		} else if other != nil {
			continue // paired already (with src, or another entity)
		}
		peer, ok := c.fresh[freshKey(t, id)]
		if !ok || len(peer.Fields) == 0 {
			var err error
			peer, err = c.con[t].Get(ctx, connector.Ref{ID: id})
			if errors.Is(err, connector.ErrNotFound) {
				// The peer made before was deleted while its pair was
				// lost: the deletion policy applies, as it would have
				// with the pair known; a deleted peer is never made again.
				return c.pairGone(ctx, s, src, t, connector.Ref{ID: id}, tp)
			}
			if err != nil {
				return nil, fmt.Errorf("read the peer %s of %s: %w", id, src.Key, err)
			}
		}
		return c.adopt(ctx, s, src, peer, tp)
	}
	return nil, nil
}

// remember keeps an entity read for this run (a search answer), so that
// working it costs no second read.
func (c *cycle) remember(s Side, e connector.Entity) {
	if c.fresh == nil {
		c.fresh = map[string]connector.Entity{}
	}
	c.fresh[freshKey(s, e.ID)] = e
}

// adopt pairs src with a peer made for it before.
func (c *cycle) adopt(ctx context.Context, s Side, src, peer connector.Entity, tp mapping.TypePair) (*Pair, error) {
	// Recorded in the store, not written to a system: a plan lists it.
	t := s.Other()
	if _, err := c.apply(ctx, write{entry: PlanItem{Action: "adopt", Side: t, Entity: peer.ID, Key: peer.Key, Title: peer.Title, Detail: "existing peer of " + src.Key}}); err != nil {
		return nil, err
	}
	if c.recordsInStore() {
		c.log.Info().Str("entity_key", src.Key).Str("peer_key", peer.Key).Msg("adopted a peer made before")
	}
	p, err := c.register(s, src, peer, tp, false)
	if err != nil {
		return nil, err
	}
	// The peer holds the values the source had when it was created; the
	// source may have changed since. register marked such fields changed
	// at the source, and the update carries them over now.
	if err := c.update(ctx, p, tp, s, src, false); err != nil {
		return nil, err
	}
	return p, nil
}

// unsynced is the base of a field whose last-synced value is unknown: it is
// never a hash, so the field reads as changed on that side.
const unsynced = "unsynced"

// register records a new pair with its base, and clears the intent, in one
// transaction, committed with the item's next commit (deferred.go): its
// settling, or the first write of the rest of its work. The source's queue
// entry stays until the rest of its work (comments, attachments, links) is
// done too. Links waiting for either entity's pair are woken.
func (c *cycle) register(s Side, src, peer connector.Entity, tp mapping.TypePair, created bool) (*Pair, error) {
	now := c.now().UTC()
	p := &Pair{ID: newID(), Process: c.p.ID, State: PairSynced, Fields: map[string]Base{}, CreatedAt: now, LastSyncedAt: now}
	// Held from now, before the store has it: no other worker knows it
	// yet, and one that finds it once it is stored (an adoption's update
	// writes before its item is done) waits for this item (holds.go).
	c.holdPair(p.ID)
	*p.Ref(s) = refOf(src)
	*p.Ref(s.Other()) = refOf(peer)
	// The peer is new: nothing but what Lockstep gives it hangs on it yet.
	// (Found by its marker, it may hold copies made before: then it is
	// listed.)
	if created {
		p.Ref(s.Other()).Extras = c.extrasMark(tp, peer.Version)
	}
	a, b := src, peer
	if s == SideB {
		a, b = peer, src
	}
	// An adopted peer was made from an earlier version of src: where it
	// does not hold src's mapped value, src changed since and the field
	// is unsynced at the source, so that the change flows to the peer.
	var want connector.Fields
	if !created {
		want, _ = mapping.Apply(tp, dirOf(s), src, c.p.Users)
	}
	for _, fp := range tp.Fields {
		base := Base{A: mapping.Hash(a.Fields[fp.A]), B: mapping.Hash(b.Fields[fp.B])}
		if !created && flows(fp, s) {
			if f := fieldOf(fp, s.Other()); mapping.Hash(want[f]) != mapping.Hash(peer.Fields[f]) {
				if s == SideA {
					base.A = unsynced
				} else {
					base.B = unsynced
				}
			}
		}
		p.Fields[fieldKey(fp)] = base
	}
	c.later(func(tx *store.Tx) error {
		// An administrator may have paired either entity since this item
		// found src unpaired (Adopt, Relink): the administrator's pair
		// stands, and this one is not recorded (a peer created for it
		// stays unpaired, a copy awaiting its original). Read here, their
		// index entries make this transaction and the administrator's
		// conflict if they overlap: the later to commit runs again and
		// sees the other's pair.
		for _, side := range []Side{SideA, SideB} {
			if other, err := pairInTx(tx, c.p.ID, side, p.Ref(side).ID); err != nil {
				return fmt.Errorf("register pair of %s: %w", src.Key, err)
			} else if other != nil && other.ID != p.ID {
				c.log.Warn().Str("entity_key", p.Ref(side).Key).Str("pair", other.ID).
					Msg("paired by an administrator while its item was worked: that pair stands")
				return tx.Delete(keyIntent(c.p.ID, s, src.ID))
			}
		}
		if err := putPairTx(tx, p); err != nil {
			return fmt.Errorf("register pair of %s: %w", src.Key, err)
		}
		for _, side := range []Side{SideA, SideB} {
			if err := c.e.wakeWaitingTx(tx, c.p.ID, side, p.Ref(side).ID, now); err != nil {
				return fmt.Errorf("register pair of %s: %w", src.Key, err)
			}
		}
		if err := tx.Delete(keyParked(c.p.ID, s, src.ID)); err != nil {
			return err
		}
		return tx.Delete(keyIntent(c.p.ID, s, src.ID))
	})
	return p, nil
}

// registerTx stores np, a pair an administrator made (adopted or
// relinked), and wakes the links that wait for either of its entities, as
// a pair the engine makes does (register).
func (e *Engine) registerTx(tx *store.Tx, np *Pair) error {
	if err := putPairTx(tx, np); err != nil {
		return err
	}
	for _, s := range []Side{SideA, SideB} {
		if err := e.wakeWaitingTx(tx, np.Process, s, np.Ref(s).ID, e.d.Now()); err != nil {
			return fmt.Errorf("wake the links waiting for %s: %w", keyOrID(*np.Ref(s)), err)
		}
	}
	return nil
}

// wakeWaitingTx queues again the entities of side s whose links wait for
// entity target's pair, and has their links listed again.
func (e *Engine) wakeWaitingTx(tx *store.Tx, proc string, s Side, target string, now time.Time) error {
	var waiting []string
	prefix := prefixWait(proc, s, target)
	// A scan does not make this transaction conflict with one that adds a
	// key under prefix meanwhile; a read of the key every wait also writes
	// does (awaitPair).
	if _, err := tx.GetRaw(prefix); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := tx.Scan(prefix, "", func(k string, _ []byte) error {
		waiting = append(waiting, k)
		return nil
	}); err != nil {
		return err
	}
	e.at(probeWake, s, target)
	for _, k := range waiting {
		if err := tx.Delete(k); err != nil {
			return err
		}
		if k == prefix {
			continue // the target's own key, not a waiting entity
		}
		src := unesc(strings.TrimPrefix(k, prefix))
		if err := wakeTx(tx, proc, QueueItem{Side: s, Entity: src}, now); err != nil {
			return err
		}
		id, err := tx.GetRaw(keyIndex(proc, s, src))
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		var p Pair
		if err := tx.Get(keyPair(proc, string(id)), &p); err != nil {
			continue
		}
		p.A.Extras, p.B.Extras = "", "" // list the links on both sides
		if err := putPairRecordTx(tx, &p); err != nil {
			return err
		}
	}
	return nil
}

// recoverIntents finishes creates an earlier run left in flight (a crash
// between the request and the pair record): their sources are queued again,
// and find their peer by its marker before creating.
func (c *cycle) recoverIntents(ctx context.Context) error {
	type open struct {
		side Side
		id   string
	}
	var pending []open
	err := c.e.d.Store.View(func(tx *store.Tx) error {
		return tx.Scan(prefixIntents(c.p.ID), "", func(k string, _ []byte) error {
			rest := strings.TrimPrefix(k, prefixIntents(c.p.ID))
			side, id, ok := strings.Cut(rest, "/")
			if ok {
				pending = append(pending, open{Side(side), unesc(id)})
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, o := range pending {
		// A parked source waits for the administrator (or a change of
		// its own): its intent stays, and the attempt that retry makes
		// finds any copy by its marker first.
		var p Parked
		if err := c.e.d.Store.Get(keyParked(c.p.ID, o.side, o.id), &p); err == nil {
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := c.q.add(QueueItem{Side: o.side, Entity: o.id}); err != nil {
			return err
		}
	}
	return nil
}
