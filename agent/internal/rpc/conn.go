package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/auth"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Connection timing (PROTOCOL.md): ping every 30 s, a peer silent for 60 s is
// gone, a write that takes 10 s means a stalled peer.
const (
	pingInterval = 30 * time.Second
	pongWait     = 60 * time.Second
	writeWait    = 10 * time.Second
	// outboundQueue bounds what may wait for a slow client; past it the
	// client is disconnected with 1008 and resumes after reconnecting.
	outboundQueue = 256
	// maxInFlight bounds concurrent calls per connection.
	maxInFlight = 8
)

// conn is one client connection: one reader (serve), one writer (writeLoop).
type conn struct {
	srv    *Server
	ws     *websocket.Conn
	remote string
	log    zerolog.Logger

	out       chan []byte
	closeOnce sync.Once
	closed    chan struct{}
	ctx       context.Context
	cancel    context.CancelFunc
	inflight  chan struct{}

	mu      sync.Mutex
	hello   bool
	token   string // the session token, once logged in or resumed
	account *apitype.Account
	subs    map[string]func()
	nextSub atomic.Uint64
	// counted: the server counts this connection as not logged in, and
	// loginTimer closes it unless it logs in first. A login or resume in
	// flight when the timer fires gets to finish (late): the client must
	// not lose a call that may have worked.
	counted    bool
	loginTimer *time.Timer
	authCalls  int
	late       bool
	// stopExpiry stops the timer due when the session times out (nil
	// without a session).
	stopExpiry func() bool
	// localAccount is set once, before serving, on connections of the
	// local admin channel: their identity comes from the operating system,
	// so they are never counted as waiting to log in.
	localAccount *apitype.Account
}

func newConn(srv *Server, ws *websocket.Conn, remote string) *conn {
	ctx, cancel := context.WithCancel(srv.ctx)
	return &conn{
		srv: srv, ws: ws, remote: remote, log: srv.log.With().Str("remote", remote).Logger(),
		out: make(chan []byte, outboundQueue), closed: make(chan struct{}), ctx: ctx, cancel: cancel,
		inflight: make(chan struct{}, maxInFlight), subs: map[string]func(){}, counted: true,
	}
}

// armLoginTimerLocked gives the connection LoginTimeout to log in; c.mu is held.
func (c *conn) armLoginTimerLocked() {
	if c.loginTimer != nil {
		c.loginTimer.Stop()
	}
	c.late = false
	c.loginTimer = time.AfterFunc(c.srv.limits.LoginTimeout, c.loginExpired)
}

func (c *conn) loginExpired() {
	c.mu.Lock()
	if !c.counted {
		c.mu.Unlock()
		return
	}
	if c.authCalls > 0 {
		c.late = true // closed when the call ends without a session
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.closeLoginTimeout()
}

func (c *conn) closeLoginTimeout() {
	c.log.Debug().Msg("closing a connection that did not log in in time")
	c.closeWith(websocket.ClosePolicyViolation, fmt.Sprintf("log in within %s", c.srv.limits.LoginTimeout))
}

// authCall brackets a session.login or session.resume: the login deadline
// waits for it, and closes the connection after it if it left no session.
func (c *conn) authCall() (done func()) {
	c.mu.Lock()
	c.authCalls++
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.authCalls--
		expired := c.late && c.counted && c.authCalls == 0
		c.mu.Unlock()
		if expired {
			c.closeLoginTimeout()
		}
	}
}

// send queues a frame without blocking; a full queue means the client does
// not keep up, and it is disconnected rather than allowed to slow the agent.
func (c *conn) send(frame []byte) {
	select {
	case <-c.closed:
	case c.out <- frame:
	default:
		c.log.Warn().Msg("client too slow: outbound queue full, disconnecting")
		c.closeWith(websocket.ClosePolicyViolation, "outbound queue overflow")
	}
}

func (c *conn) sendJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.log.Error().Err(err).Msg("encode frame")
		return
	}
	c.send(b)
}

func (c *conn) notify(method string, params any) {
	if frame, ok := c.notification(method, params); ok {
		c.send(frame)
	}
}

// notifySub sends a notification of subscription id while it lasts: the
// check and the queueing happen under c.mu, which cancelSubs takes to end
// subscriptions, so nothing of an ended subscription follows what is sent
// after it ended (a SessionExpired event), not even what it had gathered.
func (c *conn) notifySub(id, method string, params any) {
	frame, ok := c.notification(method, params)
	if !ok {
		return
	}
	if hook := aroundNotifySub.Load(); hook != nil {
		defer (*hook)()()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, live := c.subs[id]; live {
		c.send(frame)
	}
}

func (c *conn) notification(method string, params any) ([]byte, bool) {
	raw, err := json.Marshal(params)
	if err != nil {
		c.log.Error().Err(err).Str("method", method).Msg("encode notification")
		return nil, false
	}
	frame, err := json.Marshal(protocol.Notification{JSONRPC: "2.0", Method: method, Params: raw})
	if err != nil {
		c.log.Error().Err(err).Str("method", method).Msg("encode frame")
		return nil, false
	}
	return frame, true
}

// closeWith sends a close frame (best effort) and tears the connection down.
func (c *conn) closeWith(code int, reason string) {
	c.closeOnce.Do(func() {
		msg := websocket.FormatCloseMessage(code, reason)
		_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		close(c.closed)
		c.cancel()
		c.ws.Close()
	})
}

func (c *conn) writeLoop() {
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.closed:
			return
		case frame := <-c.out:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, frame); err != nil {
				c.closeWith(websocket.CloseGoingAway, "write failed")
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.closeWith(websocket.CloseGoingAway, "ping failed")
				return
			}
		}
	}
}

// serve is the reader: it decodes frames and dispatches each call on its own
// goroutine (bounded), so a slow call (a failed login's delay) does not hold
// up the others.
func (c *conn) serve() {
	defer c.shutdown()
	c.mu.Lock()
	if c.counted {
		c.armLoginTimerLocked()
	}
	c.mu.Unlock()
	go c.writeLoop()
	c.ws.SetReadLimit(protocol.MaxFrameBeforeLogin)
	c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error {
		c.ws.SetReadDeadline(time.Now().Add(pongWait))
		return nil
	})
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.closeWith(websocket.CloseMessageTooBig, "frame too large")
			}
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(pongWait))
		if typ != websocket.TextMessage {
			c.sendJSON(errorResponse(nil, &protocol.Error{Code: protocol.CodeInvalidRequest, Message: "frames must be text JSON"}))
			continue
		}
		req, perr := decodeRequest(data)
		if perr != nil {
			c.sendJSON(errorResponse(req.ID, perr))
			continue
		}
		select {
		case c.inflight <- struct{}{}:
		case <-c.closed:
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-c.inflight }()
			resp := c.srv.dispatch(c, req)
			if resp != nil {
				c.sendJSON(resp)
			}
		}()
	}
}

func (c *conn) shutdown() {
	c.closeWith(websocket.CloseNormalClosure, "")
	c.cancelSubs()
	c.mu.Lock()
	counted := c.counted
	c.counted = false
	if c.loginTimer != nil {
		c.loginTimer.Stop()
	}
	c.stopExpiryLocked()
	c.mu.Unlock()
	if counted {
		c.srv.leave(c.remote)
	}
	c.srv.forget(c)
}

func (c *conn) cancelSubs() {
	c.mu.Lock()
	subs := c.subs
	c.subs = map[string]func(){}
	c.mu.Unlock()
	for _, cancel := range subs {
		cancel()
	}
}

// endSession drops a session that ended elsewhere: no more notifications
// for it, and the client is told (it logs in again).
func (c *conn) endSession() {
	c.setSession("", nil)
	c.endedSession()
}

// endSessionOf ends the connection's session as endSession does if it is
// still token's: a login since may have replaced it.
func (c *conn) endSessionOf(token string) {
	if c.replaceSession(&token, "", nil) {
		c.endedSession()
	}
}

func (c *conn) endedSession() {
	c.cancelSubs()
	c.notify(protocol.NotifyEvent, apitype.EventNotification{Type: apitype.EventSessionExpired, Time: time.Now().UTC(), Seq: c.srv.deps.Events.Seq()})
}

// session returns the token and account of a logged-in connection.
func (c *conn) session() (string, *apitype.Account) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token, c.account
}

// setSession records the connection's session ("" when it has none) and
// moves it in or out of the server's count of connections not logged in.
func (c *conn) setSession(token string, acc *apitype.Account) {
	c.replaceSession(nil, token, acc)
}

// replaceSession is setSession when old is nil or the connection's session
// is still *old's; it says whether it was.
func (c *conn) replaceSession(old *string, token string, acc *apitype.Account) bool {
	c.mu.Lock()
	if old != nil && c.token != *old {
		c.mu.Unlock()
		return false
	}
	c.token, c.account = token, acc
	c.stopExpiryLocked()
	var join, leave bool
	switch {
	case token != "" && c.counted:
		c.counted, leave = false, true
		if c.loginTimer != nil {
			c.loginTimer.Stop()
		}
	case token == "" && !c.counted:
		select {
		case <-c.closed:
		default:
			c.counted, join = true, true
			c.armLoginTimerLocked()
		}
	}
	c.mu.Unlock()
	if leave {
		c.srv.leave(c.remote)
	}
	if join {
		c.srv.rejoin(c.remote)
	}
	if token != "" {
		// A logged-in client may send configuration documents.
		c.ws.SetReadLimit(protocol.MaxFrameAfterLogin)
		c.expiryDue(token)
	}
	return true
}

// expiryDue ends the connection's session if it timed out (or ended
// unnoticed), and otherwise sets a timer for when it is due to time out.
// The session's deadline only moves later (each use pushes the idle one
// back), so a timer set for the deadline known now never fires late; when
// it fires early, because the session was used since, it is set again for
// the new deadline. Asking does not count as a use: only calls do, so a
// connection that just receives events times out when idle.
func (c *conn) expiryDue(token string) {
	left, err := c.srv.deps.Auth.Remaining(token)
	switch {
	case errors.Is(err, auth.ErrUnauthorized):
		c.log.Debug().Err(err).Msg("the connection's session ended")
		c.endSessionOf(token)
		return
	case err != nil:
		// The store failed to answer: ask again shortly rather than end a
		// session that may be alive.
		c.log.Warn().Err(err).Msg("check the session's timeout")
		left = expiryRetry
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.closed:
		return // shutdown has stopped the timer, or is about to
	default:
	}
	if c.token == token {
		c.stopExpiryLocked()
		c.stopExpiry = c.srv.deps.afterFunc(left, func() { c.expiryDue(token) })
	}
}

// expiryRetry is how soon a session's timeout is checked again after the
// store failed to tell it.
const expiryRetry = time.Minute

func (c *conn) stopExpiryLocked() {
	if c.stopExpiry != nil {
		c.stopExpiry()
		c.stopExpiry = nil
	}
}
