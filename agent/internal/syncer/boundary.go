package syncer

import (
	"context"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// boundary is where entities enter the engine: every field value a
// connector returns is brought into the contract's closed set of shapes
// (connector.Normalize) once, here, so that mapping, hashing and the
// engine each read one shape per kind of value.
type boundary struct{ connector.Connector }

// open opens a system's connector behind the boundary.
func (e *Engine) open(system string) (connector.Connector, error) {
	con, err := e.d.Open(system)
	if err != nil {
		return nil, err
	}
	return boundary{con}, nil
}

// ability returns con's optional interface T (VersionGuard, MarkerIndexer,
// Deleter, ...), looking through the boundary.
func ability[T any](con connector.Connector) (T, bool) {
	if b, ok := con.(boundary); ok {
		con = b.Connector
	}
	t, ok := con.(T)
	return t, ok
}

func normal(e connector.Entity) connector.Entity {
	e.Fields = connector.Normalize(e.Fields)
	return e
}

func normals(list []connector.Entity) []connector.Entity {
	for i := range list {
		list[i] = normal(list[i])
	}
	return list
}

func (b boundary) Get(ctx context.Context, ref connector.Ref) (connector.Entity, error) {
	e, err := b.Connector.Get(ctx, ref)
	return normal(e), err
}

func (b boundary) Changes(ctx context.Context, project string, since time.Time, cursor string) (connector.Page, error) {
	p, err := b.Connector.Changes(ctx, project, since, cursor)
	p.Entities = normals(p.Entities)
	return p, err
}

func (b boundary) Create(ctx context.Context, project, entityType string, fields connector.Fields, marker connector.Marker) (connector.Entity, error) {
	e, err := b.Connector.Create(ctx, project, entityType, fields, marker)
	return normal(e), err
}

func (b boundary) Update(ctx context.Context, ref connector.Ref, fields connector.Fields, version string) (connector.Entity, error) {
	e, err := b.Connector.Update(ctx, ref, fields, version)
	return normal(e), err
}

func (b boundary) FindByMarker(ctx context.Context, project string, marker connector.Marker) ([]connector.Entity, error) {
	list, err := b.Connector.FindByMarker(ctx, project, marker)
	return normals(list), err
}
