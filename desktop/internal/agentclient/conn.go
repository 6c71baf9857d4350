package agentclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// outQueueLen bounds frames waiting for the writer; a caller finding it full
// waits (within its ctx) rather than growing memory.
const outQueueLen = 64

// maxEarly bounds notifications held for a subscription whose result has not
// arrived yet (see conn.early).
const maxEarly = 512

type reply struct {
	result json.RawMessage
	err    error
}

// A pending call is claimed exactly once: by the reader (a response), by
// fail (the connection died) or by its caller (ctx ended). The loser of the
// race knows the other side is about to finish, so nobody waits forever and
// nothing is delivered twice.
const (
	pendingWaiting int32 = iota
	pendingClaimed
	pendingAbandoned
)

type pending struct {
	ch    chan reply // buffered 1: the deliverer never blocks
	state atomic.Int32
	// onReply runs on the reader goroutine before the next frame is read,
	// so a new subscription is routable before its first notification.
	// claimed is false when the caller gave up: the hook then undoes
	// server-side what the call did.
	onReply func(r reply, claimed bool)
}

// conn is one WebSocket connection with its reader and writer goroutines.
type conn struct {
	ws         *websocket.Conn
	log        *slog.Logger
	out        chan []byte
	done       chan struct{} // closed when the connection is dead
	wg         sync.WaitGroup
	pingPeriod time.Duration
	pongWait   time.Duration
	onPong     func()
	opened     time.Time
	notify     func(*conn, protocol.Incoming) // runs on the reader goroutine

	mu      sync.Mutex
	err     error
	closing error // set by shutdown: the reason wins over the echo of our close frame
	pending map[uint64]*pending
	// subscribing counts subscribe calls awaiting their result. While any
	// does, notifications for unknown subscription ids are kept in early:
	// an agent may queue a subscription's first notifications (a log
	// backlog, an event replay) before the result that names it.
	subscribing int
	early       []protocol.Incoming

	// subs routes notifications by the agent's subscription id. Guarded by
	// Client.mu, which owns all subscription bookkeeping.
	subs map[string]*Subscription
}

func newConn(ws *websocket.Conn, o Options, notify func(*conn, protocol.Incoming)) *conn {
	cn := &conn{
		ws:         ws,
		log:        o.Logger,
		out:        make(chan []byte, outQueueLen),
		done:       make(chan struct{}),
		pingPeriod: o.pingPeriod,
		pongWait:   o.pongWait,
		onPong:     o.onPong,
		opened:     time.Now(),
		notify:     notify,
		pending:    map[uint64]*pending{},
		subs:       map[string]*Subscription{},
	}
	cn.wg.Add(2)
	go cn.readLoop()
	go cn.writeLoop()
	return cn
}

// dead reports whether the connection has failed.
func (cn *conn) dead() bool {
	select {
	case <-cn.done:
		return true
	default:
		return false
	}
}

// fail marks the connection dead (once), closes the socket so both loops
// exit, and fails every call still waiting.
func (cn *conn) fail(err error) {
	cn.mu.Lock()
	if cn.err != nil {
		cn.mu.Unlock()
		return
	}
	if cn.closing != nil {
		err = cn.closing
	}
	cn.err = err
	pend := cn.pending
	cn.pending = nil
	cn.early = nil
	close(cn.done)
	cn.mu.Unlock()
	_ = cn.ws.Close()
	for _, p := range pend {
		if p.state.CompareAndSwap(pendingWaiting, pendingClaimed) {
			p.ch <- reply{err: err}
		}
	}
}

// shutdown closes politely: a close frame (allowed concurrently with the
// writer), then the socket. It waits for both loops.
func (cn *conn) shutdown(cause error) {
	cn.mu.Lock()
	if cn.closing == nil {
		cn.closing = cause
	}
	cn.mu.Unlock()
	if !cn.dead() {
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		_ = cn.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeControlWait))
	}
	cn.fail(cause)
	cn.wg.Wait()
}

// failure returns why the connection died.
func (cn *conn) failure() error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.err
}

func encodeRequest(id uint64, method string, params any) ([]byte, error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encode %s params: %w", method, err)
	}
	if bytes.Equal(raw, []byte("null")) {
		raw = []byte("{}") // the agent decodes params into structs
	}
	frame, err := json.Marshal(protocol.Request{
		JSONRPC: "2.0",
		ID:      json.RawMessage(strconv.FormatUint(id, 10)),
		Method:  method,
		Params:  raw,
	})
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", method, err)
	}
	return frame, nil
}

// call sends one request and waits for its reply or ctx. An agent error is
// returned as the *protocol.Error itself.
func (cn *conn) call(ctx context.Context, id uint64, method string, params any, onReply func(reply, bool)) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // select below would pick at random between sending and giving up
	}
	frame, err := encodeRequest(id, method, params)
	if err != nil {
		return nil, err
	}
	if len(frame) > protocol.MaxFrameAfterLogin {
		// The agent would close the connection on it, failing every other
		// call in flight too; refuse it here instead.
		return nil, fmt.Errorf("%w: %s request is %d bytes, the limit is %d", ErrFrameTooLarge, method, len(frame), protocol.MaxFrameAfterLogin)
	}
	p := &pending{ch: make(chan reply, 1), onReply: onReply}
	cn.mu.Lock()
	if cn.err != nil {
		err := cn.err
		cn.mu.Unlock()
		return nil, err
	}
	cn.pending[id] = p
	if onReply != nil {
		cn.subscribing++
	}
	cn.mu.Unlock()

	select {
	case cn.out <- frame:
	case <-ctx.Done():
		// Never sent, so no reply will come: undo the registration here.
		if p.state.CompareAndSwap(pendingWaiting, pendingAbandoned) {
			cn.forget(id, onReply != nil)
			return nil, ctx.Err()
		}
		r := <-p.ch
		return r.result, r.err
	case <-cn.done:
		r := <-p.ch // fail claimed it
		return r.result, r.err
	}

	select {
	case r := <-p.ch:
		return r.result, r.err
	case <-ctx.Done():
		if p.state.CompareAndSwap(pendingWaiting, pendingAbandoned) {
			if onReply == nil {
				// The agent's answer, when it comes, finds no entry and is dropped.
				cn.forget(id, false)
			}
			return nil, ctx.Err()
		}
		r := <-p.ch // the reader or fail won the race and is delivering
		return r.result, r.err
	}
}

// forget drops a pending entry that will not be answered or is not wanted.
func (cn *conn) forget(id uint64, subscribing bool) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.pending == nil {
		return
	}
	delete(cn.pending, id)
	if subscribing {
		cn.subscribing--
		if cn.subscribing == 0 {
			cn.early = nil
		}
	}
}

// send queues a request whose answer nobody waits for (cleanup such as
// sub.cancel for an abandoned subscription). It never blocks: if the queue
// is full, the agent drops the subscription with the connection anyway.
func (cn *conn) send(id uint64, method string, params any) {
	frame, err := encodeRequest(id, method, params)
	if err != nil {
		return
	}
	select {
	case cn.out <- frame:
	default:
		cn.log.Debug("agent connection queue full; skipping cleanup request", "method", method)
	}
}

func (cn *conn) write(kind int, data []byte) error {
	if err := cn.ws.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
		return err
	}
	return cn.ws.WriteMessage(kind, data)
}

// writeLoop is the only goroutine that writes data frames and pings.
func (cn *conn) writeLoop() {
	defer cn.wg.Done()
	ping := time.NewTicker(cn.pingPeriod)
	defer ping.Stop()
	for {
		select {
		case <-cn.done:
			return
		case frame := <-cn.out:
			if err := cn.write(websocket.TextMessage, frame); err != nil {
				cn.fail(fmt.Errorf("%w: write to agent: %w", ErrConnectionLost, err))
				return
			}
		case <-ping.C:
			if err := cn.write(websocket.PingMessage, nil); err != nil {
				cn.fail(fmt.Errorf("%w: ping agent: %w", ErrConnectionLost, err))
				return
			}
		}
	}
}

// readLoop is the only goroutine that reads. It exits on the first error:
// gorilla panics after repeated reads on a failed connection.
func (cn *conn) readLoop() {
	defer cn.wg.Done()
	cn.ws.SetReadLimit(readLimit)
	extend := func() error { return cn.ws.SetReadDeadline(time.Now().Add(cn.pongWait)) }
	_ = extend()
	// Our pings' pongs keep the deadline moving when the agent is idle; the
	// default ping handler answers the agent's pings.
	cn.ws.SetPongHandler(func(string) error {
		if cn.onPong != nil {
			cn.onPong()
		}
		return extend()
	})
	for {
		_, data, err := cn.ws.ReadMessage()
		if err != nil {
			cn.fail(readError(err))
			return
		}
		_ = extend() // any frame proves the agent is alive
		var in protocol.Incoming
		if err := json.Unmarshal(data, &in); err != nil {
			cn.log.Warn("ignoring malformed frame from agent", "err", err)
			continue
		}
		if in.IsNotification() {
			cn.notify(cn, in)
			continue
		}
		cn.deliver(in)
	}
}

// readError explains why reading stopped, naming the agent's slow-consumer
// close so logs say why a reconnect happened.
func readError(err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code == websocket.ClosePolicyViolation {
		return fmt.Errorf("%w: agent closed the connection as a slow consumer: %w", ErrConnectionLost, err)
	}
	return fmt.Errorf("%w: read from agent: %w", ErrConnectionLost, err)
}

// deliver hands a response to its pending call.
func (cn *conn) deliver(in protocol.Incoming) {
	id, err := strconv.ParseUint(string(in.ID), 10, 64)
	if err != nil {
		if in.Error != nil {
			cn.log.Warn("agent rejected a frame", "err", in.Error)
		}
		return
	}
	cn.mu.Lock()
	p := cn.pending[id]
	if p == nil {
		cn.mu.Unlock()
		return // answer to an abandoned call
	}
	delete(cn.pending, id)
	if p.onReply != nil {
		cn.subscribing--
	}
	cn.mu.Unlock()

	r := reply{result: in.Result}
	if in.Error != nil {
		r = reply{err: in.Error}
	}
	claimed := p.state.CompareAndSwap(pendingWaiting, pendingClaimed)
	if p.onReply != nil {
		p.onReply(r, claimed)
		cn.mu.Lock()
		if cn.subscribing == 0 {
			cn.early = nil // whatever is left belongs to no subscription of ours
		}
		cn.mu.Unlock()
	}
	if claimed {
		p.ch <- r
	}
}

// holdEarly keeps a notification for a subscription whose result has not
// arrived; it reports false when none is expected.
func (cn *conn) holdEarly(in protocol.Incoming) bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.subscribing == 0 || len(cn.early) >= maxEarly {
		return false
	}
	cn.early = append(cn.early, in)
	return true
}

// takeEarly removes and returns the held notifications for sub id.
func (cn *conn) takeEarly(sub string) []protocol.Incoming {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	var mine []protocol.Incoming
	kept := cn.early[:0]
	for _, in := range cn.early {
		if subOf(in) == sub {
			mine = append(mine, in)
		} else {
			kept = append(kept, in)
		}
	}
	cn.early = kept
	return mine
}

// subOf reads the subscription id every notification carries.
func subOf(in protocol.Incoming) string {
	var p struct {
		Sub string `json:"sub"`
	}
	_ = json.Unmarshal(in.Params, &p) // a notification without one matches nothing
	return p.Sub
}
