package logging

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/natefinch/lumberjack.v2"
)

// FileName is the active log file inside Options.Dir; lumberjack renames it
// to agent-<UTC time>.log[.gz] when it rotates.
const FileName = "agent.log"

// fileBufferSize is how much the file sink gathers before one write. A write
// system call per line would cost more than encoding the line; batching, and
// making the call from a goroutine of its own, keeps the file off the
// logging call's path.
const fileBufferSize = 64 << 10

// fileSink gathers whole lines in a buffer; a writer goroutine writes full
// buffers to lumberjack while the next one fills (two buffers, ping-pong).
// Buffered lines reach the file within FlushInterval. Error and more severe
// lines are written before the logging call returns, so the line explaining
// a crash is on disk before the crash. When the disk is slower than the
// logging, callers wait: file lines are never dropped.
type fileSink struct {
	lj       *lumberjack.Logger
	interval time.Duration
	full     chan []byte   // buffers for the writer goroutine; cap 1
	free     chan []byte   // buffers it has written; cap 1
	done     chan struct{} // closed when the writer goroutine exits

	mu     sync.Mutex
	cur    []byte      // the buffer being filled
	timer  *time.Timer // armed while cur holds lines
	closed bool

	errMu sync.Mutex
	err   error // first failed write since the last Flush or Close
}

func newFileSink(opts Options) (*fileSink, error) {
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	f := &fileSink{
		lj: &lumberjack.Logger{
			Filename:   filepath.Join(opts.Dir, FileName),
			MaxSize:    orDefault(opts.MaxSizeMB, DefaultMaxSizeMB),
			MaxBackups: orDefault(opts.MaxBackups, DefaultMaxBackups),
			MaxAge:     orDefault(opts.MaxAgeDays, DefaultMaxAgeDays),
			Compress:   opts.Compress,
		},
		interval: opts.FlushInterval,
		full:     make(chan []byte, 1),
		free:     make(chan []byte, 1),
		done:     make(chan struct{}),
		cur:      make([]byte, 0, fileBufferSize),
	}
	if f.interval <= 0 {
		f.interval = DefaultFlushInterval
	}
	// Open (or create, mode 0600) the file now so that a bad directory fails
	// New rather than the first log line.
	if _, err := f.lj.Write(nil); err != nil {
		return nil, fmt.Errorf("open log file: %w", err)
	}
	f.free <- make([]byte, 0, fileBufferSize)
	f.timer = time.AfterFunc(time.Hour, f.timedFlush)
	f.timer.Stop()
	go f.run()
	return f, nil
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// run is the writer goroutine.
func (f *fileSink) run() {
	defer close(f.done)
	for b := range f.full {
		if _, err := f.lj.Write(b); err != nil {
			// The lines are dropped: retrying would stall logging for as long
			// as the disk stays full.
			f.setErr(fmt.Errorf("write log file: %w", err))
		}
		f.free <- b[:0]
	}
}

// WriteLevel buffers one encoded line. A line is never split across two
// lumberjack writes, so rotation never cuts one in half.
func (f *fileSink) WriteLevel(level zerolog.Level, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	if len(f.cur)+len(p) > cap(f.cur) {
		f.handOffLocked()
	}
	if len(p) > cap(f.cur) {
		// Too big for a buffer: write it in order, after what is queued.
		f.waitIdleLocked()
		if _, err := f.lj.Write(p); err != nil {
			return fmt.Errorf("write log file: %w", err)
		}
		return nil
	}
	wasEmpty := len(f.cur) == 0
	f.cur = append(f.cur, p...)
	if level >= zerolog.ErrorLevel && level != zerolog.NoLevel {
		f.handOffLocked()
		f.waitIdleLocked()
		return f.takeErr()
	}
	if wasEmpty {
		f.timer.Reset(f.interval)
	}
	return nil
}

// handOffLocked passes the filled buffer to the writer goroutine, waiting
// for it to finish the previous one.
func (f *fileSink) handOffLocked() {
	if len(f.cur) == 0 {
		return
	}
	f.timer.Stop()
	next := <-f.free
	f.full <- f.cur
	f.cur = next
}

// waitIdleLocked waits until the writer goroutine has written everything
// handed to it.
func (f *fileSink) waitIdleLocked() {
	b := <-f.free
	f.free <- b
}

func (f *fileSink) timedFlush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.handOffLocked()
	}
}

// Flush writes the buffered lines and reports the first write failure since
// the last Flush, if any.
func (f *fileSink) Flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.handOffLocked()
	f.waitIdleLocked()
	return f.takeErr()
}

// Close flushes, stops the writer goroutine and closes the file. Later
// writes are dropped.
func (f *fileSink) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.handOffLocked()
	f.timer.Stop()
	f.closed = true
	close(f.full)
	<-f.done
	err := f.takeErr()
	if cerr := f.lj.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close log file: %w", cerr))
	}
	return err
}

// rotate forces a rotation; tests use it to build a set of backups.
func (f *fileSink) rotate() error {
	if err := f.Flush(); err != nil {
		return err
	}
	if err := f.lj.Rotate(); err != nil {
		return fmt.Errorf("rotate log file: %w", err)
	}
	return nil
}

func (f *fileSink) setErr(err error) {
	f.errMu.Lock()
	defer f.errMu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *fileSink) takeErr() error {
	f.errMu.Lock()
	defer f.errMu.Unlock()
	err := f.err
	f.err = nil
	return err
}
