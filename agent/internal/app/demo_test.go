package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/demo"
)

// syncBuffer is the demo's output, read while the demo writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The demo starts an agent with its two sandboxes and the process between
// them: an incident made in the Helpdesk reaches Engineering as a bug. A
// second start keeps the credentials and the process.
func TestDemoSyncsItsSandboxes(t *testing.T) {
	dir := t.TempDir()
	noDisplay := false
	start := func() (banner string, stop func()) {
		t.Helper()
		out := &syncBuffer{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- Demo(ctx, DemoOptions{Options: Options{DataDir: dir, Listen: "127.0.0.1:0"}, Out: out, Generate: -1, Display: &noDisplay})
		}()
		agenttest.Eventually(t, "the demo's banner", func() bool { return strings.Contains(out.String(), "Stop with Ctrl-C") })
		return out.String(), func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("demo: %v", err)
			}
		}
	}
	banner, stop := start()
	side := regexp.MustCompile(`(Helpdesk|Engineering): +(http://\S+) \(token (\w+)\)`)
	urls, tokens := map[string]string{}, map[string]string{}
	for _, m := range side.FindAllStringSubmatch(banner, -1) {
		urls[m[1]], tokens[m[1]] = m[2], m[3]
	}
	login := regexp.MustCompile(`login: +admin / (\S+)`).FindStringSubmatch(banner)
	if len(urls) != 2 || login == nil || !strings.Contains(banner, "No display here") {
		t.Fatalf("banner:\n%s", banner)
	}
	call := func(system, method, path string, body any, out any) {
		t.Helper()
		var rd bytes.Buffer
		if body != nil {
			json.NewEncoder(&rd).Encode(body)
		}
		req, _ := http.NewRequest(method, urls[system]+path, &rd)
		req.Header.Set("Authorization", "Bearer "+tokens[system])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %s", method, path, resp.Status)
		}
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
	}
	call("Helpdesk", http.MethodPost, "/api/items", map[string]any{"project": "HELP", "type": "incident", "title": "Demo test incident",
		"priority": "high"}, nil)
	agenttest.Eventually(t, "the incident as an Engineering bug", func() bool {
		var page struct {
			Items []struct{ Title, Type, Priority string }
		}
		call("Engineering", http.MethodGet, "/api/items?project=ENG&"+url.Values{"limit": {"100"}}.Encode(), nil, &page)
		for _, it := range page.Items {
			if it.Title == "Demo test incident" {
				return it.Type == "bug" && it.Priority == "high"
			}
		}
		return false
	})
	stop()

	again, stop := start()
	stop()
	for name, tok := range tokens {
		if !strings.Contains(again, "(token "+tok+")") {
			t.Errorf("the %s token changed between runs:\n%s", name, again)
		}
	}
	if !strings.Contains(again, "admin / "+login[1]) {
		t.Errorf("the admin password changed between runs:\n%s", again)
	}
	a, err := Open(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	procs, err := a.engine.Processes().List()
	systems, err2 := a.systems.List()
	if err != nil || err2 != nil || len(procs) != 1 || procs[0].Name != demo.ProcessName || !procs[0].Active || len(systems) != 2 {
		t.Fatalf("after two runs: processes %+v, systems %+v (%v, %v)", procs, systems, err, err2)
	}
}
