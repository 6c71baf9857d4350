package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
)

// sandboxPair runs the Helpdesk and Engineering sandboxes in this process.
func sandboxPair(t *testing.T) (help, eng *sandbox.Server, helpURL, engURL string) {
	t.Helper()
	mk := func(p sandbox.Project) (*sandbox.Server, string) {
		s, err := sandbox.New(sandbox.Options{Tokens: []sandbox.Token{{Value: "token-" + p.Key, User: "alice"}},
			Users: sandbox.DemoUsers(), Projects: []sandbox.Project{p}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(func() { srv.Close(); s.Close() })
		return s, srv.URL
	}
	help, helpURL = mk(sandbox.Project{Key: "HELP", Name: "Helpdesk", Types: []string{"incident"}})
	eng, engURL = mk(sandbox.Project{Key: "ENG", Name: "Engineering", Types: []string{"bug"}})
	return
}

// configure logs in to a running agent and sets up systems and a process.
func configure(t *testing.T, addr, helpURL, engURL string) (processID string) {
	t.Helper()
	c := dialAgent(t, addr)
	c.call("session.login", map[string]string{"username": "admin", "password": chaosPassword}, nil)
	var a, b struct{ System struct{ ID string } }
	c.call("systems.create", map[string]any{"name": "Helpdesk", "kind": "sandbox", "url": helpURL,
		"settings": map[string]any{"project": "HELP"}, "secrets": map[string]string{"token": "token-HELP"}}, &a)
	c.call("systems.create", map[string]any{"name": "Engineering", "kind": "sandbox", "url": engURL,
		"settings": map[string]any{"project": "ENG"}, "secrets": map[string]string{"token": "token-ENG"}}, &b)
	proc := map[string]any{
		"name": "chaos", "a": map[string]string{"system": a.System.ID, "project": "HELP"}, "b": map[string]string{"system": b.System.ID, "project": "ENG"},
		"types": []any{map[string]any{"a": "incident", "b": "bug", "fields": []any{
			map[string]any{"a": "title", "b": "title", "direction": "both"},
			map[string]any{"a": "status", "b": "status", "direction": "both"},
			map[string]any{"a": "priority", "b": "priority", "direction": "both"},
		}, "linkTypes": []any{map[string]any{"a": "blocks", "b": "blocks"}}}},
		"options":  map[string]any{"createInA": true, "createInB": true, "comments": true, "attachments": true, "conflict": "a_wins"},
		"schedule": map[string]any{"pollSeconds": 5},
		"active":   true,
	}
	var created struct{ Process struct{ ID string } }
	c.call("processes.create", map[string]any{"process": proc}, &created)
	return created.Process.ID
}

const chaosPassword = "chaos admin password"

// TestChaos kills a real agent syncing 500 items (and items made while it
// crashes, linked to at once), with comments, attachments (some of the same
// name and size on both sides) and links, with SIGKILL at random
// moments 20 times; at the end nothing is duplicated, lost or stale.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	help, eng, helpURL, engURL := sandboxPair(t)
	dir, addr := initChaosDir(t)
	r := rand.New(rand.NewPCG(42, 1))
	for i := 0; i < 250; i++ {
		help.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprintf("help-%03d", i), Status: "open", Priority: "low"})
		eng.Store().CreateItem(sandbox.NewItem{Project: "ENG", Type: "bug", Title: fmt.Sprintf("eng-%03d", i), Status: "open", Priority: "low"})
	}
	start := func() *exec.Cmd {
		cmd, _ := startAgent(t, dir, addr)
		return cmd
	}
	cmd := start()
	processID := configure(t, addr, helpURL, engURL)
	edits := map[string]string{} // title -> the status a person set last
	created := 0                 // items made while the agent crashes
	kills := 20
	if os.Getenv("LOCKSTEP_SOAK") != "" { // make soak
		kills = 100
	}
	for round := 0; round < kills; round++ {
		time.Sleep(time.Duration(300+r.IntN(1500)) * time.Millisecond)
		// People keep working while the agent crashes.
		for e := 0; e < 5; e++ {
			title := fmt.Sprintf("help-%03d", r.IntN(250))
			st := []string{"in_progress", "resolved"}[r.IntN(2)]
			if it, err := help.Store().GetItem(keyOf(t, help, "HELP", title)); err == nil {
				help.Store().UpdateItem(it.Key, sandbox.Patch{Status: &st}, 0)
				help.Store().AddComment(it.Key, "carol", "update "+fmt.Sprint(round, e))
				edits[title] = st
				switch r.IntN(4) {
				case 0: // files on both sides, some with the same name and size
					help.Store().AddAttachment(it.Key, "log.txt", "text/plain", "carol", strings.NewReader(fmt.Sprint("help ", round%2)))
				case 1:
					if other, err := eng.Store().GetItem(keyOf(t, eng, "ENG", fmt.Sprintf("eng-%03d", r.IntN(250)))); err == nil {
						eng.Store().AddAttachment(other.Key, "log.txt", "text/plain", "dave", strings.NewReader(fmt.Sprint("eng! ", round%2)))
					}
				case 2: // a link, sometimes to an item made this round
					target := keyOf(t, help, "HELP", fmt.Sprintf("help-%03d", r.IntN(250)))
					if r.IntN(2) == 0 {
						made, err := help.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprintf("new-%03d-%d", round, e), Status: "open", Priority: "low"})
						if err == nil {
							target = made.Key
							created++
						}
					}
					if target != "" && target != it.Key {
						help.Store().AddLink(it.Key, "blocks", target)
					}
				}
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		cmd = start()
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()

	deadline := time.Now().Add(4 * time.Minute)
	for {
		a, b := census(t, help, "HELP"), census(t, eng, "ENG")
		problem := compare(a, b, edits, 500+created)
		if problem == "" {
			return
		}
		if time.Now().After(deadline) {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
			t.Fatalf("after %d kills the systems do not agree: %s\n%s", kills, problem, disagreement(t, help, eng, dir, processID, problem))
		}
		time.Sleep(2 * time.Second)
	}
}

func compare(a, b holdings, edits map[string]string, want int) string {
	if a.items != want || b.items != want {
		return fmt.Sprintf("%d items in Helpdesk and %d in Engineering, want %d each (duplicates or misses)", a.items, b.items, want)
	}
	if problem := agreeing(a, b); problem != "" {
		return problem
	}
	for title, st := range edits {
		if a.status[title] != st || b.status[title] != st {
			return fmt.Sprintf("%s: status %q / %q, want %q (a lost change)", title, a.status[title], b.status[title], st)
		}
	}
	return ""
}

func keyOf(t *testing.T, s *sandbox.Server, project, title string) string {
	q := sandbox.Query{Project: project, Limit: 100}
	for {
		page, err := s.Store().ListItems(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if it.Title == title {
				return it.Key
			}
		}
		if page.NextCursor == "" {
			return ""
		}
		q.Cursor = page.NextCursor
	}
}

// startAgent starts a real agent on dir and waits until it listens on
// addr; its standard error is kept for a failure's message.
func startAgent(t testing.TB, dir, addr string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(agentBin, "run", "--data-dir", dir)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitListening(t, addr)
	return cmd, &errOut
}

// initChaosDir initialises a data dir whose administrator's password is
// chaosPassword, listening on a free port.
func initChaosDir(t testing.TB) (dir, addr string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "data")
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(chaosPassword), 0o600)
	addr = agenttest.FreeAddr(t)
	if out, code := runAgent(t, "init", "--data-dir", dir, "--listen", addr, "--admin-password-file", pw); code != 0 {
		t.Fatalf("init: %s", out)
	}
	return dir, addr
}

func runAgent(t testing.TB, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(agentBin, args...).CombinedOutput()
	if x, ok := err.(*exec.ExitError); ok {
		return string(out), x.ExitCode()
	}
	return string(out), 0
}

func waitListening(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // bounds a broken start only
	for time.Now().Before(deadline) {
		if c, err := dialTCP(addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("agent did not listen on %s", addr)
}

// disagreement explains a failed comparison: the links of the item the
// problem names on both sides, the agent's queue, and the log lines that
// mention those items. The agent must be stopped.
func disagreement(t *testing.T, help, eng *sandbox.Server, dir, processID, problem string) string {
	var b strings.Builder
	title, _, _ := strings.Cut(strings.Trim(problem, `"`), `"`)
	keys := []string{}
	for _, side := range []struct {
		s       *sandbox.Server
		project string
	}{{help, "HELP"}, {eng, "ENG"}} {
		key := keyOf(t, side.s, side.project, title)
		if key == "" {
			continue
		}
		keys = append(keys, key)
		ls, _ := side.s.Store().Links(key)
		fmt.Fprintf(&b, "%s %s links:", side.project, key)
		for _, l := range ls {
			other, _ := side.s.Store().GetItem(l.Target.Key)
			fmt.Fprintf(&b, " %s %s (%q)", l.Type, l.Target.Key, other.Title)
			keys = append(keys, l.Target.Key)
		}
		b.WriteString("\n")
	}
	out, _ := runAgent(t, "queue", "--data-dir", dir, "--process", processID, "--limit", "100")
	b.WriteString("queue: " + out + "\n")
	logs, _ := os.ReadFile(filepath.Join(dir, "logs", "agent.log"))
	var lines []string
	for _, line := range strings.Split(string(logs), "\n") {
		for _, k := range keys {
			if strings.Contains(line, `"`+k+`"`) {
				lines = append(lines, line)
				break
			}
		}
	}
	b.WriteString("log lines naming those items:\n" + tail(strings.Join(lines, "\n"), 60))
	return b.String()
}
