// Package fakeagent is an in-process stand-in for lockstep-agent's
// WebSocket API (PROTOCOL.md), for tests of the desktop's agent client and
// of the bridge above it. It serves TLS with its own self-signed key and
// implements the session methods, accounts with roles, a few system
// methods, log and event subscriptions with replay and resync, and sub.cancel;
// tests add or override methods with Handle. It can also misbehave on
// purpose: drop connections, close them with a code (1008 slow consumer),
// refuse upgrades, revoke sessions, forget its event ring, change its key.
package fakeagent

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Handler answers one method; a *protocol.Error is sent as is, any other
// error as an internal error. ctx ends when the connection closes.
type Handler func(ctx context.Context, params json.RawMessage) (any, error)

// Call records one request the agent received.
type Call struct {
	Conn   int // 1 for the first connection, and so on
	Method string
	Params json.RawMessage
}

type account struct {
	apitype.Account
	password string
}

// Agent is a running fake agent.
type Agent struct {
	srv      *httptest.Server
	url      string
	cert     atomic.Pointer[tls.Certificate]
	fp       atomic.Pointer[string]
	upgrader websocket.Upgrader
	instance string
	wg       sync.WaitGroup

	ignorePings atomic.Bool
	pings       atomic.Int64

	mu        sync.Mutex
	accounts  map[string]*account
	tokens    map[string]string // token -> username
	sessions  map[*session]struct{}
	connSeq   int
	calls     []Call
	headers   []http.Header
	handlers  map[string]Handler
	supported []int
	refuse    int
	seq       uint64
	ring      []apitype.EventNotification
	ringSize  int
	backlog   []apitype.LogLine
	subSeq    int
	early     bool
	systems   map[string]apitype.System
	sysSeq    int
	closed    bool
}

// New starts an agent that t's cleanup stops. It knows one account,
// admin/admin-password with the admin role.
func New(t testing.TB) *Agent {
	t.Helper()
	a, err := Start()
	if err != nil {
		t.Fatalf("start fake agent: %v", err)
	}
	t.Cleanup(a.Close)
	return a
}

// Start starts an agent; Close stops it.
func Start() (*Agent, error) {
	crt, fp, err := newIdentity()
	if err != nil {
		return nil, err
	}
	a := &Agent{
		instance:  randomHex(8),
		accounts:  map[string]*account{},
		tokens:    map[string]string{},
		sessions:  map[*session]struct{}{},
		handlers:  map[string]Handler{},
		supported: []int{protocol.Version},
		ringSize:  1000,
		systems:   map[string]apitype.System{},
	}
	a.cert.Store(&crt)
	a.fp.Store(&fp)
	// Like the agent: a request carrying any Origin is refused, and the
	// desktop's Go client sends none.
	a.upgrader.CheckOrigin = func(r *http.Request) bool { return r.Header.Get("Origin") == "" }
	a.AddAccount("admin", "admin-password", protocol.RoleAdmin)

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc(protocol.Path, a.serveWS)
	a.srv = httptest.NewUnstartedServer(mux)
	a.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused pins make handshake noise
	a.srv.Listener = tls.NewListener(a.srv.Listener, &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return a.cert.Load(), nil
		},
	})
	a.srv.Start()
	a.url = "wss://" + a.srv.Listener.Addr().String() + protocol.Path
	return a, nil
}

// Close stops the agent and waits for its goroutines.
func (a *Agent) Close() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	a.mu.Unlock()
	a.DropConnections()
	a.srv.Close()
	a.wg.Wait()
}

// URL is the agent's wss:// endpoint.
func (a *Agent) URL() string { return a.url }

// Addr is host:port.
func (a *Agent) Addr() string { return a.srv.Listener.Addr().String() }

// Fingerprint is the SPKI SHA-256 of the current key, as clients pin it.
func (a *Agent) Fingerprint() string { return *a.fp.Load() }

// InstanceID is what hello reports.
func (a *Agent) InstanceID() string { return a.instance }

// RotateKey gives the agent a new key, as a reinstall would: clients pinned
// to the old fingerprint must refuse it.
func (a *Agent) RotateKey() error {
	crt, fp, err := newIdentity()
	if err != nil {
		return err
	}
	a.cert.Store(&crt)
	a.fp.Store(&fp)
	return nil
}

// AddAccount adds or replaces an account.
func (a *Agent) AddAccount(username, password string, role protocol.Role) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.accounts[username] = &account{
		Account:  apitype.Account{ID: "acc-" + username, Username: username, Role: string(role), CreatedAt: time.Now().UTC()},
		password: password,
	}
}

// Handle adds or overrides a method. Role checks still apply to methods
// shared/protocol declares.
func (a *Agent) Handle(method string, h Handler) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.handlers[method] = h
}

// SetSupported sets the protocol versions hello accepts.
func (a *Agent) SetSupported(versions ...int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.supported = versions
}

// RefuseConnections answers upgrades with status (e.g. 503) while non-zero:
// the agent is "down" but the TLS listener is up.
func (a *Agent) RefuseConnections(status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refuse = status
}

// IgnorePings stops answering pings while on, like a hung agent whose
// TCP connection stays open.
func (a *Agent) IgnorePings(on bool) { a.ignorePings.Store(on) }

// Pings counts pings received from clients.
func (a *Agent) Pings() int64 { return a.pings.Load() }

// NotifyBeforeResult makes subscribe send its backlog or replay before the
// result naming the subscription, which PROTOCOL.md does not forbid.
func (a *Agent) NotifyBeforeResult(on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.early = on
}

// Calls returns every request received, in order.
func (a *Agent) Calls() []Call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

// CallCount counts requests for method.
func (a *Agent) CallCount(method string) int {
	n := 0
	for _, c := range a.Calls() {
		if c.Method == method {
			n++
		}
	}
	return n
}

// Connections counts accepted WebSocket connections so far.
func (a *Agent) Connections() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.connSeq
}

// OpenConnections counts the connections open now.
func (a *Agent) OpenConnections() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.sessions)
}

// UpgradeHeaders returns the headers of every upgrade request.
func (a *Agent) UpgradeHeaders() []http.Header {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.headers)
}

// Subscriptions counts live subscriptions over all connections.
func (a *Agent) Subscriptions() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for s := range a.sessions {
		n += len(s.subs)
	}
	return n
}

// LastEventSeq is the newest event's sequence number.
func (a *Agent) LastEventSeq() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seq
}

// DropConnections closes every connection abruptly, without a close frame.
func (a *Agent) DropConnections() {
	for _, s := range a.openSessions() {
		s.close()
	}
}

// CloseConnections sends a close frame with code (1008 for a slow
// consumer) on every connection, then closes it.
func (a *Agent) CloseConnections(code int, reason string) {
	for _, s := range a.openSessions() {
		msg := websocket.FormatCloseMessage(code, reason)
		_ = s.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		s.close()
	}
}

// RevokeSessions forgets every token and logs every connection out, as an
// expiry or a password change would; their subscriptions end.
func (a *Agent) RevokeSessions() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.tokens)
	for s := range a.sessions {
		s.user, s.token = "", ""
		clear(s.subs)
	}
}

// ForgetEvents empties the event ring (keeping the sequence), so any
// resume with since older than the newest event answers resync.
func (a *Agent) ForgetEvents() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ring = nil
}

// PublishEvent sends an event to matching subscriptions and keeps it in the
// ring; it returns its sequence number.
func (a *Agent) PublishEvent(typ string, data any) uint64 {
	raw, _ := json.Marshal(data) // test payloads
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	ev := apitype.EventNotification{Seq: a.seq, Time: time.Now().UTC(), Type: typ, Data: raw}
	a.ring = append(a.ring, ev)
	if len(a.ring) > a.ringSize {
		a.ring = a.ring[len(a.ring)-a.ringSize:]
	}
	for s := range a.sessions {
		for _, sub := range s.subs {
			if sub.kind == "events" && (len(sub.types) == 0 || slices.Contains(sub.types, typ)) {
				ev.Sub = sub.id
				s.notifyLocked(protocol.NotifyEvent, ev)
			}
		}
	}
	return a.seq
}

// PublishLog sends lines to every log subscription and keeps them for
// backlogs. Lines without a time get the current time.
func (a *Agent) PublishLog(lines ...apitype.LogLine) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range lines {
		if lines[i].Time.IsZero() {
			lines[i].Time = time.Now().UTC()
		}
	}
	a.backlog = append(a.backlog, lines...)
	if len(a.backlog) > 1000 {
		a.backlog = a.backlog[len(a.backlog)-1000:]
	}
	for s := range a.sessions {
		for _, sub := range s.subs {
			if sub.kind == "logs" {
				s.notifyLocked(protocol.NotifyLogs, apitype.LogsNotification{Sub: sub.id, Lines: lines})
			}
		}
	}
}

func (a *Agent) openSessions() []*session {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*session, 0, len(a.sessions))
	for s := range a.sessions {
		out = append(out, s)
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// errorOf turns a handler's error into a wire error.
func errorOf(err error) *protocol.Error {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe
	}
	return &protocol.Error{Code: protocol.CodeInternal, Message: err.Error(), Data: &protocol.ErrorData{Kind: protocol.KindInternal}}
}
