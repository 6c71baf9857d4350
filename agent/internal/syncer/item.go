package syncer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// ErrPermanent marks failures a retry cannot fix (mapping, validation).
var ErrPermanent = errors.New("needs attention")

func fieldKey(fp mapping.FieldPair) string { return fp.A + "|" + fp.B }

func dirOf(s Side) mapping.Direction {
	if s == SideA {
		return mapping.AtoB
	}
	return mapping.BtoA
}

func flows(fp mapping.FieldPair, from Side) bool {
	switch fp.Direction {
	case mapping.Both, "":
		return true
	case mapping.AtoB:
		return from == SideA
	case mapping.BtoA:
		return from == SideB
	}
	return false
}

func fieldOf(fp mapping.FieldPair, s Side) string {
	if s == SideA {
		return fp.A
	}
	return fp.B
}

// item works one entity of side s.
func (c *cycle) item(ctx context.Context, s Side, id string) error {
	src, ok := c.fresh[freshKey(s, id)]
	var err error
	if ok && len(src.Fields) > 0 {
		delete(c.fresh, freshKey(s, id)) // a retry reads the system again
	} else if c.handled[freshKey(s, id)] {
		// Its peer's item worked this change already, from what the poll
		// read, and recorded what it wrote: a later change shows in the
		// next poll.
		delete(c.handled, freshKey(s, id))
		return nil
	} else {
		src, err = c.con[s].Get(ctx, connector.Ref{ID: id})
	}
	if errors.Is(err, connector.ErrNotFound) {
		// Deletions are not propagated: removing work is the
		// administrator's decision, never a side effect of a sync.
		c.run.Counts.Skipped++
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s entity %s: %w", s, id, err)
	}
	tp, ok := c.p.typePair(s, src.Type)
	if !ok {
		c.run.Counts.Skipped++
		return nil
	}
	c.seeUsers(s, usersIn(src.Fields))
	log := c.log.With().Str("system", c.p.End(s).System).Str("entity_id", src.ID).Str("entity_key", src.Key).Str("entity_title", src.Title).Logger()
	pair, err := c.e.pairOf(c.p.ID, s, id)
	if err != nil {
		return err
	}
	// cur holds each side's version as this item knows it, for extras.
	cur := map[Side]string{s: src.Version}
	if pair == nil {
		match, err := mapping.MatchAll(tp.Filters, src.Fields)
		if err != nil {
			return fmt.Errorf("filter %s: %v: %w", src.Key, err, ErrPermanent)
		}
		if !match || !c.p.CanCreateIn(s.Other()) {
			c.run.Counts.Skipped++
			return nil
		}
		if pair, err = c.create(ctx, s, tp, src); err != nil {
			return err
		}
		cur[s.Other()] = pair.Ref(s.Other()).Version
		log.Info().Str("pair", pair.ID).Str("peer_key", pair.Ref(s.Other()).Key).Msg("created peer entity")
	} else if pair.State == PairHeld {
		c.run.Counts.Skipped++
		return nil
	} else {
		if err := c.update(ctx, pair, tp, s, src, true); err != nil {
			return err
		}
		cur[s] = pair.Ref(s).Version // as our own write left it, if we wrote
		if v, ok := c.currentVersion(s.Other(), pair); ok {
			cur[s.Other()] = v
		}
	}
	return c.extras(ctx, pair, tp, cur)
}

// guarded reports whether side s's connector is a connector.VersionGuard.
// Without the guard a blind write could overwrite a change unseen, so other
// connectors' peers are always read first.
func (c *cycle) guarded(s Side) bool {
	g, ok := c.con[s].(connector.VersionGuard)
	return ok && g.GuardsVersions()
}

// currentVersion is the version side s's entity of pair has now, as far as
// this run knows without a request: the one the poll read, else the one
// last synced, when nothing of the entity waits in the queue or is parked
// (a change since the last poll shows in the next one).
func (c *cycle) currentVersion(s Side, pair *Pair) (string, bool) {
	id := pair.Ref(s).ID
	if e, ok := c.fresh[freshKey(s, id)]; ok && e.Version != "" {
		return e.Version, true
	}
	pending := false
	err := c.e.d.Store.View(func(tx *store.Tx) error {
		for _, k := range []string{keyQueue(c.p.ID, s, id), keyParked(c.p.ID, s, id)} {
			if _, err := tx.GetRaw(k); err == nil {
				pending = true
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil || pending || pair.Ref(s).Version == "" {
		return "", false
	}
	return pair.Ref(s).Version, true
}

// create makes the peer of src in the other side. The intent is durable
// before the request leaves, and the target carries src's key, so that a
// crash at any point is recovered by finding the marker, never by creating
// a second peer.
func (c *cycle) create(ctx context.Context, s Side, tp mapping.TypePair, src connector.Entity) (*Pair, error) {
	t := s.Other()
	fields, ferrs := mapping.Apply(tp, dirOf(s), src, c.p.Users)
	if len(ferrs) > 0 {
		return nil, fmt.Errorf("map %s: %s: %w", src.Key, ferrs[0].Error(), ErrPermanent)
	}
	fields, err := c.coerce(ctx, s.Other(), fields)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", src.Key, err)
	}
	marker := c.marker(s, src)
	targetType := tp.B
	if t == SideA {
		targetType = tp.A
	}
	if c.dry {
		c.plan = append(c.plan, PlanItem{Action: "create", Side: t, Key: src.Key, Title: src.Title, Detail: fmt.Sprintf("%s from %s %s", targetType, s, src.Key)})
		return &Pair{State: PairSynced}, nil
	}
	var intent Intent
	ikey := keyIntent(c.p.ID, s, src.ID)
	switch err := c.e.d.Store.Get(ikey, &intent); {
	case err == nil:
		// An earlier attempt may have created it: look before creating.
		if p, err := c.adopt(ctx, s, src, marker); err != nil || p != nil {
			return p, err
		}
	case errors.Is(err, store.ErrNotFound):
		if err := c.e.d.Store.Put(ikey, Intent{Target: t, SourceKey: src.Key, At: c.now().UTC()}); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	created, err := c.con[t].Create(ctx, c.p.End(t).Project, targetType, fields, marker)
	if err != nil {
		return nil, fmt.Errorf("create peer of %s: %w", src.Key, err)
	}
	c.run.Counts.Created++
	return c.register(s, src, created, tp, true)
}

func (c *cycle) marker(s Side, src connector.Entity) connector.Marker {
	key := src.Key
	if key == "" {
		key = src.ID
	}
	return connector.Marker{System: c.p.End(s).System, Key: key, URL: src.URL}
}

// adopt looks for a peer an interrupted create left behind.
func (c *cycle) adopt(ctx context.Context, s Side, src connector.Entity, marker connector.Marker) (*Pair, error) {
	t := s.Other()
	found, err := c.con[t].FindByMarker(ctx, c.p.End(t).Project, marker)
	if err != nil {
		return nil, fmt.Errorf("look for the peer of %s: %w", src.Key, err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	tp, _ := c.p.typePair(s, src.Type)
	c.log.Info().Str("entity_key", src.Key).Str("peer_key", found[0].Key).Msg("recovered a peer created before an interruption")
	p, err := c.register(s, src, found[0], tp, false)
	if err != nil {
		return nil, err
	}
	// The peer holds the values the source had when it was created; the
	// source may have changed since. register marked such fields changed
	// at the source, and the update carries them over now: the poll that
	// read this change has moved its watermark past it.
	if err := c.update(ctx, p, tp, s, src, false); err != nil {
		return nil, err
	}
	return p, nil
}

// unsynced is the base of a field whose last-synced value is unknown: it is
// never a hash, so the field reads as changed on that side.
const unsynced = "unsynced"

// register records a new pair with its base, and clears the intent, in one
// transaction.
func (c *cycle) register(s Side, src, peer connector.Entity, tp mapping.TypePair, created bool) (*Pair, error) {
	now := c.now().UTC()
	p := &Pair{ID: newID(), Process: c.p.ID, State: PairSynced, Fields: map[string]Base{}, CreatedAt: now, LastSyncedAt: now}
	*p.Ref(s) = refOf(src)
	*p.Ref(s.Other()) = refOf(peer)
	// The peer is new: nothing but what Lockstep gives it hangs on it yet.
	// (Found by its marker after an interruption, it may hold copies made
	// before: then it is listed.)
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
	err := c.e.d.Store.Update(func(tx *store.Tx) error {
		if err := tx.Put(keyPair(c.p.ID, p.ID), p); err != nil {
			return err
		}
		if err := tx.SetRaw(keyIndex(c.p.ID, SideA, p.A.ID), []byte(p.ID)); err != nil {
			return err
		}
		if err := tx.SetRaw(keyIndex(c.p.ID, SideB, p.B.ID), []byte(p.ID)); err != nil {
			return err
		}
		// Settle the source's queue entry in the same commit: one durable
		// write less per created entity.
		if err := tx.Delete(keyQueue(c.p.ID, s, src.ID)); err != nil {
			return err
		}
		if err := tx.Delete(keyParked(c.p.ID, s, src.ID)); err != nil {
			return err
		}
		return tx.Delete(keyIntent(c.p.ID, s, src.ID))
	})
	if err != nil {
		return nil, fmt.Errorf("register pair of %s: %w", src.Key, err)
	}
	if c.settled == nil {
		c.settled = map[string]bool{}
	}
	c.settled[freshKey(s, src.ID)] = true
	return p, nil
}

func refOf(e connector.Entity) EntityRef {
	return EntityRef{ID: e.ID, Key: e.Key, Title: e.Title, Type: e.Type, URL: e.URL, Version: e.Version}
}

// update brings a pair's fields in line. Each field pair is compared with
// its base on both sides: a side whose hash moved changed. One changed side
// flows to the other (if the direction allows); both changed is a conflict,
// settled by the process's policy and recorded in the run.
//
// The peer is what this run's poll read of it; else, when trust is set,
// its connector guards versions and nothing of the peer is pending, it is
// taken to be as last synced (its base) and written with If-Match of the
// last-synced version. A refused write means it changed: it is read and the
// update done again, so a peer change is never overwritten unseen.
func (c *cycle) update(ctx context.Context, pair *Pair, tp mapping.TypePair, s Side, src connector.Entity, trust bool) error {
	t := s.Other()
	peer, read := c.fresh[freshKey(t, pair.Ref(t).ID)]
	read = read && len(peer.Fields) > 0
	trusted := false
	if !read {
		if _, ok := c.currentVersion(t, pair); ok && trust && !c.dry && c.guarded(t) {
			trusted = true
		} else {
			var err error
			peer, err = c.con[t].Get(ctx, connector.Ref{ID: pair.Ref(t).ID})
			if errors.Is(err, connector.ErrNotFound) {
				return fmt.Errorf("the peer %s of %s was deleted: unpair or recreate it: %w", pair.Ref(t).Key, src.Key, ErrPermanent)
			}
			if err != nil {
				return fmt.Errorf("read peer %s: %w", pair.Ref(t).Key, err)
			}
		}
	}
	ent := map[Side]connector.Entity{s: src, t: peer}
	// known says whether a side's values are at hand; a trusted peer's are
	// its base.
	known := map[Side]bool{s: true, t: !trusted}
	hash := func(side Side, fp mapping.FieldPair) string {
		if !known[side] {
			if side == SideA {
				return pair.Fields[fieldKey(fp)].A
			}
			return pair.Fields[fieldKey(fp)].B
		}
		return mapping.Hash(ent[side].Fields[fieldOf(fp, side)])
	}
	mapped := map[Side]connector.Fields{} // values to write into each side
	for _, from := range []Side{SideA, SideB} {
		if !known[from] {
			continue // unchanged: nothing flows from it
		}
		f, ferrs := mapping.Apply(tp, dirOf(from), ent[from], c.p.Users)
		if len(ferrs) > 0 {
			return fmt.Errorf("map %s: %s: %w", ent[from].Key, ferrs[0].Error(), ErrPermanent)
		}
		mapped[from.Other()] = f
	}
	writes := map[Side]connector.Fields{SideA: {}, SideB: {}}
	var held []string
	for _, fp := range tp.Fields {
		k := fieldKey(fp)
		base := pair.Fields[k]
		hA, hB := hash(SideA, fp), hash(SideB, fp)
		changedA, changedB := hA != base.A, hB != base.B
		if w, ok := pair.Resolve[k]; ok {
			if !known[w] {
				return c.update(ctx, pair, tp, s, src, false) // the chosen value must be read
			}
			changedA, changedB = w == SideA, w == SideB
		}
		switch {
		case !changedA && !changedB:
			continue
		case changedA && changedB:
			if mapping.Hash(mapped[SideB][fp.B]) == hB {
				continue // both sides changed to the same value
			}
			c.run.Counts.Conflicts++
			rec := ConflictRecord{Pair: pair.ID, Field: k, AVersion: ent[SideA].Version, BVersion: ent[SideB].Version}
			switch c.p.Options.Conflict {
			case ConflictAWins:
				rec.Winner = "a"
				if flows(fp, SideA) {
					writes[SideB][fp.B] = mapped[SideB][fp.B]
				}
			case ConflictBWins:
				rec.Winner = "b"
				if flows(fp, SideB) {
					writes[SideA][fp.A] = mapped[SideA][fp.A]
				}
			default:
				rec.Winner = "held"
				held = append(held, k)
			}
			c.run.Conflicts = append(c.run.Conflicts, rec)
			c.log.Warn().Str("pair", pair.ID).Str("field", k).Str("winner", rec.Winner).
				Str("a_version", rec.AVersion).Str("b_version", rec.BVersion).Msg("conflict: both sides changed the field")
		case changedA && flows(fp, SideA):
			writes[SideB][fp.B] = mapped[SideB][fp.B]
		case changedB && flows(fp, SideB):
			writes[SideA][fp.A] = mapped[SideA][fp.A]
		}
	}
	if len(held) > 0 {
		if c.dry {
			c.plan = append(c.plan, PlanItem{Action: "hold", Side: s, Key: src.Key, Title: src.Title, Detail: strings.Join(held, ", ")})
			return nil
		}
		// Nothing is written while a conflict waits: the administrator sees
		// both current values and chooses.
		pair.State, pair.Held = PairHeld, held
		return c.savePair(pair)
	}
	for _, side := range []Side{SideA, SideB} {
		if len(writes[side]) == 0 {
			continue
		}
		ref := pair.Ref(side)
		if c.dry {
			c.plan = append(c.plan, PlanItem{Action: "update", Side: side, Key: ref.Key, Title: ref.Title, Detail: strings.Join(keysOf(writes[side]), ", ")})
			continue
		}
		values, err := c.coerce(ctx, side, writes[side])
		if err != nil {
			return fmt.Errorf("map into %s: %w", ref.Key, err)
		}
		version := ref.Version
		if known[side] {
			version = ent[side].Version
		}
		updated, err := c.con[side].Update(ctx, connector.Ref{ID: ref.ID, Key: ref.Key}, values, version)
		if errors.Is(err, connector.ErrConflict) && !known[side] {
			// The peer changed since it was last synced: read it and decide
			// again with both sides' values.
			return c.update(ctx, pair, tp, s, src, false)
		}
		if err != nil {
			return fmt.Errorf("update %s: %w", ref.Key, err)
		}
		// Fields are not extras: when the extras were in sync at the version
		// written over (If-Match held it), they still are.
		extras := ""
		if c.guarded(side) && version != "" && ref.Extras == c.extrasMark(tp, version) {
			extras = c.extrasMark(tp, updated.Version)
		}
		ent[side], known[side] = updated, true
		ref.Extras = extras
		delete(c.fresh, freshKey(side, updated.ID)) // what the poll read is stale now
		c.run.Counts.Updated++
		c.log.Info().Str("system", c.p.End(side).System).Str("entity_id", updated.ID).Str("entity_key", updated.Key).
			Str("entity_title", updated.Title).Strs("fields", keysOf(writes[side])).Msg("updated entity")
	}
	if c.dry {
		return nil
	}
	// The new base is what each side holds now, as read or as the write
	// returned it: the next read of our own write is not a change. A
	// trusted peer not written keeps its base and its record.
	for _, fp := range tp.Fields {
		pair.Fields[fieldKey(fp)] = Base{A: hash(SideA, fp), B: hash(SideB, fp)}
	}
	for _, side := range []Side{SideA, SideB} {
		if known[side] {
			extras := pair.Ref(side).Extras
			*pair.Ref(side) = refOf(ent[side])
			pair.Ref(side).Extras = extras
		}
	}
	pair.State, pair.Error, pair.LastSyncedAt, pair.Resolve = PairSynced, "", c.now().UTC(), nil
	if err := c.savePair(pair); err != nil {
		return err
	}
	if read {
		// The peer's own queued change was worked here with this one.
		if c.handled == nil {
			c.handled = map[string]bool{}
		}
		c.handled[freshKey(t, pair.Ref(t).ID)] = true
	}
	return nil
}

func keysOf(f connector.Fields) []string {
	out := make([]string, 0, len(f))
	for k := range f {
		out = append(out, k)
	}
	return out
}

func (c *cycle) savePair(p *Pair) error {
	if err := c.e.d.Store.Put(keyPair(c.p.ID, p.ID), p); err != nil {
		return fmt.Errorf("save pair %s: %w", p.ID, err)
	}
	return nil
}

// recoverIntents finishes creates an earlier run left in flight (a crash
// between the request and the pair record): each is found by its marker, or
// its source is queued again to be created.
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
	if err != nil || c.dry {
		return err
	}
	for _, o := range pending {
		if err := c.enqueue(QueueItem{Side: o.side, Entity: o.id}); err != nil {
			return err
		}
	}
	return nil
}

// usersIn lists the people field values name.
func usersIn(f connector.Fields) []connector.User {
	var out []connector.User
	for _, v := range f {
		switch u := v.(type) {
		case connector.User:
			out = append(out, u)
		case *connector.User:
			if u != nil {
				out = append(out, *u)
			}
		case map[string]any:
			id, _ := u["id"].(string)
			email, _ := u["email"].(string)
			if id != "" || email != "" {
				out = append(out, connector.User{ID: id, Email: email})
			}
		}
	}
	return out
}

func (c *cycle) seeUsers(s Side, users []connector.User) {
	if c.e.d.SeeUsers != nil && len(users) > 0 && !c.dry {
		c.e.d.SeeUsers(c.p.End(s).System, users)
	}
}

// coerce shapes values for side t's schema (numbers from text, enum
// spelling, dates), read once per run and only when something is written,
// so an idle poll costs no extra request. A value the target cannot hold
// is a permanent error naming the field.
func (c *cycle) coerce(ctx context.Context, t Side, f connector.Fields) (connector.Fields, error) {
	sch, err := c.schemas.get(ctx, t, func(ctx context.Context) (connector.Schema, error) {
		return c.con[t].Schema(ctx, c.p.End(t).Project)
	})
	if err != nil {
		return nil, fmt.Errorf("read the schema of side %s: %w", t, err)
	}
	out, ferrs := mapping.CoerceFields(f, sch)
	if len(ferrs) > 0 {
		return nil, fmt.Errorf("%s: %w", ferrs[0].Error(), ErrPermanent)
	}
	return out, nil
}

// schemaCache holds each side's schema for one run. Workers share it; the
// first to need a side's schema reads it while the others wait, so a run
// reads it once however many workers write.
type schemaCache struct {
	mu     sync.Mutex
	bySide map[Side]connector.Schema
}

func (sc *schemaCache) get(ctx context.Context, s Side, read func(context.Context) (connector.Schema, error)) (connector.Schema, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sch, ok := sc.bySide[s]; ok {
		return sch, nil
	}
	sch, err := read(ctx)
	if err != nil {
		return connector.Schema{}, err
	}
	if sc.bySide == nil {
		sc.bySide = map[Side]connector.Schema{}
	}
	sc.bySide[s] = sch
	return sch, nil
}
