package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/license"
	"github.com/lockstep-sync/lockstep/agent/internal/license/licensetest"
)

// TestLicenseCommands imports a license signed with the test key (the test
// binary is built with -tags licensetest) and shows it; a tampered file is
// refused with a precise error and changes nothing.
func TestLicenseCommands(t *testing.T) {
	dir, _ := initDir(t)
	out, _, code := agent(t, nil, "license", "show", "--data-dir", dir)
	if code != 0 || !strings.Contains(strings.ToLower(out), "evaluation") {
		t.Fatalf("license show on a new agent: %d %q", code, out)
	}
	file := filepath.Join(t.TempDir(), "acme.lic")
	text := licensetest.Issue(t, license.Payload{Customer: "ACME Corp", AllowedSystems: []string{"jira", "redmine"}, MaxUsers: 25, NotBefore: time.Now().Add(-time.Hour)})
	os.WriteFile(file, text, 0o600)
	bad := filepath.Join(t.TempDir(), "bad.lic")
	lines := strings.Split(string(text), "\n")
	b := []byte(lines[1]) // the first line of the payload's base64
	if b[10] == 'A' {
		b[10] = 'B'
	} else {
		b[10] = 'A'
	}
	lines[1] = string(b)
	os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o600)
	_, errOut, code := agent(t, nil, "license", "import", bad, "--data-dir", dir)
	if code == 0 || !strings.Contains(errOut, "license") {
		t.Fatalf("tampered license accepted: %q", errOut)
	}
	if out, _, _ := agent(t, nil, "license", "show", "--data-dir", dir); !strings.Contains(strings.ToLower(out), "evaluation") {
		t.Fatalf("a refused import changed the license: %q", out)
	}
	out, errOut, code = agent(t, nil, "license", "import", file, "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "ACME Corp") {
		t.Fatalf("license import: %d %q %q", code, out, errOut)
	}
	out, _, _ = agent(t, nil, "license", "show", "--data-dir", dir)
	if !strings.Contains(out, "ACME Corp") || !strings.Contains(out, "25") {
		t.Fatalf("license show after import: %q", out)
	}
}
