package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Session is the logged-in account as the UI shows it.
type Session struct {
	Username  string    `json:"username"`
	Role      string    `json:"role"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// ConnStatus is the connection as the UI shows it; State is an agentclient
// state name (desktop/internal/agentclient/state.go).
type ConnStatus struct {
	Profile     string   `json:"profile"`
	URL         string   `json:"url"`
	Fingerprint string   `json:"fingerprint"`
	State       string   `json:"state"`
	Error       string   `json:"error"`
	Session     *Session `json:"session"`
}

// Connect dials the named profile's agent with its pinned fingerprint,
// replacing any current connection. A different key fails with kind
// fingerprint_mismatch and never connects; the administrator must probe
// and save the new fingerprint deliberately.
func (a *App) Connect(name string) (ConnStatus, error) {
	if a.cfg.Profiles == nil {
		return ConnStatus{}, errNoProfiles
	}
	p, err := a.cfg.Profiles.Get(name)
	if err != nil {
		return ConnStatus{}, err
	}
	a.connMu.Lock()
	defer a.connMu.Unlock()
	a.disconnectLocked(false)

	a.mu.Lock()
	if a.shutdownNow {
		a.mu.Unlock()
		return ConnStatus{}, errNotConnected
	}
	a.prof, a.dialErr = p, nil
	a.mu.Unlock()
	a.emit(EventConnState, ConnStatus{Profile: p.Name, URL: p.URL, Fingerprint: p.Fingerprint, State: agentclient.StateConnecting.String()})

	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.DialTimeout)
	defer cancel()
	c, err := agentclient.Dial(ctx, agentclient.Options{
		URL:          p.URL,
		Fingerprint:  p.Fingerprint,
		Client:       "lockstep-desktop/" + a.cfg.Version,
		Logger:       a.log,
		ReconnectMin: a.cfg.ReconnectMin,
		ReconnectMax: a.cfg.ReconnectMax,
	})
	if err != nil {
		err = fmt.Errorf("connect to %s: %w", p.Name, err)
		a.mu.Lock()
		a.dialErr = err
		a.mu.Unlock()
		a.emit(EventConnState, a.Status())
		return ConnStatus{}, err
	}
	a.mu.Lock()
	a.client = c
	a.mu.Unlock()
	// The listener runs on the client's dispatcher goroutine: it only reads
	// state and emits, and never takes connMu.
	stop := c.OnStateChange(func(agentclient.State) { a.emit(EventConnState, a.Status()) })
	a.mu.Lock()
	a.stopListen = stop
	a.mu.Unlock()
	return a.Status(), nil
}

// Disconnect closes the connection; the session token is forgotten with it.
func (a *App) Disconnect() error {
	a.disconnect(true)
	return nil
}

func (a *App) disconnect(announce bool) {
	a.connMu.Lock()
	defer a.connMu.Unlock()
	a.disconnectLocked(announce)
}

// disconnectLocked runs with connMu held and mu not held.
func (a *App) disconnectLocked(announce bool) {
	a.mu.Lock()
	c, stop := a.client, a.stopListen
	streams := a.takeStreamsLocked()
	a.client, a.stopListen, a.dialErr = nil, nil, nil
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
	if announce {
		a.emit(EventConnState, a.Status())
	}
}

// Status describes the connection now.
func (a *App) Status() ConnStatus {
	a.mu.Lock()
	c, p, dialErr := a.client, a.prof, a.dialErr
	a.mu.Unlock()
	st := ConnStatus{Profile: p.Name, URL: p.URL, Fingerprint: p.Fingerprint, State: agentclient.StateDisconnected.String()}
	if c == nil {
		if dialErr == nil {
			// Disconnected on purpose (or never connected): nothing is
			// reconnecting, which "disconnected" would claim.
			st.State = agentclient.StateClosed.String()
		}
		if dialErr != nil {
			st.Error = FormatError(dialErr).Message
			var mm *agentclient.FingerprintMismatchError
			if errors.As(dialErr, &mm) {
				st.State = agentclient.StateFingerprintMismatch.String()
			}
		}
		return st
	}
	st.State = c.State().String()
	if err := c.LastError(); err != nil {
		st.Error = FormatError(err).Message
	}
	if s, ok := c.Session(); ok {
		st.Session = &Session{Username: s.Account.Username, Role: s.Account.Role, ExpiresAt: s.ExpiresAt}
	}
	return st
}

func (a *App) current() (*agentclient.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.client == nil {
		return nil, errNotConnected
	}
	return a.client, nil
}

// Login opens a session. The password goes to the agent and nowhere else;
// the session token stays inside the client, in memory.
func (a *App) Login(username, password string) (Session, error) {
	c, err := a.current()
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
	a.emit(EventConnState, a.Status())
	return Session{Username: s.Account.Username, Role: s.Account.Role, ExpiresAt: s.ExpiresAt}, nil
}

// Logout ends the session and every stream; the connection stays open.
func (a *App) Logout() error {
	c, err := a.current()
	if err != nil {
		return err
	}
	a.mu.Lock()
	streams := a.takeStreamsLocked()
	a.mu.Unlock()
	for _, s := range streams {
		s.stop()
	}
	ctx, cancel := a.callCtx()
	defer cancel()
	err = c.Logout(ctx)
	a.emit(EventConnState, a.Status())
	return err
}

// Call invokes one agent API method with JSON params and returns its JSON
// result. Session and subscription methods have their own bridge methods,
// which keep the client's bookkeeping in step. Params and result are typed
// any so the generated TypeScript says any; the result is the agent's JSON
// passed through unchanged.
func (a *App) Call(method string, params any) (any, error) {
	d, ok := protocol.Lookup(method)
	if !ok {
		return nil, newError(protocol.KindNotFound, fmt.Sprintf("Unknown agent method %q.", method))
	}
	switch d.Name {
	case protocol.SessionHello.Name, protocol.SessionLogin.Name, protocol.SessionResume.Name,
		protocol.SessionLogout.Name, protocol.LogsSubscribe.Name, protocol.EventsSubscribe.Name,
		protocol.SubCancel.Name:
		return nil, newError(protocol.KindInvalid, fmt.Sprintf("%s is not called through Call; use the bridge's own method.", method))
	}
	c, err := a.current()
	if err != nil {
		return nil, err
	}
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
