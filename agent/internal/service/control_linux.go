//go:build linux

package service

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"strings"

	kservice "github.com/kardianos/service"
)

// hiddenRoots are made inaccessible or private by the unit's ProtectHome= and
// PrivateTmp=, so neither the binary nor the data may live below them.
var hiddenRoots = []string{"/home/", "/root/", "/run/user/", "/tmp/", "/var/tmp/"}

// checkPlatform accepts systemd only: the hardening lives in the unit, and
// kardianos' SysV, upstart and OpenRC fallbacks would silently install an
// unsandboxed script instead.
func checkPlatform() error {
	if p := kservice.Platform(); p != systemdPlatform {
		return fmt.Errorf("%w: systemd is not running as init here (found %q); run `lockstep-agent run` under your own supervisor or in a container", ErrUnsupported, p)
	}
	return nil
}

// platformOptions hands kardianos the fully rendered unit as its SystemdScript
// template: with no {{ actions in it, it is written out verbatim.
func platformOptions(cfg Config, action string, kc *kservice.Config) error {
	if action != ActionInstall {
		return nil
	}
	unit, err := SystemdUnit(cfg)
	if err != nil {
		return err
	}
	if strings.Contains(unit, "{{") {
		return errUnitUnsafe
	}
	kc.Option["SystemdScript"] = unit
	return nil
}

// beforeInstall checks what would otherwise only fail when systemd starts the
// unit, where the error is harder to find.
func beforeInstall(cfg Config) error {
	if os.Geteuid() != 0 {
		return errors.New("installing a systemd unit needs root: run it with sudo")
	}
	for _, p := range []struct{ what, path string }{{"executable", cfg.Executable}, {"data dir", cfg.DataDir}} {
		for _, root := range hiddenRoots {
			if strings.HasPrefix(p.path+"/", root) {
				return fmt.Errorf("%s %s is below %s, which the unit's sandbox hides from the service; move it (e.g. the binary to /usr/local/bin)", p.what, p.path, strings.TrimSuffix(root, "/"))
			}
		}
	}
	fi, err := os.Stat(cfg.Executable)
	if err != nil {
		return fmt.Errorf("check executable: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("check executable: %s is not an executable file", cfg.Executable)
	}
	if cfg.User == "" {
		return nil // DynamicUser=yes; systemd creates the StateDirectory.
	}
	u, err := user.Lookup(cfg.User)
	if err != nil {
		return fmt.Errorf("look up user %s: %w; create it with: useradd --system --no-create-home --shell /usr/sbin/nologin %s", cfg.User, err, cfg.User)
	}
	if _, below := strings.CutPrefix(cfg.DataDir, stateRoot); below {
		return nil // StateDirectory= creates and chowns it.
	}
	return prepareDataDir(cfg.DataDir, u)
}

// prepareDataDir creates a data directory outside /var/lib owned by the
// service user, because ReadWritePaths= only lifts the read-only mount and
// systemd neither creates nor chowns it. An existing directory is left as the
// administrator made it.
func prepareDataDir(dir string, u *user.User) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("check data dir: %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return fmt.Errorf("parse uid of %s: %w", u.Username, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return fmt.Errorf("parse gid of %s: %w", u.Username, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("give data dir to %s: %w", u.Username, err)
	}
	return nil
}

func afterInstall(Config) error { return nil }

func start(s kservice.Service) error { return s.Start() }

// stop relies on `systemctl stop`, which returns once the unit has stopped or
// TimeoutStopSec= has passed and systemd has killed it.
func stop(s kservice.Service, _ Config) error { return s.Stop() }

func withHint(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w (run it as root)", err)
	}
	return err
}
