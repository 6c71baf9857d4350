package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/bridge"
	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient/fakeagent"
	"github.com/lockstep-sync/lockstep/desktop/internal/profile"
)

const testIndex = `<!doctype html><html><HEAD><title>t</title><script type="module" src="/app.js"></script></HEAD><body></body></html>`

type env struct {
	srv       *Server
	http      *httptest.Server
	downloads string
}

func newEnv(t *testing.T, dist fstest.MapFS) *env {
	t.Helper()
	if dist == nil {
		dist = fstest.MapFS{"index.html": {Data: []byte(testIndex)}, "app.js": {Data: []byte("console.log(1)")}}
	}
	dir := t.TempDir()
	s, err := New(Options{Dist: dist, Profiles: profile.New(filepath.Join(dir, "profiles.json")), Downloads: filepath.Join(dir, "downloads"), Name: "Lockstep", Version: "t"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.Close()
		hs.Close()
	})
	return &env{srv: s, http: hs, downloads: filepath.Join(dir, "downloads")}
}

// post calls a bridge method and returns the status and decoded body.
func (e *env) post(t *testing.T, method string, args ...any) (int, json.RawMessage) {
	t.Helper()
	if args == nil {
		args = []any{}
	}
	b, _ := json.Marshal(args)
	res, err := http.Post(e.http.URL+"/bridge/"+method, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}

func TestIndexGetsTheShimFirst(t *testing.T) {
	e := newEnv(t, nil)
	for _, p := range []string{"/", "/index.html", "/some/client/route"} {
		res, err := http.Get(e.http.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		s := string(b)
		shim := strings.Index(s, `<script src="/harness/shim.js"></script>`)
		app := strings.Index(s, `src="/app.js"`)
		if shim < 0 || shim > app {
			t.Fatalf("%s: shim not injected before the app: %s", p, s)
		}
	}
	res, _ := http.Get(e.http.URL + "/app.js")
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "console.log(1)" {
		t.Fatalf("asset: %q", b)
	}
	if res, _ := http.Get(e.http.URL + "/missing.js"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("missing asset: %d", res.StatusCode)
	}
	res, _ = http.Get(e.http.URL + "/harness/shim.js")
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	for _, m := range []string{"AppInfo", "Connect", "SaveSupportPackage", "OpenTextFile", "EventsOnMultiple"} {
		if !strings.Contains(string(b), m) {
			t.Errorf("shim lacks %s", m)
		}
	}
	if strings.Contains(string(b), "__METHODS__") {
		t.Error("method list not filled in")
	}
}

func TestEveryBridgeMethodIsServed(t *testing.T) {
	e := newEnv(t, nil)
	want := []string{"Agents", "AppInfo", "Call", "CallAgent", "Connect", "ConnectAll", "DeleteProfile", "Disconnect",
		"ListProfiles", "Login", "Logout", "OpenTextFile", "ProbeAgent", "SaveProfile", "SaveSupportPackage", "SaveTextFile",
		"Status", "SubscribeAgentEvents", "SubscribeEvents", "SubscribeLogs", "Unsubscribe"}
	if got := e.srv.Methods(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("methods %v\nwant    %v", got, want)
	}
}

func TestBridgeOverHTTPWithEvents(t *testing.T) {
	e := newEnv(t, nil)
	agent := fakeagent.New(t)

	// Open the event stream first, as the shim does.
	req, _ := http.NewRequest("GET", e.http.URL+"/harness/events", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- d
			}
		}
		close(events)
	}()

	code, body := e.post(t, "ProbeAgent", agent.Addr())
	var pr bridge.ProbeResult
	if code != 200 || json.Unmarshal(body, &pr) != nil || pr.Fingerprint != agent.Fingerprint() {
		t.Fatalf("probe: %d %s", code, body)
	}
	code, body = e.post(t, "SaveProfile", map[string]string{"name": "fake", "url": pr.URL, "fingerprint": pr.Fingerprint})
	if code != 200 {
		t.Fatalf("save: %d %s", code, body)
	}
	if code, body = e.post(t, "Connect", "fake"); code != 200 || !strings.Contains(string(body), `"state":"connected"`) {
		t.Fatalf("connect: %d %s", code, body)
	}
	// Wrong password: a 4xx with the bridge's {kind, message}.
	code, body = e.post(t, "Login", "admin", "wrong")
	var be bridge.Error
	if code != http.StatusUnprocessableEntity || json.Unmarshal(body, &be) != nil || be.Kind != "unauthorized" || be.Message == "" {
		t.Fatalf("bad login: %d %s", code, body)
	}
	if code, body = e.post(t, "Login", "admin", "admin-password"); code != 200 {
		t.Fatalf("login: %d %s", code, body)
	}
	if code, body = e.post(t, "Call", "systems.list", nil); code != 200 || !strings.Contains(string(body), "systems") {
		t.Fatalf("call: %d %s", code, body)
	}
	// Methods without a result answer null.
	if code, body = e.post(t, "Disconnect", "fake"); code != 200 || strings.TrimSpace(string(body)) != "null" {
		t.Fatalf("disconnect: %d %s", code, body)
	}

	// The stream carried the state changes, Wails-style: {name, data: [payload]}.
	seen := map[string]bool{}
	deadline := time.After(time.Minute) // bounds a broken test only
	for !(seen["connected"] && seen["loggedIn"] && seen["closed"]) {
		select {
		case d, ok := <-events:
			if !ok {
				t.Fatal("event stream ended")
			}
			var ev struct {
				Name string              `json:"name"`
				Data []bridge.ConnStatus `json:"data"`
			}
			if err := json.Unmarshal([]byte(d), &ev); err != nil {
				t.Fatalf("event %s: %v", d, err)
			}
			if ev.Name == bridge.EventConnState && len(ev.Data) == 1 {
				seen[ev.Data[0].State] = true
			}
		case <-deadline:
			t.Fatalf("states seen: %v", seen)
		}
	}
}

func TestArgumentsAreCheckedLikeWails(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct {
		method, body string
		status       int
	}{
		{"Connect", `[]`, 400},                // wrong count
		{"Connect", `["a","b"]`, 400},         // wrong count
		{"Connect", `[42]`, 400},              // wrong type
		{"Connect", `{"name":"a"}`, 400},      // not an array
		{"NoSuchMethod", `[]`, 404},           // unknown
		{"AppInfo", ``, 200},                  // empty body: no arguments
		{"SaveProfile", `[{"name":""}]`, 422}, // the bridge's own validation
	} {
		res, err := http.Post(e.http.URL+"/bridge/"+c.method, "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		var be bridge.Error
		json.NewDecoder(res.Body).Decode(&be)
		res.Body.Close()
		if res.StatusCode != c.status || (c.status != 200 && (be.Kind == "" || be.Message == "")) {
			t.Errorf("%s %s: %d %+v, want %d with {kind, message}", c.method, c.body, res.StatusCode, be, c.status)
		}
	}
}

func TestForeignRequestsAreRefused(t *testing.T) {
	e := newEnv(t, nil)
	// A form post from another site cannot send application/json.
	res, _ := http.Post(e.http.URL+"/bridge/AppInfo", "text/plain", strings.NewReader("[]"))
	if res.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain post: %d", res.StatusCode)
	}
	req, _ := http.NewRequest("POST", e.http.URL+"/bridge/AppInfo", strings.NewReader("[]"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://evil.example")
	if res, _ := http.DefaultClient.Do(req); res.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %d", res.StatusCode)
	}
	req, _ = http.NewRequest("GET", e.http.URL+"/", nil)
	req.Host = "rebound.example:80"
	if res, _ := http.DefaultClient.Do(req); res.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign host: %d", res.StatusCode)
	}
}

func TestDialogs(t *testing.T) {
	e := newEnv(t, nil)
	code, body := e.post(t, "SaveTextFile", "../../etc/logs.txt", "hello")
	var path string
	if code != 200 || json.Unmarshal(body, &path) != nil || path != filepath.Join(e.downloads, "logs.txt") {
		t.Fatalf("save: %d %s", code, body)
	}
	if b, _ := os.ReadFile(path); string(b) != "hello" {
		t.Fatalf("saved %q", b)
	}
	res, _ := http.Get(e.http.URL + "/harness/downloads")
	var list []download
	json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	if len(list) != 1 || list[0].Name != "logs.txt" || list[0].Size != 5 ||
		list[0].SHA256 != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
		t.Fatalf("downloads %+v", list)
	}

	http.Post(e.http.URL+"/harness/cancel-next-save", "application/json", nil)
	if code, body = e.post(t, "SaveTextFile", "x.txt", "y"); code != 200 || string(body) != "\"\"\n" {
		t.Fatalf("cancelled save: %d %q", code, body)
	}

	if code, body = e.post(t, "OpenTextFile", "Import", "*.csv"); code != 200 || string(body) != "\"\"\n" {
		t.Fatalf("open with nothing queued: %d %q", code, body)
	}
	for _, c := range []string{"first", "second"} {
		res, err := http.Post(e.http.URL+"/harness/open-file", "application/json", strings.NewReader(`{"name":"users.csv","content":"`+c+`"}`))
		if err != nil || res.StatusCode != http.StatusNoContent {
			t.Fatalf("queue: %v %v", res.StatusCode, err)
		}
	}
	for _, want := range []string{"first", "second", ""} {
		code, body = e.post(t, "OpenTextFile", "Import", "*.csv")
		var got string
		if code != 200 || json.Unmarshal(body, &got) != nil || got != want {
			t.Fatalf("open: %d %s, want %q", code, body, want)
		}
	}
}

func TestNewChecksItsInputs(t *testing.T) {
	dir := t.TempDir()
	if _, err := New(Options{Dist: fstest.MapFS{}, Profiles: profile.New(filepath.Join(dir, "p")), Downloads: dir}); err == nil {
		t.Fatal("accepted a dist without index.html")
	}
	if _, err := New(Options{Dist: fstest.MapFS{"index.html": {Data: []byte("<html><body></body></html>")}}, Profiles: profile.New(filepath.Join(dir, "p")), Downloads: dir}); err == nil {
		t.Fatal("accepted an index.html without <head>")
	}
}
