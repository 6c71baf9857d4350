package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/realsys"
)

// TestRealHelpdeskToEngineering runs a real agent process between a real
// Request Tracker queue (the helpdesk, side A) and a real Redmine project
// (engineering, side B): tickets create bugs, status, priority and comments
// flow both ways, attachments cross in both directions, a Redmine relation
// shows as an RT link, and killing the agent in the middle of a run creates no
// duplicate on either side. Everything is checked through the systems' own
// REST APIs, not through the agent.
func TestRealHelpdeskToEngineering(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	rm, rt := realsys.StartRedmine(t), realsys.StartRT(t)
	project, queue := rm.NewProject(t), rt.NewQueue(t)
	e := &realEnv{e2eAgent: e2eAgent{t: t, password: realPassword}, rm: rm, rt: rt, project: project, queue: queue}

	// Two tickets exist before the agent ever starts; the first run must
	// create their bugs.
	t1 := e.newTicket("Printer on floor 3 is on fire", "It smells of *toner*.", 50)
	t2 := e.newTicket("VPN drops every hour", "Since Monday.", 50)

	e.startAgent()
	e.configure()

	i1, i2 := e.issueFor("Printer on floor 3 is on fire"), e.issueFor("VPN drops every hour")
	if d := e.issue(i1).Description; !strings.Contains(d, "toner") {
		t.Errorf("the bug's description %q does not carry the ticket's", d)
	}

	// Status and priority flow both ways.
	rm.Call(t, http.MethodPut, fmt.Sprintf("/issues/%d.json", i1), map[string]any{"issue": map[string]any{"status_id": e.redmineStatus("In Progress")}}, nil)
	e.wait("status from Redmine reaches RT", func() string {
		return expect("RT status", e.ticket(t1).Status, "open")
	})
	e.rtDo(http.MethodPut, "/ticket/"+t2, map[string]any{"Priority": 70})
	e.wait("priority from RT reaches Redmine", func() string {
		return expect("Redmine priority", e.issue(i2).Priority.Name, "High")
	})

	// Comments both ways, each exactly once.
	e.rtDo(http.MethodPost, "/ticket/"+t1+"/comment", map[string]any{"Content": "Customer says it is still burning", "ContentType": "text/plain"})
	rm.Call(t, http.MethodPut, fmt.Sprintf("/issues/%d.json", i1), map[string]any{"issue": map[string]any{"notes": "Facilities are on their way"}}, nil)
	e.wait("comments cross once each way", func() string {
		if n := e.journalsWith(i1, "still burning"); n != 1 {
			return fmt.Sprintf("the RT comment is in %d Redmine journals", n)
		}
		if n := e.ticketTextsWith(t1, "Facilities are on their way"); n != 1 {
			return fmt.Sprintf("the Redmine note is in %d RT transactions", n)
		}
		return ""
	})

	// Attachments both ways.
	e.rtDo(http.MethodPost, "/ticket/"+t2+"/comment", map[string]any{"Content": "log attached", "ContentType": "text/plain",
		"Attachments": []any{map[string]any{"FileName": "vpn.log", "FileType": "text/plain", "FileContent": base64.StdEncoding.EncodeToString([]byte("tunnel down at 10:00\n"))}}})
	e.redmineAttach(i2, "trace.txt", []byte("traceroute output\n"))
	e.wait("attachments cross both ways", func() string {
		var names []string
		for _, a := range e.issue(i2).Attachments {
			names = append(names, a.Filename)
		}
		if !slices.Contains(names, "vpn.log") {
			return fmt.Sprintf("Redmine has %v, want vpn.log", names)
		}
		if files := e.ticketFiles(t2); !slices.Contains(files, "trace.txt") {
			return fmt.Sprintf("RT has %v, want trace.txt", files)
		}
		return ""
	})

	// A relation made in Redmine (which does not move updated_on) shows as
	// a link in RT after the connector's reconcile walk.
	rm.Call(t, http.MethodPost, fmt.Sprintf("/issues/%d/relations.json", i1), map[string]any{"relation": map[string]any{"issue_to_id": i2, "relation_type": "relates"}}, nil)
	e.wait("the Redmine relation reaches RT", func() string {
		if e.linked(t1, "refers-to", t2) || e.linked(t2, "refers-to", t1) {
			return ""
		}
		return "neither ticket refers to the other"
	})

	// Crash: tickets arrive, the agent is killed mid-run and restarted.
	titles := e.crashMidRun("Crash ticket", func(title string) { e.newTicket(title, "created before a crash", 50) })
	e.wait("every crash ticket has exactly one bug and no ticket came back", func() string {
		if problem := exactlyOnce("Redmine issues", e.issueSubjects(), titles, 8); problem != "" {
			return problem
		}
		if tickets := e.ticketSubjects(); len(tickets) != 8 {
			return fmt.Sprintf("%d RT tickets, want 8: %v", len(tickets), tickets)
		}
		return ""
	})
}

const realPassword = "real systems admin password"

type realEnv struct {
	e2eAgent
	rm      realsys.Redmine
	rt      realsys.RT
	project string
	queue   string
}

// configure adds both systems and the process an administrator would set up
// for a helpdesk and an engineering team.
func (e *realEnv) configure() {
	c := e.client()
	var a, b struct{ System struct{ ID string } }
	c.call("systems.create", map[string]any{"name": "Helpdesk (RT)", "kind": "rt", "url": e.rt.URL,
		"settings": map[string]any{"queue": e.queue}, "secrets": map[string]string{"token": e.rt.Token}}, &a)
	c.call("systems.create", map[string]any{"name": "Engineering (Redmine)", "kind": "redmine", "url": e.rm.URL,
		"settings": map[string]any{"project": e.project, "reconcileMinutes": 1}, "secrets": map[string]string{"apiKey": e.rm.APIKey}}, &b)
	proc := map[string]any{
		"name": "Helpdesk tickets <-> Engineering bugs",
		"a":    map[string]string{"system": a.System.ID, "project": e.queue},
		"b":    map[string]string{"system": b.System.ID, "project": e.project},
		"types": []any{map[string]any{"a": "ticket", "b": "Bug",
			"fields": []any{
				map[string]any{"a": "title", "b": "title", "direction": "both"},
				map[string]any{"a": "description", "b": "description", "direction": "a_to_b"},
				map[string]any{"a": "status", "b": "status", "direction": "both", "valueMap": map[string]any{
					"pairs":     pairs("new", "New", "open", "In Progress", "stalled", "Feedback", "resolved", "Resolved", "rejected", "Rejected"),
					"onMissing": "default", "defaultA": "open", "defaultB": "In Progress"}},
				map[string]any{"a": "priority", "b": "priority", "direction": "both", "valueMap": map[string]any{
					"pairs":     pairs("20", "Low", "50", "Normal", "70", "High", "90", "Urgent", "100", "Immediate"),
					"onMissing": "default", "defaultA": "50", "defaultB": "Normal"}},
			},
			"linkTypes": pairs("RefersTo", "relates", "DependsOn", "blocked"),
		}},
		"options":  map[string]any{"createInA": true, "createInB": true, "comments": true, "attachments": true, "maxAttachmentBytes": 10 << 20, "writePeerKey": true, "conflict": "hold"},
		"schedule": map[string]any{"pollSeconds": 5},
		"active":   true,
	}
	var res struct{ Process struct{ ID string } }
	c.call("processes.create", map[string]any{"process": proc}, &res)
	e.process = res.Process.ID
}

func expect(what, got, want string) string {
	if got == want {
		return ""
	}
	return fmt.Sprintf("%s is %q, want %q", what, got, want)
}

func count(l []string, s string) (n int) {
	for _, x := range l {
		if x == s {
			n++
		}
	}
	return n
}

// ---- Request Tracker, through REST2 ----

func (e *realEnv) rtDo(method, path string, in any) {
	e.t.Helper()
	if err := e.rt.Do(e.t, method, path, in, nil); err != nil {
		e.t.Fatalf("RT %s %s: %v", method, path, err)
	}
}

func (e *realEnv) newTicket(subject, content string, priority int) string {
	e.t.Helper()
	var out struct{ ID string }
	if err := e.rt.Do(e.t, http.MethodPost, "/ticket", map[string]any{"Queue": e.queue, "Subject": subject, "Content": content,
		"ContentType": "text/plain", "Priority": priority}, &out); err != nil {
		e.t.Fatalf("create ticket: %v", err)
	}
	return out.ID
}

type rtTicket struct {
	Status     string
	Hyperlinks []struct {
		Ref string `json:"ref"`
		ID  any    `json:"id"` // a number for tickets, a string for users
	} `json:"_hyperlinks"`
}

func (e *realEnv) ticket(id string) rtTicket {
	var tk rtTicket
	if err := e.rt.Do(e.t, http.MethodGet, "/ticket/"+id, nil, &tk); err != nil {
		e.t.Fatalf("read ticket %s: %v", id, err)
	}
	return tk
}

func (e *realEnv) linked(from, ref, to string) bool {
	for _, h := range e.ticket(from).Hyperlinks {
		if h.Ref == ref && fmt.Sprint(h.ID) == to {
			return true
		}
	}
	return false
}

type rtAttachment struct {
	Filename string
	Content  string
}

func (e *realEnv) ticketAttachments(id string) []rtAttachment {
	var page struct{ Items []rtAttachment }
	if err := e.rt.Do(e.t, http.MethodGet, "/ticket/"+id+"/attachments?fields=Filename,Content&per_page=100", nil, &page); err != nil {
		e.t.Fatalf("list attachments of ticket %s: %v", id, err)
	}
	return page.Items
}

// ticketTextsWith counts the message parts of the ticket containing s.
func (e *realEnv) ticketTextsWith(id, s string) (n int) {
	for _, a := range e.ticketAttachments(id) {
		if a.Filename == "" && strings.Contains(a.Content, s) {
			n++
		}
	}
	return n
}

func (e *realEnv) ticketFiles(id string) (names []string) {
	for _, a := range e.ticketAttachments(id) {
		if a.Filename != "" {
			names = append(names, a.Filename)
		}
	}
	return names
}

func (e *realEnv) ticketSubjects() (out []string) {
	q := url.QueryEscape(fmt.Sprintf("Queue = '%s'", e.queue))
	var page struct{ Items []struct{ Subject string } }
	if err := e.rt.Do(e.t, http.MethodGet, "/tickets?query="+q+"&fields=Subject&per_page=100", nil, &page); err != nil {
		e.t.Fatalf("search tickets: %v", err)
	}
	for _, it := range page.Items {
		out = append(out, it.Subject)
	}
	return out
}

// ---- Redmine, through its REST API ----

type rmIssue struct {
	ID          int64
	Subject     string
	Description string
	Status      struct{ Name string }
	Priority    struct{ Name string }
	Attachments []struct{ Filename string }
	Journals    []struct{ Notes string }
}

func (e *realEnv) issue(id int64) rmIssue {
	var out struct{ Issue rmIssue }
	e.rm.Call(e.t, http.MethodGet, fmt.Sprintf("/issues/%d.json?include=attachments,journals,relations", id), nil, &out)
	return out.Issue
}

func (e *realEnv) issues() []rmIssue {
	var out struct{ Issues []rmIssue }
	e.rm.Call(e.t, http.MethodGet, "/issues.json?status_id=*&limit=100&project_id="+url.QueryEscape(e.project), nil, &out)
	return out.Issues
}

func (e *realEnv) issueSubjects() (out []string) {
	for _, is := range e.issues() {
		out = append(out, is.Subject)
	}
	return out
}

// issueFor waits for the bug created for a ticket titled subject.
func (e *realEnv) issueFor(subject string) (id int64) {
	e.t.Helper()
	e.wait("a Redmine bug for "+subject, func() string {
		for _, is := range e.issues() {
			if is.Subject == subject {
				id = is.ID
				return ""
			}
		}
		return "none yet"
	})
	return id
}

func (e *realEnv) journalsWith(id int64, s string) (n int) {
	for _, j := range e.issue(id).Journals {
		if strings.Contains(j.Notes, s) {
			n++
		}
	}
	return n
}

func (e *realEnv) redmineStatus(name string) int64 {
	var out struct {
		IssueStatuses []struct {
			ID   int64
			Name string
		} `json:"issue_statuses"`
	}
	e.rm.Call(e.t, http.MethodGet, "/issue_statuses.json", nil, &out)
	for _, s := range out.IssueStatuses {
		if s.Name == name {
			return s.ID
		}
	}
	e.t.Fatalf("no Redmine status %q", name)
	return 0
}

// redmineAttach uploads a file and attaches it, as Redmine's two steps need.
func (e *realEnv) redmineAttach(issue int64, name string, data []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, strings.TrimRight(e.rm.URL, "/")+"/uploads.json?filename="+url.QueryEscape(name), bytes.NewReader(data))
	req.Header.Set("X-Redmine-API-Key", e.rm.APIKey)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var up struct{ Upload struct{ Token string } }
	if resp.StatusCode != http.StatusCreated || decodeJSON(body, &up) != nil {
		e.t.Fatalf("upload %s: %s %s", name, resp.Status, body)
	}
	e.rm.Call(e.t, http.MethodPut, fmt.Sprintf("/issues/%d.json", issue), map[string]any{"issue": map[string]any{
		"uploads": []any{map[string]string{"token": up.Upload.Token, "filename": name, "content_type": "text/plain"}}}}, nil)
}

func decodeJSON(data []byte, out any) error { return json.Unmarshal(data, out) }
