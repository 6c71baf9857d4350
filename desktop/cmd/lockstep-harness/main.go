// Command lockstep-harness serves the desktop UI to a browser for
// Playwright tests, with the real Go bridge behind it (see
// docs/desktop-bridge.md, "Browser-test harness"). It prints its URL on the
// first line of stdout and runs until SIGINT or SIGTERM.
//
//	go run ./desktop/cmd/lockstep-harness --listen 127.0.0.1:0 --dist frontend/dist --downloads DIR
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lockstep-sync/lockstep/desktop/internal/harness"
	"github.com/lockstep-sync/lockstep/desktop/internal/profile"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "lockstep-harness:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("lockstep-harness", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to serve on (port 0: any free port)")
	dist := fs.String("dist", "frontend/dist", "the built frontend")
	downloads := fs.String("downloads", "", "where save dialogs write (default: a new temporary directory)")
	profiles := fs.String("profiles", "", "profiles file (default: a new temporary file, never the user's own)")
	verbose := fs.Bool("v", false, "log bridge and connection activity to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("parse --listen: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		// The harness has no authentication: the loopback interface is its
		// only protection.
		return fmt.Errorf("--listen %s: the harness serves loopback addresses only", *listen)
	}
	var tmp string
	if *downloads == "" || *profiles == "" {
		tmp, err = os.MkdirTemp("", "lockstep-harness")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
	}
	if *downloads == "" {
		*downloads = filepath.Join(tmp, "downloads")
	}
	if *profiles == "" {
		*profiles = filepath.Join(tmp, "profiles.json")
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	srv, err := harness.New(harness.Options{
		Dist:      os.DirFS(*dist),
		Profiles:  profile.New(*profiles),
		Downloads: *downloads,
		Name:      "Lockstep",
		Version:   "harness",
		Logger:    log,
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("http://%s/\n", ln.Addr())
	fmt.Fprintf(os.Stderr, "lockstep-harness: serving %s, downloads in %s\n", *dist, *downloads)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Event streams never end on their own; closing the hub ends them so
	// Shutdown can finish.
	srv.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
