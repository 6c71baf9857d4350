// Package rpc serves the agent's WebSocket API (PROTOCOL.md): TLS is the
// listener's job; here are the Origin check, frame limits, keepalive, one
// reader and one writer per connection with a bounded outbound queue,
// JSON-RPC 2.0 dispatch, and role enforcement in one place (dispatch).
package rpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/auth"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Limits bound the connections that have not logged in: anyone who reaches
// the port can open them, so they are capped in total and per address, and
// each must log in (or resume) within LoginTimeout or is closed (1008). A
// logged-in connection is not counted; one that logs out is counted again
// and gets a new LoginTimeout. Zero values take the defaults in brackets.
type Limits struct {
	LoginTimeout                 time.Duration // [30s]
	MaxUnauthenticated           int           // [512]
	MaxUnauthenticatedPerAddress int           // [16]
}

// Default limits.
const (
	DefaultLoginTimeout                 = 30 * time.Second
	DefaultMaxUnauthenticated           = 512
	DefaultMaxUnauthenticatedPerAddress = 16
)

func (l Limits) withDefaults() Limits {
	if l.LoginTimeout <= 0 {
		l.LoginTimeout = DefaultLoginTimeout
	}
	if l.MaxUnauthenticated <= 0 {
		l.MaxUnauthenticated = DefaultMaxUnauthenticated
	}
	if l.MaxUnauthenticatedPerAddress <= 0 {
		l.MaxUnauthenticatedPerAddress = DefaultMaxUnauthenticatedPerAddress
	}
	return l
}

// Server is the WebSocket API.
type Server struct {
	ctx      context.Context
	cancel   context.CancelFunc
	log      zerolog.Logger
	deps     Deps
	limits   Limits
	handlers map[string]handler
	upgrader websocket.Upgrader

	mu       sync.Mutex
	conns    map[*conn]struct{}
	unauth   int            // connections not logged in
	unauthBy map[string]int // the same per remote address
}

// New builds the server and registers every method.
func New(deps Deps) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		ctx: ctx, cancel: cancel, log: deps.Log, deps: deps, limits: deps.Limits.withDefaults(),
		handlers: map[string]handler{}, conns: map[*conn]struct{}{}, unauthBy: map[string]int{},
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
	if deps.Auth != nil {
		deps.Auth.OnSessionsEnded(s.sessionsEnded)
	}
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
	// Credentials travel in session.login and session.resume only, after
	// session.hello: one way in, and nothing a proxy, a browser or a log
	// would keep. An upgrade that carries some was built for another
	// contract; refusing it says so rather than leaving the client to find
	// out from its first "unauthorized".
	if r.Header.Get("Authorization") != "" {
		s.log.Warn().Str("remote", r.RemoteAddr).Msg("refused WebSocket upgrade carrying an Authorization header")
		http.Error(w, "the agent takes no credentials on the WebSocket upgrade: after session.hello, call session.login or session.resume", http.StatusBadRequest)
		return
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	// A local admin channel connection is identified by the operating
	// system before it is accepted: it is not one waiting to log in.
	local, isLocal := localFrom(r.Context())
	if isLocal {
		host = local.Remote
	} else if status, why := s.admit(host); status != 0 {
		s.log.Debug().Str("remote", host).Msg("refused WebSocket upgrade: " + why)
		w.Header().Set("Retry-After", "5")
		http.Error(w, why, status)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		if !isLocal {
			s.leave(host)
		}
		return // the upgrader has answered the client
	}
	c := newConn(s, ws, host)
	if isLocal {
		s.admitLocal(c, local)
	}
	s.mu.Lock()
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		c.closeWith(websocket.CloseGoingAway, "agent stopping")
		if !isLocal {
			s.leave(host)
		}
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	go c.serve()
}

// admit counts a new connection from host as not logged in, or says why it
// may not open (an HTTP status and a message).
func (s *Server) admit(host string) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.unauthBy[host] >= s.limits.MaxUnauthenticatedPerAddress:
		return http.StatusTooManyRequests, fmt.Sprintf("too many connections from this address are not logged in (at most %d)", s.limits.MaxUnauthenticatedPerAddress)
	case s.unauth >= s.limits.MaxUnauthenticated:
		return http.StatusServiceUnavailable, "too many connections are waiting to log in; try again shortly"
	}
	s.unauth++
	s.unauthBy[host]++
	return 0, ""
}

// rejoin counts a connection that logged out as not logged in again; it is
// open already, so no cap refuses it.
func (s *Server) rejoin(host string) {
	s.mu.Lock()
	s.unauth++
	s.unauthBy[host]++
	s.mu.Unlock()
}

// leave stops counting a connection as not logged in (it logged in, or closed).
func (s *Server) leave(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unauth--
	if s.unauthBy[host]--; s.unauthBy[host] <= 0 {
		delete(s.unauthBy, host)
	}
}

// Connections counts the open connections by state (metrics).
func (s *Server) Connections() (loggedIn, notLoggedIn int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(0, len(s.conns)-s.unauth), s.unauth
}

// sessionsEnded stops serving an account's connections whose session was
// just ended by something else than their own logout (a lockout, a lock, a
// password change, an eviction by a newer login): their subscriptions stop
// and they are told at once, instead of streaming logs and events until
// their next call.
func (s *Server) sessionsEnded(accountID string) {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		token, acc := c.session()
		if acc == nil || acc.ID != accountID {
			continue
		}
		// Only a check, not a use: another session ending must not push
		// this one's idle deadline back.
		if _, err := s.deps.Auth.Remaining(token); !errors.Is(err, auth.ErrUnauthorized) {
			// A session of its own that lives on, or one the store could
			// not tell about: its timer checks it again when it is due.
			continue
		}
		c.endSessionOf(token)
	}
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
