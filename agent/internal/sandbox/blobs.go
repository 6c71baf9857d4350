package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// blobStore keeps attachment content: in memory for tests, or one file per
// attachment in a directory beside the data file.
type blobStore interface {
	// put stores content under id and returns its size; more than limit
	// bytes is refused with a too_large *Error and nothing is kept.
	put(id int64, content io.Reader, limit int64) (int64, *Error)
	open(id int64) (io.ReadSeekCloser, error)
	// remove drops an attachment's content (gone already is fine).
	remove(id int64)
}

type memBlobs struct {
	mu   sync.RWMutex
	data map[int64][]byte
}

func newMemBlobs() *memBlobs { return &memBlobs{data: map[int64][]byte{}} }

func (m *memBlobs) put(id int64, content io.Reader, limit int64) (int64, *Error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(content, limit+1))
	if err != nil {
		return 0, readError(err)
	}
	if n > limit {
		return 0, tooLarge("attachments are limited to %d bytes", limit)
	}
	m.mu.Lock()
	m.data[id] = buf.Bytes()
	m.mu.Unlock()
	return n, nil
}

type memReader struct{ *bytes.Reader }

func (memReader) Close() error { return nil }

func (m *memBlobs) open(id int64) (io.ReadSeekCloser, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, ok := m.data[id]
	if !ok {
		return nil, notFound("content of attachment %d not found", id)
	}
	return memReader{bytes.NewReader(b)}, nil
}

func (m *memBlobs) remove(id int64) {
	m.mu.Lock()
	delete(m.data, id)
	m.mu.Unlock()
}

type dirBlobs struct{ dir string }

func (d *dirBlobs) remove(id int64) { _ = os.Remove(d.path(id)) } // a leftover file is only wasted space

func newDirBlobs(dir string) (*dirBlobs, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create attachment directory: %w", err)
	}
	return &dirBlobs{dir: dir}, nil
}

func (d *dirBlobs) path(id int64) string { return filepath.Join(d.dir, strconv.FormatInt(id, 10)) }

// put writes to a temporary file and renames it into place, so a failed or
// oversized upload never leaves a partial attachment behind.
func (d *dirBlobs) put(id int64, content io.Reader, limit int64) (int64, *Error) {
	f, err := os.CreateTemp(d.dir, ".upload-*")
	if err != nil {
		return 0, internal("store attachment: %v", err)
	}
	n, err := io.Copy(f, io.LimitReader(content, limit+1))
	if err == nil {
		err = f.Close()
	} else {
		f.Close()
	}
	switch {
	case err != nil:
		os.Remove(f.Name())
		return 0, readError(err)
	case n > limit:
		os.Remove(f.Name())
		return 0, tooLarge("attachments are limited to %d bytes", limit)
	}
	if err := os.Rename(f.Name(), d.path(id)); err != nil {
		os.Remove(f.Name())
		return 0, internal("store attachment: %v", err)
	}
	return n, nil
}

func (d *dirBlobs) open(id int64) (io.ReadSeekCloser, error) {
	f, err := os.Open(d.path(id))
	if os.IsNotExist(err) {
		return nil, notFound("content of attachment %d not found", id)
	}
	if err != nil {
		return nil, internal("open attachment: %v", err)
	}
	return f, nil
}

// readError is an upload that broke off: the request body failed, which is
// the client's doing (or a body over the server's limit).
func readError(err error) *Error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge("request body is too large")
	}
	return invalid("body", "reading the upload failed: %v", err)
}
