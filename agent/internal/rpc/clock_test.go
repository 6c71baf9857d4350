package rpc_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// fakeClock is the agent's clock in a test: real time moved on by Advance,
// with timers (app.Options.AfterFunc) that fire when Advance passes them,
// never on their own, so a test decides when a session's time is up.
type fakeClock struct {
	skew   atomic.Int64
	mu     sync.Mutex
	timers []*fakeTimer
}

type fakeTimer struct {
	due  time.Time
	f    func()
	done bool
}

func (c *fakeClock) Now() time.Time { return time.Now().Add(time.Duration(c.skew.Load())) }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	t := &fakeTimer{due: c.Now().Add(d), f: f}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if t.done {
			return false
		}
		t.done = true
		c.timers = slices.DeleteFunc(c.timers, func(x *fakeTimer) bool { return x == t })
		return true
	}
}

// Advance moves the clock on by d and runs, before returning, the timers
// it passed, earliest first.
func (c *fakeClock) Advance(d time.Duration) {
	c.skew.Add(int64(d))
	now := c.Now()
	c.mu.Lock()
	var due []*fakeTimer
	c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool {
		if t.due.After(now) {
			return false
		}
		t.done = true
		due = append(due, t)
		return true
	})
	c.mu.Unlock()
	slices.SortFunc(due, func(a, b *fakeTimer) int { return a.due.Compare(b.due) })
	for _, t := range due {
		t.f()
	}
}
