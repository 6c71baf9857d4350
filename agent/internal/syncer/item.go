package syncer

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// ErrPermanent marks failures a retry cannot fix (mapping, validation).
var ErrPermanent = errors.New("needs attention")

// The steps of an item's work. Each has its own attempt count, so an item
// whose comments fail is not parked by failures its fields had before.
const (
	stepRead        = "read"
	stepFields      = "fields"
	stepComments    = "comments"
	stepAttachments = "attachments"
	stepLinks       = "links"
)

// stepError names the step a failure happened in.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.err.Error() }

func (e *stepError) Unwrap() error { return e.err }

// inStep tags err with its step, unless an inner step tagged it already.
func inStep(step string, err error) error {
	var se *stepError
	if err == nil || errors.As(err, &se) {
		return err
	}
	return &stepError{step: step, err: err}
}

func stepOf(err error) string {
	var se *stepError
	if errors.As(err, &se) {
		return se.step
	}
	return stepFields
}

func fieldKey(fp mapping.FieldPair) string { return fp.A + "|" + fp.B }

func dirOf(s Side) mapping.Direction {
	if s == SideA {
		return mapping.AtoB
	}
	return mapping.BtoA
}

// flows reports whether fp carries a change made on side from: mapping's
// one rule (a field pair without a direction, which validation refuses,
// flows nowhere rather than writing what Apply did not map).
func flows(fp mapping.FieldPair, from Side) bool { return fp.Direction.Flows(dirOf(from)) }

func fieldOf(fp mapping.FieldPair, s Side) string {
	if s == SideA {
		return fp.A
	}
	return fp.B
}

// errHandled: the entity's change was worked already, by its peer's item.
var errHandled = errors.New("handled with its peer")

// source is side s's entity id as this run has it: what the poll read, or
// a fresh read.
func (c *cycle) source(ctx context.Context, s Side, id string) (connector.Entity, error) {
	if c.handled[freshKey(s, id)] {
		// Its peer's item worked this change already, from what the poll
		// read, and recorded what it wrote: a later change shows in the
		// next poll.
		delete(c.handled, freshKey(s, id))
		delete(c.fresh, freshKey(s, id))
		return connector.Entity{}, errHandled
	}
	if src, ok := c.fresh[freshKey(s, id)]; ok && len(src.Fields) > 0 {
		delete(c.fresh, freshKey(s, id)) // a retry reads the system again
		return src, nil
	}
	return c.con[s].Get(ctx, connector.Ref{ID: id})
}

// What an item's change calls for, decided from what it read.
type itemAction int

const (
	itemNone   itemAction = iota // nothing: its peer's item worked it, or it failed
	itemSkip                     // counted as skipped, nothing written
	itemGone                     // deleted: the deletion policy applies to its peer
	itemCreate                   // unpaired: its peer is made, or found and adopted
	itemUpdate                   // paired: its fields are brought in line
)

// itemDecision is an item's action and what it acts on.
type itemDecision struct {
	do   itemAction
	src  connector.Entity
	tp   mapping.TypePair
	pair *Pair
}

// item works one entity of side s: decides what its change calls for, then
// its fields, then its comments, attachments and links. It succeeds only
// when all of that is done. pairID is the pair the drain found the entity
// in when it dealt the items ("" for none).
func (c *cycle) item(ctx context.Context, s Side, id, pairID string) error {
	c.e.at(probeDecide, s, id)
	held, err := c.heldPair(s, id, pairID)
	if err != nil {
		return inStep(stepRead, err)
	}
	d, err := c.decideItem(ctx, s, id, held)
	if err == nil && d.pair != nil && d.pair.ID != "" && c.holds != nil && d.pair.ID != c.holding {
		// Its pair appeared since the items were dealt, made by another
		// worker: decided again once that worker is done with it.
		c.holdPair(d.pair.ID)
		d, err = c.decideItem(ctx, s, id, nil)
	}
	if d.do == itemSkip {
		c.run.Counts.Skipped++
	}
	if err != nil {
		return err
	}
	t := s.Other()
	src, tp, pair := d.src, d.tp, d.pair
	// cur holds each side's version as this item knows it, for extras.
	cur := map[Side]string{s: src.Version}
	switch d.do {
	case itemGone:
		return inStep(stepFields, c.gone(ctx, pair, s))
	case itemCreate:
		// The pair it makes or adopts is held from when it is made.
		if pair, err = c.create(ctx, s, tp, src); err != nil {
			return inStep(stepFields, err)
		}
		cur[t] = pair.Ref(t).Version
		// A peer found by its marker says so itself ("adopted a peer made
		// before"); only a peer made now is a create.
		if c.newPeers[freshKey(t, pair.Ref(t).ID)] {
			c.itemLog(s, src).Info().Str("pair", pair.ID).Str("peer_key", pair.Ref(t).Key).Msg("created peer entity")
		}
	case itemUpdate:
		if err := c.update(ctx, pair, tp, s, src, true); err != nil {
			return inStep(stepFields, err)
		}
		if pair.State == PairDeleted {
			return nil // its peer turned out deleted
		}
		cur[s] = pair.Ref(s).Version // as our own write left it, if we wrote
		if v, ok := c.currentVersion(t, pair); ok {
			cur[t] = v
		}
	default:
		return nil
	}
	return c.extras(ctx, pair, tp, cur)
}

// heldPair holds pairID, the pair the drain found side s's entity id in,
// and reads the entity's pair. Read under the hold, the pair is as its last
// worker left it, and no other worker changes it until this item is
// settled: the decision takes it as read, so the item reads its pair once.
// An entity in another pair by then has that one held and read. Nil: no
// pair was held (a dry run holds none), or the entity has none now; the
// decision reads it itself then, as late as it can, since nothing keeps a
// pair from being made for it meanwhile.
func (c *cycle) heldPair(s Side, id, pairID string) (*Pair, error) {
	for c.holds != nil && pairID != "" {
		c.holdPair(pairID)
		p, err := c.e.pairOf(c.p.ID, s, id)
		if err != nil || p == nil || p.ID == c.holding {
			return p, err
		}
		pairID = p.ID
	}
	return nil, nil
}

// decideItem reads side s's entity and its pair and decides what its
// change calls for; held, when set, is its pair as read under the
// worker's hold on it (heldPair), not read again. An error comes tagged
// with its step.
func (c *cycle) decideItem(ctx context.Context, s Side, id string, held *Pair) (itemDecision, error) {
	pairOf := func() (*Pair, error) {
		if held != nil {
			return held, nil
		}
		return c.e.pairOf(c.p.ID, s, id)
	}
	if ex, err := c.e.excluded(c.p.ID, s, id); err != nil {
		return itemDecision{}, inStep(stepRead, err)
	} else if ex {
		return itemDecision{do: itemSkip}, nil // unpaired by an administrator
	}
	src, err := c.source(ctx, s, id)
	switch {
	case errors.Is(err, errHandled):
		return itemDecision{}, nil
	case errors.Is(err, connector.ErrNotFound):
		pair, err := pairOf()
		if err == nil && pair == nil {
			pair, err = c.copyOfDeleted(ctx, s, id)
		}
		if err != nil || pair == nil {
			return itemDecision{do: itemSkip}, inStep(stepRead, err) // gone before it was ever synced
		}
		return itemDecision{do: itemGone, pair: pair}, nil
	case err != nil:
		return itemDecision{}, inStep(stepRead, fmt.Errorf("read %s entity %s: %w", s, id, err))
	}
	tp, ok := c.p.TypePairOf(s, src.Type)
	if !ok {
		return itemDecision{do: itemSkip}, nil
	}
	c.seeUsers(s, usersIn(src.Fields))
	pair, err := pairOf()
	if err != nil {
		return itemDecision{}, inStep(stepRead, err)
	}
	d := itemDecision{src: src, tp: tp, pair: pair}
	switch {
	case pair == nil:
		if c.copyOfOther(s, src) {
			// A copy Lockstep made of an entity of the other side, whose
			// pair was lost: its original's item adopts it. Never copied
			// back, so a lost pair never makes a duplicate.
			c.itemLog(s, src).Debug().Str("marker", src.Marker).Msg("a copy awaiting its original's pair")
			d.do = itemSkip
			return d, nil
		}
		match, err := mapping.MatchAll(tp.Filters, src.Fields)
		if err != nil {
			return itemDecision{}, inStep(stepFields, fmt.Errorf("filter %s: %v: %w", src.Key, err, ErrPermanent))
		}
		d.do = itemCreate
		if !match || !c.p.CanCreateIn(s.Other()) {
			d.do = itemSkip
		}
	case pair.State == PairDeleted:
		// One side was deleted: nothing is written or created again until
		// an administrator decides.
		d.do = itemSkip
	default:
		d.do = itemUpdate
	}
	return d, nil
}

// itemLog is the run's log about side s's entity src.
func (c *cycle) itemLog(s Side, src connector.Entity) *zerolog.Logger {
	log := c.log.With().Str("system", c.p.End(s).System).Str("entity_id", src.ID).Str("entity_key", src.Key).Str("entity_title", src.Title).Logger()
	return &log
}

// copyOfOther reports whether src carries the marker of an entity of the
// other side of this process: a copy Lockstep made.
func (c *cycle) copyOfOther(s Side, src connector.Entity) bool {
	m, ok := connector.ParseMarker(src.Marker)
	if !ok {
		return false
	}
	t := s.Other()
	return m.System == c.origin(t) || m.System == c.p.End(t).System
}

// origin names side s's system and project in markers: it survives the
// system being configured again (connector.Origin).
func (c *cycle) origin(s Side) string {
	if o := c.origins.get(s, c.originOf); o != "" {
		return o
	}
	return c.p.End(s).System
}

// originOf is side s's origin made from its system's URL as the system's
// record has it, "" when there is none or it could not be read.
func (c *cycle) originOf(s Side) string {
	if c.e.d.SystemURL == nil {
		return ""
	}
	if u := c.e.d.SystemURL(c.p.End(s).System); u != "" {
		return connector.Origin(u, c.p.End(s).Project)
	}
	return ""
}

// originCache holds each side's origin for one run, shared by its
// workers: it is made from the system's URL, read from the system's record
// (decoded whole), and every create and every unpaired item with a marker
// asks for it. The run's connectors were opened with the records as the
// run began, so the origin made first serves the run. One not made (the
// record unreadable) is not kept: the next item reads the record again.
// Nil keeps nothing.
type originCache struct {
	mu     sync.Mutex
	bySide map[Side]string
}

// get is side s's origin kept, or made, and kept when made.
func (oc *originCache) get(s Side, build func(Side) string) string {
	if oc == nil {
		return build(s)
	}
	oc.mu.Lock()
	defer oc.mu.Unlock()
	if o, ok := oc.bySide[s]; ok {
		return o
	}
	o := build(s)
	if o != "" {
		if oc.bySide == nil {
			oc.bySide = map[Side]string{}
		}
		oc.bySide[s] = o
	}
	return o
}

// guarded reports whether side s's connector is a connector.VersionGuard.
// Without the guard a blind write could overwrite a change unseen, so other
// connectors' peers are always read first.
func (c *cycle) guarded(s Side) bool {
	g, ok := ability[connector.VersionGuard](c.con[s])
	return ok && g.GuardsVersions()
}

// indexed reports whether side s's polls read markers (MarkerIndexer).
func (c *cycle) indexed(s Side) bool {
	ix, ok := ability[connector.MarkerIndexer](c.con[s])
	return ok && ix.IndexesMarkers()
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

// usersIn lists the people field values name.
func usersIn(f connector.Fields) []connector.User {
	var out []connector.User
	for _, v := range f {
		if u, ok := connector.AsUser(v); ok {
			out = append(out, u)
		}
	}
	return out
}

func (c *cycle) seeUsers(s Side, users []connector.User) {
	if c.e.d.SeeUsers != nil && len(users) > 0 && c.tellsUsers() {
		c.e.d.SeeUsers(c.p.End(s).System, users)
	}
}
