//go:build !windows

package service

import (
	"context"
	"errors"
	"time"
)

// isWindowsService is false off Windows: systemd runs the agent as a plain
// process and stops it with SIGTERM.
func isWindowsService() (bool, error) { return false, nil }

func runService(string, func(context.Context) error, time.Duration) error {
	return errors.New("run under the Windows service control manager: not on Windows")
}
