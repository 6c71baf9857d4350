package agentclient

import (
	"context"
	"errors"
	"time"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Session describes the logged-in account. The token stays inside the
// Client, in memory only, so nothing can persist or log it by accident.
type Session struct {
	Account   apitype.Account
	ExpiresAt time.Time
}

// Session returns the current session, if logged in.
func (c *Client) Session() (Session, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session, c.token != ""
}

// Login opens a session (session.login) and keeps its token for resuming
// after reconnects. After an expired session it also restarts reconnecting
// and re-creates the subscriptions that were kept.
func (c *Client) Login(ctx context.Context, username, password string) (Session, error) {
	cn, err := c.waitConn(ctx, protocol.Anonymous, true)
	if err != nil {
		return Session{}, opError("log in", err)
	}
	raw, err := cn.call(ctx, c.ids.Add(1), protocol.SessionLogin.Name,
		apitype.LoginParams{Username: username, Password: apitype.Secret(password)}, nil)
	res, err := decodeResult[apitype.LoginResult](protocol.SessionLogin.Name, raw, err)
	if err != nil {
		return Session{}, opError("log in", err)
	}
	return c.adopt(ctx, cn, res), nil
}

// Resume re-authenticates the connection with the kept token
// (session.resume). The client does this itself after every reconnect; it
// is exported for the UI's "retry" after a transient failure.
func (c *Client) Resume(ctx context.Context) (Session, error) {
	c.mu.Lock()
	token, gen := c.token, c.sessionGen
	c.mu.Unlock()
	if token == "" {
		return Session{}, opError("resume session", ErrNotLoggedIn)
	}
	cn, err := c.waitConn(ctx, protocol.Anonymous, true)
	if err != nil {
		return Session{}, opError("resume session", err)
	}
	raw, err := cn.call(ctx, c.ids.Add(1), protocol.SessionResume.Name, apitype.ResumeParams{Token: token}, nil)
	res, err := decodeResult[apitype.LoginResult](protocol.SessionResume.Name, raw, err)
	if err != nil {
		c.noteError(cn, gen, protocol.Viewer, err)
		return Session{}, opError("resume session", err)
	}
	if res.Token == "" {
		res.Token = token
	}
	return c.adopt(ctx, cn, res), nil
}

// adopt keeps a new session and re-creates subscriptions not live on cn.
func (c *Client) adopt(ctx context.Context, cn *conn, res apitype.LoginResult) Session {
	sess := Session{Account: res.Account, ExpiresAt: res.ExpiresAt}
	c.mu.Lock()
	c.token, c.session = res.Token, sess
	c.sessionGen++
	if c.cur == cn {
		c.lastErr = nil
		c.setStateLocked(StateLoggedIn)
	}
	c.mu.Unlock()
	// A failure here is logged, not returned: the login itself worked, and
	// the subscriptions are tried again after the next reconnect.
	_ = c.rebind(ctx, cn)
	return sess
}

// Logout ends the session (session.logout), forgets the token and ends
// every subscription: handlers are not called again. The local logout
// happens even if the agent cannot be told.
func (c *Client) Logout(ctx context.Context) error {
	c.mu.Lock()
	for s := range c.subs {
		s.cancelled.Store(true)
		c.unbindSubLocked(s)
	}
	clear(c.subs)
	token, cn := c.token, c.cur
	c.token, c.session = "", Session{}
	c.sessionGen++
	if cn != nil && (c.state == StateLoggedIn || c.state == StateSessionExpired) {
		c.setStateLocked(StateConnected)
	}
	c.mu.Unlock()
	if token == "" || cn == nil {
		return nil
	}
	_, err := cn.call(ctx, c.ids.Add(1), protocol.SessionLogout.Name, apitype.Empty{}, nil)
	var pe *protocol.Error
	if err == nil || errors.As(err, &pe) && pe.ErrorKind() == protocol.KindUnauthorized {
		return nil // already gone on the agent's side
	}
	return opError("log out", err)
}
