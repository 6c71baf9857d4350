package agentclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Client is a self-healing connection to one agent. All methods are safe
// for concurrent use.
type Client struct {
	opts Options
	log  *slog.Logger
	disp *dispatcher
	ids  atomic.Uint64 // JSON-RPC ids, increasing across reconnects so a late answer never matches a new call

	ctx       context.Context // ends at Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup // the supervisor
	closeOnce sync.Once

	mu         sync.Mutex
	state      State
	lastErr    error
	cur        *conn         // the connection callers may use; nil while down or restoring
	changed    chan struct{} // closed and replaced on every state or cur change
	token      apitype.Secret
	session    Session
	sessionGen uint64 // bumped per login/resume, so a stale unauthorized cannot expire a fresh session
	hello      apitype.HelloResult
	subs       map[*Subscription]struct{}
	subOrder   uint64
	listeners  map[uint64]func(State)
	listenerID uint64
}

// Dial connects, checks the pin and says hello. It fails if this first
// attempt fails, so the connect screen can show why (a
// *FingerprintMismatchError, a version_mismatch *protocol.Error, or a
// network error); from then on the client reconnects by itself until Close.
// ctx bounds only this first attempt.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		opts:      o,
		log:       o.Logger.With("agent", o.URL),
		disp:      newDispatcher(),
		ctx:       lctx,
		cancel:    cancel,
		state:     StateConnecting,
		changed:   make(chan struct{}),
		subs:      map[*Subscription]struct{}{},
		listeners: map[uint64]func(State){},
	}
	cn, err := c.connect(ctx)
	if err != nil {
		cancel()
		c.disp.close()
		return nil, err
	}
	c.mu.Lock()
	c.cur = cn
	c.setStateLocked(StateConnected)
	c.mu.Unlock()
	c.wg.Add(1)
	go c.supervise(cn)
	return c, nil
}

// connect dials, verifies the pin and completes session.hello.
func (c *Client) connect(ctx context.Context) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	d := websocket.Dialer{
		// Our own TLS dial, so the pin check and its typed error are ours.
		NetDialTLSContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return dialTLS(ctx, addr, c.opts.Fingerprint)
		},
		HandshakeTimeout: dialTimeout,
		// No Proxy, no Jar and no header: the agent refuses upgrades that
		// carry an Origin, and nothing else belongs on the request.
	}
	ws, resp, err := d.DialContext(ctx, c.opts.URL, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		var mm *FingerprintMismatchError
		if errors.As(err, &mm) {
			return nil, mm
		}
		if resp != nil {
			return nil, fmt.Errorf("open WebSocket to agent: %s: %w", resp.Status, err)
		}
		return nil, fmt.Errorf("open WebSocket to agent: %w", err)
	}
	cn := newConn(ws, c.opts, c.route)
	raw, err := cn.call(ctx, c.ids.Add(1), protocol.SessionHello.Name,
		apitype.HelloParams{Protocol: protocol.Version, Client: c.opts.Client}, nil)
	h, err := decodeResult[apitype.HelloResult](protocol.SessionHello.Name, raw, err)
	if err == nil && h.Protocol != protocol.Version {
		err = fmt.Errorf("agent %s answered with protocol %d, this client speaks %d", h.Agent, h.Protocol, protocol.Version)
	}
	if err != nil {
		cn.shutdown(ErrClosed)
		return nil, fmt.Errorf("say hello to agent: %w", err)
	}
	c.mu.Lock()
	if c.hello.InstanceID != "" && c.hello.InstanceID != h.InstanceID {
		c.log.Warn("agent instance changed", "was", c.hello.InstanceID, "now", h.InstanceID)
	}
	c.hello = h
	c.mu.Unlock()
	c.log.Info("connected to agent", "version", h.Agent, "instance", h.InstanceID)
	return cn, nil
}

// Close stops reconnecting, closes the connection and waits for every
// goroutine the client started; it is idempotent. Calls still waiting fail
// with ErrClosed, and no handler or state listener runs after Close returns
// (listeners are not told about StateClosed). Do not call Close from a
// handler or listener: it waits for them.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.state = StateClosed
		c.broadcastLocked()
		c.mu.Unlock()
		c.cancel()
		c.wg.Wait()
		c.disp.close()
	})
	return nil
}

// State returns the connection state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// LastError says why the client is not connected (nil when it is).
func (c *Client) LastError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr
}

// Hello returns the agent's answer to the latest session.hello.
func (c *Client) Hello() apitype.HelloResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hello
}

// URL returns the normalized endpoint.
func (c *Client) URL() string { return c.opts.URL }

// Fingerprint returns the pin in use.
func (c *Client) Fingerprint() string { return c.opts.Fingerprint }

// OnStateChange registers f, calls it with the current state and then with
// every change, in order, on the dispatcher goroutine (so f must not
// block). The returned func unregisters f.
func (c *Client) OnStateChange(f func(State)) (remove func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listenerID++
	id := c.listenerID
	c.listeners[id] = f
	s := c.state
	c.disp.push(func() { c.tell(id, s) })
	return func() {
		c.mu.Lock()
		delete(c.listeners, id)
		c.mu.Unlock()
	}
}

// tell runs a listener unless it was removed since the change was queued.
func (c *Client) tell(id uint64, s State) {
	c.mu.Lock()
	f := c.listeners[id]
	c.mu.Unlock()
	if f != nil {
		f(s)
	}
}

func (c *Client) broadcastLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// setStateLocked moves to s and queues the listeners. Closed and
// FingerprintMismatch are final: only Close leaves the latter.
func (c *Client) setStateLocked(s State) {
	c.broadcastLocked()
	if s == c.state || c.state == StateClosed || (c.state == StateFingerprintMismatch && s != StateClosed) {
		return
	}
	c.state = s
	for id := range c.listeners {
		c.disp.push(func() { c.tell(id, s) })
	}
}

// waitConn returns the connection to use, waiting while the client
// reconnects. It fails at once when reconnecting has stopped. login says the
// caller is Login, which may wake a client parked by an expired session.
func (c *Client) waitConn(ctx context.Context, access protocol.Access, login bool) (*conn, error) {
	for {
		c.mu.Lock()
		switch c.state {
		case StateClosed:
			c.mu.Unlock()
			return nil, ErrClosed
		case StateFingerprintMismatch:
			err := c.lastErr
			c.mu.Unlock()
			return nil, err
		case StateSessionExpired:
			if !login && access >= protocol.Viewer {
				c.mu.Unlock()
				return nil, ErrSessionExpired
			}
			if c.cur == nil && login {
				c.setStateLocked(StateConnecting) // releases the parked supervisor
			}
		}
		if cn := c.cur; cn != nil {
			c.mu.Unlock()
			return cn, nil
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			if last := c.LastError(); last != nil {
				return nil, fmt.Errorf("wait for agent connection (last error: %v): %w", last, ctx.Err())
			}
			return nil, fmt.Errorf("wait for agent connection: %w", ctx.Err())
		}
	}
}

// call is the untyped call path: wait for a connection, send, and notice a
// session the agent no longer accepts.
func (c *Client) call(ctx context.Context, method string, access protocol.Access, params any) (json.RawMessage, error) {
	cn, err := c.waitConn(ctx, access, false)
	if err != nil {
		return nil, opError("call "+method, err)
	}
	gen := c.generation()
	raw, err := cn.call(ctx, c.ids.Add(1), method, params, nil)
	if err != nil {
		c.noteError(cn, gen, access, err)
		return nil, opError("call "+method, err)
	}
	return raw, nil
}

func (c *Client) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionGen
}

// noteError turns an unauthorized answer to a logged-in call into
// SessionExpired: the session died on the agent (expiry, revocation,
// password change), and further calls would fail the same way.
func (c *Client) noteError(cn *conn, gen uint64, access protocol.Access, err error) {
	var pe *protocol.Error
	if access < protocol.Viewer || !errors.As(err, &pe) || pe.ErrorKind() != protocol.KindUnauthorized {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sessionGen != gen || c.cur != cn || c.state != StateLoggedIn {
		return
	}
	c.log.Warn("agent session expired")
	c.token, c.session = "", Session{}
	c.unbindLocked(cn)
	c.lastErr = ErrSessionExpired
	c.setStateLocked(StateSessionExpired)
}

// opError wraps transport errors with what was being done, and returns the
// agent's own errors bare so callers can type-assert *protocol.Error.
func opError(op string, err error) error {
	if _, ok := err.(*protocol.Error); ok {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// decodeResult decodes a call's result into R.
func decodeResult[R any](method string, raw json.RawMessage, err error) (R, error) {
	var r R
	if err != nil {
		return r, err
	}
	if len(raw) == 0 || string(raw) == "null" {
		return r, nil
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("decode %s result: %w", method, err)
	}
	return r, nil
}

// Call invokes a method through its typed descriptor:
//
//	res, err := agentclient.Call(ctx, c, protocol.SystemsList, apitype.Empty{})
//
// An error from the agent is the *protocol.Error itself (branch on
// ErrorKind()); anything else is a wrapped transport error (see KindOf).
// While the client is reconnecting, Call waits until ctx ends. Session and
// subscription methods are refused: use Login, Resume, Logout and the
// Subscribe methods, which keep the client's bookkeeping in step.
func Call[P, R any](ctx context.Context, c *Client, m protocol.Method[P, R], params P) (R, error) {
	var zero R
	switch m.Name {
	case protocol.SessionHello.Name, protocol.SessionLogin.Name, protocol.SessionResume.Name,
		protocol.SessionLogout.Name, protocol.LogsSubscribe.Name, protocol.EventsSubscribe.Name,
		protocol.SubCancel.Name:
		return zero, fmt.Errorf("call %s: use the Client's own method for it", m.Name)
	}
	raw, err := c.call(ctx, m.Name, m.Access, params)
	return decodeResult[R](m.Name, raw, err)
}
