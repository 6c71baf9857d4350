//go:build !windows

package main

// The local admin channel from the command line: a Unix socket here (the
// Windows named pipe is cross-compiled, not run, in this project's tests).

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/license"
	"github.com/lockstep-sync/lockstep/agent/internal/license/licensetest"
)

// TestCommandsWorkWhileTheAgentRuns: audit verify, license show and import,
// support-package and backup reach a running agent over its local admin
// channel (they used to say the agent held the store, and stop), and every
// action is audited under the local account that ran it.
func TestCommandsWorkWhileTheAgentRuns(t *testing.T) {
	dir, addr := initWithPassword(t)
	stop := start(t, dir)
	fi, err := os.Lstat(filepath.Join(dir, "admin.sock"))
	if err != nil || fi.Mode()&fs.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket: %v %v", fi, err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := agent(t, nil, args...)
		if code != 0 {
			t.Fatalf("%v while the agent runs: %d %q", args, code, errOut)
		}
		return out
	}
	if out := run("audit", "verify", "--data-dir", dir); !strings.Contains(out, "audit chain intact") {
		t.Fatalf("audit verify: %q", out)
	}
	if out := run("license", "show", "--data-dir", dir); !strings.Contains(out, "evaluation mode") {
		t.Fatalf("license show: %q", out)
	}
	lic := filepath.Join(t.TempDir(), "acme.lic")
	os.WriteFile(lic, licensetest.Issue(t, license.Payload{Customer: "ACME Corp", AllowedSystems: []string{"jira"}, MaxUsers: 25, NotBefore: time.Now().Add(-time.Hour)}), 0o600)
	if out := run("license", "import", lic, "--data-dir", dir); !strings.Contains(out, "ACME Corp") || !strings.Contains(out, "25 allowed") {
		t.Fatalf("license import: %q", out)
	}
	if out := run("license", "show", "--data-dir", dir); !strings.Contains(out, "ACME Corp") {
		t.Fatalf("license show after import: %q", out)
	}
	pkg := filepath.Join(t.TempDir(), "p.zip")
	if out := run("support-package", "--data-dir", dir, "-o", pkg); !strings.Contains(out, "0 failed") {
		t.Fatalf("support-package: %q", out)
	}
	if zr, err := zip.OpenReader(pkg); err != nil {
		t.Fatalf("the support package is not a zip: %v", err)
	} else {
		zr.Close()
	}
	archive := filepath.Join(t.TempDir(), "b.lsbackup")
	if out := run("backup", "--data-dir", dir, "-o", archive); !strings.Contains(out, "running agent") {
		t.Fatalf("backup: %q", out)
	}
	if _, errOut, code := agent(t, nil, "backup", "--data-dir", dir, "-o", archive); code == 0 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("backup over an existing file: %d %q", code, errOut)
	}

	// The trail names the local account for each action, like a login.
	c := dialAgent(t, addr)
	c.call("session.login", map[string]string{"username": "admin", "password": cliPassword}, nil)
	var res struct {
		Records []struct{ Actor, Action, Result, Remote string }
	}
	c.call("audit.list", map[string]any{"limit": 1000}, &res)
	actor := "local:" + me.Username
	seen := map[string]int{}
	for _, r := range res.Records {
		if r.Actor == actor && r.Result == "success" {
			seen[r.Action]++
		}
	}
	for _, action := range []string{"session.local", "license.import", "support.create", "backup.create"} {
		if seen[action] == 0 {
			t.Errorf("no %s record by %s in the audit trail: %v", action, actor, seen)
		}
	}
	if seen["session.local"] != 6 {
		t.Errorf("%d local sessions audited, want one per command that reached the agent (6)", seen["session.local"])
	}
	if out := run("audit", "verify", "--data-dir", dir); !strings.Contains(out, "audit chain intact") {
		t.Fatalf("audit verify at the end: %q", out)
	}

	// Stopped, the same commands open the store themselves (the socket
	// went with the agent), and audit under the same actor.
	stop()
	if _, err := os.Lstat(filepath.Join(dir, "admin.sock")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the socket outlived the agent: %v", err)
	}
	if out := run("backup", "--data-dir", dir, "-o", filepath.Join(t.TempDir(), "offline.lsbackup")); !strings.Contains(out, "stopped agent") {
		t.Fatalf("backup of a stopped agent: %q", out)
	}
	run("support-package", "--data-dir", dir, "-o", filepath.Join(t.TempDir(), "offline.zip"))
	if out := run("license", "show", "--data-dir", dir); !strings.Contains(out, "ACME Corp") {
		t.Fatalf("license show of a stopped agent: %q", out)
	}
	stop = start(t, dir)
	defer stop()
	c = dialAgent(t, addr)
	c.call("session.login", map[string]string{"username": "admin", "password": cliPassword}, nil)
	res.Records = nil
	c.call("audit.list", map[string]any{"actor": actor, "limit": 1000}, &res)
	offline := map[string]int{}
	for _, r := range res.Records {
		offline[r.Action]++
	}
	if offline["backup.create"] != 2 || offline["support.create"] != 2 {
		t.Fatalf("records by %s after the offline commands: %v, want 2 backups and 2 support packages", actor, offline)
	}
}

// TestAdminChannelRefusesOtherAccounts connects as an account that is
// neither root nor the agent's: the data dir's mode keeps it out, and when
// the mode is opened up, the agent's peer check still refuses it and
// audits the attempt.
func TestAdminChannelRefusesOtherAccounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the command line as another account")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no account nobody")
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	dir, addr := initWithPassword(t)
	stop := start(t, dir)
	defer stop()
	// The binary must be reachable by that account.
	os.Chmod(filepath.Dir(agentBin), 0o755)
	asNobody := func() (string, int) {
		cmd := exec.Command(agentBin, "audit", "verify", "--data-dir", dir)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		var e bytes.Buffer
		cmd.Stderr = &e
		err := cmd.Run()
		if x, ok := err.(*exec.ExitError); ok {
			return e.String(), x.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return e.String(), 0
	}
	if errOut, code := asNobody(); code == 0 || !strings.Contains(errOut, "admits only root") {
		t.Fatalf("nobody through the data dir's mode: %d %q", code, errOut)
	}
	// Open the path down to the socket (t.TempDir's directories are 0700).
	for p := dir; p != os.TempDir() && p != filepath.Dir(p); p = filepath.Dir(p) {
		os.Chmod(p, 0o711)
	}
	os.Chmod(filepath.Join(dir, "admin.sock"), 0o666)
	defer os.Chmod(dir, 0o700)
	if errOut, code := asNobody(); code == 0 || !strings.Contains(errOut, "admits only root") {
		t.Fatalf("nobody with the socket opened up: %d %q", code, errOut)
	}
	c := dialAgent(t, addr)
	c.call("session.login", map[string]string{"username": "admin", "password": cliPassword}, nil)
	var res struct {
		Records []struct{ Actor, Action, Result string }
	}
	c.call("audit.list", map[string]any{"action": "session.local"}, &res)
	if len(res.Records) == 0 || res.Records[0].Actor != "local:nobody" || res.Records[0].Result != "denied" {
		t.Fatalf("the refused connection is not in the audit trail: %+v", res.Records)
	}
}
