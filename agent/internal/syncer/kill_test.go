package syncer

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Killing the engine at a chosen point, as SIGKILL would: the run that
// reaches the point freezes there for good (nothing it would do next
// happens), and a new engine on the same store takes over, as a restarted
// agent does. Runs use one worker, so nothing else moves after the kill.

var errKilled = errors.New("killed")

type killSwitch struct {
	once   sync.Once
	hit    chan struct{} // closed when the point is reached
	thaw   chan struct{} // closed at cleanup: the frozen run gives up
	frozen bool
	mu     sync.Mutex
	// runs are the runs started under the switch: a frozen one goes on
	// when thawed, and must end before the test's store closes (Badger
	// panics on use after close).
	runs sync.WaitGroup
}

// killAt freezes the run making the nth call (1-based) of op on m. Any
// later call on either system also freezes, so nothing moves once killed.
func (w *world) killAt(m *memsys, op string, nth int) *killSwitch {
	return w.killWhen(m, func(o string) bool { return o == op }, nth)
}

// killAtWrite kills before the nth write of any kind to m.
func (w *world) killAtWrite(m *memsys, nth int) *killSwitch {
	return w.killWhen(m, func(o string) bool { return writeOps[o] }, nth)
}

// killWhen freezes the run making the nth call on m that match accepts.
func (w *world) killWhen(m *memsys, match func(op string) bool, nth int) *killSwitch {
	k := &killSwitch{hit: make(chan struct{}), thaw: make(chan struct{})}
	w.t.Cleanup(func() {
		close(k.thaw)
		k.runs.Wait()
	})
	var mu sync.Mutex
	calls := 0
	freeze := func() error {
		k.mu.Lock()
		k.frozen = true
		k.mu.Unlock()
		k.once.Do(func() { close(k.hit) })
		<-k.thaw
		return errKilled
	}
	isFrozen := func() bool { k.mu.Lock(); defer k.mu.Unlock(); return k.frozen }
	prevA, prevB := w.a.fail, w.b.fail
	hook := func(sys *memsys, prev func(string) error) func(string) error {
		return func(o string) error {
			if isFrozen() {
				return freeze()
			}
			if sys == m && match(o) {
				mu.Lock()
				calls++
				n := calls
				mu.Unlock()
				if n == nth {
					return freeze()
				}
			}
			if prev != nil {
				return prev(o)
			}
			return nil
		}
	}
	w.a.fail, w.b.fail = hook(w.a, prevA), hook(w.b, prevB)
	return k
}

// runKilled runs until the kill point is reached and reports whether it
// was (a run that ends first reached no such point).
func (w *world) runKilled(k *killSwitch) bool {
	w.t.Helper()
	w.clock.advance(1)
	done := make(chan struct{})
	eng, proc := w.eng, w.proc
	k.runs.Add(1)
	go func() {
		defer k.runs.Done()
		defer close(done)
		eng.runOnce(context.Background(), &proc, "test", nil)
	}()
	select {
	case <-k.hit:
		return true
	case <-done:
		return false
	}
}

// restart drops the killed engine and starts a new one on the same store,
// with the systems as they are.
func (w *world) restart() {
	w.a.fail, w.b.fail = nil, nil
	w.eng = New(w.eng.d)
	w.eng.workers = 1
}

// newKillWorld is a world whose engine works one item at a time.
func newKillWorld(t *testing.T) *world {
	w := newWorld(t, ConflictAWins)
	w.eng.workers = 1
	return w
}

var _ = connector.ErrNotFound
