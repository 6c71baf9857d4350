package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// rpcClient is a minimal JSON-RPC client for driving a real agent in tests.
type rpcClient struct {
	t  testing.TB
	ws *websocket.Conn
	id int
}

func dialAgent(t testing.TB, addr string) *rpcClient {
	t.Helper()
	d := websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial("wss://"+addr+"/v1/ws", nil)
	if err != nil {
		t.Fatalf("dial agent: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &rpcClient{t: t, ws: ws}
	c.call("session.hello", map[string]any{"protocol": 1, "client": "agent-test"}, nil)
	return c
}

// call sends a request and decodes the result into out; an error answer fails the test.
func (c *rpcClient) call(method string, params, out any) {
	c.t.Helper()
	if err := c.try(method, params, out); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
}

func (c *rpcClient) try(method string, params, out any) error {
	c.id++
	if err := c.ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": c.id, "method": method, "params": params}); err != nil {
		return err
	}
	c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		var m struct {
			ID     *int            `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := c.ws.ReadJSON(&m); err != nil {
			return err
		}
		if m.ID == nil || *m.ID != c.id {
			continue // a notification
		}
		if m.Error != nil {
			return fmt.Errorf("%s", m.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	}
}

func dialTCP(addr string) (interface{ Close() error }, error) {
	return net.DialTimeout("tcp", addr, time.Second)
}
