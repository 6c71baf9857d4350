package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector/github/ghemu"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
)

const ghToken = "github_pat_e2e0123456789abcdefghij"

// TestGitHubEndToEnd runs a real agent process between a sandbox helpdesk
// (side A) and the GitHub emulator (side B, repository acme/widgets):
// items create issues and an issue creates an item, comments cross each
// way once, an attachment becomes a notice comment on GitHub linking its
// item, titles and states flow both ways, a "blocks" link becomes an issue
// dependency, and killing the agent in the middle of its first run leaves
// no duplicate on either side. Everything is checked in the systems
// themselves, not through the agent.
func TestGitHubEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	help, err := sandbox.New(sandbox.Options{Tokens: []sandbox.Token{{Value: "tok-HELP", User: "alice"}}, Users: sandbox.DemoUsers(),
		Projects: []sandbox.Project{{Key: "HELP", Name: "Helpdesk", Types: []string{"incident"}}}})
	if err != nil {
		t.Fatal(err)
	}
	helpSrv := httptest.NewServer(help.Handler())
	t.Cleanup(func() { helpSrv.Close(); help.Close() })
	gh := ghemu.Start(ghemu.Options{Users: []ghemu.User{{Login: "lockstep-bot", Token: ghToken, Permission: ghemu.Admin},
		{Login: "octo", Token: "github_pat_octo0123456789"}}, Repos: []ghemu.Repo{{Owner: "acme", Name: "widgets"}}})
	t.Cleanup(gh.Close)

	// Six incidents, two comments each and a file on the first, and one
	// issue a person opened on GitHub, all before the agent starts.
	var keys []string
	for i := range 6 {
		it, err := help.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprintf("Incident %d", i), Status: "open", Priority: "low"})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, it.Key)
		for c := range 2 {
			if _, err := help.Store().AddComment(it.Key, "carol", fmt.Sprintf("note %d on incident %d", c, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := help.Store().AddAttachment(keys[0], "crash.log", "text/plain", "carol", strings.NewReader("segfault at 0x0\n")); err != nil {
		t.Fatal(err)
	}
	seenOnGitHub := gh.Seed("acme/widgets", "octo", ghemu.Issue{Title: "Seen on GitHub", Body: "Opened by a person."})
	gh.Comment("acme/widgets", seenOnGitHub, "octo", "a person's comment on GitHub")

	e := &realEnv{e2eAgent: e2eAgent{t: t, password: realPassword}}
	e.startAgent()
	configureGitHub(e, helpSrv.URL, gh.URL())

	// Kill the agent once its first run has made some issues, not all.
	e.wait("the first run has begun creating issues", func() string {
		if n := len(gh.Issues("acme/widgets")); n < 3 {
			return fmt.Sprintf("%d issues on GitHub", n)
		}
		return ""
	})
	if n := len(gh.Issues("acme/widgets")); n >= 7 {
		t.Logf("the first run finished before the kill (%d issues): the crash proves less", n)
	}
	e.kill()
	e.startAgent()
	e.runNow()

	issueOf := func(title string) ghemu.Issue {
		for _, is := range gh.Issues("acme/widgets") {
			if is.Title == title {
				return is
			}
		}
		return ghemu.Issue{}
	}
	noDuplicates := func() string {
		issues := gh.Issues("acme/widgets")
		if len(issues) != 7 {
			return fmt.Sprintf("%d issues on GitHub, want 7", len(issues))
		}
		items := helpItems(t, help)
		if len(items) != 7 {
			return fmt.Sprintf("%d items in the helpdesk, want 7", len(items))
		}
		for i := range 6 {
			is := issueOf(fmt.Sprintf("Incident %d", i))
			for c := range 2 {
				if n := countContaining(is.Comments, fmt.Sprintf("note %d on incident %d", c, i)); n > 1 {
					t.Fatalf("issue %d has note %d %d times: a duplicate", is.Number, c, n)
				}
			}
			if n := countContaining(is.Comments, "crash.log"); n > 1 {
				t.Fatalf("the attachment notice is on GitHub %d times: a duplicate", n)
			}
		}
		if n := countContaining(itemComments(t, help, "Seen on GitHub"), "a person's comment on GitHub"); n != 1 {
			return fmt.Sprintf("the GitHub comment is in the helpdesk %d times", n)
		}
		return ""
	}
	e.wait("every incident has one issue and the GitHub issue one item, nothing twice", noDuplicates)
	// The engine copies an item's comments after its peer is recorded: a
	// kill between the two leaves them for the item's next change (the
	// engine's to fix; lost, not duplicated). A note on each incident is
	// that change.
	for i, k := range keys {
		if _, err := help.Store().AddComment(k, "carol", fmt.Sprintf("after the restart %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	e.runNow()
	e.wait("every comment and the attachment notice are on GitHub once", func() string {
		if p := noDuplicates(); p != "" {
			return p
		}
		for i := range 6 {
			is := issueOf(fmt.Sprintf("Incident %d", i))
			for _, note := range []string{fmt.Sprintf("note 0 on incident %d", i), fmt.Sprintf("note 1 on incident %d", i), fmt.Sprintf("after the restart %d", i)} {
				if n := countContaining(is.Comments, note); n != 1 {
					return fmt.Sprintf("issue %d has %q %d times", is.Number, note, n)
				}
			}
		}
		if n := countContaining(issueOf("Incident 0").Comments, "crash.log"); n != 1 {
			return fmt.Sprintf("the attachment notice is on GitHub %d times", n)
		}
		return ""
	})
	// The notice links the item that holds the file, and nothing came back.
	notice := issueOf("Incident 0").Comments
	if i := slices.IndexFunc(notice, func(s string) bool { return strings.Contains(s, "crash.log") }); i < 0 ||
		!strings.Contains(notice[i], "["+keys[0]+"]("+helpSrv.URL) {
		t.Fatalf("the notice does not link %s: %q", keys[0], notice)
	}
	if atts, _ := help.Store().Attachments(keys[0]); len(atts) != 1 {
		t.Fatalf("%d attachments on %s, want the one it had", len(atts), keys[0])
	}
	for _, is := range gh.Issues("acme/widgets") {
		for _, c := range is.Comments {
			if strings.Count(c, "lockstep:") > 1 {
				t.Fatalf("a comment of issue %d carries its marker twice: %q", is.Number, c)
			}
		}
	}

	// Changes flow both ways: a title and a state from the helpdesk, a
	// title and closing from GitHub, a comment from GitHub.
	resolved, renamed := "resolved", "Incident 1, renamed in the helpdesk"
	if _, err := help.Store().UpdateItem(keys[1], sandbox.Patch{Title: &renamed, Status: &resolved}, 0); err != nil {
		t.Fatal(err)
	}
	i2 := issueOf("Incident 2").Number
	gh.Edit("acme/widgets", i2, "Incident 2, renamed on GitHub", "", "closed")
	gh.Comment("acme/widgets", i2, "octo", "fixed on GitHub")
	// A link made in the helpdesk once both ends are paired.
	if _, _, err := help.Store().AddLink(keys[3], "blocks", keys[4]); err != nil {
		t.Fatal(err)
	}
	e.runNow()
	e.wait("changes cross both ways", func() string {
		is := issueOf(renamed)
		if is.Number == 0 || is.State != "closed" {
			return fmt.Sprintf("GitHub has no closed issue %q", renamed)
		}
		it, err := help.Store().GetItem(keys[2])
		if err != nil || it.Title != "Incident 2, renamed on GitHub" || it.Status != "resolved" {
			return fmt.Sprintf("the helpdesk has %q (%s), want the GitHub title, resolved", it.Title, it.Status)
		}
		if n := countContaining(itemComments(t, help, "Incident 2, renamed on GitHub"), "fixed on GitHub"); n != 1 {
			return fmt.Sprintf("the GitHub comment is in the helpdesk %d times", n)
		}
		if got := gh.Blocking("acme/widgets", issueOf("Incident 3").Number); !slices.Equal(got, []int{issueOf("Incident 4").Number}) {
			return fmt.Sprintf("issue for Incident 3 blocks %v", got)
		}
		return ""
	})
	if n, m := len(gh.Issues("acme/widgets")), len(helpItems(t, help)); n != 7 || m != 7 {
		t.Fatalf("%d issues and %d items at the end, want 7 each", n, m)
	}
	var parked struct{ Errors []any }
	e.client().call("errors.list", map[string]any{"process": e.process}, &parked)
	if len(parked.Errors) != 0 {
		e.diagnose()
		t.Errorf("parked errors at the end: %v", parked.Errors)
	}
	e.cmd.Process.Signal(syscall.SIGTERM) // the log is complete once the agent has stopped
	e.cmd.Wait()
	logs, _ := os.ReadFile(filepath.Join(e.dir, "logs", "agent.log"))
	if strings.Contains(string(logs), ghToken) || strings.Contains(e.stderr.String(), ghToken) {
		t.Errorf("the GitHub token reached the agent's log")
	}
}

// configureGitHub adds both systems and the process an administrator
// would set up between a helpdesk and a GitHub repository.
func configureGitHub(e *realEnv, helpURL, ghURL string) {
	c := e.client()
	var a, b struct{ System struct{ ID string } }
	c.call("systems.create", map[string]any{"name": "Helpdesk", "kind": "sandbox", "url": helpURL,
		"settings": map[string]any{"project": "HELP"}, "secrets": map[string]string{"token": "tok-HELP"}}, &a)
	c.call("systems.create", map[string]any{"name": "GitHub acme", "kind": "github", "url": ghURL,
		"settings": map[string]any{"owner": "acme", "repository": "widgets", "attachments": "comment", "writesPerMinute": 60},
		"secrets":  map[string]string{"token": ghToken}}, &b)
	status := map[string]any{"pairs": []any{
		map[string]string{"a": "open", "b": "open"}, map[string]string{"a": "resolved", "b": "completed"},
		map[string]string{"a": "closed", "b": "not_planned"}},
		"onMissing": "default", "defaultA": "open", "defaultB": "open"}
	proc := map[string]any{
		"name": "Helpdesk <-> GitHub",
		"a":    map[string]string{"system": a.System.ID, "project": "HELP"},
		"b":    map[string]string{"system": b.System.ID, "project": "widgets"},
		"types": []any{map[string]any{"a": "incident", "b": "issue",
			"fields": []any{
				map[string]any{"a": "title", "b": "title", "direction": "both"},
				map[string]any{"a": "status", "b": "status", "direction": "both", "valueMap": status},
			},
			"linkTypes": []any{map[string]string{"a": "blocks", "b": "blocks"}},
		}},
		"options":  map[string]any{"createInA": true, "createInB": true, "comments": true, "attachments": true, "conflict": "a_wins"},
		"schedule": map[string]any{"pollSeconds": 5},
		"active":   true,
	}
	var res struct{ Process struct{ ID string } }
	c.call("processes.create", map[string]any{"process": proc}, &res)
	e.process = res.Process.ID
}

func helpItems(t *testing.T, s *sandbox.Server) []sandbox.Item {
	t.Helper()
	var out []sandbox.Item
	for q := (sandbox.Query{Project: "HELP", Limit: 100}); ; {
		page, err := s.Store().ListItems(q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			return out
		}
	}
}

func itemComments(t *testing.T, s *sandbox.Server, title string) []string {
	t.Helper()
	for _, it := range helpItems(t, s) {
		if it.Title == title {
			cs, _, err := s.Store().Comments(it.Key, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range cs {
				out = append(out, c.Body)
			}
			return out
		}
	}
	return nil
}

func countContaining(list []string, s string) (n int) {
	for _, x := range list {
		if strings.Contains(x, s) {
			n++
		}
	}
	return n
}
