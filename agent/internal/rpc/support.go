package rpc

import (
	"context"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/job"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

func (s *Server) registerSupport() {
	Handle(s, protocol.SupportCreate, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.SupportCreateResult, error) {
		id, err := s.deps.Support.Create(context.WithoutCancel(ctx))
		if err != nil {
			return apitype.SupportCreateResult{}, err
		}
		// A support package is customer data leaving through an
		// administrator: who asked for it is part of the trail.
		if _, err := s.deps.Audit.Append(audit.Entry{Actor: c.Actor(), Action: "support.create", Target: "support:" + id,
			Result: audit.Success, Remote: c.Remote}); err != nil {
			return apitype.SupportCreateResult{}, err
		}
		return apitype.SupportCreateResult{ID: id}, nil
	})
	s.registerJob(protocol.SupportStatus, protocol.SupportDownload, s.deps.Support.Manager)
}

// registerBackup serves backup archives the way support packages are
// served: a job with progress events, then a chunked download.
func (s *Server) registerBackup() {
	Handle(s, protocol.BackupCreate, func(ctx context.Context, c *Call, p apitype.BackupCreateParams) (apitype.BackupCreateResult, error) {
		id, err := s.deps.Backups.Create(context.WithoutCancel(ctx), c.Actor(), []byte(p.Passphrase))
		return apitype.BackupCreateResult{ID: id}, err
	})
	s.registerJob(protocol.BackupStatus, protocol.BackupDownload, s.deps.Backups.Manager)
}

// registerJob serves a file-producing job's status and chunked download.
func (s *Server) registerJob(status protocol.Method[apitype.IDParams, apitype.SupportStatusResult],
	download protocol.Method[apitype.SupportDownloadParams, apitype.SupportDownloadResult], m *job.Manager) {
	Handle(s, status, func(ctx context.Context, c *Call, p apitype.IDParams) (apitype.SupportStatusResult, error) {
		return m.Status(p.ID)
	})
	Handle(s, download, func(ctx context.Context, c *Call, p apitype.SupportDownloadParams) (apitype.SupportDownloadResult, error) {
		data, eof, err := m.Read(p.ID, p.Offset, p.Length)
		return apitype.SupportDownloadResult{Data: data, EOF: eof}, err
	})
}
