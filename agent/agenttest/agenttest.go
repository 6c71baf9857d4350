// Package agenttest is the agent's test kit, in one place: waiting for a
// condition, a settable clock, a real encrypted store under a random master key (and the
// sealer the agent would use with it), a free loopback address, and the
// real agent binary, built once per test run.
//
// It sits outside internal/ so that the desktop's end-to-end tests start
// the very binary the agent's own tests do. Only tests import it: the
// agent never links it (shared/deps_test.go). It imports no more of the
// agent than the store, so the tests of every package above the store can
// use it without an import cycle; what sets up an engine with sandboxes is
// in agenttest/rig.
package agenttest

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
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

// Clock is a clock a test sets and moves on, for the code under test (its
// Now) and an emulator beside it alike; it is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the time the clock shows.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Key is a random 32-byte master key.
func Key(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// Store is a new store in its own temporary directory, encrypted under a
// random master key, and closed when the test ends.
func Store(t testing.TB) *store.Store {
	t.Helper()
	st, _ := StoreWithKey(t)
	return st
}

// StoreWithKey is Store and its master key, for a sealer. A test that
// opens the store again gives its own directory to StoreAt.
func StoreWithKey(t testing.TB) (*store.Store, []byte) {
	t.Helper()
	key := Key(t)
	return StoreAt(t, t.TempDir(), key), key
}

// StoreAt creates a store in dir under key, closed when the test ends
// (closing it earlier is harmless).
func StoreAt(t testing.TB, dir string, key []byte) *store.Store {
	t.Helper()
	st, err := store.Create(store.Options{Dir: dir, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// SealedStore is Store with the sealer the agent keeps its secrets with.
func SealedStore(t testing.TB) (*store.Store, *secret.Sealer) {
	t.Helper()
	st, key := StoreWithKey(t)
	return st, Sealer(t, st, key)
}

// Sealer is the sealer of st's secrets under its master key.
func Sealer(t testing.TB, st *store.Store, key []byte) *secret.Sealer {
	t.Helper()
	s, err := secret.NewSealer(key, st.DataKeys())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// FreeAddr is a loopback address with a port nothing listened on a moment
// ago: for an agent to listen on.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// agentPackage is what RunWithAgent builds.
const agentPackage = "github.com/lockstep-sync/lockstep/agent"

// RunWithAgent builds the agent binary (with the licensetest tag, so it
// trusts the test license key) into a temporary directory, sets *bin to
// its path, runs the tests and removes it. A package's TestMain is
//
//	func TestMain(m *testing.M) { os.Exit(agenttest.RunWithAgent(m, &agentBin)) }
//
// A failed build is reported on stderr and fails the run.
func RunWithAgent(m *testing.M, bin *string) int {
	dir, err := os.MkdirTemp("", "lockstep-agent-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "build the agent:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	*bin = filepath.Join(dir, "lockstep-agent")
	build := exec.Command("go", "build", "-tags", "licensetest", "-o", *bin, agentPackage)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the agent:", err)
		return 1
	}
	return m.Run()
}
