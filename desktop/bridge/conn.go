package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient"
	"github.com/lockstep-sync/lockstep/desktop/internal/profile"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Session is the logged-in account as the UI shows it.
type Session struct {
	Username  string    `json:"username"`
	Role      string    `json:"role"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// ConnStatus is one agent's connection as the UI shows it; State is an
// agentclient state name (desktop/internal/agentclient/state.go). Agent is
// what the agent called itself in its hello ("lockstep-agent/1.2.0"), known
// once connected, before anyone signs in.
type ConnStatus struct {
	Profile     string   `json:"profile"`
	URL         string   `json:"url"`
	Fingerprint string   `json:"fingerprint"`
	State       string   `json:"state"`
	Error       string   `json:"error"`
	Session     *Session `json:"session"`
	Agent       string   `json:"agent"`
}

// Connect makes the named agent the current one (the agent the UI's pages,
// Call, Login and the current-agent streams act on). When the agent has no
// connection yet, or its profile changed since it was dialled, it is dialled
// with the profile's pinned fingerprint; a different key fails with kind
// fingerprint_mismatch and never connects, and the administrator must probe
// and save the new fingerprint deliberately. The other agents' connections,
// and their sessions, stay as they are: switching back needs no new login.
func (a *App) Connect(name string) (ConnStatus, error) {
	if a.cfg.Profiles == nil {
		return ConnStatus{}, errNoProfiles
	}
	p, err := a.cfg.Profiles.Get(name)
	if err != nil {
		return ConnStatus{}, err
	}
	e, err := a.lockAgent(p.Name)
	if err != nil {
		return ConnStatus{}, err
	}
	defer e.dial.Unlock()
	a.mu.Lock()
	reuse := e.client != nil && e.prof == p && usable(e.client.State())
	a.mu.Unlock()
	if reuse {
		a.setCurrent(e)
		return a.statusOf(e), nil
	}
	// The old connection goes first, so the UI is told "connecting" to the
	// profile as saved now, never the old client's state.
	a.closeLocked(e)
	a.mu.Lock()
	e.prof, e.dialErr, e.closed, e.dialing = p, nil, false, true
	a.mu.Unlock()
	a.setCurrent(e)
	if err := a.dialLocked(e); err != nil {
		return ConnStatus{}, err
	}
	return a.statusOf(e), nil
}

// ConnectAll dials, in parallel, every saved agent that has no connection:
// not those disconnected on purpose, nor those whose key was refused (the
// administrator must look at those). It waits for the dials and answers
// every agent's status, as Agents does; an agent that could not be reached
// is in the list with its error. The current agent does not change.
func (a *App) ConnectAll() ([]ConnStatus, error) {
	if a.cfg.Profiles == nil {
		return nil, errNoProfiles
	}
	list, err := a.cfg.Profiles.List()
	if err != nil {
		return nil, err
	}
	done := make(chan struct{}, len(list))
	for _, p := range list {
		go func() {
			defer func() { done <- struct{}{} }()
			a.dialIfIdle(p)
		}()
	}
	for range list {
		<-done
	}
	return a.Agents()
}

// dialIfIdle dials p's agent unless it is connected, being dialled (by
// Connect or another ConnectAll), closed on purpose or refused for its key.
func (a *App) dialIfIdle(p profile.Profile) {
	e := a.agentOf(p.Name, true)
	if !e.dial.TryLock() {
		return // someone is dialling it now
	}
	defer e.dial.Unlock()
	a.mu.Lock()
	var mm *agentclient.FingerprintMismatchError
	idle := a.agents[p.Name] == e && !a.shutdownNow && !e.closed && !errors.As(e.dialErr, &mm) &&
		(e.client == nil || e.client.State() == agentclient.StateClosed)
	if idle {
		e.prof, e.dialErr = p, nil
	}
	a.mu.Unlock()
	if idle {
		_ = a.dialLocked(e) // the error is in the agent's status
	}
}

// usable says whether a client still connects by itself (or is connected):
// a refused key and a closed client never will.
func usable(s agentclient.State) bool {
	return s != agentclient.StateClosed && s != agentclient.StateFingerprintMismatch
}

// dialLocked replaces e's client by a new one dialled to e.prof. It runs
// with e.dial held.
func (a *App) dialLocked(e *agentConn) error {
	a.closeLocked(e)
	a.mu.Lock()
	if a.shutdownNow {
		a.mu.Unlock()
		return errNotConnected
	}
	p := e.prof
	e.dialing = true
	a.mu.Unlock()
	a.emitState(e)

	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.DialTimeout)
	defer cancel()
	c, err := agentclient.Dial(ctx, agentclient.Options{
		URL:          p.URL,
		Fingerprint:  p.Fingerprint,
		Client:       "lockstep-desktop/" + a.cfg.Version,
		Logger:       a.log.With("profile", p.Name),
		ReconnectMin: a.cfg.ReconnectMin,
		ReconnectMax: a.cfg.ReconnectMax,
	})
	a.mu.Lock()
	e.dialing = false
	if err != nil {
		err = fmt.Errorf("connect to %s: %w", p.Name, err)
		e.dialErr = err
		a.mu.Unlock()
		a.emitState(e)
		return err
	}
	if a.shutdownNow {
		a.mu.Unlock()
		_ = c.Close()
		return errNotConnected
	}
	e.client = c
	a.mu.Unlock()
	// The listener runs on the client's dispatcher goroutine: it only reads
	// state and emits, and never takes a dial lock. It is called at once
	// with the state now, which announces the connection.
	stop := c.OnStateChange(func(agentclient.State) { a.emitState(e) })
	a.mu.Lock()
	e.stopListen = stop
	a.mu.Unlock()
	return nil
}

// Disconnect closes the named agent's connection; its session token is
// forgotten with it, and its streams end. ConnectAll then leaves it alone
// until Connect. Unknown names are fine (nothing is connected).
func (a *App) Disconnect(name string) error {
	e := a.agentOf(name, false)
	if e == nil {
		return nil
	}
	e.dial.Lock()
	defer e.dial.Unlock()
	a.closeLocked(e)
	a.mu.Lock()
	e.closed = true
	a.mu.Unlock()
	a.emitState(e)
	return nil
}

// closeLocked closes e's client and ends its streams; it runs with e.dial
// held and a.mu not held.
func (a *App) closeLocked(e *agentConn) {
	a.mu.Lock()
	c, stop := e.client, e.stopListen
	streams := a.takeStreamsLocked(e.name)
	e.client, e.stopListen, e.dialErr = nil, nil, nil
	a.mu.Unlock()
	for _, s := range streams {
		s.stop()
	}
	if c == nil {
		return
	}
	if stop != nil {
		stop()
	}
	_ = c.Close() // Close never fails; it waits for the client's goroutines
}

// Status describes the current agent's connection; with no current agent
// its state is closed and it names no profile.
func (a *App) Status() ConnStatus {
	a.mu.Lock()
	e := a.agents[a.current]
	a.mu.Unlock()
	if e == nil {
		return ConnStatus{State: agentclient.StateClosed.String()}
	}
	return a.statusOf(e)
}

// Agents describes every saved agent's connection, sorted by name.
func (a *App) Agents() ([]ConnStatus, error) {
	if a.cfg.Profiles == nil {
		return nil, errNoProfiles
	}
	list, err := a.cfg.Profiles.List()
	if err != nil {
		return nil, err
	}
	out := make([]ConnStatus, 0, len(list))
	for _, p := range list {
		e := a.agentOf(p.Name, false)
		a.mu.Lock()
		dialled := e != nil && e.prof.Name != ""
		a.mu.Unlock()
		if !dialled {
			out = append(out, ConnStatus{Profile: p.Name, URL: p.URL, Fingerprint: p.Fingerprint, State: agentclient.StateClosed.String()})
			continue
		}
		out = append(out, a.statusOf(e))
	}
	return out, nil
}

func (a *App) statusOf(e *agentConn) ConnStatus {
	a.mu.Lock()
	c, p, dialErr, dialing := e.client, e.prof, e.dialErr, e.dialing
	a.mu.Unlock()
	st := ConnStatus{Profile: p.Name, URL: p.URL, Fingerprint: p.Fingerprint, State: agentclient.StateDisconnected.String()}
	if c == nil {
		switch {
		case dialing:
			st.State = agentclient.StateConnecting.String()
		case dialErr == nil:
			// Disconnected on purpose (or never connected): nothing is
			// reconnecting, which "disconnected" would claim.
			st.State = agentclient.StateClosed.String()
		default:
			st.Error = FormatError(dialErr).Message
			var mm *agentclient.FingerprintMismatchError
			if errors.As(dialErr, &mm) {
				st.State = agentclient.StateFingerprintMismatch.String()
			}
		}
		return st
	}
	st.State = c.State().String()
	st.Agent = c.Hello().Agent
	if err := c.LastError(); err != nil {
		st.Error = FormatError(err).Message
	}
	if s, ok := c.Session(); ok {
		st.Session = &Session{Username: s.Account.Username, Role: s.Account.Role, ExpiresAt: s.ExpiresAt}
	}
	return st
}

// currentAgent returns the current agent's name and client.
func (a *App) currentAgent() (string, *agentclient.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.agents[a.current]
	if e == nil || e.client == nil {
		return "", nil, errNotConnected
	}
	return e.name, e.client, nil
}

// clientOf returns the named agent's client.
func (a *App) clientOf(name string) (*agentclient.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.agents[name]
	if e == nil || e.client == nil {
		return nil, &Error{Kind: KindNotConnected, Message: fmt.Sprintf("Not connected to the agent %s.", name)}
	}
	return e.client, nil
}

// Login opens a session on the current agent. The password goes to the
// agent and nowhere else; the session token stays inside that agent's
// client, in memory.
func (a *App) Login(username, password string) (Session, error) {
	name, c, err := a.currentAgent()
	if err != nil {
		return Session{}, err
	}
	if username == "" || password == "" {
		return Session{}, newError(protocol.KindInvalid, "Enter a username and a password.")
	}
	ctx, cancel := a.callCtx()
	defer cancel()
	s, err := c.Login(ctx, username, password)
	if err != nil {
		return Session{}, err
	}
	// The state listener fires only on a state change; logging in again as
	// someone else changes just the session.
	a.emitNamed(name)
	return Session{Username: s.Account.Username, Role: s.Account.Role, ExpiresAt: s.ExpiresAt}, nil
}

// Logout ends the current agent's session and its streams; the connection
// stays open, and so do the other agents' sessions.
func (a *App) Logout() error {
	name, c, err := a.currentAgent()
	if err != nil {
		return err
	}
	a.mu.Lock()
	streams := a.takeStreamsLocked(name)
	a.mu.Unlock()
	for _, s := range streams {
		s.stop()
	}
	ctx, cancel := a.callCtx()
	defer cancel()
	err = c.Logout(ctx)
	a.emitNamed(name)
	return err
}

// Call invokes one agent API method on the current agent with JSON params
// and returns its JSON result. Session and subscription methods have their
// own bridge methods, which keep the client's bookkeeping in step. Params
// and result are typed any so the generated TypeScript says any; the result
// is the agent's JSON passed through unchanged.
func (a *App) Call(method string, params any) (any, error) {
	if err := callable(method); err != nil {
		return nil, err
	}
	_, c, err := a.currentAgent()
	if err != nil {
		return nil, err
	}
	return a.call(c, method, params)
}

// CallAgent is Call on the named agent, current or not (the fleet view,
// copying between agents).
func (a *App) CallAgent(name, method string, params any) (any, error) {
	if err := callable(method); err != nil {
		return nil, err
	}
	c, err := a.clientOf(name)
	if err != nil {
		return nil, err
	}
	return a.call(c, method, params)
}

// callable refuses unknown methods and those with bridge methods of their own.
func callable(method string) error {
	d, ok := protocol.Lookup(method)
	if !ok {
		return newError(protocol.KindNotFound, fmt.Sprintf("Unknown agent method %q.", method))
	}
	switch d.Name {
	case protocol.SessionHello.Name, protocol.SessionLogin.Name, protocol.SessionResume.Name,
		protocol.SessionLogout.Name, protocol.LogsSubscribe.Name, protocol.EventsSubscribe.Name,
		protocol.SubCancel.Name:
		return newError(protocol.KindInvalid, fmt.Sprintf("%s is not called through Call; use the bridge's own method.", method))
	}
	return nil
}

func (a *App) call(c *agentclient.Client, method string, params any) (any, error) {
	d, _ := protocol.Lookup(method)
	raw, err := rawParams(params)
	if err != nil {
		return nil, invalid(err)
	}
	ctx, cancel := a.callCtx()
	defer cancel()
	m := protocol.Method[json.RawMessage, json.RawMessage]{Name: d.Name, Access: d.Access}
	res, err := agentclient.Call(ctx, c, m, raw)
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return json.RawMessage("null"), nil
	}
	return res, nil
}

// rawParams encodes what JS passed; absent params mean {}.
func rawParams(params any) (json.RawMessage, error) {
	switch p := params.(type) {
	case nil:
		return json.RawMessage("{}"), nil
	case json.RawMessage:
		if len(p) == 0 || string(p) == "null" {
			return json.RawMessage("{}"), nil
		}
		return p, nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encode params: %w", err)
	}
	return b, nil
}

func (a *App) emit(event string, payload any) {
	a.cfg.Events.Emit(event, payload)
}
