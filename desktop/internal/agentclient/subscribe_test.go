package agentclient

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient/fakeagent"
	"github.com/lockstep-sync/lockstep/desktop/internal/desktoptest"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

func TestSubscribeLogsBacklogAndLive(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	login(t, c)
	a.PublishLog(apitype.LogLine{Message: "old-1"}, apitype.LogLine{Message: "old-2"}, apitype.LogLine{Message: "old-3"})

	var lines recorder[string]
	sub, err := c.SubscribeLogs(testCtx(t), apitype.LogsSubscribeParams{Backlog: 2, MinLevel: "info"}, func(n apitype.LogsNotification) {
		for _, l := range n.Lines {
			lines.add(l.Message)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	a.PublishLog(apitype.LogLine{Message: "new"})
	desktoptest.Eventually(t, "lines", func() bool { return lines.len() == 3 })
	if got := lines.all(); !slices.Equal(got, []string{"old-2", "old-3", "new"}) {
		t.Errorf("lines = %v", got)
	}

	if err := sub.Cancel(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := sub.Cancel(testCtx(t)); err != nil {
		t.Errorf("second Cancel: %v", err)
	}
	if n := a.Subscriptions(); n != 0 {
		t.Errorf("agent still has %d subscriptions", n)
	}
	a.PublishLog(apitype.LogLine{Message: "after cancel"})
	dropAndWait(t, a, c, StateLoggedIn) // a cancelled subscription is not re-created either
	a.PublishLog(apitype.LogLine{Message: "after reconnect"})
	time.Sleep(50 * time.Millisecond)
	if lines.len() != 3 || a.Subscriptions() != 0 {
		t.Errorf("cancelled subscription lives on: lines %v, agent subs %d", lines.all(), a.Subscriptions())
	}
}

func TestNotificationsBeforeSubscribeResult(t *testing.T) {
	a := fakeagent.New(t)
	a.NotifyBeforeResult(true)
	c := dial(t, a)
	login(t, c)
	a.PublishLog(apitype.LogLine{Message: "backlog"})

	var lines recorder[string]
	if _, err := c.SubscribeLogs(testCtx(t), apitype.LogsSubscribeParams{Backlog: 10}, func(n apitype.LogsNotification) {
		for _, l := range n.Lines {
			lines.add(l.Message)
		}
	}); err != nil {
		t.Fatal(err)
	}
	var events recorder[uint64]
	if _, err := c.SubscribeEvents(testCtx(t), nil, func(n apitype.EventNotification) { events.add(n.Seq) }, nil); err != nil {
		t.Fatal(err)
	}
	desktoptest.Eventually(t, "backlog that overtook the result", func() bool { return lines.len() == 1 })

	a.PublishEvent(apitype.EventRunStarted, nil)
	desktoptest.Eventually(t, "event 1", func() bool { return events.len() == 1 })
	a.RefuseConnections(http.StatusServiceUnavailable)
	a.DropConnections()
	waitState(t, c, StateDisconnected)
	a.PublishEvent(apitype.EventRunStarted, nil)
	a.RefuseConnections(0)
	desktoptest.Eventually(t, "replay that overtook the result", func() bool { return events.len() == 2 })
	if got := events.all(); !slices.Equal(got, []uint64{1, 2}) {
		t.Errorf("events = %v", got)
	}
}

func TestSubscribeErrors(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	if _, err := c.SubscribeEvents(testCtx(t), nil, func(apitype.EventNotification) {}, nil); err == nil {
		t.Fatal("subscribe before login succeeded")
	} else {
		agentErr(t, err, protocol.KindUnauthorized)
	}
	if _, err := c.SubscribeLogs(testCtx(t), apitype.LogsSubscribeParams{}, nil); err == nil {
		t.Error("nil handler accepted")
	}
	c.mu.Lock()
	n := len(c.subs)
	c.mu.Unlock()
	if n != 0 {
		t.Errorf("failed subscriptions were kept: %d", n)
	}
}

func TestSlowHandlerDropsCountedLinesWithoutBlockingCalls(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	login(t, c)

	gate := make(chan struct{})
	var lines, dropped recorder[int]
	first := true
	if _, err := c.SubscribeLogs(testCtx(t), apitype.LogsSubscribeParams{}, func(n apitype.LogsNotification) {
		if first {
			first = false
			<-gate // the UI stalls
		}
		lines.add(len(n.Lines))
		dropped.add(int(n.Dropped))
	}); err != nil {
		t.Fatal(err)
	}

	const total = maxQueuedLogs + 300
	for i := range total {
		a.PublishLog(apitype.LogLine{Message: "x"})
		if i%200 == 0 {
			time.Sleep(time.Millisecond) // keep the fake's own queue from overflowing
		}
	}
	// The reader is not blocked by the stalled handler: calls still work.
	if _, err := Call(testCtx(t), c, protocol.AgentInfo, apitype.Empty{}); err != nil {
		t.Fatalf("call while a handler stalls: %v", err)
	}
	close(gate)
	sum := func() (n int) {
		for _, v := range lines.all() {
			n += v
		}
		for _, v := range dropped.all() {
			n += v
		}
		return n
	}
	// One more line carries whatever drop count is still owed.
	desktoptest.Eventually(t, "queue drained", func() bool {
		c.disp.mu.Lock()
		defer c.disp.mu.Unlock()
		return len(c.disp.queue) == 0
	})
	a.PublishLog(apitype.LogLine{Message: "last"})
	desktoptest.Eventually(t, "every line delivered or counted", func() bool { return sum() == total+1 })
	var d int
	for _, v := range dropped.all() {
		d += v
	}
	if d == 0 {
		t.Error("nothing was dropped; the test did not overflow the queue")
	}
	if a.Connections() != 1 {
		t.Errorf("connections = %d; the client itself must not disconnect", a.Connections())
	}
}

func TestLogoutEndsSubscriptions(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	login(t, c)
	var events recorder[uint64]
	if _, err := c.SubscribeEvents(testCtx(t), nil, func(n apitype.EventNotification) { events.add(n.Seq) }, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if c.State() != StateConnected {
		t.Errorf("State = %v", c.State())
	}
	if _, ok := c.Session(); ok {
		t.Error("session kept after logout")
	}
	a.PublishEvent(apitype.EventRunStarted, nil)
	_, err := Call(testCtx(t), c, protocol.AgentInfo, apitype.Empty{})
	agentErr(t, err, protocol.KindUnauthorized)
	dropAndWait(t, a, c, StateConnected)
	if n := a.CallCount(protocol.SessionResume.Name); n != 0 {
		t.Errorf("resumed %d times after logout", n)
	}
	login(t, c)
	a.PublishEvent(apitype.EventRunStarted, nil)
	time.Sleep(30 * time.Millisecond)
	if events.len() != 0 || a.Subscriptions() != 0 {
		t.Errorf("subscription outlived logout: %v, agent subs %d", events.all(), a.Subscriptions())
	}
}
