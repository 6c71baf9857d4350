package syncer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// BulkJob is a bulk sync from a date (shared/apitype).
type BulkJob = apitype.BulkJob

// bulkJob is a BulkJob being worked.
type bulkJob struct {
	mu sync.Mutex
	BulkJob
}

func (j *bulkJob) snapshot() BulkJob {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.BulkJob
}

// Bulk starts a bulk sync of process id from since. The watermarks are not
// moved back: this is a one-off catch-up next to the regular schedule.
func (e *Engine) Bulk(id string, since time.Time) (BulkJob, error) {
	p, err := e.procs.Get(id)
	if err != nil {
		return BulkJob{}, err
	}
	e.mu.Lock()
	ctx := e.ctx
	e.mu.Unlock()
	if ctx == nil {
		return BulkJob{}, fmt.Errorf("bulk sync: the engine is not running")
	}
	job := &bulkJob{BulkJob: BulkJob{ID: newID(), Process: id, Since: since.UTC(), State: "running"}}
	e.mu.Lock()
	e.bulk[job.ID] = job
	e.mu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.runBulk(ctx, &p, job)
	}()
	return job.snapshot(), nil
}

// BulkStatus returns a bulk job.
func (e *Engine) BulkStatus(id string) (BulkJob, error) {
	e.mu.Lock()
	j, ok := e.bulk[id]
	e.mu.Unlock()
	if !ok {
		return BulkJob{}, fmt.Errorf("bulk job %s: %w", id, ErrNotFound)
	}
	return j.snapshot(), nil
}

func (e *Engine) progress(j *bulkJob) {
	s := j.snapshot()
	pct := 0
	if s.Total > 0 {
		pct = s.Done * 100 / s.Total
	}
	e.d.Bus.Publish(apitype.EventBulkProgress, apitype.BulkProgress{ID: s.ID, Process: s.Process, State: s.State,
		Total: s.Total, Done: s.Done, Percent: pct, Error: s.Error})
}

func (e *Engine) runBulk(ctx context.Context, p *Process, j *bulkJob) {
	fail := func(err error) {
		j.mu.Lock()
		j.State, j.Error, j.EndedAt = "failed", err.Error(), e.d.Now().UTC()
		j.mu.Unlock()
		e.progress(j)
	}
	var items []QueueItem
	for _, s := range []Side{SideA, SideB} {
		con, err := e.open(p.End(s).System)
		if err != nil {
			fail(err)
			return
		}
		cursor := ""
		for {
			page, err := con.Changes(ctx, p.End(s).Project, j.Since, cursor)
			if err != nil {
				fail(fmt.Errorf("list changes of side %s: %w", s, err))
				return
			}
			for _, ent := range page.Entities {
				if _, ok := p.TypePairOf(s, ent.Type); ok {
					items = append(items, QueueItem{Side: s, Entity: ent.ID})
				}
			}
			j.mu.Lock()
			j.Total = len(items)
			j.mu.Unlock()
			e.progress(j)
			if page.Cursor == "" {
				break
			}
			cursor = page.Cursor
		}
	}
	err := e.d.Store.Update(func(tx *store.Tx) error {
		if live, err := e.liveTx(tx, p.ID); err != nil || !live {
			return err // deleted meanwhile: its run below finds it gone
		}
		for _, it := range items {
			if err := enqueueTx(tx, p.ID, it, e.d.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fail(err)
		return
	}
	defer e.lockRuns(p.ID)()
	run := e.runBulkDrain(ctx, p, j)
	j.mu.Lock()
	j.Run, j.EndedAt = run.ID, e.d.Now().UTC()
	switch fault := runFault(&run); {
	case fault != nil:
		// The run stopped short: the job says why and how far it got;
		// the items not worked stay queued for the next run.
		j.State, j.Error = "failed", fault.Message
	case ctx.Err() != nil:
		j.State, j.Error = "failed", "the agent stopped: the items not worked stay queued for the next run"
	default:
		j.State, j.Done = "done", j.Total
	}
	j.mu.Unlock()
	e.progress(j)
}

// runBulkDrain is a run whose drain reports progress.
func (e *Engine) runBulkDrain(ctx context.Context, p *Process, j *bulkJob) Run {
	last := time.Now()
	hook := func() {
		j.mu.Lock()
		j.Done++
		j.mu.Unlock()
		if time.Since(last) > 250*time.Millisecond {
			last = time.Now()
			e.progress(j)
		}
	}
	return e.runWith(ctx, p, "bulk", nil, hook)
}
