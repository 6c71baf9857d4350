package cli

// license import and license show.

import (
	"fmt"

	"github.com/lockstep-sync/lockstep/agent/internal/app"
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
