// Package shared_test enforces the product's dependency boundaries with
// `go list -deps`: the agent never links Wails, the desktop app never links
// Badger, the wire types import only the standard library, and the markup
// converters and the error vocabulary (fault) are leaves.
package shared_test

import (
	"os/exec"
	"strings"
	"testing"
)

func deps(t *testing.T, tags, pattern string) []string {
	t.Helper()
	args := []string{"list", "-e", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	out, err := exec.Command("go", append(args, pattern)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pattern, err, out)
	}
	return strings.Fields(string(out))
}

const module = "github.com/lockstep-sync/lockstep/"

func TestBoundaries(t *testing.T) {
	cases := []struct {
		name, tags, pattern string
		forbidden           func(dep string) bool
	}{
		{"agent never links Wails", "", "../agent/...", func(d string) bool { return strings.HasPrefix(d, "github.com/wailsapp/") }},
		{"desktop never links Badger", "", "../desktop/...", func(d string) bool { return strings.HasPrefix(d, "github.com/dgraph-io/") }},
		{"desktop (production build) never links Badger", "production", "../desktop/...", func(d string) bool { return strings.HasPrefix(d, "github.com/dgraph-io/") }},
		{"desktop never links agent internals", "", "../desktop/...", func(d string) bool { return strings.HasPrefix(d, module+"agent/") }},
		{"shared imports only the standard library", "", "./...", func(d string) bool { return !strings.HasPrefix(d, module+"shared") }},
		{"markup is a leaf: it imports nothing of ours outside itself", "", "../agent/internal/markup/...", func(d string) bool {
			return strings.HasPrefix(d, module) && !strings.HasPrefix(d, module+"agent/internal/markup")
		}},
		{"fault is a leaf: every domain wraps it, so it imports nothing of ours", "", "../agent/internal/fault", func(d string) bool {
			return strings.HasPrefix(d, module) && d != module+"agent/internal/fault"
		}},
		{"the agent never links the license issuing tool, the test key or its test kit", "", "../agent", func(d string) bool {
			return strings.HasPrefix(d, module+"agent/tools/") || strings.HasPrefix(d, module+"agent/internal/license/licensetest") ||
				strings.HasPrefix(d, module+"agent/agenttest")
		}},
		{"the desktop app never links its test kit", "", "../desktop", func(d string) bool {
			return strings.HasPrefix(d, module+"desktop/internal/desktoptest")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			all := deps(t, tc.tags, tc.pattern)
			if len(all) == 0 {
				t.Fatal("go list found no packages: the pattern is wrong")
			}
			for _, d := range all {
				if tc.forbidden(d) {
					t.Errorf("%s depends on %s", tc.pattern, d)
				}
			}
		})
	}
}
