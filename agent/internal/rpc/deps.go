package rpc

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/alert"
	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/auth"
	"github.com/lockstep-sync/lockstep/agent/internal/backup"
	"github.com/lockstep-sync/lockstep/agent/internal/config"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/health"
	"github.com/lockstep-sync/lockstep/agent/internal/license"
	"github.com/lockstep-sync/lockstep/agent/internal/logging"
	"github.com/lockstep-sync/lockstep/agent/internal/support"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
	"github.com/lockstep-sync/lockstep/agent/internal/system"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// Deps are the components the API exposes; the composition root provides them.
type Deps struct {
	Version    string
	InstanceID string
	StartedAt  time.Time
	DataDir    string
	Log        zerolog.Logger

	Auth     *auth.Service
	Systems  *system.Service
	Audit    *audit.Log
	Events   *events.Bus
	Logs     *logging.Logging
	Settings *config.Settings
	Support  *support.Manager
	Backups  *backup.Manager
	Engine   *syncer.Engine
	// Health judges processes and systems (nil: summaries carry no health).
	Health  *health.Monitor
	Host    func(ctx context.Context) (apitype.HostInfo, error)
	License *license.Manager
	// Limits bound the connections that have not logged in.
	Limits Limits
	// Notifications are the alerts to administrators (email, webhooks).
	Notifications *alert.Service
	// Connector opens a system's connector (the sync engine's cache, so a
	// system has one rate limiter); nil opens one per call from Systems.
	Connector func(systemID string) (connector.Connector, error)
	// AfterFunc runs f once d has passed on Auth's clock and returns what
	// stops it (false when too late); nil means time.AfterFunc. It times
	// the end of each connection's session.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
}

// afterFunc is Deps.AfterFunc or the real clock's.
func (d Deps) afterFunc(dur time.Duration, f func()) (stop func() bool) {
	if d.AfterFunc != nil {
		return d.AfterFunc(dur, f)
	}
	return time.AfterFunc(dur, f).Stop
}
