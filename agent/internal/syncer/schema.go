package syncer

// Values shaped for the target's schema, read once per run.

import (
	"context"
	"fmt"
	"sync"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
)

// coerce shapes values for side t's schema (numbers from text, enum
// spelling, dates), read once per run and only when something is written,
// so an idle poll costs no extra request. A value the target cannot hold
// is a permanent error naming the field.
func (c *cycle) coerce(ctx context.Context, t Side, f connector.Fields) (connector.Fields, error) {
	sch, err := c.schemas.get(ctx, t, func(ctx context.Context) (connector.Schema, error) {
		return c.con[t].Schema(ctx, c.p.End(t).Project)
	})
	if err != nil {
		return nil, fmt.Errorf("read the schema of side %s: %w", t, err)
	}
	out, ferrs := mapping.CoerceFields(f, sch)
	if len(ferrs) > 0 {
		return nil, fmt.Errorf("%s: %w", ferrs[0].Error(), ErrPermanent)
	}
	return out, nil
}

// schemaCache holds each side's schema for one run. Workers share it; the
// first to need a side's schema reads it while the others wait, so a run
// reads it once however many workers write.
type schemaCache struct {
	mu     sync.Mutex
	bySide map[Side]connector.Schema
}

func (sc *schemaCache) get(ctx context.Context, s Side, read func(context.Context) (connector.Schema, error)) (connector.Schema, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sch, ok := sc.bySide[s]; ok {
		return sch, nil
	}
	sch, err := read(ctx)
	if err != nil {
		return connector.Schema{}, err
	}
	if sc.bySide == nil {
		sc.bySide = map[Side]connector.Schema{}
	}
	sc.bySide[s] = sch
	return sch, nil
}
