// Package rpc serves the agent's WebSocket API (PROTOCOL.md): TLS is the
// listener's job; here are the Origin check, frame limits, keepalive, one
// reader and one writer per connection with a bounded outbound queue,
// JSON-RPC 2.0 dispatch, and role enforcement in one place (dispatch).
package rpc

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Server is the WebSocket API.
type Server struct {
	ctx      context.Context
	cancel   context.CancelFunc
	log      zerolog.Logger
	deps     Deps
	handlers map[string]handler
	upgrader websocket.Upgrader

	mu    sync.Mutex
	conns map[*conn]struct{}
}

// New builds the server and registers every method.
func New(deps Deps) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		ctx: ctx, cancel: cancel, log: deps.Log, deps: deps,
		handlers: map[string]handler{}, conns: map[*conn]struct{}{},
	}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   16 << 10,
		WriteBufferSize:  16 << 10,
		// The Origin check happens before Upgrade (to answer 403); by then
		// any Origin left is allowed.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	s.register()
	return s
}

// ServeHTTP upgrades GET /v1/ws. A request whose Origin is present and not
// in the allow list is refused with 403: a page in an administrator's
// browser must not reach the agent (cross-site WebSocket hijacking).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != protocol.Path {
		http.NotFound(w, r)
		return
	}
	if origin := r.Header.Get("Origin"); !s.deps.Settings.OriginAllowed(origin) {
		s.log.Warn().Str("origin", origin).Str("remote", r.RemoteAddr).Msg("refused WebSocket upgrade from a foreign origin")
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered the client
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	c := newConn(s, ws, host)
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		c.closeWith(websocket.CloseGoingAway, "agent stopping")
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	go c.serve()
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Shutdown closes every connection with 1001 (going away); clients reconnect
// to the restarted agent and resume.
func (s *Server) Shutdown() {
	s.mu.Lock()
	s.cancel()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeWith(websocket.CloseGoingAway, "agent stopping")
	}
}

// Methods lists the registered method names.
func (s *Server) Methods() []string {
	out := make([]string, 0, len(s.handlers))
	for name := range s.handlers {
		out = append(out, name)
	}
	return out
}
