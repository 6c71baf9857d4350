package syncer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// gone handles the deletion of side d's entity of pair by the process's
// policy for deletions on that side: the peer is kept (ignore), deleted
// too (mirror) or marked (a field value and a comment). A deletion never
// resurrects anything: the pair stays, in state deleted, until an
// administrator unpairs it, recreates the deleted entity or applies a
// policy; a mirrored delete removes the pair, so the peer's own deletion,
// seen later, finds nothing to do and never loops.
func (c *cycle) gone(ctx context.Context, pair *Pair, d Side) error {
	if pair.State == PairDeleted {
		return nil
	}
	o := d.Other()
	pol := c.p.OnDelete(d)
	dead, kept := *pair.Ref(d), *pair.Ref(o)
	if c.listsDeletion() {
		c.plan = append(c.plan, PlanItem{Action: "deleted", Side: d, Entity: dead.ID, Key: dead.Key, Title: dead.Title,
			Detail: fmt.Sprintf("deletion policy %s for its peer %s", pol.Action, kept.Key)})
		pair.State = PairDeleted
		return nil
	}
	log := c.log.With().Str("pair", pair.ID).Str("system", c.p.End(d).System).Str("entity_id", dead.ID).Str("entity_key", dead.Key).Logger()
	how := "kept"
	switch pol.Action {
	case DeleteMirror:
		if del, ok := ability[connector.Deleter](c.con[o]); ok {
			sent, err := c.apply(ctx, write{
				entry: PlanItem{Action: "delete", Side: o, Entity: kept.ID, Key: kept.Key, Title: kept.Title, Detail: "peer of deleted " + keyOrID(dead)},
				send:  func(ctx context.Context) error { return del.Delete(ctx, connector.Ref{ID: kept.ID, Key: kept.Key}) },
			})
			if !sent {
				return err // the pending saves failed (a dry run lists the deletion above)
			}
			if err != nil && !errors.Is(err, connector.ErrNotFound) {
				return fmt.Errorf("delete %s, the peer of deleted %s: %w", kept.Key, dead.Key, err)
			}
			if err := c.recordNow(func(tx *store.Tx) error {
				if err := deletePairTx(tx, pair); err != nil {
					return err
				}
				for _, side := range []Side{SideA, SideB} {
					if err := tx.Delete(keyParked(c.p.ID, side, pair.Ref(side).ID)); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				return fmt.Errorf("remove the pair of deleted %s: %w", dead.Key, err)
			}
			c.run.Counts.Deleted++
			pair.State = PairDeleted
			log.Info().Str("peer_key", kept.Key).Msg("entity deleted: its peer was deleted too")
			c.e.pairChanged(c.p.ID, pair.ID, "deleted")
			return nil
		}
		c.diverge(pair, fmt.Sprintf("%s was deleted, but %s cannot delete entities: %s was kept", dead.Key, c.systemName(o), kept.Key))
		how = "kept: its system cannot delete"
	case DeleteMark:
		if err := c.markDeleted(ctx, pair, d, pol); err != nil {
			return err
		}
		how = "marked"
	}
	pair.State, pair.Gone = PairDeleted, d
	pair.Error = fmt.Sprintf("%s was deleted in %s; %s in %s is %s. Unpair, recreate %s, or apply a deletion policy.",
		keyOrID(dead), c.systemName(d), keyOrID(kept), c.systemName(o), how, keyOrID(dead))
	if err := c.savePair(pair); err != nil {
		return err
	}
	c.run.Counts.Deleted++
	log.Info().Str("peer_key", kept.Key).Str("policy", string(pol.Action)).Msg("entity deleted: its peer was " + how)
	c.e.pairChanged(c.p.ID, pair.ID, "deleted")
	return nil
}

func keyOrID(r EntityRef) string {
	if r.Key != "" {
		return r.Key
	}
	return r.ID
}

// markDeleted sets the policy's field on the survivor and says in a
// comment that its peer was deleted. The comment carries a marker, so a
// crash between the two writes never adds it twice.
func (c *cycle) markDeleted(ctx context.Context, pair *Pair, d Side, pol DeletePolicy) error {
	o := d.Other()
	dead, kept := pair.Ref(d), pair.Ref(o)
	ref := connector.Ref{ID: kept.ID, Key: kept.Key}
	if pol.Field != "" {
		values, err := c.coerce(ctx, o, connector.Fields{pol.Field: pol.Value})
		if err != nil {
			return fmt.Errorf("mark %s, the peer of deleted %s: %w", kept.Key, dead.Key, err)
		}
		var updated connector.Entity
		sent, err := c.apply(ctx, write{
			entry: PlanItem{Action: "update", Side: o, Entity: kept.ID, Key: kept.Key, Title: kept.Title, Detail: pol.Field},
			send: func(ctx context.Context) (err error) {
				updated, err = c.con[o].Update(ctx, ref, values, "")
				return err
			},
		})
		if !sent {
			return err
		}
		if err != nil && !errors.Is(err, connector.ErrNotFound) {
			return fmt.Errorf("mark %s, the peer of deleted %s: %w", kept.Key, dead.Key, err)
		}
		if err == nil {
			extras := kept.Extras
			*kept = refOf(updated)
			kept.Extras = extras
		}
	}
	text := pol.Comment
	if text == "" {
		text = "The linked item {key} in {system} was deleted."
	}
	text = strings.NewReplacer("{key}", keyOrID(*dead), "{system}", c.systemName(d)).Replace(text)
	marker := fmt.Sprintf("%sdeleted:%s:%s", connector.MarkerPrefix, d, dead.ID)
	existing, err := c.con[o].Comments(ctx, ref)
	if err != nil {
		return fmt.Errorf("mark %s, the peer of deleted %s: %w", kept.Key, dead.Key, err)
	}
	for _, cm := range existing {
		if commentMarkerOf(cm) == marker {
			return nil
		}
	}
	sent, err := c.apply(ctx, write{
		entry: PlanItem{Action: "comment", Side: o, Entity: kept.ID, Key: kept.Key, Title: kept.Title, Detail: "the deletion of " + keyOrID(*dead)},
		send: func(ctx context.Context) error {
			_, err := c.con[o].AddComment(ctx, ref, connector.NewComment{Body: text, Marker: marker})
			return err
		},
	})
	if !sent {
		return err
	}
	if err != nil {
		return fmt.Errorf("mark %s, the peer of deleted %s: %w", kept.Key, dead.Key, err)
	}
	kept.Extras = "" // Lockstep wrote to it: listed again
	return nil
}

// diverge records on the pair what could not be mirrored, once.
func (c *cycle) diverge(pair *Pair, what string) {
	if !slices.Contains(pair.Divergences, what) {
		pair.Divergences = append(pair.Divergences, what)
		c.log.Warn().Str("pair", pair.ID).Msg("not mirrored: " + what)
	}
	const keep = 20 // the latest; older ones are in the logs
	if n := len(pair.Divergences); n > keep {
		pair.Divergences = pair.Divergences[n-keep:]
	}
}

// systemName is side s's system as administrators know it.
func (c *cycle) systemName(s Side) string {
	id := c.p.End(s).System
	if c.e.d.Systems != nil {
		if names, err := c.e.d.Systems(); err == nil && names[id] != "" {
			return names[id]
		}
	}
	return "system " + id
}

// excluded reports whether an administrator unpaired the entity.
func (e *Engine) excluded(proc string, s Side, id string) (bool, error) {
	var found bool
	err := e.d.Store.View(func(tx *store.Tx) error {
		_, err := tx.GetRaw(keyExcluded(proc, s, id))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		found = err == nil
		return err
	})
	return found, err
}

// pairChanged tells subscribers a pair changed outside a run's counts.
func (e *Engine) pairChanged(proc, pair, what string) {
	e.d.Bus.Publish(apitype.EventPairChanged, apitype.PairChanged{Process: proc, Pair: pair, Change: what})
}
