package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/lockstep-sync/lockstep/agent/internal/paths"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Client calls a running agent's API over the channel. The agent knows who
// it is from the operating system: there is no login.
type Client struct {
	ws     *websocket.Conn
	nextID atomic.Int64
	wmu    sync.Mutex // one writer
	mu     sync.Mutex
	wait   map[int64]chan protocol.Incoming
	events chan apitype.EventNotification
	closed chan struct{}
	err    error
}

// Connect dials the channel of the data dir and says hello; ErrNotRunning
// when the agent is stopped.
func Connect(ctx context.Context, layout paths.Layout) (*Client, error) {
	d := websocket.Dialer{
		NetDialContext:   func(ctx context.Context, _, _ string) (net.Conn, error) { return Dial(ctx, layout) },
		HandshakeTimeout: 30 * time.Second,
	}
	// The host is a placeholder: the connection is the channel's, and no
	// TLS is needed on a socket only root and the agent's account can open.
	ws, _, err := d.DialContext(ctx, "ws://local"+protocol.Path, http.Header{})
	if err != nil {
		if errors.Is(err, ErrNotRunning) {
			return nil, ErrNotRunning
		}
		var ne *net.OpError
		if errors.As(err, &ne) && ne.Op == "dial" && ne.Err != nil {
			return nil, ne.Err // Dial's own message
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
			// The agent closes a connection it does not admit before a word.
			return nil, ErrRefused
		}
		return nil, fmt.Errorf("connect to the agent's admin channel: %w", err)
	}
	ws.SetReadLimit(protocol.MaxFrameAfterLogin)
	c := &Client{ws: ws, wait: map[int64]chan protocol.Incoming{}, events: make(chan apitype.EventNotification, 256), closed: make(chan struct{})}
	go c.read()
	if _, err := Call(ctx, c, protocol.SessionHello, apitype.HelloParams{Protocol: protocol.Version, Client: "lockstep-agent-cli"}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close ends the connection.
func (c *Client) Close() error { return c.ws.Close() }

func (c *Client) read() {
	defer close(c.closed)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.err = fmt.Errorf("the agent closed the admin channel: %w", err)
			c.mu.Unlock()
			return
		}
		var m protocol.Incoming
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		if m.IsNotification() {
			if m.Method != protocol.NotifyEvent {
				continue
			}
			var ev apitype.EventNotification
			if json.Unmarshal(m.Params, &ev) == nil {
				select {
				case c.events <- ev:
				default: // a slow reader misses progress, never the status it polls
				}
			}
			continue
		}
		var id int64
		if json.Unmarshal(m.ID, &id) != nil {
			continue
		}
		c.mu.Lock()
		ch := c.wait[id]
		delete(c.wait, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// Call calls method m and decodes its result.
func Call[P, R any](ctx context.Context, c *Client, m protocol.Method[P, R], p P) (R, error) {
	var r R
	raw, err := c.call(ctx, m.Name, p)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, fmt.Errorf("%s: decode the answer: %w", m.Name, err)
	}
	return r, nil
}

func (c *Client) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	id := c.nextID.Add(1)
	p, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("%s: encode params: %w", method, err)
	}
	frame, err := json.Marshal(protocol.Request{JSONRPC: "2.0", ID: json.RawMessage(fmt.Sprint(id)), Method: method, Params: p})
	if err != nil {
		return nil, err
	}
	ch := make(chan protocol.Incoming, 1)
	c.mu.Lock()
	c.wait[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.wait, id)
		c.mu.Unlock()
	}()
	c.wmu.Lock()
	err = c.ws.WriteMessage(websocket.TextMessage, frame)
	c.wmu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, m.Error
		}
		return m.Result, nil
	case <-c.closed:
		c.mu.Lock()
		defer c.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", method, c.err)
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Events delivers the event notifications of subscriptions the client made.
func (c *Client) Events() <-chan apitype.EventNotification { return c.events }
