package demo

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
)

// A demo keeps its tokens (and a generated password) between runs, in a
// file only its owner reads.
func TestStateIsKeptBetweenRuns(t *testing.T) {
	dir := t.TempDir()
	first := LoadState(dir)
	if len(first.HelpdeskToken) != 36 || len(first.EngineeringToken) != 36 || first.HelpdeskToken == first.EngineeringToken {
		t.Fatalf("new tokens %+v", first)
	}
	first.AdminPassword = "generated once"
	if err := first.Save(dir); err != nil {
		t.Fatal(err)
	}
	if again := LoadState(dir); again != first {
		t.Fatalf("after a restart %+v, want %+v", again, first)
	}
	if fi, err := os.Stat(filepath.Join(dir, "demo.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v, %v", fi, err)
	}
}

// The sandboxes serve their projects with the state's tokens and keep
// their data in the demo dir; the generator makes items on both sides.
func TestSandboxesAndGenerator(t *testing.T) {
	dir := t.TempDir()
	st := LoadState(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	help, eng, err := StartSandboxes(ctx, dir, st)
	if err != nil {
		t.Fatal(err)
	}
	defer help.Close()
	defer eng.Close()
	if help.Token != st.HelpdeskToken || eng.Token != st.EngineeringToken || help.Project.Key != "HELP" || eng.Project.Key != "ENG" {
		t.Fatalf("sandboxes %+v %+v", help, eng)
	}
	if sys := help.System(); sys.Kind != "sandbox" || sys.URL != help.URL || sys.Settings["project"] != "HELP" || string(sys.Secrets["token"]) != help.Token {
		t.Fatalf("system %+v", sys)
	}
	go Generate(ctx, help, eng, time.Millisecond)
	count := func(sb *Sandbox) int {
		page, err := sb.Server.Store().ListItems(sandbox.Query{Project: sb.Project.Key, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Items)
	}
	agenttest.Eventually(t, "items on both sides", func() bool { return count(help) > 0 && count(eng) > 0 })
	cancel()
	help.Close()
	if _, err := os.Stat(filepath.Join(dir, "sandbox", "helpdesk.json")); err != nil {
		t.Fatalf("the Helpdesk's data is not kept: %v", err)
	}
}

// The demo's process syncs incidents and bugs both ways, with its maps.
func TestProcess(t *testing.T) {
	p := Process("sys-help", "sys-eng")
	if p.Name != ProcessName || p.A.System != "sys-help" || p.B.System != "sys-eng" || p.A.Project != "HELP" || p.B.Project != "ENG" || !p.Active {
		t.Fatalf("process %+v", p)
	}
	tp := p.Types[0]
	if tp.A != "incident" || tp.B != "bug" || len(tp.Fields) != 5 || tp.Fields[2].ValueMap == nil || !p.Options.CreateInA || !p.Options.CreateInB {
		t.Fatalf("type pair %+v", tp)
	}
	// Every status of each side maps to one the other side has.
	status := tp.Fields[2].ValueMap
	for _, c := range []struct {
		from, to []string
		dir      mapping.Direction
	}{{helpdeskProject().Statuses, engineeringProject().Statuses, mapping.AtoB}, {engineeringProject().Statuses, helpdeskProject().Statuses, mapping.BtoA}} {
		for _, v := range c.from {
			got, err := mapping.MapValue(status, v, c.dir, "status")
			if s, _ := got.(string); err != nil || !slices.Contains(c.to, s) {
				t.Errorf("status %q maps to %v (%v), not a status of the other side %v", v, got, err, c.to)
			}
		}
	}
}

// The banner names the address clients dial and, without a display, how
// to reach a demo bound to loopback from a workstation.
func TestBanner(t *testing.T) {
	sb := func(name, url string) *Sandbox { return &Sandbox{Name: name, URL: url, Token: "tok-" + name} }
	b := Banner{Bound: &net.TCPAddr{IP: net.IPv4zero, Port: 7443}, Fingerprint: "fp", State: State{AdminPassword: "pw"},
		Help: sb("help", "http://127.0.0.1:1"), Eng: sb("eng", "http://127.0.0.1:2"), DataDir: "/d", Display: true}
	var out bytes.Buffer
	b.Write(&out)
	for _, want := range []string{"wss://localhost:7443/v1/ws", "fingerprint: fp", "admin / pw", "http://127.0.0.1:1 (token tok-help)", "data dir:    /d"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "No display") {
		t.Errorf("a banner with a display says there is none:\n%s", out.String())
	}
	out.Reset()
	b.Display, b.Bound, b.State.AdminPassword, b.PasswordFile = false, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9000}, "", "/pw"
	b.Write(&out)
	if s := out.String(); !strings.Contains(s, "ssh -N -L 9000:127.0.0.1:9000") || !strings.Contains(s, "password from /pw") {
		t.Errorf("headless banner:\n%s", s)
	}
}
