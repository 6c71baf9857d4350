// Package paths names every file the agent keeps in its data directory and the
// per-OS defaults, so no other package spells a file name twice.
package paths

import "path/filepath"

// DefaultListen is the address the agent serves TLS on when nothing else is set.
const DefaultListen = "0.0.0.0:7443"

// Layout is the set of paths inside one data directory.
type Layout struct {
	Dir string
}

// New returns the layout of dir, made absolute so that a service manager or a
// changed working directory cannot move it.
func New(dir string) (Layout, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Layout{}, err
	}
	return Layout{Dir: abs}, nil
}

// MasterKey is the default custody of the master key: 32 raw bytes, mode 0600.
func (l Layout) MasterKey() string { return filepath.Join(l.Dir, "master.key") }

// MasterKeyDPAPI is the Windows custody: the key wrapped by DPAPI (machine scope).
func (l Layout) MasterKeyDPAPI() string { return filepath.Join(l.Dir, "master.key.dpapi") }

// Store is Badger's directory.
func (l Layout) Store() string { return filepath.Join(l.Dir, "store") }

// Cert and CertKey hold the agent's self-signed TLS identity.
func (l Layout) Cert() string    { return filepath.Join(l.Dir, "tls", "agent.crt") }
func (l Layout) CertKey() string { return filepath.Join(l.Dir, "tls", "agent.key") }

// Config is the bootstrap configuration written by init.
func (l Layout) Config() string { return filepath.Join(l.Dir, "agent.json") }

// Logs is the directory of the rotating JSON log files.
func (l Layout) Logs() string { return filepath.Join(l.Dir, "logs") }

// RunMarker exists while the agent runs; finding it at start means the
// previous run did not stop cleanly.
func (l Layout) RunMarker() string { return filepath.Join(l.Dir, "agent.running") }

// Support holds support packages while they are built and kept.
func (l Layout) Support() string { return filepath.Join(l.Dir, "support") }

// Backups holds backup archives while they are written and kept.
func (l Layout) Backups() string { return filepath.Join(l.Dir, "backups") }

// AdminSocket is the local admin channel's Unix socket (Linux and other
// Unix systems; Windows uses a named pipe named after the data dir).
func (l Layout) AdminSocket() string { return filepath.Join(l.Dir, "admin.sock") }
