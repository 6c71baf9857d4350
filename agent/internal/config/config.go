// Package config reads and writes the bootstrap configuration that init
// leaves in the data directory: what the agent needs before it can open its
// store. Everything else (settings, systems, accounts) lives in the store.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// Version is the format of agent.json this build writes.
const Version = 1

// Bootstrap is agent.json.
type Bootstrap struct {
	Version   int       `json:"version"`
	Listen    string    `json:"listen"`
	CreatedAt time.Time `json:"createdAt"`
	// Connections bound the connections that have not logged in; absent
	// or zero fields take the defaults (README, "Connections before login").
	Connections ConnectionLimits `json:"connections,omitzero"`
}

// ConnectionLimits are agent.json's "connections".
type ConnectionLimits struct {
	// LoginTimeoutSeconds: a connection must log in (or resume) this soon
	// after it opens, or after it logs out [30].
	LoginTimeoutSeconds int `json:"loginTimeoutSeconds,omitempty"`
	// MaxUnauthenticated caps the connections not logged in [512].
	MaxUnauthenticated int `json:"maxUnauthenticated,omitempty"`
	// MaxUnauthenticatedPerAddress caps them per client address [16].
	MaxUnauthenticatedPerAddress int `json:"maxUnauthenticatedPerAddress,omitempty"`
}

// Validate names the offending field.
func (b Bootstrap) Validate() error {
	if b.Version != Version {
		return fmt.Errorf("version: %d is not supported (this agent reads %d)", b.Version, Version)
	}
	if err := b.Connections.validate(); err != nil {
		return err
	}
	return ValidateListen(b.Listen)
}

func (c ConnectionLimits) validate() error {
	for _, f := range []struct {
		name      string
		v, lo, hi int
	}{
		{"connections.loginTimeoutSeconds", c.LoginTimeoutSeconds, 1, 3600},
		{"connections.maxUnauthenticated", c.MaxUnauthenticated, 1, 100000},
		{"connections.maxUnauthenticatedPerAddress", c.MaxUnauthenticatedPerAddress, 1, 100000},
	} {
		if f.v != 0 && (f.v < f.lo || f.v > f.hi) {
			return fmt.Errorf("%s: %d is out of range (%d to %d, or leave it out for the default)", f.name, f.v, f.lo, f.hi)
		}
	}
	return nil
}

// ValidateListen checks a host:port listen address.
func ValidateListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen: %q is not host:port: %w", addr, err)
	}
	if port == "" {
		return fmt.Errorf("listen: %q has no port", addr)
	}
	if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		return fmt.Errorf("listen: host %q must be an IP address or localhost", host)
	}
	return nil
}

// Read loads and validates agent.json.
func Read(path string) (Bootstrap, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Bootstrap{}, fmt.Errorf("read %s: not found (run lockstep-agent init first): %w", path, err)
		}
		return Bootstrap{}, fmt.Errorf("read %s: %w", path, err)
	}
	var b Bootstrap
	if err := json.Unmarshal(raw, &b); err != nil {
		return Bootstrap{}, fmt.Errorf("read %s: %w", path, err)
	}
	if err := b.Validate(); err != nil {
		return Bootstrap{}, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// Create writes agent.json, refusing to overwrite it.
func Create(path string, b Bootstrap) error {
	if err := b.Validate(); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(append(raw, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
