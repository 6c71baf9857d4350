package main

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector/servicenow/snemu"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
)

// TestServiceNowToSandbox runs a real agent process between a ServiceNow
// instance (the emulator, side A: incidents) and a sandbox project
// (side B: bugs): incidents create bugs, status and urgency flow both
// ways, comments cross once each way (work notes written, the marker
// hidden), attachments cross in both directions (one added in ServiceNow
// without a change to its record), a sandbox link shows as a ServiceNow
// parent_incident, the business rule's webhook deliveries are accepted,
// and killing the agent in the middle of a run creates no duplicate on
// either side. Everything is checked in the systems themselves.
func TestServiceNowToSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	const (
		clientID     = "9d2c0e7a41b64f3f8a1e5c6b7d8e9f00"
		clientSecret = "sn-client-secret-canary-31f7"
		hookSecret   = "sn-hook-secret-canary-8c2e"
	)
	sn := snemu.Start(snemu.Options{
		Users: []snemu.User{
			{UserName: "lockstep.integration", Name: "Lockstep Integration", Email: "lockstep@example.com", TimeZone: "Europe/Berlin"},
			{UserName: "beth.anglin", Name: "Beth Anglin", Email: "beth@example.com"},
		},
		Groups:            []string{"Service Desk"},
		Clients:           []snemu.Client{{ID: clientID, Secret: clientSecret, User: "lockstep.integration"}},
		ClientCredentials: true,
		HookClient:        &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}},
	})
	t.Cleanup(sn.Close)
	eng, err := sandbox.New(sandbox.Options{Tokens: []sandbox.Token{{Value: "tok-ENG-e2e-0123", User: "alice"}}, Users: sandbox.DemoUsers(),
		Projects: []sandbox.Project{{Key: "ENG", Name: "Engineering", Types: []string{"bug"}}}})
	if err != nil {
		t.Fatal(err)
	}
	engSrv := httptest.NewServer(eng.Handler())
	t.Cleanup(func() { engSrv.Close(); eng.Close() })
	e := &snEnv{e2eAgent: e2eAgent{t: t, password: snPassword}, sn: sn, eng: eng}

	// Two incidents exist before the agent ever starts.
	i1 := e.incident("Printer on fire", map[string]string{"description": "It smells of toner.", "urgency": "2"})
	i2 := e.incident("VPN drops every hour", map[string]string{"description": "Since Monday."})

	e.startAgent()
	e.configure(sn.URL(), engSrv.URL, clientID, clientSecret, hookSecret)
	// The administrator sets up the business rule with the process's
	// webhook URL, as the connector's documentation describes.
	sn.AddHook(snemu.Hook{Table: "incident", URL: "https://" + e.addr + "/v1/hooks/" + e.process + "/a", Secret: hookSecret})

	b1, b2 := e.bugFor("Printer on fire"), e.bugFor("VPN drops every hour")
	if it, _ := eng.Store().GetItem(b1); !strings.Contains(it.Description, "toner") || it.Priority != "medium" {
		t.Errorf("bug %s: description %q, priority %q", b1, it.Description, it.Priority)
	}

	// Status and urgency both ways.
	e.snUpdate(i1, map[string]string{"state": "2"})
	e.wait("the ServiceNow state reaches the bug", func() string { return e.bugField(b1, "status", "in_progress") })
	high := "high"
	if _, err := eng.Store().UpdateItem(b2, sandbox.Patch{Priority: &high}, 0); err != nil {
		t.Fatal(err)
	}
	e.wait("the bug's priority reaches the incident's urgency", func() string {
		return expect("urgency of "+i2, sn.Record(i2)["urgency"], "1")
	})

	// Comments both ways, each exactly once; copies go to work notes.
	e.snUpdate(i1, map[string]string{"comments": "Customer says it is still burning"})
	if _, err := eng.Store().AddComment(b1, "alice", "Facilities are on their way"); err != nil {
		t.Fatal(err)
	}
	e.wait("comments cross once each way", func() string {
		if n := e.bugCommentsWith(b1, "still burning"); n != 1 {
			return fmt.Sprintf("the ServiceNow comment is in %d sandbox comments", n)
		}
		var notes []snemu.JournalEntry
		for _, j := range sn.Journal(i1) {
			if strings.Contains(j.Value, "Facilities are on their way") {
				notes = append(notes, j)
			}
		}
		if len(notes) != 1 || notes[0].Element != "work_notes" || !strings.Contains(notes[0].Value, "[code]<!-- lockstep:") {
			return fmt.Sprintf("the sandbox comment is in %d journal entries: %+v", len(notes), notes)
		}
		return ""
	})

	// Attachments both ways; the ServiceNow one does not update its record.
	if _, err := sn.Attach(i2, "beth.anglin", "vpn.log", "text/plain", []byte("tunnel down at 10:00\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Store().AddAttachment(b2, "trace.txt", "text/plain", "alice", strings.NewReader("traceroute output\n")); err != nil {
		t.Fatal(err)
	}
	e.wait("attachments cross both ways", func() string {
		as, _ := eng.Store().Attachments(b2)
		if !slices.ContainsFunc(as, func(a sandbox.Attachment) bool { return a.Name == "vpn.log" }) {
			return fmt.Sprintf("the bug has %+v, want vpn.log", as)
		}
		files := sn.Files(i2)
		if !slices.ContainsFunc(files, func(f snemu.File) bool { return f.Name == "trace.txt" && string(f.Data) == "traceroute output\n" }) {
			return fmt.Sprintf("the incident has %d files, want trace.txt", len(files))
		}
		return ""
	})

	// A sandbox link ("bug 1's parent is bug 2") becomes the incident's
	// parent_incident.
	if _, _, err := eng.Store().AddLink(b1, "parent", b2); err != nil {
		t.Fatal(err)
	}
	e.wait("the sandbox link reaches ServiceNow", func() string {
		return expect("parent_incident of "+i1, sn.Record(i1)["parent_incident"], i2)
	})

	// Crash: incidents arrive, the agent is killed mid-run and restarted.
	var titles []string
	for i := range 6 {
		title := fmt.Sprintf("Crash incident %d", i)
		titles = append(titles, title)
		e.incident(title, nil)
	}
	e.runNow()
	time.Sleep(1500 * time.Millisecond)
	e.kill()
	e.startAgent()
	e.runNow()
	e.wait("every crash incident has exactly one bug and no incident came back", func() string {
		bugs := e.bugTitles()
		for _, title := range titles {
			if n := count(bugs, title); n != 1 {
				return fmt.Sprintf("%d bugs titled %q", n, title)
			}
		}
		if len(bugs) != 8 {
			return fmt.Sprintf("%d bugs, want 8: %v", len(bugs), bugs)
		}
		if n := len(sn.Records("incident")); n != 8 {
			return fmt.Sprintf("%d incidents, want 8", n)
		}
		return ""
	})

	st := sn.Stats()
	if st.Deliveries == 0 || st.FailedHooks != 0 {
		t.Errorf("business rule deliveries %d, refused or lost %d", st.Deliveries, st.FailedHooks)
	}
	var parked struct{ Errors []any }
	e.client().call("errors.list", map[string]any{"process": e.process}, &parked)
	if len(parked.Errors) != 0 {
		e.diagnose()
		t.Errorf("parked errors at the end: %v", parked.Errors)
	}
	e.stop()
	logs, _ := os.ReadFile(filepath.Join(e.dir, "logs", "agent.log"))
	for _, s := range []string{clientSecret, hookSecret} {
		if strings.Contains(string(logs), s) || strings.Contains(e.stderr.String(), s) {
			t.Errorf("a secret reached the agent's log")
		}
	}
}

const snPassword = "servicenow e2e admin password"

type snEnv struct {
	e2eAgent
	sn  *snemu.Emu
	eng *sandbox.Server
}

func (e *snEnv) stop() {
	e.cmd.Process.Signal(syscall.SIGTERM)
	e.cmd.Wait()
}

// configure adds both systems (ServiceNow with OAuth client credentials
// and a webhook secret) and the process.
func (e *snEnv) configure(snURL, engURL, clientID, clientSecret, hookSecret string) {
	c := e.client()
	c.call("settings.set", map[string]any{"publicUrl": "https://" + e.addr}, nil)
	var a, b struct{ System struct{ ID string } }
	c.call("systems.create", map[string]any{"name": "Helpdesk (ServiceNow)", "kind": "servicenow", "url": snURL,
		"settings": map[string]any{"auth": "oauth", "clientId": clientID, "table": "incident"},
		"secrets":  map[string]string{"clientSecret": clientSecret, "webhookSecret": hookSecret}}, &a)
	c.call("systems.create", map[string]any{"name": "Engineering", "kind": "sandbox", "url": engURL,
		"settings": map[string]any{"project": "ENG"}, "secrets": map[string]string{"token": "tok-ENG-e2e-0123"}}, &b)
	proc := map[string]any{
		"name": "Incidents <-> Engineering bugs",
		"a":    map[string]string{"system": a.System.ID, "project": "incident"},
		"b":    map[string]string{"system": b.System.ID, "project": "ENG"},
		"types": []any{map[string]any{"a": "incident", "b": "bug",
			"fields": []any{
				map[string]any{"a": "title", "b": "title", "direction": "both"},
				map[string]any{"a": "description", "b": "description", "direction": "a_to_b"},
				map[string]any{"a": "status", "b": "status", "direction": "both", "valueMap": map[string]any{
					"pairs":     pairs("New", "open", "In Progress", "in_progress", "Resolved", "resolved", "Closed", "closed"),
					"onMissing": "default", "defaultA": "In Progress", "defaultB": "in_progress"}},
				map[string]any{"a": "urgency", "b": "priority", "direction": "both", "valueMap": map[string]any{
					"pairs":     pairs("1 - High", "high", "2 - Medium", "medium", "3 - Low", "low"),
					"onMissing": "default", "defaultA": "1 - High", "defaultB": "medium"}},
			},
			"linkTypes": pairs("parent_incident", "parent"),
		}},
		"options":  map[string]any{"createInA": true, "createInB": true, "comments": true, "attachments": true, "maxAttachmentBytes": 10 << 20, "conflict": "hold"},
		"schedule": map[string]any{"pollSeconds": 5, "webhooks": true},
		"active":   true,
	}
	var res struct{ Process struct{ ID string } }
	c.call("processes.create", map[string]any{"process": proc}, &res)
	e.process = res.Process.ID
}

// incident creates an incident as a person would; it returns its sys_id.
func (e *snEnv) incident(title string, more map[string]string) string {
	e.t.Helper()
	vals := map[string]string{"short_description": title}
	for k, v := range more {
		vals[k] = v
	}
	id, err := e.sn.Insert("incident", "beth.anglin", vals)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *snEnv) snUpdate(id string, vals map[string]string) {
	e.t.Helper()
	if err := e.sn.Update(id, "beth.anglin", vals); err != nil {
		e.t.Fatal(err)
	}
}

func (e *snEnv) bugs() []sandbox.Item {
	var out []sandbox.Item
	q := sandbox.Query{Project: "ENG", Limit: 100}
	for {
		page, err := e.eng.Store().ListItems(q)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		q.Cursor = page.NextCursor
	}
}

func (e *snEnv) bugTitles() (out []string) {
	for _, it := range e.bugs() {
		out = append(out, it.Title)
	}
	return out
}

// bugFor waits for the bug created for an incident titled title.
func (e *snEnv) bugFor(title string) (key string) {
	e.t.Helper()
	e.wait("a bug for "+title, func() string {
		for _, it := range e.bugs() {
			if it.Title == title {
				key = it.Key
				return ""
			}
		}
		return "none yet"
	})
	return key
}

func (e *snEnv) bugField(key, field, want string) string {
	it, err := e.eng.Store().GetItem(key)
	if err != nil {
		return err.Error()
	}
	got := map[string]string{"status": it.Status, "priority": it.Priority}[field]
	return expect(field+" of "+key, got, want)
}

func (e *snEnv) bugCommentsWith(key, s string) (n int) {
	cs, _, err := e.eng.Store().Comments(key, 0, 100)
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
