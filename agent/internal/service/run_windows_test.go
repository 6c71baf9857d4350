//go:build windows

package service

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/windows/svc"
)

// The handler is exercised with fake SCM channels; no service is installed.
func TestExecuteStop(t *testing.T) {
	h := &handler{serve: func(ctx context.Context) error { <-ctx.Done(); return context.Cause(ctx) }, timeout: time.Second, result: make(chan error, 1)}
	req := make(chan svc.ChangeRequest, 1)
	st := make(chan svc.Status, 10)
	req <- svc.ChangeRequest{Cmd: svc.Stop}
	ssec, code := h.Execute(nil, req, st)
	if ssec || code != 0 {
		t.Errorf("Execute() = %v, %d; want a clean stop", ssec, code)
	}
	if err := <-h.result; !errors.Is(err, errStopRequested) {
		t.Errorf("serve's error = %v, want errStopRequested", err)
	}
}

func TestExecuteServeFails(t *testing.T) {
	boom := errors.New("boom")
	h := &handler{serve: func(context.Context) error { return boom }, timeout: time.Second, result: make(chan error, 1)}
	ssec, code := h.Execute(nil, make(chan svc.ChangeRequest), make(chan svc.Status, 10))
	if !ssec || code != exitServeFailed {
		t.Errorf("Execute() = %v, %d; want service-specific exit %d so recovery restarts it", ssec, code, exitServeFailed)
	}
	if err := <-h.result; err != boom {
		t.Errorf("serve's error = %v, want boom", err)
	}
}
