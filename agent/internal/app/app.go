// Package app is the agent's composition root: it initialises a data
// directory, opens everything the daemon needs in order, runs the long-lived
// components under one context, and shuts them down within a bound.
package app

import (
	"io"
	"os"
	"runtime/debug"
	"time"
)

// Version is set at build time with -ldflags "-X .../app.Version=...".
var Version = "0.1.0-dev"

// Options are what the command line resolved.
type Options struct {
	DataDir string
	// Listen overrides the bootstrap config's address when set.
	Listen string
	// KeyFile is --key-file.
	KeyFile string
	// Console receives human-readable logs (a terminal); nil for none.
	Console io.Writer
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NotifyGroupWait is how long a first notification waits for others to
	// join its message; zero means the default (30 s). Tests shorten it.
	NotifyGroupWait time.Duration
	// MemoryLimit is the agent process's soft memory limit (Go's
	// GOMEMLIMIT, which wins when it is set); zero leaves the runtime's.
	MemoryLimit int64
}

// MemoryLimit is the agent's soft memory limit: the Go runtime collects
// garbage sooner as its memory nears it, and hands what it freed back to
// the system, so bursts (the store's compactions, a large initial sync)
// leave no large footprint behind. It is not a cap: a heap that needs more
// gets it.
const MemoryLimit = 128 << 20

// limitMemory applies o.MemoryLimit unless GOMEMLIMIT set one.
func limitMemory(o Options) {
	if o.MemoryLimit > 0 && o.getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(o.MemoryLimit)
	}
}

func (o Options) getenv(k string) string {
	if o.Getenv != nil {
		return o.Getenv(k)
	}
	return os.Getenv(k)
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}
