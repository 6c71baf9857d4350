//go:build race

package markup

// raceEnabled: the race detector slows code several times, which makes
// timing bounds meaningless.
const raceEnabled = true
