package syncer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// Deps are what the engine needs from the agent.
type Deps struct {
	Store *store.Store
	// Open opens the connector of a configured system.
	Open  func(systemID string) (connector.Connector, error)
	Bus   *events.Bus
	Audit *audit.Log
	Log   zerolog.Logger
	Now   func() time.Time
	// Allowed says whether the license lets a process run now (nil: always).
	Allowed func(p *Process) error
	// SeeUsers hears of the people an entity names (authors, assignees,
	// commenters), for the license's user count; nil ignores them.
	SeeUsers func(system string, users []connector.User)
	// PublicURL is the agent's URL as systems reach it (for webhooks); nil
	// or empty disables webhook registration.
	PublicURL func() string
	// Seal and Unseal protect webhook secrets (AES-256-GCM, per process).
	Seal   func(scope, field string, v []byte) ([]byte, error)
	Unseal func(scope, field string, sealed []byte) ([]byte, error)
	// Shred destroys a scope's data key (a deleted process's webhook secrets).
	Shred func(scope string) error
	// Systems maps system ids to names, for export and import.
	Systems func() (map[string]string, error)
	// SystemURL is a configured system's URL, which with the project
	// names a source in the markers of its copies (connector.Origin);
	// nil or "" falls back to the system's id.
	SystemURL func(id string) string
}

// ErrNotFound means no process, pair or run has that id.
var ErrNotFound = fault.New(fault.ErrNotFound, "not found")

// Engine runs the active sync processes.
type Engine struct {
	d Deps
	// procs is the process-configuration service; the engine reads the
	// processes it runs there and hears of their changes (processRuntime).
	procs *Processes
	// views are the read models (views.go).
	views *Views

	mu      sync.Mutex
	ctx     context.Context
	runners map[string]*runner
	wg      sync.WaitGroup
	bulk    map[string]*bulkJob
	// workers is how many items of one run are worked at once.
	workers int
	// runLocks serialise the runs of each process, active or not
	// (scheduled, manual, one entity, bulk, a deletion applied): two runs
	// of one process at once could both create the same peer.
	runLocks map[string]*sync.Mutex
	hist     history // retention.go
	// holds are the pairs being worked (holds.go): by a run's workers,
	// and by an administrator's call that writes a pair a worker may have
	// in hand.
	holds *pairHolds
	// probe is set by tests only (probe.go), before a run starts.
	probe func(at probePoint, s Side, id string)
}

// New returns an engine; Serve starts it.
func New(d Deps) *Engine {
	if d.Now == nil {
		d.Now = time.Now
	}
	e := &Engine{d: d, runners: map[string]*runner{}, bulk: map[string]*bulkJob{}, workers: drainWorkers, holds: newPairHolds()}
	e.procs = newProcesses(d, e.open, e)
	e.views = &Views{st: d.Store, procs: e.procs}
	return e
}

// Processes is the engine's process-configuration service.
func (e *Engine) Processes() *Processes { return e.procs }

// activated, deactivated, reconfigured and removed are what a process's
// configuration change does to the running engine (processRuntime).

func (e *Engine) activated(p *Process) {
	e.registerHooks(context.Background(), p)
	e.start(p.ID)
}

func (e *Engine) deactivated(p *Process) {
	e.stop(p.ID)
	e.unregisterHooks(context.Background(), p)
}

func (e *Engine) reconfigured(before, p *Process) {
	e.stop(p.ID)
	e.unregisterHooks(context.Background(), before)
	e.registerHooks(context.Background(), p)
	e.start(p.ID)
}

// removed stops the process's runner and removes its state, then its
// record (forget). A run its runner does not drive (run now, one entity, a
// bulk job) may be under way: the state goes once that run is over, and
// the record with it, before the next run may start (and finds no
// process: runWith). Else the run went on writing pairs, queue entries
// and records for a process that no longer exists, listed with every
// process's pairs.
func (e *Engine) removed(p *Process, forget func() error) error {
	e.stop(p.ID)
	e.unregisterHooks(context.Background(), p)
	defer e.lockRuns(p.ID)()
	if err := e.dropPairList(p.ID); err != nil {
		return err
	}
	if _, err := e.deletePrefixes(statePrefixes(p.ID)...); err != nil {
		return err
	}
	e.hist.drop(p.ID)
	e.at(probeForget, "", p.ID)
	if err := forget(); err != nil {
		return err
	}
	// Changes are queued apart from runs too (a webhook's delivery, a
	// bulk job, a retry), each in a transaction that reads the record
	// (liveTx): one committed after the state went and before the record
	// did left its entries, and goes with them now; any later one finds
	// no process and queues nothing.
	if _, err := e.deletePrefixes(prefixQueue(p.ID)); err != nil {
		e.d.Log.Warn().Err(err).Str("process", p.ID).Msg("delete the deleted process's queue")
	}
	return nil
}

// liveTx reports whether process proc exists, read in tx: a change queued
// apart from a run reads it in its transaction, which then conflicts with
// the process's deletion if they overlap, and queues nothing for a process
// deleted (removed).
func (e *Engine) liveTx(tx *store.Tx, proc string) (bool, error) {
	_, err := tx.GetRaw(e.procs.repo.Key(proc))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// runner drives one active process: scheduled runs, and runs asked for.
type runner struct {
	id      string
	trigger chan string
	cancel  context.CancelFunc
	done    chan struct{}
}

// Serve starts every active process and runs until ctx ends.
func (e *Engine) Serve(ctx context.Context) error {
	e.mu.Lock()
	e.ctx = ctx
	e.mu.Unlock()
	if err := e.recordInterrupted(); err != nil {
		return err
	}
	if err := e.buildPairIndex(); err != nil {
		return err
	}
	list, err := e.procs.List()
	if err != nil {
		return fmt.Errorf("load sync processes: %w", err)
	}
	for i := range list {
		if list[i].Active {
			e.start(list[i].ID)
		}
	}
	<-ctx.Done()
	e.mu.Lock()
	for id, r := range e.runners {
		r.cancel()
		delete(e.runners, id)
	}
	e.mu.Unlock()
	e.wg.Wait()
	return nil
}

func (e *Engine) start(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx == nil || e.ctx.Err() != nil {
		return
	}
	if _, ok := e.runners[id]; ok {
		return
	}
	ctx, cancel := context.WithCancel(e.ctx)
	r := &runner{id: id, trigger: make(chan string, 1), cancel: cancel, done: make(chan struct{})}
	e.runners[id] = r
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(r.done)
		e.loop(ctx, r)
	}()
}

func (e *Engine) stop(id string) {
	e.mu.Lock()
	r, ok := e.runners[id]
	delete(e.runners, id)
	e.mu.Unlock()
	if ok {
		r.cancel()
		<-r.done
	}
}

// loop runs the process at once (catching up after activation), then on
// its schedule and whenever triggered.
func (e *Engine) loop(ctx context.Context, r *runner) {
	reason := "schedule"
	for {
		p, err := e.procs.Get(r.id)
		if err != nil {
			e.d.Log.Error().Err(err).Str("process", r.id).Msg("load process")
			return
		}
		unlock := e.lockRuns(r.id)
		e.runOnce(ctx, &p, reason, nil)
		unlock()
		timer := time.NewTimer(p.PollInterval())
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
			reason = "schedule"
		case reason = <-r.trigger:
			timer.Stop()
		}
	}
}

// Trigger asks an active process to run now (webhook, run now).
func (e *Engine) Trigger(id, reason string) bool {
	e.mu.Lock()
	r, ok := e.runners[id]
	e.mu.Unlock()
	if !ok {
		return false
	}
	select {
	case r.trigger <- reason:
	default: // a run is already pending: it will see this change too
	}
	return true
}

// lockRuns waits until no other run of process id is under way and
// returns the function that lets the next one go.
func (e *Engine) lockRuns(id string) (unlock func()) {
	e.mu.Lock()
	if e.runLocks == nil {
		e.runLocks = map[string]*sync.Mutex{}
	}
	l, ok := e.runLocks[id]
	if !ok {
		l = &sync.Mutex{}
		e.runLocks[id] = l
	}
	e.mu.Unlock()
	if !l.TryLock() {
		e.at(probeRunWait, "", id)
		l.Lock()
	}
	return l.Unlock
}

// Parallelism is how many items of one run the engine works at once; the
// benchmarks give a bare client the same.
const Parallelism = drainWorkers
