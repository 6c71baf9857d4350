package service

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRunUntilDoneReturnsServeError(t *testing.T) {
	boom := errors.New("boom")
	err := runUntilDone(context.Background(), func() {}, func(context.Context) error { return boom }, time.Second)
	if err != boom {
		t.Fatalf("error = %v, want serve's error unchanged", err)
	}
}

func TestRunUntilDoneCancel(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	released := make(chan struct{})
	started := make(chan struct{})
	go func() { <-started; cancel(errStopRequested) }()
	err := runUntilDone(ctx, func() { close(released) }, func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		<-released // signal handling is restored before Run waits for serve
		return context.Cause(ctx)
	}, time.Second)
	if !errors.Is(err, errStopRequested) {
		t.Fatalf("error = %v, want serve's return value", err)
	}
}

func TestRunUntilDoneBoundsStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	hang := make(chan struct{})
	defer close(hang)
	// serve never returns while the test runs: runUntilDone returning at
	// all, with ErrStopTimeout, shows it gave up at its bound.
	err := runUntilDone(ctx, func() {}, func(context.Context) error { <-hang; return nil }, 50*time.Millisecond)
	if !errors.Is(err, ErrStopTimeout) {
		t.Fatalf("error = %v, want ErrStopTimeout", err)
	}
}
