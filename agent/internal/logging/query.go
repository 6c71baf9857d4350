package logging

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Query limits.
const (
	DefaultQueryLimit = 1000
	MaxQueryLimit     = 10000
	// maxQueryLine bounds the read buffer; longer lines are skipped.
	maxQueryLine = 1 << 20
)

// QueryOptions select lines from the log files. Zero values do not filter.
type QueryOptions struct {
	// Since and Until bound the line's time, both inclusive. A line without a
	// time is excluded when either is set.
	Since, Until time.Time
	// MinLevel is the lowest level returned; the zero value is
	// zerolog.DebugLevel. Lines without a level always pass.
	MinLevel zerolog.Level
	// Text matches, case-insensitively, a substring of the message, the
	// component or any field value.
	Text string
	// Limit is how many lines to return: the newest matching ones. <= 0 means
	// DefaultQueryLimit; at most MaxQueryLimit.
	Limit int
}

// Query reads the log files in dir (the lumberjack backups, plain or gzip,
// then agent.log) and returns the newest q.Limit matching lines, oldest
// first. Memory stays bounded by the limit and one read buffer, whatever the
// files' size. Malformed and over-long lines are skipped.
func Query(dir string, q QueryOptions) ([]Line, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultQueryLimit
	}
	q.Limit = min(q.Limit, MaxQueryLimit)
	q.Text = strings.ToLower(q.Text)

	files, err := logFiles(dir)
	if err != nil {
		return nil, err
	}
	// The newest Limit matches, kept in a ring: older matches are overwritten.
	keep := make([]Line, 0, q.Limit)
	next := 0
	add := func(line Line) {
		if len(keep) < q.Limit {
			keep = append(keep, line)
			return
		}
		keep[next] = line
		next = (next + 1) % q.Limit
	}
	buf := bufio.NewReaderSize(nil, maxQueryLine)
	for _, f := range files {
		// Every line in a backup predates its rotation time. The margin
		// tolerates a clock that stepped back while the file was written.
		if !q.Since.IsZero() && !f.rotated.IsZero() && f.rotated.Before(q.Since.Add(-time.Hour)) {
			continue
		}
		if err := scanFile(f, buf, func(raw []byte) {
			line, err := ParseLine(raw)
			if err == nil && q.match(line) {
				add(line)
			}
		}); err != nil {
			return nil, err
		}
	}
	return append(keep[next:], keep[:next]...), nil
}

func (q *QueryOptions) match(line Line) bool {
	if !q.Since.IsZero() || !q.Until.IsZero() {
		if line.Time.IsZero() ||
			(!q.Since.IsZero() && line.Time.Before(q.Since)) ||
			(!q.Until.IsZero() && line.Time.After(q.Until)) {
			return false
		}
	}
	if level, err := zerolog.ParseLevel(line.Level); err == nil && level < q.MinLevel {
		return false
	}
	if q.Text == "" {
		return true
	}
	if containsFold(line.Message, q.Text) || containsFold(line.Component, q.Text) {
		return true
	}
	for _, v := range line.Fields {
		if containsFold(fmt.Sprint(v), q.Text) {
			return true
		}
	}
	return false
}

// containsFold reports whether lowered contains s, compared in lower case.
func containsFold(s, lowered string) bool {
	return strings.Contains(strings.ToLower(s), lowered)
}

// scanFile calls fn for each line of f. A missing file (rotated or removed
// since it was listed) is not an error.
func scanFile(f logFile, buf *bufio.Reader, fn func([]byte)) error {
	file, err := openShared(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	defer file.Close()
	var r io.Reader = file
	if f.gz {
		zr, err := gzip.NewReader(file)
		if err != nil {
			// A backup still being compressed or truncated: skip it.
			return nil
		}
		defer zr.Close()
		r = zr
	}
	buf.Reset(r)
	skipping := false // inside a line longer than the buffer
	for {
		raw, err := buf.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			skipping = true
			continue
		case skipping:
			skipping = false
		case len(raw) > 0:
			fn(raw)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if f.gz {
				// A corrupt or truncated archive ends its file, not the query.
				return nil
			}
			return fmt.Errorf("read log file %s: %w", filepath.Base(f.path), err)
		}
	}
}

// logFile is one file of the rotated set.
type logFile struct {
	path    string
	rotated time.Time // zero for the active file
	gz      bool
}

// backupTimeFormat is lumberjack's, in UTC (LocalTime is not set).
const backupTimeFormat = "2006-01-02T15-04-05.000"

// logFiles lists the backups oldest first, then the active file.
func logFiles(dir string) ([]logFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list log files: %w", err)
	}
	prefix := strings.TrimSuffix(FileName, filepath.Ext(FileName)) + "-"
	ext := filepath.Ext(FileName)
	var files []logFile
	active := false
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		if name == FileName {
			active = true
			continue
		}
		gz := strings.HasSuffix(name, ".gz")
		ts, ok := strings.CutPrefix(strings.TrimSuffix(name, ".gz"), prefix)
		if !ok {
			continue
		}
		ts, ok = strings.CutSuffix(ts, ext)
		if !ok {
			continue
		}
		t, err := time.Parse(backupTimeFormat, ts)
		if err != nil {
			continue
		}
		files = append(files, logFile{path: filepath.Join(dir, name), rotated: t, gz: gz})
	}
	slices.SortStableFunc(files, func(a, b logFile) int { return a.rotated.Compare(b.rotated) })
	if active {
		files = append(files, logFile{path: filepath.Join(dir, FileName)})
	}
	return files, nil
}
