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
}

// Validate names the offending field.
func (b Bootstrap) Validate() error {
	if b.Version != Version {
		return fmt.Errorf("version: %d is not supported (this agent reads %d)", b.Version, Version)
	}
	return ValidateListen(b.Listen)
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
