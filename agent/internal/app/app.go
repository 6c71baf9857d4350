// Package app is the agent's composition root: it initialises a data
// directory, opens everything the daemon needs in order, runs the long-lived
// components under one context, and shuts them down within a bound.
package app

import (
	"io"
	"os"
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
