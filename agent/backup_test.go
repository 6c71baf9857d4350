package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
)

// helpdesk serves a sandbox work system that accepts one token, so that a
// systems.test which passes proves the agent unsealed the stored token.
func helpdesk(t *testing.T, token string) string {
	t.Helper()
	s, err := sandbox.New(sandbox.Options{Tokens: []sandbox.Token{{Value: token, User: "alice"}}, Users: sandbox.DemoUsers(),
		Projects: []sandbox.Project{{Key: "HELP", Name: "Helpdesk", Types: []string{"incident"}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	return srv.URL
}

// systemWorks logs in to the agent in dir and tests its one system.
func systemWorks(t *testing.T, addr string) {
	t.Helper()
	c := dialAgent(t, addr)
	c.call("session.login", map[string]string{"username": "admin", "password": cliPassword}, nil)
	var list struct{ Systems []struct{ ID, Name string } }
	c.call("systems.list", map[string]any{}, &list)
	if len(list.Systems) != 1 || list.Systems[0].Name != "Helpdesk" {
		t.Fatalf("systems after restore: %+v", list.Systems)
	}
	var res struct {
		OK      bool
		Message string
	}
	c.call("systems.test", map[string]string{"id": list.Systems[0].ID}, &res)
	if !res.OK {
		t.Fatalf("the restored system's token does not work: %s", res.Message)
	}
}

// refused runs a restore that must fail with one line naming what, and
// leave nothing: no target, no staging directory beside it.
func refused(t *testing.T, env []string, what string, args ...string) {
	t.Helper()
	target := args[len(args)-1]
	before, _ := os.ReadDir(filepath.Dir(target))
	_, errOut, code := agent(t, env, args...)
	if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, what) {
		t.Fatalf("%v: code %d, stderr %q, want one line with %q", args, code, errOut, what)
	}
	after, _ := os.ReadDir(filepath.Dir(target))
	if len(after) != len(before) {
		t.Fatalf("%v left files beside the target: %v", args, after)
	}
}

// TestBackupAndRestore backs up a running agent both ways, refuses every
// bad restore without writing anything, and restores both archives into
// new data dirs whose agents start, keep their identity, and unseal the
// system's token; a passphrase archive restores under a new master key.
func TestBackupAndRestore(t *testing.T) {
	const token = "helpdesk-token-0d7c"
	url := helpdesk(t, token)
	dir, addr := initWithPassword(t)
	stop := start(t, dir)
	c := dialAgent(t, addr)
	c.call("session.login", map[string]string{"username": "admin", "password": cliPassword}, nil)
	c.call("systems.create", map[string]any{"name": "Helpdesk", "kind": "sandbox", "url": url,
		"settings": map[string]any{"project": "HELP"}, "secrets": map[string]string{"token": token}}, nil)
	work := t.TempDir()
	pass := filepath.Join(work, "pass")
	os.WriteFile(pass, []byte("a passphrase for the archive\n"), 0o600)
	wrongPass := filepath.Join(work, "wrong")
	os.WriteFile(wrongPass, []byte("not the passphrase at all\n"), 0o600)
	mArchive, pArchive := filepath.Join(work, "m.lsbackup"), filepath.Join(work, "p.lsbackup")
	for _, args := range [][]string{{"backup", "--data-dir", dir, "-o", mArchive}, {"backup", "--data-dir", dir, "-o", pArchive, "--passphrase-file", pass}} {
		if out, errOut, code := agent(t, nil, args...); code != 0 || !strings.Contains(out, "running agent") {
			t.Fatalf("%v: %d %q %q", args, code, out, errOut)
		}
	}
	stop()
	fp, _, _ := agent(t, nil, "fingerprint", "--data-dir", dir)
	keyFile := filepath.Join(dir, "master.key")
	withKey := []string{"LOCKSTEP_MASTER_KEY_FILE=" + keyFile}
	archive, _ := os.ReadFile(mArchive)
	if bytes.Contains(archive, []byte(token)) {
		t.Fatal("the archive holds the token in the clear")
	}

	// Refusals: each one line, nothing written.
	full := filepath.Join(work, "full")
	os.MkdirAll(full, 0o700)
	os.WriteFile(filepath.Join(full, "notes.txt"), []byte("keep me"), 0o600)
	refused(t, withKey, "is not empty", "restore", mArchive, "--data-dir", full)
	if b, _ := os.ReadFile(filepath.Join(full, "notes.txt")); string(b) != "keep me" {
		t.Fatal("a refused restore touched the non-empty dir")
	}
	target := filepath.Join(work, "restored")
	refused(t, nil, "--key-file", "restore", mArchive, "--data-dir", target)
	other := filepath.Join(work, "other.key")
	os.WriteFile(other, bytes.Repeat([]byte{7}, 32), 0o600)
	refused(t, []string{"LOCKSTEP_MASTER_KEY_FILE=" + other}, "different master key", "restore", mArchive, "--data-dir", target)
	tampered := filepath.Join(work, "tampered.lsbackup")
	bad := bytes.Clone(archive)
	bad[len(bad)/2] ^= 1
	os.WriteFile(tampered, bad, 0o600)
	refused(t, withKey, "damaged", "restore", tampered, "--data-dir", target)
	cut := filepath.Join(work, "cut.lsbackup")
	os.WriteFile(cut, archive[:len(archive)-100], 0o600)
	refused(t, withKey, "cut short", "restore", cut, "--data-dir", target)
	refused(t, nil, "wrong passphrase", "restore", pArchive, "--data-dir", target, "--passphrase-file", wrongPass)
	refused(t, nil, "--passphrase-file", "restore", pArchive, "--data-dir", target)
	refused(t, withKey, "not a Lockstep backup", "restore", pass, "--data-dir", target)

	// A master-key archive restores under that key and starts with it.
	if out, errOut, code := agent(t, withKey, "restore", mArchive, "--data-dir", target); code != 0 || !strings.Contains(out, "start the agent with the same key") {
		t.Fatalf("restore: %d %q %q", code, out, errOut)
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("restored dir: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(target, "master.key")); err == nil {
		t.Fatal("a master-key restore wrote a key into the data dir")
	}
	if got, _, _ := agent(t, nil, "fingerprint", "--data-dir", target); got != fp {
		t.Fatalf("fingerprint changed: %q -> %q", fp, got)
	}
	stop = start(t, target, withKey...)
	systemWorks(t, addr)
	if out, _, code := agent(t, withKey, "audit", "verify", "--data-dir", target); code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("audit after restore: %q", out)
	}
	stop()

	// A passphrase archive restores under a new key, written to the data
	// dir; the old key opens nothing there. The target exists this time
	// (a mounted volume, say): empty but for what an interrupted restore
	// left, which is cleared; it ends private.
	target2 := filepath.Join(work, "restored2")
	os.MkdirAll(filepath.Join(target2, ".restore-123", "store"), 0o755)
	os.Chmod(target2, 0o755)
	out, errOut, code := agent(t, nil, "restore", pArchive, "--data-dir", target2, "--passphrase-file", pass)
	if code != 0 || !strings.Contains(out, "new, in key file "+filepath.Join(target2, "master.key")) {
		t.Fatalf("restore a passphrase archive: %d %q %q", code, out, errOut)
	}
	if entries, _ := os.ReadDir(target2); len(entries) != 4 { // agent.json, master.key, store, tls
		t.Fatalf("restored into an existing dir: %v", entries)
	}
	if fi, _ := os.Stat(target2); fi.Mode().Perm() != 0o700 {
		t.Fatalf("restored dir mode %v", fi.Mode())
	}
	newKey, err := os.ReadFile(filepath.Join(target2, "master.key"))
	oldKey, _ := os.ReadFile(keyFile)
	if err != nil || len(newKey) != 32 || bytes.Equal(newKey, oldKey) {
		t.Fatalf("new master key: %d bytes, %v", len(newKey), err)
	}
	if _, errOut, code := agent(t, withKey, "audit", "verify", "--data-dir", target2); code == 0 || !strings.Contains(errOut, "does not open this store") {
		t.Fatalf("the old key on the restored store: %d %q", code, errOut)
	}
	stop = start(t, target2)
	systemWorks(t, addr)
	stop()
}
