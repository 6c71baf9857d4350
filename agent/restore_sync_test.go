package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
)

// TestRestoreOlderBackupNeitherDuplicatesNorLoses is issue 14's restore
// test: sync, back up, sync more, restore the older backup into a new data
// dir and run it. The restored agent knows nothing of the pairs, comments
// and changes made after the backup; it must find the copies already made
// (by their markers) instead of making them again, and carry what changed
// after the restore: no duplicate and nothing lost on either side.
func TestRestoreOlderBackupNeitherDuplicatesNorLoses(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	help, eng, helpURL, engURL := sandboxPair(t)
	people := func(from, to int) {
		for i := from; i < to; i++ {
			h, _ := help.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprintf("help-%03d", i), Status: "open", Priority: "low"})
			help.Store().AddComment(h.Key, "carol", fmt.Sprintf("first look at help-%03d", i))
			e, _ := eng.Store().CreateItem(sandbox.NewItem{Project: "ENG", Type: "bug", Title: fmt.Sprintf("eng-%03d", i), Status: "open", Priority: "low"})
			eng.Store().AddComment(e.Key, "dave", fmt.Sprintf("first look at eng-%03d", i))
		}
	}
	edits := map[string]string{}
	edit := func(title, status, comment string) {
		key := keyOf(t, help, "HELP", title)
		if key == "" {
			t.Fatalf("%s is not in Helpdesk", title)
		}
		help.Store().UpdateItem(key, sandbox.Patch{Status: &status}, 0)
		help.Store().AddComment(key, "carol", comment)
		edits[title] = status
	}

	dir := filepath.Join(t.TempDir(), "data")
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(chaosPassword), 0o600)
	addr := agenttest.FreeAddr(t)
	if out, code := runAgent(t, "init", "--data-dir", dir, "--listen", addr, "--admin-password-file", pw); code != 0 {
		t.Fatalf("init: %s", out)
	}
	keyEnv := "LOCKSTEP_MASTER_KEY_FILE=" + filepath.Join(dir, "master.key")
	run := func(dir string) (stop func()) {
		cmd := exec.Command(agentBin, "run", "--data-dir", dir)
		cmd.Env = append(os.Environ(), keyEnv)
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitListening(t, addr)
		return func() {
			cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Errorf("agent exit: %v: %s", err, errOut.String())
			}
		}
	}
	// converge waits until both sides hold want items each way, the same
	// titles, comments and statuses; a duplicate fails at once, since
	// nothing ever removes one.
	converge := func(stage string, want int) {
		t.Helper()
		deadline := time.Now().Add(4 * time.Minute) // bounds a broken run only
		for {
			a, b := census(t, help, "HELP"), census(t, eng, "ENG")
			if da, db := duplicates(a.titles), duplicates(b.titles); da != "" || db != "" {
				t.Fatalf("%s: duplicated items: in Helpdesk [%s], in Engineering [%s]", stage, da, db)
			}
			problem := compare(a, b, edits, want)
			if problem == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the systems do not agree: %s", stage, problem)
			}
			time.Sleep(time.Second)
		}
	}

	stop := run(dir)
	configure(t, addr, helpURL, engURL)
	people(0, 10)
	converge("first sync", 20)

	archive := filepath.Join(t.TempDir(), "older.lsbackup")
	if out, errOut, code := agent(t, []string{keyEnv}, "backup", "--data-dir", dir, "-o", archive); code != 0 {
		t.Fatalf("backup: %q %q", out, errOut)
	}

	// After the backup: new items both ways, and changes and comments on
	// items the backup knows.
	people(10, 15)
	edit("help-002", "in_progress", "picked up")
	edit("help-004", "resolved", "fixed the toner")
	converge("sync after the backup", 30)
	stop()

	restored := filepath.Join(t.TempDir(), "restored")
	if out, errOut, code := agent(t, []string{keyEnv}, "restore", archive, "--data-dir", restored); code != 0 {
		t.Fatalf("restore: %q %q", out, errOut)
	}
	stop = run(restored)
	defer stop()
	// People keep working on the restored agent's watch.
	people(15, 18)
	edit("help-007", "resolved", "done after the restore")
	edit("help-012", "in_progress", "an item the backup never saw")
	converge("restored agent", 36)
}

// duplicates names titles that appear more than once.
// duplicates names the titles held more than once.
func duplicates(titles map[string]int) string {
	var dups []string
	for t, n := range titles {
		if n > 1 {
			dups = append(dups, t)
		}
	}
	sort.Strings(dups)
	return strings.Join(dups, ", ")
}
