//go:build unix

package service

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunStopsOnSignal sends real signals to the test process: Run must turn
// each into a cancelled context, wait for serve, and return its result.
func TestRunStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			started := make(chan struct{})
			result := make(chan error, 1)
			var cause error
			go func() {
				result <- Run(Config{}, func(ctx context.Context) error {
					close(started) // Run has installed its handler before calling serve
					<-ctx.Done()
					cause = context.Cause(ctx)
					return nil
				})
			}()
			<-started
			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-result:
				if err != nil {
					t.Fatalf("Run() = %v, want nil", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after the signal")
			}
			if cause == nil || !strings.Contains(cause.Error(), "signal") {
				t.Errorf("context cause = %v, want the signal", cause)
			}
		})
	}
}
