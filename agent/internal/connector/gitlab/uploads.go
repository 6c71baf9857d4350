package gitlab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// GitLab issues have no attachments of their own: a file is uploaded to
// the project (POST /projects/:id/uploads) and linked from Markdown. So an
// issue's attachments are the project uploads its description and notes
// link to, and Upload adds a note holding the link. An attachment's id is
// "<secret>/<file name>", the two parts of the upload's URL.

// Attachments lists the uploads an issue's description and notes link to,
// in that order, each once. The size of a file the connector uploaded is
// in its note; the others' is asked with a HEAD request, and is -1
// (unknown) if GitLab does not say.
func (c *Conn) Attachments(ctx context.Context, ref connector.Ref) ([]connector.Attachment, error) {
	wi, p, err := c.getIssue(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("list GitLab attachments: %w", err)
	}
	notes, _, err := c.notes(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("list GitLab attachments: %w", err)
	}
	out := []connector.Attachment{}
	seen := map[string]bool{}
	add := func(text, created string) {
		size, name := int64(-1), ""
		if m := attachmentTag.FindStringSubmatch(text); m != nil {
			size, _ = strconv.ParseInt(m[1], 10, 64)
			name = commentUnescape(m[2])
		}
		for _, l := range p.uploadLinks(c.base, text) {
			if seen[l.id()] {
				continue
			}
			seen[l.id()] = true
			a := connector.Attachment{ID: l.id(), Name: l.filename, Size: size, CreatedAt: parseTime(created)}
			if name != "" {
				a.Name = name
			}
			if size < 0 {
				a.Size, a.ContentType = c.uploadSize(ctx, p, l)
			}
			out = append(out, a)
		}
	}
	if wi.Description != nil {
		text, _, _ := splitDescription(*wi.Description)
		add(text, wi.CreatedAt)
	}
	for _, n := range notes {
		if !n.System {
			add(n.Body, n.CreatedAt)
		}
	}
	return out, nil
}

// uploadSize asks for an upload's size and type with a HEAD request.
func (c *Conn) uploadSize(ctx context.Context, p *projectInfo, l uploadLink) (int64, string) {
	r := projectRequest(http.MethodHead, strconv.FormatInt(p.ID, 10), "/uploads/"+l.secret+"/"+l.filename)
	r.Header = http.Header{"Accept": {"*/*"}}
	resp, err := c.http.Do(ctx, r)
	if err != nil {
		c.log.Debug().Err(err).Str("attachment_name", l.filename).Msg("upload size unknown")
		return -1, ""
	}
	resp.Body.Close()
	return resp.ContentLength, resp.Header.Get("Content-Type")
}

func splitAttachmentID(id string) (uploadLink, error) {
	secret, name, ok := strings.Cut(id, "/")
	if !ok || len(secret) != 32 || name == "" || strings.Contains(name, "/") {
		return uploadLink{}, fmt.Errorf("%q is not a GitLab upload id (<secret>/<file name>): %w", id, connector.ErrInvalid)
	}
	return uploadLink{secret: secret, filename: name}, nil
}

// Download streams an upload through the API (GET
// /projects/:id/uploads/:secret/:filename, GitLab 17.4 and later).
func (c *Conn) Download(ctx context.Context, ref connector.Ref, a connector.Attachment) (io.ReadCloser, error) {
	fail := func(err error) (io.ReadCloser, error) {
		return nil, fmt.Errorf("download GitLab upload %s of %s: %w", a.Name, connector.RefName(ref), err)
	}
	r, err := c.parseRef(ctx, ref)
	if err != nil {
		return fail(err)
	}
	l, err := splitAttachmentID(a.ID)
	if err != nil {
		return fail(err)
	}
	req := projectRequest(http.MethodGet, strconv.FormatInt(r.project, 10), "/uploads/"+l.secret+"/"+l.filename)
	req.Header = http.Header{"Accept": {"*/*"}}
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		if errors.Is(err, connector.ErrNotFound) {
			err = fmt.Errorf("%w (GitLab before %s cannot download uploads through its API)", err, minDownloadVersion)
		}
		return fail(err)
	}
	return resp.Body, nil
}

// Upload uploads content to the project and adds a note to the issue
// linking to it; the note ends with a hidden tag holding the file's size
// and original name. It is the file, not the note, that Attachments then
// lists; Comments leaves the note out.
func (c *Conn) Upload(ctx context.Context, ref connector.Ref, name, contentType string, size int64, content io.Reader) (connector.Attachment, error) {
	fail := func(err error) (connector.Attachment, error) {
		return connector.Attachment{}, fmt.Errorf("upload GitLab attachment %s to %s: %w", name, connector.RefName(ref), err)
	}
	r, err := c.parseRef(ctx, ref)
	if err != nil {
		return fail(err)
	}
	p, err := c.byID(ctx, r.project)
	if err != nil {
		return fail(err)
	}
	counted := &countingReader{r: content}
	var body io.Reader = counted
	if rs, ok := content.(io.ReadSeeker); ok {
		body = &countingSeeker{countingReader: counted, s: rs}
	}
	req, err := projectRequest(http.MethodPost, strconv.FormatInt(p.ID, 10), "/uploads").
		WithFile("file", name, contentType, size, body)
	if err != nil {
		return fail(err)
	}
	var wu wireUpload
	if err := c.http.DoJSON(ctx, req, nil, &wu); err != nil {
		return fail(err)
	}
	links := p.uploadLinks(c.base, "]("+wu.URL+")")
	if len(links) != 1 {
		return fail(fmt.Errorf("the answer's url %q is not an upload's: %w", wu.URL, connector.ErrUnavailable))
	}
	n := counted.n.Load()
	md := wu.Markdown
	if md == "" {
		md = "[" + links[0].filename + "](" + wu.URL + ")"
	}
	var note wireNote
	in := map[string]string{"body": md + "\n\n" + attachmentComment(n, name)}
	if err := c.http.DoJSON(ctx, r.request(http.MethodPost, "/notes"), in, &note); err != nil {
		return fail(fmt.Errorf("add the note linking to %s: %w", wu.URL, err))
	}
	return connector.Attachment{ID: links[0].id(), Name: name, Size: n, ContentType: contentType, CreatedAt: parseTime(note.CreatedAt)}, nil
}

// DeleteAttachment deletes an upload (GitLab lets Maintainers do it) and
// the note the connector wrote for it, if it did.
func (c *Conn) DeleteAttachment(ctx context.Context, ref connector.Ref, a connector.Attachment) error {
	fail := func(err error) error {
		return fmt.Errorf("delete GitLab upload %s of %s: %w", a.Name, connector.RefName(ref), err)
	}
	l, err := splitAttachmentID(a.ID)
	if err != nil {
		return fail(err)
	}
	notes, p, err := c.notes(ctx, ref)
	if err != nil {
		return fail(err)
	}
	req := projectRequest(http.MethodDelete, strconv.FormatInt(p.ID, 10), "/uploads/"+l.secret+"/"+l.filename)
	if err := c.http.DoJSON(ctx, req, nil, nil); err != nil && !errors.Is(err, connector.ErrNotFound) {
		return fail(err)
	}
	for _, n := range notes {
		if n.System || !attachmentTag.MatchString(n.Body) {
			continue
		}
		links := p.uploadLinks(c.base, n.Body)
		if len(links) == 1 && links[0].id() == a.ID {
			if err := c.DeleteComment(ctx, ref, strconv.FormatInt(n.ID, 10)); err != nil {
				return fail(err)
			}
		}
	}
	return nil
}

// countingReader counts the bytes read through it (an upload of unknown
// size learns its size so).
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// countingSeeker keeps a seekable body seekable, restarting the count
// when a retry rewinds it.
type countingSeeker struct {
	*countingReader
	s io.Seeker
}

func (c *countingSeeker) Seek(off int64, whence int) (int64, error) {
	pos, err := c.s.Seek(off, whence)
	if err == nil && whence == io.SeekStart {
		c.n.Store(0)
	}
	return pos, err
}
