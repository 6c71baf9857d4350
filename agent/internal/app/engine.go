package app

import (
	"fmt"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// connectors keeps one open connector per system, so that each system has
// one rate limiter and one HTTP connection pool however many processes use
// it. A system's change (new URL, new token) or deletion closes its
// connector (connector.Close: idle connections and its share of the rate
// limiter are released) and the next use opens a fresh one. A run still
// holding the closed one finishes with it: Close releases, never disables.
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
	old, cached := cs.open[systemID]
	if cached && old.version.Equal(rec.UpdatedAt) {
		return old.con, nil
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
	if cached {
		// A change the hook did not report (it runs after the store is
		// written, so a get can see the new record first). Closed after
		// the new one is open, which keeps the system's limiter, and its
		// pauses, alive between them.
		cs.closeOne(systemID, old.con)
	}
	return con, nil
}

// release closes and forgets a system's connector, if one is open: the
// system changed or was deleted.
func (cs *connectors) release(systemID string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c, ok := cs.open[systemID]; ok {
		delete(cs.open, systemID)
		cs.closeOne(systemID, c.con)
	}
}

// closeAll closes every open connector, at shutdown.
func (cs *connectors) closeAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for id, c := range cs.open {
		delete(cs.open, id)
		cs.closeOne(id, c.con)
	}
}

func (cs *connectors) closeOne(systemID string, c connector.Connector) {
	if err := connector.Close(c); err != nil {
		cs.app.log.Warn().Err(err).Str("system", systemID).Msg("close a system's connector")
	}
}
