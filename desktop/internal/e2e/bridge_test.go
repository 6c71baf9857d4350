package e2e

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/desktop/bridge"
	"github.com/lockstep-sync/lockstep/desktop/internal/desktoptest"
	"github.com/lockstep-sync/lockstep/desktop/internal/profile"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// saveTo is a save dialog that always chooses one path.
type saveTo string

func (s saveTo) SaveFile(string, string) (string, error) { return string(s), nil }
func (s saveTo) OpenFile(string, string) (string, error) { return "", nil }

func newBridge(t *testing.T, a *realAgent, save string) (*bridge.App, *desktoptest.Recorder) {
	t.Helper()
	ev := &desktoptest.Recorder{}
	app := bridge.New(bridge.Config{
		Name: "Lockstep", Version: "e2e",
		Profiles: profile.New(filepath.Join(t.TempDir(), "profiles.json")),
		Events:   ev,
		Dialogs:  saveTo(save),
	})
	t.Cleanup(func() { bridge.Shutdown(app) })
	// The first-contact flow: probe, compare, pin.
	pr, err := app.ProbeAgent(a.addr)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Fingerprint != a.fingerprint {
		t.Fatalf("probe shows %s, `lockstep-agent fingerprint` says %s", pr.Fingerprint, a.fingerprint)
	}
	if _, err := app.SaveProfile(bridge.Profile{Name: "agent", URL: pr.URL, Fingerprint: pr.Fingerprint}); err != nil {
		t.Fatal(err)
	}
	return app, ev
}

func TestBridgeAgainstRealAgent(t *testing.T) {
	a := startAgent(t)
	dir := t.TempDir()
	app, ev := newBridge(t, a, filepath.Join(dir, "support.zip"))

	// A profile pinned to another key is refused before anything is sent.
	if _, err := app.SaveProfile(bridge.Profile{Name: "impostor", URL: a.addr, Fingerprint: strings.Repeat("0", 64)}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Connect("impostor"); bridge.FormatError(err).Kind != bridge.KindFingerprintMismatch {
		t.Fatalf("wrong pin: %v", err)
	}

	st, err := app.Connect("agent")
	if err != nil || st.State != "connected" {
		t.Fatalf("connect: %+v %v", st, err)
	}
	s, err := app.Login("admin", adminPassword)
	if err != nil || s.Role != "admin" {
		t.Fatalf("login: %+v %v", s, err)
	}
	info, err := app.Call("agent.info", nil)
	if err != nil || !strings.Contains(string(info.(json.RawMessage)), "version") {
		t.Fatalf("agent.info: %s %v", info, err)
	}

	// Support package: built by the agent, streamed to the chosen file.
	created, err := app.Call("support.create", nil)
	if err != nil {
		t.Fatal(err)
	}
	var job apitype.SupportCreateResult
	json.Unmarshal(created.(json.RawMessage), &job)
	var status apitype.SupportStatusResult
	desktoptest.Eventually(t, "support package ready", func() bool {
		raw, err := app.Call("support.status", map[string]any{"id": job.ID})
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(raw.(json.RawMessage), &status)
		return status.State != apitype.SupportRunning
	})
	saved, err := app.SaveSupportPackage(job.ID, "support.zip")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(saved.Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != saved.SHA256 || saved.SHA256 != status.SHA256 || saved.Size != int64(len(b)) {
		t.Fatalf("saved %+v; file sha256 %x, agent says %s", saved, sum, status.SHA256)
	}
	if _, err := zip.OpenReader(saved.Path); err != nil {
		t.Fatalf("saved package is not a zip: %v", err)
	}

	// Log batches never exceed 200 lines: make the agent log a few hundred
	// debug lines, then ask for them as backlog, which the agent sends in
	// frames of up to 500.
	if _, err := app.Call("settings.set", map[string]any{"logLevel": "debug"}); err != nil {
		t.Fatal(err)
	}
	for range 300 {
		if _, err := app.Call("systems.list", nil); err != nil {
			t.Fatal(err)
		}
	}
	id, err := app.SubscribeLogs(apitype.LogsSubscribeParams{MinLevel: "debug", Backlog: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	lines := func() int {
		sizes = sizes[:0]
		n := 0
		for _, raw := range ev.Named(bridge.EventLogsBatch) {
			var b bridge.LogsBatch
			json.Unmarshal(raw, &b)
			if b.Sub == id {
				sizes = append(sizes, len(b.Lines))
				n += len(b.Lines)
			}
		}
		return n
	}
	desktoptest.Eventually(t, "300 log lines", func() bool { return lines() >= 300 })
	full := false
	for _, n := range sizes {
		if n > 200 {
			t.Fatalf("a batch of %d lines (sizes %v)", n, sizes)
		}
		full = full || n == 200
	}
	if !full {
		t.Fatalf("no full batch of 200 in %v: the backlog was not batched", sizes)
	}
	if err := app.Unsubscribe(id); err != nil {
		t.Fatal(err)
	}
	if err := app.Logout(); err != nil {
		t.Fatal(err)
	}
	if len(ev.Named(bridge.EventConnState)) == 0 {
		t.Fatal("no conn:state events")
	}
	for _, raw := range ev.Named(bridge.EventConnState) {
		if strings.Contains(string(raw), adminPassword) {
			t.Fatal("a conn:state event carries the password")
		}
	}
}

// The agent's lockout reaches the UI as kind locked_out with the agent's
// own message, not a generic failure.
func TestBridgeLockoutFromRealAgent(t *testing.T) {
	a := startAgent(t)
	app, _ := newBridge(t, a, "")
	if _, err := app.Connect("agent"); err != nil {
		t.Fatal(err)
	}
	var last *bridge.Error
	for i := 0; i < 6 && (last == nil || last.Kind != "locked_out"); i++ {
		_, err := app.Login("admin", "wrong password")
		last = bridge.FormatError(err)
		if last == nil {
			t.Fatal("a wrong password was accepted")
		}
	}
	if last.Kind != "locked_out" || last.Message == "" || strings.HasPrefix(last.Message, "log in") {
		t.Fatalf("after repeated failures: %+v", last)
	}
	if _, err := app.Login("admin", adminPassword); bridge.FormatError(err).Kind != "locked_out" {
		t.Fatalf("the right password during lockout: %v", err)
	}
}
