package rpc

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/logging"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

const (
	// logBatch is how long a log subscription gathers lines before sending:
	// fewer, larger frames cost less on both ends.
	logBatch = 100 * time.Millisecond
	// maxLinesPerFrame keeps one notification well under the client's limits.
	maxLinesPerFrame = 500
	maxBacklog       = 5000
	eventQueue       = 1024
	maxSubsPerConn   = 32
)

func kinds() []apitype.Kind {
	specs := connector.Kinds()
	out := make([]apitype.Kind, 0, len(specs))
	for _, s := range specs {
		out = append(out, s.Schema())
	}
	return out
}

// beforeAddSub, when set (by tests only), is called as a subscription is
// about to be recorded, after the call was let in: a test holds it there to
// end the session meanwhile, every time rather than once in many runs.
var beforeAddSub atomic.Pointer[func()]

// aroundNotifySub, when set (by tests only), is called as a subscription's
// notification is about to be queued, and what it returns once it was (or
// was not): a test holds one there while the session ends.
var aroundNotifySub atomic.Pointer[func() func()]

// addSub records a subscription's cancel function under a new id, if the
// session the call was let in with is still the connection's. Calls on one
// connection run concurrently, so a session.logout (or a session ended
// elsewhere) may have cleared the subscriptions since dispatch checked the
// session: one recorded now would send events and log lines to a connection
// that is no longer logged in, and count against its cap. The check is made
// under c.mu, which setSession takes before the subscriptions are cleared.
func (c *conn) addSub(call *Call, cancel func()) (string, error) {
	if hook := beforeAddSub.Load(); hook != nil {
		(*hook)()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// The local admin channel has no session: its caller is the operating
	// system's user for as long as the connection lasts.
	if c.localAccount == nil && (call.Token == "" || c.token != call.Token) {
		return "", protocol.Errorf(protocol.KindUnauthorized, "the session ended while subscribing: log in again")
	}
	if len(c.subs) >= maxSubsPerConn {
		return "", protocol.Errorf(protocol.KindRateLimited, "at most %d subscriptions per connection", maxSubsPerConn)
	}
	id := subID(c)
	c.subs[id] = cancel
	return id, nil
}

func (s *Server) registerStreams() {
	Handle(s, protocol.LogsSubscribe, func(ctx context.Context, c *Call, p apitype.LogsSubscribeParams) (apitype.SubResult, error) {
		level, err := parseLevel("minLevel", p.MinLevel)
		if err != nil {
			return apitype.SubResult{}, err
		}
		if p.Backlog < 0 || p.Backlog > maxBacklog {
			return apitype.SubResult{}, protocol.Invalid("backlog", "backlog must be between 0 and %d", maxBacklog)
		}
		sub := s.deps.Logs.Tap().Subscribe(logging.Filter{MinLevel: level, Process: p.Process, System: p.System}, 2*maxLinesPerFrame, p.Backlog)
		id, err := c.conn.addSub(c, sub.Close)
		if err != nil {
			sub.Close()
			return apitype.SubResult{}, err
		}
		go c.conn.forwardLogs(id, sub)
		return apitype.SubResult{Sub: id}, nil
	})
	Handle(s, protocol.LogsQuery, func(ctx context.Context, c *Call, p apitype.LogsQueryParams) (apitype.LogsQueryResult, error) {
		level, err := parseLevel("minLevel", p.MinLevel)
		if err != nil {
			return apitype.LogsQueryResult{}, err
		}
		if err := checkLimit(p.Limit, logging.MaxQueryLimit, logging.DefaultQueryLimit); err != nil {
			return apitype.LogsQueryResult{}, err
		}
		q := logging.QueryOptions{MinLevel: level, Text: p.Text, Limit: p.Limit}
		if p.Since != nil {
			q.Since = *p.Since
		}
		if p.Until != nil {
			q.Until = *p.Until
		}
		lines, err := s.deps.Logs.Query(q)
		if err != nil {
			return apitype.LogsQueryResult{}, err
		}
		return apitype.LogsQueryResult{Lines: toLogLines(lines)}, nil
	})
	Handle(s, protocol.EventsSubscribe, func(ctx context.Context, c *Call, p apitype.EventsSubscribeParams) (apitype.EventsSubscribeResult, error) {
		if len(p.Types) > 64 {
			return apitype.EventsSubscribeResult{}, protocol.Invalid("types", "at most 64 types")
		}
		sub, seq, resync := s.deps.Events.Subscribe(p.Types, p.Since, eventQueue)
		id, err := c.conn.addSub(c, sub.Close)
		if err != nil {
			sub.Close()
			return apitype.EventsSubscribeResult{}, err
		}
		go c.conn.forwardEvents(id, sub)
		return apitype.EventsSubscribeResult{Sub: id, Seq: seq, Resync: resync}, nil
	})
	Handle(s, protocol.SubCancel, func(ctx context.Context, c *Call, p apitype.SubCancelParams) (apitype.Empty, error) {
		c.conn.mu.Lock()
		cancel, ok := c.conn.subs[p.Sub]
		delete(c.conn.subs, p.Sub)
		c.conn.mu.Unlock()
		if !ok {
			return apitype.Empty{}, protocol.Errorf(protocol.KindNotFound, "no subscription %q on this connection", truncate(p.Sub, 32))
		}
		cancel()
		return apitype.Empty{}, nil
	})
}

// forwardLogs sends a subscription's lines in batches until it is cancelled
// or the connection ends. The tap never waits for us: what does not fit our
// queue is dropped there and reported here as dropped.
func (c *conn) forwardLogs(id string, sub *logging.Subscription) {
	defer sub.Close()
	for {
		select {
		case <-c.closed:
			return
		case _, ok := <-sub.Ready():
			if !ok {
				lines, dropped := sub.Next()
				c.sendLogs(id, lines, dropped)
				return
			}
		}
		// Let a batch gather: fewer frames for a chatty log.
		select {
		case <-c.closed:
			return
		case <-time.After(logBatch):
		}
		lines, dropped := sub.Next()
		c.sendLogs(id, lines, dropped)
	}
}

func (c *conn) sendLogs(id string, lines []logging.Line, dropped uint64) {
	for len(lines) > 0 || dropped > 0 {
		n := min(len(lines), maxLinesPerFrame)
		c.notifySub(id, protocol.NotifyLogs, apitype.LogsNotification{Sub: id, Lines: toLogLines(lines[:n]), Dropped: dropped})
		lines, dropped = lines[n:], 0
	}
}

func (c *conn) forwardEvents(id string, sub *events.Sub) {
	defer sub.Close()
	for {
		select {
		case <-c.closed:
			return
		case ev, ok := <-sub.C():
			if !ok {
				if sub.Overflowed() {
					// The client fell too far behind: it reconnects and
					// resumes from its last sequence number.
					c.closeWith(websocket.ClosePolicyViolation, "event queue overflow")
				}
				return
			}
			c.notifySub(id, protocol.NotifyEvent, apitype.EventNotification{Sub: id, Seq: ev.Seq, Time: ev.Time, Type: ev.Type, Data: ev.Data})
		}
	}
}
