package syncer

import (
	"context"
	"fmt"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// PlanItem is one thing a run would do (shared/apitype).
type PlanItem = apitype.PlanItem

// RunNow runs a process at once and returns its run record. An active
// process runs on its own runner, so two runs never overlap.
func (e *Engine) RunNow(ctx context.Context, id string) (Run, error) {
	p, err := e.procs.Get(id)
	if err != nil {
		return Run{}, err
	}
	defer e.lockRuns(id)()
	return e.runOnce(ctx, &p, "manual", nil), nil
}

// SyncEntity syncs one entity of one side now.
func (e *Engine) SyncEntity(ctx context.Context, id string, side Side, entity string) (Run, error) {
	p, err := e.procs.Get(id)
	if err != nil {
		return Run{}, err
	}
	if side != SideA && side != SideB {
		return Run{}, &ValidationError{Errors: []FieldError{{Field: "side", Message: "must be a or b"}}}
	}
	defer e.lockRuns(id)()
	return e.runOnce(ctx, &p, "entity", &QueueItem{Side: side, Entity: entity}), nil
}

// Plan says what a run would do now, changing nothing. A dry run stopped
// before it finished (ctx canceled or past its deadline) returns what it
// planned of the items it worked, the last entry (PlanStopped) saying so
// and how far it got, and no error.
func (e *Engine) Plan(ctx context.Context, id string) ([]PlanItem, error) {
	p, err := e.procs.Get(id)
	if err != nil {
		return nil, err
	}
	q := &memQueue{store: storeQueue{e: e, proc: p.ID}}
	c := &cycle{e: e, p: &p, con: map[Side]connector.Connector{}, dry: true, q: q, schemas: &schemaCache{}, origins: &originCache{}, reach: newReach()}
	c.log = e.d.Log.With().Str("process", p.ID).Str("run", "plan").Logger()
	err = c.execute(ctx, nil)
	// What the polls read leads: they read everything before any item is
	// worked.
	plan := append(q.reads, c.plan...)
	if ctx.Err() != nil {
		// Stopped part way (canceled, or out of time): what it got to
		// is a plan still, and the last entry says it is not all.
		plan, err = append(plan, PlanItem{Action: PlanStopped, Detail: q.howFar(ctx.Err())}), nil
	}
	return e.named(p.ID, plan), err
}

// PlanStopped is the action of a dry run's last entry when it was stopped
// before it finished: its detail says why and how far it got.
const PlanStopped = "stopped"

// Retry queues parked entities again (all of a process when entity is "")
// and, for an active process, runs it.
func (e *Engine) Retry(proc string, side Side, entity string) (int, error) {
	list, err := e.views.Errors(proc)
	if err != nil {
		return 0, err
	}
	n := 0
	now := e.d.Now()
	err = e.d.Store.Update(func(tx *store.Tx) error {
		n = 0
		for _, pe := range list {
			if entity != "" && (pe.Entity != entity || pe.Side != side) {
				continue
			}
			if live, err := e.liveTx(tx, pe.Process); err != nil {
				return err
			} else if !live {
				continue // deleted since the list was read
			}
			if err := tx.Delete(keyParked(pe.Process, pe.Side, pe.Entity)); err != nil {
				return err
			}
			// Queued again, not anew: an entry there (a change queued
			// since the park) may be in a worker's hands, and its
			// generation grows so that worker leaves it for the next run;
			// one reset to 0 would be settled, or parked again, by a
			// worker that took it at 0, before the cause was fixed. Its
			// attempts count afresh, due now.
			k := keyQueue(pe.Process, pe.Side, pe.Entity)
			if err := enqueueTx(tx, pe.Process, QueueItem{Side: pe.Side, Entity: pe.Entity}, now); err != nil {
				return err
			}
			var it QueueItem
			if err := tx.Get(k, &it); err != nil {
				return err
			}
			it.anew()
			if err := tx.Put(k, it); err != nil {
				return err
			}
			if pe.Pair != "" {
				var p Pair
				if tx.Get(keyPair(pe.Process, pe.Pair), &p) == nil {
					p.State, p.Error = PairSynced, ""
					if err := putPairRecordTx(tx, &p); err != nil {
						return err
					}
				}
			}
			n++
		}
		return nil
	})
	if err == nil && n > 0 {
		e.Trigger(proc, "retry")
	}
	return n, err
}

// RunAsync starts a run now without waiting for it: an active process is
// triggered on its runner; an inactive one runs once in the background.
func (e *Engine) RunAsync(id string) error {
	p, err := e.procs.Get(id)
	if err != nil {
		return err
	}
	if e.Trigger(id, "manual") {
		return nil
	}
	e.mu.Lock()
	ctx := e.ctx
	e.mu.Unlock()
	if ctx == nil {
		return fmt.Errorf("run %s: the engine is not running", p.Name)
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer e.lockRuns(p.ID)()
		e.runOnce(ctx, &p, "manual", nil)
	}()
	return nil
}
