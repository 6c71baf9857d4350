package rpc

import (
	"context"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

func (s *Server) registerSupport() {
	Handle(s, protocol.SupportCreate, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.SupportCreateResult, error) {
		id, err := s.deps.Support.Create(context.WithoutCancel(ctx))
		return apitype.SupportCreateResult{ID: id}, err
	})
	Handle(s, protocol.SupportStatus, func(ctx context.Context, c *Call, p apitype.IDParams) (apitype.SupportStatusResult, error) {
		return s.deps.Support.Status(p.ID)
	})
	Handle(s, protocol.SupportDownload, func(ctx context.Context, c *Call, p apitype.SupportDownloadParams) (apitype.SupportDownloadResult, error) {
		data, eof, err := s.deps.Support.Read(p.ID, p.Offset, p.Length)
		return apitype.SupportDownloadResult{Data: data, EOF: eof}, err
	})
}
