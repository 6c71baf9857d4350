package e2e

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient"
)

var agentBin string

func TestMain(m *testing.M) { os.Exit(agenttest.RunWithAgent(m, &agentBin)) }

const adminPassword = "e2e admin password 1"

// realAgent is a lockstep-agent process on a random loopback port.
type realAgent struct {
	dir, addr, fingerprint string
	stderr                 *lockedBuffer
	cmd                    *exec.Cmd
}

func startAgent(t *testing.T) *realAgent {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(adminPassword), 0o600)
	addr := agenttest.FreeAddr(t)
	out, err := exec.Command(agentBin, "init", "--data-dir", dir, "--listen", addr, "--admin-user", "admin", "--admin-password-file", pw).CombinedOutput()
	if err != nil {
		t.Fatalf("init: %v: %s", err, out)
	}
	fp, err := exec.Command(agentBin, "fingerprint", "--data-dir", dir).Output()
	if err != nil {
		t.Fatal(err)
	}
	a := &realAgent{dir: dir, addr: addr, fingerprint: strings.TrimSpace(string(fp)), stderr: &lockedBuffer{}}
	a.cmd = exec.Command(agentBin, "run", "--data-dir", dir)
	a.cmd.Stderr = a.stderr
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { a.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(12 * time.Second):
			a.cmd.Process.Kill()
			t.Error("agent did not stop within 12 s of SIGTERM")
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent never listened: %s", a.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (a *realAgent) client(t *testing.T) *agentclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := agentclient.Dial(ctx, agentclient.Options{URL: "wss://" + a.addr + "/v1/ws", Fingerprint: a.fingerprint, Client: "lockstep-e2e/1"})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (a *realAgent) login(t *testing.T, user, pw string) *agentclient.Client {
	t.Helper()
	c := a.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := c.Login(ctx, user, pw); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// grepTree reports every file under dir containing needle.
func grepTree(t *testing.T, dir, needle string) []string {
	t.Helper()
	var hits []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(needle)) {
			hits = append(hits, p)
		}
		return nil
	})
	return hits
}

var fpRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestPinnedConnection(t *testing.T) {
	a := startAgent(t)
	if !fpRe.MatchString(a.fingerprint) {
		t.Fatalf("fingerprint %q", a.fingerprint)
	}
	got, err := agentclient.Probe(ctx(t), "wss://"+a.addr+"/v1/ws")
	if err != nil || got != a.fingerprint {
		t.Fatalf("probe: %q %v, want %q", got, err, a.fingerprint)
	}
	wrong := strings.Repeat("ab", 32)
	_, err = agentclient.Dial(ctx(t), agentclient.Options{URL: "wss://" + a.addr + "/v1/ws", Fingerprint: wrong})
	var mm *agentclient.FingerprintMismatchError
	if !asMismatch(err, &mm) || !strings.Contains(err.Error(), wrong) || !strings.Contains(err.Error(), a.fingerprint) {
		t.Fatalf("wrong pin: %v", err)
	}
}

// lockedBuffer collects a process's output while tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
