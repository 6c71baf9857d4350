package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/auth"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/paths"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// DemoOptions configure `lockstep-agent demo`.
type DemoOptions struct {
	Options
	AdminPasswordFile string
	Out               io.Writer
	// Generate sets how often the generator edits the sandboxes (0: every 4 s;
	// negative: never).
	Generate time.Duration
}

// demoState is what a demo keeps between runs in its data dir (0600): the
// sandboxes' tokens and, when it generated one, the admin password, so that
// `make demo` twice gives the same credentials. A demo convenience only: a
// real agent never stores a password in clear.
type demoState struct {
	HelpdeskToken    string `json:"helpdeskToken"`
	EngineeringToken string `json:"engineeringToken"`
	AdminPassword    string `json:"adminPassword,omitempty"`
}

func randomToken() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Demo runs an agent with two sandbox work systems ("Helpdesk" and
// "Engineering") and a sync process between them, plus a generator that
// edits both sides every few seconds, until ctx ends.
func Demo(ctx context.Context, o DemoOptions) error {
	layout, err := paths.New(o.DataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(layout.Dir, 0o700); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	statePath := filepath.Join(layout.Dir, "demo.json")
	var state demoState
	if b, err := os.ReadFile(statePath); err == nil {
		_ = json.Unmarshal(b, &state)
	}
	if state.HelpdeskToken == "" {
		state.HelpdeskToken, state.EngineeringToken = randomToken(), randomToken()
	}
	if _, err := os.Stat(layout.Config()); errors.Is(err, os.ErrNotExist) {
		pwFile := o.AdminPasswordFile
		if pwFile == "" {
			state.AdminPassword = auth.GeneratePassword()
			pwFile = filepath.Join(layout.Dir, ".demo-password")
			if err := os.WriteFile(pwFile, []byte(state.AdminPassword), 0o600); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			defer os.Remove(pwFile)
		}
		if _, err := Init(InitOptions{Options: o.Options, AdminUser: "admin", AdminPasswordFile: pwFile}); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	b, _ := json.MarshalIndent(state, "", "  ")
	if err := os.WriteFile(statePath, b, 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	// Two work systems on loopback, their data kept in the demo dir.
	sbDir := filepath.Join(layout.Dir, "sandbox")
	if err := os.MkdirAll(sbDir, 0o700); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	help, helpURL, err := startSandbox(ctx, filepath.Join(sbDir, "helpdesk.json"), state.HelpdeskToken, helpdeskProject())
	if err != nil {
		return err
	}
	defer help.Close()
	eng, engURL, err := startSandbox(ctx, filepath.Join(sbDir, "engineering.json"), state.EngineeringToken, engineeringProject())
	if err != nil {
		return err
	}
	defer eng.Close()

	a, err := Open(o.Options)
	if err != nil {
		return err
	}
	helpID, err := a.demoSystem("Helpdesk", helpURL, "HELP", state.HelpdeskToken)
	if err != nil {
		a.close()
		return err
	}
	engID, err := a.demoSystem("Engineering", engURL, "ENG", state.EngineeringToken)
	if err != nil {
		a.close()
		return err
	}
	fp, _ := Fingerprint(layout.Dir)
	out := o.Out
	if out == nil {
		out = io.Discard
	}

	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx) }()
	// The banner names the address the agent is bound to, not the one it
	// was given: with --listen 127.0.0.1:0 the kernel picks the port, and
	// scripts read it from here.
	bound, err := waitListening(ctx, a, runErr)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nLockstep demo\n  agent:       wss://%s/v1/ws\n  fingerprint: %s\n", dialAddr(bound), fp)
	if state.AdminPassword != "" {
		fmt.Fprintf(out, "  login:       admin / %s\n", state.AdminPassword)
	} else {
		fmt.Fprintf(out, "  login:       admin (password from %s)\n", o.AdminPasswordFile)
	}
	fmt.Fprintf(out, "  Helpdesk:    %s (token %s)\n  Engineering: %s (token %s)\n  data dir:    %s\nStop with Ctrl-C.\n\n",
		helpURL, state.HelpdeskToken, engURL, state.EngineeringToken, layout.Dir)
	if !hasDisplay() {
		fmt.Fprint(out, headlessHelp(bound))
	}

	// The process is created once the engine runs, so activation starts it.
	if err := a.demoProcess(ctx, helpID, engID); err != nil {
		a.log.Error().Err(err).Msg("demo: create the sync process")
	}
	if o.Generate >= 0 {
		every := o.Generate
		if every == 0 {
			every = 4 * time.Second
		}
		go generate(ctx, help.Store(), eng.Store(), every)
	}
	return <-runErr
}

// waitListening waits until Run has bound the agent's listener and returns
// its address. Run reports a failure to listen (or anything else that ends
// it first) on runErr, which is then this function's error.
func waitListening(ctx context.Context, a *App, runErr <-chan error) (net.Addr, error) {
	select {
	case <-a.Listening():
		return a.Addr(), nil
	case err := <-runErr:
		if err == nil {
			err = errors.New("the agent stopped before it listened")
		}
		return nil, fmt.Errorf("demo: %w", err)
	case <-ctx.Done():
		// Run ends with ctx; its error, if any, says more than ctx's.
		if err := <-runErr; err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		return nil, ctx.Err()
	}
}

// dialAddr is a bound address as a client on this machine dials it: an
// agent listening on every interface is reached at localhost.
func dialAddr(bound net.Addr) string {
	tcp, ok := bound.(*net.TCPAddr)
	if !ok {
		return bound.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

func startSandbox(ctx context.Context, file, token string, p sandbox.Project) (*sandbox.Server, string, error) {
	s, err := sandbox.New(sandbox.Options{DataFile: file, Tokens: []sandbox.Token{{Value: token, User: "alice"}},
		Users: sandbox.DemoUsers(), Projects: []sandbox.Project{p}})
	if err != nil {
		return nil, "", fmt.Errorf("demo: start sandbox %s: %w", p.Key, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		return nil, "", fmt.Errorf("demo: %w", err)
	}
	go s.Serve(ctx, ln)
	return s, "http://" + ln.Addr().String(), nil
}

func helpdeskProject() sandbox.Project {
	return sandbox.Project{Key: "HELP", Name: "Helpdesk", Types: []string{"incident", "task"},
		Statuses: []string{"new", "assigned", "waiting", "solved", "closed"}}
}

func engineeringProject() sandbox.Project {
	return sandbox.Project{Key: "ENG", Name: "Engineering", Types: []string{"bug", "story", "task"},
		Statuses: []string{"open", "in_progress", "resolved", "closed"}}
}

// demoSystem creates the named sandbox system, or points it at this run's URL.
func (a *App) demoSystem(name, url, project, token string) (string, error) {
	list, err := a.systems.List()
	if err != nil {
		return "", err
	}
	for _, s := range list {
		if s.Name == name {
			if s.URL != url {
				if _, err := a.systems.Update("demo", apitype.SystemsUpdateParams{ID: s.ID, URL: &url,
					Secrets: map[string]apitype.Secret{"token": apitype.Secret(token)}}); err != nil {
					return "", err
				}
			}
			return s.ID, nil
		}
	}
	sys, err := a.systems.Create("demo", apitype.SystemsCreateParams{Name: name, Kind: "sandbox", URL: url,
		Settings: map[string]any{"project": project}, Secrets: map[string]apitype.Secret{"token": apitype.Secret(token)}})
	if err != nil {
		return "", fmt.Errorf("demo: create system %s: %w", name, err)
	}
	return sys.ID, nil
}

const demoProcessName = "Helpdesk incidents <-> Engineering bugs"

// demoProcess is called once the agent listens: Run has started the engine.
func (a *App) demoProcess(ctx context.Context, helpID, engID string) error {
	list, err := a.engine.List()
	if err != nil {
		return err
	}
	for _, p := range list {
		if p.Name == demoProcessName {
			if !p.Active {
				_, err = a.engine.SetActive("demo", p.ID, true)
			}
			return err
		}
	}
	str := func(s string) *string { return &s }
	status := &mapping.ValueMap{Pairs: []mapping.ValuePair{
		{A: "new", B: "open"}, {A: "assigned", B: "in_progress"}, {A: "waiting", B: "in_progress"},
		{A: "solved", B: "resolved"}, {A: "closed", B: "closed"}}, DefaultA: str("new"), DefaultB: str("open")}
	priority := &mapping.ValueMap{Pairs: []mapping.ValuePair{
		{A: "low", B: "low"}, {A: "medium", B: "medium"}, {A: "high", B: "high"}, {A: "critical", B: "critical"}},
		DefaultA: str("medium"), DefaultB: str("medium")}
	p := syncer.Process{
		Name: demoProcessName,
		A:    syncer.End{System: helpID, Project: "HELP"},
		B:    syncer.End{System: engID, Project: "ENG"},
		Types: []mapping.TypePair{{A: "incident", B: "bug", Fields: []mapping.FieldPair{
			{A: "title", B: "title", Direction: mapping.Both},
			{A: "description", B: "description", Direction: mapping.Both},
			{A: "status", B: "status", Direction: mapping.Both, ValueMap: status},
			{A: "priority", B: "priority", Direction: mapping.Both, ValueMap: priority},
			{A: "labels", B: "labels", Direction: mapping.Both},
		}, LinkTypes: []mapping.LinkTypePair{{A: "relates", B: "relates"}, {A: "blocks", B: "blocks"}}}},
		Options: syncer.Options{CreateInA: true, CreateInB: true, Comments: true, Attachments: true,
			MaxAttachmentBytes: 10 << 20, WritePeerKey: true, Conflict: syncer.ConflictAWins},
		Schedule: syncer.Schedule{PollSeconds: 5},
		Active:   true,
	}
	_, err = a.engine.Create(ctx, "demo", p)
	return err
}

// generate edits both sandboxes as their users would.
func generate(ctx context.Context, help, eng *sandbox.Store, every time.Duration) {
	r := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 1))
	titles := []string{"Printer on fire", "VPN drops every hour", "Login page times out", "Invoice totals off by one cent",
		"Search ignores accents", "Export to CSV hangs", "Mobile app crashes on start", "Password reset mail never arrives"}
	users := []string{"alice", "bob", "carol", "dave"}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		store, project, typ, statuses := help, "HELP", "incident", helpdeskProject().Statuses
		if r.IntN(3) == 0 {
			store, project, typ, statuses = eng, "ENG", "bug", engineeringProject().Statuses
		}
		page, err := store.ListItems(sandbox.Query{Project: project, Limit: 100})
		if err != nil {
			continue
		}
		if len(page.Items) == 0 || r.IntN(4) == 0 {
			store.CreateItem(sandbox.NewItem{Project: project, Type: typ, Title: titles[r.IntN(len(titles))],
				Description: "Reported by **" + users[r.IntN(len(users))] + "**.\n\n- seen today\n- affects several people",
				Status:      statuses[0], Priority: []string{"low", "medium", "high", "critical"}[r.IntN(4)], Labels: []string{"demo"}})
			continue
		}
		it := page.Items[r.IntN(len(page.Items))]
		switch r.IntN(4) {
		case 0:
			st := statuses[r.IntN(len(statuses))]
			store.UpdateItem(it.Key, sandbox.Patch{Status: &st}, 0)
		case 1:
			pr := []string{"low", "medium", "high", "critical"}[r.IntN(4)]
			store.UpdateItem(it.Key, sandbox.Patch{Priority: &pr}, 0)
		case 2:
			store.AddComment(it.Key, users[r.IntN(len(users))], "Looked into this: "+[]string{"cannot reproduce yet", "found the cause", "fix is on the way", "customer confirmed"}[r.IntN(4)]+".")
		default:
			store.AddAttachment(it.Key, fmt.Sprintf("log-%d.txt", r.IntN(1000)), "text/plain", users[r.IntN(len(users))],
				strings.NewReader(strings.Repeat("2026-11-27 12:00:00 ERROR something happened\n", 1+r.IntN(50))))
		}
	}
}

// hasDisplay says whether a desktop app could open a window here.
func hasDisplay() bool {
	return runtime.GOOS == "windows" || runtime.GOOS == "darwin" || os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// headlessHelp tells a newcomer on a server without a display how to look
// at the demo from the desktop app on a workstation.
func headlessHelp(bound net.Addr) string {
	port := "7443"
	loopback := true
	if tcp, ok := bound.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
		loopback = tcp.IP.IsLoopback()
	}
	if !loopback {
		return fmt.Sprintf("No display here, so no desktop app was started. On your workstation, open the\n"+
			"desktop app, add the agent https://THIS-HOST:%s, compare the fingerprint above and sign in.\n\n", port)
	}
	return fmt.Sprintf("No display here, so no desktop app was started. The demo listens on this machine only.\n"+
		"To look at it from the desktop app on your workstation, either:\n"+
		"  - tunnel over SSH:  ssh -N -L %[1]s:127.0.0.1:%[1]s USER@THIS-HOST\n"+
		"    then add the agent 127.0.0.1:%[1]s in the desktop app, compare the fingerprint above and sign in;\n"+
		"  - or listen on the network: make demo DEMO_LISTEN=0.0.0.0:%[1]s (on a trusted network),\n"+
		"    then add the agent https://THIS-HOST:%[1]s.\n\n", port)
}
