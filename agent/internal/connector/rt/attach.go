package rt

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

func attachmentOf(a wireAttachment) connector.Attachment {
	size, _ := strconv.ParseInt(string(a.ContentLength), 10, 64)
	return connector.Attachment{ID: string(a.ID), Name: a.Filename, Size: size, ContentType: a.ContentType, CreatedAt: a.Created.Time}
}

// files is the JSON query for attachments that are files: RT stores every
// MIME part of every message as an attachment, bodies included.
var files = []map[string]any{{"field": "Filename", "operator": "IS NOT", "value": "NULL"}}

// Attachments lists a ticket's files, oldest first.
func (c *Conn) Attachments(ctx context.Context, ref connector.Ref) ([]connector.Attachment, error) {
	id, err := ticketID(ref)
	if err != nil {
		return nil, fmt.Errorf("list RT attachments: %w", err)
	}
	out := []connector.Attachment{}
	for page := 1; ; page++ {
		q := pageQuery(c.pageSize, page)
		q.Set("fields", "Filename,ContentType,ContentLength,Created,TransactionId")
		q.Set("orderby", "id")
		var p wirePage[wireAttachment]
		if err := c.search(ctx, "/ticket/"+id+"/attachments", q, files, &p); err != nil {
			return nil, fmt.Errorf("list RT attachments of %s: %w", id, err)
		}
		for _, a := range p.Items {
			if a.Filename != "" {
				out = append(out, attachmentOf(a))
			}
		}
		if len(p.Items) < c.pageSize {
			return out, nil
		}
	}
}

// Download streams an attachment's content. REST2 sends it base64-encoded
// inside a JSON object; contentReader decodes it as it arrives, so a large
// file is never held in memory.
func (c *Conn) Download(ctx context.Context, ref connector.Ref, a connector.Attachment) (io.ReadCloser, error) {
	if _, err := ticketID(connector.Ref{ID: a.ID}); err != nil {
		return nil, fmt.Errorf("download RT attachment %s: %w", a.Name, err)
	}
	// RT answers 500 for an attachment that does not exist (and retrying
	// that is pointless), so look it up first: a search finds nothing.
	q := pageQuery(1, 1)
	q.Set("fields", "Filename")
	var p wirePage[wireAttachment]
	if err := c.search(ctx, "/attachments", q, []map[string]any{{"field": "id", "value": a.ID}}, &p); err != nil {
		return nil, fmt.Errorf("download RT attachment %s (%s) of %s: %w", a.ID, a.Name, connector.RefName(ref), err)
	}
	if len(p.Items) == 0 {
		return nil, fmt.Errorf("download RT attachment %s (%s) of %s: no such attachment: %w", a.ID, a.Name, connector.RefName(ref), connector.ErrNotFound)
	}
	resp, err := c.http.Do(ctx, httpx.Request{Method: http.MethodGet, Path: "/attachment/" + a.ID})
	if err != nil {
		return nil, fmt.Errorf("download RT attachment %s (%s) of %s: %w", a.ID, a.Name, connector.RefName(ref), err)
	}
	r, err := contentReader(resp.Body)
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("download RT attachment %s (%s) of %s: %w: %w", a.ID, a.Name, connector.RefName(ref), connector.ErrUnavailable, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{r, resp.Body}, nil
}

// contentReader finds the top-level "Content" member of a JSON object and
// returns a reader of its base64-decoded value. Other members are skipped;
// a missing or null Content is empty content.
func contentReader(r io.Reader) (io.Reader, error) {
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("attachment answer is not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("read attachment answer: %w", err)
		}
		if key, _ := tok.(string); key == "Content" {
			br := bufio.NewReader(io.MultiReader(dec.Buffered(), r))
			s, err := openString(br)
			if err != nil {
				return nil, err
			}
			return base64.NewDecoder(base64.StdEncoding, s), nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, fmt.Errorf("read attachment answer: %w", err)
		}
	}
	return bytes.NewReader(nil), nil
}

// openString reads up to the opening quote of a JSON string value (after
// an optional colon) and returns a reader of the string's raw content; a
// null value reads as empty.
func openString(br *bufio.Reader) (io.Reader, error) {
	colon := false
	for {
		b, err := br.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("read attachment content: %w", err)
		}
		switch {
		case b == ' ' || b == '\t' || b == '\n' || b == '\r':
		case b == ':' && !colon:
			colon = true
		case b == '"':
			return &jsonString{r: br}, nil
		case b == 'n':
			rest := make([]byte, 3)
			if _, err := io.ReadFull(br, rest); err != nil || string(rest) != "ull" {
				return nil, fmt.Errorf("attachment content is neither text nor null")
			}
			return bytes.NewReader(nil), nil
		default:
			return nil, fmt.Errorf("attachment content is not a JSON string (found %q)", b)
		}
	}
}

// jsonString streams the content of a JSON string holding base64: its
// characters, with the escapes a JSON encoder may write for them (\n, \r,
// \/, \t, \u00XX), up to the closing quote.
type jsonString struct {
	r    *bufio.Reader
	done bool
}

func (s *jsonString) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if s.done {
			break
		}
		b, err := s.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
		switch b {
		case '"':
			s.done = true
			continue
		case '\\':
			e, err := s.r.ReadByte()
			if err != nil {
				return n, io.ErrUnexpectedEOF
			}
			switch e {
			case 'n':
				b = '\n'
			case 'r':
				b = '\r'
			case 't':
				continue // whitespace is no part of base64
			case '/':
				b = '/'
			case 'u':
				hex := make([]byte, 4)
				if _, err := io.ReadFull(s.r, hex); err != nil {
					return n, io.ErrUnexpectedEOF
				}
				v, err := strconv.ParseUint(string(hex), 16, 8)
				if err != nil {
					return n, fmt.Errorf("attachment content has a bad escape \\u%s", hex)
				}
				b = byte(v)
			default:
				return n, fmt.Errorf("attachment content has an unexpected escape \\%c", e)
			}
		}
		p[n] = b
		n++
	}
	if n == 0 && s.done {
		return 0, io.EOF
	}
	return n, nil
}

// maxSpool bounds an upload of unknown size, which is spooled to a
// temporary file to learn its length (RT needs a Content-Length).
const maxSpool = 1 << 30

// Upload attaches a file to a new comment (internal, with the subject
// uploadSubject, whatever commentAs says: a file should not mail the
// requestors). The body is multipart/form-data streamed from content; it
// is sent again on a retry only if content is an io.Seeker.
func (c *Conn) Upload(ctx context.Context, ref connector.Ref, name, contentType string, size int64, content io.Reader) (connector.Attachment, error) {
	id, err := ticketID(ref)
	if err != nil {
		return connector.Attachment{}, fmt.Errorf("upload RT attachment: %w", err)
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	if size < 0 {
		f, n, err := spool(content)
		if err != nil {
			return connector.Attachment{}, fmt.Errorf("upload RT attachment %s to %s: %w", name, id, err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		content, size = f, n
	}
	prefix, suffix, boundary, err := multipartFrame(name, contentType)
	if err != nil {
		return connector.Attachment{}, fmt.Errorf("upload RT attachment %s to %s: %w", name, id, err)
	}
	req := httpx.Request{Method: http.MethodPost, Path: "/ticket/" + id + "/comment",
		Header:        http.Header{"Content-Type": {"multipart/form-data; boundary=" + boundary}},
		ContentLength: int64(len(prefix)) + size + int64(len(suffix))}
	if s, ok := content.(io.ReadSeeker); ok {
		start, err := s.Seek(0, io.SeekCurrent)
		if err == nil {
			req.GetBody = func() (io.ReadCloser, error) {
				if _, err := s.Seek(start, io.SeekStart); err != nil {
					return nil, err
				}
				return io.NopCloser(io.MultiReader(bytes.NewReader(prefix), io.LimitReader(s, size), bytes.NewReader(suffix))), nil
			}
		}
	}
	if req.GetBody == nil {
		req.Body = io.MultiReader(bytes.NewReader(prefix), io.LimitReader(content, size), bytes.NewReader(suffix))
	}
	_, h, err := c.call(ctx, req, nil)
	if err != nil {
		return connector.Attachment{}, fmt.Errorf("upload RT attachment %s to %s: %w", name, id, c.missingTicket(ctx, id, err))
	}
	txn, err := txnFromLocation(h.Get("Location"))
	if err != nil {
		return connector.Attachment{}, fmt.Errorf("upload RT attachment %s to %s: %w", name, id, err)
	}
	q := pageQuery(maxPage, 1)
	q.Set("fields", "Filename,ContentType,ContentLength,Created,TransactionId")
	var p wirePage[wireAttachment]
	if err := c.search(ctx, "/transaction/"+txn+"/attachments", q, files, &p); err != nil {
		return connector.Attachment{}, fmt.Errorf("upload RT attachment %s to %s: read it back: %w", name, id, err)
	}
	for _, a := range p.Items {
		if a.Filename != "" {
			return attachmentOf(a), nil
		}
	}
	return connector.Attachment{}, fmt.Errorf("upload RT attachment %s to %s: transaction %s holds no file: %w", name, id, txn, connector.ErrUnavailable)
}

// multipartFrame is what goes before and after the file's bytes: the JSON
// part RT requires, and the file part's header; then the closing boundary.
func multipartFrame(name, contentType string) (prefix, suffix []byte, boundary string, err error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	msg, _ := json.Marshal(map[string]string{"Subject": uploadSubject, "Content": "File " + name + " attached by Lockstep.", "ContentType": "text/plain"})
	if err := w.WriteField("JSON", string(msg)); err != nil {
		return nil, nil, "", fmt.Errorf("frame the upload: %w", err)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="Attachments"; filename="`+quoteEscaper.Replace(name)+`"`)
	h.Set("Content-Type", contentType)
	if _, err := w.CreatePart(h); err != nil {
		return nil, nil, "", fmt.Errorf("frame the upload: %w", err)
	}
	prefix = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := w.Close(); err != nil {
		return nil, nil, "", fmt.Errorf("frame the upload: %w", err)
	}
	return prefix, bytes.Clone(buf.Bytes()), w.Boundary(), nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")

// spool copies content of unknown length to a temporary file.
func spool(content io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "lockstep-rt-upload-*")
	if err != nil {
		return nil, 0, fmt.Errorf("spool the upload: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(content, maxSpool+1))
	if err == nil && n > maxSpool {
		err = fmt.Errorf("larger than %d bytes: %w", int64(maxSpool), connector.ErrInvalid)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, fmt.Errorf("spool the upload: %w", err)
	}
	return f, n, nil
}
