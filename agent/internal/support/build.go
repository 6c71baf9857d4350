package support

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/job"
)

// Build writes a support package to w as a zip and returns its manifest.
// Collector failures are recorded in the manifest and are not errors; an
// error means the package could not be written (w failed, ctx ended) and
// what reached w is not a usable package.
func Build(ctx context.Context, w io.Writer, src Sources) (Manifest, error) {
	return build(ctx, w, src, nil)
}

// BuildFile builds a package into the file at path, for the command line
// when the agent is down. The package is written to a 0600 temporary file in
// the same directory and renamed into place when complete, so path never
// holds a partial package. An existing file is replaced only when overwrite
// is set; otherwise the name is reserved up front (O_EXCL), and a crash
// while building can leave that empty reservation behind.
func BuildFile(ctx context.Context, path string, src Sources, overwrite bool) (Manifest, error) {
	if !overwrite {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return Manifest{}, fmt.Errorf("create support package: %w", err)
		}
		if err := f.Close(); err != nil {
			_ = os.Remove(path)
			return Manifest{}, fmt.Errorf("create support package: %w", err)
		}
	}
	var m Manifest
	_, err := job.WriteFile(ctx, path, ".support-*.zip.partial", func(ctx context.Context, w io.Writer) error {
		var err error
		m, err = build(ctx, w, src, nil)
		return err
	})
	if err != nil && !overwrite {
		_ = os.Remove(path) // our empty reservation
	}
	return m, err
}

// progressFunc hears of each part as it is finished; percent stays below
// 100 until the whole package is done.
type progressFunc func(part string, percent int)

type builder struct {
	ctx      context.Context
	src      Sources
	sc       *Scrubber
	zw       *zip.Writer
	created  time.Time
	parts    []Part
	names    map[string]bool
	done     int
	total    int
	progress progressFunc
}

func build(ctx context.Context, w io.Writer, src Sources, progress progressFunc) (Manifest, error) {
	m := Manifest{FormatVersion: FormatVersion, CreatedAt: src.now().UTC()}
	m.Scrub.RulesVersion = RulesVersion

	var secrets []string
	var secretsErr error
	if src.KnownSecrets != nil {
		secrets, secretsErr = collect(ctx, src.timeout(), src.KnownSecrets)
	}
	b := &builder{
		ctx:      ctx,
		src:      src,
		sc:       NewScrubber(secrets),
		zw:       zip.NewWriter(w),
		created:  m.CreatedAt,
		names:    map[string]bool{},
		progress: progress,
	}
	secrets = nil // the scrubber holds its own copy; keep no other
	if secretsErr != nil {
		m.Scrub.KnownSecretsError = b.sc.Scrub(secretsErr.Error())
	}
	m.AgentVersion = b.sc.Scrub(src.AgentVersion)
	m.InstanceID = b.sc.Scrub(src.InstanceID)

	var logFiles []string
	var logFilesErr error
	if src.LogFiles != nil {
		logFiles, logFilesErr = safeCall(src.LogFiles)
	}
	// 5 value parts, audit, ring, the log files (or their one error or
	// skipped entry) and the manifest.
	logSteps := len(logFiles)
	if src.LogFiles == nil || logFilesErr != nil {
		logSteps = 1
	}
	b.total = 5 + 2 + logSteps + 1

	steps := []func() error{
		func() error { return b.valuePart(PartHost, src.Host, nil) },
		func() error { return b.valuePart(PartSystems, src.Systems, nil) },
		func() error { return b.valuePart(PartAccounts, src.Accounts, isAccountDrop) },
		func() error { return b.valuePart(PartOperational, src.Operational, nil) },
		func() error { return b.valuePart(PartSettings, src.Settings, nil) },
		b.auditPart,
		b.ringPart,
		func() error { return b.logFileParts(src.LogFiles != nil, logFiles, logFilesErr) },
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return Manifest{}, fmt.Errorf("build support package: %w", err)
		}
		if err := step(); err != nil {
			return Manifest{}, fmt.Errorf("build support package: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return Manifest{}, fmt.Errorf("build support package: %w", err)
	}

	m.Parts = b.parts
	m.Scrub.KnownSecrets = b.sc.KnownSecrets()
	m.Scrub.Redactions = b.sc.Counts()
	// The manifest is ours: every string in it was scrubbed on the way in,
	// and it is written as is (the rule names in it are themselves words
	// the line scrubber would take for keys of secrets).
	if _, err := b.write(PartManifest, false, func(w io.Writer) error { return encodeIndented(w, m) }); err != nil {
		return Manifest{}, fmt.Errorf("build support package: %w", err)
	}
	b.step(PartManifest)
	if err := b.zw.Close(); err != nil {
		return Manifest{}, fmt.Errorf("finish support package zip: %w", err)
	}
	return m, nil
}

// step counts a finished part and reports progress.
func (b *builder) step(name string) {
	b.done++
	if b.progress != nil {
		b.progress(name, min(99, b.done*100/b.total))
	}
}

func (b *builder) record(p Part) {
	b.parts = append(b.parts, p)
	b.step(p.Name)
}

func (b *builder) failed(name string, err error) Part {
	return Part{Name: name, Status: StatusError, Error: b.sc.Scrub(err.Error())}
}

// sink is the end of a part's pipeline: the zip entry, hashed and counted.
// It keeps the first write error, which is fatal to the build, apart from
// the collector's own errors, which are not.
type sink struct {
	w   io.Writer
	h   hash.Hash
	n   int64
	err error
}

func (s *sink) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	if err != nil {
		s.err = err
	}
	return n, err
}

// write adds the zip entry name and fills it. Text parts (scrubLines) pass
// the line scrubber; structured parts were cleaned value by value before
// encoding, because the line scrubber would break multi-line JSON apart.
// The returned Part has the content's hash and size; fill's error makes
// its status "error". The error return is for a failed write only.
func (b *builder) write(name string, scrubLines bool, fill func(w io.Writer) error) (Part, error) {
	hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: b.created}
	hdr.SetMode(0o600)
	zf, err := b.zw.CreateHeader(hdr)
	if err != nil {
		return Part{}, fmt.Errorf("add %s to the zip: %w", name, err)
	}
	s := &sink{w: zf, h: sha256.New()}
	var fillErr error
	if scrubLines {
		lw := b.sc.NewWriter(s)
		fillErr = fill(lw)
		_ = lw.Close() // its only errors are the sink's, checked below
	} else {
		fillErr = fill(s)
	}
	if s.err != nil {
		return Part{}, fmt.Errorf("write %s: %w", name, s.err)
	}
	p := Part{Name: name, Status: StatusOK, Size: s.n, SHA256: hex.EncodeToString(s.h.Sum(nil))}
	if fillErr != nil {
		p.Status, p.Error = StatusError, b.sc.Scrub(fillErr.Error())
	}
	return p, nil
}

func encodeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// valuePart collects one value, cleans it and writes it as indented JSON.
// A failed collector leaves no file, only its manifest entry.
func (b *builder) valuePart(name string, f func(context.Context) (any, error), drop func(string) bool) error {
	if f == nil {
		b.record(Part{Name: name, Status: StatusSkipped})
		return nil
	}
	v, err := collect(b.ctx, b.src.timeout(), f)
	var clean any
	if err == nil {
		clean, err = cleaner{sc: b.sc, drop: drop}.cleanJSON(v)
	}
	if err != nil {
		b.record(b.failed(name, err))
		return nil
	}
	p, err := b.write(name, false, func(w io.Writer) error { return encodeIndented(w, clean) })
	if err != nil {
		return err
	}
	b.record(p)
	return nil
}

// errAbandoned answers an emit after its collector's time ran out.
var errAbandoned = errors.New("emit audit record: the collector's time ran out")

// auditPart streams the audit trail into audit.jsonl, one cleaned record
// per line. The collector runs on its own goroutine so that one that hangs
// can be abandoned at the timeout; emit and the builder share a mutex, so
// after abandonment the collector can no longer touch the zip.
func (b *builder) auditPart() error {
	if b.src.Audit == nil {
		b.record(Part{Name: PartAudit, Status: StatusSkipped})
		return nil
	}
	p, err := b.write(PartAudit, false, func(w io.Writer) error {
		ctx, cancel := context.WithTimeout(b.ctx, b.src.timeout())
		defer cancel()
		var (
			mu        sync.Mutex
			abandoned bool
			line      bytes.Buffer
		)
		c := cleaner{sc: b.sc}
		emit := func(rec any) error {
			mu.Lock()
			defer mu.Unlock()
			if abandoned {
				return errAbandoned
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("emit audit record: %w", err)
			}
			v, err := c.cleanJSON(rec)
			if err != nil {
				return fmt.Errorf("emit audit record: %w", err)
			}
			line.Reset()
			enc := json.NewEncoder(&line)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v); err != nil { // Encode ends the line
				return fmt.Errorf("emit audit record: %w", err)
			}
			if _, err := w.Write(line.Bytes()); err != nil {
				return fmt.Errorf("emit audit record: %w", err)
			}
			return nil
		}
		done := make(chan error, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Errorf("audit collector panicked: %v", r)
				}
			}()
			done <- b.src.Audit(ctx, emit)
		}()
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			mu.Lock()
			abandoned = true
			mu.Unlock()
			select {
			case err := <-done: // it finished just in time
				return err
			default:
			}
			return timeoutError(b.ctx, ctx, b.src.timeout())
		}
	})
	if err != nil {
		return err
	}
	b.record(p)
	return nil
}

// ringPart writes the in-memory ring as logs/ring.jsonl.
func (b *builder) ringPart() error {
	if b.src.LogRing == nil {
		b.record(Part{Name: PartLogRing, Status: StatusSkipped})
		return nil
	}
	lines, err := safeCall(b.src.LogRing)
	if err != nil {
		b.record(b.failed(PartLogRing, err))
		return nil
	}
	p, err := b.write(PartLogRing, true, func(w io.Writer) error {
		for _, l := range lines {
			if _, err := w.Write(l); err != nil {
				return err
			}
			if !bytes.HasSuffix(l, []byte("\n")) {
				if _, err := w.Write([]byte("\n")); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	b.record(p)
	return nil
}

// logFileParts streams each log file through the scrubber into logs/.
func (b *builder) logFileParts(given bool, files []string, listErr error) error {
	switch {
	case !given:
		b.record(Part{Name: PartLogFiles, Status: StatusSkipped})
		return nil
	case listErr != nil:
		b.record(b.failed(PartLogFiles, listErr))
		return nil
	}
	for _, path := range files {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		if err := b.logFile(path); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) logFile(path string) error {
	name := b.uniqueName("logs/" + b.sc.Scrub(strings.TrimSuffix(filepath.Base(path), ".gz")))
	r, closeFn, err := openLog(path)
	if err != nil {
		b.record(b.failed(name, err))
		return nil
	}
	defer closeFn()
	p, err := b.write(name, true, func(w io.Writer) error {
		if _, err := io.Copy(w, ctxReader{b.ctx, r}); err != nil {
			return fmt.Errorf("read log file: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	b.record(p)
	return nil
}

// openLog opens a log file, decompressing a rotated ".gz" one: it has to be
// scrubbed as text, and the zip compresses it again anyway.
func openLog(path string) (io.Reader, func(), error) {
	f, err := job.OpenShared(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open log file: %w", err)
	}
	if !strings.HasSuffix(path, ".gz") {
		return f, func() { _ = f.Close() }, nil
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("decompress log file: %w", err)
	}
	return zr, func() { _ = zr.Close(); _ = f.Close() }, nil
}

// uniqueName keeps zip entries apart when two log files share a name
// (agent.log and agent.log.gz): agent.log, agent-2.log, ...
func (b *builder) uniqueName(name string) string {
	if !b.names[name] {
		b.names[name] = true
		return name
	}
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for i := 2; ; i++ {
		n := base + "-" + strconv.Itoa(i) + ext
		if !b.names[n] {
			b.names[n] = true
			return n
		}
	}
}

// ctxReader ends a long copy when the build is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// collect calls a collector on its own goroutine with a deadline, so that
// one that ignores its context cannot stall the build: at the deadline it is
// abandoned and its late result dropped. A panic becomes an error: a
// collector bug must not take the agent down with the support package.
func collect[T any](parent context.Context, timeout time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- result{err: fmt.Errorf("collector panicked: %v", r)}
			}
		}()
		v, err := f(ctx)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-ch: // it finished just in time
			return r.v, r.err
		default:
		}
		var zero T
		return zero, timeoutError(parent, ctx, timeout)
	}
}

func timeoutError(parent, ctx context.Context, timeout time.Duration) error {
	if parent.Err() != nil {
		return fmt.Errorf("collect: %w", parent.Err())
	}
	return fmt.Errorf("collector did not return within %s: %w", timeout, ctx.Err())
}

// safeCall runs an in-process lister, turning a panic into an error.
func safeCall[T any](f func() T) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("collector panicked: %v", r)
		}
	}()
	return f(), nil
}
