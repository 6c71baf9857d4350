package rpc

import (
	"context"

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

func (s *Server) registerNotifications() {
	Handle(s, protocol.NotificationsGet, func(ctx context.Context, c *Call, _ apitype.Empty) (apitype.NotificationsInfo, error) {
		return s.deps.Notifications.Info(), nil
	})
	Handle(s, protocol.NotificationsSet, func(ctx context.Context, c *Call, p apitype.Notifications) (apitype.NotificationsInfo, error) {
		return s.deps.Notifications.Set(c.Actor(), p)
	})
	Handle(s, protocol.NotificationsTest, func(ctx context.Context, c *Call, p apitype.NotificationsTestParams) (apitype.NotificationsTestResult, error) {
		return s.deps.Notifications.Test(ctx, c.Actor(), p.Channel)
	})
}
