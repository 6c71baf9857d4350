package syncer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

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
// when all of that is done.
func (c *cycle) item(ctx context.Context, s Side, id string) error {
	d, err := c.decideItem(ctx, s, id)
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

// decideItem reads side s's entity and its pair and decides what its
// change calls for. An error comes tagged with its step.
func (c *cycle) decideItem(ctx context.Context, s Side, id string) (itemDecision, error) {
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
		pair, err := c.e.pairOf(c.p.ID, s, id)
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
	pair, err := c.e.pairOf(c.p.ID, s, id)
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
	if c.e.d.SystemURL != nil {
		if u := c.e.d.SystemURL(c.p.End(s).System); u != "" {
			return connector.Origin(u, c.p.End(s).Project)
		}
	}
	return c.p.End(s).System
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
		return nil, fmt.Errorf("create peer of %s: %w", src.Key, err)
	}
	c.run.Counts.Created++
	if c.newPeers == nil {
		c.newPeers = map[string]bool{}
	}
	c.newPeers[freshKey(t, created.ID)] = true
	return c.register(s, src, created, tp, true)
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

// putPairTx stores a pair and its two index entries.
func putPairTx(tx *store.Tx, p *Pair) error {
	if err := putPairRecordTx(tx, p); err != nil {
		return err
	}
	if err := tx.SetRaw(keyIndex(p.Process, SideA, p.A.ID), []byte(p.ID)); err != nil {
		return err
	}
	return tx.SetRaw(keyIndex(p.Process, SideB, p.B.ID), []byte(p.ID))
}

// deletePairTx removes a pair and its index entries.
func deletePairTx(tx *store.Tx, p *Pair) error {
	if err := deletePairRecordTx(tx, p.Process, p.ID); err != nil {
		return err
	}
	for _, k := range []string{keyIndex(p.Process, SideA, p.A.ID), keyIndex(p.Process, SideB, p.B.ID)} {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// wakeWaitingTx queues again the entities of side s whose links wait for
// entity target's pair, and has their links listed again.
func (e *Engine) wakeWaitingTx(tx *store.Tx, proc string, s Side, target string, now time.Time) error {
	var waiting []string
	prefix := prefixWait(proc, s, target)
	if err := tx.Scan(prefix, "", func(k string, _ []byte) error {
		waiting = append(waiting, k)
		return nil
	}); err != nil {
		return err
	}
	for _, k := range waiting {
		src := unesc(strings.TrimPrefix(k, prefix))
		if err := tx.Delete(k); err != nil {
			return err
		}
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

func refOf(e connector.Entity) EntityRef {
	return EntityRef{ID: e.ID, Key: e.Key, Title: e.Title, Type: e.Type, URL: e.URL, Version: e.Version}
}

func keysOf(f connector.Fields) []string {
	out := make([]string, 0, len(f))
	for k := range f {
		out = append(out, k)
	}
	return out
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
		if err := c.q.add(QueueItem{Side: o.side, Entity: o.id}); err != nil {
			return err
		}
	}
	return nil
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

// pairGone records the pair of alive (side s) with an entity of side t that
// was deleted while their pair was lost, and applies the deletion policy.
func (c *cycle) pairGone(ctx context.Context, s Side, alive connector.Entity, t Side, dead connector.Ref, tp mapping.TypePair) (*Pair, error) {
	stub := connector.Entity{Ref: dead, Type: alive.Type}
	a, b := alive, stub
	if s == SideB {
		a, b = stub, alive
	}
	p := newPair(c.p.ID, a, b, tp, c.now().UTC())
	if err := c.recordNow(func(tx *store.Tx) error { return putPairTx(tx, p) }); err != nil {
		return nil, fmt.Errorf("record the pair of %s and its deleted peer: %w", keyOr(alive), err)
	}
	c.log.Info().Str("entity_key", alive.Key).Str("peer_id", dead.ID).Msg("the peer made before was deleted while the pair was lost")
	if err := c.gone(ctx, p, t); err != nil {
		return nil, err
	}
	p.State = PairDeleted
	return p, nil
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
		if err := c.recordNow(func(tx *store.Tx) error { return putPairTx(tx, p) }); err != nil {
			return nil, err
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
	if err := c.recordNow(func(tx *store.Tx) error { return putPairTx(tx, p) }); err != nil {
		return nil, err
	}
	c.log.Info().Str("entity_key", orig.Key).Str("peer_id", id).Msg("found the original of a deleted copy whose pair was lost")
	return p, nil
}
