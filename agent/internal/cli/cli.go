// Package cli turns the command line into app calls. It holds no logic: it
// parses flags and environment, calls app, and prints results.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"

	"github.com/lockstep-sync/lockstep/agent/internal/app"
	"github.com/lockstep-sync/lockstep/agent/internal/paths"
	"github.com/lockstep-sync/lockstep/agent/internal/service"
)

// Env names read by the command line.
const (
	EnvDataDir = "LOCKSTEP_DATA_DIR"
	EnvListen  = "LOCKSTEP_LISTEN"
)

// IO is where a command reads and writes.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

const usage = `lockstep-agent keeps work items in sync between the systems your teams use.

Usage:
  lockstep-agent init --data-dir DIR [--listen ADDR] [--admin-user NAME] [--admin-password-file FILE]
  lockstep-agent run --data-dir DIR [--listen ADDR]
  lockstep-agent fingerprint --data-dir DIR
  lockstep-agent key rotate --data-dir DIR [--new-key-file FILE]
  lockstep-agent service install|uninstall|start|stop|status [--data-dir DIR] [--user NAME]
  lockstep-agent audit verify --data-dir DIR
  lockstep-agent support-package --data-dir DIR -o FILE
  lockstep-agent license import FILE --data-dir DIR | license show --data-dir DIR
  lockstep-agent backup --data-dir DIR -o FILE [--passphrase-file F]
  lockstep-agent restore FILE --data-dir EMPTY_DIR [--passphrase-file F]
  lockstep-agent pairs adopt --data-dir DIR --process ID (--csv FILE | --match-a F --match-b F) [--apply]
  lockstep-agent pairs unpair --data-dir DIR --process ID PAIR...
  lockstep-agent queue --data-dir DIR --process ID [--limit N]
  lockstep-agent sandbox serve --listen ADDR --data FILE [--token T]
  lockstep-agent demo [--data-dir DIR] [--listen ADDR] [--admin-password-file F]
  lockstep-agent version

audit verify, support-package, license and backup talk to a running agent through its
local admin channel (root or the agent's account only), or open the store when it is stopped.
Every command that opens the data dir also takes --key-file FILE.
Environment: LOCKSTEP_DATA_DIR, LOCKSTEP_LISTEN, LOCKSTEP_MASTER_KEY (base64 of 32 bytes),
LOCKSTEP_MASTER_KEY_FILE.
`

// errUsage marks errors that come with the usage text.
var errUsage = errors.New("usage")

// Main runs one command and returns the process exit code.
func Main(args []string, stdio IO) int {
	if stdio.Getenv == nil {
		stdio.Getenv = os.Getenv
	}
	err := dispatch(args, stdio)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stdio.Stderr, "lockstep-agent: %v\n\n%s", err, usage)
		return 2
	default:
		// One line naming what failed; the exit code says it failed.
		fmt.Fprintf(stdio.Stderr, "lockstep-agent: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return 1
	}
}

func dispatch(args []string, stdio IO) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command given", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "init":
		return runInit(rest, stdio)
	case "run":
		return runRun(rest, stdio)
	case "fingerprint":
		return runFingerprint(rest, stdio)
	case "key":
		if len(rest) == 0 || rest[0] != "rotate" {
			return fmt.Errorf("%w: key needs a subcommand: rotate", errUsage)
		}
		return runKeyRotate(rest[1:], stdio)
	case "service":
		return runService(rest, stdio)
	case "audit":
		if len(rest) == 0 || rest[0] != "verify" {
			return fmt.Errorf("%w: audit needs a subcommand: verify", errUsage)
		}
		return runAuditVerify(rest[1:], stdio)
	case "support-package":
		return runSupportPackage(rest, stdio)
	case "license":
		return runLicense(rest, stdio)
	case "backup":
		return runBackup(rest, stdio)
	case "restore":
		return runRestore(rest, stdio)
	case "pairs":
		return runPairs(rest, stdio)
	case "queue":
		return runQueue(rest, stdio)
	case "sandbox":
		if len(rest) == 0 || rest[0] != "serve" {
			return fmt.Errorf("%w: sandbox needs a subcommand: serve", errUsage)
		}
		return runSandbox(rest[1:], stdio)
	case "demo":
		return runDemo(rest, stdio)
	case "version", "--version", "-v":
		keys, err := app.LicenseKeyIDs()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdio.Stdout, "lockstep-agent %s\n", app.Version)
		if len(keys) == 0 {
			fmt.Fprintln(stdio.Stdout, "license keys: none (this build accepts no license: evaluation mode only)")
		} else {
			fmt.Fprintf(stdio.Stdout, "license keys: %s\n", strings.Join(keys, ", "))
		}
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdio.Stdout, usage)
		return nil
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}

// common are the flags every data-dir command takes.
type common struct {
	dataDir string
	keyFile string
}

func newFlags(name string, stdio IO, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdio.Stderr)
	def := stdio.Getenv(EnvDataDir)
	if def == "" {
		def = paths.DefaultDataDir()
	}
	fs.StringVar(&c.dataDir, "data-dir", def, "data directory (env "+EnvDataDir+")")
	fs.StringVar(&c.keyFile, "key-file", "", "master key file (env LOCKSTEP_MASTER_KEY_FILE)")
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %s: unexpected argument %q", errUsage, fs.Name(), fs.Arg(0))
	}
	return nil
}

func (c common) options(stdio IO) app.Options {
	return app.Options{DataDir: c.dataDir, KeyFile: c.keyFile, Getenv: stdio.Getenv}
}

func runInit(args []string, stdio IO) error {
	var c common
	var o app.InitOptions
	var listen string
	fs := newFlags("init", stdio, &c)
	fs.StringVar(&listen, "listen", stdio.Getenv(EnvListen), "address to serve TLS on (default "+paths.DefaultListen+")")
	fs.StringVar(&o.AdminUser, "admin-user", "admin", "name of the first administrator account")
	fs.StringVar(&o.AdminPasswordFile, "admin-password-file", "", "file holding the first administrator's password")
	ifAbsent := fs.Bool("if-absent", false, "do nothing when the data directory is initialised already (a container's first start)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *ifAbsent {
		// Initialised means both the config and the store are there; a
		// directory holding only some of what init writes is refused below.
		if layout, err := paths.New(c.dataDir); err == nil && exists(layout.Config()) && exists(layout.Store()) {
			fmt.Fprintf(stdio.Stdout, "%s is initialised already: nothing to do\n", layout.Dir)
			return nil
		}
	}
	o.Options = c.options(stdio)
	o.Listen = listen
	res, err := app.Init(o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Stdout, "Initialised %s\n  listen:      %s\n  master key:  %s\n  instance id: %s\n  fingerprint: %s\n",
		res.DataDir, res.Listen, res.KeySource, res.InstanceID, res.Fingerprint)
	if res.GeneratedPassword != "" {
		fmt.Fprintf(stdio.Stdout, "  admin:       %s\n  password:    %s\n  (shown once: store it in your password manager now)\n", res.AdminUser, res.GeneratedPassword)
	} else {
		fmt.Fprintf(stdio.Stdout, "  admin:       %s (password from the file given)\n", res.AdminUser)
	}
	fmt.Fprintf(stdio.Stdout, "Start it with: lockstep-agent run --data-dir %s\n", res.DataDir)
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func runRun(args []string, stdio IO) error {
	var c common
	var listen string
	fs := newFlags("run", stdio, &c)
	fs.StringVar(&listen, "listen", stdio.Getenv(EnvListen), "address to serve TLS on (overrides the config)")
	if err := parse(fs, args); err != nil {
		return err
	}
	o := c.options(stdio)
	o.Listen = listen
	o.MemoryLimit = app.MemoryLimit
	if f, ok := stdio.Stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		o.Console = stdio.Stderr
	}
	return service.Run(service.Config{DataDir: c.dataDir}, func(ctx context.Context) error {
		a, err := app.Open(o)
		if err != nil {
			return err
		}
		return a.Run(ctx)
	})
}

func runFingerprint(args []string, stdio IO) error {
	var c common
	fs := newFlags("fingerprint", stdio, &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	fp, err := app.Fingerprint(c.dataDir)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdio.Stdout, fp)
	return nil
}

func runKeyRotate(args []string, stdio IO) error {
	var c common
	var newKeyFile string
	fs := newFlags("key rotate", stdio, &c)
	fs.StringVar(&newKeyFile, "new-key-file", "", "where to write the new key when the current one comes from the environment or a systemd credential")
	if err := parse(fs, args); err != nil {
		return err
	}
	where, err := app.RotateKey(c.options(stdio), newKeyFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Stdout, "Master key rotated; the new key is in %s. The old key no longer opens the store.\n", where)
	return nil
}

func runService(args []string, stdio IO) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("%w: service needs an action: %s", errUsage, strings.Join(service.Actions(), "|"))
	}
	action := args[0]
	var c common
	var user string
	fs := newFlags("service "+action, stdio, &c)
	fs.StringVar(&user, "user", "", "run the service as this existing account (Linux: needed for a data dir outside /var/lib)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	state, err := service.Control(service.Config{DataDir: c.dataDir, User: user}, action)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Stdout, "lockstep-agent service: %s\n", state)
	return nil
}

func runAuditVerify(args []string, stdio IO) error {
	var c common
	fs := newFlags("audit verify", stdio, &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	v, err := app.VerifyAudit(ctx, c.options(stdio))
	if err != nil {
		return err
	}
	if !v.OK {
		return fmt.Errorf("audit chain BROKEN at record %d: %s (%d records verified before it)", v.BrokenAt, v.Problem, v.Records)
	}
	fmt.Fprintf(stdio.Stdout, "audit chain intact: %d records\n", v.Records)
	return nil
}

func runSupportPackage(args []string, stdio IO) error {
	var c common
	var out string
	fs := newFlags("support-package", stdio, &c)
	fs.StringVar(&out, "o", "", "file to write the package to (must not exist)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if out == "" {
		return fmt.Errorf("%w: support-package needs -o FILE", errUsage)
	}
	ctx, cancel := signalContext()
	defer cancel()
	m, err := app.SupportPackage(ctx, c.options(stdio), out)
	if err != nil {
		return err
	}
	failed := 0
	for _, p := range m.Parts {
		if p.Status == "error" {
			failed++
			fmt.Fprintf(stdio.Stderr, "  part %s: %s\n", p.Name, p.Error)
		}
	}
	fmt.Fprintf(stdio.Stdout, "support package written to %s (%d parts, %d failed)\n", out, len(m.Parts), failed)
	return nil
}

// signalContext ends on Ctrl-C or SIGTERM: a command's way to stop cleanly.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}
