package auth

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// ErrBusy refuses a login at once, before any password is checked, when its
// address already has too many attempts waiting: guessing from one address
// cannot queue up work, and the answer says to slow down (rate_limited).
var ErrBusy = errors.New("too many login attempts from this address are waiting: try again in a few seconds")

// gate schedules the argon2 work, which is what a login flood costs the
// agent. Four rules keep a logged-in administrator's calls and an honest
// login fast under a flood:
//   - few hashes at a time (slots), so that some CPU always stays free for
//     everything else the agent does;
//   - one hash at a time per address, the rest of an address's attempts
//     wait in line (at most perAddr) or are refused at once (ErrBusy);
//   - when a slot frees, addresses without recent failures go first, and
//     within each class addresses take turns, so fifty guessers queue
//     behind the administrator, not in front;
//   - one more slot is kept for addresses without recent failures, so an
//     honest login never waits for a guess's hash to finish either, and
//     while such a login is hashing no guess starts, so it has the CPU.
type gate struct {
	mu      sync.Mutex
	free    int // slots anyone may take
	spare   int // slots only attempts from addresses without failures may take
	clean   int // attempts from addresses without failures that are hashing
	perAddr int // waiting attempts allowed per address
	total   int // waiting attempts allowed in all
	waiting int
	addrs   map[string]*addrLine
	ready   [2][]*addrLine // addresses whose next attempt may start: [clean, suspect]
}

// addrLine is one address's attempts: at most one running, the rest waiting.
type addrLine struct {
	addr    string
	running bool
	spare   bool // its running attempt holds a spare slot
	clean   bool // its running attempt is from an address without failures
	queued  bool // in one of the ready lists
	waiters []*waiter
}

type waiter struct {
	ch      chan struct{}
	granted bool
	suspect bool
}

func newGate(slots, spare, perAddr, total int) *gate {
	return &gate{free: slots, spare: spare, perAddr: perAddr, total: total, addrs: map[string]*addrLine{}}
}

// takeLocked gives l a slot if one is free for its class.
func (g *gate) takeLocked(l *addrLine, suspect bool) bool {
	switch {
	case suspect && (g.free == 0 || g.clean > 0):
		return false
	case g.free > 0:
		g.free--
	case g.spare > 0:
		g.spare--
		l.spare = true
	default:
		return false
	}
	if !suspect {
		g.clean++
		l.clean = true
	}
	l.running = true
	return true
}

// acquire waits for a slot for one attempt from addr; suspect puts it
// behind attempts from addresses without recent failures. The returned
// function gives the slot back.
func (g *gate) acquire(ctx context.Context, addr string, suspect bool) (func(), error) {
	g.mu.Lock()
	l := g.addrs[addr]
	if l == nil {
		l = &addrLine{addr: addr}
		g.addrs[addr] = l
	}
	if !l.running && len(l.waiters) == 0 && g.takeLocked(l, suspect) {
		g.mu.Unlock()
		return func() { g.release(l) }, nil
	}
	if len(l.waiters) >= g.perAddr || g.waiting >= g.total {
		g.forgetLocked(l)
		g.mu.Unlock()
		return nil, ErrBusy
	}
	w := &waiter{ch: make(chan struct{}), suspect: suspect}
	l.waiters = append(l.waiters, w)
	g.waiting++
	g.queueLocked(l)
	g.dispatchLocked()
	g.mu.Unlock()

	select {
	case <-w.ch:
		return func() { g.release(l) }, nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	if w.granted {
		// Granted while the context ended: give the slot to the next one.
		g.mu.Unlock()
		g.release(l)
		return nil, ctx.Err()
	}
	if i := slices.Index(l.waiters, w); i >= 0 {
		l.waiters = slices.Delete(l.waiters, i, i+1)
		g.waiting--
	}
	if len(l.waiters) == 0 {
		g.unqueueLocked(l)
	}
	g.forgetLocked(l)
	g.mu.Unlock()
	return nil, ctx.Err()
}

func (g *gate) release(l *addrLine) {
	g.mu.Lock()
	defer g.mu.Unlock()
	l.running = false
	if l.spare {
		g.spare++
		l.spare = false
	} else {
		g.free++
	}
	if l.clean {
		g.clean--
		l.clean = false
	}
	g.queueLocked(l)
	g.dispatchLocked()
	g.forgetLocked(l)
}

// queueLocked puts an address with waiting attempts and nothing running in
// line, in the class of its first waiting attempt.
func (g *gate) queueLocked(l *addrLine) {
	if l.queued || l.running || len(l.waiters) == 0 {
		return
	}
	class := 0
	if l.waiters[0].suspect {
		class = 1
	}
	g.ready[class] = append(g.ready[class], l)
	l.queued = true
}

func (g *gate) unqueueLocked(l *addrLine) {
	if !l.queued {
		return
	}
	for c := range g.ready {
		if i := slices.Index(g.ready[c], l); i >= 0 {
			g.ready[c] = slices.Delete(g.ready[c], i, i+1)
		}
	}
	l.queued = false
}

// dispatchLocked starts waiting attempts while slots are free: clean
// addresses first (in the spare slots too), each class in turn order; an
// address that ran goes to the back of its class when it has more waiting.
func (g *gate) dispatchLocked() {
	for {
		c := 0
		if len(g.ready[0]) == 0 {
			c = 1
		}
		if len(g.ready[c]) == 0 {
			return
		}
		l := g.ready[c][0]
		if !g.takeLocked(l, c == 1) {
			return
		}
		g.ready[c] = g.ready[c][1:]
		l.queued = false
		w := l.waiters[0]
		l.waiters = l.waiters[1:]
		g.waiting--
		w.granted = true
		close(w.ch)
	}
}

// forgetLocked drops an address that has nothing running or waiting.
func (g *gate) forgetLocked(l *addrLine) {
	if !l.running && len(l.waiters) == 0 && !l.queued && g.addrs[l.addr] == l {
		delete(g.addrs, l.addr)
	}
}
