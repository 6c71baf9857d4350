package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/control"
	"github.com/lockstep-sync/lockstep/agent/internal/paths"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/agent/internal/support"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// supportSources are the collectors of a support package: an allow list of
// views built for support, never raw records.
func (a *App) supportSources() support.Sources {
	return support.Sources{
		AgentVersion: Version,
		InstanceID:   a.instanceID,
		Now:          a.opts.Now,
		Host: func(ctx context.Context) (any, error) {
			info, err := a.hostInfo(ctx)
			return info, err
		},
		Systems: func(context.Context) (any, error) {
			list, err := a.systems.List() // secrets appear as set/unset only
			return map[string]any{"systems": list}, err
		},
		Accounts: func(context.Context) (any, error) {
			list, err := a.auth.List() // the API view: never a hash
			return map[string]any{"accounts": list}, err
		},
		Operational: func(context.Context) (any, error) {
			// Ids, keys and titles only: what the privacy statement lists.
			counts, err := a.engine.Views().PairCounts()
			if err != nil {
				return nil, err
			}
			pairs, _, err := a.engine.Views().Pairs("", "", "", 200)
			recent := make([]map[string]any, 0, len(pairs))
			for _, p := range pairs {
				recent = append(recent, map[string]any{"id": p.ID, "process": p.Process, "state": p.State,
					"a":            map[string]string{"id": p.A.ID, "key": p.A.Key, "title": p.A.Title},
					"b":            map[string]string{"id": p.B.ID, "key": p.B.Key, "title": p.B.Title},
					"lastSyncedAt": p.LastSyncedAt})
			}
			return map[string]any{"pairsByProcess": counts, "recentPairs": recent}, err
		},
		Settings: func(context.Context) (any, error) { return a.settings.Get(), nil },
		Audit: func(ctx context.Context, emit func(any) error) error {
			return a.audit.Each(func(r audit.Record) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				return emit(r)
			})
		},
		LogFiles: a.logs.Files,
		LogRing:  func() [][]byte { return a.logs.Ring().Snapshot(a.logs.Ring().Cap()) },
		KnownSecrets: func(context.Context) ([]string, error) {
			return a.systems.KnownSecrets()
		},
	}
}

// SupportPackage writes a support package to file: built by the running
// agent and downloaded over its admin channel, or built here from a stopped
// agent's store.
func SupportPackage(ctx context.Context, o Options, file string) (support.Manifest, error) {
	if _, err := os.Stat(file); err == nil {
		return support.Manifest{}, fmt.Errorf("support package: %s already exists", file)
	}
	var m support.Manifest
	ran, err := onAgent(ctx, o, func(ctx context.Context, c *control.Client) error {
		if err := c.Subscribe(ctx, control.SupportJob); err != nil {
			return err
		}
		res, err := control.Call(ctx, c, protocol.SupportCreate, apitype.Empty{})
		if err != nil {
			return err
		}
		st, err := c.Wait(ctx, control.SupportJob, res.ID, nil)
		if err != nil {
			return err
		}
		if err := c.Download(ctx, control.SupportJob, st, file); err != nil {
			return err
		}
		m, err = support.ReadManifest(file)
		return err
	})
	if ran {
		return m, wrapRemote("support package", err)
	}
	a, err := openStopped(o, "support package")
	if err != nil {
		return support.Manifest{}, err
	}
	defer a.close()
	m, err = support.BuildFile(ctx, file, a.supportSources(), false)
	if err != nil {
		return m, err
	}
	// Audited as the running agent audits support.create.
	if _, err := a.audit.Append(audit.Entry{Actor: control.Self().Actor(), Action: "support.create", Target: "support:" + filepath.Base(file),
		Result: audit.Success}); err != nil {
		return m, fmt.Errorf("support package: %w", err)
	}
	return m, nil
}

// VerifyAudit checks the audit chain of the running agent, or of a stopped
// one's store.
func VerifyAudit(ctx context.Context, o Options) (audit.Verification, error) {
	var v audit.Verification
	ran, err := onAgent(ctx, o, func(ctx context.Context, c *control.Client) error {
		res, err := control.Call(ctx, c, protocol.AuditVerify, apitype.Empty{})
		v = audit.Verification{OK: res.OK, Records: res.Records, Problem: res.Problem}
		if res.BrokenAt != nil {
			v.BrokenAt = *res.BrokenAt
		}
		return err
	})
	if ran {
		return v, wrapRemote("audit verify", err)
	}
	layout, err := paths.New(o.DataDir)
	if err != nil {
		return audit.Verification{}, err
	}
	key, err := resolveKey(o, layout)
	if err != nil {
		return audit.Verification{}, err
	}
	st, _, err := openStore(layout, key, nil)
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return audit.Verification{}, errAgentWithoutChannel("audit verify")
		}
		return audit.Verification{}, err
	}
	defer st.Close()
	return audit.New(st, nil).Verify()
}
