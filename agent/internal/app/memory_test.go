package app

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
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

// freeHeap is the heap's memory that is free yet still the process's.
func freeHeap() uint64 {
	m := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(m)
	return m[0].Value.Uint64()
}

var sink []byte

// The trim hands what the heap freed back to the system at its next tick,
// not at the scavenger's pace.
func TestTrimMemory(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- trimMemory(ctx, 20*time.Millisecond) }()
	defer func() { cancel(); <-done }()
	sink = make([]byte, 64<<20)
	for i := range sink {
		sink[i] = 1 // resident
	}
	sink = nil
	runtime.GC()
	if free := freeHeap(); free < 32<<20 {
		t.Skipf("the runtime already released the freed 64 MB (%d MB still free): nothing to show", free>>20)
	}
	for deadline := time.Now().Add(30 * time.Second); freeHeap() > 16<<20; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d MB of the heap still free and held 30 s after 64 MB were freed", freeHeap()>>20)
		}
	}
}
