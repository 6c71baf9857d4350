package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
)

// e2eAgent is a real agent process that an end-to-end test configures
// and drives between two systems: started (and initialised the first
// time), killed, reached over its API, waited on, and diagnosed when a
// wait fails.
type e2eAgent struct {
	t        *testing.T
	password string // the administrator's
	dir      string
	addr     string
	cmd      *exec.Cmd
	stderr   bytes.Buffer
	process  string // the sync process under test
}

func (e *e2eAgent) startAgent() {
	t := e.t
	if e.dir == "" {
		e.dir = filepath.Join(t.TempDir(), "data")
		pw := filepath.Join(t.TempDir(), "pw")
		os.WriteFile(pw, []byte(e.password), 0o600)
		e.addr = agenttest.FreeAddr(t)
		if out, code := runAgent(t, "init", "--data-dir", e.dir, "--listen", e.addr, "--admin-password-file", pw); code != 0 {
			t.Fatalf("init: %s", out)
		}
	}
	e.cmd = exec.Command(agentBin, "run", "--data-dir", e.dir)
	e.cmd.Stderr = &e.stderr
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd := e.cmd
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	})
	waitListening(t, e.addr)
}

func (e *e2eAgent) kill() {
	e.cmd.Process.Signal(syscall.SIGKILL)
	e.cmd.Wait()
}

// crashMidRun creates six items with create, named prefix and a number,
// as people would while the agent works; kills the agent with SIGKILL a
// moment into the run that syncs them; starts it again and runs the
// process. It returns the names.
func (e *e2eAgent) crashMidRun(prefix string, create func(title string)) []string {
	var titles []string
	for i := range 6 {
		titles = append(titles, fmt.Sprintf("%s %d", prefix, i))
		create(titles[i])
	}
	e.runNow()
	time.Sleep(1500 * time.Millisecond)
	e.kill()
	e.startAgent()
	e.runNow()
	return titles
}

// exactlyOnce says what is wrong, if anything, when each of titles is not
// among got exactly once or got does not hold total entities.
func exactlyOnce(what string, got, titles []string, total int) string {
	for _, title := range titles {
		if n := count(got, title); n != 1 {
			return fmt.Sprintf("%d %s titled %q", n, what, title)
		}
	}
	if len(got) != total {
		return fmt.Sprintf("%d %s, want %d: %v", len(got), what, total, got)
	}
	return ""
}

func (e *e2eAgent) client() *rpcClient {
	c := dialAgent(e.t, e.addr)
	c.call("session.login", map[string]string{"username": "admin", "password": e.password}, nil)
	return c
}

func (e *e2eAgent) runNow() {
	if err := e.client().try("processes.run", map[string]string{"id": e.process}, nil); err != nil {
		e.t.Logf("run now: %v", err) // a run already going is fine
	}
}

func (e *e2eAgent) wait(what string, check func() string) {
	e.t.Helper()
	deadline := time.Now().Add(3 * time.Minute) // bounds a broken sync only
	for {
		problem := check()
		if problem == "" {
			return
		}
		if time.Now().After(deadline) {
			e.diagnose()
			e.t.Fatalf("%s: not after 3 minutes: %s", what, problem)
		}
		time.Sleep(time.Second)
	}
}

// diagnose logs what the agent knows when a wait fails: its parked errors,
// its last runs and the end of its log.
func (e *e2eAgent) diagnose() {
	if e.process != "" {
		c := e.client()
		var errs, runs any
		c.try("errors.list", map[string]any{"process": e.process}, &errs)
		c.try("runs.list", map[string]any{"process": e.process, "limit": 5}, &runs)
		e.t.Logf("errors.list: %v", errs)
		e.t.Logf("runs.list: %v", runs)
	}
	e.t.Logf("agent stderr (end):\n%s", tailLines(e.stderr.String(), 40))
	if data, err := os.ReadFile(filepath.Join(e.dir, "logs", "agent.log")); err == nil {
		e.t.Logf("agent log (end):\n%s", tailLines(string(data), 60))
	}
}

func tailLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// pairs are a process's value or link pairs, side A's then side B's.
func pairs(kv ...string) []any {
	var out []any
	for i := 0; i < len(kv); i += 2 {
		out = append(out, map[string]string{"a": kv[i], "b": kv[i+1]})
	}
	return out
}
