package app

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// closer is a connector that counts its Close calls; the cache never calls
// anything else on it here.
type closer struct {
	connector.Connector
	closed atomic.Int32
}

func (c *closer) Close() error {
	c.closed.Add(1)
	return nil
}

// The cache keeps one connector per system, and closes it (releasing its
// connections and its share of the rate limiter) when the system is
// changed or deleted, and at shutdown.
func TestConnectorCacheClosesOnChangeAndDelete(t *testing.T) {
	var opened []*closer
	t.Cleanup(connector.Override(connector.Spec{Kind: "cachetest", Title: "Cache test", Fields: connector.ConnectionFields(),
		Open: func(connector.Config, connector.Env) (connector.Connector, error) {
			c := &closer{}
			opened = append(opened, c)
			return c, nil
		}}))
	dir := t.TempDir()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("cache test admin password"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(InitOptions{Options: Options{DataDir: dir, Listen: "127.0.0.1:0"}, AdminUser: "admin", AdminPasswordFile: pw}); err != nil {
		t.Fatal(err)
	}
	a, err := Open(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	sys, err := a.systems.Create("test", apitype.SystemsCreateParams{Name: "Cached", Kind: "cachetest", URL: "https://cached.example"})
	if err != nil {
		t.Fatal(err)
	}
	get := func() connector.Connector {
		t.Helper()
		c, err := a.conns.get(sys.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := get()
	if get() != first || len(opened) != 1 {
		t.Fatalf("a second use opened another connector (%d opened)", len(opened))
	}
	name := "Cached, renamed"
	if _, err := a.systems.Update("test", apitype.SystemsUpdateParams{ID: sys.ID, Name: &name}); err != nil {
		t.Fatal(err)
	}
	if n := opened[0].closed.Load(); n != 1 {
		t.Fatalf("the changed system's connector was closed %d times, want 1", n)
	}
	second := get()
	if second == first || len(opened) != 2 {
		t.Fatal("the changed system's stale connector was used again")
	}
	if err := a.systems.Delete("test", sys.ID); err != nil {
		t.Fatal(err)
	}
	if n := opened[1].closed.Load(); n != 1 {
		t.Fatalf("the deleted system's connector was closed %d times, want 1", n)
	}
	a.conns.mu.Lock()
	left := len(a.conns.open)
	a.conns.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d connectors kept after the delete", left)
	}

	other, err := a.systems.Create("test", apitype.SystemsCreateParams{Name: "Other", Kind: "cachetest", URL: "https://other.example"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.conns.get(other.ID); err != nil {
		t.Fatal(err)
	}
	a.conns.closeAll()
	if n := opened[2].closed.Load(); n != 1 {
		t.Fatalf("shutdown closed the open connector %d times, want 1", n)
	}
}
