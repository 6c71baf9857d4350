// Package events is the agent's event bus: every event gets the next number
// of one global sequence and stays in a ring for a while, so a client that
// reconnects can resume from the last sequence number it saw, or learn that
// it must reload its state (resync) when that number has left the ring.
package events

import (
	"encoding/json"
	"slices"
	"sync"
	"time"
)

// Event is one published event.
type Event struct {
	Seq  uint64          `json:"seq"`
	Time time.Time       `json:"time"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Bus publishes events to subscribers.
type Bus struct {
	mu    sync.Mutex
	now   func() time.Time
	seq   uint64
	ring  []Event // ring[(seq-1) % len] holds event seq
	count int     // events in the ring
	subs  map[*Sub]struct{}
}

// New returns a bus whose ring keeps the last ringSize events.
func New(ringSize int, now func() time.Time) *Bus {
	if ringSize < 1 {
		ringSize = 1
	}
	if now == nil {
		now = time.Now
	}
	// Sequence numbers start at the boot time in microseconds, so they keep
	// growing across restarts: a client resuming with a number from before
	// a restart is always below the ring and told to resync, never replayed
	// the wrong events. (2^53 microseconds is centuries away.)
	start := now().UnixMicro()
	if start < 0 {
		start = 0
	}
	return &Bus{now: now, seq: uint64(start), ring: make([]Event, ringSize), subs: map[*Sub]struct{}{}}
}

// Seq is the sequence number of the latest event (0 before any).
func (b *Bus) Seq() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq
}

// Publish assigns the next sequence number and delivers the event without
// blocking: a subscriber whose queue is full is closed as overflowed, and
// resumes from its last sequence number after reconnecting.
func (b *Bus) Publish(typ string, data any) uint64 {
	raw, err := json.Marshal(data)
	if err != nil {
		raw = nil // payloads are our own structs; an error here is a bug we must not crash on
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	ev := Event{Seq: b.seq, Time: b.now().UTC(), Type: typ, Data: raw}
	b.ring[(b.seq-1)%uint64(len(b.ring))] = ev
	if b.count < len(b.ring) {
		b.count++
	}
	for s := range b.subs {
		if !s.wants(typ) {
			continue
		}
		select {
		case s.ch <- ev:
		default:
			s.overflowed = true
			b.closeLocked(s)
		}
	}
	return ev.Seq
}

// Sub is one subscription.
type Sub struct {
	bus        *Bus
	types      []string
	ch         chan Event
	closed     bool
	overflowed bool
}

func (s *Sub) wants(typ string) bool { return len(s.types) == 0 || slices.Contains(s.types, typ) }

// C delivers events in sequence order; it is closed when the subscription ends.
func (s *Sub) C() <-chan Event { return s.ch }

// Overflowed reports whether the subscription ended because its queue filled.
func (s *Sub) Overflowed() bool {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	return s.overflowed
}

// Close ends the subscription; it is idempotent.
func (s *Sub) Close() {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	s.bus.closeLocked(s)
}

func (b *Bus) closeLocked(s *Sub) {
	if s.closed {
		return
	}
	s.closed = true
	delete(b.subs, s)
	close(s.ch)
}

// Subscribe starts a subscription for types (all when empty) with a queue
// of queueLen events. With since set, events after it are replayed first; if
// since is older than the ring holds, nothing is replayed and resync is true.
// seq is the sequence number the subscription starts after.
func (b *Bus) Subscribe(types []string, since *uint64, queueLen int) (sub *Sub, seq uint64, resync bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var replay []Event
	if since != nil && *since < b.seq {
		oldest := b.seq - uint64(b.count) + 1
		if *since+1 < oldest {
			resync = true
		} else {
			for n := *since + 1; n <= b.seq; n++ {
				ev := b.ring[(n-1)%uint64(len(b.ring))]
				if len(types) == 0 || slices.Contains(types, ev.Type) {
					replay = append(replay, ev)
				}
			}
		}
	} else if since != nil && *since > b.seq {
		// A number from before an agent restart: the client's state is stale.
		resync = true
	}
	if queueLen < len(replay)+16 {
		queueLen = len(replay) + 16
	}
	s := &Sub{bus: b, types: slices.Clone(types), ch: make(chan Event, queueLen)}
	for _, ev := range replay {
		s.ch <- ev
	}
	b.subs[s] = struct{}{}
	return s, b.seq, resync
}
