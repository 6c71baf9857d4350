//go:build linux

package harness

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient/fakeagent"
)

// pageJS drives the shim the way the UI does: through the generated
// wailsjs runtime (imported unchanged) and window.go.bridge.App, then posts
// what it saw to /result.
const pageJS = `
import { EventsOn, EventsOnce, EventsOff, EventsEmit } from "./runtime.js";
const out = { states: [], once: 0, offCalls: 0 };
EventsOn("conn:state", (s) => out.states.push(s.state));
EventsOnce("local", (v) => { out.once += v; });
EventsEmit("local", 1);
EventsEmit("local", 2);
EventsOn("gone", () => out.offCalls++);
EventsOff("gone");
EventsEmit("gone");
const App = window.go.bridge.App;
try {
  out.info = await App.AppInfo();
  const probe = await App.ProbeAgent(AGENT);
  await App.SaveProfile({ name: "fake", url: probe.url, fingerprint: probe.fingerprint });
  out.connect = (await App.Connect("fake")).state;
  try { await App.Login("admin", "wrong"); } catch (e) { out.loginError = e; }
  out.session = await App.Login("admin", "admin-password");
  out.systems = await App.Call("systems.list", {});
  for (let i = 0; i < 100 && !out.states.includes("loggedIn"); i++) await new Promise((r) => setTimeout(r, 50));
} catch (e) {
  out.unexpected = e;
}
await fetch("/result", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(out) });
`

func chromium(t *testing.T) string {
	for _, c := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv("LOCKSTEP_REQUIRE_BROWSER") != "" {
		t.Fatal("no chromium found and LOCKSTEP_REQUIRE_BROWSER is set")
	}
	t.Skip("no chromium on PATH (build/install-deps.sh --browser installs it)")
	return ""
}

// TestShimInARealBrowser loads a page in headless Chromium that uses the
// generated Wails runtime unchanged, and checks calls, rejections and
// events behave as in the Wails window.
func TestShimInARealBrowser(t *testing.T) {
	bin := chromium(t)
	runtimeJS, err := os.ReadFile(filepath.Join("..", "..", "..", "frontend", "wailsjs", "runtime", "runtime.js"))
	if err != nil {
		t.Fatal(err)
	}
	agent := fakeagent.New(t)
	dist := fstest.MapFS{
		"index.html": {Data: []byte(testIndex)},
		"runtime.js": {Data: runtimeJS},
		"app.js":     {Data: []byte(strings.Replace(pageJS, "AGENT", `"`+agent.Addr()+`"`, 1))},
	}
	dir := t.TempDir()
	e := newEnv(t, dist)
	results := make(chan []byte, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		results <- b
	})
	mux.Handle("/", e.srv.Handler())
	hs := httptest.NewServer(mux)
	defer hs.Close()

	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), hs.URL+"/")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()

	var out struct {
		States     []string
		Once       int
		OffCalls   int
		Info       struct{ Name string }
		Connect    string
		LoginError map[string]any
		Session    struct{ Username, Role string }
		Systems    map[string]any
		Unexpected any
	}
	select {
	case b := <-results:
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("result %s: %v", b, err)
		}
	case <-time.After(60 * time.Second): // bounds a broken run only
		t.Fatalf("the page never reported; chromium said:\n%s", stderr.String())
	}
	if out.Unexpected != nil {
		t.Fatalf("a bridge call failed: %v", out.Unexpected)
	}
	if out.Info.Name != "Lockstep" || out.Connect != "connected" || out.Session.Username != "admin" || out.Systems == nil {
		t.Fatalf("results %+v", out)
	}
	if out.LoginError["kind"] != "unauthorized" || out.LoginError["message"] == "" {
		t.Fatalf("rejection %v, want {kind: unauthorized, message}", out.LoginError)
	}
	if out.Once != 1 || out.OffCalls != 0 {
		t.Fatalf("EventsOnce ran for %d, EventsOff left %d calls", out.Once, out.OffCalls)
	}
	if !contains(out.States, "connected") || !contains(out.States, "loggedIn") {
		t.Fatalf("conn:state events %v", out.States)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
