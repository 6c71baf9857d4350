package main

// End-to-end tests of the real agent binary: every command of the command
// line, run as a separate process, as an administrator would.

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/license/licensetest"
)

var agentBin string

func TestMain(m *testing.M) { os.Exit(agenttest.RunWithAgent(m, &agentBin)) }

// agent runs the binary with a clean environment plus env.
func agent(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(agentBin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if x, ok := err.(*exec.ExitError); ok {
		code = x.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

func initDir(t *testing.T, env ...string) (dir, addr string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "data")
	addr = agenttest.FreeAddr(t)
	out, errOut, code := agent(t, env, "init", "--data-dir", dir, "--listen", addr)
	if code != 0 {
		t.Fatalf("init: %d %s %s", code, out, errOut)
	}
	return dir, addr
}

func TestInitCreatesPrivateDataDirAndRefusesTwice(t *testing.T) {
	dir, _ := initDir(t)
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode: %v %v", fi.Mode(), err)
	}
	key, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil || len(key) != 32 {
		t.Fatalf("master.key: %d bytes, %v", len(key), err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "master.key")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("master.key mode %v", fi.Mode())
	}
	before := hashTree(t, dir)
	_, errOut, code := agent(t, nil, "init", "--data-dir", dir)
	if code == 0 || !strings.Contains(errOut, "refusing to overwrite") {
		t.Fatalf("second init: code %d, %q", code, errOut)
	}
	assertUnchanged(t, dir, before)
}

func TestFingerprintIsSPKIHash(t *testing.T) {
	dir, addr := initDir(t)
	out, _, code := agent(t, nil, "fingerprint", "--data-dir", dir)
	fp := strings.TrimSpace(out)
	if code != 0 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(fp) {
		t.Fatalf("fingerprint: %d %q", code, out)
	}
	stop := start(t, dir)
	defer stop()
	// What a TLS client sees must hash to the same value.
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].RawSubjectPublicKeyInfo)
	if fmt.Sprintf("%x", sum) != fp {
		t.Fatal("served certificate does not match the printed fingerprint")
	}
	if v := conn.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Fatalf("TLS version %x, want 1.3", v)
	}
}

// start runs the agent and waits for /healthz; stop sends SIGTERM and
// checks a clean exit within 10 s.
func start(t *testing.T, dir string, env ...string) (stop func()) {
	t.Helper()
	_, _, stop = startProcess(t, dir, env...)
	return stop
}

// startProcess is start that also hands out the process, to kill it, and
// its exit.
func startProcess(t *testing.T, dir string, env ...string) (*exec.Cmd, <-chan error, func()) {
	t.Helper()
	cmd := exec.Command(agentBin, "run", "--data-dir", dir)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	addr := readListen(t, dir)
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(time.Minute) // bounds a broken start only
	for {
		resp, err := client.Get("https://" + addr + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "ok" {
				t.Fatalf("healthz: %d %q", resp.StatusCode, body)
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("agent exited: %v: %s", err, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("healthz never answered: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cmd, done, func() {
		t.Helper()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("agent exit after SIGTERM: %v: %s", err, errOut.String())
			}
		case <-time.After(30 * time.Second):
			// The agent bounds its own shutdown (app.ShutdownTimeout) and
			// exits non-zero past it; this only catches a hang.
			cmd.Process.Kill()
			t.Fatal("agent did not stop within 30 s of SIGTERM")
		}
	}
}

// TestKilledAgentIsNoticedAtTheNextStart: SIGKILL leaves the run marker
// behind, so the next start logs (and notifies, when notifications are on)
// that the previous run did not stop cleanly; a clean stop removes it.
func TestKilledAgentIsNoticedAtTheNextStart(t *testing.T) {
	dir, _ := initDir(t)
	marker := filepath.Join(dir, "agent.running")
	cmd, exited, _ := startProcess(t, dir)
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("a running agent has no run marker: %v", err)
	}
	cmd.Process.Kill()
	<-exited
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the killed agent's marker is gone: %v", err)
	}
	start(t, dir)()
	start(t, dir)()
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("a clean stop left the run marker: %v", err)
	}
	var logs strings.Builder
	files, _ := filepath.Glob(filepath.Join(dir, "logs", "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		logs.Write(b)
	}
	if n := strings.Count(logs.String(), "the previous run did not stop cleanly"); n != 1 {
		t.Fatalf("%d unclean-shutdown warnings in the logs, want 1 (after the kill only):\n%s", n, logs.String())
	}
}

func readListen(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "agent.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`"listen": "([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no listen in %s", b)
	}
	return string(m[1])
}

func TestRunServesHealthzOverTLSOnlyAndStopsOnSignal(t *testing.T) {
	dir, addr := initDir(t)
	stop := start(t, dir)
	// Plain HTTP must not be served.
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + addr + "/healthz")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) == "ok" {
			t.Fatal("healthz answered over plain HTTP")
		}
	}
	stop()
}

func hashTree(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = sha256.Sum256(b)
		return nil
	})
	return out
}

func assertUnchanged(t *testing.T, dir string, before map[string][32]byte) {
	t.Helper()
	after := hashTree(t, dir)
	if len(after) != len(before) {
		t.Fatalf("files changed: %d before, %d after", len(before), len(after))
	}
	for p, h := range before {
		if after[p] != h {
			t.Fatalf("%s changed", p)
		}
	}
}

func TestBadKeysFailInOneLineAndChangeNothing(t *testing.T) {
	dir, _ := initDir(t)
	good, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	tmp := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(tmp, name)
		os.WriteFile(p, data, mode)
		os.Chmod(p, mode)
		return p
	}
	wrong := bytes.Repeat([]byte{7}, 32)
	unreadable := write("unreadable", good, 0o000)
	cases := []struct {
		name   string
		env    []string
		setup  func()
		source string
		what   string
	}{
		{name: "wrong key file", env: []string{"LOCKSTEP_MASTER_KEY_FILE=" + write("wrong", wrong, 0o600)}, source: "key file", what: "does not open this store"},
		{name: "short key file", env: []string{"LOCKSTEP_MASTER_KEY_FILE=" + write("short", good[:16], 0o600)}, source: "key file", what: "16 bytes"},
		{name: "missing key file", env: []string{"LOCKSTEP_MASTER_KEY_FILE=" + filepath.Join(tmp, "absent")}, source: "key file", what: "no key"},
		{name: "wrong env key", env: []string{"LOCKSTEP_MASTER_KEY=" + base64.StdEncoding.EncodeToString(wrong)}, source: "environment variable LOCKSTEP_MASTER_KEY", what: "does not open"},
		{name: "garbage env key", env: []string{"LOCKSTEP_MASTER_KEY=not-base64!!"}, source: "environment variable LOCKSTEP_MASTER_KEY", what: "want 32"},
		{name: "wide default key file", setup: func() { os.Chmod(filepath.Join(dir, "master.key"), 0o644) }, source: "key file", what: "chmod 600"},
	}
	if os.Geteuid() != 0 { // root reads mode-000 files regardless
		cases = append(cases, struct {
			name   string
			env    []string
			setup  func()
			source string
			what   string
		}{name: "unreadable key file", env: []string{"LOCKSTEP_MASTER_KEY_FILE=" + unreadable}, source: "key file", what: "permission denied"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
				defer os.Chmod(filepath.Join(dir, "master.key"), 0o600)
			}
			before := hashTree(t, dir)
			for _, args := range [][]string{{"run", "--data-dir", dir}, {"key", "rotate", "--data-dir", dir}} {
				_, errOut, code := agent(t, tc.env, args...)
				if code == 0 {
					t.Fatalf("%v succeeded", args)
				}
				if strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
					t.Fatalf("%v: error is not one line: %q", args, errOut)
				}
				if !strings.Contains(errOut, tc.source) || !strings.Contains(errOut, tc.what) {
					t.Fatalf("%v: error %q does not name %q and %q", args, errOut, tc.source, tc.what)
				}
				assertUnchanged(t, dir, before)
			}
		})
	}
}

func TestKeyRotate(t *testing.T) {
	dir, _ := initDir(t)
	oldKey, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	out, errOut, code := agent(t, nil, "key", "rotate", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("rotate: %s %s", out, errOut)
	}
	newKey, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	if bytes.Equal(oldKey, newKey) || len(newKey) != 32 {
		t.Fatal("master.key did not change")
	}
	oldFile := filepath.Join(t.TempDir(), "old.key")
	os.WriteFile(oldFile, oldKey, 0o600)
	_, errOut, code = agent(t, []string{"LOCKSTEP_MASTER_KEY_FILE=" + oldFile}, "run", "--data-dir", dir)
	if code == 0 || !strings.Contains(errOut, "does not open this store") {
		t.Fatalf("old key after rotation: %d %q", code, errOut)
	}
	stop := start(t, dir)
	stop()

	// With the key in the environment, rotation writes the new key to a file
	// the administrator names.
	env := []string{"LOCKSTEP_MASTER_KEY=" + base64.StdEncoding.EncodeToString(newKey)}
	_, errOut, code = agent(t, env, "key", "rotate", "--data-dir", dir)
	if code == 0 || !strings.Contains(errOut, "--new-key-file") {
		t.Fatalf("env rotation without --new-key-file: %d %q", code, errOut)
	}
	next := filepath.Join(t.TempDir(), "next.key")
	if _, errOut, code = agent(t, env, "key", "rotate", "--data-dir", dir, "--new-key-file", next); code != 0 {
		t.Fatalf("env rotation: %q", errOut)
	}
	stop = start(t, dir, "LOCKSTEP_MASTER_KEY_FILE="+next)
	stop()
}

func TestEnvKeyCustodyForContainers(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{42}, 32))
	dir, _ := initDir(t, "LOCKSTEP_MASTER_KEY="+key)
	if _, err := os.Stat(filepath.Join(dir, "master.key")); err == nil {
		t.Fatal("init wrote master.key although the key came from the environment")
	}
	stop := start(t, dir, "LOCKSTEP_MASTER_KEY="+key)
	stop()
	_, errOut, code := agent(t, nil, "run", "--data-dir", dir)
	if code == 0 || !strings.Contains(errOut, "master.key") {
		t.Fatalf("run without the env key: %d %q", code, errOut)
	}
}

func TestSystemdCredentialCustody(t *testing.T) {
	creds := t.TempDir()
	os.WriteFile(filepath.Join(creds, "master.key"), bytes.Repeat([]byte{9}, 32), 0o400)
	dir, _ := initDir(t, "CREDENTIALS_DIRECTORY="+creds)
	stop := start(t, dir, "CREDENTIALS_DIRECTORY="+creds)
	stop()
}

func TestUsageAndVersion(t *testing.T) {
	out, _, code := agent(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "lockstep-agent ") {
		t.Fatalf("version: %d %q", code, out)
	}
	// The test binary trusts the test key (-tags licensetest), and says so:
	// release builds list their production keys the same way.
	if !strings.Contains(out, "\nlicense keys: "+licensetest.KeyID) {
		t.Errorf("version does not list the trusted license keys: %q", out)
	}
	for _, args := range [][]string{{}, {"bogus"}, {"run", "--nope"}, {"key"}, {"service"}, {"service", "dance"}, {"backup"}, {"restore"}, {"restore", "--data-dir", "x"}} {
		_, errOut, code := agent(t, nil, args...)
		if code == 0 || errOut == "" {
			t.Errorf("%v: code %d, stderr %q", args, code, errOut)
		}
	}
}

const cliPassword = "command line admin password"

// initWithPassword initialises a data dir whose admin password is known.
func initWithPassword(t *testing.T) (dir, addr string) {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(cliPassword), 0o600)
	dir = filepath.Join(t.TempDir(), "data")
	addr = agenttest.FreeAddr(t)
	if out, errOut, code := agent(t, nil, "init", "--data-dir", dir, "--listen", addr, "--admin-password-file", pw); code != 0 {
		t.Fatalf("init: %s %s", out, errOut)
	}
	return dir, addr
}

// TestInitIfAbsent: a container's first start initialises the volume; every
// later start finds it initialised and changes nothing.
func TestInitIfAbsent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("an admin password long enough"), 0o600)
	out, errOut, code := agent(t, nil, "init", "--if-absent", "--data-dir", dir, "--admin-password-file", pw)
	if code != 0 || !strings.Contains(out, "Initialised") {
		t.Fatalf("first init: %d %s %s", code, out, errOut)
	}
	before := hashTree(t, dir)
	out, errOut, code = agent(t, nil, "init", "--if-absent", "--data-dir", dir, "--admin-password-file", pw)
	if code != 0 || !strings.Contains(out, "initialised already") {
		t.Fatalf("second init: %d %s %s", code, out, errOut)
	}
	assertUnchanged(t, dir, before)
	// Without the flag, an initialised directory is still refused.
	if _, errOut, code := agent(t, nil, "init", "--data-dir", dir); code == 0 || !strings.Contains(errOut, "refusing") {
		t.Fatalf("init without --if-absent: %d %s", code, errOut)
	}
}
