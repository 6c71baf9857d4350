//go:build windows

package service

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
)

// exitServeFailed is the service-specific exit code reported when serve fails
// on its own; with recovery on non-crash failures enabled at install, a
// non-zero code is what makes the SCM restart the agent.
const exitServeFailed = 1

func isWindowsService() (bool, error) { return svc.IsWindowsService() }

// runService runs serve under the SCM and returns its error. The error also
// goes to the Windows Event Log (source Name, registered at install), because
// a service has no console and the agent's own log may not be open yet, for
// example when the master key is wrong.
func runService(name string, serve func(context.Context) error, timeout time.Duration) error {
	h := &handler{serve: serve, timeout: timeout, result: make(chan error, 1)}
	if err := svc.Run(name, h); err != nil {
		return fmt.Errorf("run as Windows service %s: %w", name, err)
	}
	var err error
	select {
	case err = <-h.result:
	default: // the SCM never called Execute
	}
	if err != nil {
		if el, oerr := eventlog.Open(name); oerr == nil {
			_ = el.Error(1, fmt.Sprintf("%s stopped: %v", name, err)) // best effort: there is nowhere else to report
			_ = el.Close()
		}
	}
	return err
}

// handler is the SCM's view of the agent.
type handler struct {
	serve   func(context.Context) error
	timeout time.Duration
	// result carries serve's error out of Execute, which the SCM calls on
	// another thread.
	result chan error
}

// Execute reports Running at once (the agent listens early and becomes ready
// later), and maps Stop, Shutdown and PreShutdown to one cancellation.
func (h *handler) Execute(_ []string, requests <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	const accepts = svc.AcceptStop | svc.AcceptShutdown | svc.AcceptPreShutdown
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := make(chan error, 1)
	go func() { done <- h.serve(ctx) }()
	status <- svc.Status{State: svc.Running, Accepts: accepts}
	for {
		select {
		case err := <-done:
			h.result <- err
			if err != nil {
				return true, exitServeFailed
			}
			return false, 0
		case req := <-requests:
			switch req.Cmd {
			case svc.Interrogate:
				status <- req.CurrentStatus
			case svc.Stop, svc.Shutdown, svc.PreShutdown:
				status <- svc.Status{State: svc.StopPending, WaitHint: uint32((h.timeout + 5*time.Second) / time.Millisecond)}
				cancel(errStopRequested)
				h.result <- awaitServe(done, h.timeout)
				// The administrator or Windows asked for this stop: report a
				// clean exit so that recovery actions do not restart the
				// agent, whatever serve returned on its way out.
				return false, 0
			}
		}
	}
}
