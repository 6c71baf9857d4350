package cli

import (
	"fmt"

	"github.com/lockstep-sync/lockstep/agent/internal/app"
	"github.com/lockstep-sync/lockstep/agent/internal/backup"
)

func readPassphrase(file string) ([]byte, error) {
	if file == "" {
		return nil, nil
	}
	return app.ReadPassphrase(file)
}

func runBackup(args []string, stdio IO) error {
	var c common
	var out, passFile string
	fs := newFlags("backup", stdio, &c)
	fs.StringVar(&out, "o", "", "file to write the archive to (must not exist)")
	fs.StringVar(&passFile, "passphrase-file", "", "seal the archive with the passphrase in this file instead of the master key (the archive then carries the key)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if out == "" {
		return fmt.Errorf("%w: backup needs -o FILE", errUsage)
	}
	pass, err := readPassphrase(passFile)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	ctx, cancel := signalContext()
	defer cancel()
	res, err := app.Backup(ctx, c.options(stdio), out, pass)
	if err != nil {
		return err
	}
	from := "the stopped agent's store"
	if res.Online {
		from = "the running agent (a consistent snapshot)"
	}
	fmt.Fprintf(stdio.Stdout, "backup written to %s (%d bytes) from %s, sealed with the %s\n", res.File, res.Size, from, res.Kind)
	if res.Kind == backup.MasterKey {
		fmt.Fprintln(stdio.Stdout, "It opens only with this agent's master key: keep a copy of the key apart from the archive.")
	}
	return nil
}

func runRestore(args []string, stdio IO) error {
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		return fmt.Errorf("%w: restore needs an archive FILE", errUsage)
	}
	file := args[0]
	var c common
	var passFile string
	fs := newFlags("restore", stdio, &c)
	fs.StringVar(&passFile, "passphrase-file", "", "the archive's passphrase, for archives sealed with one")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	pass, err := readPassphrase(passFile)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	ctx, cancel := signalContext()
	defer cancel()
	res, err := app.Restore(ctx, c.options(stdio), file, pass)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Stdout, "Restored %s\n  from:        %s (made %s, sealed with the %s)\n  instance id: %s\n",
		res.DataDir, file, res.CreatedAt.UTC().Format("2006-01-02 15:04:05Z"), res.Kind, res.InstanceID)
	switch {
	case res.KeyCreated:
		fmt.Fprintf(stdio.Stdout, "  master key:  new, in %s (the archive's key opens nothing here): back it up apart from the data dir\n", res.KeySource)
	default:
		fmt.Fprintf(stdio.Stdout, "  master key:  %s: start the agent with the same key\n", res.KeySource)
	}
	fmt.Fprintf(stdio.Stdout, "Start it with: lockstep-agent run --data-dir %s\n", res.DataDir)
	return nil
}
