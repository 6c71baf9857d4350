package rpc

import (
	"context"
	"fmt"
	"strconv"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/logging"
	"github.com/lockstep-sync/lockstep/agent/internal/system"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// register wires every method to its implementation.
func (s *Server) register() {
	s.registerSession()

	Handle(s, protocol.AgentInfo, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.AgentInfo, error) {
		state, expires := s.deps.License.Status().Summary()
		lic := apitype.License{State: state, ExpiresAt: expires}
		return apitype.AgentInfo{Version: s.deps.Version, InstanceID: s.deps.InstanceID, StartedAt: s.deps.StartedAt,
			DataDir: s.deps.DataDir, License: lic}, nil
	})
	Handle(s, protocol.HostInfo, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.HostInfo, error) {
		return s.deps.Host(ctx)
	})

	s.registerSystems()
	s.registerSchema()
	s.registerAccounts()
	s.registerStreams()
	s.registerSupport()
	s.registerBackup()
	s.registerProcesses()
	s.registerPairs()
	s.registerLicense()
	s.registerNotifications()

	Handle(s, protocol.AuditList, func(ctx context.Context, c *Call, p apitype.AuditListParams) (apitype.AuditListResult, error) {
		f := audit.Filter{Since: p.Since, Until: p.Until, Actor: p.Actor, Action: p.Action, Limit: p.Limit}
		if p.Cursor != "" {
			n, err := strconv.ParseUint(p.Cursor, 10, 64)
			if err != nil {
				return apitype.AuditListResult{}, protocol.Invalid("cursor", "cursor is not one this agent issued")
			}
			f.Before = n
		}
		if err := checkLimit(p.Limit, audit.MaxListLimit, audit.DefaultListLimit); err != nil {
			return apitype.AuditListResult{}, err
		}
		recs, next, err := s.deps.Audit.List(f)
		if err != nil {
			return apitype.AuditListResult{}, err
		}
		out := apitype.AuditListResult{Records: make([]apitype.AuditRecord, 0, len(recs))}
		for _, r := range recs {
			out.Records = append(out.Records, apitype.AuditRecord{Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action,
				Target: r.Target, Result: r.Result, Remote: r.Remote, Diff: r.Diff})
		}
		if next != 0 {
			out.Cursor = strconv.FormatUint(next, 10)
		}
		return out, nil
	})
	Handle(s, protocol.AuditVerify, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.AuditVerifyResult, error) {
		v, err := s.deps.Audit.Verify()
		if err != nil {
			return apitype.AuditVerifyResult{}, err
		}
		res := apitype.AuditVerifyResult{OK: v.OK, Records: v.Records, Problem: v.Problem}
		if !v.OK {
			res.BrokenAt = &v.BrokenAt
		}
		return res, nil
	})

	Handle(s, protocol.SettingsGet, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.SettingsResult, error) {
		return apitype.SettingsResult{Settings: s.deps.Settings.Get()}, nil
	})
	Handle(s, protocol.SettingsSet, func(ctx context.Context, c *Call, p apitype.SettingsSetParams) (apitype.SettingsResult, error) {
		next, err := s.deps.Settings.Set(c.Actor(), p)
		if err != nil {
			return apitype.SettingsResult{}, err
		}
		return apitype.SettingsResult{Settings: next}, nil
	})
}

func (s *Server) registerSystems() {
	Handle(s, protocol.SystemsKinds, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.KindsResult, error) {
		return apitype.KindsResult{Kinds: kinds()}, nil
	})
	Handle(s, protocol.SystemsList, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.SystemsListResult, error) {
		list, err := s.deps.Systems.List()
		if err == nil && s.deps.Health != nil {
			if snap, herr := s.deps.Health.Now(); herr == nil {
				for i := range list {
					if h, ok := snap.Systems[list[i].ID]; ok {
						list[i].Health = &h
					}
				}
			} else {
				s.deps.Log.Warn().Err(herr).Msg("judge the systems' health")
			}
		}
		return apitype.SystemsListResult{Systems: list}, err
	})
	Handle(s, protocol.SystemsGet, func(ctx context.Context, c *Call, p apitype.IDParams) (apitype.SystemResult, error) {
		rec, err := s.deps.Systems.Get(p.ID)
		if err != nil {
			return apitype.SystemResult{}, err
		}
		return apitype.SystemResult{System: system.View(rec)}, nil
	})
	Handle(s, protocol.SystemsCreate, func(ctx context.Context, c *Call, p apitype.SystemsCreateParams) (apitype.SystemResult, error) {
		if err := s.deps.License.AllowsKind(p.Kind); err != nil {
			return apitype.SystemResult{}, err
		}
		sys, err := s.deps.Systems.Create(c.Actor(), p)
		return apitype.SystemResult{System: sys}, err
	})
	Handle(s, protocol.SystemsUpdate, func(ctx context.Context, c *Call, p apitype.SystemsUpdateParams) (apitype.SystemResult, error) {
		sys, err := s.deps.Systems.Update(c.Actor(), p)
		return apitype.SystemResult{System: sys}, err
	})
	Handle(s, protocol.SystemsDelete, func(ctx context.Context, c *Call, p apitype.IDParams) (apitype.Empty, error) {
		return apitype.Empty{}, s.deps.Systems.Delete(c.Actor(), p.ID)
	})
	Handle(s, protocol.SystemsTest, func(ctx context.Context, c *Call, p apitype.SystemsTestParams) (apitype.SystemsTestResult, error) {
		if p.Kind != "" || p.URL != nil || p.Settings != nil || p.Secrets != nil {
			if p.Kind != "" && p.ID == "" {
				if err := s.deps.License.AllowsKind(p.Kind); err != nil {
					return apitype.SystemsTestResult{}, err
				}
			}
			return s.deps.Systems.TestDraft(ctx, c.Actor(), p)
		}
		if p.ID == "" {
			return apitype.SystemsTestResult{}, protocol.Invalid("id", "id is required (or kind and url to test a system before saving it)")
		}
		// A kept test tells the health watch (the agent wires
		// system.OnTested to health.Monitor.Tested).
		return s.deps.Systems.Test(ctx, c.Actor(), p.ID)
	})
}

// parseLevel reads a wire level name; "" means info.
func parseLevel(field, name string) (zerolog.Level, error) {
	if name == "" {
		return zerolog.InfoLevel, nil
	}
	l, err := zerolog.ParseLevel(name)
	if err != nil || l == zerolog.NoLevel || l > zerolog.PanicLevel {
		return 0, protocol.Invalid(field, "%s must be one of trace, debug, info, warn, error", field)
	}
	return l, nil
}

func toLogLines(lines []logging.Line) []apitype.LogLine {
	out := make([]apitype.LogLine, len(lines))
	for i, l := range lines {
		out[i] = apitype.LogLine{Time: l.Time, Level: l.Level, Component: l.Component, Message: l.Message, Fields: l.Fields}
	}
	return out
}

func subID(c *conn) string { return fmt.Sprintf("s%d", c.nextSub.Add(1)) }
