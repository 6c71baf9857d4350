package syncer

// Pairs lost (a restored store, a process created again) found again for
// a deletion: the peer deleted meanwhile, the copy or the original of a
// deleted entity.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// pairGone records the pair of alive (side s) with an entity of side t that
// was deleted while their pair was lost, and applies the deletion policy.
func (c *cycle) pairGone(ctx context.Context, s Side, alive connector.Entity, t Side, dead connector.Ref, tp mapping.TypePair) (*Pair, error) {
	stub := connector.Entity{Ref: dead, Type: alive.Type}
	a, b := alive, stub
	if s == SideB {
		a, b = stub, alive
	}
	p := newPair(c.p.ID, a, b, tp, c.now().UTC())
	if ok, err := c.recordPair(p); err != nil {
		return nil, fmt.Errorf("record the pair of %s and its deleted peer: %w", keyOr(alive), err)
	} else if !ok {
		// Paired meanwhile: the item is worked again later, with that
		// pair, rather than copied as if it had no peer.
		return nil, fmt.Errorf("record the pair of %s and its deleted peer: paired meanwhile: %w", keyOr(alive), connector.ErrConflict)
	}
	c.log.Info().Str("entity_key", alive.Key).Str("peer_id", dead.ID).Msg("the peer made before was deleted while the pair was lost")
	if err := c.gone(ctx, p, t); err != nil {
		return nil, err
	}
	p.State = PairDeleted
	return p, nil
}

// recordPair records p, a pair just made, at once; its worker holds it
// from before it is stored (holds.go). It records nothing and returns
// false if either entity was paired since its caller found both unpaired:
// by an administrator (Adopt, Relink) or by another worker (the deleted
// entity's item and its peer's, each finding the other). That pair stands.
func (c *cycle) recordPair(p *Pair) (bool, error) {
	c.holdPair(p.ID)
	recorded := true // a dry run records nothing, and goes on as if it had
	err := c.recordNow(func(tx *store.Tx) error {
		// Looked at again in the transaction that writes, as register
		// does: read here, the entities' index entries make this
		// transaction and one pairing either entity meanwhile conflict if
		// they overlap, and the later to commit runs again and sees the
		// other's pair.
		recorded = true
		for _, s := range []Side{SideA, SideB} {
			if other, err := pairInTx(tx, c.p.ID, s, p.Ref(s).ID); err != nil {
				return err
			} else if other != nil && other.ID != p.ID {
				recorded = false
				return nil
			}
		}
		return putPairTx(tx, p)
	})
	return recorded && err == nil, err
}

// copyOfDeleted finds the copy of a deleted entity whose pair was lost
// (a restored store, a process created again): the copy carries the
// entity's marker, which names its key. The pair is made again, so that the
// deletion policy applies to the copy as it would have with the pair known.
func (c *cycle) copyOfDeleted(ctx context.Context, s Side, id string) (*Pair, error) {
	ref, ok := c.deleted[freshKey(s, id)]
	if !ok {
		return c.originalOfDeleted(ctx, s, id)
	}
	t := s.Other()
	src := connector.Entity{Ref: ref}
	for _, m := range c.markers(s, src) {
		var peerID string
		if c.indexed(t) {
			if err := c.allMarks(ctx, t); err != nil {
				return nil, err
			}
			id, ok, err := c.q.marked(t, m.Text())
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			peerID = id
		} else {
			found, err := c.con[t].FindByMarker(ctx, c.p.End(t).Project, m)
			if err != nil {
				return nil, fmt.Errorf("look for the copy of deleted %s: %w", keyOr(src), err)
			}
			if len(found) == 0 {
				continue
			}
			peerID = found[0].ID
		}
		if other, err := c.e.pairOf(c.p.ID, t, peerID); err != nil || other != nil {
			return nil, err
		}
		peer, err := c.con[t].Get(ctx, connector.Ref{ID: peerID})
		if errors.Is(err, connector.ErrNotFound) {
			return nil, nil
		} else if err != nil {
			return nil, fmt.Errorf("read the copy of deleted %s: %w", keyOr(src), err)
		}
		tp, ok := c.p.TypePairOf(t, peer.Type)
		if !ok {
			return nil, nil
		}
		a, b := src, peer
		if s == SideB {
			a, b = peer, src
		}
		p := newPair(c.p.ID, a, b, tp, c.now().UTC())
		if ok, err := c.recordPair(p); err != nil || !ok {
			return nil, err // paired meanwhile: as paired before (above)
		}
		c.log.Info().Str("entity_key", src.Key).Str("peer_key", peer.Key).Msg("found the copy of a deleted entity whose pair was lost")
		return p, nil
	}
	return c.originalOfDeleted(ctx, s, id)
}

// originalOfDeleted finds the original of a deleted copy whose pair was
// lost: side s's polls read the copy's marker, which names the original's
// key. The pair is made again for the deletion policy to apply.
func (c *cycle) originalOfDeleted(ctx context.Context, s Side, id string) (*Pair, error) {
	if !c.indexed(s) {
		return nil, nil
	}
	var marker string
	prefix := "mark/" + c.p.ID + "/" + string(s) + "/"
	err := c.e.d.Store.View(func(tx *store.Tx) error {
		return tx.Scan(prefix, "", func(k string, v []byte) error {
			if string(v) == id {
				marker = unesc(strings.TrimPrefix(k, prefix))
				return store.ErrStop
			}
			return nil
		})
	})
	if err != nil && !errors.Is(err, store.ErrStop) {
		return nil, err
	}
	m, ok := connector.ParseMarker(marker)
	t := s.Other()
	if !ok || (m.System != c.origin(t) && m.System != c.p.End(t).System) {
		return nil, nil
	}
	orig, err := c.con[t].Get(ctx, connector.Ref{Key: m.Key})
	if errors.Is(err, connector.ErrNotFound) || errors.Is(err, connector.ErrInvalid) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read %s, the original of a deleted copy: %w", m.Key, err)
	}
	if other, err := c.e.pairOf(c.p.ID, t, orig.ID); err != nil || other != nil {
		return nil, err
	}
	tp, ok := c.p.TypePairOf(t, orig.Type)
	if !ok {
		return nil, nil
	}
	stub := connector.Entity{Ref: connector.Ref{ID: id}, Type: orig.Type}
	a, b := orig, stub
	if t == SideB {
		a, b = stub, orig
	}
	p := newPair(c.p.ID, a, b, tp, c.now().UTC())
	if ok, err := c.recordPair(p); err != nil || !ok {
		return nil, err // paired meanwhile: as paired before (above)
	}
	c.log.Info().Str("entity_key", orig.Key).Str("peer_id", id).Msg("found the original of a deleted copy whose pair was lost")
	return p, nil
}
