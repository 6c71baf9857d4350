package backup

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/job"
	"github.com/lockstep-sync/lockstep/agent/internal/keyring"
	"github.com/lockstep-sync/lockstep/agent/internal/paths"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// DataFiles are the data dir's files an archive carries beside the store,
// by slash-separated path: the bootstrap config and the TLS identity, so a
// restored agent listens where it did and keeps the fingerprint clients
// have pinned. Logs and support packages are not carried, and nothing
// else is ever written from an archive.
var DataFiles = []string{"agent.json", "tls/agent.crt", "tls/agent.key"}

// Source is what an archive is made from: an open store and the data dir
// around it.
type Source struct {
	Store     *store.Store
	Layout    paths.Layout
	MasterKey keyring.Key
	Version   string
	Now       func() time.Time
}

// Write writes an archive of the source to w, sealed under the master key,
// or under passphrase when it is set (the archive then carries the master
// key). progress hears the percent done, estimated from the store's size.
func (s Source) Write(ctx context.Context, w io.Writer, passphrase []byte, progress func(percent int)) error {
	m := Manifest{AgentVersion: s.Version, Files: map[string][]byte{}}
	if s.Now != nil {
		m.CreatedAt = s.Now().UTC()
	} else {
		m.CreatedAt = time.Now().UTC()
	}
	var err error
	if m.InstanceID, err = s.Store.Meta("instance_id"); err != nil {
		return fmt.Errorf("back up: read instance id: %w", err)
	}
	if m.Schema, err = s.Store.Schema(); err != nil {
		return fmt.Errorf("back up: read schema version: %w", err)
	}
	for _, name := range DataFiles {
		b, err := os.ReadFile(filepath.Join(s.Layout.Dir, filepath.FromSlash(name)))
		if err != nil {
			return fmt.Errorf("back up: %w", err)
		}
		m.Files[name] = b
	}
	seal := Sealing{MasterKey: s.MasterKey.Bytes()}
	if len(passphrase) > 0 {
		seal = Sealing{Passphrase: passphrase}
		m.MasterKey = s.MasterKey.Bytes()
	}
	estimate := max(s.Store.TableBytes(), 1)
	return Write(ctx, w, seal, m, func(ctx context.Context, w io.Writer) error {
		pw := &progressWriter{w: w, estimate: estimate, progress: progress}
		_, err := s.Store.Snapshot(ctx, pw)
		return err
	})
}

// progressWriter reports the percent of the estimate written, once per
// percent at most.
type progressWriter struct {
	w        io.Writer
	n        int64
	estimate int64
	last     int
	progress func(int)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.n += int64(n)
	if pct := int(min(99, p.n*100/p.estimate)); p.progress != nil && pct > p.last {
		p.last = pct
		p.progress(pct)
	}
	return n, err
}

// Manager makes archives of the running agent as jobs (backup.create,
// .status, .download), one at a time, each audited with its actor.
type Manager struct {
	*job.Manager
	src   Source
	audit *audit.Log
}

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	// Dir holds the archives while they are written and kept (24 hours, two
	// at most: an archive is a copy of the whole store).
	Dir    string
	Source Source
	Audit  *audit.Log
	// Progress hears of each step; it must not block.
	Progress func(apitype.BackupProgress)
}

// NewManager prepares the directory and returns a Manager.
func NewManager(o ManagerOptions) (*Manager, error) {
	jm, err := job.New(job.Options{
		Dir: o.Dir, Name: "backup", Ext: ".lsbackup", Noun: "backup", MaxKept: 2, Now: o.Source.Now,
		Progress: func(p job.Progress) {
			if o.Progress != nil {
				o.Progress(apitype.BackupProgress{ID: p.ID, State: p.State, Percent: p.Percent})
			}
		},
	})
	if err != nil {
		return nil, err
	}
	return &Manager{Manager: jm, src: o.Source, audit: o.Audit}, nil
}

// Create starts an archive and returns its job id. A passphrase, when
// given, must pass CheckPassphrase. While an archive is being written,
// another request fails with job.ErrBusy rather than joining it: its
// sealing may differ.
func (m *Manager) Create(ctx context.Context, actor string, passphrase []byte) (string, error) {
	if len(passphrase) > 0 {
		if err := CheckPassphrase(passphrase); err != nil {
			return "", &job.InvalidError{Field: "passphrase", Reason: err.Error()}
		}
	}
	pass := append([]byte(nil), passphrase...)
	id, err := m.Start(ctx, func(ctx context.Context, w io.Writer, progress func(string, int)) error {
		return m.src.Write(ctx, w, pass, func(pct int) { progress("store", pct) })
	}, false)
	if err != nil {
		return "", err
	}
	sealing := MasterKey
	if len(pass) > 0 {
		sealing = Passphrase
	}
	if _, err := m.audit.Append(audit.Entry{Actor: actor, Action: "backup.create", Target: "backup:" + id, Result: audit.Success,
		Diff: map[string]string{"sealing": sealing.String()}}); err != nil {
		// The store refused a write: the archive, which reads the same
		// store, will most likely fail too, and the caller hears of both.
		return "", fmt.Errorf("backup %s started, but its audit record failed: %w", id, err)
	}
	return id, nil
}
