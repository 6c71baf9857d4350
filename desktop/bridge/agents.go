package bridge

import (
	"sync"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient"
	"github.com/lockstep-sync/lockstep/desktop/internal/profile"
)

// agentConn is one saved agent's connection: its own client, so its own
// pinned TLS session, reconnect loop and in-memory session token. Fields
// other than name and dial are guarded by App.mu.
type agentConn struct {
	name string
	// dial serialises what replaces or closes this agent's client (Connect,
	// ConnectAll, Disconnect, DeleteProfile, Shutdown), so one agent's slow
	// dial never holds up another's. It is never held by state listeners,
	// so closing the client (which waits for them) cannot deadlock.
	dial sync.Mutex

	prof       profile.Profile // the profile dialled, or being dialled
	client     *agentclient.Client
	dialing    bool
	dialErr    error // why the last dial failed (no client then)
	closed     bool  // disconnected on purpose: ConnectAll leaves it alone
	stopListen func()
}

// agentOf returns name's record; with create, a new one when there is none.
func (a *App) agentOf(name string, create bool) *agentConn {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.agents[name]
	if e == nil && create {
		e = &agentConn{name: name}
		a.agents[name] = e
	}
	return e
}

// lockAgent returns name's record with its dial lock held, making sure it is
// still the record for name (DeleteProfile removes records).
func (a *App) lockAgent(name string) (*agentConn, error) {
	for {
		e := a.agentOf(name, true)
		e.dial.Lock()
		a.mu.Lock()
		ok, down := a.agents[name] == e, a.shutdownNow
		a.mu.Unlock()
		if down {
			e.dial.Unlock()
			return nil, errNotConnected
		}
		if ok {
			return e, nil
		}
		e.dial.Unlock()
	}
}

// setCurrent makes e the current agent and tells the UI (conn:state). It
// takes emitMu, as emitState does, so conn:state always describes the agent
// that is current when it is sent, in the order the changes happened.
func (a *App) setCurrent(e *agentConn) {
	a.emitMu.Lock()
	defer a.emitMu.Unlock()
	a.mu.Lock()
	a.current = e.name
	a.mu.Unlock()
	a.emit(EventConnState, a.statusOf(e))
}

// emitState tells the UI that e's connection or session changed: an
// agent:state event always, and conn:state as well when e is the current
// agent.
func (a *App) emitState(e *agentConn) {
	a.emitMu.Lock()
	defer a.emitMu.Unlock()
	st := a.statusOf(e)
	a.mu.Lock()
	cur := a.current == e.name && a.agents[e.name] == e
	a.mu.Unlock()
	a.emit(EventAgentState, st)
	if cur {
		a.emit(EventConnState, st)
	}
}

// emitNamed is emitState for the agent of that name, if it still has a record.
func (a *App) emitNamed(name string) {
	if e := a.agentOf(name, false); e != nil {
		a.emitState(e)
	}
}

// closeAll closes every agent's connection for good (Shutdown).
func (a *App) closeAll() {
	a.mu.Lock()
	all := make([]*agentConn, 0, len(a.agents))
	for _, e := range a.agents {
		all = append(all, e)
	}
	a.mu.Unlock()
	for _, e := range all {
		e.dial.Lock()
		a.closeLocked(e)
		e.dial.Unlock()
	}
}
