package bridge

import (
	"fmt"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// LogsBatch is the payload of a logs:batch event. Dropped counts lines lost
// since the previous batch, on the agent's side or here. Profile names the
// agent the lines came from.
type LogsBatch struct {
	Sub     string            `json:"sub"`
	Profile string            `json:"profile"`
	Lines   []apitype.LogLine `json:"lines"`
	Dropped uint64            `json:"dropped"`
}

// EventsBatch is the payload of an events:batch event; Profile names the
// agent the events came from.
type EventsBatch struct {
	Sub     string                      `json:"sub"`
	Profile string                      `json:"profile"`
	Events  []apitype.EventNotification `json:"events"`
}

// Resync is the payload of an events:resync event: the agent could not
// replay what was missed, so the UI reloads what it shows of it.
type Resync struct {
	Sub     string `json:"sub"`
	Profile string `json:"profile"`
}

// stream is one UI subscription: the client's subscription and the batcher
// that turns its notifications into UI events. It belongs to one agent and
// ends with that agent's logout or disconnection.
type stream struct {
	agent string
	sub   *agentclient.Subscription
	stop  func()
}

// SubscribeLogs starts a live log stream from the current agent; lines
// arrive as logs:batch events with the returned id.
func (a *App) SubscribeLogs(params apitype.LogsSubscribeParams) (string, error) {
	name, c, err := a.currentAgent()
	if err != nil {
		return "", err
	}
	id := a.nextStreamID("logs")
	b := newBatcher(a.cfg.MaxBatch, maxPendingLogs, func(lines []apitype.LogLine, dropped uint64) {
		a.emit(EventLogsBatch, LogsBatch{Sub: id, Profile: name, Lines: lines, Dropped: dropped})
	})
	ctx, cancel := a.callCtx()
	defer cancel()
	sub, err := c.SubscribeLogs(ctx, params, func(n apitype.LogsNotification) { b.add(n.Lines, n.Dropped) })
	if err != nil {
		return "", err
	}
	return keepStream(a, id, name, c, sub, b), nil
}

// SubscribeEvents starts an event stream from the current agent for types
// (all when empty); events arrive as events:batch events with the returned id.
func (a *App) SubscribeEvents(types []string) (string, error) {
	name, c, err := a.currentAgent()
	if err != nil {
		return "", err
	}
	return a.subscribeEvents(name, c, types)
}

// SubscribeAgentEvents is SubscribeEvents on the named agent, current or
// not: the fleet's notifications come from every agent.
func (a *App) SubscribeAgentEvents(name string, types []string) (string, error) {
	c, err := a.clientOf(name)
	if err != nil {
		return "", err
	}
	return a.subscribeEvents(name, c, types)
}

func (a *App) subscribeEvents(name string, c *agentclient.Client, types []string) (string, error) {
	id := a.nextStreamID("events")
	// Events are never dropped (the UI reloads on them), so no pending cap.
	b := newBatcher(a.cfg.MaxBatch, 0, func(events []apitype.EventNotification, _ uint64) {
		a.emit(EventEventsBatch, EventsBatch{Sub: id, Profile: name, Events: events})
	})
	ctx, cancel := a.callCtx()
	defer cancel()
	sub, err := c.SubscribeEvents(ctx, types,
		func(n apitype.EventNotification) { b.add([]apitype.EventNotification{n}, 0) },
		func() {
			// Events before the gap go out first, so the UI reloads after them.
			b.flush(false)
			a.emit(EventEventsResync, Resync{Sub: id, Profile: name})
		})
	if err != nil {
		return "", err
	}
	return keepStream(a, id, name, c, sub, b), nil
}

// Unsubscribe ends a stream; unknown ids are fine (the stream may have
// ended with a logout or disconnect).
func (a *App) Unsubscribe(id string) error {
	a.mu.Lock()
	s := a.streams[id]
	delete(a.streams, id)
	a.mu.Unlock()
	if s == nil {
		return nil
	}
	s.stop()
	ctx, cancel := a.callCtx()
	defer cancel()
	if err := s.sub.Cancel(ctx); err != nil {
		return fmt.Errorf("unsubscribe %s: %w", id, err)
	}
	return nil
}

func (a *App) nextStreamID(kind string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.streamSeq++
	return fmt.Sprintf("%s-%d", kind, a.streamSeq)
}

// keepStream registers a stream of the named agent and starts its batcher.
// A client replaced or closed while subscribing gets its stream cancelled
// instead.
func keepStream[T any](a *App, id, agent string, c *agentclient.Client, sub *agentclient.Subscription, b *batcher[T]) string {
	go b.run(a.cfg.FlushInterval)
	s := &stream{agent: agent, sub: sub, stop: b.close}
	a.mu.Lock()
	if e := a.agents[agent]; e == nil || e.client != c {
		a.mu.Unlock()
		s.stop()
		ctx, cancel := a.callCtx()
		defer cancel()
		_ = sub.Cancel(ctx)
		return id
	}
	a.streams[id] = s
	a.mu.Unlock()
	return id
}

// takeStreamsLocked removes and returns the named agent's streams.
func (a *App) takeStreamsLocked(agent string) []*stream {
	var out []*stream
	for id, s := range a.streams {
		if s.agent == agent {
			out = append(out, s)
			delete(a.streams, id)
		}
	}
	return out
}

// batcher collects items from the client's dispatcher and hands them to
// emit in batches of at most max items, at most once per interval unless a
// full batch is waiting. Past limit pending items (0: no limit) new items
// are dropped and counted.
type batcher[T any] struct {
	max, limit int
	emit       func([]T, uint64)

	mu      sync.Mutex
	pending []T
	dropped uint64
	closed  bool

	emitMu sync.Mutex // one flush at a time, so batches keep their order
	full   chan struct{}
	done   chan struct{}
	once   sync.Once
}

func newBatcher[T any](max, limit int, emit func([]T, uint64)) *batcher[T] {
	return &batcher[T]{max: max, limit: limit, emit: emit, full: make(chan struct{}, 1), done: make(chan struct{})}
}

func (b *batcher[T]) add(items []T, dropped uint64) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.dropped += dropped
	keep := len(items)
	if b.limit > 0 {
		keep = min(keep, max(0, b.limit-len(b.pending)))
	}
	b.pending = append(b.pending, items[:keep]...)
	b.dropped += uint64(len(items) - keep)
	full := len(b.pending) >= b.max
	b.mu.Unlock()
	if full {
		select {
		case b.full <- struct{}{}:
		default:
		}
	}
}

func (b *batcher[T]) run(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case <-b.full:
			b.flush(true)
		case <-t.C:
			b.flush(false)
		}
	}
}

// flush emits pending items in batches of at most max; with fullOnly, only
// full batches go (the rest waits for the tick).
func (b *batcher[T]) flush(fullOnly bool) {
	b.emitMu.Lock()
	defer b.emitMu.Unlock()
	for {
		b.mu.Lock()
		n := min(len(b.pending), b.max)
		if b.closed || (n == 0 && b.dropped == 0) || (fullOnly && n < b.max) {
			b.mu.Unlock()
			return
		}
		batch := make([]T, n)
		copy(batch, b.pending)
		b.pending = append(b.pending[:0], b.pending[n:]...)
		dropped := b.dropped
		b.dropped = 0
		b.mu.Unlock()
		b.emit(batch, dropped)
	}
}

// close stops the batcher; pending items are discarded (the UI asked to
// stop, or the stream ended). Safe to call more than once.
func (b *batcher[T]) close() {
	b.once.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.pending = nil
		b.mu.Unlock()
		close(b.done)
	})
}
