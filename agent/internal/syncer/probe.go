package syncer

// A probe hears of the points of a run where tests count what the engine
// does, or hold a worker to force an order between workers (a race made to
// happen every time rather than once in many runs). The agent sets none:
// each point then costs one comparison.
type probePoint int

const (
	// probePairRead: an entity's pair is read from the store (its side
	// and id).
	probePairRead probePoint = iota
	// probeDecide: an item is about to read what its decision rests on
	// (its side and id).
	probeDecide
	// probeHoldWait: a worker is about to wait for a pair another worker
	// holds (the pair's id, no side).
	probeHoldWait
	// probeSettle: a worked item is about to settle, writing its pair's
	// deferred saves (its side and id).
	probeSettle
	// probeWake: a pair's registration has looked for the links that
	// wait for one of its entities, inside its transaction (that entity's
	// side and id).
	probeWake
	// probeRunWait: a call waits for the run of a process under way (the
	// process's id, no side).
	probeRunWait
	// probeFail: a failed item has read its queue entry and is about to
	// record the failure in it (its side and id).
	probeFail
	// probeForget: a deleted process's state is gone, its record not yet
	// (the process's id, no side).
	probeForget
)

// at tells the probe, if any, that point p is reached.
func (e *Engine) at(p probePoint, s Side, id string) {
	if e.probe != nil {
		e.probe(p, s, id)
	}
}
