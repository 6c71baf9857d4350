package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/lockstep-sync/lockstep/desktop/internal/agentclient"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

func TestViewerIsRefusedEveryMutation(t *testing.T) {
	a := startAgent(t)
	admin := a.login(t, "admin", adminPassword)
	sys, err := agentclient.Call(ctx(t), admin, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: "RT", Kind: "rt", URL: "https://rt.example", Secrets: map[string]apitype.Secret{"token": "t0ken-value"}})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := agentclient.Call(ctx(t), admin, protocol.AccountsCreate, apitype.AccountsCreateParams{Username: "vera", Password: "viewer password 1", Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	viewer := a.login(t, "vera", "viewer password 1")
	id := sys.System.ID
	// Every privileged method the protocol declares, with real ids where
	// they take one: each must be refused before it looks at its params.
	tried := 0
	for _, d := range protocol.All() {
		if d.Access < protocol.Operator {
			continue
		}
		m := protocol.Method[json.RawMessage, json.RawMessage]{Name: d.Name, Access: d.Access}
		params := json.RawMessage(`{"id":"` + id + `","name":"renamed","role":"admin","username":"eve","password":"a long password 1","kind":"rt","url":"https://x"}`)
		if d.Name == protocol.AccountsUpdate.Name || d.Name == protocol.AccountsDelete.Name || d.Name == protocol.AccountsSetPassword.Name {
			params = json.RawMessage(`{"id":"` + acc.Account.ID + `","role":"admin","password":"another password 1"}`)
		}
		_, err := agentclient.Call(ctx(t), viewer, m, params)
		if k := agentclient.KindOf(err); k != protocol.KindForbidden {
			t.Errorf("viewer calling %s: kind %q (%v), want forbidden", d.Name, k, err)
		}
		tried++
	}
	if tried < 20 {
		t.Fatalf("only %d privileged methods tried", tried)
	}
	// Nothing changed.
	got, err := agentclient.Call(ctx(t), admin, protocol.SystemsGet, apitype.IDParams{ID: id})
	if err != nil || got.System.Name != "RT" {
		t.Fatalf("system after the viewer's attempts: %+v %v", got, err)
	}
	// Reading is allowed.
	if _, err := agentclient.Call(ctx(t), viewer, protocol.SystemsList, apitype.Empty{}); err != nil {
		t.Fatalf("viewer reading systems: %v", err)
	}
}

func TestBruteForceLocksOutAndEveryAttemptIsAudited(t *testing.T) {
	a := startAgent(t)
	admin := a.login(t, "admin", adminPassword)
	if _, err := agentclient.Call(ctx(t), admin, protocol.AccountsCreate, apitype.AccountsCreateParams{Username: "target", Password: "target password 1", Role: "operator"}); err != nil {
		t.Fatal(err)
	}
	attacker := a.client(t)
	var kinds []protocol.Kind
	var retryAfter int
	for i := 0; i < 6; i++ {
		pw := "guess-" + string(rune('a'+i)) + "-wrong"
		if i == 5 {
			pw = "target password 1" // even the right password is refused once locked
		}
		_, err := attacker.Login(ctx(t), "target", pw)
		kinds = append(kinds, agentclient.KindOf(err))
		var pe *protocol.Error
		if asProto(err, &pe) && pe.Data != nil && pe.Data.RetryAfterSeconds > 0 {
			retryAfter = pe.Data.RetryAfterSeconds
		}
	}
	for i, k := range kinds[:4] {
		if k != protocol.KindUnauthorized {
			t.Errorf("attempt %d: %s, want unauthorized", i+1, k)
		}
	}
	if kinds[4] != protocol.KindLockedOut || kinds[5] != protocol.KindLockedOut || retryAfter <= 0 {
		t.Fatalf("attempts 5 and 6: %v (retry after %d s), want locked_out", kinds[4:], retryAfter)
	}
	recs, err := agentclient.Call(ctx(t), admin, protocol.AuditList, apitype.AuditListParams{Action: "session.login", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	failures := 0
	for _, r := range recs.Records {
		if r.Target == "account:target" && r.Result != "success" {
			failures++
			if r.Remote != "127.0.0.1" {
				t.Errorf("audit record %d has remote %q", r.Seq, r.Remote)
			}
		}
	}
	if failures != 6 {
		t.Fatalf("%d failed attempts audited, want 6: %+v", failures, recs.Records)
	}
	lock, _ := agentclient.Call(ctx(t), admin, protocol.AuditList, apitype.AuditListParams{Action: "session.lockout"})
	if len(lock.Records) != 1 {
		t.Fatalf("lockout audited %d times, want 1", len(lock.Records))
	}
	// An admin unlocks; the right password works again.
	list, _ := agentclient.Call(ctx(t), admin, protocol.AccountsList, apitype.Empty{})
	for _, acc := range list.Accounts {
		if acc.Username == "target" {
			if !acc.Locked {
				t.Error("accounts.list does not show the lock")
			}
			no := false
			if _, err := agentclient.Call(ctx(t), admin, protocol.AccountsUpdate, apitype.AccountsUpdateParams{ID: acc.ID, Locked: &no}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := a.client(t).Login(ctx(t), "target", "target password 1"); err != nil {
		t.Fatalf("login after unlock: %v", err)
	}
}

func asProto(err error, target **protocol.Error) bool {
	for err != nil {
		if pe, ok := err.(*protocol.Error); ok {
			*target = pe
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// stalledSubscriber logs in over a raw WebSocket with a tiny receive buffer,
// subscribes to every log line and never reads again.
func stalledSubscriber(t *testing.T, a *realAgent) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetReadBuffer(4096)
			}
			return c, err
		},
	}
	ws, _, err := d.Dial("wss://"+a.addr+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	send := func(id int, method string, params any) {
		p, _ := json.Marshal(params)
		ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": json.RawMessage(p)})
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			var m protocol.Incoming
			if err := ws.ReadJSON(&m); err != nil {
				t.Fatalf("stalled subscriber setup: %v", err)
			}
			if string(m.ID) == json.Number(itoa(id)).String() {
				if m.Error != nil {
					t.Fatalf("stalled subscriber %s: %v", method, m.Error)
				}
				return
			}
		}
	}
	send(1, "session.hello", apitype.HelloParams{Protocol: 1})
	send(2, "session.login", map[string]string{"username": "admin", "password": adminPassword})
	send(3, "logs.subscribe", apitype.LogsSubscribeParams{MinLevel: "trace", Backlog: 1000})
	return ws // and never read again
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// TestStalledSubscriberHurtsNoOne streams logs to one subscriber while a
// second never reads: the first still receives every line (or is told how
// many it lost), and the agent keeps answering as fast as before.
func TestStalledSubscriberHurtsNoOne(t *testing.T) {
	a := startAgent(t)
	c := a.login(t, "admin", adminPassword)
	debug := "debug"
	if _, err := agentclient.Call(ctx(t), c, protocol.SettingsSet, apitype.SettingsSetParams{LogLevel: &debug}); err != nil {
		t.Fatal(err)
	}
	var received, dropped atomic.Int64
	if _, err := c.SubscribeLogs(ctx(t), apitype.LogsSubscribeParams{MinLevel: "debug"}, func(n apitype.LogsNotification) {
		for _, l := range n.Lines {
			if l.Message == "call" && l.Fields["method"] == "agent.info" {
				received.Add(1)
			}
		}
		dropped.Add(int64(n.Dropped))
	}); err != nil {
		t.Fatal(err)
	}
	const calls = 400
	measure := func() []time.Duration {
		out := make([]time.Duration, 0, calls)
		for i := 0; i < calls; i++ {
			start := time.Now()
			if _, err := agentclient.Call(ctx(t), c, protocol.AgentInfo, apitype.Empty{}); err != nil {
				t.Fatal(err)
			}
			out = append(out, time.Since(start))
		}
		return out
	}
	before := median(measure())
	stalledSubscriber(t, a)
	after := median(measure())

	deadline := time.Now().Add(time.Minute) // bounds a broken test only
	for received.Load()+dropped.Load() < 2*calls && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := received.Load() + dropped.Load(); got < 2*calls {
		t.Fatalf("active subscriber saw %d lines (%d dropped) of %d: lines went missing without a count", received.Load(), dropped.Load(), 2*calls)
	}
	t.Logf("median agent.info latency: %v without a stalled subscriber, %v with one; %d lines received, %d reported dropped", before, after, received.Load(), dropped.Load())
	// Not a timing threshold on a shared machine: a stalled subscriber that
	// blocked the agent would add seconds (the 10 s write deadline), not a
	// few milliseconds of noise.
	if after > 10*before+50*time.Millisecond {
		t.Fatalf("requests slowed from %v to %v with a stalled subscriber attached", before, after)
	}
	if _, err := agentclient.Call(ctx(t), c, protocol.HostInfo, apitype.Empty{}); err != nil {
		t.Fatalf("agent unresponsive: %v", err)
	}
}
