// Package desktoptest is the desktop app's test kit, in one place:
// waiting for a condition, and recording what the bridge emits to the UI.
// Only tests import it. It imports nothing of the agent, so the desktop's
// tests stay as free of Badger and the engine as the desktop itself; the
// end-to-end tests that run a real agent take its binary from
// agent/agenttest.
package desktoptest

import (
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// Patience bounds every wait of a test. It only ends a broken test: it is
// generous for a busy machine and says nothing about speed.
const Patience = time.Minute

// Eventually polls cond until it holds, and fails the test with what it
// waited for once Patience has passed.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Recorder is a bridge Emitter that keeps every event, JSON-encoded the
// way the UI receives it. The zero value is ready to use.
type Recorder struct {
	mu     sync.Mutex
	events []Event
	added  chan struct{} // made on first use; a wake-up for WaitFor
}

// Event is one emitted event.
type Event struct {
	Name    string
	Payload json.RawMessage
}

// Emit implements the bridge's Emitter. A payload the UI could not
// receive fails loudly: it is a bug in the code under test.
func (r *Recorder) Emit(name string, payload any) {
	b, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	r.mu.Lock()
	r.events = append(r.events, Event{name, b})
	wake := r.wakeLocked()
	r.mu.Unlock()
	select {
	case wake <- struct{}{}:
	default:
	}
}

func (r *Recorder) wakeLocked() chan struct{} {
	if r.added == nil {
		r.added = make(chan struct{}, 1)
	}
	return r.added
}

// Named is every payload emitted under name so far, oldest first.
func (r *Recorder) Named(name string) []json.RawMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []json.RawMessage
	for _, e := range r.events {
		if e.Name == name {
			out = append(out, e.Payload)
		}
	}
	return out
}

// All is every event emitted so far, oldest first.
func (r *Recorder) All() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// WaitFor waits until cond holds, looking again at every event (and now
// and then, for conditions that change without one); it fails the test
// with what it waited for once Patience has passed.
func (r *Recorder) WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	r.mu.Lock()
	wake := r.wakeLocked()
	r.mu.Unlock()
	deadline := time.After(Patience)
	for !cond() {
		select {
		case <-wake:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
