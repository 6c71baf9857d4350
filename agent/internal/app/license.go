package app

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/lockstep-sync/lockstep/agent/internal/control"
	"github.com/lockstep-sync/lockstep/agent/internal/license"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// LicenseImport imports a license file: through the running agent's admin
// channel, or into a stopped agent's store.
func LicenseImport(ctx context.Context, o Options, file string) (string, error) {
	text, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("license import: %w", err)
	}
	var out string
	ran, err := onAgent(ctx, o, func(ctx context.Context, c *control.Client) error {
		info, err := control.Call(ctx, c, protocol.LicenseImport, apitype.LicenseImportParams{License: string(text)})
		out = license.Report(info)
		return err
	})
	if ran {
		return out, wrapRemote("license import", err)
	}
	a, err := openStopped(o, "license import")
	if err != nil {
		return "", err
	}
	defer a.close()
	st, err := a.license.Import(control.Self().Actor(), text)
	if err != nil {
		return "", err
	}
	return st.Text(), nil
}

// LicenseShow describes the license of the running agent, or of a stopped
// one.
func LicenseShow(ctx context.Context, o Options) (string, error) {
	var out string
	ran, err := onAgent(ctx, o, func(ctx context.Context, c *control.Client) error {
		info, err := control.Call(ctx, c, protocol.LicenseGet, apitype.Empty{})
		out = license.Report(info)
		return err
	})
	if ran {
		return out, wrapRemote("license show", err)
	}
	a, err := openStopped(o, "license show")
	if err != nil {
		return "", err
	}
	defer a.close()
	return a.license.Status().Text(), nil
}

// openStopped opens the agent's store for a one-off command when the agent
// is stopped (onAgent found no channel). An agent that holds the store
// without a channel is one started meanwhile, or one whose channel could
// not open.
func openStopped(o Options, what string) (*App, error) {
	a, err := Open(o)
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, errAgentWithoutChannel(what)
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return a, nil
}

// LicenseKeyIDs lists the ids of the license keys this binary trusts (the
// production keys a release build embeds, plus the test key in test
// builds), so an operator can check a build before shipping it. A malformed
// key list is an error: such a binary could not start.
func LicenseKeyIDs() ([]string, error) {
	ring, err := license.BuiltinKeys()
	if err != nil {
		return nil, err
	}
	return ring.IDs(), nil
}

func errAgentWithoutChannel(what string) error {
	return errors.New(what + ": the agent is running and holds the store, and its admin channel does not answer (see the agent's log); use the desktop app, or stop the agent")
}
