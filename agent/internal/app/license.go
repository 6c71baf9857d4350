package app

import (
	"errors"
	"fmt"
	"os"

	"github.com/lockstep-sync/lockstep/agent/internal/license"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// LicenseImport imports a license file into a stopped agent's store.
func LicenseImport(o Options, file string) (string, error) {
	text, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("license import: %w", err)
	}
	a, err := openStopped(o, "license import")
	if err != nil {
		return "", err
	}
	defer a.close()
	st, err := a.license.Import("cli", text)
	if err != nil {
		return "", err
	}
	return st.Text(), nil
}

// LicenseShow describes the license of a stopped agent.
func LicenseShow(o Options) (string, error) {
	a, err := openStopped(o, "license show")
	if err != nil {
		return "", err
	}
	defer a.close()
	return a.license.Status().Text(), nil
}

// openStopped opens the agent's store for a one-off command; the store
// admits one process at a time, so the agent must be stopped.
func openStopped(o Options, what string) (*App, error) {
	a, err := Open(o)
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, errors.New(what + ": the agent is running and holds the store; use the desktop app, or stop the agent")
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
