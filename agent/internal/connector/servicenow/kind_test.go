package servicenow

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

var update = flag.Bool("update", false, "rewrite the desktop test's copy of the kind's schema")

// TestDesktopKindFixture keeps the desktop's form test on the kind's real
// schema: frontend/src/pages/systems/testdata/servicenow.kind.json is what
// systems.kinds answers for ServiceNow (go test -run DesktopKind -update
// rewrites it).
func TestDesktopKindFixture(t *testing.T) {
	spec, ok := connector.Lookup(Kind)
	if !ok {
		t.Fatal("not registered")
	}
	want, err := json.MarshalIndent(spec.Schema(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	path := filepath.Join("..", "..", "..", "..", "frontend", "src", "pages", "systems", "testdata", "servicenow.kind.json")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not the kind's schema; rewrite it with go test -run DesktopKind -update:\n%s", path, want)
	}
}
