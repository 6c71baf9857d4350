package logging

import (
	"sync"

	"github.com/rs/zerolog"
)

// slotSize is the storage each ring slot and queue slot owns up front. A
// typical sync line is 200-300 bytes; a longer one borrows a heap buffer for
// as long as it stays in its slot.
const slotSize = 512

// MaxLineBytes is the longest line the ring and the tap keep. Longer lines
// still reach the file; subscribers count them as dropped. Without a bound a
// burst of huge lines would pin RingSize times their size in memory.
const MaxLineBytes = 64 << 10

// slots is a fixed set of reusable line buffers carved out of one allocation.
type slots struct {
	backing []byte
	lines   [][]byte
	levels  []zerolog.Level
}

func newSlots(n int) slots {
	s := slots{
		backing: make([]byte, n*slotSize),
		lines:   make([][]byte, n),
		levels:  make([]zerolog.Level, n),
	}
	for i := range s.lines {
		s.lines[i] = s.own(i)
	}
	return s
}

// own is slot i's preallocated storage, empty.
func (s *slots) own(i int) []byte {
	return s.backing[i*slotSize : i*slotSize : (i+1)*slotSize]
}

// set copies p into slot i, reusing the slot's storage whenever p fits.
func (s *slots) set(i int, level zerolog.Level, p []byte) {
	buf := s.lines[i]
	if len(p) <= slotSize {
		buf = s.own(i) // also returns a borrowed big buffer to the GC
	}
	s.lines[i] = append(buf[:0], p...)
	s.levels[i] = level
}

// Ring holds the most recent lines in fixed storage. It is safe for
// concurrent use. Its mutex also orders the Tap: a line enters the ring and
// the subscribers' queues in one critical section, which makes a backlog and
// the live lines after it exact, without gaps or repeats.
type Ring struct {
	mu    sync.Mutex
	slots slots
	next  int // slot the next line goes to
	n     int // lines held, up to len(slots.lines)
}

func newRing(size int) *Ring {
	return &Ring{slots: newSlots(size)}
}

// Cap is the number of lines the ring holds when full.
func (r *Ring) Cap() int { return len(r.slots.lines) }

// Len is the number of lines held.
func (r *Ring) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *Ring) addLocked(level zerolog.Level, p []byte) {
	if len(p) > MaxLineBytes {
		return
	}
	r.slots.set(r.next, level, p)
	r.next = (r.next + 1) % len(r.slots.lines)
	if r.n < len(r.slots.lines) {
		r.n++
	}
}

// Snapshot returns copies of the newest n lines (all when n <= 0), oldest
// first. Each is one JSON object ending in a newline.
func (r *Ring) Snapshot(n int) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	idx := r.newestLocked(n, func(int) bool { return true })
	out := make([][]byte, len(idx))
	for i, j := range idx {
		out[i] = append([]byte(nil), r.slots.lines[j]...)
	}
	return out
}

// Lines is Snapshot parsed; lines that do not parse are skipped.
func (r *Ring) Lines(n int) []Line {
	raw := r.Snapshot(n)
	lines := make([]Line, 0, len(raw))
	for _, p := range raw {
		if line, err := ParseLine(p); err == nil {
			lines = append(lines, line)
		}
	}
	return lines
}

// newestLocked returns the slot indexes of the newest n lines that match
// (all matching when n <= 0), oldest first.
func (r *Ring) newestLocked(n int, match func(slot int) bool) []int {
	if n <= 0 || n > r.n {
		n = r.n
	}
	idx := make([]int, 0, n)
	size := len(r.slots.lines)
	for k := 1; k <= r.n && len(idx) < n; k++ {
		j := (r.next - k + size) % size
		if match(j) {
			idx = append(idx, j)
		}
	}
	for a, b := 0, len(idx)-1; a < b; a, b = a+1, b-1 {
		idx[a], idx[b] = idx[b], idx[a]
	}
	return idx
}
