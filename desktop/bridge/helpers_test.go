package bridge

import (
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient/fakeagent"
	"github.com/lockstep-sync/lockstep/desktop/internal/desktoptest"
	"github.com/lockstep-sync/lockstep/desktop/internal/profile"
)

// recorder keeps what the App emits (desktoptest.Recorder) and reads
// its connection states.
type recorder struct{ desktoptest.Recorder }

func newRecorder() *recorder { return &recorder{} }

// states returns the state of every conn:state event so far.
func (r *recorder) states() []string {
	var out []string
	for _, raw := range r.Named(EventConnState) {
		var st ConnStatus
		_ = json.Unmarshal(raw, &st)
		out = append(out, st.State)
	}
	return out
}

func (r *recorder) sawState(s string) bool {
	for _, got := range r.states() {
		if got == s {
			return true
		}
	}
	return false
}

// dialogs answers file dialogs with fixed paths ("" = cancel).
type dialogs struct {
	mu                 sync.Mutex
	savePath, openPath string
	titles             []string
}

func (d *dialogs) SaveFile(title, defaultName string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.titles = append(d.titles, title+"|"+defaultName)
	return d.savePath, nil
}

func (d *dialogs) OpenFile(title, pattern string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.titles = append(d.titles, title+"|"+pattern)
	return d.openPath, nil
}

type fixture struct {
	app     *App
	rec     *recorder
	dlg     *dialogs
	agent   *fakeagent.Agent
	profile profile.Profile
}

// newFixture starts a fake agent and an App with a saved, pinned profile.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{rec: newRecorder(), dlg: &dialogs{}, agent: fakeagent.New(t)}
	f.app = New(Config{
		Name: "Lockstep", Version: "test",
		Profiles:     profile.New(filepath.Join(t.TempDir(), "profiles.json")),
		Events:       f.rec,
		Dialogs:      f.dlg,
		ReconnectMin: 10 * time.Millisecond,
		ReconnectMax: 50 * time.Millisecond,
	})
	t.Cleanup(func() { Shutdown(f.app) })
	p, err := f.app.SaveProfile(Profile{Name: "fake", URL: f.agent.Addr(), Fingerprint: f.agent.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	f.profile = p
	return f
}

func (f *fixture) login(t *testing.T) {
	t.Helper()
	if _, err := f.app.Connect("fake"); err != nil {
		t.Fatalf("connect: %v", err)
	}
	if _, err := f.app.Login("admin", "admin-password"); err != nil {
		t.Fatalf("login: %v", err)
	}
}

func kindOf(err error) string {
	if e := FormatError(err); e != nil {
		return e.Kind
	}
	return ""
}

func (a *App) streamCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.streams)
}
