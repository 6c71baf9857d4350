// Package health judges how each sync process and each system is doing
// (ok, degraded, failing, with the problem in words) and announces changes
// as HealthChanged events. A process's health comes from the sync engine
// (its latest runs and parked entities); a system's combines the processes
// that use it with its last connection test, the newer evidence winning.
package health

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/agent/internal/system"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// Unknown is a system's state before anything was learned of it: never
// tested, and no process that uses it has run.
const Unknown = "unknown"

// Monitor computes health on demand and watches for changes.
type Monitor struct {
	eng  *syncer.Engine
	sys  *system.Service
	bus  *events.Bus
	log  zerolog.Logger
	kick chan struct{}

	mu   sync.Mutex
	last map[string]apitype.Health // "process/<id>", "system/<id>"
	// acked holds the keys of last whose failing streak began with a
	// failure an administrator saw and saved anyway (Health.Acknowledged):
	// neither it nor its end is notified, whatever evidence follows.
	acked map[string]bool
}

// New returns a monitor; Serve starts its watch.
func New(eng *syncer.Engine, sys *system.Service, bus *events.Bus, log zerolog.Logger) *Monitor {
	return &Monitor{eng: eng, sys: sys, bus: bus, log: log, kick: make(chan struct{}, 1)}
}

// Snapshot is every process's and system's health at one moment, with
// their names.
type Snapshot struct {
	Processes map[string]apitype.Health
	Systems   map[string]apitype.Health
	names     map[string]string // "process/<id>" or "system/<id>" -> name
}

// Now judges everything from the stored evidence.
func (m *Monitor) Now() (Snapshot, error) {
	list, err := m.sys.List()
	if err != nil {
		return Snapshot{}, err
	}
	names := map[string]string{}
	snap := Snapshot{Systems: map[string]apitype.Health{}, names: map[string]string{}}
	for _, s := range list {
		names[s.ID] = s.Name
		snap.names["system/"+s.ID] = s.Name
	}
	procs, bySys, err := m.eng.Views().SystemsHealth(names)
	if err != nil {
		return Snapshot{}, err
	}
	snap.Processes = procs
	if pl, err := m.eng.Processes().List(); err == nil {
		for _, p := range pl {
			snap.names["process/"+p.ID] = p.Name
		}
	}
	for _, s := range list {
		var run *apitype.Health
		if h, ok := bySys[s.ID]; ok {
			run = &h
		}
		snap.Systems[s.ID] = Judge(run, s.LastTest)
	}
	return snap, nil
}

// Judge combines what the runs say of a system (nil: no process that uses
// it has run) with its last connection test: whichever is newer wins, so a
// test that fails after good runs shows failing, a run that fails after a
// good test does too, and a test that passes after failing runs (the
// administrator fixed the token) shows the system reachable until a run
// says otherwise.
func Judge(run *apitype.Health, test *apitype.SystemTest) apitype.Health {
	testNewer := test != nil && (run == nil || run.CheckedAt == nil || test.At.After(*run.CheckedAt))
	switch {
	case testNewer && test.OK && run != nil && run.State == apitype.HealthFailing:
		return apitype.Health{State: apitype.HealthOK, CheckedAt: &test.At}
	case testNewer && !test.OK:
		at := test.At
		h := apitype.Health{State: apitype.HealthFailing, Since: &at, Problem: test.Problem, Action: test.Action,
			Detail: test.Message, Cause: "test", CheckedAt: &at, Acknowledged: test.SavedAnyway}
		if run != nil && run.State == apitype.HealthFailing && run.Since != nil {
			h.Since = run.Since
		}
		return h
	case run != nil:
		h := *run
		if testNewer {
			h.CheckedAt = &test.At
		}
		return h
	case test != nil:
		return apitype.Health{State: apitype.HealthOK, CheckedAt: &test.At}
	}
	return apitype.Health{State: Unknown}
}

// Tested hears of a connection test kept as a system's last test. One that
// passed may end a failing streak or an outage: the processes failing
// because of that system, or with entities waiting out a backoff after it
// failed them, run now rather than at their next poll
// (syncer.RetrySystem). Either
// way the watch looks again now, so HealthChanged says what the test
// showed.
func (m *Monitor) Tested(id string, t apitype.SystemTest) {
	if t.OK {
		started, err := m.eng.RetrySystem(id)
		if err != nil {
			m.log.Warn().Err(err).Str("system", id).Msg("start the processes of a system that works again")
		}
		for _, r := range started {
			if r.Failing {
				m.log.Info().Str("system", id).Str("process", r.Process).Int("woken", r.Woken).
					Msg("the system's connection test passed: the process failing because of it runs now")
			} else {
				m.log.Info().Str("system", id).Str("process", r.Process).Int("woken", r.Woken).
					Msg("the system's connection test passed: the process runs now, its entities waiting on the system due")
			}
		}
	}
	m.Kick()
}

// Kick asks the watch to look again now (after a connection test).
func (m *Monitor) Kick() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Serve watches the events that can change health (runs, parked entities,
// configuration) and publishes HealthChanged for each process or system
// whose state or problem changed. It starts from the stored evidence, so a
// restart announces nothing that did not change.
func (m *Monitor) Serve(ctx context.Context) error {
	types := []string{apitype.EventRunFinished, apitype.EventPairFailed, apitype.EventConfigChanged}
	m.check(false)
	for {
		sub, _, _ := m.bus.Subscribe(types, nil, 256)
		if done := m.watch(ctx, sub); done {
			sub.Close()
			return nil
		}
		// The queue overflowed: look again, then subscribe anew.
		m.check(true)
	}
}

// checkGap is the least time between two checks that events start (a
// Kick starts one at once): a check judges every process from its runs and
// parked entities, and a hundred processes polling every minute finish a
// run every 0.6 s, which made judging health most of an idle agent's work.
const checkGap = 5 * time.Second

// watch serves one subscription; it returns true when ctx ended.
func (m *Monitor) watch(ctx context.Context, sub *events.Sub) bool {
	last := time.Now() // Serve has just checked
	for {
		kicked := false
		select {
		case <-ctx.Done():
			return true
		case _, ok := <-sub.C():
			if !ok {
				return false
			}
		case <-m.kick:
			kicked = true
		}
		// Events come in bursts (a run finishing, several pairs parked)
		// and runs end one after another: take what comes until checkGap
		// after the last check, then judge once.
		if wait := checkGap - time.Since(last); !kicked && wait > 0 {
			t := time.NewTimer(wait)
			for waiting := true; waiting; {
				select {
				case <-ctx.Done():
					t.Stop()
					return true
				case _, ok := <-sub.C():
					if !ok {
						t.Stop()
						m.check(true)
						return false
					}
				case <-m.kick:
					waiting = false
				case <-t.C:
					waiting = false
				}
			}
			t.Stop()
		}
		for drained := false; !drained; {
			select {
			case _, ok := <-sub.C():
				if !ok {
					m.check(true)
					return false
				}
			default:
				drained = true
			}
		}
		m.check(true)
		last = time.Now()
	}
}

// check judges everything and, when announce is set, publishes what changed.
func (m *Monitor) check(announce bool) {
	snap, err := m.Now()
	if err != nil {
		m.log.Warn().Err(err).Msg("judge health")
		return
	}
	next := map[string]apitype.Health{}
	for id, h := range snap.Processes {
		next["process/"+id] = h
	}
	for id, h := range snap.Systems {
		next["system/"+id] = h
	}
	m.mu.Lock()
	prev, prevAcked := m.last, m.acked
	// A failing streak is acknowledged as it began: one already failing
	// (and notified) when a failing test was saved anyway stays news.
	acked := map[string]bool{}
	for key, h := range next {
		if h.State != apitype.HealthFailing {
			continue
		}
		if prev[key].State == apitype.HealthFailing {
			acked[key] = prevAcked[key]
		} else {
			acked[key] = h.Acknowledged
		}
	}
	m.last, m.acked = next, acked
	m.mu.Unlock()
	if !announce {
		return
	}
	for key, h := range next {
		before, seen := prev[key]
		if seen && before.State == h.State && before.Problem == h.Problem {
			continue
		}
		kind, id := split(key)
		ev := apitype.HealthChanged{Kind: kind, ID: id, Name: snap.names[key], Health: h, Previous: before.State,
			Acknowledged: acked[key] || h.State != apitype.HealthFailing && before.State == apitype.HealthFailing && prevAcked[key]}
		m.bus.Publish(apitype.EventHealthChanged, ev)
		m.log.Info().Str(kind, id).Str("state", h.State).Str("previous", before.State).Str("problem", h.Problem).Msg("health changed")
	}
}

func split(key string) (string, string) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[:i], key[i+1:]
		}
	}
	return key, ""
}
