// Package service installs, controls and runs the agent as an operating-system
// service: a hardened systemd unit on Linux, an SCM service on Windows.
//
// Two libraries, each for what it does best:
//
//   - github.com/kardianos/service gives `service install|uninstall|start|
//     status` one API over systemd and the Windows service control manager,
//     and its SystemdScript option lets us install our own hardened unit
//     (rendered by SystemdUnit from systemd.service.tmpl) instead of its
//     generic one.
//   - golang.org/x/sys/windows/svc and svc/mgr cover what kardianos does not
//     expose: recovery actions (restart after 5 s, 30 s, 60 s), failure actions
//     on non-crash exits, the pre-shutdown timeout, a bounded stop, and a
//     service handler that can report "serve failed" to the SCM with an exit
//     code. kardianos' handler has no way for the program to stop itself, and
//     its Windows stop waits forever for a hung service.
//
// Run does not use kardianos at all: under systemd (and in a container or a
// terminal) the agent is a plain process stopped by SIGTERM, and only the
// Windows SCM needs a handler.
package service

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	kservice "github.com/kardianos/service"

	"github.com/lockstep-sync/lockstep/agent/internal/paths"
)

// Defaults for Config's empty fields.
const (
	DefaultName        = "lockstep-agent"
	DefaultDisplayName = "Lockstep Agent"
	DefaultDescription = "Lockstep work-item sync agent"
)

// StopTimeout bounds how long Run waits for serve to return after a stop
// request. The agent closes its store within 10 s; the systemd unit's
// TimeoutStopSec=15 matches this.
const StopTimeout = 15 * time.Second

// systemdPlatform is kardianos' name for its systemd backend.
const systemdPlatform = "linux-systemd"

// Actions of Control.
const (
	ActionInstall   = "install"
	ActionUninstall = "uninstall"
	ActionStart     = "start"
	ActionStop      = "stop"
	ActionStatus    = "status"
)

// Results of Control: the state the service is in afterwards. ActionStatus
// returns one of the first three.
const (
	StateRunning      = "running"
	StateStopped      = "stopped"
	StateNotInstalled = "not installed"
	StateInstalled    = "installed"
)

// Actions lists what Control accepts, for usage text.
func Actions() []string {
	return []string{ActionInstall, ActionUninstall, ActionStart, ActionStop, ActionStatus}
}

var (
	// ErrUnknownAction is returned by Control for an action not in Actions.
	ErrUnknownAction = errors.New("unknown service action")
	// ErrNotInstalled means the service manager does not know the service.
	ErrNotInstalled = errors.New("service is not installed")
	// ErrUnsupported means this host has no service manager the agent supports
	// (Linux without systemd as init, macOS, BSD); run `lockstep-agent run`
	// under a supervisor or in a container instead.
	ErrUnsupported = errors.New("no supported service manager")
	// ErrStopTimeout means serve did not return within StopTimeout of a stop
	// request; the caller should exit anyway.
	ErrStopTimeout = errors.New("agent did not stop in time")
)

// Config describes the installed service. Only DataDir matters to the running
// agent; the rest shapes what the service manager shows and starts.
type Config struct {
	Name        string // service and unit name; default DefaultName
	DisplayName string // Windows display name; default DefaultDisplayName
	Description string // default DefaultDescription
	// Executable is the agent binary the service manager starts; default the
	// running executable. It is made absolute.
	Executable string
	// DataDir is passed as `run --data-dir DataDir`; default the platform's
	// (/var/lib/lockstep, %ProgramData%\Lockstep). It is made absolute,
	// because services start in / or C:\Windows\System32.
	DataDir string
	// Args are extra arguments after `run --data-dir DataDir`.
	Args []string
	// User runs the service under a pre-existing account. Linux: empty means
	// DynamicUser=yes; a data dir outside /var/lib needs a named user.
	// Windows: empty means LocalSystem; password-less accounts only, such as
	// `NT AUTHORITY\LocalService` or the virtual `NT SERVICE\lockstep-agent`.
	User string
}

// withDefaults fills empty fields and makes paths absolute.
func (c Config) withDefaults() (Config, error) {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.DisplayName == "" {
		c.DisplayName = DefaultDisplayName
	}
	if c.Description == "" {
		c.Description = DefaultDescription
	}
	if c.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return Config{}, fmt.Errorf("find the agent executable: %w", err)
		}
		c.Executable = exe
	}
	if c.DataDir == "" {
		c.DataDir = paths.DefaultDataDir()
	}
	for _, f := range []struct{ name, v string }{
		{"name", c.Name}, {"display name", c.DisplayName}, {"description", c.Description},
		{"executable", c.Executable}, {"data dir", c.DataDir}, {"user", c.User},
	} {
		if strings.ContainsFunc(f.v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return Config{}, fmt.Errorf("%s %q contains control characters", f.name, f.v)
		}
	}
	if strings.ContainsAny(c.Name, ` /\`) {
		return Config{}, fmt.Errorf("name %q: spaces and slashes are not allowed in a service name", c.Name)
	}
	var err error
	if c.Executable, err = absPath(c.Executable); err != nil {
		return Config{}, fmt.Errorf("resolve executable %q: %w", c.Executable, err)
	}
	if c.DataDir, err = absPath(c.DataDir); err != nil {
		return Config{}, fmt.Errorf("resolve data dir %q: %w", c.DataDir, err)
	}
	if c.DataDir == "/" || filepath.Dir(c.DataDir) == c.DataDir {
		return Config{}, fmt.Errorf("data dir %q: a filesystem root cannot be the agent's private directory", c.DataDir)
	}
	return c, nil
}

// absPath makes p absolute and clean. A path starting with / is kept in slash
// form even on Windows, where filepath would turn it into \x or C:\x: that
// is a Linux path a packager renders a unit for.
func absPath(p string) (string, error) {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p), nil
	}
	return filepath.Abs(p)
}

// serviceArgs are the arguments the service manager passes to Executable.
func (c Config) serviceArgs() []string {
	return append([]string{"run", "--data-dir", c.DataDir}, c.Args...)
}

// Control performs action (see Actions) on the installed service and returns
// the resulting state: StateInstalled, StateNotInstalled (after uninstall),
// StateRunning, StateStopped; status returns StateRunning, StateStopped or
// StateNotInstalled. install does not start the service.
func Control(cfg Config, action string) (string, error) {
	switch action {
	case ActionInstall, ActionUninstall, ActionStart, ActionStop, ActionStatus:
	default:
		return "", fmt.Errorf("control service: %w %q: want one of %s", ErrUnknownAction, action, strings.Join(Actions(), ", "))
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return "", fmt.Errorf("%s service: %w", action, err)
	}
	if err := checkPlatform(); err != nil {
		return "", fmt.Errorf("%s service %s: %w", action, cfg.Name, err)
	}
	s, err := newService(cfg, action)
	if err != nil {
		return "", fmt.Errorf("%s service %s: %w", action, cfg.Name, err)
	}
	state, err := control(s, cfg, action)
	if err != nil {
		return "", fmt.Errorf("%s service %s: %w", action, cfg.Name, withHint(err))
	}
	return state, nil
}

func control(s kservice.Service, cfg Config, action string) (string, error) {
	switch action {
	case ActionInstall:
		if err := beforeInstall(cfg); err != nil {
			return "", err
		}
		if err := s.Install(); err != nil {
			return "", err
		}
		if err := afterInstall(cfg); err != nil {
			// A service without its recovery actions or private data
			// directory is worse than none: take it out again.
			if uerr := s.Uninstall(); uerr != nil {
				return "", fmt.Errorf("%w (and remove the half-installed service: %v)", err, uerr)
			}
			return "", err
		}
		return StateInstalled, nil
	case ActionUninstall:
		state, err := status(s)
		if err != nil {
			return "", err
		}
		if state == StateNotInstalled {
			return "", ErrNotInstalled
		}
		// systemd keeps running a unit whose file is gone, and the SCM only
		// deletes a service once it has stopped.
		if state == StateRunning {
			if err := stop(s, cfg); err != nil {
				return "", err
			}
		}
		if err := s.Uninstall(); err != nil {
			return "", err
		}
		return StateNotInstalled, nil
	case ActionStart:
		if err := start(s); err != nil {
			return "", err
		}
		return StateRunning, nil
	case ActionStop:
		if err := stop(s, cfg); err != nil {
			return "", err
		}
		return StateStopped, nil
	default: // ActionStatus; Control checked the action.
		return status(s)
	}
}

// status maps kardianos' status to ours. A systemd unit in the failed state
// comes back as an error naming that state.
func status(s kservice.Service) (string, error) {
	st, err := s.Status()
	switch {
	case errors.Is(err, kservice.ErrNotInstalled):
		return StateNotInstalled, nil
	case err != nil:
		return "", fmt.Errorf("query status: %w", err)
	case st == kservice.StatusRunning:
		return StateRunning, nil
	case st == kservice.StatusStopped:
		return StateStopped, nil
	default:
		return "", errors.New("query status: the service manager reports an unknown state")
	}
}

func newService(cfg Config, action string) (kservice.Service, error) {
	kc := &kservice.Config{
		Name:        cfg.Name,
		DisplayName: cfg.DisplayName,
		Description: cfg.Description,
		Executable:  cfg.Executable,
		Arguments:   cfg.serviceArgs(),
		UserName:    cfg.User,
		Option:      kservice.KeyValue{},
	}
	if err := platformOptions(cfg, action, kc); err != nil {
		return nil, err
	}
	s, err := kservice.New(noProgram{}, kc)
	if err != nil {
		return nil, fmt.Errorf("connect to the service manager: %w", err)
	}
	return s, nil
}

// noProgram satisfies kardianos' Interface, which only its Run uses; Control
// never runs the agent.
type noProgram struct{}

func (noProgram) Start(kservice.Service) error { return nil }
func (noProgram) Stop(kservice.Service) error  { return nil }
