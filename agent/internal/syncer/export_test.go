package syncer

// SetRoundItems sets how many changes a run's poll queues before working
// them, for tests of a backlog larger than a round; it returns the undo.
func SetRoundItems(n int) (restore func()) {
	old := roundItems
	roundItems = n
	return func() { roundItems = old }
}

// DrainWorkers is how many items of one run are worked at once.
const DrainWorkers = drainWorkers
