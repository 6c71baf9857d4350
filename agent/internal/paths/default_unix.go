//go:build !windows

package paths

// DefaultDataDir is where a packaged agent keeps its state (systemd's StateDirectory).
func DefaultDataDir() string { return "/var/lib/lockstep" }
