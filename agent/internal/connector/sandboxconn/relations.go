package sandboxconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// RemoteLinkType is the Link.Type of remote links (a URL, no target entity).
const RemoteLinkType = "remote"

// Comments reads all comments, oldest first, page by page.
func (c *Conn) Comments(ctx context.Context, ref connector.Ref) ([]connector.Comment, error) {
	path, err := itemPath(ref, "/comments")
	if err != nil {
		return nil, fmt.Errorf("list sandbox comments: %w", err)
	}
	var out []connector.Comment
	q := url.Values{"limit": {strconv.Itoa(pageSize)}}
	for {
		var page wireCommentPage
		if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: q}, nil, &page); err != nil {
			return nil, fmt.Errorf("list sandbox comments of %s: %w", connector.RefName(ref), err)
		}
		for _, wc := range page.Comments {
			out = append(out, c.comment(ctx, wc))
		}
		if page.NextCursor == "" {
			return out, nil
		}
		q.Set("cursor", page.NextCursor)
	}
}

// comment is a comment as the engine sees it: its marker out of its body.
func (c *Conn) comment(ctx context.Context, wc wireComment) connector.Comment {
	body, marker := connector.SplitMarker(wc.Body)
	cm := connector.Comment{ID: strconv.FormatInt(wc.ID, 10), Author: c.user(ctx, wc.Author), Body: body, Marker: marker, CreatedAt: wc.Created}
	if wc.Updated.After(wc.Created) {
		cm.UpdatedAt = wc.Updated
	}
	// Every change moves an item's version by one: the write moved it from
	// the one before.
	if wc.ItemVersion > 1 {
		cm.Moved = connector.Moved{From: strconv.FormatInt(wc.ItemVersion-1, 10), To: strconv.FormatInt(wc.ItemVersion, 10)}
	}
	return cm
}

// AddComment posts a comment as the token's user. The sandbox has no
// comment properties, so the marker rides at the end of the body as an HTML
// comment: invisible when the Markdown is rendered, and read back into
// Comment.Marker.
func (c *Conn) AddComment(ctx context.Context, ref connector.Ref, nc connector.NewComment) (connector.Comment, error) {
	path, err := itemPath(ref, "/comments")
	if err != nil {
		return connector.Comment{}, fmt.Errorf("add sandbox comment: %w", err)
	}
	var wc wireComment
	body := map[string]string{"body": connector.HideMarker(nc.Body, nc.Marker)}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: path}, body, &wc); err != nil {
		return connector.Comment{}, fmt.Errorf("add sandbox comment to %s: %w", connector.RefName(ref), err)
	}
	return c.comment(ctx, wc), nil
}

// UpdateComment replaces a comment's body, keeping its marker.
func (c *Conn) UpdateComment(ctx context.Context, ref connector.Ref, id string, nc connector.NewComment) (connector.Comment, error) {
	path, err := itemPath(ref, "/comments/"+url.PathEscape(id))
	if err != nil {
		return connector.Comment{}, fmt.Errorf("edit sandbox comment: %w", err)
	}
	var wc wireComment
	body := map[string]string{"body": connector.HideMarker(nc.Body, nc.Marker)}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPatch, Path: path, Idempotent: true}, body, &wc); err != nil {
		return connector.Comment{}, fmt.Errorf("edit sandbox comment %s of %s: %w", id, connector.RefName(ref), err)
	}
	return c.comment(ctx, wc), nil
}

// DeleteComment deletes a comment.
func (c *Conn) DeleteComment(ctx context.Context, ref connector.Ref, id string) error {
	path, err := itemPath(ref, "/comments/"+url.PathEscape(id))
	if err != nil {
		return fmt.Errorf("delete sandbox comment: %w", err)
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodDelete, Path: path, Idempotent: true}, nil, nil); err != nil {
		return fmt.Errorf("delete sandbox comment %s of %s: %w", id, connector.RefName(ref), err)
	}
	return nil
}

// DeleteAttachment deletes an attachment and its content.
func (c *Conn) DeleteAttachment(ctx context.Context, ref connector.Ref, a connector.Attachment) error {
	err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodDelete, Path: "/api/attachments/" + url.PathEscape(a.ID), Idempotent: true}, nil, nil)
	if err != nil {
		return fmt.Errorf("delete sandbox attachment %s of %s: %w", a.ID, connector.RefName(ref), err)
	}
	return nil
}

func attachment(wa wireAttachment) connector.Attachment {
	return connector.Attachment{ID: strconv.FormatInt(wa.ID, 10), Name: wa.Name, Size: wa.Size, ContentType: wa.ContentType, CreatedAt: wa.Created}
}

// Attachments lists an item's attachments.
func (c *Conn) Attachments(ctx context.Context, ref connector.Ref) ([]connector.Attachment, error) {
	path, err := itemPath(ref, "/attachments")
	if err != nil {
		return nil, fmt.Errorf("list sandbox attachments: %w", err)
	}
	var out struct {
		Attachments []wireAttachment `json:"attachments"`
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: path}, nil, &out); err != nil {
		return nil, fmt.Errorf("list sandbox attachments of %s: %w", connector.RefName(ref), err)
	}
	list := make([]connector.Attachment, 0, len(out.Attachments))
	for _, wa := range out.Attachments {
		list = append(list, attachment(wa))
	}
	return list, nil
}

// Download streams an attachment's content; the caller closes it.
func (c *Conn) Download(ctx context.Context, ref connector.Ref, a connector.Attachment) (io.ReadCloser, error) {
	resp, err := c.http.Do(ctx, httpx.Request{Method: http.MethodGet, Path: "/api/attachments/" + url.PathEscape(a.ID) + "/content",
		Header: http.Header{"Accept": {"*/*"}}})
	if err != nil {
		return nil, fmt.Errorf("download sandbox attachment %s (%s) of %s: %w", a.ID, a.Name, connector.RefName(ref), err)
	}
	return resp.Body, nil
}

// Upload streams content to a new attachment. size < 0 is unknown. The
// upload is retried only if content can be rewound (an io.Seeker) or the
// server refused it before reading.
func (c *Conn) Upload(ctx context.Context, ref connector.Ref, name, contentType string, size int64, content io.Reader) (connector.Attachment, error) {
	path, err := itemPath(ref, "/attachments")
	if err != nil {
		return connector.Attachment{}, fmt.Errorf("upload sandbox attachment: %w", err)
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	if size == 0 {
		content = http.NoBody // say "empty" rather than "unknown"
	}
	var wa wireAttachment
	err = c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: path, Query: url.Values{"name": {name}},
		Header: http.Header{"Content-Type": {contentType}}, Body: content, ContentLength: max(size, 0)}, nil, &wa)
	if err != nil {
		return connector.Attachment{}, fmt.Errorf("upload sandbox attachment %s to %s: %w", name, connector.RefName(ref), err)
	}
	return attachment(wa), nil
}

// Links lists typed links and remote links; the remote links Lockstep
// itself wrote (markers) are bookkeeping and left out.
func (c *Conn) Links(ctx context.Context, ref connector.Ref) ([]connector.Link, error) {
	path, err := itemPath(ref, "/links")
	if err != nil {
		return nil, fmt.Errorf("list sandbox links: %w", err)
	}
	var typed struct {
		Links []wireLink `json:"links"`
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: path}, nil, &typed); err != nil {
		return nil, fmt.Errorf("list sandbox links of %s: %w", connector.RefName(ref), err)
	}
	remote, err := c.remoteLinks(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := make([]connector.Link, 0, len(typed.Links)+len(remote))
	for _, l := range typed.Links {
		out = append(out, connector.Link{Type: l.Type, Target: connector.Ref{ID: strconv.FormatInt(l.Target.ID, 10), Key: l.Target.Key}})
	}
	for _, rl := range remote {
		if !strings.HasPrefix(rl.GlobalID, connector.MarkerPrefix) {
			out = append(out, connector.Link{Type: RemoteLinkType, URL: rl.URL, Target: connector.Ref{Key: rl.Title}})
		}
	}
	return out, nil
}

func (c *Conn) remoteLinks(ctx context.Context, ref connector.Ref) ([]wireRemoteLink, error) {
	path, err := itemPath(ref, "/remotelinks")
	if err != nil {
		return nil, fmt.Errorf("list sandbox remote links: %w", err)
	}
	var out struct {
		RemoteLinks []wireRemoteLink `json:"remoteLinks"`
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: path}, nil, &out); err != nil {
		return nil, fmt.Errorf("list sandbox remote links of %s: %w", connector.RefName(ref), err)
	}
	return out.RemoteLinks, nil
}

// AddLink adds a typed link, or a remote link when l has a URL and no
// target. Both are idempotent in the sandbox (an existing link is
// returned, a remote link is keyed by its URL), so they may be retried.
func (c *Conn) AddLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	if l.URL != "" && l.Target.ID == "" {
		path, err := itemPath(ref, "/remotelinks")
		if err != nil {
			return fmt.Errorf("add sandbox remote link: %w", err)
		}
		title := l.Target.Key
		if title == "" {
			title = l.URL
		}
		rl := wireRemoteLink{GlobalID: "url:" + l.URL, URL: l.URL, Title: title}
		if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: path, Idempotent: true}, rl, nil); err != nil {
			return fmt.Errorf("add sandbox remote link to %s: %w", connector.RefName(ref), err)
		}
		return nil
	}
	path, err := itemPath(ref, "/links")
	if err != nil {
		return fmt.Errorf("add sandbox link: %w", err)
	}
	target := l.Target.ID
	if target == "" {
		target = l.Target.Key
	}
	in := map[string]string{"type": l.Type, "target": target}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: path, Idempotent: true}, in, nil); err != nil {
		return fmt.Errorf("add sandbox %s link from %s to %s: %w", l.Type, connector.RefName(ref), connector.RefName(l.Target), err)
	}
	return nil
}

// RemoveLink removes a typed link, or the remote link with l's URL. A link
// already gone is not an error: the goal is that it does not exist.
func (c *Conn) RemoveLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	var err error
	if l.URL != "" && l.Target.ID == "" {
		err = c.removeRemoteLink(ctx, ref, l.URL)
	} else {
		var path string
		if path, err = itemPath(ref, "/links"); err == nil {
			target := l.Target.ID
			if target == "" {
				target = l.Target.Key
			}
			err = c.http.DoJSON(ctx, httpx.Request{Method: http.MethodDelete, Path: path,
				Query: url.Values{"type": {l.Type}, "target": {target}}}, nil, nil)
		}
	}
	if err != nil && !errors.Is(err, connector.ErrNotFound) {
		return fmt.Errorf("remove sandbox link from %s: %w", connector.RefName(ref), err)
	}
	return nil
}

func (c *Conn) removeRemoteLink(ctx context.Context, ref connector.Ref, u string) error {
	list, err := c.remoteLinks(ctx, ref)
	if err != nil {
		return err
	}
	for _, rl := range list {
		if rl.URL == u && !strings.HasPrefix(rl.GlobalID, connector.MarkerPrefix) {
			path, _ := itemPath(ref, "/remotelinks/"+strconv.FormatInt(rl.ID, 10))
			if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodDelete, Path: path}, nil, nil); err != nil {
				return err
			}
		}
	}
	return nil
}
