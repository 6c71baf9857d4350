package app

import (
	"runtime/debug"
	"testing"
)

// The agent's soft memory limit applies unless GOMEMLIMIT set one, and
// only when asked for (tests that open an app keep their own).
func TestMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	limitMemory(Options{Getenv: getenv})
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Fatalf("no limit asked for, yet the limit became %d", got)
	}
	limitMemory(Options{Getenv: getenv, MemoryLimit: MemoryLimit})
	if got := debug.SetMemoryLimit(-1); got != MemoryLimit {
		t.Fatalf("limit %d, want %d", got, MemoryLimit)
	}
	debug.SetMemoryLimit(before)
	env["GOMEMLIMIT"] = "1GiB"
	limitMemory(Options{Getenv: getenv, MemoryLimit: MemoryLimit})
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Fatalf("GOMEMLIMIT is set, yet the limit became %d", got)
	}
}
