package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Comments are an issue's notes, oldest first, without system notes (the
// "changed the description", "closed" lines GitLab writes itself) and
// without the notes the connector wrote to carry an uploaded file, which
// Attachments lists instead.
func (c *Conn) Comments(ctx context.Context, ref connector.Ref) ([]connector.Comment, error) {
	notes, p, err := c.notes(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := []connector.Comment{}
	for _, n := range notes {
		if n.System || attachmentTag.MatchString(n.Body) {
			continue
		}
		out = append(out, c.comment(p, n))
	}
	return out, nil
}

// notes lists all of an issue's notes, system notes too.
func (c *Conn) notes(ctx context.Context, ref connector.Ref) ([]wireNote, *projectInfo, error) {
	fail := func(err error) ([]wireNote, *projectInfo, error) {
		return nil, nil, fmt.Errorf("list GitLab notes of %s: %w", connector.RefName(ref), err)
	}
	r, err := c.parseRef(ctx, ref)
	if err != nil {
		return fail(err)
	}
	p, err := c.byID(ctx, r.project)
	if err != nil {
		return fail(err)
	}
	req := r.request(http.MethodGet, "/notes")
	req.Query = url.Values{"order_by": {"created_at"}, "sort": {"asc"}}
	list, err := getAll[wireNote](ctx, c, req)
	if err != nil {
		return fail(err)
	}
	return list, p, nil
}

func (c *Conn) comment(p *projectInfo, n wireNote) connector.Comment {
	text, marker := splitComment(n.Body)
	return connector.Comment{ID: strconv.FormatInt(n.ID, 10), Author: user(n.Author), Body: p.absoluteUploads(text),
		CreatedAt: parseTime(n.CreatedAt), UpdatedAt: parseTime(n.UpdatedAt), Marker: marker}
}

// AddComment posts a note as the token's user, the marker once at its end
// as a hidden HTML comment.
func (c *Conn) AddComment(ctx context.Context, ref connector.Ref, nc connector.NewComment) (connector.Comment, error) {
	r, err := c.parseRef(ctx, ref)
	if err != nil {
		return connector.Comment{}, fmt.Errorf("add GitLab note: %w", err)
	}
	p, err := c.byID(ctx, r.project)
	if err != nil {
		return connector.Comment{}, fmt.Errorf("add GitLab note to %s: %w", connector.RefName(ref), err)
	}
	body := commentBody(nc.Body, nc.Marker)
	if body == "" {
		return connector.Comment{}, fmt.Errorf("add GitLab note to %s: the comment is empty: %w", connector.RefName(ref), connector.ErrInvalid)
	}
	var n wireNote
	// Not idempotent: the engine finds a copy made before a crash by its
	// marker instead of posting it twice.
	if err := c.http.DoJSON(ctx, r.request(http.MethodPost, "/notes"), map[string]string{"body": body}, &n); err != nil {
		return connector.Comment{}, fmt.Errorf("add GitLab note to %s: %w", connector.RefName(ref), err)
	}
	return c.comment(p, n), nil
}

// UpdateComment replaces a note's body with the marker given, or, when
// none is, the one the note has. GitLab lets only a note's author edit
// it: the connector's own copies qualify.
func (c *Conn) UpdateComment(ctx context.Context, ref connector.Ref, id string, nc connector.NewComment) (connector.Comment, error) {
	r, err := c.parseRef(ctx, ref)
	if err != nil {
		return connector.Comment{}, fmt.Errorf("edit GitLab note: %w", err)
	}
	p, err := c.byID(ctx, r.project)
	if err != nil {
		return connector.Comment{}, fmt.Errorf("edit GitLab note %s of %s: %w", id, connector.RefName(ref), err)
	}
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return connector.Comment{}, fmt.Errorf("edit GitLab note %q of %s: not a note id: %w", id, connector.RefName(ref), connector.ErrInvalid)
	}
	marker := nc.Marker
	if bareMarker(marker) == "" {
		// Keep the marker the note has: an edit must not turn a copy into
		// a comment of its own.
		var cur wireNote
		if err := c.http.DoJSON(ctx, r.request(http.MethodGet, "/notes/"+id), nil, &cur); err != nil {
			return connector.Comment{}, fmt.Errorf("edit GitLab note %s of %s: %w", id, connector.RefName(ref), err)
		}
		_, marker = splitComment(cur.Body)
	}
	var n wireNote
	in := map[string]string{"body": commentBody(nc.Body, marker)}
	if err := c.http.DoJSON(ctx, r.request(http.MethodPut, "/notes/"+id), in, &n); err != nil {
		return connector.Comment{}, fmt.Errorf("edit GitLab note %s of %s: %w", id, connector.RefName(ref), err)
	}
	return c.comment(p, n), nil
}

// DeleteComment deletes a note; one already gone is not an error.
func (c *Conn) DeleteComment(ctx context.Context, ref connector.Ref, id string) error {
	r, err := c.parseRef(ctx, ref)
	if err != nil {
		return fmt.Errorf("delete GitLab note: %w", err)
	}
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return fmt.Errorf("delete GitLab note %q of %s: not a note id: %w", id, connector.RefName(ref), connector.ErrInvalid)
	}
	err = c.http.DoJSON(ctx, r.request(http.MethodDelete, "/notes/"+id), nil, nil)
	if err != nil && !errors.Is(err, connector.ErrNotFound) {
		return fmt.Errorf("delete GitLab note %s of %s: %w", id, connector.RefName(ref), err)
	}
	return nil
}
