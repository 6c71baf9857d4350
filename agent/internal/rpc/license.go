package rpc

import (
	"context"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

func (s *Server) registerLicense() {
	Handle(s, protocol.LicenseGet, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.LicenseInfo, error) {
		return s.deps.License.Status().Wire(), nil
	})
	Handle(s, protocol.LicenseImport, func(ctx context.Context, c *Call, p apitype.LicenseImportParams) (apitype.LicenseInfo, error) {
		st, err := s.deps.License.Import(c.Actor(), []byte(p.License))
		if err != nil {
			return apitype.LicenseInfo{}, err
		}
		return st.Wire(), nil
	})
	Handle(s, protocol.TelemetryGet, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.TelemetryInfo, error) {
		return s.deps.License.Telemetry(), nil
	})
	Handle(s, protocol.TelemetrySet, func(ctx context.Context, c *Call, p apitype.TelemetrySetParams) (apitype.TelemetryInfo, error) {
		return s.deps.License.SetTelemetry(c.Actor(), p.Enabled, p.Endpoint)
	})
	Handle(s, protocol.TelemetryPreview, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.TelemetryPreview, error) {
		return apitype.TelemetryPreview{Body: string(s.deps.License.Preview())}, nil
	})
}
