package httpx

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
)

// WithFile returns r carrying content as the one part of a
// multipart/form-data body: form field field, file name name. The body is
// built around content without buffering it; with size >= 0 its length is
// known, else it is sent chunked. It can be sent again on a retry only if
// content can seek back. r's header is copied, not changed.
func (r Request) WithFile(field, name, contentType string, size int64, content io.Reader) (Request, error) {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, quoteEscaper.Replace(field), quoteEscaper.Replace(name)))
	h.Set("Content-Type", contentType)
	if _, err := mw.CreatePart(h); err != nil {
		return r, fmt.Errorf("frame file %s: %w", name, err)
	}
	headBytes := bytes.Clone(head.Bytes())
	head.Reset()
	if err := mw.Close(); err != nil {
		return r, fmt.Errorf("frame file %s: %w", name, err)
	}
	tail := head.String() // Close writes the CRLF that ends the part
	r.Header = r.Header.Clone()
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.ContentLength = 0
	if size >= 0 {
		r.ContentLength = int64(len(headBytes)) + size + int64(len(tail))
	}
	r.Body, r.GetBody = nil, nil
	if rs, ok := content.(io.ReadSeeker); ok {
		if start, err := rs.Seek(0, io.SeekCurrent); err == nil {
			r.GetBody = func() (io.ReadCloser, error) {
				if _, err := rs.Seek(start, io.SeekStart); err != nil {
					return nil, err
				}
				return io.NopCloser(io.MultiReader(bytes.NewReader(headBytes), rs, strings.NewReader(tail))), nil
			}
		}
	}
	if r.GetBody == nil {
		r.Body = io.MultiReader(bytes.NewReader(headBytes), content, strings.NewReader(tail))
	}
	return r, nil
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", " ", "\n", " ")
