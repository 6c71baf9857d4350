package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// noticePrefix starts the ID of an attachment notice: the comment that
// stands for a file GitHub cannot hold.
const noticePrefix = "comment-"

// noticeRe finds an attachment notice's hidden facts: size, name and
// content type of the file it stands for (name and type escaped as
// marker tokens are).
var noticeRe = regexp.MustCompile(`<!-- lockstep-file (\d+) (\S+) (\S+) -->`)

func (c *Conn) comment(wc wireComment) connector.Comment {
	body, token, _ := splitMarker(wc.Body)
	cm := connector.Comment{ID: strconv.FormatInt(wc.ID, 10), Body: body,
		CreatedAt: parseTime(wc.CreatedAt), UpdatedAt: parseTime(wc.UpdatedAt)}
	if strings.HasPrefix(token, connector.MarkerPrefix) {
		cm.Marker = token
	} else {
		cm.Body = wc.Body
	}
	if u, ok := userOf(wc.User).(connector.User); ok {
		cm.Author = u
	}
	return cm
}

// listComments reads every comment of an issue, oldest first.
func (c *Conn) listComments(ctx context.Context, ir issueRef) ([]wireComment, error) {
	list, err := getAll[wireComment](ctx, c, ir.path("/comments"), nil)
	if err != nil {
		return nil, fmt.Errorf("list GitHub comments of %s: %w", ir, err)
	}
	return list, nil
}

// Comments lists an issue's comments, oldest first, without attachment
// notices (see Upload): a comment's marker is read into Comment.Marker.
func (c *Conn) Comments(ctx context.Context, ref connector.Ref) ([]connector.Comment, error) {
	ir, err := c.parseRef(ref)
	if err != nil {
		return nil, fmt.Errorf("list GitHub comments: %w", err)
	}
	list, err := c.listComments(ctx, ir)
	if err != nil {
		return nil, err
	}
	out := make([]connector.Comment, 0, len(list))
	for _, wc := range list {
		if !noticeRe.MatchString(wc.Body) {
			out = append(out, c.comment(wc))
		}
	}
	return out, nil
}

// AddComment posts a comment as the token's account, with the marker as a
// hidden HTML comment at its end.
func (c *Conn) AddComment(ctx context.Context, ref connector.Ref, nc connector.NewComment) (connector.Comment, error) {
	ir, err := c.parseRef(ref)
	if err != nil {
		return connector.Comment{}, fmt.Errorf("add GitHub comment: %w", err)
	}
	in := map[string]string{"body": withMarker(nc.Body, bareToken(nc.Marker), "")}
	var wc wireComment
	if err := c.send(ctx, http.MethodPost, ir.path("/comments"), in, &wc, true, false); err != nil {
		return connector.Comment{}, fmt.Errorf("add GitHub comment to %s: %w", ir, err)
	}
	return c.comment(wc), nil
}

func commentPath(ir issueRef, id string) (string, error) {
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return "", fmt.Errorf("comment id %q is not a number: %w", id, connector.ErrInvalid)
	}
	return ir.repo.path("/issues/comments/" + id), nil
}

// UpdateComment replaces a comment's body, keeping its marker: the one
// given, else the one it carries.
func (c *Conn) UpdateComment(ctx context.Context, ref connector.Ref, id string, nc connector.NewComment) (connector.Comment, error) {
	ir, err := c.parseRef(ref)
	if err != nil {
		return connector.Comment{}, fmt.Errorf("edit GitHub comment: %w", err)
	}
	path, err := commentPath(ir, id)
	if err != nil {
		return connector.Comment{}, fmt.Errorf("edit GitHub comment of %s: %w", ir, err)
	}
	token := bareToken(nc.Marker)
	if token == "" {
		var wc wireComment
		if _, err := c.getJSON(ctx, path, nil, &wc); err != nil {
			return connector.Comment{}, fmt.Errorf("edit GitHub comment %s of %s: %w", id, ir, err)
		}
		if _, t, _ := splitMarker(wc.Body); strings.HasPrefix(t, connector.MarkerPrefix) {
			token = t
		}
	}
	var wc wireComment
	in := map[string]string{"body": withMarker(nc.Body, token, "")}
	if err := c.send(ctx, http.MethodPatch, path, in, &wc, false, true); err != nil {
		return connector.Comment{}, fmt.Errorf("edit GitHub comment %s of %s: %w", id, ir, err)
	}
	return c.comment(wc), nil
}

// DeleteComment deletes a comment; one already gone is fine.
func (c *Conn) DeleteComment(ctx context.Context, ref connector.Ref, id string) error {
	ir, err := c.parseRef(ref)
	if err != nil {
		return fmt.Errorf("delete GitHub comment: %w", err)
	}
	path, err := commentPath(ir, id)
	if err != nil {
		return fmt.Errorf("delete GitHub comment of %s: %w", ir, err)
	}
	if err := c.send(ctx, http.MethodDelete, path, nil, nil, false, true); err != nil && !errors.Is(err, connector.ErrNotFound) {
		return fmt.Errorf("delete GitHub comment %s of %s: %w", id, ir, err)
	}
	return nil
}

// Attachments lists the attachment notices on an issue (see Upload): GitHub
// issues hold no files, but the notices stand for the other side's, so a
// notice made just before a crash is found again instead of made twice.
func (c *Conn) Attachments(ctx context.Context, ref connector.Ref) ([]connector.Attachment, error) {
	ir, err := c.parseRef(ref)
	if err != nil {
		return nil, fmt.Errorf("list GitHub attachments: %w", err)
	}
	if c.attach == AttachSkip {
		return []connector.Attachment{}, nil
	}
	list, err := c.listComments(ctx, ir)
	if err != nil {
		return nil, err
	}
	out := []connector.Attachment{}
	for _, wc := range list {
		m := noticeRe.FindStringSubmatch(wc.Body)
		if m == nil {
			continue
		}
		size, _ := strconv.ParseInt(m[1], 10, 64)
		ct := unescapeToken(m[3])
		if ct == "-" {
			ct = ""
		}
		out = append(out, connector.Attachment{ID: noticePrefix + strconv.FormatInt(wc.ID, 10), Name: unescapeToken(m[2]),
			Size: size, ContentType: ct, CreatedAt: parseTime(wc.CreatedAt)})
	}
	return out, nil
}

// Download has nothing to give: GitHub issues hold no files, and a notice
// is not one.
func (c *Conn) Download(ctx context.Context, ref connector.Ref, a connector.Attachment) (io.ReadCloser, error) {
	return nil, fmt.Errorf("download GitHub attachment %s of %s: GitHub issues cannot hold files, and this is a notice of one kept elsewhere: %w",
		a.Name, connector.RefName(ref), errors.ErrUnsupported)
}

// Upload cannot store a file: GitHub's REST API has no attachments for
// issues. With the attachments setting "comment" it posts a comment naming
// the file and linking the item that has it (the source URL in the issue's
// marker, when Lockstep created the issue), and returns that notice as the
// attachment; with "skip" it refuses with errors.ErrUnsupported, which the
// engine counts as skipped.
func (c *Conn) Upload(ctx context.Context, ref connector.Ref, name, contentType string, size int64, content io.Reader) (connector.Attachment, error) {
	ir, err := c.parseRef(ref)
	if err != nil {
		return connector.Attachment{}, fmt.Errorf("add GitHub attachment: %w", err)
	}
	if c.attach == AttachSkip {
		return connector.Attachment{}, fmt.Errorf("add GitHub attachment %s to %s: GitHub issues cannot hold files, and the system is set to skip them: %w",
			name, ir, errors.ErrUnsupported)
	}
	if size < 0 {
		if size, err = io.Copy(io.Discard, content); err != nil {
			return connector.Attachment{}, fmt.Errorf("add GitHub attachment %s to %s: read it: %w", name, ir, err)
		}
	}
	wi, err := c.getIssue(ctx, ir)
	if err != nil {
		return connector.Attachment{}, err
	}
	where := "the synced item in the other system"
	if wi.Body != nil {
		_, token, link := splitMarker(*wi.Body)
		if m, ok := connector.ParseMarker(token); ok {
			if u, err := url.Parse(link); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
				where = "[" + escapeMarkdown(m.Key) + "](" + u.String() + ")"
			} else {
				where = escapeMarkdown(m.Key) + " in the other system"
			}
		}
	}
	ct := contentType
	if ct == "" {
		ct = "-"
	}
	body := fmt.Sprintf("📎 **%s** (%s) is attached to %s: GitHub issues cannot hold files.\n\n<!-- lockstep-file %d %s %s -->",
		escapeMarkdown(name), humanSize(size), where, size, escapeToken(name), escapeToken(ct))
	var wc wireComment
	if err := c.send(ctx, http.MethodPost, ir.path("/comments"), map[string]string{"body": body}, &wc, true, false); err != nil {
		return connector.Attachment{}, fmt.Errorf("add GitHub attachment notice %s to %s: %w", name, ir, err)
	}
	return connector.Attachment{ID: noticePrefix + strconv.FormatInt(wc.ID, 10), Name: name, Size: size,
		ContentType: contentType, CreatedAt: parseTime(wc.CreatedAt)}, nil
}

// DeleteAttachment deletes an attachment notice.
func (c *Conn) DeleteAttachment(ctx context.Context, ref connector.Ref, a connector.Attachment) error {
	id, ok := strings.CutPrefix(a.ID, noticePrefix)
	if !ok {
		return fmt.Errorf("delete GitHub attachment %s: %q is not a notice's id: %w", a.Name, a.ID, connector.ErrInvalid)
	}
	return c.DeleteComment(ctx, ref, id)
}

var markdownEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`, "#", `\#`, "|", `\|`)

func escapeMarkdown(s string) string { return markdownEscaper.Replace(s) }

func humanSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
	}
}
