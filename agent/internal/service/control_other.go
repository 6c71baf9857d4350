//go:build !linux && !windows

package service

import (
	"fmt"

	kservice "github.com/kardianos/service"
)

// checkPlatform refuses macOS and the BSDs: the agent ships a hardened unit
// for systemd and an SCM service for Windows, and nothing has been built or
// tested for launchd or rc.d.
func checkPlatform() error {
	return fmt.Errorf("%w: %s is not supported; run `lockstep-agent run` under your own supervisor", ErrUnsupported, kservice.Platform())
}

func platformOptions(Config, string, *kservice.Config) error { return nil }
func beforeInstall(Config) error                             { return nil }
func afterInstall(Config) error                              { return nil }
func start(s kservice.Service) error                         { return s.Start() }
func stop(s kservice.Service, _ Config) error                { return s.Stop() }
func withHint(err error) error                               { return err }
