package httpx

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// bodySource hands each attempt its request body and knows whether the
// body can be sent again.
type bodySource struct {
	get    func() (io.ReadCloser, error)
	r      io.Reader
	seeker io.Seeker
	offset int64
	prev   *trackedBody
}

func newBodySource(r Request) *bodySource {
	b := &bodySource{get: r.GetBody, r: r.Body}
	if b.r == http.NoBody {
		b.r = nil
	}
	if b.get == nil && r.Body != nil {
		if s, ok := r.Body.(io.Seeker); ok {
			if off, err := s.Seek(0, io.SeekCurrent); err == nil {
				b.seeker, b.offset = s, off
			}
		}
	}
	return b
}

func (b *bodySource) oneShot() bool { return b.get == nil && b.seeker == nil && b.r != nil }

func (b *bodySource) open() (*trackedBody, error) {
	var tb *trackedBody
	switch {
	case b.get != nil:
		rc, err := b.get()
		if err != nil {
			return nil, err
		}
		tb = &trackedBody{r: rc, closer: rc}
	case b.r != nil:
		tb = &trackedBody{r: b.r} // the caller owns it: never close it
	default:
		return nil, nil
	}
	tb.done = make(chan struct{})
	b.prev = tb
	return tb, nil
}

// closeWait bounds the wait for the transport to let go of a body.
const closeWait = 10 * time.Second

// rewind readies the body for another attempt and reports whether it can
// be sent again. The transport may still be reading the previous
// attempt's body after the response came, so rewinding first waits for it
// to close that body.
func (b *bodySource) rewind(ctx context.Context) bool {
	if b.get != nil || b.r == nil {
		return true
	}
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case <-b.prev.done:
	case <-ctx.Done():
		return false
	case <-t.C:
		return false
	}
	if b.seeker != nil {
		_, err := b.seeker.Seek(b.offset, io.SeekStart)
		return err == nil
	}
	return b.prev.n.Load() == 0
}

// trackedBody counts what the transport read, reports progress to the idle
// watchdog, and signals when the transport closed it.
type trackedBody struct {
	r      io.Reader
	closer io.Closer
	n      atomic.Int64
	touch  func()
	done   chan struct{}
	once   sync.Once
}

func (t *trackedBody) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.n.Add(int64(n))
	if t.touch != nil {
		t.touch()
	}
	return n, err
}

func (t *trackedBody) Close() error {
	var err error
	t.once.Do(func() {
		if t.closer != nil {
			err = t.closer.Close()
		}
		close(t.done)
	})
	return err
}

// streamBody is a response body under the idle watchdog: each read is
// progress; closing it ends the attempt's context.
type streamBody struct {
	rc     io.ReadCloser
	idle   *watchdog
	cancel context.CancelCauseFunc
}

func (s *streamBody) Read(p []byte) (int, error) {
	n, err := s.rc.Read(p)
	s.idle.touch()
	return n, err
}

func (s *streamBody) Close() error {
	s.idle.stop()
	err := s.rc.Close()
	s.cancel(nil)
	return err
}

// watchdog runs fire after d without a touch.
type watchdog struct {
	mu      sync.Mutex
	t       *time.Timer
	d       time.Duration
	stopped bool
}

func newWatchdog(d time.Duration, fire func()) *watchdog {
	return &watchdog{t: time.AfterFunc(d, fire), d: d}
}

func (w *watchdog) touch() {
	w.mu.Lock()
	if !w.stopped {
		w.t.Reset(w.d)
	}
	w.mu.Unlock()
}

func (w *watchdog) stop() {
	w.mu.Lock()
	w.stopped = true
	w.t.Stop()
	w.mu.Unlock()
}
