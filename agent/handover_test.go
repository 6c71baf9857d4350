package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
)

// stopBound is the agent's documented bounded stop: after SIGTERM it exits,
// its store closed, within 10 s (README, "Scaling out and staying up").
const stopBound = 10 * time.Second

// TestGracefulHandover stops a real agent with SIGTERM in the middle of a
// busy run, as a platform does when it moves or upgrades an agent, then
// starts a new agent process on the same data dir: it finishes the work
// with nothing duplicated and nothing lost, and the stop stays within its
// bound.
func TestGracefulHandover(t *testing.T) {
	if testing.Short() {
		t.Skip("syncs 500 items through two agent processes")
	}
	help, eng, helpURL, engURL := sandboxPair(t)
	dir, addr := initChaosDir(t)
	for i := 0; i < 250; i++ {
		h, _ := help.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprintf("help-%03d", i), Status: "open", Priority: "low"})
		help.Store().AddComment(h.Key, "carol", "first look")
		eng.Store().CreateItem(sandbox.NewItem{Project: "ENG", Type: "bug", Title: fmt.Sprintf("eng-%03d", i), Status: "open", Priority: "low"})
	}
	start := func() (*exec.Cmd, *bytes.Buffer) { return startAgent(t, dir, addr) }
	first, firstLog := start()
	configure(t, addr, helpURL, engURL)

	// Busy: the first run has copied some items and not all.
	deadline := time.Now().Add(2 * time.Minute) // bounds a stuck run only
	for n := 0; n < 20; n = countItems(t, eng, "ENG") - 250 {
		if time.Now().After(deadline) {
			t.Fatalf("the first run copied only %d items; log:\n%s", n, tailLines(firstLog.String()+readLog(dir), 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := countItems(t, eng, "ENG") - 250; n >= 250 {
		t.Fatalf("the run ended before the stop (%d items copied): nothing was handed over", n)
	}
	stopAt := time.Now()
	first.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()
	select {
	case err := <-exited:
		took := time.Since(stopAt)
		if err != nil {
			t.Fatalf("the agent's stop failed: %v; log:\n%s", err, tailLines(firstLog.String()+readLog(dir), 20))
		}
		t.Logf("stopped in %v, %d of 250 items copied", took.Round(time.Millisecond), countItems(t, eng, "ENG")-250)
	case <-time.After(stopBound):
		first.Process.Kill()
		t.Fatalf("the agent did not stop within %v of SIGTERM", stopBound)
	}
	// A clean stop removes the run marker and says so in the log.
	if _, err := os.Stat(filepath.Join(dir, "agent.running")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the run marker is still there after the stop: %v", err)
	}
	logFile := filepath.Join(dir, "logs", "agent.log")
	if log, _ := os.ReadFile(logFile); !strings.Contains(string(log), "agent stopped") {
		t.Fatalf("no clean stop in the log:\n%s", tailLines(string(log), 20))
	}

	// People keep working during the handover.
	edits := map[string]string{}
	for i := 0; i < 10; i++ {
		title := fmt.Sprintf("help-%03d", i*25)
		st := "resolved"
		help.Store().UpdateItem(keyOf(t, help, "HELP", title), sandbox.Patch{Status: &st}, 0)
		edits[title] = st
	}
	second, secondLog := start()
	defer func() { second.Process.Signal(syscall.SIGTERM); second.Wait() }()
	deadline = time.Now().Add(4 * time.Minute)
	for {
		problem := compare(census(t, help, "HELP"), census(t, eng, "ENG"), edits, 500)
		if problem == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the handover the systems do not agree: %s; log:\n%s", problem, tailLines(secondLog.String()+readLog(dir), 20))
		}
		time.Sleep(time.Second)
	}
	// The previous start stopped cleanly: the new one reports no crash.
	if log, _ := os.ReadFile(logFile); strings.Contains(string(log), "did not stop cleanly") {
		t.Fatalf("the new agent took the handover for a crash:\n%s", tailLines(string(log), 20))
	}
}

// countItems counts a sandbox project's items.
func countItems(t testing.TB, s *sandbox.Server, project string) int {
	t.Helper()
	n := 0
	for q := (sandbox.Query{Project: project, Limit: 100}); ; {
		page, err := s.Store().ListItems(q)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Items)
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			return n
		}
	}
}

// readLog is the agent's log file, for a failure's message.
func readLog(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "logs", "agent.log"))
	return string(b)
}
