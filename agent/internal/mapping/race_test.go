//go:build race

package mapping

// raceEnabled: the race detector slows code several times, which makes
// timing bounds meaningless.
const raceEnabled = true
