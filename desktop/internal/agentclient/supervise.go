package agentclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// supervise owns reconnection: it waits for the connection to die, then
// dials again until it has a restored connection, the client is parked, or
// Close.
func (c *Client) supervise(cn *conn) {
	defer c.wg.Done()
	failures := 0
	for {
		select {
		case <-cn.done:
		case <-c.ctx.Done():
			cn.shutdown(ErrClosed)
			c.detach(cn, ErrClosed)
			return
		}
		cn.wg.Wait()
		err := cn.failure()
		c.log.Warn("lost connection to agent", "err", err)
		c.detach(cn, err)
		// A connection that died young does not reset the backoff, so an
		// agent that accepts and drops at once is not hammered.
		if time.Since(cn.opened) >= stableConnDuration {
			failures = 0
		}
		if cn = c.reconnect(&failures); cn == nil {
			return
		}
	}
}

// reconnect returns a restored, installed connection, or nil at Close.
func (c *Client) reconnect(failures *int) *conn {
	for {
		ok, wasParked := c.waitUnparked()
		if !ok {
			return nil
		}
		if wasParked {
			*failures = 0 // Login woke us: a person is waiting
		} else if !c.sleep(c.backoff(*failures)) {
			return nil
		}
		*failures++
		c.mu.Lock()
		c.setStateLocked(StateConnecting)
		c.mu.Unlock()

		cn, err := c.connect(c.ctx)
		if err != nil {
			if c.ctx.Err() != nil {
				return nil
			}
			var mm *FingerprintMismatchError
			if errors.As(err, &mm) {
				c.log.Error("agent presented a different key; not reconnecting", "expected", mm.Expected, "got", mm.Got)
				c.setFailed(StateFingerprintMismatch, err)
				continue // parks until Close
			}
			c.log.Warn("reconnect to agent failed", "err", err, "attempt", *failures)
			c.setFailed(StateDisconnected, err)
			continue
		}
		expired, err := c.restore(cn)
		if err != nil {
			cn.shutdown(err)
			if c.ctx.Err() != nil {
				return nil
			}
			c.log.Warn("restore session after reconnect failed", "err", err)
			c.setFailed(StateDisconnected, err)
			continue
		}
		c.install(cn, expired)
		return cn
	}
}

// waitUnparked blocks while reconnecting is stopped (session expired with
// no connection, or a changed key). ok is false at Close.
func (c *Client) waitUnparked() (ok, wasParked bool) {
	for {
		c.mu.Lock()
		st, ch := c.state, c.changed
		parked := st == StateFingerprintMismatch || (st == StateSessionExpired && c.cur == nil)
		c.mu.Unlock()
		if st == StateClosed {
			return false, wasParked
		}
		if !parked {
			return true, wasParked
		}
		wasParked = true
		select {
		case <-ch:
		case <-c.ctx.Done():
			return false, wasParked
		}
	}
}

// backoff is exponential with equal jitter: half fixed, half random, so
// many desktops that lost the same agent do not return in lockstep.
func (c *Client) backoff(failures int) time.Duration {
	d := c.opts.ReconnectMax
	if failures < 32 {
		if e := c.opts.ReconnectMin << failures; e > 0 && e < d {
			d = e
		}
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

func (c *Client) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

func (c *Client) setFailed(s State, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastErr = err
	c.setStateLocked(s)
}

// detach forgets a dead connection and its subscription bindings; the
// subscriptions themselves stay, to be re-created on the next connection.
func (c *Client) detach(cn *conn, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == cn {
		c.cur = nil
	}
	c.unbindLocked(cn)
	switch c.state {
	case StateClosed, StateSessionExpired, StateFingerprintMismatch:
		c.broadcastLocked()
	default:
		c.lastErr = err
		c.setStateLocked(StateDisconnected)
	}
}

// restore resumes the session and re-creates the subscriptions on a new
// connection before callers may use it, so nobody's call meets an
// unauthenticated connection. expired reports a session the agent refused.
func (c *Client) restore(cn *conn) (expired bool, err error) {
	ctx, cancel := context.WithTimeout(c.ctx, restoreTimeout)
	defer cancel()
	c.mu.Lock()
	token := c.token
	c.mu.Unlock()
	if token == "" {
		return false, nil
	}
	raw, err := cn.call(ctx, c.ids.Add(1), protocol.SessionResume.Name, apitype.ResumeParams{Token: token}, nil)
	res, err := decodeResult[apitype.LoginResult](protocol.SessionResume.Name, raw, err)
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.ErrorKind() == protocol.KindUnauthorized {
		c.log.Warn("agent refused to resume the session; log in again")
		c.mu.Lock()
		if c.token == token {
			c.token, c.session = "", Session{}
		}
		c.mu.Unlock()
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("resume session: %w", err)
	}
	c.mu.Lock()
	current := c.token == token
	if current {
		if res.Token != "" {
			c.token = res.Token // the agent may rotate it
		}
		c.session = Session{Account: res.Account, ExpiresAt: res.ExpiresAt}
		c.sessionGen++
	}
	c.mu.Unlock()
	if !current {
		// Logout ran meanwhile: do not leave the agent holding a session
		// the user ended.
		cn.send(c.ids.Add(1), protocol.SessionLogout.Name, apitype.Empty{})
		return false, nil
	}
	return false, c.rebind(ctx, cn)
}

// install makes a restored connection the one callers use.
func (c *Client) install(cn *conn, expired bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur = cn
	switch {
	case expired:
		c.lastErr = ErrSessionExpired
		c.setStateLocked(StateSessionExpired)
	case c.token != "":
		c.lastErr = nil
		c.setStateLocked(StateLoggedIn)
	default:
		c.lastErr = nil
		c.setStateLocked(StateConnected)
	}
}

// rebind re-creates, in creation order, every subscription not live on cn.
// An agent error for one subscription (say, a role change made it
// forbidden) is logged and the others continue; it is retried after the
// next reconnect. A transport error is returned: cn is gone.
func (c *Client) rebind(ctx context.Context, cn *conn) error {
	c.mu.Lock()
	var todo []*Subscription
	for s := range c.subs {
		if s.conn != cn {
			todo = append(todo, s)
		}
	}
	c.mu.Unlock()
	slices.SortFunc(todo, func(a, b *Subscription) int { return cmp.Compare(a.order, b.order) })
	for _, s := range todo {
		if s.cancelled.Load() {
			continue
		}
		err := c.bind(ctx, cn, s, false)
		var pe *protocol.Error
		switch {
		case err == nil:
		case errors.As(err, &pe):
			c.log.Warn("re-create subscription failed", "kind", s.kind, "err", err)
		default:
			return fmt.Errorf("re-create %s subscription: %w", s.kind, err)
		}
	}
	return nil
}
