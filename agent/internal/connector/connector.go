package connector

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// The connector contract: everything the sync engine asks of a work system.
// One sub-package per system implements it and registers its kind (with
// Spec.Open) in init; the engine never sees a system's own API.
//
// Values crossing the contract are deliberately plain: field values are
// JSON-like (string, float64, bool, []string, map[string]any, nil), users are
// User, rich text is Markdown (each connector converts its system's format).

// Connector is one open system.
type Connector interface {
	// Schema describes what the system holds in one project scope.
	Schema(ctx context.Context, project string) (Schema, error)
	// Validate checks credentials and permissions; it is what systems.test calls.
	Validate(ctx context.Context) (string, error)

	// Changes lists entities of the project changed at or after since,
	// ascending by UpdatedAt, one page at a time: pass the returned Cursor
	// back until it is empty. Connectors overlap their own precision (a
	// minute-precise query returns the whole minute): the engine tolerates
	// repeats, never gaps.
	Changes(ctx context.Context, project string, since time.Time, cursor string) (Page, error)
	// Get reads one entity with all its fields.
	Get(ctx context.Context, ref Ref) (Entity, error)
	// Create makes an entity carrying marker (the source's key and URL) in
	// a way FindByMarker can search: a field, a label, a remote link or a
	// line in the description.
	Create(ctx context.Context, project, entityType string, fields Fields, marker Marker) (Entity, error)
	// Update writes fields. version, when not empty, is the Version the
	// caller read; a system that supports it refuses the write with
	// ErrConflict if the entity changed since.
	Update(ctx context.Context, ref Ref, fields Fields, version string) (Entity, error)
	// FindByMarker finds entities created for marker (crash recovery: find
	// before creating again). None found is an empty slice, not an error.
	FindByMarker(ctx context.Context, project string, marker Marker) ([]Entity, error)

	Comments(ctx context.Context, ref Ref) ([]Comment, error)
	AddComment(ctx context.Context, ref Ref, c NewComment) (Comment, error)

	Attachments(ctx context.Context, ref Ref) ([]Attachment, error)
	// Download streams an attachment's content; the caller closes it.
	Download(ctx context.Context, ref Ref, a Attachment) (io.ReadCloser, error)
	Upload(ctx context.Context, ref Ref, name, contentType string, size int64, content io.Reader) (Attachment, error)

	Links(ctx context.Context, ref Ref) ([]Link, error)
	AddLink(ctx context.Context, ref Ref, l Link) error
	RemoveLink(ctx context.Context, ref Ref, l Link) error
}

// VersionGuard is implemented by connectors whose Update refuses a stale
// version with ErrConflict in the same request that writes (If-Match, a
// revision test), so no change made between a read and the write is ever
// overwritten unseen. The engine then writes a peer it has not read again,
// trusting the pair's last-synced version, and reads it only when refused.
// A connector that checks by reading first must not claim it.
type VersionGuard interface {
	GuardsVersions() bool
}

// MarkerIndexer is implemented by connectors whose Changes (and Get) fill
// Entity.Marker with the marker an entity carries, at no extra request.
// The engine then keeps an index of the markers its polls have read, so
// that a source without a pair (pair state lost: a process re-created or
// imported, a store restored) finds the peer made for it before without a
// search per item, and a copy is never taken for an original. Connectors
// that store only a hash of the marker (a label) cannot read it back and
// do not implement this; the engine then searches with FindByMarker.
type MarkerIndexer interface {
	// IndexesMarkers reports whether Entity.Marker is filled (it may
	// depend on the system's configuration).
	IndexesMarkers() bool
}

// Deleter is implemented by connectors whose system can delete entities,
// for the "mirror" deletion policy.
type Deleter interface {
	Delete(ctx context.Context, ref Ref) error
}

// CommentEditor is implemented by connectors whose system lets comments be
// edited and deleted; the engine then mirrors edits and deletes of copied
// comments. Without it a divergence is reported on the pair.
type CommentEditor interface {
	// UpdateComment replaces a comment's body; marker is the comment's
	// marker, to be kept in the system's form.
	UpdateComment(ctx context.Context, ref Ref, id string, c NewComment) (Comment, error)
	DeleteComment(ctx context.Context, ref Ref, id string) error
}

// AttachmentDeleter is implemented by connectors whose system lets
// attachments be deleted.
type AttachmentDeleter interface {
	DeleteAttachment(ctx context.Context, ref Ref, a Attachment) error
}

// Webhooks is implemented by connectors whose system can push changes.
type Webhooks interface {
	// RegisterWebhook asks the system to POST changes of project to url,
	// signed with secret; it returns an id for UnregisterWebhook.
	RegisterWebhook(ctx context.Context, project, url, secret string) (string, error)
	UnregisterWebhook(ctx context.Context, id string) error
	// ParseWebhook verifies a delivery's signature and returns the
	// entities it names. A bad signature is ErrUnauthorized.
	ParseWebhook(r *http.Request, body []byte, secret string) ([]Ref, error)
}

// Opener opens a connector for a configured system.
type Opener func(cfg Config, env Env) (Connector, error)

// A connector that holds something between calls (an HTTP client's idle
// connections, its system's share of a rate limiter) implements io.Closer.
// The agent keeps one open connector per system and closes it when the
// system changes or is deleted, and at shutdown. Close must not break a call
// in flight or one made after it: a sync run may still hold the connector
// when its system is saved. Close releases; it does not disable.

// Close closes c if it is an io.Closer; other connectors hold nothing.
func Close(c Connector) error {
	if cl, ok := c.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// Env is what the agent lends a connector: its HTTP client layer and logger
// fields. Zero values are usable in tests.
type Env struct {
	// HTTP is the shared client layer (timeouts, retries, rate limits);
	// nil makes the connector build a default one.
	HTTP *http.Client
	// Now is the clock.
	Now func() time.Time
	// Log is the connector's logger (the system's id already attached).
	Log zerolog.Logger
	// Observer is told about the system's HTTP traffic (metrics); nil for none.
	Observer HTTPObserver
}

// HTTPObserver is told about one system's HTTP traffic by the shared client
// layer, for the agent's metrics. It sees statuses and waits, never URLs,
// headers or bodies. Calls must not block.
type HTTPObserver interface {
	// Response is called once per attempt: the status, 0 when no answer
	// came (a network error), and whether the answer said the system's
	// rate limit was hit (429, or a rate-limit 403).
	Response(status int, rateLimited bool)
	// Wait is called before the client waits d: reason is "retry" (backoff
	// or Retry-After before a repeat), "rate_limit" (a pause the system
	// asked for) or "pace" (the agent's own requests-per-minute cap).
	Wait(reason string, d time.Duration)
}

// Ref names one entity.
type Ref struct {
	ID  string `json:"id"`
	Key string `json:"key,omitempty"` // the human key, e.g. HELP-12
}

// Entity is one work item as the engine sees it.
type Entity struct {
	Ref
	Type      string    `json:"type"`
	Title     string    `json:"title"`
	URL       string    `json:"url,omitempty"`
	Version   string    `json:"version"` // changes on every change (etag, revision, updated time)
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Fields    Fields    `json:"fields"`
	// Marker is the Text() of the marker the entity carries
	// ("lockstep:<system>:<key>"); empty when it has none or the
	// connector is not a MarkerIndexer.
	Marker string `json:"marker,omitempty"`
}

// Fields are field values by field name.
type Fields map[string]any

// User is a person in a system.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

// Marker is the peer key written into an entity Lockstep creates.
type Marker struct {
	// System names the source: its origin (Origin of the source system's
	// URL and project, which survives the system being configured again),
	// or, in markers written before origins, the source system's id.
	// Connectors treat it as an opaque token of [0-9a-z-].
	System string `json:"system"`
	Key    string `json:"key"` // the source entity's key (or id)
	URL    string `json:"url,omitempty"`
}

// Page is one page of changes.
type Page struct {
	Entities []Entity
	// Deleted lists entities deleted in the page's window, for systems
	// whose change feed reports deletions (others are seen deleted when a
	// read of them answers ErrNotFound).
	Deleted []Ref
	Cursor  string // empty on the last page
}

// Comment on an entity. Body is Markdown.
type Comment struct {
	ID        string    `json:"id"`
	Author    User      `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"createdAt"`
	// UpdatedAt is when the comment was last edited, where the system
	// says (zero otherwise).
	UpdatedAt time.Time `json:"updatedAt,omitempty"`
	// Marker is the marker the comment was added with (NewComment.Marker),
	// read back from the system's form and taken out of Body.
	Marker string `json:"marker,omitempty"`
	// Moved is what the write that answered this comment (AddComment,
	// UpdateComment) did to its entity's version; never set by Comments.
	Moved Moved `json:"-"`
}

// Moved is what one write did to its entity's version, as the system's
// answer says: From, the version just before the write, and To, just
// after. A connector fills it only where the answer proves both (a
// revision every change moves by one, or an answer naming both); else it
// stays empty. The engine then knows whether anyone else changed the
// entity between what it last read and its own write: without it, it lists
// what it wrote to again on the entity's next change, since another user's
// comment may hide behind its own.
type Moved struct {
	From, To string
}

// NewComment is a comment to add. Marker ("lockstep:a:<comment id>") lets
// the engine recognise its own copies (echo suppression) and recover after a
// crash: the connector writes it once, in its system's form (a hidden HTML
// comment where the body is Markdown or HTML, a comment property, a
// footer), never inside Body, and reads it back into Comment.Marker.
type NewComment struct {
	Body   string
	Author User // the original author, for systems that can show it
	Marker string
}

// Attachment metadata.
type Attachment struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	ContentType string    `json:"contentType,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Link is a typed relation to another entity of the same system, or a
// remote link (URL) to anything.
type Link struct {
	Type   string `json:"type"`
	Target Ref    `json:"target"`
	URL    string `json:"url,omitempty"`
}

// Schema describes a project.
type Schema struct {
	EntityTypes []string         `json:"entityTypes"`
	Fields      []FieldSchema    `json:"fields"`
	LinkTypes   []string         `json:"linkTypes"`
	Users       []User           `json:"users,omitempty"`
	Extra       map[string][]any `json:"extra,omitempty"`
}

// Field value types.
const (
	TypeString   = "string"
	TypeText     = "text" // Markdown
	TypeNumber   = "number"
	TypeBool     = "bool"
	TypeDate     = "date" // YYYY-MM-DD
	TypeDateTime = "datetime"
	TypeEnum     = "enum"
	TypeLabels   = "labels" // []string
	TypeUser     = "user"
)

// FieldSchema describes one field.
type FieldSchema struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Values   []string `json:"values,omitempty"` // allowed values of an enum
	ReadOnly bool     `json:"readOnly,omitempty"`
	Required bool     `json:"required,omitempty"`
}

// Errors a connector returns, wrapped with detail; the engine decides what is
// transient (retry with backoff) and what is permanent (park the pair).
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("changed since read")
	ErrUnauthorized = errors.New("credentials refused")
	ErrForbidden    = errors.New("permission denied")
	ErrInvalid      = errors.New("rejected by the system")
	ErrRateLimited  = errors.New("rate limited")
	ErrUnavailable  = errors.New("system unavailable")
)

// Transient reports whether err is worth retrying later: network failures,
// 5xx, 429 and conflicts (re-read and retry).
func Transient(err error) bool {
	return errors.Is(err, ErrRateLimited) || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrConflict) ||
		errors.Is(err, context.DeadlineExceeded)
}
