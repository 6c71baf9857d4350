package rpc_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// BenchmarkLoginFlood measures, in one run, what a flood from the network
// does to the people who use the agent: a logged-in administrator's call
// and an administrator's login, first on an idle agent, then while 300
// connections sit idle without logging in and 50 clients guess passwords
// as fast as the agent answers them. Every attacker has an address of its
// own (127.0.1.x idle, a few sharing one as behind a NAT; 127.0.2.x
// guessing), so per-address limits alone
// cannot be what keeps the administrator served. It reports the two ratios
// loaded/unloaded of the medians; make bench prints them with the goal.
func BenchmarkLoginFlood(b *testing.B) {
	for range b.N {
		ag := startAgent(b)
		admin := ag.session(b, "admin", adminPassword)
		callMedian := func(n int) time.Duration {
			d := make([]time.Duration, 0, n)
			for range n {
				start := time.Now()
				callOK(b, admin, protocol.SessionWhoami, apitype.Empty{})
				d = append(d, time.Since(start))
			}
			return median(d)
		}
		loginMedian := func(n int) time.Duration {
			d := make([]time.Duration, 0, n)
			c, _, err := dial(b, ag.addr, nil)
			if err != nil {
				b.Fatal(err)
			}
			c.hello()
			for range n {
				start := time.Now()
				c.login("admin", adminPassword)
				d = append(d, time.Since(start))
			}
			c.ws.Close()
			return median(d)
		}
		callIdle, loginIdle := callMedian(200), loginMedian(9)

		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var guesses atomic.Int64
		for i := range 300 {
			wg.Go(func() { idleConn(ctx, ag.addr, fmt.Sprintf("127.0.1.%d", i%250+1)) })
		}
		for i := range 50 {
			wg.Go(func() { guesser(ctx, ag.addr, fmt.Sprintf("127.0.2.%d", i+1), &guesses) })
		}
		// Measure once the guessing is under way.
		deadline := time.Now().Add(2 * time.Minute) // bounds a broken run only
		for guesses.Load() < 100 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		callLoaded, loginLoaded := callMedian(200), loginMedian(9)
		stop()
		wg.Wait()

		b.ReportMetric(float64(callLoaded)/float64(callIdle), "call_loaded/unloaded")
		b.ReportMetric(float64(loginLoaded)/float64(loginIdle), "login_loaded/unloaded")
		b.ReportMetric(float64(callIdle.Microseconds()), "call_unloaded_us")
		b.ReportMetric(float64(loginIdle.Milliseconds()), "login_unloaded_ms")
		b.ReportMetric(float64(guesses.Load()), "guesses")
	}
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

func floodDialer(from string) *websocket.Dialer {
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	return &websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, HandshakeTimeout: 10 * time.Second, NetDialContext: nd.DialContext}
}

// idleConn keeps one connection open without logging in, opening another
// whenever the agent closes it (as an attacker holding sockets would).
func idleConn(ctx context.Context, addr, from string) {
	d := floodDialer(from)
	for ctx.Err() == nil {
		ws, _, err := d.DialContext(ctx, "wss://"+addr+protocol.Path, nil)
		if err != nil {
			pause(ctx, 200*time.Millisecond)
			continue
		}
		stop := context.AfterFunc(ctx, func() { ws.Close() })
		ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "session.hello", "params": map[string]any{"protocol": 1}})
		for {
			if _, _, err := ws.ReadMessage(); err != nil { // answers pings while it reads
				break
			}
		}
		stop()
		ws.Close()
	}
}

// guesser logs in with wrong passwords for made-up usernames, one attempt
// after another's answer, reconnecting when the agent closes it.
func guesser(ctx context.Context, addr, from string, guesses *atomic.Int64) {
	d := floodDialer(from)
	for n := 0; ctx.Err() == nil; {
		ws, _, err := d.DialContext(ctx, "wss://"+addr+protocol.Path, nil)
		if err != nil {
			pause(ctx, 200*time.Millisecond)
			continue
		}
		stop := context.AfterFunc(ctx, func() { ws.Close() })
		ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "session.hello", "params": map[string]any{"protocol": 1}})
		var resp json.RawMessage
		if ws.ReadJSON(&resp) == nil {
			for ctx.Err() == nil {
				n++
				params := map[string]any{"username": fmt.Sprintf("user%d-%s", n%500, from), "password": fmt.Sprintf("guess %d", n)}
				if ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": n + 1, "method": "session.login", "params": params}) != nil {
					break
				}
				if ws.ReadJSON(&resp) != nil {
					break
				}
				guesses.Add(1)
			}
		}
		stop()
		ws.Close()
	}
}

func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
