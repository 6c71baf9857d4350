package app

import (
	"fmt"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// connectors keeps one open connector per system, so that each system has
// one rate limiter and one HTTP connection pool however many processes use
// it. A system's change (new URL, new token) opens a fresh one.
type connectors struct {
	mu    sync.Mutex
	open  map[string]cachedConnector
	app   *App
	nowFn func() time.Time
}

type cachedConnector struct {
	con     connector.Connector
	version time.Time
}

func (cs *connectors) get(systemID string) (connector.Connector, error) {
	rec, err := cs.app.systems.Get(systemID)
	if err != nil {
		return nil, err
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c, ok := cs.open[systemID]; ok && c.version.Equal(rec.UpdatedAt) {
		return c.con, nil
	}
	spec, ok := connector.Lookup(rec.Kind)
	if !ok || spec.Open == nil {
		return nil, fmt.Errorf("system %s: the %s connector is not available in this version", rec.Name, rec.Kind)
	}
	cfg, err := cs.app.systems.Config(systemID)
	if err != nil {
		return nil, err
	}
	con, err := spec.Open(cfg, connector.Env{Now: cs.nowFn, Log: cs.app.logs.Logger("connector").With().Str("system", systemID).Logger(),
		Observer: cs.app.metrics.HTTPObserver(systemID)})
	if err != nil {
		return nil, fmt.Errorf("open system %s: %w", rec.Name, err)
	}
	cs.open[systemID] = cachedConnector{con: con, version: rec.UpdatedAt}
	return con, nil
}
