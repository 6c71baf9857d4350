// Package demo is what `lockstep-agent demo` shows: two sandbox work
// systems, "Helpdesk" (project HELP, incidents) and "Engineering"
// (project ENG, bugs), the sync process between them, a generator that
// edits both sides as their users would, the credentials a demo keeps
// between runs, and the banner it prints. app.Demo wires it into a
// running agent; this package knows nothing of the agent's parts.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// Actor is who the demo's own changes are audited as.
const Actor = "demo"

// State is what a demo keeps between runs in its data dir (demo.json,
// 0600): the sandboxes' tokens and, when it generated one, the admin
// password, so that `make demo` twice gives the same credentials. A demo
// convenience only: a real agent never stores a password in clear.
type State struct {
	HelpdeskToken    string `json:"helpdeskToken"`
	EngineeringToken string `json:"engineeringToken"`
	AdminPassword    string `json:"adminPassword,omitempty"`
}

func statePath(dir string) string { return filepath.Join(dir, "demo.json") }

// LoadState reads the state kept in dir, giving the sandboxes new tokens
// when there is none (or it cannot be read: the demo then starts afresh).
func LoadState(dir string) State {
	var s State
	if b, err := os.ReadFile(statePath(dir)); err == nil {
		_ = json.Unmarshal(b, &s)
	}
	if s.HelpdeskToken == "" || s.EngineeringToken == "" {
		s.HelpdeskToken, s.EngineeringToken = newToken(), newToken()
	}
	return s
}

// Save keeps the state in dir.
func (s State) Save(dir string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("demo: save state: %w", err)
	}
	if err := os.WriteFile(statePath(dir), b, 0o600); err != nil {
		return fmt.Errorf("demo: save state: %w", err)
	}
	return nil
}

func newToken() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Sandbox is one of the demo's work systems, served on loopback.
type Sandbox struct {
	Name, Token, URL string
	Project          sandbox.Project
	Server           *sandbox.Server
}

// System is the agent's system record for the sandbox.
func (s *Sandbox) System() apitype.SystemsCreateParams {
	return apitype.SystemsCreateParams{Name: s.Name, Kind: "sandbox", URL: s.URL,
		Settings: map[string]any{"project": s.Project.Key}, Secrets: map[string]apitype.Secret{"token": apitype.Secret(s.Token)}}
}

// Close stops the sandbox and saves its data.
func (s *Sandbox) Close() error { return s.Server.Close() }

// StartSandboxes serves Helpdesk and Engineering on loopback until ctx
// ends, their data kept in dir/sandbox/. Close both when done.
func StartSandboxes(ctx context.Context, dir string, st State) (help, eng *Sandbox, err error) {
	sbDir := filepath.Join(dir, "sandbox")
	if err := os.MkdirAll(sbDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	help, err = start(ctx, filepath.Join(sbDir, "helpdesk.json"), "Helpdesk", st.HelpdeskToken, helpdeskProject())
	if err != nil {
		return nil, nil, err
	}
	eng, err = start(ctx, filepath.Join(sbDir, "engineering.json"), "Engineering", st.EngineeringToken, engineeringProject())
	if err != nil {
		help.Close()
		return nil, nil, err
	}
	return help, eng, nil
}

func start(ctx context.Context, file, name, token string, p sandbox.Project) (*Sandbox, error) {
	s, err := sandbox.New(sandbox.Options{DataFile: file, Tokens: []sandbox.Token{{Value: token, User: "alice"}},
		Users: sandbox.DemoUsers(), Projects: []sandbox.Project{p}})
	if err != nil {
		return nil, fmt.Errorf("demo: start sandbox %s: %w", p.Key, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	go s.Serve(ctx, ln)
	return &Sandbox{Name: name, Token: token, URL: "http://" + ln.Addr().String(), Project: p, Server: s}, nil
}

func helpdeskProject() sandbox.Project {
	return sandbox.Project{Key: "HELP", Name: "Helpdesk", Types: []string{"incident", "task"},
		Statuses: []string{"new", "assigned", "waiting", "solved", "closed"}}
}

func engineeringProject() sandbox.Project {
	return sandbox.Project{Key: "ENG", Name: "Engineering", Types: []string{"bug", "story", "task"},
		Statuses: []string{"open", "in_progress", "resolved", "closed"}}
}

// ProcessName names the demo's sync process; a demo started again finds
// it by this name.
const ProcessName = "Helpdesk incidents <-> Engineering bugs"

// Process is the demo's sync process between the systems helpID
// (Helpdesk) and engID (Engineering): incidents and bugs, with status and
// priority maps, comments, attachments and links both ways.
func Process(helpID, engID string) syncer.Process {
	str := func(s string) *string { return &s }
	status := &mapping.ValueMap{Pairs: []mapping.ValuePair{
		{A: "new", B: "open"}, {A: "assigned", B: "in_progress"}, {A: "waiting", B: "in_progress"},
		{A: "solved", B: "resolved"}, {A: "closed", B: "closed"}}, DefaultA: str("new"), DefaultB: str("open")}
	priority := &mapping.ValueMap{Pairs: []mapping.ValuePair{
		{A: "low", B: "low"}, {A: "medium", B: "medium"}, {A: "high", B: "high"}, {A: "critical", B: "critical"}},
		DefaultA: str("medium"), DefaultB: str("medium")}
	return syncer.Process{
		Name: ProcessName,
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
}
