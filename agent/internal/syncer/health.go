package syncer

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/license"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// Health is computed from what the engine already stores: a process's
// latest run records and its parked entities. Nothing is kept beside them,
// so the health an administrator sees after a restart is the one before it,
// and it cannot drift from the runs and errors the other pages list.

// Causes of a whole run's failure beyond the connector's own classes.
const (
	CauseLicense    = "license"     // the license does not let the process run
	CauseSystemGone = "system_gone" // a system of the process was deleted
	CauseParked     = "parked"      // entities are parked (degraded, not failing)
)

// healthRuns bounds how many recent runs are read to find when a failing
// streak began; an older start is reported as the oldest run read.
const healthRuns = 200

// sideError names the side whose system failed a whole run.
type sideError struct {
	side Side
	err  error
}

func (e *sideError) Error() string { return e.err.Error() }
func (e *sideError) Unwrap() error { return e.err }

// onSide marks err as the failure of side s's system.
func onSide(s Side, err error) error {
	if err == nil {
		return nil
	}
	return &sideError{side: s, err: err}
}

// runFailure records why a whole run stopped: the message, the cause class
// and, when one system failed, its side.
func runFailure(err error) RunError {
	re := RunError{Message: err.Error(), Cause: connector.Cause(err)}
	if errors.Is(err, license.ErrNotAllowed) {
		re.Cause = CauseLicense
	}
	var se *sideError
	if errors.As(err, &se) {
		re.Side = se.side
	}
	return re
}

// runFault is the whole-run failure of r, or nil. A run cut short because
// the agent stopped is no fault of anyone's.
func runFault(r *Run) *RunError {
	for i := range r.Errors {
		e := &r.Errors[i]
		if e.Entity == "" && e.Cause != connector.CauseCanceled {
			return e
		}
	}
	return nil
}

// ProcessHealth says how a process is doing: failing while its latest run
// failed as a whole (since the first run of that streak), degraded while
// entities are parked or the latest run had entities fail, ok otherwise.
// names maps system ids to names, for the words.
func (vs *Views) ProcessHealth(p *Process, names map[string]string) (apitype.Health, error) {
	var runs []Run
	err := vs.st.View(func(tx *store.Tx) error {
		return tx.ScanReverse(prefixRuns(p.ID), func(_ string, raw []byte) error {
			var r Run
			if json.Unmarshal(raw, &r) != nil {
				return nil
			}
			if f := onlyCanceled(&r); f {
				return nil // interrupted by a stop: look at the run before it
			}
			runs = append(runs, r)
			if len(runs) == healthRuns {
				return store.ErrStop
			}
			return nil
		})
	})
	if err != nil {
		return apitype.Health{}, fmt.Errorf("read the runs of %s: %w", p.Name, err)
	}
	parked, err := vs.Errors(p.ID)
	if err != nil {
		return apitype.Health{}, fmt.Errorf("read the parked entities of %s: %w", p.Name, err)
	}
	h := apitype.Health{State: apitype.HealthOK, Parked: len(parked)}
	if len(runs) > 0 {
		h.CheckedAt = timePtr(runs[0].EndedAt)
	}
	if len(runs) > 0 {
		if f := runFault(&runs[0]); f != nil {
			since := runs[0].StartedAt
			for i := 1; i < len(runs) && runFault(&runs[i]) != nil; i++ {
				since = runs[i].StartedAt
			}
			h.State, h.Since, h.Detail, h.Cause = apitype.HealthFailing, timePtr(since), f.Message, f.Cause
			project := ""
			if f.Side == SideA || f.Side == SideB {
				end := p.End(f.Side)
				h.System, project = end.System, end.Project
				h.SystemName = names[end.System]
				if h.SystemName == "" && names != nil {
					h.Cause = CauseSystemGone
				}
			}
			h.Problem, h.Action = explainRun(h.Cause, h.SystemName, project)
			return h, nil
		}
	}
	if len(parked) > 0 {
		oldest, newest := parked[0], parked[0]
		for _, pe := range parked[1:] {
			if pe.At.Before(oldest.At) {
				oldest = pe
			}
			if pe.At.After(newest.At) {
				newest = pe
			}
		}
		h.State, h.Since, h.Detail, h.Cause = apitype.HealthDegraded, timePtr(oldest.At), newest.Error, CauseParked
		noun := "entities are"
		if len(parked) == 1 {
			noun = "entity is"
		}
		h.Problem = fmt.Sprintf("%d %s parked after failing permanently; the others sync.", len(parked), noun)
		h.Action = "Open the Errors page, fix the cause each error names (a mapping, a permission, a required field), then retry."
		return h, nil
	}
	if len(runs) > 0 && len(runs[0].Errors) > 0 {
		last := runs[0].Errors[len(runs[0].Errors)-1]
		h.State, h.Since, h.Detail = apitype.HealthDegraded, timePtr(runs[0].StartedAt), last.Message
		h.Cause = connector.CauseOther
		h.Problem = fmt.Sprintf("%d entities failed in the last run and will be retried.", len(runs[0].Errors))
		h.Action = "Nothing to do if the next runs succeed; if they keep failing, they are parked and listed on the Errors page."
	}
	return h, nil
}

// TriggerTest is the trigger of a run started because a connection test
// of a system the process uses passed (RetrySystem).
const TriggerTest = "test"

// Retried is a process RetrySystem started, and why: its runs failed
// because of the system, or entities of it waited out a backoff after the
// system failed them (Woken counts those made due).
type Retried struct {
	Process string
	Failing bool
	Woken   int
}

// RetrySystem is told that a system works again: a connection test of its
// saved configuration passed (the administrator fixed its token, or the
// outage is over). A process using it would otherwise wait for its next
// poll, an hour for some, and its entities for their backoff, while the
// system reads reachable. So in each active process that uses it, the
// entities whose last failure was that system's answer (a 503, a timeout)
// are due now, attempts still counted, and the process runs now (trigger
// "test") when its runs failed because of that system or any of its
// entities was made due. A process failing because of the system also has
// its entities whose failure named no system made due. A process whose
// runs fail because of another system is not run: the run would stop
// there; its entities are due at its next run. It returns the processes
// started.
func (e *Engine) RetrySystem(system string) ([]Retried, error) {
	procs, err := e.procs.List()
	if err != nil {
		return nil, fmt.Errorf("list the processes of system %s: %w", system, err)
	}
	var started []Retried
	for i := range procs {
		p := &procs[i]
		var sides []Side
		for _, s := range []Side{SideA, SideB} {
			if p.End(s).System == system {
				sides = append(sides, s)
			}
		}
		if !p.Active || len(sides) == 0 {
			continue
		}
		h, err := e.views.ProcessHealth(p, nil)
		if err != nil {
			return started, err
		}
		failing := h.State == apitype.HealthFailing && h.System == system
		woken, err := e.wakeQueue(p.ID, func(it QueueItem) bool {
			return slices.Contains(sides, it.FailedOn) || failing && it.FailedOn == ""
		})
		if err != nil {
			return started, fmt.Errorf("wake the entities of %s: %w", p.Name, err)
		}
		if h.State == apitype.HealthFailing && !failing || !failing && woken == 0 {
			continue
		}
		if e.Trigger(p.ID, TriggerTest) {
			started = append(started, Retried{Process: p.ID, Failing: failing, Woken: woken})
		}
	}
	return started, nil
}

// wakeQueue makes the entities of a process's queue that wait out a
// backoff and that wakes picks due now, and returns how many; attempts are
// still counted. It goes through the queue
// a page at a time, each page its own transaction: after an outage during
// a large sync tens of thousands of entities wait, more than Badger takes
// in one transaction (ErrTxnTooBig), which then woke none of them.
func (e *Engine) wakeQueue(proc string, wakes func(QueueItem) bool) (int, error) {
	now := e.d.Now()
	woken := 0
	for start := prefixQueue(proc); start != ""; {
		var next string
		var due map[string]QueueItem
		err := e.d.Store.Update(func(tx *store.Tx) error {
			next, due = "", map[string]QueueItem{}
			read := 0
			err := tx.Scan(prefixQueue(proc), start, func(k string, raw []byte) error {
				if read == wakePage {
					next = k
					return store.ErrStop
				}
				read++
				var it QueueItem
				if json.Unmarshal(raw, &it) == nil && it.NotBefore.After(now) && wakes(it) {
					it.NotBefore = time.Time{}
					due[k] = it
				}
				return nil
			})
			if err != nil {
				return err
			}
			for k, it := range due {
				if err := tx.Put(k, it); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return woken, err
		}
		woken += len(due)
		start = next
	}
	return woken, nil
}

// wakePage is how many queue entries one transaction of wakeQueue reads
// (and at most rewrites): well within Badger's limit at the store's 8 MB
// memtables, as GeneratePairs' batches are.
const wakePage = 500

// onlyCanceled reports whether a run was cut short by a stop and did
// nothing else worth judging.
func onlyCanceled(r *Run) bool {
	if len(r.Errors) == 0 {
		return false
	}
	for _, e := range r.Errors {
		if e.Entity != "" || e.Cause != connector.CauseCanceled {
			return false
		}
	}
	return true
}

// explainRun puts a whole run's failure in words.
func explainRun(cause, system, project string) (string, string) {
	switch cause {
	case CauseLicense:
		return "The license does not allow this process to run (a system kind it does not cover, or it expired).",
			"Import a license that covers both systems' kinds on the License page."
	case CauseSystemGone:
		return "A system this process uses was deleted.", "Edit the process to use another system, or delete the process."
	}
	return connector.Explain(cause, system, project)
}

// SystemsHealth judges each process (as listed: an inactive one reads as
// inactive) and each system by the processes that use it: failing when a
// process's runs fail because of it (since the earliest such streak),
// degraded when entities on its side are parked. Systems no process uses,
// or whose processes never ran, are absent.
func (vs *Views) SystemsHealth(names map[string]string) (map[string]apitype.Health, map[string]apitype.Health, error) {
	procs, err := vs.procs.List()
	if err != nil {
		return nil, nil, err
	}
	byProc := map[string]apitype.Health{}
	bySys := map[string]apitype.Health{}
	for i := range procs {
		p := &procs[i]
		h, err := vs.ProcessHealth(p, names)
		if err != nil {
			return nil, nil, err
		}
		byProc[p.ID] = listedHealth(p, h)
		for _, s := range []Side{SideA, SideB} {
			id := p.End(s).System
			cur, seen := bySys[id]
			if !seen {
				cur = apitype.Health{State: apitype.HealthOK}
			}
			cur.CheckedAt = later(cur.CheckedAt, h.CheckedAt)
			switch {
			case h.State == apitype.HealthFailing && h.System == id:
				if cur.State != apitype.HealthFailing || (h.Since != nil && cur.Since != nil && h.Since.Before(*cur.Since)) {
					checked := cur.CheckedAt
					cur = h
					cur.System, cur.SystemName, cur.Parked, cur.CheckedAt = "", "", 0, checked
				}
			case cur.State == apitype.HealthFailing:
			default:
				n, oldest, detail := vs.parkedOn(p.ID, s)
				if n > 0 {
					if cur.State != apitype.HealthDegraded || oldest.Before(*cur.Since) {
						cur.Since = timePtr(oldest)
					}
					cur.State, cur.Cause, cur.Detail = apitype.HealthDegraded, CauseParked, detail
					cur.Parked += n
					cur.Problem = fmt.Sprintf("%d of its entities are parked after failing permanently.", cur.Parked)
					cur.Action = "Open the Errors page, fix the cause each error names, then retry."
				}
			}
			if _, ok := names[id]; ok || names == nil {
				bySys[id] = cur
			}
		}
	}
	return byProc, bySys, nil
}

// listedHealth is the health a process is listed with. An inactive process
// does not sync, so it reads as inactive, neither healthy nor failing,
// whatever its last runs said (a process copied from another agent arrives
// inactive with no runs, which read as ok); its parked entities are still
// counted. The systems it uses are still judged by those runs.
func listedHealth(p *Process, h apitype.Health) apitype.Health {
	if p.Active {
		return h
	}
	return apitype.Health{State: apitype.HealthInactive, Parked: h.Parked, CheckedAt: h.CheckedAt}
}

// parkedOn counts a process's parked entities on one side, with the oldest
// time and the newest error.
func (vs *Views) parkedOn(proc string, s Side) (int, time.Time, string) {
	list, err := vs.Errors(proc)
	if err != nil {
		return 0, time.Time{}, ""
	}
	n := 0
	var oldest, newest time.Time
	detail := ""
	for _, pe := range list {
		if pe.Side != s {
			continue
		}
		n++
		if oldest.IsZero() || pe.At.Before(oldest) {
			oldest = pe.At
		}
		if !pe.At.Before(newest) {
			newest, detail = pe.At, pe.Error
		}
	}
	return n, oldest, detail
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func later(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.After(*a)) {
		return b
	}
	return a
}
