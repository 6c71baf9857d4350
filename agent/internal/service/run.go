package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// errStopRequested is the cause of serve's context when the service manager
// asks the agent to stop.
var errStopRequested = errors.New("stop requested by the service manager")

// Run runs serve until it returns or the agent is asked to stop, and returns
// serve's error unchanged (it is the agent's, not this package's).
//
// Under the Windows service control manager, serve runs inside an SCM
// handler: Stop, Shutdown and PreShutdown cancel its context. Everywhere else
// (a terminal, systemd, a container) SIGINT or SIGTERM cancels it, and a
// second signal kills the process the default way.
//
// After a stop request Run waits at most StopTimeout for serve to return, then
// gives up with ErrStopTimeout so that the caller can exit anyway.
func Run(cfg Config, serve func(ctx context.Context) error) error {
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	underSCM, err := isWindowsService()
	if err != nil {
		return fmt.Errorf("detect the service manager: %w", err)
	}
	if underSCM {
		return runService(cfg.Name, serve, StopTimeout)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runUntilDone(ctx, stop, serve, StopTimeout)
}

// runUntilDone runs serve with ctx and, once ctx is done, waits at most
// timeout for it to return. release is called as soon as ctx is done; for
// signal.NotifyContext it restores the default signal handling.
func runUntilDone(ctx context.Context, release func(), serve func(context.Context) error, timeout time.Duration) error {
	done := make(chan error, 1) // buffered: a serve that outlives us must not block forever
	go func() { done <- serve(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	release()
	return awaitServe(done, timeout)
}

// awaitServe waits for a cancelled serve to return.
func awaitServe(done <-chan error, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("wait for the agent to stop: %w after %s", ErrStopTimeout, timeout)
	}
}
