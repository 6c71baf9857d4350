package agentclient

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient/fakeagent"
	"github.com/lockstep-sync/lockstep/desktop/internal/desktoptest"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// settleGoroutines waits until at most n goroutines run, and reports the
// stacks if they do not.
func settleGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want <= %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	a := fakeagent.New(t)
	release, started := blockingMethod(a, protocol.SystemsTest.Name)
	defer release()
	settleGoroutines(t, runtime.NumGoroutine())
	base := runtime.NumGoroutine()

	for range 3 {
		c := dialWith(t, testOptions(a))
		login(t, c)
		if _, err := c.SubscribeEvents(testCtx(t), nil, func(apitype.EventNotification) {}, func() {}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.SubscribeLogs(testCtx(t), apitype.LogsSubscribeParams{}, func(apitype.LogsNotification) {}); err != nil {
			t.Fatal(err)
		}
		c.OnStateChange(func(State) {})
		dropAndWait(t, a, c, StateLoggedIn) // exercise the reconnect path
		a.PublishEvent(apitype.EventRunStarted, nil)
		a.PublishLog(apitype.LogLine{Message: "x"})

		inflight := make(chan error, 1)
		go func() {
			_, err := Call(testCtx(t), c, protocol.SystemsTest, apitype.SystemsTestParams{ID: "sys-1"})
			inflight <- err
		}()
		select {
		case <-started:
		case err := <-inflight:
			t.Fatalf("in-flight call ended early: %v", err)
		}

		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if err := <-inflight; !errors.Is(err, ErrClosed) {
			t.Errorf("in-flight call = %v, want ErrClosed", err)
		}
		if c.State() != StateClosed {
			t.Errorf("State = %v", c.State())
		}
		if _, err := Call(testCtx(t), c, protocol.AgentInfo, apitype.Empty{}); !errors.Is(err, ErrClosed) {
			t.Errorf("call after Close = %v", err)
		}
		if _, err := c.Login(testCtx(t), "admin", "admin-password"); !errors.Is(err, ErrClosed) {
			t.Errorf("Login after Close = %v", err)
		}
	}
	release()
	desktoptest.Eventually(t, "agent sees the connections closed", func() bool { return a.OpenConnections() == 0 })
	settleGoroutines(t, base)
}

func TestCloseWhileReconnecting(t *testing.T) {
	a := fakeagent.New(t)
	settleGoroutines(t, runtime.NumGoroutine())
	base := runtime.NumGoroutine()

	c := dialWith(t, testOptions(a))
	login(t, c)
	a.RefuseConnections(503)
	a.DropConnections()
	desktoptest.Eventually(t, "a refused reconnect", func() bool { return c.LastError() != nil && a.Connections() == 1 })
	waiting := make(chan error, 1)
	go func() {
		_, err := Call(testCtx(t), c, protocol.AgentInfo, apitype.Empty{})
		waiting <- err
	}()
	time.Sleep(20 * time.Millisecond)
	_ = c.Close()
	if err := <-waiting; !errors.Is(err, ErrClosed) {
		t.Errorf("waiting call = %v, want ErrClosed", err)
	}
	settleGoroutines(t, base)
}

func TestDialFailureLeavesNoGoroutines(t *testing.T) {
	a := fakeagent.New(t)
	settleGoroutines(t, runtime.NumGoroutine())
	base := runtime.NumGoroutine()
	o := testOptions(a)
	o.Fingerprint = ""
	for range 3 {
		if _, err := Dial(testCtx(t), o); err == nil {
			t.Fatal("Dial succeeded")
		}
	}
	a.SetSupported(2)
	if _, err := Dial(testCtx(t), testOptions(a)); err == nil {
		t.Fatal("Dial succeeded")
	}
	settleGoroutines(t, base)
}
