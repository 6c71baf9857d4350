package gitlab

import (
	"flag"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
)

var update = flag.Bool("update", false, "rewrite the desktop test's copy of the kind's schema")

// TestDesktopKindFixture keeps the desktop's form test on the kind's real
// schema: frontend/src/pages/systems/testdata/gitlab.kind.json is what
// systems.kinds answers for GitLab (go test -run DesktopKind -update
// rewrites it).
func TestDesktopKindFixture(t *testing.T) {
	contracttest.DesktopKindFixture(t, Kind, *update)
}
