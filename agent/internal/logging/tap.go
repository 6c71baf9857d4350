package logging

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/rs/zerolog"
)

// Queue lengths for Subscribe. Each subscription owns two queues (one the
// writer fills, one the reader holds) of queueLen lines and queueLen*512
// bytes (at least MaxLineBytes), so the maximum bounds a subscriber at
// 2*8192*512 B = 8 MiB.
const (
	DefaultQueueLen = 256
	MaxQueueLen     = 8192
)

// Filter selects the lines a subscriber receives. Empty strings match
// anything.
type Filter struct {
	// MinLevel is the lowest level delivered. The zero value is
	// zerolog.DebugLevel; pass zerolog.TraceLevel to receive everything.
	MinLevel zerolog.Level
	// Process and System match the process and system fields exactly.
	Process string
	System  string
}

// Tap fans lines out to live subscribers. Publishing never waits for a
// subscriber: a line that does not fit a subscriber's queue is dropped for
// that subscriber alone and counted.
type Tap struct {
	ring *Ring // its mutex guards the fields below and orders publishing
	subs []*Subscription
	done bool
}

func newTap(ring *Ring) *Tap { return &Tap{ring: ring} }

// Subscribers is the number of open subscriptions.
func (t *Tap) Subscribers() int {
	t.ring.mu.Lock()
	defer t.ring.mu.Unlock()
	return len(t.subs)
}

// Subscribe opens a subscription with a queue of queueLen lines (<= 0 means
// DefaultQueueLen; capped at MaxQueueLen). Its queue starts with up to
// backlog of the newest matching lines from the ring (capped at queueLen),
// followed without gap or repeat by live lines. After the Logging is closed
// it returns a subscription that is already closed.
func (t *Tap) Subscribe(f Filter, queueLen, backlog int) *Subscription {
	if queueLen <= 0 {
		queueLen = DefaultQueueLen
	}
	queueLen = min(queueLen, MaxQueueLen)
	s := &Subscription{
		tap:    t,
		filter: f,
		ready:  make(chan struct{}, 1),
		in:     newQueue(queueLen),
		out:    newQueue(queueLen),
		lines:  make([][]byte, 0, queueLen),
	}
	r := t.ring
	r.mu.Lock()
	defer r.mu.Unlock()
	if t.done {
		s.endLocked()
		return s
	}
	if backlog > 0 {
		idx := r.newestLocked(min(backlog, queueLen), func(j int) bool {
			var m lineMeta
			return s.matches(r.slots.levels[j], r.slots.lines[j], &m)
		})
		for _, j := range idx {
			s.in.push(r.slots.lines[j])
		}
		if len(s.in.ends) > 0 {
			s.ready <- struct{}{}
		}
	}
	t.subs = append(t.subs, s)
	return s
}

// publish puts one line into the ring and every matching subscriber's queue.
func (t *Tap) publish(level zerolog.Level, p []byte) {
	r := t.ring
	r.mu.Lock()
	r.addLocked(level, p)
	var m lineMeta // filled on demand, once per line
	for _, s := range t.subs {
		s.offer(level, p, &m)
	}
	r.mu.Unlock()
}

func (t *Tap) close() {
	t.ring.mu.Lock()
	defer t.ring.mu.Unlock()
	t.done = true
	for _, s := range t.subs {
		s.endLocked()
	}
	t.subs = nil
}

// Subscription is one subscriber's bounded queue. One goroutine reads it:
// wait on Ready, then Drain or Next.
type Subscription struct {
	tap    *Tap
	filter Filter
	ready  chan struct{}

	// Guarded by the ring's mutex, which publishing holds anyway: one lock
	// per line however many subscribers there are.
	in      queue // filled by the writer
	dropped uint64
	closed  bool

	// The reader's own: the queue handed over by the last Drain, and the
	// slice of its lines Drain returned.
	out   queue
	lines [][]byte
}

// Ready receives a value when lines or a drop count are waiting, and is
// closed when the subscription ends. Readers that forward lines over the
// network should let a short interval pass after a wake-up before draining:
// batches are cheaper for the writer, the reader and the client.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Drain hands over the queued lines (oldest first, each one JSON object and
// a newline) and the number of lines dropped since the previous Drain, and
// resets that count. The slices stay valid until the next Drain or Next on
// this subscription; copy what must live longer.
func (s *Subscription) Drain() (lines [][]byte, dropped uint64) {
	mu := &s.tap.ring.mu
	mu.Lock()
	// Swapping the queues keeps the writer's wait O(1), however long the
	// reader then takes over the lines.
	s.in, s.out = s.out, s.in
	s.in.reset()
	dropped, s.dropped = s.dropped, 0
	mu.Unlock()
	s.lines = s.lines[:0]
	start := 0
	for _, end := range s.out.ends {
		s.lines = append(s.lines, s.out.buf[start:end:end])
		start = end
	}
	return s.lines, dropped
}

// Next is Drain with the lines parsed. A line that does not parse (which
// zerolog does not produce) is counted as dropped, so no loss goes unreported.
func (s *Subscription) Next() (lines []Line, dropped uint64) {
	raw, dropped := s.Drain()
	lines = make([]Line, 0, len(raw))
	for _, p := range raw {
		line, err := ParseLine(p)
		if err != nil {
			dropped++
			continue
		}
		lines = append(lines, line)
	}
	return lines, dropped
}

// Dropped reports, without resetting, how many lines were dropped since the
// last Drain.
func (s *Subscription) Dropped() uint64 {
	s.tap.ring.mu.Lock()
	defer s.tap.ring.mu.Unlock()
	return s.dropped
}

// Close ends the subscription and closes Ready. It is idempotent and safe
// to call concurrently with logging; lines already queued can still be
// drained.
func (s *Subscription) Close() {
	t := s.tap
	t.ring.mu.Lock()
	defer t.ring.mu.Unlock()
	t.subs = slices.DeleteFunc(t.subs, func(x *Subscription) bool { return x == s })
	s.endLocked()
}

// endLocked closes Ready once. The caller holds the ring's mutex, which
// publishing also holds, so no publisher can signal the closed channel.
func (s *Subscription) endLocked() {
	if !s.closed {
		s.closed = true
		close(s.ready)
	}
}

// offer queues p if it matches; the caller holds the ring's mutex.
func (s *Subscription) offer(level zerolog.Level, p []byte, m *lineMeta) {
	if !s.matches(level, p, m) {
		return
	}
	idle := len(s.in.ends) == 0 && s.dropped == 0
	if len(p) > MaxLineBytes || !s.in.push(p) {
		s.dropped++
	}
	// Signal only the step from nothing-pending to something-pending: one
	// wake-up per batch, not per line.
	if idle {
		select {
		case s.ready <- struct{}{}:
		default:
		}
	}
}

func (s *Subscription) matches(level zerolog.Level, p []byte, m *lineMeta) bool {
	f := &s.filter
	if level < f.MinLevel {
		return false
	}
	if f.Process == "" && f.System == "" {
		return true
	}
	if !m.scanned {
		m.scan(p)
	}
	return (f.Process == "" || m.process.equals(f.Process)) &&
		(f.System == "" || m.system.equals(f.System))
}

// queue is a subscriber's batch of lines packed back to back in one
// reusable buffer. A batch then touches only the memory its lines take,
// which keeps the copy on the write path in cache.
type queue struct {
	buf  []byte // capacity fixed at creation
	ends []int  // where each line ends in buf; capacity = queue length
}

func newQueue(lines int) queue {
	return queue{
		buf:  make([]byte, 0, max(lines*slotSize, MaxLineBytes)),
		ends: make([]int, 0, lines),
	}
}

// push copies p in; it reports false when the queue is full.
func (q *queue) push(p []byte) bool {
	if len(q.ends) == cap(q.ends) || len(q.buf)+len(p) > cap(q.buf) {
		return false
	}
	q.buf = append(q.buf, p...)
	q.ends = append(q.ends, len(q.buf))
	return true
}

func (q *queue) reset() {
	q.buf = q.buf[:0]
	q.ends = q.ends[:0]
}

// lineMeta holds the filterable fields of one encoded line, found by a byte
// scan instead of a JSON decode so that filtering stays allocation-free.
type lineMeta struct {
	scanned         bool
	process, system rawString
}

var (
	keyProcess = []byte(`"` + FieldProcess + `":"`)
	keySystem  = []byte(`"` + FieldSystem + `":"`)
)

func (m *lineMeta) scan(p []byte) {
	m.scanned = true
	m.process = findString(p, keyProcess)
	m.system = findString(p, keySystem)
}

// rawString is a JSON string value as it appears in the line, quotes
// included.
type rawString struct {
	raw     []byte
	escaped bool
	decoded *string
}

// findString locates the string value of the first `"key":"` in p. Inside a
// JSON string every quote is escaped, so the unescaped pattern can only be
// a key. Non-string values are not matched.
func findString(p, key []byte) rawString {
	i := bytes.Index(p, key)
	if i < 0 {
		return rawString{}
	}
	start := i + len(key) - 1 // the opening quote
	escaped := false
	for j := start + 1; j < len(p); j++ {
		switch p[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return rawString{raw: p[start : j+1], escaped: escaped}
		}
	}
	return rawString{}
}

func (r *rawString) equals(want string) bool {
	if r.raw == nil {
		return false
	}
	if !r.escaped {
		return string(r.raw[1:len(r.raw)-1]) == want
	}
	// Values needing escapes are rare; decoding them allocates, once per line.
	if r.decoded == nil {
		var s string
		if err := json.Unmarshal(r.raw, &s); err != nil {
			return false
		}
		r.decoded = &s
	}
	return *r.decoded == want
}
