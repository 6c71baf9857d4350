package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector/gitlab/gitlabemu"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
)

// TestGitLabEndToEnd runs a real agent process between a sandbox helpdesk
// (side A) and the GitLab emulator (side B, project acme/engineering):
// tickets create issues and issues create tickets, title and state flow
// both ways, comments and attachments cross once each way, a GitLab link
// shows in the sandbox and a sandbox link in GitLab, and killing the agent
// in the middle of a run creates no duplicate on either side. Everything
// is checked in the systems themselves, not through the agent.
func TestGitLabEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	e := newGitLabEnv(t)
	t1 := e.ticket("Printer on fire", "It smells of *toner*.")
	t2 := e.ticket("VPN drops every hour", "Since Monday.")

	e.startAgent()
	e.configure()

	i1, i2 := e.issueFor("Printer on fire"), e.issueFor("VPN drops every hour")
	if d := e.issue(i1)["description"].(string); !strings.Contains(d, "toner") || !strings.Contains(d, "<!-- lockstep:") {
		t.Errorf("the issue's description %q lacks the ticket's text or the marker", d)
	}

	// The title flows to GitLab, the state back.
	title := "Printer on fire (floor 3)"
	e.sb.Store().UpdateItem(t1, sandbox.Patch{Title: &title}, 0)
	e.wait("the title reaches GitLab", func() string { return expect("GitLab title", e.issue(i1)["title"].(string), title) })
	if err := e.gl.EditIssue(engProject, i1, "bob", map[string]any{"state_event": "close"}); err != nil {
		t.Fatal(err)
	}
	e.wait("the close reaches the sandbox", func() string { return expect("sandbox status", e.item(t1).Status, "resolved") })

	// An issue made in GitLab makes a ticket, once.
	i3, err := e.gl.CreateIssue(engProject, "bob", map[string]any{"title": "Parser crashes on empty input"})
	if err != nil {
		t.Fatal(err)
	}
	t3 := e.ticketFor("Parser crashes on empty input")

	// Comments cross once each way.
	e.sb.Store().AddComment(t2, "carol", "Customer says it still drops")
	e.gl.AddNote(engProject, i2, "bob", "Looking at the tunnel logs")
	e.wait("comments cross once each way", func() string {
		if n := e.notesWith(i2, "still drops"); n != 1 {
			return fmt.Sprintf("the sandbox comment is in %d GitLab notes", n)
		}
		if n := e.commentsWith(t2, "tunnel logs"); n != 1 {
			return fmt.Sprintf("the GitLab note is in %d sandbox comments", n)
		}
		return ""
	})

	// Attachments cross both ways.
	e.sb.Store().AddAttachment(t2, "vpn.log", "text/plain", "carol", strings.NewReader("tunnel down at 10:00\n"))
	md := e.gl.Upload(engProject, "bob", "trace.txt", []byte("traceroute output\n"))
	e.gl.AddNote(engProject, i2, "bob", "trace attached: "+md)
	e.wait("attachments cross both ways", func() string {
		if !slices.ContainsFunc(e.gl.Notes(engProject, i2), func(n string) bool { return strings.Contains(n, "/vpn.log)") }) {
			return "no GitLab note carries vpn.log"
		}
		atts, _ := e.sb.Store().Attachments(t2)
		if !slices.ContainsFunc(atts, func(a sandbox.Attachment) bool {
			return a.Name == "trace.txt" && a.Size == int64(len("traceroute output\n"))
		}) {
			return fmt.Sprintf("the sandbox has %+v, want trace.txt", atts)
		}
		return ""
	})

	// A GitLab link shows in the sandbox, a sandbox link in GitLab.
	e.glLink(i1, i3, "relates_to")
	if _, _, err := e.sb.Store().AddLink(t2, "blocks", t1); err != nil {
		t.Fatal(err)
	}
	e.wait("links cross both ways", func() string {
		if !e.sbLinked(t1, "relates", t3) {
			return "the sandbox ticket does not relate to the GitLab-born one"
		}
		if !e.glLinked(i2, "blocks", i1) {
			return "the GitLab issue does not block the other"
		}
		return ""
	})

	// Crash: tickets arrive, the agent is killed mid-run and restarted.
	titles := e.crashMidRun("Crash ticket", func(title string) { e.ticket(title, "created before a crash") })
	e.wait("every crash ticket has exactly one issue and nothing came back twice", func() string {
		if problem := exactlyOnce("GitLab issues", e.issueTitles(), titles, 9); problem != "" {
			return problem
		}
		if tickets := e.ticketTitles(); len(tickets) != 9 {
			return fmt.Sprintf("%d sandbox tickets, want 9: %v", len(tickets), tickets)
		}
		return ""
	})
	// Nothing was copied twice while the agent restarted and polled on.
	e.runNow()
	if n := e.notesWith(i2, "still drops"); n != 1 {
		t.Fatalf("after the crash the sandbox comment is in %d GitLab notes", n)
	}
	if n := e.commentsWith(t2, "tunnel logs"); n != 1 {
		t.Fatalf("after the crash the GitLab note is in %d sandbox comments", n)
	}
	if st := e.gl.Stats(); st.EarlyRetries != 0 {
		t.Fatalf("the agent came back before GitLab told it to: %+v", st)
	}
}

const (
	engProject = 7
	glToken    = "glpat-lockstep-e2e-0123456789"
	bobToken   = "glpat-bob-e2e-9876543210"
)

// gitLabEnv is a real agent between an in-process sandbox and GitLab
// emulator.
type gitLabEnv struct {
	e2eAgent
	sb    *sandbox.Server
	sbURL string
	gl    *gitlabemu.Emu
}

func newGitLabEnv(t *testing.T) *gitLabEnv {
	sb, err := sandbox.New(sandbox.Options{Tokens: []sandbox.Token{{Value: "tok-HELP", User: "alice"}},
		Users: sandbox.DemoUsers(), Projects: []sandbox.Project{{Key: "HELP", Name: "Helpdesk", Types: []string{"incident"}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { srv.Close(); sb.Close() })
	// Premium (blocking links), with GitLab.com's authenticated API
	// throttle and its issue and note creation limits.
	gl := gitlabemu.Start(gitlabemu.Options{Premium: true, APILimit: 2000, IssueCreateLimit: 200, NoteCreateLimit: 300,
		Users: []gitlabemu.User{
			{ID: 10, Username: "lockstep", Name: "Lockstep Bot", Token: glToken},
			{ID: 11, Username: "bob", Name: "Bob Builder", Email: "bob@example.com", Token: bobToken},
		},
		Projects: []gitlabemu.Project{{ID: engProject, Path: "acme/engineering", Name: "Engineering",
			Members: map[string]int{"lockstep": gitlabemu.Maintainer, "bob": gitlabemu.Developer}}}})
	t.Cleanup(gl.Close)
	return &gitLabEnv{e2eAgent: e2eAgent{t: t, password: "gitlab journey admin password"}, sb: sb, sbURL: srv.URL, gl: gl}
}

func (e *gitLabEnv) configure() {
	c := e.client()
	var a, b struct{ System struct{ ID string } }
	c.call("systems.create", map[string]any{"name": "Helpdesk", "kind": "sandbox", "url": e.sbURL,
		"settings": map[string]any{"project": "HELP"}, "secrets": map[string]string{"token": "tok-HELP"}}, &a)
	c.call("systems.create", map[string]any{"name": "Engineering (GitLab)", "kind": "gitlab", "url": e.gl.URL(),
		"settings": map[string]any{"project": "acme/engineering"}, "secrets": map[string]string{"token": glToken}}, &b)
	proc := map[string]any{
		"name": "Helpdesk <-> GitLab",
		"a":    map[string]string{"system": a.System.ID, "project": "HELP"},
		"b":    map[string]string{"system": b.System.ID, "project": "acme/engineering"},
		"types": []any{map[string]any{"a": "incident", "b": "issue",
			"fields": []any{
				map[string]any{"a": "title", "b": "title", "direction": "both"},
				map[string]any{"a": "description", "b": "description", "direction": "a_to_b"},
				map[string]any{"a": "status", "b": "status", "direction": "both", "valueMap": map[string]any{
					"pairs":     pairs("open", "opened", "resolved", "closed"),
					"onMissing": "default", "defaultA": "open", "defaultB": "opened"}},
			},
			"linkTypes": pairs("relates", "relates_to", "blocks", "blocks"),
		}},
		"options":  map[string]any{"createInA": true, "createInB": true, "comments": true, "attachments": true, "maxAttachmentBytes": 10 << 20, "conflict": "hold"},
		"schedule": map[string]any{"pollSeconds": 5},
		"active":   true,
	}
	var res struct{ Process struct{ ID string } }
	c.call("processes.create", map[string]any{"process": proc}, &res)
	e.process = res.Process.ID
}

// ---- the sandbox ----

func (e *gitLabEnv) ticket(title, desc string) string {
	e.t.Helper()
	it, err := e.sb.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: title, Description: desc})
	if err != nil {
		e.t.Fatal(err)
	}
	return it.Key
}

func (e *gitLabEnv) item(key string) sandbox.Item {
	e.t.Helper()
	it, err := e.sb.Store().GetItem(key)
	if err != nil {
		e.t.Fatal(err)
	}
	return it
}

func (e *gitLabEnv) tickets() []sandbox.Item {
	var out []sandbox.Item
	for q := (sandbox.Query{Project: "HELP", Limit: 100}); ; {
		page, err := e.sb.Store().ListItems(q)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, page.Items...)
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			return out
		}
	}
}

func (e *gitLabEnv) ticketTitles() (out []string) {
	for _, it := range e.tickets() {
		out = append(out, it.Title)
	}
	return out
}

func (e *gitLabEnv) ticketFor(title string) (key string) {
	e.t.Helper()
	e.wait("a sandbox ticket for "+title, func() string {
		n := 0
		for _, it := range e.tickets() {
			if it.Title == title {
				key, n = it.Key, n+1
			}
		}
		if n != 1 {
			return fmt.Sprintf("%d tickets", n)
		}
		return ""
	})
	return key
}

func (e *gitLabEnv) commentsWith(key, s string) (n int) {
	cs, _, err := e.sb.Store().Comments(key, 0, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range cs {
		if strings.Contains(c.Body, s) {
			n++
		}
	}
	return n
}

func (e *gitLabEnv) sbLinked(from, typ, to string) bool {
	ls, err := e.sb.Store().Links(from)
	if err != nil {
		e.t.Fatal(err)
	}
	target := e.item(to)
	return slices.ContainsFunc(ls, func(l sandbox.Link) bool {
		return l.Type == typ && (l.Target.Key == target.Key || l.Target.ID == target.ID)
	})
}

// ---- GitLab ----

func (e *gitLabEnv) issue(iid int) map[string]any {
	for _, is := range e.gl.Issues(engProject) {
		if n, _ := is["iid"].(int); n == iid {
			return is
		}
	}
	e.t.Fatalf("no issue #%d", iid)
	return nil
}

func (e *gitLabEnv) issueTitles() (out []string) {
	for _, is := range e.gl.Issues(engProject) {
		out = append(out, is["title"].(string))
	}
	return out
}

func (e *gitLabEnv) issueFor(title string) (iid int) {
	e.t.Helper()
	e.wait("a GitLab issue for "+title, func() string {
		n := 0
		for _, is := range e.gl.Issues(engProject) {
			if is["title"] == title {
				iid, n = is["iid"].(int), n+1
			}
		}
		if n != 1 {
			return fmt.Sprintf("%d issues", n)
		}
		return ""
	})
	return iid
}

func (e *gitLabEnv) notesWith(iid int, s string) (n int) {
	for _, body := range e.gl.Notes(engProject, iid) {
		if !strings.HasPrefix(body, "system: ") && strings.Contains(body, s) {
			n++
		}
	}
	return n
}

// glAPI calls the emulator's REST API as bob, as a person's script would.
func (e *gitLabEnv) glAPI(method, path string, in, out any) {
	e.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.gl.URL()+"/api/v4"+path, body)
	req.Header.Set("PRIVATE-TOKEN", bobToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		e.t.Fatalf("GitLab %s %s: %s %s", method, path, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *gitLabEnv) glLink(from, to int, typ string) {
	e.glAPI(http.MethodPost, fmt.Sprintf("/projects/%d/issues/%d/links", engProject, from),
		map[string]any{"target_project_id": engProject, "target_issue_iid": to, "link_type": typ}, nil)
}

func (e *gitLabEnv) glLinked(from int, typ string, to int) bool {
	var links []struct {
		IID      int    `json:"iid"`
		LinkType string `json:"link_type"`
	}
	e.glAPI(http.MethodGet, fmt.Sprintf("/projects/%d/issues/%d/links", engProject, from), nil, &links)
	return slices.ContainsFunc(links, func(l struct {
		IID      int    `json:"iid"`
		LinkType string `json:"link_type"`
	}) bool {
		return l.IID == to && l.LinkType == typ
	})
}
