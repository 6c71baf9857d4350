package agentclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

type subKind string

const (
	logsSub   subKind = "logs"
	eventsSub subKind = "events"
)

// Subscription is a live log or event stream that survives reconnects: the
// client re-creates it on every new connection (the agent's id for it
// changes; the handler stays).
type Subscription struct {
	c     *Client
	kind  subKind
	order uint64

	logsParams apitype.LogsSubscribeParams
	types      []string
	onLogs     func(apitype.LogsNotification)
	onEvent    func(apitype.EventNotification)
	onResync   func()

	cancelled atomic.Bool // read by the dispatcher without the lock

	// Guarded by Client.mu.
	conn        *conn
	serverID    string
	lastSeq     uint64    // events: the newest sequence number received
	lastLogTime time.Time // logs: the newest line received
	logFloor    time.Time // logs: after a re-subscribe, backlog lines up to here are repeats
	dropped     uint64    // logs: lines lost locally, owed to the next notification
}

// SubscribeLogs starts a live log stream (logs.subscribe). handler runs on
// the client's dispatcher goroutine, in order, and must return promptly: if
// it falls more than maxQueuedLogs notifications behind, lines are dropped
// and counted in the next notification's Dropped. After a reconnect the
// stream is re-created with the same filter and backlog, and backlog lines
// not newer than the last line delivered are skipped, so a short outage
// neither repeats nor (within the agent's backlog) loses lines.
func (c *Client) SubscribeLogs(ctx context.Context, p apitype.LogsSubscribeParams, handler func(apitype.LogsNotification)) (*Subscription, error) {
	if handler == nil {
		return nil, errors.New("subscribe to logs: nil handler")
	}
	return c.subscribe(ctx, &Subscription{c: c, kind: logsSub, logsParams: p, onLogs: handler})
}

// SubscribeEvents starts an event stream (events.subscribe) for types (all
// when empty). handler runs like a log handler, but events are never
// dropped. After a reconnect the stream resumes after the last sequence
// number received; when the agent cannot replay that far (resync), onResync
// (may be nil) runs before any further event, and the UI should reload its
// state.
func (c *Client) SubscribeEvents(ctx context.Context, types []string, handler func(apitype.EventNotification), onResync func()) (*Subscription, error) {
	if handler == nil {
		return nil, errors.New("subscribe to events: nil handler")
	}
	return c.subscribe(ctx, &Subscription{c: c, kind: eventsSub, types: append([]string(nil), types...), onEvent: handler, onResync: onResync})
}

func (c *Client) subscribe(ctx context.Context, s *Subscription) (*Subscription, error) {
	op := "subscribe to " + string(s.kind)
	c.mu.Lock()
	c.subOrder++
	s.order = c.subOrder
	c.mu.Unlock()
	cn, err := c.waitConn(ctx, protocol.Viewer, false)
	if err != nil {
		return nil, opError(op, err)
	}
	gen := c.generation()
	if err := c.bind(ctx, cn, s, true); err != nil {
		s.cancelled.Store(true)
		c.noteError(cn, gen, protocol.Viewer, err)
		return nil, opError(op, err)
	}
	c.mu.Lock()
	_, ok := c.subs[s]
	c.mu.Unlock()
	if !ok {
		s.cancelled.Store(true)
		return nil, fmt.Errorf("%s: the agent's answer named no subscription", op)
	}
	return s, nil
}

// request builds the subscribe call; a re-subscription of events asks for
// a replay after the last sequence number seen.
func (s *Subscription) request(initial bool) (string, any) {
	if s.kind == logsSub {
		return protocol.LogsSubscribe.Name, s.logsParams
	}
	p := apitype.EventsSubscribeParams{Types: s.types}
	if !initial {
		since := s.lastSeq
		p.Since = &since
	}
	return protocol.EventsSubscribe.Name, p
}

// bind creates s on the agent over cn. The result is handled on the reader
// goroutine (bound), before any later frame.
func (c *Client) bind(ctx context.Context, cn *conn, s *Subscription, initial bool) error {
	c.mu.Lock()
	method, params := s.request(initial)
	c.mu.Unlock()
	_, err := cn.call(ctx, c.ids.Add(1), method, params, func(r reply, claimed bool) {
		c.bound(cn, s, r, claimed, initial)
	})
	return err
}

// bound records a subscribe result: route the agent's id to s, settle the
// resume point, and deliver notifications that overtook the result. A
// subscription nobody wants any more (its caller gave up, it was cancelled,
// or it is already live on cn) is cancelled on the agent instead.
func (c *Client) bound(cn *conn, s *Subscription, r reply, claimed, initial bool) {
	if r.err != nil {
		return
	}
	var res apitype.EventsSubscribeResult // a superset of SubResult
	if err := json.Unmarshal(r.result, &res); err != nil || res.Sub == "" {
		c.log.Warn("agent's subscribe result names no subscription", "err", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !claimed || s.cancelled.Load() || c.state == StateClosed || (s.conn == cn && s.serverID != "") {
		cn.send(c.ids.Add(1), protocol.SubCancel.Name, apitype.SubCancelParams{Sub: res.Sub})
		return
	}
	c.unbindSubLocked(s)
	s.conn, s.serverID = cn, res.Sub
	cn.subs[res.Sub] = s
	if initial {
		c.subs[s] = struct{}{}
	}
	switch {
	case s.kind == logsSub && !initial:
		s.logFloor = s.lastLogTime
	case s.kind == eventsSub && initial:
		s.lastSeq = res.Seq
	case s.kind == eventsSub && res.Resync:
		// Nothing is replayed; the state is reloaded instead, and anything
		// up to res.Seq is covered by that reload.
		s.lastSeq = res.Seq
		if s.onResync != nil {
			c.disp.push(func() {
				if !s.cancelled.Load() {
					s.onResync()
				}
			})
		}
	}
	for _, in := range cn.takeEarly(res.Sub) {
		c.routeLocked(cn, in)
	}
}

// Cancel ends the subscription (sub.cancel). No handler call starts after
// Cancel returns (one already running on the dispatcher finishes).
// Cancelling twice, or while disconnected, is fine; it may be called from
// the subscription's own handler.
func (s *Subscription) Cancel(ctx context.Context) error {
	if !s.cancelled.CompareAndSwap(false, true) {
		return nil
	}
	c := s.c
	c.mu.Lock()
	delete(c.subs, s)
	cn, id := s.conn, s.serverID
	c.unbindSubLocked(s)
	c.mu.Unlock()
	if cn == nil || cn.dead() {
		return nil // the agent drops a connection's subscriptions with it
	}
	_, err := cn.call(ctx, c.ids.Add(1), protocol.SubCancel.Name, apitype.SubCancelParams{Sub: id}, nil)
	var pe *protocol.Error
	if err == nil || errors.Is(err, ErrConnectionLost) || errors.Is(err, ErrClosed) ||
		errors.As(err, &pe) && pe.ErrorKind() == protocol.KindNotFound {
		return nil
	}
	return opError("cancel subscription", err)
}

func (c *Client) unbindSubLocked(s *Subscription) {
	if s.conn != nil && s.conn.subs[s.serverID] == s {
		delete(s.conn.subs, s.serverID)
	}
	s.conn, s.serverID = nil, ""
}

// unbindLocked forgets every binding on cn (it died, or its session did).
func (c *Client) unbindLocked(cn *conn) {
	for id, s := range cn.subs {
		if s.conn == cn {
			s.conn, s.serverID = nil, ""
		}
		delete(cn.subs, id)
	}
}

// route handles a notification on the reader goroutine: it only decodes,
// deduplicates and queues; handlers run on the dispatcher.
func (c *Client) route(cn *conn, in protocol.Incoming) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.routeLocked(cn, in)
}

func (c *Client) routeLocked(cn *conn, in protocol.Incoming) {
	switch in.Method {
	case protocol.NotifyLogs:
		var n apitype.LogsNotification
		if err := json.Unmarshal(in.Params, &n); err != nil {
			c.log.Warn("ignoring malformed logs notification", "err", err)
			return
		}
		if s := cn.subs[n.Sub]; s != nil && s.kind == logsSub {
			c.deliverLogsLocked(s, n)
			return
		}
	case protocol.NotifyEvent:
		var n apitype.EventNotification
		if err := json.Unmarshal(in.Params, &n); err != nil {
			c.log.Warn("ignoring malformed event notification", "err", err)
			return
		}
		if s := cn.subs[n.Sub]; s != nil && s.kind == eventsSub {
			c.deliverEventLocked(s, n)
			return
		}
	default:
		return // unknown notifications are ignored (PROTOCOL.md: additive changes)
	}
	if !cn.holdEarly(in) {
		c.log.Debug("dropping notification for an unknown subscription", "method", in.Method)
	}
}

func (c *Client) deliverLogsLocked(s *Subscription, n apitype.LogsNotification) {
	if s.cancelled.Load() {
		return
	}
	if !s.logFloor.IsZero() {
		kept := n.Lines[:0:0]
		for _, l := range n.Lines {
			if s.logFloor.IsZero() || l.Time.After(s.logFloor) {
				s.logFloor = time.Time{} // past the repeats: keep everything from here on
				kept = append(kept, l)
			}
		}
		n.Lines = kept
	}
	for _, l := range n.Lines {
		if l.Time.After(s.lastLogTime) {
			s.lastLogTime = l.Time
		}
	}
	if len(n.Lines) == 0 && n.Dropped == 0 && s.dropped == 0 {
		return
	}
	n.Dropped += s.dropped
	if c.disp.pushLogs(func() {
		if !s.cancelled.Load() {
			s.onLogs(n)
		}
	}) {
		s.dropped = 0
	} else {
		s.dropped = n.Dropped + uint64(len(n.Lines))
	}
}

func (c *Client) deliverEventLocked(s *Subscription, n apitype.EventNotification) {
	if s.cancelled.Load() {
		return
	}
	if n.Seq != 0 && n.Seq <= s.lastSeq {
		return // already delivered before the reconnect
	}
	s.lastSeq = max(s.lastSeq, n.Seq)
	c.disp.push(func() {
		if !s.cancelled.Load() {
			s.onEvent(n)
		}
	})
}
