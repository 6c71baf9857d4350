package jira

import (
	"context"
	"encoding/json"
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

// RemoteLinkType is the Link.Type of remote links (a URL, no target issue).
const RemoteLinkType = "remote"

// commentProperty is the comment property holding the engine's marker:
// invisible in Jira, and put back into Body when read.
const commentProperty = "lockstep"

// Comments reads all comments, oldest first, page by page.
func (c *Conn) Comments(ctx context.Context, ref connector.Ref) ([]connector.Comment, error) {
	path, err := issuePath(c.api, ref, "/comment")
	if err != nil {
		return nil, fmt.Errorf("list Jira comments: %w", err)
	}
	var out []connector.Comment
	// A page must start where it was asked to: a server that repeats one
	// must not keep this loop going. The bound is for a total that never
	// ends.
	for start := 0; start < 1_000_000; {
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {strconv.Itoa(pageSize)}, "expand": {"properties"}, "orderBy": {"created"}}
		var page wireCommentPage
		if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: q}, nil, &page); err != nil {
			return nil, fmt.Errorf("list Jira comments of %s: %w", connector.RefName(ref), err)
		}
		if page.StartAt != start {
			return nil, fmt.Errorf("list Jira comments of %s: asked from %d, got a page from %d: %w", connector.RefName(ref), start, page.StartAt, connector.ErrUnavailable)
		}
		for _, wc := range page.Comments {
			out = append(out, c.comment(wc))
		}
		start += len(page.Comments)
		if len(page.Comments) == 0 || start >= page.Total {
			return out, nil
		}
	}
	return nil, fmt.Errorf("list Jira comments of %s: paging does not end: %w", connector.RefName(ref), connector.ErrUnavailable)
}

func (c *Conn) comment(wc wireComment) connector.Comment {
	body, _ := c.richToMarkdown(wc.Body).(string)
	cm := connector.Comment{ID: wc.ID, Author: c.user(wc.Author), Body: body, CreatedAt: parseTime(wc.Created)}
	for _, p := range wc.Properties {
		if p.Key != commentProperty {
			continue
		}
		var v struct {
			Marker string `json:"marker"`
		}
		if json.Unmarshal(p.Value, &v) == nil && v.Marker != "" {
			cm.Marker = bareMarker(v.Marker)
		}
	}
	return cm
}

// bareMarker is a comment marker without the HTML comment older releases
// stored it in ("<!-- lockstep:a:1 -->").
func bareMarker(m string) string {
	if _, marker := connector.SplitMarker(m); marker != "" {
		return marker
	}
	return strings.TrimSpace(m)
}

// AddComment posts a comment as the API user. ADF and wiki markup have no
// HTML comments, so the marker is stored as a comment property and read
// back into Comment.Marker.
func (c *Conn) AddComment(ctx context.Context, ref connector.Ref, nc connector.NewComment) (connector.Comment, error) {
	path, err := issuePath(c.api, ref, "/comment")
	if err != nil {
		return connector.Comment{}, fmt.Errorf("add Jira comment: %w", err)
	}
	body, err := c.richFromMarkdown(nc.Body)
	if err != nil {
		return connector.Comment{}, fmt.Errorf("add Jira comment to %s: %w", connector.RefName(ref), err)
	}
	in := map[string]any{"body": body}
	if nc.Marker != "" {
		in["properties"] = []any{map[string]any{"key": commentProperty, "value": map[string]string{"marker": nc.Marker}}}
	}
	var wc wireComment
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: path}, in, &wc); err != nil {
		return connector.Comment{}, fmt.Errorf("add Jira comment to %s: %w", connector.RefName(ref), err)
	}
	cm := c.comment(wc)
	cm.Marker = bareMarker(nc.Marker) // the create answer leaves properties out
	return cm, nil
}

func attachment(wa wireAttachment) connector.Attachment {
	return connector.Attachment{ID: wa.ID, Name: wa.Filename, Size: wa.Size, ContentType: wa.MimeType, CreatedAt: parseTime(wa.Created)}
}

// Attachments lists an issue's attachments.
func (c *Conn) Attachments(ctx context.Context, ref connector.Ref) ([]connector.Attachment, error) {
	path, err := issuePath(c.api, ref)
	if err != nil {
		return nil, fmt.Errorf("list Jira attachments: %w", err)
	}
	var wi struct {
		Fields struct {
			Attachment []wireAttachment `json:"attachment"`
		} `json:"fields"`
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: url.Values{"fields": {"attachment"}}}, nil, &wi); err != nil {
		return nil, fmt.Errorf("list Jira attachments of %s: %w", connector.RefName(ref), err)
	}
	out := make([]connector.Attachment, 0, len(wi.Fields.Attachment))
	for _, wa := range wi.Fields.Attachment {
		out = append(out, attachment(wa))
	}
	return out, nil
}

// Download streams an attachment's content from its content URL: Cloud's
// answers with a redirect to the media service (followed, without our
// credentials when it leaves the site), Server's is /secure/attachment.
func (c *Conn) Download(ctx context.Context, ref connector.Ref, a connector.Attachment) (io.ReadCloser, error) {
	path := c.api + "/attachment/content/" + url.PathEscape(a.ID)
	if !c.cloud {
		// httpx escapes the path itself: the id and name go in as they are.
		path = "/secure/attachment/" + a.ID + "/" + a.Name
	}
	resp, err := c.http.Do(ctx, httpx.Request{Method: http.MethodGet, Path: path, Header: http.Header{"Accept": {"*/*"}}})
	if err != nil {
		return nil, fmt.Errorf("download Jira attachment %s (%s) of %s: %w", a.ID, a.Name, connector.RefName(ref), err)
	}
	return resp.Body, nil
}

// Upload streams content as a multipart/form-data "file" part. Jira wants
// X-Atlassian-Token: no-check on it (its XSRF guard). The body is built
// around content without buffering it; it is sent again on a retry only
// if content can seek back.
func (c *Conn) Upload(ctx context.Context, ref connector.Ref, name, contentType string, size int64, content io.Reader) (connector.Attachment, error) {
	path, err := issuePath(c.api, ref, "/attachments")
	if err != nil {
		return connector.Attachment{}, fmt.Errorf("upload Jira attachment: %w", err)
	}
	req, err := httpx.Request{Method: http.MethodPost, Path: path, Header: http.Header{"X-Atlassian-Token": {"no-check"}}}.
		WithFile("file", name, contentType, size, content)
	if err != nil {
		return connector.Attachment{}, fmt.Errorf("upload Jira attachment %s: %w", name, err)
	}
	var list []wireAttachment
	if err := c.http.DoJSON(ctx, req, nil, &list); err != nil {
		return connector.Attachment{}, fmt.Errorf("upload Jira attachment %s to %s: %w", name, connector.RefName(ref), err)
	}
	if len(list) == 0 {
		return connector.Attachment{}, fmt.Errorf("upload Jira attachment %s to %s: the answer lists no attachment: %w", name, connector.RefName(ref), connector.ErrUnavailable)
	}
	return attachment(list[0]), nil
}

// Links lists issue links, typed by the description read from this
// issue's side ("blocks", "is blocked by"), and remote links other than
// the marker's.
func (c *Conn) Links(ctx context.Context, ref connector.Ref) ([]connector.Link, error) {
	links, err := c.issueLinks(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := make([]connector.Link, 0, len(links))
	for _, l := range links {
		switch {
		case l.OutwardIssue != nil:
			out = append(out, connector.Link{Type: l.Type.Outward, Target: connector.Ref{ID: l.OutwardIssue.ID, Key: l.OutwardIssue.Key}})
		case l.InwardIssue != nil:
			out = append(out, connector.Link{Type: l.Type.Inward, Target: connector.Ref{ID: l.InwardIssue.ID, Key: l.InwardIssue.Key}})
		}
	}
	remote, err := c.remoteLinks(ctx, ref)
	if err != nil {
		return nil, err
	}
	for _, rl := range remote {
		if !strings.HasPrefix(rl.GlobalID, connector.MarkerPrefix) {
			out = append(out, connector.Link{Type: RemoteLinkType, URL: rl.Object.URL, Target: connector.Ref{Key: rl.Object.Title}})
		}
	}
	return out, nil
}

func (c *Conn) issueLinks(ctx context.Context, ref connector.Ref) ([]wireIssueLink, error) {
	path, err := issuePath(c.api, ref)
	if err != nil {
		return nil, fmt.Errorf("list Jira links: %w", err)
	}
	var wi struct {
		Fields struct {
			IssueLinks []wireIssueLink `json:"issuelinks"`
		} `json:"fields"`
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: url.Values{"fields": {"issuelinks"}}}, nil, &wi); err != nil {
		return nil, fmt.Errorf("list Jira links of %s: %w", connector.RefName(ref), err)
	}
	return wi.Fields.IssueLinks, nil
}

func (c *Conn) remoteLinks(ctx context.Context, ref connector.Ref) ([]wireRemoteLink, error) {
	path, err := issuePath(c.api, ref, "/remotelink")
	if err != nil {
		return nil, fmt.Errorf("list Jira remote links: %w", err)
	}
	var out []wireRemoteLink
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: path}, nil, &out); err != nil {
		return nil, fmt.Errorf("list Jira remote links of %s: %w", connector.RefName(ref), err)
	}
	return out, nil
}

// linkDirection finds the link type a description (or type name) names,
// and whether ref is the inward issue of the POST (the one the outward
// description reads from).
func (c *Conn) linkDirection(ctx context.Context, typ string) (wireLinkType, bool, error) {
	lts, err := c.loadLinkTypes(ctx)
	if err != nil {
		return wireLinkType{}, false, err
	}
	for _, lt := range lts {
		if strings.EqualFold(lt.Outward, typ) || strings.EqualFold(lt.Name, typ) {
			return lt, true, nil
		}
	}
	for _, lt := range lts {
		if strings.EqualFold(lt.Inward, typ) {
			return lt, false, nil
		}
	}
	return wireLinkType{}, false, fmt.Errorf("no Jira link type is called %q: %w", typ, connector.ErrInvalid)
}

// AddLink adds an issue link, or a remote link when l has a URL and no
// target. Jira keeps one link of a type between two issues and remote
// links are keyed by globalId, so both may be repeated.
func (c *Conn) AddLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	if l.URL != "" && l.Target.ID == "" {
		path, err := issuePath(c.api, ref, "/remotelink")
		if err != nil {
			return fmt.Errorf("add Jira remote link: %w", err)
		}
		title := l.Target.Key
		if title == "" {
			title = l.URL
		}
		in := map[string]any{"globalId": l.URL, "object": map[string]string{"url": l.URL, "title": title}}
		if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: path, Idempotent: true}, in, nil); err != nil {
			return fmt.Errorf("add Jira remote link to %s: %w", connector.RefName(ref), err)
		}
		return nil
	}
	lt, fromHere, err := c.linkDirection(ctx, l.Type)
	if err != nil {
		return fmt.Errorf("add Jira link from %s: %w", connector.RefName(ref), err)
	}
	here, there := issueRef(ref), issueRef(l.Target)
	in := map[string]any{"type": map[string]string{"name": lt.Name}, "inwardIssue": here, "outwardIssue": there}
	if !fromHere {
		in["inwardIssue"], in["outwardIssue"] = there, here
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: c.api + "/issueLink", Idempotent: true}, in, nil); err != nil {
		return fmt.Errorf("add Jira %q link from %s to %s: %w", l.Type, connector.RefName(ref), connector.RefName(l.Target), err)
	}
	return nil
}

func issueRef(r connector.Ref) map[string]string {
	if r.ID != "" {
		return map[string]string{"id": r.ID}
	}
	return map[string]string{"key": r.Key}
}

// RemoveLink removes an issue link, or the remote links with l's URL. A
// link already gone is not an error: the goal is that it does not exist.
func (c *Conn) RemoveLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	if l.URL != "" && l.Target.ID == "" {
		list, err := c.remoteLinks(ctx, ref)
		if err != nil {
			return err
		}
		for _, rl := range list {
			if rl.Object.URL != l.URL || strings.HasPrefix(rl.GlobalID, connector.MarkerPrefix) {
				continue
			}
			path, _ := issuePath(c.api, ref, "/remotelink/"+strconv.FormatInt(rl.ID, 10))
			if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodDelete, Path: path}, nil, nil); err != nil && !isNotFound(err) {
				return fmt.Errorf("remove Jira remote link from %s: %w", connector.RefName(ref), err)
			}
		}
		return nil
	}
	links, err := c.issueLinks(ctx, ref)
	if err != nil {
		return err
	}
	for _, wl := range links {
		var typ string
		var target *wireIssue
		switch {
		case wl.OutwardIssue != nil:
			typ, target = wl.Type.Outward, wl.OutwardIssue
		case wl.InwardIssue != nil:
			typ, target = wl.Type.Inward, wl.InwardIssue
		default:
			continue
		}
		sameType := strings.EqualFold(typ, l.Type) || strings.EqualFold(wl.Type.Name, l.Type)
		sameTarget := (l.Target.ID != "" && target.ID == l.Target.ID) || (l.Target.ID == "" && strings.EqualFold(target.Key, l.Target.Key))
		if !sameType || !sameTarget {
			continue
		}
		err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodDelete, Path: c.api + "/issueLink/" + url.PathEscape(wl.ID)}, nil, nil)
		if err != nil && !errors.Is(err, connector.ErrNotFound) {
			return fmt.Errorf("remove Jira %q link from %s to %s: %w", l.Type, connector.RefName(ref), connector.RefName(l.Target), err)
		}
	}
	return nil
}
