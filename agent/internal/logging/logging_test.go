package logging

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// fakeClock hands out times one millisecond apart from start.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(start time.Time) *fakeClock { return &fakeClock{t: start} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func newTestLogging(t *testing.T, opts Options) *Logging {
	t.Helper()
	l, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// readLines parses every line of a log file, failing on any that does not
// parse.
func readLines(t *testing.T, path string) []Line {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var lines []Line
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, MaxLineBytes*2)
	for sc.Scan() {
		line, err := ParseLine(sc.Bytes())
		if err != nil {
			t.Fatalf("%s: line %q: %v", filepath.Base(path), sc.Text(), err)
		}
		lines = append(lines, line)
	}
	return lines
}

func TestFileSinkWritesJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	clock := newFakeClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	l := newTestLogging(t, Options{Dir: dir, Level: zerolog.InfoLevel, Now: clock.Now})
	log := l.Logger("sync")
	log.Info().Str(FieldProcess, "p1").Int64(FieldAttachmentSize, 1<<40).Msg("synced")
	log.Debug().Msg("below the level")
	if err := l.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}

	lines := readLines(t, filepath.Join(dir, FileName))
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1: %+v", len(lines), lines)
	}
	got := lines[0]
	want := time.Date(2026, 3, 4, 5, 6, 7, int(time.Millisecond), time.UTC)
	if !got.Time.Equal(want) || got.Level != "info" || got.Component != "sync" || got.Message != "synced" {
		t.Errorf("got %+v", got)
	}
	if got.Fields[FieldProcess] != "p1" || got.Fields[FieldAttachmentSize] != jsonNumber("1099511627776") {
		t.Errorf("fields = %v", got.Fields)
	}

	if runtime.GOOS != "windows" {
		for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, FileName): 0o600} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
			}
		}
	}
}

func TestFileSinkRotation(t *testing.T) {
	dir := t.TempDir()
	l := newTestLogging(t, Options{Dir: dir, Level: zerolog.InfoLevel, MaxSizeMB: 1, MaxBackups: 3})
	log := l.Logger("sync")
	pad := strings.Repeat("x", 1000)
	const n = 2500 // about 2.6 MB: at least two rotations
	for i := range n {
		log.Info().Int("i", i).Str("pad", pad).Msg("line")
	}
	files := l.Files()
	if len(files) < 3 {
		t.Fatalf("files = %v, want at least two backups and agent.log", files)
	}
	if filepath.Base(files[len(files)-1]) != FileName {
		t.Errorf("last file = %s, want %s", files[len(files)-1], FileName)
	}
	// Every file holds whole JSON lines, and together they hold every line
	// in order (the first backup may have been pruned only beyond 3).
	var all []Line
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 1<<20 {
			t.Errorf("%s is %d bytes, over MaxSizeMB", f, fi.Size())
		}
		all = append(all, readLines(t, f)...)
	}
	if len(all) != n {
		t.Fatalf("read %d lines, want %d", len(all), n)
	}
	for i, line := range all {
		if line.Fields["i"] != jsonNumber(itoa(i)) {
			t.Fatalf("line %d has i=%v", i, line.Fields["i"])
		}
	}
}

func TestFileSinkFlushTiming(t *testing.T) {
	tests := []struct {
		name  string
		level zerolog.Level
	}{
		{"error is written before the call returns", zerolog.ErrorLevel},
		{"info is written within the flush interval", zerolog.InfoLevel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			interval := time.Hour
			if tt.level < zerolog.ErrorLevel {
				interval = 20 * time.Millisecond
			}
			l := newTestLogging(t, Options{Dir: dir, FlushInterval: interval})
			log := l.Logger("t")
			log.WithLevel(tt.level).Msg("hello")
			path := filepath.Join(dir, FileName)
			deadline := time.Now().Add(30 * time.Second)
			for {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(data, []byte("hello")) {
					return
				}
				if tt.level >= zerolog.ErrorLevel || time.Now().After(deadline) {
					t.Fatalf("line not in file: %q", data)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

func TestSetLevelReachesExistingLoggers(t *testing.T) {
	l := newTestLogging(t, Options{Level: zerolog.InfoLevel})
	log := l.Logger("c")
	log.Debug().Msg("dropped")
	l.SetLevel(zerolog.DebugLevel)
	log.Debug().Msg("kept")
	l.SetLevel(zerolog.WarnLevel)
	log.Info().Msg("dropped too")
	log.Warn().Msg("kept too")
	if l.Level() != zerolog.WarnLevel {
		t.Errorf("Level() = %v", l.Level())
	}
	var msgs []string
	for _, line := range l.Ring().Lines(0) {
		msgs = append(msgs, line.Message)
	}
	if got := strings.Join(msgs, ","); got != "kept,kept too" {
		t.Errorf("messages = %s", got)
	}
}

func TestConsole(t *testing.T) {
	var buf syncBuffer
	l := newTestLogging(t, Options{Console: &buf})
	lg := l.Logger("rpc")
	lg.Info().Str(FieldSystem, "jira").Msg("connected")
	out := buf.String()
	for _, want := range []string{"connected", "system=", "jira", "component="} {
		if !strings.Contains(out, want) {
			t.Errorf("console output %q lacks %q", out, want)
		}
	}
	if strings.HasPrefix(out, "{") {
		t.Errorf("console output is JSON: %q", out)
	}
}

func TestCloseIsIdempotentAndLaterLinesAreHarmless(t *testing.T) {
	dir := t.TempDir()
	l, err := New(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	log := l.Logger("c")
	log.Info().Msg("before")
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	log.Info().Msg("after")
	if err := l.Flush(); err != nil {
		t.Errorf("Flush after Close: %v", err)
	}
	lines := readLines(t, filepath.Join(dir, FileName))
	if len(lines) != 1 || lines[0].Message != "before" {
		t.Errorf("file lines = %+v", lines)
	}
}

func TestNewFailsOnUnusableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Dir: filepath.Join(file, "logs")}); err == nil {
		t.Fatal("New succeeded with a file as parent directory")
	}
}

func TestFilesWithoutDir(t *testing.T) {
	l := newTestLogging(t, Options{})
	if files := l.Files(); files != nil {
		t.Errorf("Files() = %v", files)
	}
	if _, err := l.Query(QueryOptions{}); err == nil {
		t.Error("Query without a directory succeeded")
	}
}

func TestAppendTime(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 1, 2, 3, 4, 5, 6_007_000, time.UTC), "2026-01-02T03:04:05.006Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 999_999_999, time.FixedZone("", 2*3600)), "2026-01-02T03:04:05.999+02:00"},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", -(9*3600+30*60))), "2026-01-02T03:04:05.000-09:30"},
		{time.Date(12026, 1, 2, 3, 4, 5, 0, time.UTC), "12026-01-02T03:04:05Z"},
	}
	for _, tt := range tests {
		if got := string(appendTime(nil, tt.t)); got != tt.want {
			t.Errorf("appendTime(%v) = %s, want %s", tt.t, got, tt.want)
		}
	}
}

func TestLoggingAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	l := newTestLogging(t, Options{Dir: t.TempDir(), Level: zerolog.InfoLevel})
	sub := l.Tap().Subscribe(Filter{Process: "p1"}, 16, 0)
	defer sub.Close()
	log := l.Logger("sync")
	allocs := testing.AllocsPerRun(1000, func() { logTypical(&log) })
	if allocs != 0 {
		t.Errorf("%v allocs per line, want 0", allocs)
	}
}

// syncBuffer is a bytes.Buffer safe for the console writer's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func jsonNumber(s string) json.Number { return json.Number(s) }

func itoa(i int) string { return strconv.Itoa(i) }
