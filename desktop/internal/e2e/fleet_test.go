package e2e

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/bridge"
	"github.com/lockstep-sync/lockstep/desktop/internal/desktoptest"
	"github.com/lockstep-sync/lockstep/desktop/internal/profile"
)

// startSandbox runs `lockstep-agent sandbox serve` (projects HELP and ENG)
// on a port the kernel picks and returns its URL.
func startSandbox(t *testing.T, token string) string {
	t.Helper()
	cmd := exec.Command(agentBin, "sandbox", "serve", "--listen", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "sandbox.json"), "--token", token)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	serving := regexp.MustCompile(`^Sandbox serving (http://\S+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := serving.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatal("the sandbox exited before serving")
		}
		return u
	case <-time.After(30 * time.Second): // bounds a broken start only
		t.Fatal("the sandbox did not say where it serves")
	}
	return ""
}

// call is the bridge's CallAgent with the JSON decoded into out.
func callAgent(t *testing.T, app *bridge.App, agent, method string, params, out any) {
	t.Helper()
	res, err := app.CallAgent(agent, method, params)
	if err != nil {
		t.Fatalf("%s on %s: %v", method, agent, err)
	}
	if out != nil {
		if err := json.Unmarshal(res.(json.RawMessage), out); err != nil {
			t.Fatalf("%s on %s answered %s: %v", method, agent, res, err)
		}
	}
}

type systemInfo struct {
	ID       string                        `json:"id"`
	Name     string                        `json:"name"`
	Kind     string                        `json:"kind"`
	URL      string                        `json:"url"`
	Settings map[string]any                `json:"settings"`
	Secrets  map[string]struct{ Set bool } `json:"secrets"`
}

// The desktop against two real agents at once: both connected and signed
// in, each with its own session kept across switches, events from both
// saying where they came from, and a process copied from one to the other
// the way the fleet view does it (export, the missing systems copied with
// their secrets typed again, import matched by name).
func TestFleetOfTwoRealAgents(t *testing.T) {
	east, west := startAgent(t), startAgent(t)
	const token = "fleet-sandbox-token-7d1e"
	sandboxURL := startSandbox(t, token)

	rec := &desktoptest.Recorder{}
	app := bridge.New(bridge.Config{
		Name: "Lockstep", Version: "e2e",
		Profiles: profile.New(filepath.Join(t.TempDir(), "profiles.json")),
		Events:   rec,
	})
	t.Cleanup(func() { bridge.Shutdown(app) })
	for name, a := range map[string]*realAgent{"east": east, "west": west} {
		if _, err := app.SaveProfile(bridge.Profile{Name: name, URL: a.addr, Fingerprint: a.fingerprint}); err != nil {
			t.Fatal(err)
		}
	}

	list, err := app.ConnectAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("agents: %+v", list)
	}
	for _, st := range list {
		if st.State != "connected" || !strings.HasPrefix(st.Agent, "lockstep-agent/") {
			t.Fatalf("after ConnectAll: %+v", st)
		}
	}
	for _, name := range []string{"east", "west"} {
		if _, err := app.Connect(name); err != nil {
			t.Fatal(err)
		}
		if _, err := app.Login("admin", adminPassword); err != nil {
			t.Fatalf("login to %s: %v", name, err)
		}
	}
	// Back to east: still signed in, the same session.
	st, err := app.Connect("east")
	if err != nil || st.State != "loggedIn" || st.Session == nil {
		t.Fatalf("switch back to east: %+v %v", st, err)
	}
	for _, name := range []string{"east", "west"} {
		var who struct{ Account struct{ Username string } }
		callAgent(t, app, name, "session.whoami", nil, &who)
		if who.Account.Username != "admin" {
			t.Fatalf("whoami on %s: %+v", name, who)
		}
	}
	subs := map[string]string{}
	for _, name := range []string{"east", "west"} {
		id, err := app.SubscribeAgentEvents(name, []string{"ConfigChanged"})
		if err != nil {
			t.Fatal(err)
		}
		subs[name] = id
	}

	// East has two systems and a process between them.
	ids := map[string]string{}
	for _, s := range []struct{ name, project string }{{"Fleet Support", "HELP"}, {"Fleet Engineering", "ENG"}} {
		var created struct{ System systemInfo }
		callAgent(t, app, "east", "systems.create", map[string]any{"name": s.name, "kind": "sandbox", "url": sandboxURL,
			"settings": map[string]any{"project": s.project}, "secrets": map[string]string{"token": token}}, &created)
		ids[s.name] = created.System.ID
	}
	const processName = "Fleet support to engineering"
	var proc struct{ Process struct{ ID string } }
	callAgent(t, app, "east", "processes.create", map[string]any{"process": map[string]any{
		"name": processName,
		"a":    map[string]string{"system": ids["Fleet Support"], "project": "HELP"},
		"b":    map[string]string{"system": ids["Fleet Engineering"], "project": "ENG"},
		"types": []any{map[string]any{"a": "incident", "b": "bug", "fields": []any{
			map[string]any{"a": "title", "b": "title", "direction": "both"}}}},
		"options": map[string]any{"createInB": true}, "schedule": map[string]any{"pollSeconds": 60},
	}}, &proc)

	var doc struct{ Document string }
	callAgent(t, app, "east", "processes.export", map[string]any{"ids": []string{proc.Process.ID}}, &doc)
	if !strings.Contains(doc.Document, "Fleet Support") || strings.Contains(doc.Document, token) {
		t.Fatalf("the export names systems by name and holds no secret: %s", doc.Document)
	}

	// West has neither system: the import says which, at their fields.
	_, err = app.CallAgent("west", "processes.import", map[string]any{"document": doc.Document})
	be := bridge.FormatError(err)
	if be == nil || be.Kind != "invalid" {
		t.Fatalf("import without the systems: %v", err)
	}
	missing := map[string]bool{}
	for _, is := range be.Issues {
		if strings.HasSuffix(is.Field, ".system") && strings.Contains(is.Message, "no system named") {
			missing[is.Field] = true
		}
	}
	if !missing["processes[0].a.system"] || !missing["processes[0].b.system"] {
		t.Fatalf("the import's issues do not name both systems: %+v", be.Issues)
	}

	// Each system is copied with its settings; the secret cannot be read
	// from east (the API never returns it), so it is typed again.
	for name, id := range ids {
		var got struct{ System systemInfo }
		res, err := app.CallAgent("east", "systems.get", map[string]any{"id": id})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(res.(json.RawMessage)), token) {
			t.Fatal("systems.get returned the secret")
		}
		json.Unmarshal(res.(json.RawMessage), &got)
		if !got.System.Secrets["token"].Set || got.System.Name != name {
			t.Fatalf("east's %s: %+v", name, got.System)
		}
		callAgent(t, app, "west", "systems.create", map[string]any{"name": got.System.Name, "kind": got.System.Kind, "url": got.System.URL,
			"settings": got.System.Settings, "secrets": map[string]string{"token": token}}, nil)
	}
	var imported struct{ Created, Updated []string }
	callAgent(t, app, "west", "processes.import", map[string]any{"document": doc.Document}, &imported)
	if len(imported.Created) != 1 || imported.Created[0] != processName {
		t.Fatalf("import: %+v", imported)
	}
	var westProcs struct {
		Processes []struct {
			Process struct {
				Name   string
				Active bool
				A, B   struct{ System, Project string }
			}
		}
	}
	callAgent(t, app, "west", "processes.list", nil, &westProcs)
	var westSystems struct{ Systems []systemInfo }
	callAgent(t, app, "west", "systems.list", nil, &westSystems)
	names := map[string]string{}
	for _, s := range westSystems.Systems {
		names[s.ID] = s.Name
	}
	if len(westProcs.Processes) != 1 {
		t.Fatalf("west's processes: %+v", westProcs)
	}
	p := westProcs.Processes[0].Process
	if p.Name != processName || p.Active || names[p.A.System] != "Fleet Support" || names[p.B.System] != "Fleet Engineering" || p.B.Project != "ENG" {
		t.Fatalf("the copy on west: %+v (west's systems %v)", p, names)
	}

	// Each agent's events came through its own stream, saying so.
	desktoptest.Eventually(t, "ConfigChanged from both agents", func() bool {
		seen := map[string]bool{}
		for _, raw := range rec.Named(bridge.EventEventsBatch) {
			var b bridge.EventsBatch
			json.Unmarshal(raw, &b)
			if subs[b.Profile] != b.Sub {
				t.Fatalf("a batch of stream %s says it came from %q", b.Sub, b.Profile)
			}
			for _, e := range b.Events {
				if strings.Contains(string(e.Data), `"process"`) {
					seen[b.Profile] = true
				}
			}
		}
		return seen["east"] && seen["west"]
	})

	// Still one session each: switching never signed in again.
	for name, a := range map[string]*realAgent{"east": east, "west": west} {
		var records struct {
			Records []struct{ Action, Result string }
		}
		callAgent(t, app, name, "audit.list", map[string]any{"action": "session.login", "limit": 100}, &records)
		n := 0
		for _, r := range records.Records {
			if r.Action == "session.login" && r.Result == "success" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s audited %d successful logins, want 1", name, n)
		}
		if strings.Contains(a.stderr.String(), token) {
			t.Errorf("%s logged the sandbox token", name)
		}
	}
	for _, raw := range rec.Named(bridge.EventAgentState) {
		if strings.Contains(string(raw), adminPassword) {
			t.Fatal("an agent:state event carries the password")
		}
	}
}
