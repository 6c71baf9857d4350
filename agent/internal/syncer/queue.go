package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// A queue holds what a run works: the changes its polls read, the markers
// the polled entities carry, each side's watermark, and what becomes of an
// item once worked. A real run's queue is the store's (storeQueue): durable,
// so a crash loses no change and applies none twice. A dry run's is kept in
// memory over the store's, which it reads and never writes (memQueue).
type queue interface {
	// add queues an entity to work in this run: one synced on request, or
	// the source of a create left in flight.
	add(QueueItem) error
	// page records one page of a side's poll.
	page(polled) error
	// round is how many changes a poll queues before they are worked
	// (0: no limit).
	round() int
	// due lists the items to work now; only, when set, limits it to one
	// entity.
	due(only *QueueItem) ([]QueueItem, error)
	// marked looks up which entity of side t carries marker m, as the
	// polls read it; mark records markers read apart from a poll
	// (reach.go): marker -> entity id.
	marked(t Side, m string) (string, bool, error)
	mark(t Side, marks map[string]string) error
	// settle ends a worked item's entry; fail says what its failure does
	// (retried later with backoff, or parked). polled is the entity as its
	// poll read it, to name a parked one.
	settle(c *cycle, it QueueItem) error
	fail(ctx context.Context, c *cycle, it QueueItem, err error, polled connector.Entity)
}

// polled is what one page of a side's poll read.
type polled struct {
	side Side
	// changed are the entities of the process's types whose change is
	// not known to be in sync; deleted, those the side says were deleted.
	changed []connector.Entity
	deleted []connector.Ref
	// marks are the markers the page's entities carry: marker -> entity id.
	marks map[string]string
	// from and to are the side's watermark before and after the page.
	from, to time.Time
	// wasPartial and partial say whether the poll had stopped after a
	// round before the page, and whether changes follow the page.
	wasPartial, partial bool
}

// items are the page's entities to work: deleted ones too, whose read
// answers not found and whose deletion policy then applies.
func (pg polled) items() []QueueItem {
	out := make([]QueueItem, 0, len(pg.changed)+len(pg.deleted))
	for _, e := range pg.changed {
		out = append(out, QueueItem{Side: pg.side, Entity: e.ID})
	}
	for _, r := range pg.deleted {
		out = append(out, QueueItem{Side: pg.side, Entity: r.ID})
	}
	return out
}

// storeQueue is a real run's queue, in the store.
type storeQueue struct {
	e    *Engine
	proc string
}

func (q storeQueue) add(it QueueItem) error {
	return q.e.d.Store.Update(func(tx *store.Tx) error {
		return enqueueTx(tx, q.proc, it, q.e.d.Now())
	})
}

// page queues the page's changes, records its markers and moves the
// watermark in one transaction: a crash leaves either all or none, so no
// change is lost and none is applied twice. An idle page (nothing queued,
// the watermark where it was) writes nothing: an idle poll then costs no
// durable write per side.
func (q storeQueue) page(pg polled) error {
	items := pg.items()
	if len(items) == 0 && pg.to.Equal(pg.from) && pg.partial == pg.wasPartial {
		return nil
	}
	now := q.e.d.Now()
	return q.e.d.Store.Update(func(tx *store.Tx) error {
		for _, it := range items {
			if err := enqueueTx(tx, q.proc, it, now); err != nil {
				return err
			}
		}
		// The markers the side's entities carry: a source whose pair was
		// lost finds the peer made for it here.
		for m, id := range pg.marks {
			if err := tx.SetRaw(keyMark(q.proc, pg.side, m), []byte(id)); err != nil {
				return err
			}
		}
		return tx.Put(keyWatermark(q.proc, pg.side), Watermark{Since: pg.to, Partial: pg.partial})
	})
}

func (q storeQueue) round() int { return roundItems }

func (q storeQueue) due(only *QueueItem) ([]QueueItem, error) {
	var items []QueueItem
	now := q.e.d.Now()
	err := q.e.d.Store.View(func(tx *store.Tx) error {
		return tx.Scan(prefixQueue(q.proc), "", func(_ string, raw []byte) error {
			var it QueueItem
			if err := json.Unmarshal(raw, &it); err != nil {
				return nil // a corrupt item must not block the queue; it is overwritten when re-queued
			}
			if only != nil && (it.Side != only.Side || it.Entity != only.Entity) {
				return nil
			}
			if only == nil && it.NotBefore.After(now) {
				return nil
			}
			items = append(items, it)
			return nil
		})
	})
	return items, err
}

func (q storeQueue) marked(t Side, m string) (string, bool, error) {
	var id []byte
	err := q.e.d.Store.View(func(tx *store.Tx) error {
		var err error
		id, err = tx.GetRaw(keyMark(q.proc, t, m))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	return string(id), err == nil, err
}

func (q storeQueue) mark(t Side, marks map[string]string) error {
	if len(marks) == 0 {
		return nil
	}
	return q.e.d.Store.Update(func(tx *store.Tx) error {
		for m, id := range marks {
			if err := tx.SetRaw(keyMark(q.proc, t, m), []byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// settle removes a worked item's queue entry, unless the entity was queued
// again while it was worked (a newer change, or a link target paired): then
// the entry stays, due, for the next run. The item's deferred pair saves go
// in the same transaction (deferred.go), which does not wait for the disk
// (commitLazy).
func (q storeQueue) settle(c *cycle, it QueueItem) error {
	return c.commitLazy(func(tx *store.Tx) error {
		k := keyQueue(q.proc, it.Side, it.Entity)
		var cur QueueItem
		if err := tx.Get(k, &cur); errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err == nil && cur.Gen != it.Gen {
			cur.anew()
			return tx.Put(k, cur)
		}
		if err := tx.Delete(keyParked(q.proc, it.Side, it.Entity)); err != nil {
			return err
		}
		return tx.Delete(k)
	})
}

// fail records what the item did before it failed, then retries a
// transient failure later with backoff and parks any other, or one that
// failed too often.
func (q storeQueue) fail(ctx context.Context, c *cycle, it QueueItem, err error, polled connector.Entity) {
	log := c.log.With().Str("system", c.p.End(it.Side).System).Str("entity_id", it.Entity).Logger()
	// What the item did before it failed is recorded first: the failure's
	// record below reads the pair back.
	if ferr := c.flushPairs(); ferr != nil {
		log.Error().Err(ferr).Msg("save the pair: the entity is worked again")
	}
	if ctx.Err() != nil {
		return // stopping: the entry stays as it was, for the next start
	}
	k := keyQueue(q.proc, it.Side, it.Entity)
	step := stepOf(err)
	var cur QueueItem
	transient := false
	// The entry is read and written in one transaction: a requeue
	// committed in between (a webhook's change, a link target paired)
	// makes it conflict and run again over the requeued entry, rather
	// than write back the entry as read, losing the requeue's wake.
	if uerr := q.e.d.Store.Update(func(tx *store.Tx) error {
		cur = it
		var stored QueueItem
		if tx.Get(k, &stored) == nil {
			cur = stored
		}
		q.e.at(probeFail, it.Side, it.Entity)
		cur.failed(step, err)
		transient = connector.Transient(err) && cur.Attempts < maxAttempts
		if !transient {
			return nil // parked below
		}
		// Woken since the attempt took it (due now, a newer
		// generation): it stays due, as settle leaves it; the failure
		// still counts toward parking it.
		if cur.Gen == it.Gen || !cur.NotBefore.IsZero() {
			backoff := time.Duration(1<<min(cur.Attempts, 9)) * time.Second
			cur.NotBefore = c.now().Add(backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1)))
		}
		return tx.Put(k, cur)
	}); uerr != nil {
		log.Error().Err(uerr).Msg("record the failure")
	}
	if transient {
		c.run.Errors = append(c.run.Errors, RunError{Side: it.Side, Entity: it.Entity, Message: err.Error()})
		log.Warn().Err(err).Str("step", step).Int("attempt", cur.Attempts).Time("retry_at", cur.NotBefore).Msg("transient failure: will retry")
		return
	}
	c.run.Counts.Failed++
	c.run.Errors = append(c.run.Errors, RunError{Side: it.Side, Entity: it.Entity, Message: err.Error(), Parked: true})
	q.park(c, cur, it.Gen, err, polled)
	log.Error().Err(err).Str("step", step).Msg("entity parked: fix the cause and retry it")
}

// failed records in the entry a failure at step: the steps before it
// succeeded, so their counts start again; the failed step's grows.
func (it *QueueItem) failed(step string, err error) {
	next := map[string]int{}
	after := false
	for _, st := range steps {
		if st == step {
			after = true
			next[st] = it.Steps[st] + 1
		} else if after && it.Steps[st] > 0 {
			next[st] = it.Steps[st]
		}
	}
	it.Steps, it.Step, it.Attempts, it.LastError = next, step, next[step], err.Error()
	it.FailedOn = ""
	var se *sideError
	if errors.As(err, &se) {
		it.FailedOn = se.side
	}
}

// park records the entity's failure for an administrator and ends its
// queue entry; gen is the generation the failed attempt worked.
func (q storeQueue) park(c *cycle, it QueueItem, gen int64, cause error, polled connector.Entity) {
	parked := Parked{Side: it.Side, Entity: it.Entity, Error: cause.Error(), Attempts: it.Attempts, Step: it.Step, At: c.now().UTC(),
		Version: polled.Version}
	pair, _ := q.e.pairOf(q.proc, it.Side, it.Entity)
	if pair != nil {
		parked.Pair, parked.Key, parked.Title = pair.ID, pair.Ref(it.Side).Key, pair.Ref(it.Side).Title
	} else {
		parked.Key, parked.Title = polled.Key, polled.Title // named as the poll read it, not by its id
	}
	q.e.d.Store.Update(func(tx *store.Tx) error {
		if pair != nil {
			var cur Pair
			if err := tx.Get(keyPair(q.proc, pair.ID), &cur); err == nil {
				cur.State, cur.Error = PairError, cause.Error()
				putPairRecordTx(tx, &cur)
			}
		}
		tx.Put(keyParked(q.proc, it.Side, it.Entity), parked)
		// Queued again while the attempt failed (a webhook's delivery, a
		// poll, a link target paired): that change was not seen, and may
		// be the fix of the cause (the entity corrected where it lives).
		// The entry stays, due, as settle leaves it, and the next run
		// works the entity: parked until then, and until it syncs.
		k := keyQueue(q.proc, it.Side, it.Entity)
		var cur QueueItem
		if err := tx.Get(k, &cur); err == nil && cur.Gen != gen {
			cur.anew()
			return tx.Put(k, cur)
		}
		return tx.Delete(k)
	})
	q.e.d.Bus.Publish(apitype.EventPairFailed, apitype.PairFailed{Process: q.proc, Side: it.Side, Entity: it.Entity,
		Key: parked.Key, Title: parked.Title, Pair: parked.Pair, Error: parked.Error, Step: parked.Step,
		Cause: connector.Cause(cause)})
}

// memQueue is a dry run's queue: what its polls read, in memory, over the
// store's queue and marker index, which it reads and never writes. Its
// polls read everything before any item is worked, and what it reads
// leads the plan, so the plan says what a run would read, then what it
// would write.
type memQueue struct {
	store storeQueue
	items []QueueItem
	marks map[string]string // side/marker -> entity id
	reads []PlanItem
	// How far the dry run got, for a stop to say (howFar): whether it
	// began working items, how many it had to work and worked, and how
	// much of the plan those items made (a dry run works one item at a
	// time, so what follows is the item in flight's).
	draining      bool
	total, worked int
	kept          int
}

// add queues nothing: a dry run works what the store's queue holds
// already (due reads it), where the source of a create left in flight
// stays until that create is settled. An entity synced on request is never
// planned.
func (q *memQueue) add(QueueItem) error { return nil }

func (q *memQueue) page(pg polled) error {
	q.items = append(q.items, pg.items()...)
	q.mark(pg.side, pg.marks)
	for _, e := range pg.changed {
		q.reads = append(q.reads, PlanItem{Action: "read", Side: pg.side, Entity: e.ID, Key: e.Key, Title: e.Title})
	}
	return nil
}

func (q *memQueue) round() int { return 0 }

// due is what the polls read, then what the store's queue holds.
func (q *memQueue) due(only *QueueItem) ([]QueueItem, error) {
	stored, err := q.store.due(only)
	items := append(append([]QueueItem(nil), q.items...), stored...)
	q.draining, q.total = true, len(items)
	return items, err
}

// marked reads the dry run's own polls first.
func (q *memQueue) marked(t Side, m string) (string, bool, error) {
	if id, ok := q.marks[string(t)+"/"+m]; ok {
		return id, true, nil
	}
	return q.store.marked(t, m)
}

func (q *memQueue) mark(t Side, marks map[string]string) error {
	if q.marks == nil {
		q.marks = map[string]string{}
	}
	for m, id := range marks {
		q.marks[string(t)+"/"+m] = id
	}
	return nil
}

// settle changes nothing: the entity is worked by the next real run.
func (q *memQueue) settle(c *cycle, _ QueueItem) error {
	q.worked, q.kept = q.worked+1, len(c.plan)
	return nil
}

// fail lists the failure in the plan: what a real run would retry or park.
// An item cut short by the dry run's stop did not fail: it is left out,
// with what it planned before the stop, which is half its work at best
// (Engine.Plan says the dry run stopped).
func (q *memQueue) fail(ctx context.Context, c *cycle, it QueueItem, err error, _ connector.Entity) {
	if ctx.Err() != nil {
		c.plan = c.plan[:q.kept]
		return
	}
	c.plan = append(c.plan, PlanItem{Action: "error", Side: it.Side, Entity: it.Entity, Detail: err.Error()})
	q.worked, q.kept = q.worked+1, len(c.plan)
}

// howFar says that the dry run was stopped (err is its context's error),
// why, and how far it got. It names no place in the plan ("above"): the
// entry is the plan's last, but the desktop tells it before the plan.
func (q *memQueue) howFar(err error) string {
	why := "it was canceled (the request was abandoned, or the agent is stopping)"
	if errors.Is(err, context.DeadlineExceeded) {
		why = "its time ran out"
	}
	if !q.draining {
		return fmt.Sprintf("The dry run was stopped while it read the changes, before it worked any item: %s. "+
			"It read %d changed entities. Nothing was changed; plan again.", why, len(q.reads))
	}
	return fmt.Sprintf("The dry run was stopped after it worked %d of the %d items: %s. "+
		"The plan lists what a run would do for those; the rest are not planned. Nothing was changed; plan again.",
		q.worked, q.total, why)
}

// anew makes the entry of an entity queued again while it was worked due
// now, its attempts counted afresh: the change it was queued for is yet
// to be worked.
func (it *QueueItem) anew() {
	it.Steps, it.Step, it.Attempts, it.LastError, it.NotBefore, it.FailedOn = nil, "", 0, "", time.Time{}, ""
}

// enqueueTx adds an entity to the queue; one already queued keeps its
// place, attempts and backoff, and its generation grows, so a worker busy
// with it leaves it for the next run instead of settling a change it has
// not seen.
func enqueueTx(tx *store.Tx, proc string, item QueueItem, now time.Time) error {
	return requeueTx(tx, proc, item, now, false)
}

// wakeTx is enqueueTx for an entity that is due now (a link target got its
// pair): a queued one loses its backoff.
func wakeTx(tx *store.Tx, proc string, item QueueItem, now time.Time) error {
	return requeueTx(tx, proc, item, now, true)
}

func requeueTx(tx *store.Tx, proc string, item QueueItem, now time.Time, due bool) error {
	k := keyQueue(proc, item.Side, item.Entity)
	raw, err := tx.GetRaw(k)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var cur QueueItem
	if err == nil && json.Unmarshal(raw, &cur) == nil {
		cur.Gen++
		if due {
			cur.NotBefore = time.Time{}
		}
		return tx.Put(k, cur)
	}
	// New, or a corrupt entry replaced: the entity is queued anew.
	item.Enqueued = now.UTC()
	return tx.Put(k, item)
}
