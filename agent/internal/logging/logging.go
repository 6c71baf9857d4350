// Package logging sets up the agent's zerolog loggers and their three sinks:
//
//   - a rotating JSON file, <Dir>/agent.log, kept by lumberjack (plus an
//     optional human console writer);
//   - a Ring of the most recent lines, for backlogs and support packages;
//   - a Tap that fans lines out to live subscribers without ever blocking the
//     writer: a subscriber whose bounded queue is full loses lines, and the
//     loss is counted and reported to it.
//
// Every line is one JSON object with the fields of PROTOCOL.md's LogLine:
// level, component, time, message, plus the event's own fields. The stable
// names for sync logs are the Field* constants.
//
// The write path (file, ring, tap) does not allocate: the sinks copy the
// encoded bytes into storage they reuse, and parsing into a Line happens only
// on the reading side.
package logging

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Stable field names for sync logs (DESIGN.md, Logging). Use these rather
// than literals so the desktop's filters and the support tooling keep working.
const (
	FieldProcess        = "process"
	FieldRun            = "run"
	FieldSystem         = "system"
	FieldEntityID       = "entity_id"
	FieldEntityKey      = "entity_key"
	FieldEntityTitle    = "entity_title"
	FieldRelationType   = "relation_type"
	FieldAttachmentID   = "attachment_id"
	FieldAttachmentName = "attachment_name"
	FieldAttachmentSize = "attachment_size"
	FieldComponent      = "component"
)

// Defaults for the zero values of Options.
const (
	DefaultRingSize      = 1000
	DefaultMaxSizeMB     = 10
	DefaultMaxBackups    = 5
	DefaultMaxAgeDays    = 30
	DefaultFlushInterval = time.Second
)

// Options configure New. Zero values select the defaults above.
type Options struct {
	// Dir holds agent.log and its backups; it is created with mode 0700 if
	// missing. Empty disables the file sink (tests, one-shot commands).
	Dir string
	// Level is the minimum level written; the zero value is zerolog.DebugLevel,
	// so callers normally pass zerolog.InfoLevel. SetLevel changes it later.
	Level zerolog.Level
	// Console, when set, also receives human-readable lines
	// (zerolog.ConsoleWriter). The CLI passes os.Stderr when it is a terminal.
	Console io.Writer
	// RingSize is how many recent lines the in-memory ring keeps.
	RingSize int
	// MaxSizeMB, MaxBackups and MaxAgeDays bound the rotated files.
	MaxSizeMB, MaxBackups, MaxAgeDays int
	// Compress gzips rotated backups; Query reads both forms.
	Compress bool
	// FlushInterval bounds how long a line below error level may sit in the
	// file sink's buffer before it reaches the file.
	FlushInterval time.Duration
	// Now is the clock for the time field; nil means time.Now.
	Now func() time.Time
}

// Logging owns the sinks and hands out per-component loggers.
type Logging struct {
	dir     string
	level   *atomic.Int32 // shared with every logger's levelGate
	root    zerolog.Logger
	file    *fileSink // nil without Dir
	ring    *Ring
	tap     *Tap
	console io.Writer

	closeOnce sync.Once
	closeErr  error
}

// New creates the sinks. Close releases them.
func New(opts Options) (*Logging, error) {
	if opts.RingSize <= 0 {
		opts.RingSize = DefaultRingSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &Logging{dir: opts.Dir, level: new(atomic.Int32)}
	l.level.Store(int32(opts.Level))
	if opts.Dir != "" {
		f, err := newFileSink(opts)
		if err != nil {
			return nil, err
		}
		l.file = f
	}
	l.ring = newRing(opts.RingSize)
	l.tap = newTap(l.ring)
	if opts.Console != nil {
		l.console = zerolog.ConsoleWriter{Out: opts.Console, TimeFormat: "15:04:05.000"}
	}
	// The gate is a Sampler rather than the logger's own level because a
	// zerolog.Logger copies its level by value: SetLevel must reach loggers
	// that components created long ago, and a Sampler is consulted before the
	// event is encoded, so disabled levels still cost next to nothing.
	l.root = zerolog.New(fanout{l}).
		Level(zerolog.TraceLevel).
		Sample(levelGate{l.level}).
		Hook(timeHook{now: opts.Now})
	return l, nil
}

// Logger returns the logger for one component; every line it writes carries
// component=<component>. Loggers are cheap values: derive more with With().
// Do not call Sample on them, it would replace the gate SetLevel relies on.
func (l *Logging) Logger(component string) zerolog.Logger {
	return l.root.With().Str(FieldComponent, component).Logger()
}

// SetLevel changes the minimum level of every logger, including those
// created before the call.
func (l *Logging) SetLevel(level zerolog.Level) { l.level.Store(int32(level)) }

// Level reports the current minimum level.
func (l *Logging) Level() zerolog.Level { return zerolog.Level(l.level.Load()) }

// Ring is the in-memory ring of recent lines.
func (l *Logging) Ring() *Ring { return l.ring }

// Tap is the live fan-out to subscribers; its backlog comes from Ring.
func (l *Logging) Tap() *Tap { return l.tap }

// Dir is the log directory given to New ("" when there is no file sink).
func (l *Logging) Dir() string { return l.dir }

// Flush writes buffered lines to the file.
func (l *Logging) Flush() error {
	if l.file == nil {
		return nil
	}
	return l.file.Flush()
}

// Files flushes and lists the log files, oldest first: the rotated backups,
// then agent.log. It is what support packages include.
func (l *Logging) Files() []string {
	if l.file == nil {
		return nil
	}
	// A failed flush still leaves the files worth collecting.
	_ = l.file.Flush()
	files, err := logFiles(l.dir)
	if err != nil {
		return nil
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.path
	}
	return paths
}

// Query flushes the file sink and reads lines back from the log files; see
// the package function Query.
func (l *Logging) Query(q QueryOptions) ([]Line, error) {
	if l.file == nil {
		return nil, errors.New("query logs: no log directory configured")
	}
	// A flush failure must not hide what is already on disk.
	_ = l.file.Flush()
	return Query(l.dir, q)
}

// Close flushes and closes the file and ends every tap subscription. Lines
// logged afterwards still reach the ring but no longer the file or the tap.
// It is safe to call more than once.
func (l *Logging) Close() error {
	l.closeOnce.Do(func() {
		l.tap.close()
		if l.file != nil {
			l.closeErr = l.file.Close()
		}
	})
	return l.closeErr
}

// fanout is the single zerolog writer: file, console, then ring and tap.
type fanout struct{ l *Logging }

func (f fanout) Write(p []byte) (int, error) { return f.WriteLevel(zerolog.NoLevel, p) }

func (f fanout) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	var err error
	if f.l.file != nil {
		err = f.l.file.WriteLevel(level, p)
	}
	if f.l.console != nil {
		if _, cerr := f.l.console.Write(p); cerr != nil && err == nil {
			err = fmt.Errorf("write console log: %w", cerr)
		}
	}
	f.l.tap.publish(level, p)
	// zerolog reports a short write as an error; the memory sinks always take
	// the whole line, so report it whole and surface only real failures.
	return len(p), err
}

// levelGate drops events below the shared, changeable level before zerolog
// encodes them.
type levelGate struct{ level *atomic.Int32 }

func (g levelGate) Sample(level zerolog.Level) bool {
	return level >= zerolog.Level(g.level.Load())
}

// timeHook writes the time with millisecond precision and its UTC offset
// without touching zerolog's process-wide TimeFieldFormat, and without
// allocating: the text is built on the stack and copied into the event.
type timeHook struct{ now func() time.Time }

func (h timeHook) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	var b [40]byte
	buf := append(b[:0], '"')
	buf = appendTime(buf, h.now())
	buf = append(buf, '"')
	e.RawJSON("time", buf)
}

// appendTime appends t as RFC 3339 with milliseconds,
// 2006-01-02T15:04:05.000Z07:00. It builds on time.RFC3339, which the time
// package formats on a fast path several times quicker than a custom layout,
// and splices the milliseconds in before the zone.
func appendTime(dst []byte, t time.Time) []byte {
	start := len(dst)
	dst = t.AppendFormat(dst, time.RFC3339)
	secEnd := start + len("2006-01-02T15:04:05")
	if len(dst) <= secEnd || dst[secEnd-3] != ':' {
		return dst // a year beyond 9999: whole seconds will do
	}
	var zone [8]byte // "Z" or "+hh:mm"
	n := copy(zone[:], dst[secEnd:])
	ms := t.Nanosecond() / 1e6
	dst = append(dst[:secEnd], '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(dst, zone[:n]...)
}
