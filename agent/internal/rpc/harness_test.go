package rpc_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/app"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

const adminPassword = "correct horse battery staple"

// agent is a real agent (app.Init + app.Open + Run) in this process.
type agent struct {
	dir  string
	addr string
	stop func()
}

func startAgent(t testing.TB) *agent {
	t.Helper()
	return startAgentWith(t, nil)
}

// startAgentWith starts an agent whose agent.json was edited by edit first
// (the bootstrap configuration as a JSON object).
func startAgentWith(t testing.TB, edit func(boot map[string]any)) *agent {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(adminPassword+"\n"), 0o600)
	if _, err := app.Init(app.InitOptions{Options: app.Options{DataDir: dir, Listen: "127.0.0.1:0"}, AdminUser: "admin", AdminPasswordFile: pw}); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		path := filepath.Join(dir, "agent.json")
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		boot := map[string]any{}
		if err := json.Unmarshal(raw, &boot); err != nil {
			t.Fatal(err)
		}
		edit(boot)
		if raw, err = json.Marshal(boot); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return runAgent(t, app.Options{DataDir: dir})
}

// runAgent runs the agent of an initialised data dir until the test ends or
// its stop is called (once or more).
func runAgent(t testing.TB, o app.Options) *agent {
	t.Helper()
	a, err := app.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	agenttest.Eventually(t, "the agent to listen", func() bool { return a.Addr() != nil })
	ag := &agent{dir: o.DataDir, addr: a.Addr().String()}
	var once sync.Once
	ag.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("agent run: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Error("agent did not stop")
			}
		})
	}
	t.Cleanup(ag.stop)
	return ag
}

// client is a bare JSON-RPC client: it speaks the wire format directly, as
// any WebSocket client would.
type client struct {
	t      testing.TB
	ws     *websocket.Conn
	nextID atomic.Int64
	mu     sync.Mutex
	wait   map[int64]chan protocol.Incoming
	// wmu makes calls from several goroutines safe: a WebSocket has one
	// writer at a time.
	wmu    sync.Mutex
	notes  chan protocol.Incoming
	closed chan struct{}
}

func dial(t testing.TB, addr string, header http.Header) (*client, *http.Response, error) {
	return dialFrom(t, "", addr, header)
}

// dialFrom dials from a local address of 127/8 ("" for the default), so a
// test can be several clients.
func dialFrom(t testing.TB, from, addr string, header http.Header) (*client, *http.Response, error) {
	d := websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, HandshakeTimeout: 5 * time.Second}
	if from != "" {
		nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		d.NetDialContext = nd.DialContext
	}
	ws, resp, err := d.Dial("wss://"+addr+protocol.Path, header)
	if err != nil {
		return nil, resp, err
	}
	c := &client{t: t, ws: ws, wait: map[int64]chan protocol.Incoming{}, notes: make(chan protocol.Incoming, 10000), closed: make(chan struct{})}
	go c.read()
	t.Cleanup(func() { ws.Close() })
	return c, resp, nil
}

func (c *client) read() {
	defer close(c.closed)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var m protocol.Incoming
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		if m.IsNotification() {
			select {
			case c.notes <- m:
			default:
			}
			continue
		}
		var id int64
		json.Unmarshal(m.ID, &id)
		c.mu.Lock()
		ch := c.wait[id]
		delete(c.wait, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// raw sends params (any JSON value) to method and returns the answer.
func (c *client) raw(method string, params any) protocol.Incoming {
	c.t.Helper()
	id := c.nextID.Add(1)
	ch := make(chan protocol.Incoming, 1)
	c.mu.Lock()
	c.wait[id] = ch
	c.mu.Unlock()
	p, _ := json.Marshal(params)
	frame, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": json.RawMessage(p)})
	c.wmu.Lock()
	err := c.ws.WriteMessage(websocket.TextMessage, frame)
	c.wmu.Unlock()
	if err != nil {
		c.t.Fatalf("%s: write: %v", method, err)
	}
	select {
	case m := <-ch:
		return m
	case <-c.closed:
		c.t.Fatalf("%s: connection closed", method)
	case <-time.After(20 * time.Second):
		c.t.Fatalf("%s: no answer", method)
	}
	return protocol.Incoming{}
}

func call[P, R any](c *client, m protocol.Method[P, R], p P) (R, *protocol.Error) {
	c.t.Helper()
	var r R
	resp := c.raw(m.Name, p)
	if resp.Error != nil {
		return r, resp.Error
	}
	if err := json.Unmarshal(resp.Result, &r); err != nil {
		c.t.Fatalf("%s: decode result: %v", m.Name, err)
	}
	return r, nil
}

func callOK[P, R any](t testing.TB, c *client, m protocol.Method[P, R], p P) R {
	t.Helper()
	r, err := call(c, m, p)
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", m.Name, err)
	}
	return r
}

func (c *client) hello() {
	c.t.Helper()
	callOK(c.t, c, protocol.SessionHello, apitype.HelloParams{Protocol: 1, Client: "test/1"})
}

func (c *client) login(user, pw string) apitype.LoginResult {
	c.t.Helper()
	return callOK(c.t, c, protocol.SessionLogin, apitype.LoginParams{Username: user, Password: apitype.Secret(pw)})
}

// session dials, says hello and logs in.
func (ag *agent) session(t testing.TB, user, pw string) *client {
	t.Helper()
	c, _, err := dial(t, ag.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.hello()
	c.login(user, pw)
	return c
}

func kindOf(e *protocol.Error) protocol.Kind {
	if e == nil {
		return ""
	}
	return e.ErrorKind()
}

var _ = fmt.Sprint
