package cli

import (
	"context"
	"fmt"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/lockstep-sync/lockstep/agent/internal/app"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
)

func runLicense(args []string, stdio IO) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: license needs a subcommand: import FILE | show", errUsage)
	}
	var c common
	switch args[0] {
	case "import":
		fs := newFlags("license import", stdio, &c)
		rest := args[1:]
		if len(rest) == 0 || rest[0] == "" || rest[0][0] == '-' {
			return fmt.Errorf("%w: license import needs a FILE", errUsage)
		}
		file := rest[0]
		if err := parse(fs, rest[1:]); err != nil {
			return err
		}
		ctx, cancel := signalContext()
		defer cancel()
		text, err := app.LicenseImport(ctx, c.options(stdio), file)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdio.Stdout, text)
		return nil
	case "show":
		fs := newFlags("license show", stdio, &c)
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		ctx, cancel := signalContext()
		defer cancel()
		text, err := app.LicenseShow(ctx, c.options(stdio))
		if err != nil {
			return err
		}
		fmt.Fprintln(stdio.Stdout, text)
		return nil
	}
	return fmt.Errorf("%w: unknown license subcommand %q", errUsage, args[0])
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

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
