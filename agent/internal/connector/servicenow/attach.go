package servicenow

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// Attachments go through the Attachment API: metadata from
// /api/now/attachment (sys_attachment), content from
// /api/now/attachment/{sys_id}/file, uploads to /api/now/attachment/file
// with the raw content as the body. Both directions stream.

// Attachments lists a record's attachments, oldest first.
func (c *Conn) Attachments(ctx context.Context, ref connector.Ref) ([]connector.Attachment, error) {
	_, id, err := c.locate(ctx, ref)
	if err != nil {
		return nil, err
	}
	const size = 500
	out := []connector.Attachment{}
	for n := 0; n < 100; n++ {
		list, more, err := c.page(ctx, "/api/now/attachment", "table_sys_id="+id+"^ORDERBYsys_created_on^ORDERBYsys_id", nil, size, n*size)
		if err != nil {
			return nil, fmt.Errorf("list ServiceNow attachments of %s: %w", connector.RefName(ref), err)
		}
		for _, a := range list {
			if att, ok := attachmentOf(a); ok && a.get("table_sys_id") == id {
				out = append(out, att)
			}
		}
		if !more {
			break
		}
	}
	return out, nil
}

func attachmentOf(a record) (connector.Attachment, bool) {
	size, _ := strconv.ParseInt(a.get("size_bytes"), 10, 64)
	att := connector.Attachment{ID: a.get("sys_id"), Name: a.get("file_name"), Size: size, ContentType: a.get("content_type"),
		CreatedAt: parseStamp(a.get("sys_created_on"))}
	return att, sysIDs.MatchString(att.ID)
}

// Download streams an attachment's content.
func (c *Conn) Download(ctx context.Context, ref connector.Ref, a connector.Attachment) (io.ReadCloser, error) {
	if !sysIDs.MatchString(a.ID) {
		return nil, fmt.Errorf("download ServiceNow attachment %q: not an attachment sys_id: %w", a.ID, connector.ErrNotFound)
	}
	resp, err := c.do(ctx, httpx.Request{Method: http.MethodGet, Path: "/api/now/attachment/" + a.ID + "/file", Header: http.Header{"Accept": {"*/*"}}})
	if err != nil {
		return nil, fmt.Errorf("download ServiceNow attachment %s (%s) of %s: %w", a.ID, a.Name, connector.RefName(ref), err)
	}
	return resp.Body, nil
}

// Upload streams content to the record as an attachment named name.
func (c *Conn) Upload(ctx context.Context, ref connector.Ref, name, contentType string, size int64, content io.Reader) (connector.Attachment, error) {
	table, id, err := c.locate(ctx, ref)
	if err != nil {
		return connector.Attachment{}, err
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	q := url.Values{"table_name": {table}, "table_sys_id": {id}, "file_name": {name}}
	r := httpx.Request{Method: http.MethodPost, Path: "/api/now/attachment/file", Query: q, Body: content, ContentLength: size,
		Header: http.Header{"Content-Type": {contentType}, "Accept": {"application/json"}}}
	var meta record
	if err := c.call(ctx, r, nil, &meta); err != nil {
		return connector.Attachment{}, fmt.Errorf("upload %s to ServiceNow record %s: %w", name, connector.RefName(ref), err)
	}
	att, ok := attachmentOf(meta)
	if !ok {
		return connector.Attachment{}, fmt.Errorf("upload %s to ServiceNow record %s: the answer names no attachment: %w", name, connector.RefName(ref), connector.ErrUnavailable)
	}
	c.mu.Lock()
	if len(c.uploaded) > 10000 {
		c.uploaded = map[string]bool{} // bounded: forgetting costs one extra read of a record
	}
	c.uploaded[att.ID] = true
	c.mu.Unlock()
	return att, nil
}

// DeleteAttachment removes an attachment.
func (c *Conn) DeleteAttachment(ctx context.Context, ref connector.Ref, a connector.Attachment) error {
	if !sysIDs.MatchString(a.ID) {
		return fmt.Errorf("delete ServiceNow attachment %q: not an attachment sys_id: %w", a.ID, connector.ErrNotFound)
	}
	if err := c.call(ctx, httpx.Request{Method: http.MethodDelete, Path: "/api/now/attachment/" + a.ID}, nil, nil); err != nil {
		return fmt.Errorf("delete ServiceNow attachment %s of %s: %w", a.Name, connector.RefName(ref), err)
	}
	return nil
}
