package support

import (
	"context"
	"crypto/rand"
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

	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// Manager defaults.
const (
	DefaultRetention     = 24 * time.Hour
	DefaultMaxKept       = 3
	DefaultSweepInterval = 10 * time.Minute
)

// Options configure a Manager.
type Options struct {
	// Dir holds the packages while they are built and kept; it is created
	// 0700 and must be the Manager's alone: leftovers of an earlier run
	// (support-*.zip, .support-*.zip.partial) are deleted at start.
	Dir     string
	Sources Sources
	// Retention is how long a finished package is kept (DefaultRetention
	// if zero); SetRetention changes it later.
	Retention time.Duration
	// MaxKept bounds the finished packages on disk (DefaultMaxKept if
	// zero); the oldest goes first. Packages hold whole log files, so a
	// bound on their number is a bound on disk use.
	MaxKept int
	// SweepInterval is how often Serve looks for expired packages.
	SweepInterval time.Duration
	// Now is the clock for retention (time.Now if nil); also the manifest's
	// clock when Sources.Now is nil.
	Now func() time.Time
	// Progress hears of each finished part and of the end of a build. It is
	// called on the build's goroutine and must not block.
	Progress func(apitype.SupportProgress)
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

// Manager runs support package builds as jobs (support.create, .status,
// .download): one build at a time, in the background, kept for a retention
// period and downloaded in chunks.
type Manager struct {
	dir      string
	src      Sources
	now      func() time.Time
	progress func(apitype.SupportProgress)
	maxKept  int
	interval time.Duration

	ctx    context.Context // ends running builds on Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	retention time.Duration
	jobs      map[string]*job
	running   string   // id of the build in progress, or ""
	orphans   []string // files a removal failed on (Windows: open for a download)
	closed    bool
}

// NewManager prepares dir and returns a Manager.
func NewManager(o Options) (*Manager, error) {
	if o.Dir == "" {
		return nil, errors.New("create support manager: no directory given")
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create support directory: %w", err)
	}
	m := &Manager{
		dir:       o.Dir,
		src:       o.Sources,
		now:       o.Now,
		progress:  o.Progress,
		maxKept:   o.MaxKept,
		interval:  o.SweepInterval,
		retention: o.Retention,
		jobs:      map[string]*job{},
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.src.Now == nil {
		m.src.Now = m.now
	}
	if m.maxKept <= 0 {
		m.maxKept = DefaultMaxKept
	}
	if m.interval <= 0 {
		m.interval = DefaultSweepInterval
	}
	if m.retention <= 0 {
		m.retention = DefaultRetention
	}
	// Jobs live in memory, so packages of an earlier run can never be
	// downloaded: they are only customer data lying around.
	if err := m.removeLeftovers(); err != nil {
		return nil, err
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

func (m *Manager) removeLeftovers() error {
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return fmt.Errorf("list support directory: %w", err)
	}
	var errs []error
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !(isPackageName(n) || (strings.HasPrefix(n, ".support-") && strings.HasSuffix(n, ".zip.partial"))) {
			continue
		}
		if err := os.Remove(filepath.Join(m.dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove old support package: %w", err))
		}
	}
	return errors.Join(errs...)
}

func isPackageName(n string) bool {
	id, ok := strings.CutPrefix(n, "support-")
	if !ok {
		return false
	}
	id, ok = strings.CutSuffix(id, ".zip")
	if !ok || len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// SetRetention changes how long finished packages are kept (settings'
// supportRetentionHours); zero or less restores DefaultRetention. It applies
// to packages already built too, at the next sweep.
func (m *Manager) SetRetention(d time.Duration) {
	if d <= 0 {
		d = DefaultRetention
	}
	m.mu.Lock()
	m.retention = d
	m.mu.Unlock()
}

// Create starts a build and returns its id (128 random bits, hex). The
// build does not belong to ctx, which is the request's: it runs until done
// or until Close. While a build runs, Create returns that build's id rather
// than an error: a second click on "create" joins the build in progress,
// and there is never more than one build reading the logs and the store.
func (m *Manager) Create(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("create support package: %w", err)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return "", ErrClosed
	}
	if m.running != "" {
		id := m.running
		m.mu.Unlock()
		return id, nil
	}
	id := newID()
	j := &job{id: id, state: apitype.SupportRunning, path: filepath.Join(m.dir, "support-"+id+".zip")}
	m.jobs[id] = j
	m.running = id
	m.wg.Add(1)
	m.mu.Unlock()

	m.emit(apitype.SupportProgress{ID: id, State: apitype.SupportRunning})
	go m.run(j)
	return id, nil
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program first)
	return hex.EncodeToString(b)
}

func (m *Manager) run(j *job) {
	defer m.wg.Done()
	var (
		res fileResult
		err error
	)
	func() {
		// A bug in the builder must fail this job, not the agent.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("build support package: panicked: %v", r)
			}
		}()
		_, res, err = buildToFile(m.ctx, m.dir, j.path, m.src, func(part string, percent int) {
			m.mu.Lock()
			j.percent = percent
			m.mu.Unlock()
			m.emit(apitype.SupportProgress{ID: j.id, State: apitype.SupportRunning, Part: part, Percent: percent})
		})
	}()
	m.finish(j, res, err)
}

// statusScrubber scrubs job error messages, which reach the desktop app.
var statusScrubber = NewScrubber(nil)

func (m *Manager) finish(j *job, res fileResult, err error) {
	m.mu.Lock()
	j.finished = m.now()
	if err != nil {
		j.state, j.errMsg = apitype.SupportFailed, statusScrubber.Scrub(err.Error())
	} else {
		j.state, j.size, j.sha256, j.percent = apitype.SupportReady, res.size, res.sha256, 100
	}
	m.running = ""
	evicted := m.evictLocked()
	ev := apitype.SupportProgress{ID: j.id, State: j.state, Percent: j.percent}
	closed := m.closed
	m.mu.Unlock()

	m.removeFiles(evicted)
	if !closed { // after Close nobody listens, and the bus may be gone
		m.emit(ev)
	}
}

// evictLocked drops the oldest finished jobs beyond maxKept and returns
// their files.
func (m *Manager) evictLocked() []string {
	var done []*job
	for _, j := range m.jobs {
		if j.state != apitype.SupportRunning {
			done = append(done, j)
		}
	}
	if len(done) <= m.maxKept {
		return nil
	}
	slices.SortFunc(done, func(a, b *job) int { return a.finished.Compare(b.finished) })
	var paths []string
	for _, j := range done[:len(done)-m.maxKept] {
		delete(m.jobs, j.id)
		if j.state == apitype.SupportReady {
			paths = append(paths, j.path)
		}
	}
	return paths
}

// removeFiles deletes package files; one that cannot go now (on Windows, a
// file open for a download) is retried at the next sweep.
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

func (m *Manager) emit(ev apitype.SupportProgress) {
	if m.progress != nil {
		m.progress(ev)
	}
}

// Status describes a job: running, ready with the zip's size and SHA-256,
// or failed with the reason.
func (m *Manager) Status(id string) (apitype.SupportStatusResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return apitype.SupportStatusResult{}, ErrNotFound
	}
	r := apitype.SupportStatusResult{ID: j.id, State: j.state, Error: j.errMsg}
	if j.state == apitype.SupportReady {
		r.Size, r.SHA256 = j.size, j.sha256
	}
	return r, nil
}

// Read returns up to length bytes of a ready package from offset, and
// whether they reach its end. length must be 1..protocol.MaxDownloadChunk
// and offset 0..size; offset == size returns no data and eof. Each call
// opens the file on its own, so downloads need no session state and a
// package removed meanwhile reads as ErrNotFound.
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
		return nil, false, ErrNotFound
	case state != apitype.SupportReady:
		return nil, false, fmt.Errorf("read support package %s: %w (%s)", id, ErrNotReady, state)
	case offset > size:
		return nil, false, &InvalidError{Field: "offset", Reason: fmt.Sprintf("beyond the end of the package (%d bytes)", size)}
	}
	f, err := openShared(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, ErrNotFound
	}
	if err != nil {
		return nil, false, fmt.Errorf("open support package: %w", err)
	}
	defer f.Close()
	n := int(min(int64(length), size-offset))
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, offset); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return nil, false, fmt.Errorf("read support package: %w", err)
	}
	return buf, offset+int64(n) >= size, nil
}

// Sweep removes finished packages older than the retention period and
// retries removals that failed before. It returns how many jobs it removed.
func (m *Manager) Sweep() int {
	now := m.now()
	m.mu.Lock()
	var paths []string
	removed := 0
	for id, j := range m.jobs {
		if j.state == apitype.SupportRunning || now.Sub(j.finished) < m.retention {
			continue
		}
		delete(m.jobs, id)
		removed++
		if j.state == apitype.SupportReady {
			paths = append(paths, j.path)
		}
	}
	paths = append(paths, m.orphans...)
	m.orphans = nil
	m.mu.Unlock()
	m.removeFiles(paths)
	return removed
}

// Serve sweeps expired packages every SweepInterval until ctx ends.
func (m *Manager) Serve(ctx context.Context) error {
	t := time.NewTicker(m.interval)
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

// Close cancels a running build, waits for it, and removes every package.
// Later calls of Create return ErrClosed. It is safe to call more than once.
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
			errs = append(errs, fmt.Errorf("remove support package: %w", err))
		}
	}
	return errors.Join(errs...)
}
