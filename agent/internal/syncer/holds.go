package syncer

import "sync"

// pairHolds keeps two workers of a run from working one pair at once.
// Items are dealt to workers by their pair, but an item whose pair did not
// exist when they were dealt can meet one that another worker registers
// meanwhile: an original adopts its copy found by its marker while the
// copy's own item, dealt apart, finds the new pair and works it too, each
// reading the comments the other is copying, and one copies a comment
// twice. A worker holds the pair it works, from when it knows it until its
// item is settled, and a pair it makes from before the store has it (the
// original's adoption may write to the copy, storing the pair, before its
// item is done); a worker holds one pair at a time, so none waits on
// another that waits on it.
//
// The holds are the engine's, not a run's: an administrator's call that
// writes a pair record (a resolution) holds the pair too, for its
// transaction, so that it waits for a worker that has the pair in hand
// instead of being overwritten by that worker's save when its item
// settles (deferred.go). Such a call holds one pair, after its reads of
// systems, and waits on nothing while it holds it.
type pairHolds struct {
	mu   sync.Mutex
	cond *sync.Cond
	held map[string]bool
}

func newPairHolds() *pairHolds {
	h := &pairHolds{held: map[string]bool{}}
	h.cond = sync.NewCond(&h.mu)
	return h
}

// acquire holds pair id once no other worker does; waiting, when set, is
// called (without the lock) before it first waits.
func (h *pairHolds) acquire(id string, waiting func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.held[id] {
		if waiting != nil {
			h.mu.Unlock()
			waiting()
			h.mu.Lock()
			waiting = nil
			continue
		}
		h.cond.Wait()
	}
	h.held[id] = true
}

func (h *pairHolds) release(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.held, id)
	h.cond.Broadcast()
}

// holdPair makes the worker hold pair id, letting go of the one it held.
func (c *cycle) holdPair(id string) {
	if c.holds == nil || id == "" || c.holding == id {
		return
	}
	c.releasePair()
	c.holds.acquire(id, func() { c.e.at(probeHoldWait, "", id) })
	c.holding = id
}

// releasePair lets go of the pair the worker holds, if any.
func (c *cycle) releasePair() {
	if c.holding != "" {
		c.holds.release(c.holding)
		c.holding = ""
	}
}

// holdPair holds pair id for an administrator's call until the returned
// function lets it go: it waits for the worker that has the pair in hand,
// if any, to settle its item.
func (e *Engine) holdPair(id string) (release func()) {
	e.holds.acquire(id, func() { e.at(probeHoldWait, "", id) })
	return func() { e.holds.release(id) }
}
