package cli

// The sandbox work system on its own (sandbox serve), and the demo that
// syncs two of them.

import (
	"path/filepath"

	"github.com/lockstep-sync/lockstep/agent/internal/app"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
)

func runSandbox(args []string, stdio IO) error {
	var c common
	var o sandbox.ServeOptions
	var token string
	fs := newFlags("sandbox serve", stdio, &c)
	fs.StringVar(&o.Addr, "listen", "127.0.0.1:8089", "address to serve the sandbox API on (loopback unless --tls)")
	fs.StringVar(&o.DataFile, "data", "", "JSON file keeping the sandbox's data (empty: in memory)")
	fs.StringVar(&token, "token", "", "API token to accept (default: generated and printed)")
	fs.BoolVar(&o.TLS, "tls", false, "serve HTTPS with a self-signed certificate")
	fs.Uint64Var(&o.Seed, "seed", 0, "seed of latency jitter and fault injection (0: random)")
	o.Knobs.BindFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if token != "" {
		o.Tokens = []string{token}
	}
	o.Out = stdio.Stdout
	ctx, cancel := signalContext()
	defer cancel()
	return sandbox.Serve(ctx, o)
}

func runDemo(args []string, stdio IO) error {
	var c common
	var o app.DemoOptions
	var listen string
	fs := newFlags("demo", stdio, &c)
	fs.StringVar(&listen, "listen", "127.0.0.1:7443", "address the demo agent serves on")
	fs.StringVar(&o.AdminPasswordFile, "admin-password-file", "", "file with the admin password (default: generated and kept in the demo dir)")
	// The demo keeps its data under the current directory unless told
	// otherwise: it is not a system-wide install.
	if stdio.Getenv(EnvDataDir) == "" {
		fs.Lookup("data-dir").DefValue = ".demo"
		c.dataDir = ".demo"
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	abs, err := filepath.Abs(c.dataDir)
	if err != nil {
		return err
	}
	o.Options = c.options(stdio)
	o.DataDir = abs
	o.Listen = listen
	o.Console = nil
	o.Out = stdio.Stdout
	ctx, cancel := signalContext()
	defer cancel()
	return app.Demo(ctx, o)
}
