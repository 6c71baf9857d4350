package agentclient

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient/fakeagent"
	"github.com/lockstep-sync/lockstep/desktop/internal/desktoptest"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// methodsOn lists the methods the agent received on connection n.
func methodsOn(a *fakeagent.Agent, n int) []string {
	var out []string
	for _, c := range a.Calls() {
		if c.Conn == n {
			out = append(out, c.Method)
		}
	}
	return out
}

func paramsOf(a *fakeagent.Agent, conn int, method string) json.RawMessage {
	for _, c := range a.Calls() {
		if c.Conn == conn && c.Method == method {
			return c.Params
		}
	}
	return nil
}

func TestReconnectResumesSessionAndSubscriptions(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	login(t, c)
	ctx := testCtx(t)

	var events recorder[uint64]
	var lines recorder[string]
	var resyncs recorder[bool]
	if _, err := c.SubscribeEvents(ctx, nil, func(n apitype.EventNotification) { events.add(n.Seq) },
		func() { resyncs.add(true) }); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SubscribeLogs(ctx, apitype.LogsSubscribeParams{Backlog: 50}, func(n apitype.LogsNotification) {
		for _, l := range n.Lines {
			lines.add(l.Message)
		}
	}); err != nil {
		t.Fatal(err)
	}
	a.PublishEvent(apitype.EventConfigChanged, apitype.ConfigChanged{Kind: "system", Action: "create"})
	a.PublishLog(apitype.LogLine{Level: "info", Message: "A"})
	desktoptest.Eventually(t, "first event and line", func() bool { return events.len() == 1 && lines.len() == 1 })

	// The agent goes away; events and lines happen while the client is out.
	a.RefuseConnections(http.StatusServiceUnavailable)
	a.DropConnections()
	waitState(t, c, StateDisconnected)
	time.Sleep(time.Millisecond) // distinct log timestamps
	a.PublishEvent(apitype.EventRunStarted, nil)
	a.PublishEvent(apitype.EventRunFinished, nil)
	a.PublishLog(apitype.LogLine{Level: "info", Message: "B"})
	a.RefuseConnections(0)

	waitState(t, c, StateLoggedIn)
	desktoptest.Eventually(t, "replayed events", func() bool { return events.len() == 3 })
	desktoptest.Eventually(t, "missed line", func() bool { return lines.len() == 2 })

	a.PublishEvent(apitype.EventRunStarted, nil)
	a.PublishLog(apitype.LogLine{Level: "info", Message: "C"})
	desktoptest.Eventually(t, "live again", func() bool { return events.len() == 4 && lines.len() == 3 })

	if got := events.all(); !slices.Equal(got, []uint64{1, 2, 3, 4}) {
		t.Errorf("events = %v, want 1..4 exactly once, in order", got)
	}
	if got := lines.all(); !slices.Equal(got, []string{"A", "B", "C"}) {
		t.Errorf("lines = %v, want A B C exactly once", got)
	}
	if resyncs.len() != 0 {
		t.Error("resync called although the agent could replay")
	}

	last := a.Connections()
	got := methodsOn(a, last)
	want := []string{protocol.SessionHello.Name, protocol.SessionResume.Name, protocol.EventsSubscribe.Name, protocol.LogsSubscribe.Name}
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Errorf("calls on the new connection = %v, want %v first", got, want)
	}
	if p := string(paramsOf(a, last, protocol.EventsSubscribe.Name)); !strings.Contains(p, `"since":1`) {
		t.Errorf("events.subscribe params = %s, want since 1", p)
	}
	if n := a.Subscriptions(); n != 2 {
		t.Errorf("agent has %d subscriptions, want 2", n)
	}
}

func TestReconnectResync(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	login(t, c)

	var log recorder[string]
	if _, err := c.SubscribeEvents(testCtx(t), []string{apitype.EventRunStarted},
		func(n apitype.EventNotification) { log.add("event " + n.Type) },
		func() { log.add("resync") }); err != nil {
		t.Fatal(err)
	}
	a.PublishEvent(apitype.EventRunStarted, nil)
	a.PublishEvent(apitype.EventRunFinished, nil) // filtered out by type
	desktoptest.Eventually(t, "first event", func() bool { return log.len() == 1 })

	a.RefuseConnections(http.StatusServiceUnavailable)
	a.DropConnections()
	waitState(t, c, StateDisconnected)
	a.PublishEvent(apitype.EventRunStarted, nil)
	a.ForgetEvents() // the outage outlasted the ring
	a.RefuseConnections(0)
	waitState(t, c, StateLoggedIn)
	desktoptest.Eventually(t, "resync", func() bool { return log.len() == 2 })
	a.PublishEvent(apitype.EventRunStarted, nil)
	desktoptest.Eventually(t, "next event", func() bool { return log.len() == 3 })

	want := []string{"event RunStarted", "resync", "event RunStarted"}
	if got := log.all(); !slices.Equal(got, want) {
		t.Errorf("handler saw %v, want %v", got, want)
	}
}

func TestReconnectAfterSlowConsumerClose(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	login(t, c)
	var reasons recorder[string]
	c.OnStateChange(func(s State) {
		if s == StateDisconnected {
			if err := c.LastError(); err != nil {
				reasons.add(err.Error())
			}
		}
	})

	a.CloseConnections(websocket1008, "slow consumer")
	desktoptest.Eventually(t, "second connection", func() bool { return a.Connections() == 2 })
	waitState(t, c, StateLoggedIn)
	desktoptest.Eventually(t, "disconnect reason", func() bool { return reasons.len() > 0 })
	if r := reasons.all()[0]; !strings.Contains(r, "slow consumer") {
		t.Errorf("reason = %q, want it to name the slow-consumer close", r)
	}
	if _, err := Call(testCtx(t), c, protocol.AgentInfo, apitype.Empty{}); err != nil {
		t.Fatal(err)
	}
}

const websocket1008 = 1008

func TestSessionExpiredOnReconnectStopsReconnecting(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	login(t, c)
	var events recorder[uint64]
	if _, err := c.SubscribeEvents(testCtx(t), nil, func(n apitype.EventNotification) { events.add(n.Seq) }, nil); err != nil {
		t.Fatal(err)
	}

	a.RevokeSessions()
	a.DropConnections()
	waitState(t, c, StateSessionExpired)
	if _, ok := c.Session(); ok {
		t.Error("the refused token is still kept")
	}
	if !errors.Is(c.LastError(), ErrSessionExpired) {
		t.Errorf("LastError = %v", c.LastError())
	}
	// Calls fail fast instead of waiting for a session that will not come:
	// one that waited would end with its ctx's timeout instead.
	_, err := Call(testCtx(t), c, protocol.AgentInfo, apitype.Empty{})
	if !errors.Is(err, ErrSessionExpired) || KindOf(err) != protocol.KindUnauthorized {
		t.Fatalf("Call = %v, want ErrSessionExpired at once", err)
	}

	// Dropped again, the client stays down until someone logs in.
	conns := a.Connections()
	a.DropConnections()
	time.Sleep(300 * time.Millisecond) // many backoff periods
	if a.Connections() != conns {
		t.Fatalf("client reconnected (%d -> %d connections) with an expired session", conns, a.Connections())
	}
	if c.State() != StateSessionExpired {
		t.Fatalf("State = %v", c.State())
	}

	login(t, c)
	waitState(t, c, StateLoggedIn)
	if a.Connections() != conns+1 {
		t.Errorf("Login should have reconnected once: %d -> %d", conns, a.Connections())
	}
	// The subscription kept through the expiry works again.
	desktoptest.Eventually(t, "re-created subscription", func() bool { return a.Subscriptions() == 1 })
	a.PublishEvent(apitype.EventRunStarted, nil)
	desktoptest.Eventually(t, "event after re-login", func() bool { return events.len() == 1 })
}

func TestSessionExpiredWhileConnected(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	login(t, c)
	a.RevokeSessions()

	_, err := Call(testCtx(t), c, protocol.AgentInfo, apitype.Empty{})
	agentErr(t, err, protocol.KindUnauthorized)
	waitState(t, c, StateSessionExpired)
	if _, err := Call(testCtx(t), c, protocol.AgentInfo, apitype.Empty{}); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("second call = %v, want ErrSessionExpired", err)
	}
	login(t, c) // on the same connection
	waitState(t, c, StateLoggedIn)
	if a.Connections() != 1 {
		t.Errorf("connections = %d, want 1", a.Connections())
	}
}

func TestCallsWaitWhileReconnecting(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	login(t, c)
	a.RefuseConnections(http.StatusServiceUnavailable)
	a.DropConnections()
	desktoptest.Eventually(t, "a refused attempt", func() bool {
		err := c.LastError()
		return err != nil && strings.Contains(err.Error(), "503")
	})

	// A short ctx ends while the agent is still away, naming why.
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := Call(short, c, protocol.AgentInfo, apitype.Empty{})
	if KindOf(err) != protocol.KindTimeout || !strings.Contains(err.Error(), "503") {
		t.Errorf("err = %v, want a timeout naming the last failure", err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := Call(testCtx(t), c, protocol.AgentInfo, apitype.Empty{})
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	a.RefuseConnections(0)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("call after reconnect: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("call did not complete after the reconnect")
	}
	// The waiting call was sent only after resume: it never met an
	// unauthenticated connection.
	got := methodsOn(a, a.Connections())
	if len(got) < 3 || got[1] != protocol.SessionResume.Name || got[2] != protocol.AgentInfo.Name {
		t.Errorf("calls on the new connection = %v", got)
	}
}

func TestFingerprintChangeStopsReconnecting(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	login(t, c)
	var states recorder[State]
	c.OnStateChange(states.add)

	if err := a.RotateKey(); err != nil {
		t.Fatal(err)
	}
	a.DropConnections()
	waitState(t, c, StateFingerprintMismatch)
	var mm *FingerprintMismatchError
	if !errors.As(c.LastError(), &mm) || mm.Got != a.Fingerprint() {
		t.Fatalf("LastError = %v", c.LastError())
	}
	_, err := Call(testCtx(t), c, protocol.AgentInfo, apitype.Empty{})
	if !errors.As(err, &mm) {
		t.Errorf("Call = %v, want the mismatch", err)
	}
	if _, err := c.Login(testCtx(t), "admin", "admin-password"); !errors.As(err, &mm) {
		t.Errorf("Login = %v, want the mismatch", err)
	}
	time.Sleep(100 * time.Millisecond)
	if c.State() != StateFingerprintMismatch || a.Connections() != 1 {
		t.Errorf("state %v, %d connections: the client must stay refused", c.State(), a.Connections())
	}
}

func TestStateChanges(t *testing.T) {
	a := fakeagent.New(t)
	c := dial(t, a)
	var states recorder[State]
	remove := c.OnStateChange(states.add)
	desktoptest.Eventually(t, "initial state", func() bool { return states.len() == 1 })
	login(t, c)
	a.DropConnections()
	desktoptest.Eventually(t, "reconnected", func() bool { return a.Connections() == 2 && c.State() == StateLoggedIn })
	desktoptest.Eventually(t, "listener caught up", func() bool {
		s := states.all()
		return s[len(s)-1] == StateLoggedIn && len(s) >= 5
	})
	want := []State{StateConnected, StateLoggedIn, StateDisconnected, StateConnecting, StateLoggedIn}
	if got := states.all(); !slices.Equal(got, want) {
		t.Errorf("states = %v, want %v", got, want)
	}
	remove()
	a.DropConnections()
	desktoptest.Eventually(t, "third connection", func() bool { return a.Connections() == 3 && c.State() == StateLoggedIn })
	time.Sleep(20 * time.Millisecond)
	if states.len() != len(want) {
		t.Errorf("removed listener still called: %v", states.all())
	}
}

func TestKeepalive(t *testing.T) {
	a := fakeagent.New(t)
	o := testOptions(a)
	// The pong wait is many ping periods: pongs decide, not the timer's
	// precision on a loaded machine.
	o.pingPeriod, o.pongWait = 50*time.Millisecond, time.Second
	var mu sync.Mutex
	var firstPong, lastPong time.Time
	o.onPong = func() {
		mu.Lock()
		defer mu.Unlock()
		if firstPong.IsZero() {
			firstPong = time.Now()
		}
		lastPong = time.Now()
	}
	pongSpan := func() (first, last time.Time) {
		mu.Lock()
		defer mu.Unlock()
		return firstPong, lastPong
	}
	c := dialWith(t, o)

	// Pongs alone, without any data, keep the connection open across
	// several pong waits. The wait is counted in pongs received, so a slow
	// machine only makes it longer.
	deadline := time.Now().Add(time.Minute)
	for {
		if first, last := pongSpan(); !first.IsZero() && last.Sub(first) >= 3*o.pongWait {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pongs spanning three pong waits within a minute: %d pings reached the agent", a.Pings())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if a.Connections() != 1 || c.State() != StateConnected {
		t.Fatalf("idle connection dropped: %d connections, state %v, last error %v", a.Connections(), c.State(), c.LastError())
	}

	// A hung agent (no pongs) is detected and replaced, but not before a
	// whole pong wait has passed since its last pong.
	a.IgnorePings(true)
	desktoptest.Eventually(t, "reconnect after missing pongs", func() bool { return a.Connections() >= 2 })
	if _, last := pongSpan(); time.Since(last) < o.pongWait {
		t.Errorf("gave up on the agent %v after its last pong, before the pong wait of %v", time.Since(last), o.pongWait)
	}
	a.IgnorePings(false)
	waitState(t, c, StateConnected)
}
