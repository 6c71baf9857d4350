package service

import (
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	kservice "github.com/kardianos/service"
)

func TestControlUnknownAction(t *testing.T) {
	for _, action := range []string{"", "restart", "INSTALL", "bogus"} {
		state, err := Control(Config{}, action)
		if !errors.Is(err, ErrUnknownAction) {
			t.Fatalf("Control(%q) error = %v, want ErrUnknownAction", action, err)
		}
		if state != "" {
			t.Errorf("Control(%q) state = %q, want empty", action, state)
		}
		msg := err.Error()
		for _, want := range append([]string{"control service", `"` + action + `"`}, Actions()...) {
			if !strings.Contains(msg, want) {
				t.Errorf("Control(%q) error %q does not mention %q", action, msg, want)
			}
		}
	}
}

func TestControlRejectsBadConfig(t *testing.T) {
	_, err := Control(Config{Name: "two words"}, ActionStatus)
	if err == nil || !strings.Contains(err.Error(), "status service: name") {
		t.Fatalf("Control with a bad name: error = %v", err)
	}
}

// On a host without systemd as init (containers, CI), every action must
// refuse rather than fall back to kardianos' SysV script, which would install
// an unsandboxed service. Status is read-only, so it is safe to call.
func TestControlNeedsSystemd(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	if kservice.Platform() == systemdPlatform {
		t.Skip("systemd is running here; not touching the real service manager")
	}
	for _, action := range Actions() {
		_, err := Control(Config{DataDir: "/var/lib/lockstep"}, action)
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("Control(%q) error = %v, want ErrUnsupported", action, err)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{DataDir: "rel/dir", Executable: "bin/agent"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != DefaultName || c.DisplayName != DefaultDisplayName || c.Description != DefaultDescription {
		t.Errorf("defaults not applied: %+v", c)
	}
	if !filepath.IsAbs(c.DataDir) || !strings.HasSuffix(c.DataDir, filepath.Join("rel", "dir")) {
		t.Errorf("DataDir = %q, want it absolute", c.DataDir)
	}
	if !filepath.IsAbs(c.Executable) {
		t.Errorf("Executable = %q, want it absolute", c.Executable)
	}

	c, err = Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Executable == "" || c.DataDir == "" {
		t.Errorf("empty Executable or DataDir not defaulted: %+v", c)
	}

	// A Linux path stays a Linux path, whatever OS renders it.
	c, err = Config{DataDir: "/var/lib/lockstep/../lockstep", Executable: "/usr/bin/x"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/lockstep" {
		t.Errorf("DataDir = %q, want /var/lib/lockstep", c.DataDir)
	}
}

func TestServiceArgs(t *testing.T) {
	got := strings.Join(Config{DataDir: "/d", Args: []string{"--x"}}.serviceArgs(), " ")
	if got != "run --data-dir /d --x" {
		t.Errorf("serviceArgs() = %q", got)
	}
}
