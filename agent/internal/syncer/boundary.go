package syncer

import (
	"context"
	"io"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// boundary is where entities enter the engine: every field value a
// connector returns is brought into the contract's closed set of shapes
// (connector.Normalize) once, here, so that mapping, hashing and the
// engine each read one shape per kind of value. A run's boundary knows the
// side it serves and tags the errors leaving the connector with it
// (onSide), so a failure deep in an item's work still names the system
// that answered it: credentials refused stop the run for that system.
type boundary struct {
	connector.Connector
	side Side // "" outside a run: errors go untagged
}

// open opens a system's connector behind the boundary.
func (e *Engine) open(system string) (connector.Connector, error) {
	con, err := e.d.Open(system)
	if err != nil {
		return nil, err
	}
	return boundary{Connector: con}, nil
}

// openOn opens a system's connector behind a boundary serving side s.
func (e *Engine) openOn(s Side, system string) (connector.Connector, error) {
	con, err := e.open(system)
	if err != nil {
		return nil, err
	}
	return boundary{Connector: con.(boundary).Connector, side: s}, nil
}

// tag names the boundary's side in err.
func (b boundary) tag(err error) error {
	if b.side == "" {
		return err
	}
	return onSide(b.side, err)
}

// ability returns con's optional interface T (VersionGuard, MarkerIndexer,
// Deleter, ...), looking through the boundary. The abilities an item's work
// calls come back behind the boundary's side too.
func ability[T any](con connector.Connector) (T, bool) {
	b, isB := con.(boundary)
	if isB {
		con = b.Connector
	}
	t, ok := con.(T)
	if !ok || !isB || b.side == "" {
		return t, ok
	}
	switch p := any(&t).(type) {
	case *connector.Deleter:
		*p = sidedDeleter{*p, b}
	case *connector.CommentEditor:
		*p = sidedCommentEditor{*p, b}
	case *connector.AttachmentDeleter:
		*p = sidedAttachmentDeleter{*p, b}
	}
	return t, ok
}

type sidedDeleter struct {
	d connector.Deleter
	b boundary
}

func (s sidedDeleter) Delete(ctx context.Context, ref connector.Ref) error {
	return s.b.tag(s.d.Delete(ctx, ref))
}

type sidedCommentEditor struct {
	ed connector.CommentEditor
	b  boundary
}

func (s sidedCommentEditor) UpdateComment(ctx context.Context, ref connector.Ref, id string, c connector.NewComment) (connector.Comment, error) {
	cm, err := s.ed.UpdateComment(ctx, ref, id, c)
	return cm, s.b.tag(err)
}

func (s sidedCommentEditor) DeleteComment(ctx context.Context, ref connector.Ref, id string) error {
	return s.b.tag(s.ed.DeleteComment(ctx, ref, id))
}

type sidedAttachmentDeleter struct {
	d connector.AttachmentDeleter
	b boundary
}

func (s sidedAttachmentDeleter) DeleteAttachment(ctx context.Context, ref connector.Ref, a connector.Attachment) error {
	return s.b.tag(s.d.DeleteAttachment(ctx, ref, a))
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

func (b boundary) Schema(ctx context.Context, project string) (connector.Schema, error) {
	sc, err := b.Connector.Schema(ctx, project)
	return sc, b.tag(err)
}

func (b boundary) Validate(ctx context.Context) (string, error) {
	who, err := b.Connector.Validate(ctx)
	return who, b.tag(err)
}

func (b boundary) Get(ctx context.Context, ref connector.Ref) (connector.Entity, error) {
	e, err := b.Connector.Get(ctx, ref)
	return normal(e), b.tag(err)
}

func (b boundary) Changes(ctx context.Context, project string, since time.Time, cursor string) (connector.Page, error) {
	p, err := b.Connector.Changes(ctx, project, since, cursor)
	p.Entities = normals(p.Entities)
	return p, b.tag(err)
}

func (b boundary) Create(ctx context.Context, project, entityType string, fields connector.Fields, marker connector.Marker) (connector.Entity, error) {
	e, err := b.Connector.Create(ctx, project, entityType, fields, marker)
	return normal(e), b.tag(err)
}

func (b boundary) Update(ctx context.Context, ref connector.Ref, fields connector.Fields, version string) (connector.Entity, error) {
	e, err := b.Connector.Update(ctx, ref, fields, version)
	return normal(e), b.tag(err)
}

func (b boundary) FindByMarker(ctx context.Context, project string, marker connector.Marker) ([]connector.Entity, error) {
	list, err := b.Connector.FindByMarker(ctx, project, marker)
	return normals(list), b.tag(err)
}

func (b boundary) Comments(ctx context.Context, ref connector.Ref) ([]connector.Comment, error) {
	list, err := b.Connector.Comments(ctx, ref)
	return list, b.tag(err)
}

func (b boundary) AddComment(ctx context.Context, ref connector.Ref, c connector.NewComment) (connector.Comment, error) {
	cm, err := b.Connector.AddComment(ctx, ref, c)
	return cm, b.tag(err)
}

func (b boundary) Attachments(ctx context.Context, ref connector.Ref) ([]connector.Attachment, error) {
	list, err := b.Connector.Attachments(ctx, ref)
	return list, b.tag(err)
}

func (b boundary) Download(ctx context.Context, ref connector.Ref, a connector.Attachment) (io.ReadCloser, error) {
	rc, err := b.Connector.Download(ctx, ref, a)
	return rc, b.tag(err)
}

func (b boundary) Upload(ctx context.Context, ref connector.Ref, name, contentType string, size int64, content io.Reader) (connector.Attachment, error) {
	at, err := b.Connector.Upload(ctx, ref, name, contentType, size, content)
	return at, b.tag(err)
}

func (b boundary) Links(ctx context.Context, ref connector.Ref) ([]connector.Link, error) {
	list, err := b.Connector.Links(ctx, ref)
	return list, b.tag(err)
}

func (b boundary) AddLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	return b.tag(b.Connector.AddLink(ctx, ref, l))
}

func (b boundary) RemoveLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	return b.tag(b.Connector.RemoveLink(ctx, ref, l))
}
