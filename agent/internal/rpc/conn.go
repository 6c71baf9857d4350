package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

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
}

func newConn(srv *Server, ws *websocket.Conn, remote string) *conn {
	ctx, cancel := context.WithCancel(srv.ctx)
	return &conn{
		srv: srv, ws: ws, remote: remote, log: srv.log.With().Str("remote", remote).Logger(),
		out: make(chan []byte, outboundQueue), closed: make(chan struct{}), ctx: ctx, cancel: cancel,
		inflight: make(chan struct{}, maxInFlight), subs: map[string]func(){},
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
	raw, err := json.Marshal(params)
	if err != nil {
		c.log.Error().Err(err).Str("method", method).Msg("encode notification")
		return
	}
	c.sendJSON(protocol.Notification{JSONRPC: "2.0", Method: method, Params: raw})
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
	c.mu.Lock()
	subs := c.subs
	c.subs = map[string]func(){}
	c.mu.Unlock()
	for _, cancel := range subs {
		cancel()
	}
	c.srv.forget(c)
}

// session returns the token and account of a logged-in connection.
func (c *conn) session() (string, *apitype.Account) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token, c.account
}

func (c *conn) setSession(token string, acc *apitype.Account) {
	c.mu.Lock()
	c.token, c.account = token, acc
	c.mu.Unlock()
	if token != "" {
		// A logged-in client may send configuration documents.
		c.ws.SetReadLimit(protocol.MaxFrameAfterLogin)
	}
}
