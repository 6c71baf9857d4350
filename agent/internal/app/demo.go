package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/auth"
	"github.com/lockstep-sync/lockstep/agent/internal/demo"
	"github.com/lockstep-sync/lockstep/agent/internal/paths"
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
	// Display overrides whether the banner assumes a desktop app can open a
	// window here (nil: look at the environment).
	Display *bool
}

// Demo runs an agent with the demo's two sandbox work systems and the sync
// process between them (package demo), plus its generator, until ctx ends.
func Demo(ctx context.Context, o DemoOptions) error {
	layout, err := paths.New(o.DataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(layout.Dir, 0o700); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	state := demo.LoadState(layout.Dir)
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
	if err := state.Save(layout.Dir); err != nil {
		return err
	}
	help, eng, err := demo.StartSandboxes(ctx, layout.Dir, state)
	if err != nil {
		return err
	}
	defer help.Close()
	defer eng.Close()

	a, err := Open(o.Options)
	if err != nil {
		return err
	}
	helpID, err := a.demoSystem(help)
	if err != nil {
		a.close()
		return err
	}
	engID, err := a.demoSystem(eng)
	if err != nil {
		a.close()
		return err
	}
	fp, _ := Fingerprint(layout.Dir)

	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx) }()
	bound, err := waitListening(ctx, a, runErr)
	if err != nil {
		return err
	}
	display := demo.HasDisplay()
	if o.Display != nil {
		display = *o.Display
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	demo.Banner{Bound: bound, Fingerprint: fp, State: state, PasswordFile: o.AdminPasswordFile,
		Help: help, Eng: eng, DataDir: layout.Dir, Display: display}.Write(out)

	// The process is created once the engine runs, so activation starts it.
	if err := a.demoProcess(ctx, helpID, engID); err != nil {
		a.log.Error().Err(err).Msg("demo: create the sync process")
	}
	if o.Generate >= 0 {
		every := o.Generate
		if every == 0 {
			every = 4 * time.Second
		}
		go demo.Generate(ctx, help, eng, every)
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

// demoSystem creates the sandbox's system, or points the one a previous
// run created at this run's URL.
func (a *App) demoSystem(sb *demo.Sandbox) (string, error) {
	want := sb.System()
	list, err := a.systems.List()
	if err != nil {
		return "", err
	}
	for _, s := range list {
		if s.Name == want.Name {
			if s.URL != want.URL {
				if _, err := a.systems.Update(demo.Actor, apitype.SystemsUpdateParams{ID: s.ID, URL: &want.URL, Secrets: want.Secrets}); err != nil {
					return "", err
				}
			}
			return s.ID, nil
		}
	}
	sys, err := a.systems.Create(demo.Actor, want)
	if err != nil {
		return "", fmt.Errorf("demo: create system %s: %w", want.Name, err)
	}
	return sys.ID, nil
}

// demoProcess creates the demo's process, or activates the one a previous
// run created. It is called once the agent listens: Run has started the
// engine.
func (a *App) demoProcess(ctx context.Context, helpID, engID string) error {
	list, err := a.engine.Processes().List()
	if err != nil {
		return err
	}
	for _, p := range list {
		if p.Name == demo.ProcessName {
			if !p.Active {
				_, err = a.engine.Processes().SetActive(demo.Actor, p.ID, true)
			}
			return err
		}
	}
	_, err = a.engine.Processes().Create(ctx, demo.Actor, demo.Process(helpID, engID))
	return err
}
