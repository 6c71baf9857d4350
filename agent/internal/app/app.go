// Package app is the agent's composition root: it initialises a data
// directory, opens everything the daemon needs in order, runs the long-lived
// components under one context, and shuts them down within a bound.
package app

import (
	"context"
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
	// AfterFunc runs f once d has passed on Now's clock and returns what
	// stops it; nil means time.AfterFunc. It times the end of each
	// connection's session, so a test that moves Now on moves it too.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
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

// trimInterval is how often the agent hands what its heap freed back to
// the system.
const trimInterval = time.Minute

// trimMemory hands the heap's free pages back to the system every interval
// until ctx ends. Go's scavenger does so on its own, but slowly and only
// down to about the next collection's goal, twice what is live: an agent
// idle after a search of a million pairs stayed at 84 MB of its own memory
// for about 40 MB live. A forced collection a minute costs milliseconds of
// CPU.
func trimMemory(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			debug.FreeOSMemory()
		}
	}
}

// trimMemory runs the trim when the agent runs with its memory limit (a
// test running apps in its own process keeps the runtime's ways).
func (a *App) trimMemory(ctx context.Context) error {
	if a.opts.MemoryLimit <= 0 {
		return nil
	}
	return trimMemory(ctx, trimInterval)
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
