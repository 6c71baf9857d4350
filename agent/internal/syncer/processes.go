package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// Processes is the process-configuration service, as system.Service is for
// systems: it validates a sync process against both systems' schemas,
// stores it, audits every change in the same transaction and announces it,
// and moves processes between agents as documents (document.go). What a
// change means to the running engine (a runner started or stopped,
// webhooks registered, a deleted process's state removed) is the engine's:
// the service tells it through processRuntime, after the change is stored
// (and, for a deletion, before the record goes).
type Processes struct {
	st      *store.Store
	repo    *store.Repo[Process]
	audit   *audit.Log
	bus     *events.Bus
	log     zerolog.Logger
	now     func() time.Time
	open    func(system string) (connector.Connector, error)
	allowed func(p *Process) error
	systems func() (map[string]string, error)
	shred   func(scope string) error
	run     processRuntime
}

// processRuntime is what a configuration change does to the running engine.
type processRuntime interface {
	// activated registers the process's webhooks and starts its runner.
	activated(p *Process)
	// deactivated stops its runner and removes its webhooks.
	deactivated(p *Process)
	// reconfigured restarts an active process on its new configuration
	// (its webhooks too: removed as before was, registered as p is).
	reconfigured(before, p *Process)
	// removed stops the process and removes its state (pairs, queue,
	// runs), then calls forget, which deletes its record, before another
	// run of it may start.
	removed(p *Process, forget func() error) error
}

func newProcesses(d Deps, open func(string) (connector.Connector, error), run processRuntime) *Processes {
	return &Processes{st: d.Store, repo: store.NewRepo[Process](d.Store, "proc"), audit: d.Audit, bus: d.Bus, log: d.Log, now: d.Now,
		open: open, allowed: d.Allowed, systems: d.Systems, shred: d.Shred, run: run}
}

// List returns every process.
func (s *Processes) List() ([]Process, error) {
	list, err := s.repo.List()
	if err != nil {
		return nil, fmt.Errorf("list sync processes: %w", err)
	}
	sort.Slice(list, func(i, j int) bool { return strings.ToLower(list[i].Name) < strings.ToLower(list[j].Name) })
	return list, nil
}

// Get returns one process.
func (s *Processes) Get(id string) (Process, error) {
	p, err := s.repo.Get(id)
	if errors.Is(err, store.ErrNotFound) || (err != nil && strings.HasPrefix(err.Error(), "invalid")) {
		return Process{}, fmt.Errorf("sync process %q: %w", id, ErrNotFound)
	}
	return p, err
}

// exists reports whether process id is configured (retention's sweep).
func (s *Processes) exists(id string) (bool, error) { return s.repo.Exists(id) }

// Validate checks a process against both systems' schemas; every error
// names its field.
func (s *Processes) Validate(ctx context.Context, p *Process) error {
	errs := validateShape(p)
	if len(errs) == 0 {
		schemas := map[Side]connector.Schema{}
		for _, side := range []Side{SideA, SideB} {
			con, err := s.open(p.End(side).System)
			if err != nil {
				errs = append(errs, FieldError{Field: string(side) + ".system", Message: err.Error()})
				continue
			}
			sch, err := con.Schema(ctx, p.End(side).Project)
			if err != nil {
				errs = append(errs, FieldError{Field: string(side) + ".project", Message: "cannot read its schema: " + err.Error()})
				continue
			}
			schemas[side] = sch
		}
		if len(schemas) == 2 {
			for i, tp := range p.Types {
				for _, fe := range mapping.ValidatePair(tp, schemas[SideA], schemas[SideB]) {
					errs = append(errs, FieldError{Field: fmt.Sprintf("types[%d].%s", i, fe.Path), Message: fe.Message})
				}
			}
		}
	}
	if len(errs) > 0 {
		return &ValidationError{Errors: errs}
	}
	return nil
}

// write stores p (or, when p is nil, deletes process id) with its audit
// record, in one transaction.
func (s *Processes) write(id string, p *Process, entry audit.Entry) error {
	return s.st.Update(func(tx *store.Tx) error {
		var err error
		if p == nil {
			err = s.repo.DeleteTx(tx, id)
		} else {
			err = s.repo.PutTx(tx, id, *p)
		}
		if err != nil || s.audit == nil {
			return err
		}
		_, err = s.audit.AppendTx(tx, entry)
		return err
	})
}

func entry(actor, action string, p Process, diff any) audit.Entry {
	return audit.Entry{Actor: actor, Action: action, Target: "process:" + p.ID + " (" + p.Name + ")", Result: audit.Success, Diff: diff}
}

func flatProcess(p Process) map[string]any {
	b, _ := json.Marshal(p)
	var m map[string]any
	json.Unmarshal(b, &m)
	delete(m, "createdAt")
	delete(m, "updatedAt")
	for k, v := range m { // nested values compare as JSON
		if _, ok := v.(map[string]any); ok {
			j, _ := json.Marshal(v)
			m[k] = string(j)
		}
		if _, ok := v.([]any); ok {
			j, _ := json.Marshal(v)
			m[k] = string(j)
		}
	}
	return m
}

// Create validates and stores a new process (inactive unless asked).
func (s *Processes) Create(ctx context.Context, actor string, p Process) (Process, error) {
	p.ID = newID()
	if err := s.Validate(ctx, &p); err != nil {
		return Process{}, err
	}
	now := s.now().UTC()
	p.CreatedAt, p.UpdatedAt = now, now
	active := p.Active
	p.Active = false
	if err := s.write(p.ID, &p, entry(actor, "processes.create", p, audit.Diff(nil, flatProcess(p)))); err != nil {
		return Process{}, fmt.Errorf("save sync process: %w", err)
	}
	s.changed(actor, p.ID, "create")
	if active {
		return s.SetActive(actor, p.ID, true)
	}
	return p, nil
}

// Update replaces a process's configuration; an active process restarts.
func (s *Processes) Update(ctx context.Context, actor string, p Process) (Process, error) {
	before, err := s.Get(p.ID)
	if err != nil {
		return Process{}, err
	}
	if err := s.Validate(ctx, &p); err != nil {
		return Process{}, err
	}
	p.CreatedAt, p.UpdatedAt, p.Active = before.CreatedAt, s.now().UTC(), before.Active
	if err := s.write(p.ID, &p, entry(actor, "processes.update", p, audit.Diff(flatProcess(before), flatProcess(p)))); err != nil {
		return Process{}, fmt.Errorf("save sync process: %w", err)
	}
	if p.Active {
		s.run.reconfigured(&before, &p)
	}
	s.changed(actor, p.ID, "update")
	return p, nil
}

// Delete removes a process and its state. The entities in both systems
// stay: Lockstep never deletes work.
func (s *Processes) Delete(actor, id string) error {
	p, err := s.Get(id)
	if err != nil {
		return err
	}
	var forgot error
	if err := s.run.removed(&p, func() error {
		forgot = s.write(id, nil, entry(actor, "processes.delete", p, audit.Diff(flatProcess(p), nil)))
		return forgot
	}); err != nil {
		if forgot != nil {
			return forgot
		}
		return fmt.Errorf("delete state of process %s: %w", id, err)
	}
	if s.shred != nil {
		if err := s.shred("process:" + id); err != nil {
			s.log.Warn().Err(err).Str("process", id).Msg("destroy the webhook secrets' key")
		}
	}
	s.changed(actor, id, "delete")
	return nil
}

// SetActive activates or deactivates a process. A reactivated process
// catches up from its watermark.
func (s *Processes) SetActive(actor, id string, active bool) (Process, error) {
	p, err := s.Get(id)
	if err != nil {
		return Process{}, err
	}
	if active && s.allowed != nil {
		if err := s.allowed(&p); err != nil {
			return Process{}, err
		}
	}
	action := "processes.deactivate"
	if active {
		action = "processes.activate"
	}
	before := p
	p.Active, p.UpdatedAt = active, s.now().UTC()
	diff := audit.Diff(map[string]any{"active": before.Active}, map[string]any{"active": active})
	if err := s.write(id, &p, entry(actor, action, p, diff)); err != nil {
		return Process{}, err
	}
	if active {
		s.run.activated(&p)
	} else {
		s.run.deactivated(&p)
	}
	s.changed(actor, id, "update")
	return p, nil
}

func (s *Processes) changed(actor, id, action string) {
	s.bus.Publish(apitype.EventConfigChanged, apitype.ConfigChanged{Kind: "process", ID: id, Action: action, Actor: actor})
}

// systemNames maps system ids to names, for export and import.
func (s *Processes) systemNames() (map[string]string, error) {
	if s.systems == nil {
		return map[string]string{}, nil
	}
	return s.systems()
}
