package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/cert"
	"github.com/rs/zerolog"
)

// Serve serves Handler on ln until ctx ends, then shuts the HTTP server
// down (waiting up to 5 s for requests in flight). It does not Close s.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No write timeout: attachment downloads stream for as long as
		// they take.
	}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve sandbox: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve sandbox: %w", err)
	}
	return nil
}

// ListenAndServe listens on addr and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve sandbox: %w", err)
	}
	return s.Serve(ctx, ln)
}

// DefaultAddr is where the standalone sandbox listens by default.
const DefaultAddr = "127.0.0.1:8089"

// ServeOptions configure the standalone sandbox (lockstep-agent sandbox
// serve).
type ServeOptions struct {
	// Addr to listen on (default 127.0.0.1:8089).
	Addr string
	// DataFile keeps the data across restarts; empty is in memory.
	DataFile string
	// Tokens accepted; empty generates one (kept in the data file so a
	// restart answers to the same token) and prints it.
	Tokens []string
	// Users and Projects to seed. nil seeds the demo's (DemoUsers,
	// DemoProjects: HELP and ENG); an empty, non-nil slice seeds none.
	Users    []User
	Projects []Project
	Knobs    Knobs
	Seed     uint64
	// TLS serves HTTPS with a self-signed certificate made at start (the
	// connector then needs allowSelfSigned). Without TLS the sandbox only
	// listens on loopback addresses.
	TLS bool
	// Out receives the URL and token (nil: discarded).
	Out io.Writer
	Log zerolog.Logger
}

// Serve runs a standalone sandbox until ctx ends.
//
// Plain HTTP is allowed on loopback only: the sandbox is a demo and test
// system holding made-up data, traffic on loopback never leaves the host,
// and the agent's connector likewise refuses plain HTTP to any other host.
// Anything reachable from the network must use TLS.
func Serve(ctx context.Context, o ServeOptions) error {
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return fmt.Errorf("serve sandbox: listen address %q: %w", o.Addr, err)
	}
	if !o.TLS && !isLoopback(host) {
		return fmt.Errorf("serve sandbox: plain HTTP is only served on loopback; use TLS to listen on %s", o.Addr)
	}
	if o.Users == nil {
		o.Users = DemoUsers()
	}
	if o.Projects == nil {
		o.Projects = DemoProjects()
	}
	owner := "api"
	if len(o.Users) > 0 {
		owner = o.Users[0].ID // the demo's tokens act as its first user
	}
	s, err := New(Options{DataFile: o.DataFile, Users: o.Users, Projects: o.Projects, Knobs: o.Knobs, Seed: o.Seed, Log: o.Log})
	if err != nil {
		return err
	}
	defer s.Close()
	tokens := o.Tokens
	if len(tokens) == 0 {
		tokens = []string{s.serveToken()}
	}
	for _, t := range tokens {
		s.AddToken(Token{Value: t, User: owner})
	}

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("serve sandbox: %w", err)
	}
	scheme, fingerprint := "http", ""
	if o.TLS {
		hostname, _ := os.Hostname()
		certPEM, keyPEM, err := cert.Generate(hostname, time.Now())
		if err == nil {
			var pair tls.Certificate
			if pair, err = tls.X509KeyPair(certPEM, keyPEM); err == nil {
				fingerprint, err = cert.Fingerprint(pair.Certificate[0])
				ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
			}
		}
		if err != nil {
			ln.Close()
			return fmt.Errorf("serve sandbox: make TLS certificate: %w", err)
		}
		scheme = "https"
	}
	where := "in memory"
	if o.DataFile != "" {
		where = o.DataFile
	}
	fmt.Fprintf(o.Out, "Sandbox serving %s://%s (data: %s)\n", scheme, ln.Addr(), where)
	fmt.Fprintf(o.Out, "  token: %s\n", tokens[0])
	if fingerprint != "" {
		fmt.Fprintf(o.Out, "  self-signed certificate, SHA-256 of its public key: %s (set allowSelfSigned on the system)\n", fingerprint)
	}
	keys := make([]string, 0, len(s.store.Projects()))
	for _, p := range s.store.Projects() {
		keys = append(keys, p.Key)
	}
	fmt.Fprintf(o.Out, "  projects: %s\n", strings.Join(keys, ", "))
	return s.Serve(ctx, ln)
}

// serveToken returns the standalone sandbox's generated token, making and
// keeping one the first time.
func (s *Server) serveToken() string {
	st := s.store
	st.mu.Lock()
	t := st.serveToken
	if t == "" {
		t = rand.Text()
		st.serveToken = t
	}
	st.mu.Unlock()
	st.commit([]change{{}})
	return t
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
