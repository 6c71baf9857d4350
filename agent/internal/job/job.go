// Package job runs the agent's long operations that produce a file (support
// packages, backups): one at a time, in the background, with progress
// events, kept for a retention period and downloaded in chunks, so no
// request waits for the work and no request carries the whole file.
package job

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Defaults.
const (
	DefaultRetention     = 24 * time.Hour
	DefaultMaxKept       = 3
	DefaultSweepInterval = 10 * time.Minute
)

// Job states, as the wire names them.
const (
	Running = apitype.SupportRunning
	Ready   = apitype.SupportReady
	Failed  = apitype.SupportFailed
)

// Errors of the job API, each of a fault kind; each is returned wrapped
// with the job's noun.
var (
	ErrNotFound = fault.New(fault.ErrNotFound, "not found")
	ErrNotReady = fault.New(fault.ErrConflict, "not ready")
	ErrBusy     = fault.New(fault.ErrConflict, "already running")
	ErrClosed   = fault.New(fault.ErrUnavailable, "stopped: the agent is shutting down")
	ErrInvalid  = fault.New(fault.ErrInvalid, "invalid request")
)

// InvalidError is a bad request parameter; Field names it as the protocol
// does (offset, length). It matches ErrInvalid (and fault.ErrInvalid) with
// errors.Is, and is a fault.Input.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return "invalid " + e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// InvalidField implements fault.Input.
func (e *InvalidError) InvalidField() string { return e.Field }

// Progress is one progress event.
type Progress struct {
	ID      string
	State   string
	Part    string
	Percent int
}

// Build writes a job's file to w; progress reports the part just finished
// and the percent done (below 100: the manager sends 100 when the file is
// in place).
type Build func(ctx context.Context, w io.Writer, progress func(part string, percent int)) error

// Options configure a Manager.
type Options struct {
	// Dir holds the files while they are built and kept; it is created
	// 0700 and must be the Manager's alone: leftovers of an earlier run
	// (<Name>-<id><Ext>, .<Name>-*<Ext>.partial) are deleted at start.
	Dir string
	// Name prefixes the files ("support"); Ext ends them (".zip").
	Name, Ext string
	// Noun names a job in messages ("support package").
	Noun string
	// Retention is how long a finished file is kept (DefaultRetention if
	// zero); SetRetention changes it later.
	Retention time.Duration
	// MaxKept bounds the finished files on disk (DefaultMaxKept if zero);
	// the oldest goes first.
	MaxKept int
	// SweepInterval is how often Serve looks for expired files.
	SweepInterval time.Duration
	// Now is the clock for retention (time.Now if nil).
	Now func() time.Time
	// Progress hears of each step and of the end of a job. It is called on
	// the job's goroutine and must not block.
	Progress func(Progress)
	// Scrub cleans failure messages, which reach clients (nil: as they are).
	Scrub func(string) string
}

type job struct {
	id       string
	state    string
	errMsg   string
	path     string
	size     int64
	sha256   string
	percent  int
	finished time.Time
}

// Manager runs jobs.
type Manager struct {
	o         Options
	ctx       context.Context // ends running jobs on Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	mu        sync.Mutex
	jobs      map[string]*job
	running   string   // id of the job in progress, or ""
	orphans   []string // files a removal failed on (Windows: open for a download)
	closed    bool
	retention time.Duration
}

// New prepares the directory and returns a Manager.
func New(o Options) (*Manager, error) {
	if o.Dir == "" || o.Name == "" || o.Noun == "" {
		return nil, errors.New("create job manager: directory, name and noun are required")
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s directory: %w", o.Noun, err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxKept <= 0 {
		o.MaxKept = DefaultMaxKept
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = DefaultSweepInterval
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Scrub == nil {
		o.Scrub = func(s string) string { return s }
	}
	m := &Manager{o: o, jobs: map[string]*job{}, retention: o.Retention}
	// Jobs live in memory, so files of an earlier run can never be
	// downloaded: they are only customer data lying around.
	if err := m.removeLeftovers(); err != nil {
		return nil, err
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

func (m *Manager) removeLeftovers() error {
	entries, err := os.ReadDir(m.o.Dir)
	if err != nil {
		return fmt.Errorf("list %s directory: %w", m.o.Noun, err)
	}
	var errs []error
	for _, e := range entries {
		n := e.Name()
		partial := strings.HasPrefix(n, "."+m.o.Name+"-") && strings.HasSuffix(n, m.o.Ext+".partial")
		if e.IsDir() || !(m.isFileName(n) || partial) {
			continue
		}
		if err := os.Remove(filepath.Join(m.o.Dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove old %s: %w", m.o.Noun, err))
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) isFileName(n string) bool {
	id, ok := strings.CutPrefix(n, m.o.Name+"-")
	if !ok {
		return false
	}
	id, ok = strings.CutSuffix(id, m.o.Ext)
	if !ok || len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// SetRetention changes how long finished files are kept; zero or less
// restores DefaultRetention. It applies to files already built too, at
// the next sweep.
func (m *Manager) SetRetention(d time.Duration) {
	if d <= 0 {
		d = DefaultRetention
	}
	m.mu.Lock()
	m.retention = d
	m.mu.Unlock()
}

// Start runs build as a new job and returns its id (128 random bits, hex).
// The job does not belong to ctx, which is the request's: it runs until
// done or until Close. While a job runs, Start joins it (returns its id)
// when join is set, and fails with ErrBusy otherwise: there is never more
// than one job of a manager at a time.
func (m *Manager) Start(ctx context.Context, build Build, join bool) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("create %s: %w", m.o.Noun, err)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return "", fmt.Errorf("%s manager %w", m.o.Noun, ErrClosed)
	}
	if m.running != "" {
		id := m.running
		m.mu.Unlock()
		if join {
			return id, nil
		}
		return "", fmt.Errorf("a %s is %w (%s): wait for it to finish", m.o.Noun, ErrBusy, id)
	}
	id := newID()
	j := &job{id: id, state: Running, path: filepath.Join(m.o.Dir, m.o.Name+"-"+id+m.o.Ext)}
	m.jobs[id] = j
	m.running = id
	m.wg.Add(1)
	m.mu.Unlock()

	m.emit(Progress{ID: id, State: Running})
	go m.run(j, build)
	return id, nil
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program first)
	return hex.EncodeToString(b)
}

func (m *Manager) run(j *job, build Build) {
	defer m.wg.Done()
	var (
		res Result
		err error
	)
	func() {
		// A bug in a builder must fail this job, not the agent.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("build %s: panicked: %v", m.o.Noun, r)
			}
		}()
		res, err = WriteFile(m.ctx, j.path, "."+m.o.Name+"-*"+m.o.Ext+".partial", func(ctx context.Context, w io.Writer) error {
			return build(ctx, w, func(part string, percent int) {
				percent = min(percent, 99)
				m.mu.Lock()
				j.percent = percent
				m.mu.Unlock()
				m.emit(Progress{ID: j.id, State: Running, Part: part, Percent: percent})
			})
		})
	}()
	m.finish(j, res, err)
}

func (m *Manager) finish(j *job, res Result, err error) {
	m.mu.Lock()
	j.finished = m.o.Now()
	if err != nil {
		j.state, j.errMsg = Failed, m.o.Scrub(err.Error())
	} else {
		j.state, j.size, j.sha256, j.percent = Ready, res.Size, res.SHA256, 100
	}
	m.running = ""
	evicted := m.evictLocked()
	ev := Progress{ID: j.id, State: j.state, Percent: j.percent}
	closed := m.closed
	m.mu.Unlock()

	m.removeFiles(evicted)
	if !closed { // after Close nobody listens, and the bus may be gone
		m.emit(ev)
	}
}

// evictLocked drops the oldest finished jobs beyond MaxKept and returns
// their files.
func (m *Manager) evictLocked() []string {
	var done []*job
	for _, j := range m.jobs {
		if j.state != Running {
			done = append(done, j)
		}
	}
	if len(done) <= m.o.MaxKept {
		return nil
	}
	slices.SortFunc(done, func(a, b *job) int { return a.finished.Compare(b.finished) })
	var paths []string
	for _, j := range done[:len(done)-m.o.MaxKept] {
		delete(m.jobs, j.id)
		if j.state == Ready {
			paths = append(paths, j.path)
		}
	}
	return paths
}

// removeFiles deletes files; one that cannot go now (on Windows, a file
// open for a download) is retried at the next sweep.
func (m *Manager) removeFiles(paths []string) {
	var failed []string
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			failed = append(failed, p)
		}
	}
	if len(failed) > 0 {
		m.mu.Lock()
		m.orphans = append(m.orphans, failed...)
		m.mu.Unlock()
	}
}

func (m *Manager) emit(p Progress) {
	if m.o.Progress != nil {
		m.o.Progress(p)
	}
}

// Status describes a job: running, ready with the file's size and SHA-256,
// or failed with the reason.
func (m *Manager) Status(id string) (apitype.SupportStatusResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return apitype.SupportStatusResult{}, m.notFound()
	}
	r := apitype.SupportStatusResult{ID: j.id, State: j.state, Error: j.errMsg}
	if j.state == Ready {
		r.Size, r.SHA256 = j.size, j.sha256
	}
	return r, nil
}

func (m *Manager) notFound() error { return fmt.Errorf("%s %w", m.o.Noun, ErrNotFound) }

// Read returns up to length bytes of a ready file from offset, and whether
// they reach its end. length must be 1..protocol.MaxDownloadChunk and
// offset 0..size; offset == size returns no data and eof. Each call opens
// the file on its own, so downloads need no session state and a file
// removed meanwhile reads as ErrNotFound.
func (m *Manager) Read(id string, offset int64, length int) ([]byte, bool, error) {
	if length <= 0 || length > protocol.MaxDownloadChunk {
		return nil, false, &InvalidError{Field: "length", Reason: fmt.Sprintf("must be between 1 and %d", protocol.MaxDownloadChunk)}
	}
	if offset < 0 {
		return nil, false, &InvalidError{Field: "offset", Reason: "must not be negative"}
	}
	m.mu.Lock()
	j, ok := m.jobs[id]
	var path, state string
	var size int64
	if ok {
		path, state, size = j.path, j.state, j.size
	}
	m.mu.Unlock()
	switch {
	case !ok:
		return nil, false, m.notFound()
	case state != Ready:
		return nil, false, fmt.Errorf("read %s %s: %w (%s)", m.o.Noun, id, ErrNotReady, state)
	case offset > size:
		return nil, false, &InvalidError{Field: "offset", Reason: fmt.Sprintf("beyond the end of the %s (%d bytes)", m.o.Noun, size)}
	}
	f, err := OpenShared(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, m.notFound()
	}
	if err != nil {
		return nil, false, fmt.Errorf("open %s: %w", m.o.Noun, err)
	}
	defer f.Close()
	n := int(min(int64(length), size-offset))
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, offset); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return nil, false, fmt.Errorf("read %s: %w", m.o.Noun, err)
	}
	return buf, offset+int64(n) >= size, nil
}

// Sweep removes finished files older than the retention period and
// retries removals that failed before. It returns how many jobs it removed.
func (m *Manager) Sweep() int {
	now := m.o.Now()
	m.mu.Lock()
	var paths []string
	removed := 0
	for id, j := range m.jobs {
		if j.state == Running || now.Sub(j.finished) < m.retention {
			continue
		}
		delete(m.jobs, id)
		removed++
		if j.state == Ready {
			paths = append(paths, j.path)
		}
	}
	paths = append(paths, m.orphans...)
	m.orphans = nil
	m.mu.Unlock()
	m.removeFiles(paths)
	return removed
}

// Serve sweeps expired files every SweepInterval until ctx ends.
func (m *Manager) Serve(ctx context.Context) error {
	t := time.NewTicker(m.o.SweepInterval)
	defer t.Stop()
	for {
		m.Sweep()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Close cancels a running job, waits for it, and removes every file. Later
// calls of Start return ErrClosed. It is safe to call more than once.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()

	m.mu.Lock()
	paths := m.orphans
	for _, j := range m.jobs {
		paths = append(paths, j.path)
	}
	m.jobs, m.orphans = map[string]*job{}, nil
	m.mu.Unlock()
	var errs []error
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s: %w", m.o.Noun, err))
		}
	}
	return errors.Join(errs...)
}

// Result is what a written file is known by.
type Result struct {
	Size   int64
	SHA256 string
}

// WriteFile writes a file through write into a 0600 temporary file beside
// path (named by the pattern, as os.CreateTemp takes it), syncs it, and
// renames it to path: a reader never sees a half-written file, and a
// failed write leaves nothing behind. CreateTemp's mode is 0600 whatever
// the umask, so the file is never readable by others, not even while it is
// written.
func WriteFile(ctx context.Context, path, pattern string, write func(context.Context, io.Writer) error) (Result, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), pattern)
	if err != nil {
		return Result{}, fmt.Errorf("create temporary file: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	cw := &CountWriter{W: io.MultiWriter(tmp, h)}
	if err := write(ctx, cw); err != nil {
		return Result{}, err
	}
	if err := tmp.Sync(); err != nil {
		return Result{}, fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return Result{}, fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Result{}, fmt.Errorf("move %s into place: %w", filepath.Base(path), err)
	}
	ok = true
	return Result{Size: cw.N, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// CountWriter counts the bytes written through it to W.
type CountWriter struct {
	W io.Writer
	N int64
}

func (c *CountWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}
