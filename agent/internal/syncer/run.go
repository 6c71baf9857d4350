package syncer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// overlap re-reads the last moments before a watermark: systems' update
// times are not always unique or precise, and a repeat costs nothing (its
// hashes match) while a gap loses a change.
const overlap = 2 * time.Second

// maxAttempts before a transiently failing item is parked.
const maxAttempts = 8

// cycle is one run's working state.
type cycle struct {
	e    *Engine
	p    *Process
	run  Run
	con  map[Side]connector.Connector
	log  zerolog.Logger
	dry  bool
	plan []PlanItem
	// q is the queue the run works: the store's, or a dry run's in
	// memory (queue.go).
	q      queue
	worked func()
	// holds is shared by the run's workers; holding is the pair this
	// worker holds (holds.go).
	holds   *pairHolds
	holding string
	// fresh holds the entities this run's poll just read, in memory only,
	// so working them costs no second read; never stored (privacy).
	fresh map[string]connector.Entity
	// deleted holds what the polls said of entities deleted (their key),
	// in memory, for a deletion to find the copy it concerns when its pair
	// was lost.
	deleted map[string]connector.Ref
	// newPeers names the entities this run created: they hold no
	// comments or attachments but Lockstep's, so they need no listing.
	newPeers map[string]bool
	// handled names polled entities whose change their peer's item worked
	// (it read them as the peer), so their own item has nothing to do.
	handled map[string]bool
	// schemas are each side's schema, read at most once per run and
	// shared by the run's workers.
	schemas *schemaCache
	// origins are each side's origin in markers, made once per run
	// from its system's URL and shared likewise (item.go).
	origins *originCache
	// reach is how far the run has read each side's changes (reach.go),
	// shared by its workers.
	reach    *reach
	workedMu sync.Mutex
	// unsaved holds pair saves waiting for the item's next commit
	// (deferred.go), by pair id.
	unsaved map[string]*Pair
	// deferred holds transactions waiting for it too (registrations).
	deferred []func(*store.Tx) error
	// halt stops the drain under way, shared by its workers.
	halt *halt
}

// halt stops a drain for every worker at once. Credentials a system
// refuses are refused for every item: working on would park each one (a
// 401 is not transient) and send a request with refused credentials per
// item, which locks some services' accounts. The first refusal cancels the
// workers' context instead: requests in flight end, no item starts, and
// the items not worked keep their queue entries as they were.
type halt struct {
	cancel context.CancelFunc
	once   sync.Once
	err    error
}

// refused stops the drain because err, an item's failure, says a system
// refused the credentials. It reports whether it did.
func (c *cycle) refused(err error) bool {
	if c.halt == nil || !errors.Is(err, connector.ErrUnauthorized) {
		return false
	}
	c.halt.once.Do(func() {
		var se *sideError
		if errors.As(err, &se) {
			// The run's failure names the system, for health and
			// RetrySystem; the error's words come from the connector,
			// which never puts a secret in them.
			c.halt.err = onSide(se.side, fmt.Errorf("system %s refused the credentials: the run stopped, its items wait for the next run: %w",
				c.p.End(se.side).System, err))
		} else {
			c.halt.err = fmt.Errorf("a system refused the credentials: the run stopped, its items wait for the next run: %w", err)
		}
		c.halt.cancel()
	})
	return true
}

// stopped is why a drain stopped early: credentials refused, or its
// context's end (the agent stopping).
func (c *cycle) stopped(ctx context.Context) error {
	if c.halt != nil && c.halt.err != nil {
		return c.halt.err
	}
	return ctx.Err()
}

func freshKey(s Side, id string) string { return string(s) + "/" + id }

func (c *cycle) now() time.Time { return c.e.d.Now() }

// runOnce performs one run: recover creates in flight, poll both sides into
// the durable queue, then work the queue.
func (e *Engine) runOnce(ctx context.Context, p *Process, trigger string, only *QueueItem) Run {
	return e.runWith(ctx, p, trigger, only, nil)
}

// runWith is runOnce with a hook called after each worked item (progress).
func (e *Engine) runWith(ctx context.Context, p *Process, trigger string, only *QueueItem, worked func()) Run {
	c := &cycle{e: e, p: p, con: map[Side]connector.Connector{}, q: storeQueue{e: e, proc: p.ID}, worked: worked, schemas: &schemaCache{}, origins: &originCache{}, holds: e.holds, reach: newReach()}
	c.run = Run{Process: p.ID, Trigger: trigger, StartedAt: e.d.Now().UTC()}
	// A process deleted while this run waited for the one before it is
	// not run: its state went with it (removed), and the run would write
	// state for a process that no longer exists.
	if ok, err := e.procs.exists(p.ID); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("process %s was deleted: %w", p.ID, ErrNotFound)
		}
		c.run.Errors = append(c.run.Errors, runFailure(err))
		return c.run
	}
	if err := e.beginRun(&c.run); err != nil {
		e.d.Log.Error().Err(err).Str("process", p.ID).Msg("record the run's start")
		return c.run
	}
	c.log = e.d.Log.With().Str("process", p.ID).Str("run", c.run.ID).Logger()
	e.d.Bus.Publish(apitype.EventRunStarted, apitype.RunStarted{Process: p.ID, Run: c.run.ID, Trigger: trigger})
	err := c.execute(ctx, only)
	if ferr := c.flushPairs(); ferr != nil { // nothing should be left; never lose a save
		err = errors.Join(err, ferr)
	}
	if err != nil {
		c.run.Errors = append(c.run.Errors, runFailure(err))
		c.log.Warn().Err(err).Msg("run stopped")
	}
	c.run.EndedAt = e.d.Now().UTC()
	if err := e.saveRun(&c.run); err != nil {
		c.log.Error().Err(err).Msg("save run record")
	}
	c.log.Info().Int("created", c.run.Counts.Created).Int("updated", c.run.Counts.Updated).
		Int("commented", c.run.Counts.Commented).Int("attached", c.run.Counts.Attached).Int("linked", c.run.Counts.Linked).
		Int("failed", c.run.Counts.Failed).Int("conflicts", c.run.Counts.Conflicts).Msg("run finished")
	e.d.Bus.Publish(apitype.EventRunFinished, apitype.RunFinished{Process: p.ID, Run: c.run.ID, Counts: c.run.Counts, Errors: len(c.run.Errors)})
	return c.run
}

func (c *cycle) execute(ctx context.Context, only *QueueItem) error {
	if c.e.d.Allowed != nil {
		if err := c.e.d.Allowed(c.p); err != nil {
			return err
		}
	}
	for _, s := range []Side{SideA, SideB} {
		con, err := c.e.openOn(s, c.p.End(s).System)
		if err != nil {
			return onSide(s, fmt.Errorf("open system %s: %w", c.p.End(s).System, err))
		}
		c.con[s] = con
	}
	if err := c.recoverIntents(ctx); err != nil {
		return err
	}
	if only != nil {
		if err := c.fromWatermarks(); err != nil {
			return err
		}
		if err := c.q.add(*only); err != nil {
			return err
		}
		return c.drain(ctx, only)
	}
	// A large backlog (an initial sync) is polled and worked in rounds of
	// about roundItems changes, so that what the polls read and keep in
	// memory for the items stays bounded.
	for {
		more := false
		for _, s := range []Side{SideA, SideB} {
			m, err := c.poll(ctx, s)
			if err != nil {
				return err
			}
			c.reach.polled(s, m)
			more = more || m
		}
		if err := c.drain(ctx, nil); err != nil || !more {
			return err
		}
		clear(c.fresh) // worked: the next round reads its own
	}
}

// roundItems is how many changes a run's poll queues before their items
// are worked (a dry run, which queues nothing, polls everything at once).
var roundItems = 5000

// poll reads one side's changes since its watermark, page by page, into the
// queue (storeQueue.page says how a page is kept). It stops after the page
// that brings the changes it queued to the queue's round, saying more
// follow: the next poll goes on from the watermark.
func (c *cycle) poll(ctx context.Context, s Side) (more bool, err error) {
	var wm Watermark
	if err := c.e.d.Store.Get(keyWatermark(c.p.ID, s), &wm); err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	since := wm.Since
	if !since.IsZero() {
		since = since.Add(-overlap)
	}
	// Only changes past where the poll began count toward the round: the
	// overlap's re-reads do not, and the round ends only once the
	// watermark moved. Else more than a round of changes within the
	// overlap that stay unpaired (skipped by a filter or a one-way
	// process, copies awaiting their originals) were read again by every
	// round, first, and the run never ended.
	start := wm.Since
	cursor := ""
	queued := 0
	for {
		page, err := c.con[s].Changes(ctx, c.p.End(s).Project, since, cursor)
		if err != nil {
			return false, onSide(s, fmt.Errorf("poll side %s: %w", s, err))
		}
		pg := polled{side: s, marks: map[string]string{}, from: wm.Since, to: wm.Since, deleted: page.Deleted,
			wasPartial: wm.Partial, partial: page.Cursor != ""}
		for _, ent := range page.Entities {
			if ent.UpdatedAt.After(pg.to) {
				pg.to = ent.UpdatedAt
			}
			if ent.Marker != "" && c.indexed(s) {
				pg.marks[ent.Marker] = ent.ID
			}
			if _, ok := c.p.TypePairOf(s, ent.Type); !ok {
				continue
			}
			if c.known(s, ent) {
				continue // our own write, or a change already worked
			}
			if parked, err := c.parkedAt(s, ent); err != nil {
				return false, err
			} else if parked {
				continue
			}
			pg.changed = append(pg.changed, ent)
			if ent.UpdatedAt.After(start) {
				queued++
			}
			if c.fresh == nil {
				c.fresh = map[string]connector.Entity{}
			}
			c.fresh[freshKey(s, ent.ID)] = ent
		}
		// Deleted entities are worked like changed ones: their read
		// answers not found, and the deletion policy applies.
		for _, ref := range page.Deleted {
			if c.deleted == nil {
				c.deleted = map[string]connector.Ref{}
			}
			c.deleted[freshKey(s, ref.ID)] = ref
		}
		if err := c.q.page(pg); err != nil {
			return false, fmt.Errorf("queue changes of side %s: %w", s, err)
		}
		wm.Since, wm.Partial = pg.to, pg.partial
		if page.Cursor == "" {
			return false, nil
		}
		if queued += len(pg.deleted); c.q.round() > 0 && queued >= c.q.round() && wm.Since.After(start) {
			return true, nil // the rest after this round's items are worked
		}
		cursor = page.Cursor
	}
}

// known reports whether ent is already in sync: paired, with the version
// Lockstep last read or wrote. Echoes of our own writes stop here without a
// single extra request.
func (c *cycle) known(s Side, ent connector.Entity) bool {
	pair, err := c.e.pairOf(c.p.ID, s, ent.ID)
	// A pair stopped on an error knows its side too: the failure was the
	// other side's change (parked there), and re-reading this side's own
	// unchanged version must not send the refused write again.
	if err != nil || pair == nil || (pair.State != PairSynced && pair.State != PairError) {
		return false
	}
	return ent.Version != "" && pair.Ref(s).Version == ent.Version
}

// parkedAt reports whether ent is parked at the version read: the change
// was worked and failed for good, and only a newer change (or the
// administrator's retry) works it again. A poll reads the newest changes
// once more in every run (its overlap), and would otherwise send the
// refused write again each time.
func (c *cycle) parkedAt(s Side, ent connector.Entity) (bool, error) {
	if ent.Version == "" {
		return false, nil
	}
	var p Parked
	err := c.e.d.Store.Get(keyParked(c.p.ID, s, ent.ID), &p)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("read whether %s is parked: %w", keyOr(ent), err)
	}
	return p.Version == ent.Version, nil
}

// drain works every queued item that is due; only, when set, limits it to
// one entity.
func (c *cycle) drain(ctx context.Context, only *QueueItem) error {
	items, err := c.q.due(only)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.halt = &halt{cancel: cancel}
	// Creates left in flight go first: their peers, already in the other
	// system, must be recognised before anything else touches them.
	inFlight := map[string]bool{}
	c.e.d.Store.View(func(tx *store.Tx) error {
		return tx.Scan(prefixIntents(c.p.ID), "", func(k string, _ []byte) error {
			inFlight[strings.TrimPrefix(k, prefixIntents(c.p.ID))] = true
			return nil
		})
	})
	sort.SliceStable(items, func(i, j int) bool {
		return inFlight[string(items[i].Side)+"/"+esc(items[i].Entity)] && !inFlight[string(items[j].Side)+"/"+esc(items[j].Entity)]
	})
	// Creates in flight go one by one, first; the rest spread over a few
	// workers, a pair's items to one of them (units), and a worker holds
	// the pair it works (holds.go), so a pair is never worked twice at
	// once; pairs are independent of each other.
	n := 0
	for n < len(items) && inFlight[string(items[n].Side)+"/"+esc(items[n].Entity)] {
		n++
	}
	for _, it := range items[:n] {
		if ctx.Err() != nil {
			return c.stopped(ctx)
		}
		c.work(ctx, dealt{QueueItem: it})
		c.done()
	}
	items = append(items[:n], c.unwaited(items[n:])...)
	workers := c.workers(len(items[n:]))
	children := make([]*cycle, workers)
	for w := range workers {
		children[w] = c
		if workers > 1 {
			children[w] = c.child()
		}
	}
	// Workers take the next unit as they finish one, so a worker whose
	// items were quick does not idle while another still has a long
	// queue of its own (a fixed share each made the slowest share the
	// run's length).
	each := func(units [][]dealt, fn func(ch *cycle, it dealt)) {
		next := make(chan []dealt)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func(ch *cycle) {
				defer wg.Done()
				for unit := range next {
					for _, it := range unit {
						if ctx.Err() != nil {
							break
						}
						fn(ch, it)
					}
				}
			}(children[w])
		}
	feed:
		for _, u := range units {
			select {
			case next <- u:
			case <-ctx.Done():
				break feed
			}
		}
		close(next)
		wg.Wait()
	}
	// Every unpaired item whose other side must be searched for a peer
	// made before looks first, before any item creates: a copy whose pair
	// was lost is paired with its original before it could be taken for an
	// original itself and copied back.
	if c.looksAhead() {
		each(alone(items[n:]), func(ch *cycle, it dealt) { ch.look(ctx, it.QueueItem) })
	}
	// Grouped once the look is done: the items of a pair it adopted are
	// one unit, each knowing its pair.
	each(c.units(items[n:]), func(ch *cycle, it dealt) {
		ch.work(ctx, it)
		c.done()
	})
	if workers > 1 {
		for _, ch := range children {
			c.merge(ch)
		}
	}
	return c.stopped(ctx)
}

// drainWorkers is how many items of one run are worked at once: enough to
// keep a system's request budget busy while one request waits.
const drainWorkers = 4

// look pairs an unpaired item with a peer made for it before, on a side
// whose polls read no markers (so a copy there cannot tell it is one).
func (c *cycle) look(ctx context.Context, it QueueItem) {
	defer c.releasePair() // of a pair it makes
	s := it.Side
	if c.indexed(s.Other()) {
		return
	}
	if pair, err := c.e.pairOf(c.p.ID, s, it.Entity); err != nil || pair != nil {
		return
	}
	if ex, err := c.e.excluded(c.p.ID, s, it.Entity); err != nil || ex {
		return
	}
	src, ok := c.fresh[freshKey(s, it.Entity)]
	if !ok || len(src.Fields) == 0 {
		var err error
		if src, err = c.con[s].Get(ctx, connector.Ref{ID: it.Entity}); err != nil {
			c.refused(err)
			return // its own work reads it again and says why
		}
		c.remember(s, src)
	}
	tp, ok := c.p.TypePairOf(s, src.Type)
	if !ok || c.copyOfOther(s, src) {
		return
	}
	if _, err := c.findPeer(ctx, s, src, tp); c.refused(err) {
		return
	} else if err != nil {
		c.log.Warn().Err(err).Str("entity_key", src.Key).Msg("look for a peer made before: its work tries again")
	}
	// The pair adopted is in the store before any item works.
	if err := c.flushPairs(); err != nil {
		c.log.Warn().Err(err).Str("entity_key", src.Key).Msg("record a peer made before: its work looks again")
	}
}

// dealt is a queued item as the drain deals it to a worker: with the pair
// it was in then, which the worker holds before it reads the pair
// (item), "" for none.
type dealt struct {
	QueueItem
	pair string
}

// units groups a drain's items by their pair (an unpaired item by
// itself), in the order of each group's first item: one worker works a
// unit's items one after the other, so they never wait for each other's
// hold on their pair (holds.go covers a pair made while the drain runs).
// Only the pair index is read: the pair itself is read by its worker,
// under its hold.
func (c *cycle) units(items []QueueItem) [][]dealt {
	var units [][]dealt
	at := map[string]int{}
	for _, it := range items {
		d := dealt{QueueItem: it}
		key := string(it.Side) + "/" + it.Entity
		if id, err := c.e.pairIDOf(c.p.ID, it.Side, it.Entity); err == nil && id != "" {
			key, d.pair = id, id
		}
		i, ok := at[key]
		if !ok {
			i = len(units)
			at[key] = i
			units = append(units, nil)
		}
		units[i] = append(units[i], d)
	}
	return units
}

// alone deals each item by itself, for the look, which works only items
// without a pair.
func alone(items []QueueItem) [][]dealt {
	units := make([][]dealt, len(items))
	for i, it := range items {
		units[i] = []dealt{{QueueItem: it}}
	}
	return units
}

// child is a worker's view of the cycle: shared connectors and process,
// its own counters, caches and plan, merged back when the drain ends.
func (c *cycle) child() *cycle {
	ch := &cycle{e: c.e, p: c.p, con: c.con, log: c.log, dry: c.dry, q: c.q, worked: nil, fresh: map[string]connector.Entity{}, schemas: c.schemas, origins: c.origins,
		deleted: c.deleted, halt: c.halt, holds: c.holds, reach: c.reach}
	ch.run.ID, ch.run.Process = c.run.ID, c.run.Process
	for k, v := range c.fresh {
		ch.fresh[k] = v // each worker deletes only its own items' entries
	}
	return ch
}

func (c *cycle) merge(ch *cycle) {
	r, o := &c.run, ch.run
	r.Counts.Created += o.Counts.Created
	r.Counts.Updated += o.Counts.Updated
	r.Counts.Commented += o.Counts.Commented
	r.Counts.Attached += o.Counts.Attached
	r.Counts.Linked += o.Counts.Linked
	r.Counts.Skipped += o.Counts.Skipped
	r.Counts.Failed += o.Counts.Failed
	r.Counts.Conflicts += o.Counts.Conflicts
	r.Counts.Deleted += o.Counts.Deleted
	r.Errors = append(r.Errors, o.Errors...)
	r.Conflicts = append(r.Conflicts, o.Conflicts...)
	c.plan = append(c.plan, ch.plan...)
}

// done reports one worked item to the progress hook, one caller at a time.
func (c *cycle) done() {
	if c.worked != nil {
		c.workedMu.Lock()
		c.worked()
		c.workedMu.Unlock()
	}
}

// steps are an item's steps in the order it works them.
var steps = []string{stepRead, stepFields, stepComments, stepAttachments, stepLinks}

// work processes one item and settles its queue entry: done, retried later
// with backoff, or parked (queue.go). One poisoned entity never blocks the
// others. Credentials refused are no entity's fault: they stop the drain
// (halt), and the item's entry stays as it was, like those of the items
// in flight.
func (c *cycle) work(ctx context.Context, d dealt) {
	it := d.QueueItem
	// The pair is held until the item is settled: its saves are then in
	// the store for the next worker of the pair (holds.go).
	defer c.releasePair()
	polled := c.fresh[freshKey(it.Side, it.Entity)] // item consumes it; a parked entity is named by it
	if err := c.item(ctx, it.Side, it.Entity, d.pair); err != nil {
		c.refused(err) // the drain's context ends: fail leaves the entry
		c.q.fail(ctx, c, it, err, polled)
		return
	}
	c.e.at(probeSettle, it.Side, it.Entity)
	if err := c.q.settle(c, it); err != nil {
		c.log.Error().Err(err).Str("system", c.p.End(it.Side).System).Str("entity_id", it.Entity).Msg("settle the queue entry: the entity is worked again")
	}
}
