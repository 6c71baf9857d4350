package logging

import (
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// buildRotatedSet writes 3 batches of 4 lines, rotating after the first two,
// plus a gzip backup older than all of them and malformed lines, and returns
// the directory and the time of the first line. Line k (0-11) is at
// base+k seconds; the gzip backup's two lines come before, at base-2s and
// base-1s.
func buildRotatedSet(t *testing.T) (string, time.Time) {
	t.Helper()
	dir := t.TempDir()
	// Near the real time: rotation times come from the real clock.
	base := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	var now time.Time
	l := newTestLogging(t, Options{Dir: dir, Level: zerolog.DebugLevel, Now: func() time.Time { return now }})
	log := l.Logger("sync")
	levels := []zerolog.Level{zerolog.DebugLevel, zerolog.InfoLevel, zerolog.WarnLevel, zerolog.ErrorLevel}
	for k := range 12 {
		now = base.Add(time.Duration(k) * time.Second)
		log.WithLevel(levels[k%4]).
			Str(FieldSystem, []string{"Jira", "helpdesk"}[k%2]).
			Str(FieldEntityTitle, fmt.Sprintf("Ticket %d", k)).
			Msg(fmt.Sprintf("line %d", k))
		if k == 3 || k == 7 {
			if err := l.file.rotate(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Millisecond) // distinct backup names
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}

	// An older, compressed backup.
	gzName := "agent-" + time.Now().Add(-5*time.Minute).UTC().Format(backupTimeFormat) + ".log.gz"
	f, err := os.Create(filepath.Join(dir, gzName))
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	for k := -2; k < 0; k++ {
		fmt.Fprintf(zw, `{"level":"info","component":"old","time":%q,"message":"line %d"}`+"\n",
			base.Add(time.Duration(k)*time.Second).Format(time.RFC3339Nano), k)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	// Garbage in a backup and in the active file: skipped, not fatal.
	files, err := logFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Fatalf("files = %+v", files)
	}
	for _, f := range files[1:] {
		appendFile(t, f.path, "not json\n{\"level\":\n"+strings.Repeat("z", maxQueryLine+10)+"\n")
	}
	return dir, base
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func TestQuery(t *testing.T) {
	dir, base := buildRotatedSet(t)
	at := func(k int) time.Time { return base.Add(time.Duration(k) * time.Second) }
	lines := func(ks ...int) string {
		var s []string
		for _, k := range ks {
			s = append(s, fmt.Sprintf("line %d", k))
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name string
		q    QueryOptions
		want string
	}{
		{"everything, oldest first", QueryOptions{MinLevel: zerolog.TraceLevel}, lines(-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)},
		{"zero min level is debug", QueryOptions{}, lines(-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)},
		{"min level info", QueryOptions{MinLevel: zerolog.InfoLevel}, lines(-2, -1, 1, 2, 3, 5, 6, 7, 9, 10, 11)},
		{"min level warn", QueryOptions{MinLevel: zerolog.WarnLevel}, lines(2, 3, 6, 7, 10, 11)},
		{"window across a rotation", QueryOptions{Since: at(2), Until: at(5)}, lines(2, 3, 4, 5)},
		{"since only", QueryOptions{Since: at(10)}, lines(10, 11)},
		{"until only", QueryOptions{Until: at(0)}, lines(-2, -1, 0)},
		{"text in a field, any case", QueryOptions{Text: "TICKET 1"}, lines(1, 10, 11)},
		{"text in the component", QueryOptions{Text: "old"}, lines(-2, -1)},
		{"text in the system", QueryOptions{Text: "jira", MinLevel: zerolog.WarnLevel}, lines(2, 6, 10)},
		{"limit keeps the newest", QueryOptions{Limit: 3}, lines(9, 10, 11)},
		{"limit with filters", QueryOptions{MinLevel: zerolog.ErrorLevel, Limit: 2}, lines(7, 11)},
		{"nothing matches", QueryOptions{Text: "no such text"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Query(dir, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.Join(messages(got), ","); s != tt.want {
				t.Errorf("got  %s\nwant %s", s, tt.want)
			}
		})
	}
}

func TestQuerySkipsBackupsRotatedBeforeSince(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	line := fmt.Sprintf(`{"level":"info","time":%q,"message":"misdated"}`+"\n", now.Format(time.RFC3339Nano))
	old := filepath.Join(dir, "agent-2001-01-01T00-00-00.000.log")
	if err := os.WriteFile(old, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Query(dir, QueryOptions{})
	if err != nil || len(got) != 1 {
		t.Fatalf("without Since: %d lines, %v", len(got), err)
	}
	// A backup rotated in 2001 cannot hold lines from today.
	got, err = Query(dir, QueryOptions{Since: now.Add(-time.Minute)})
	if err != nil || len(got) != 0 {
		t.Fatalf("with Since: %d lines, %v", len(got), err)
	}
}

func TestQueryErrors(t *testing.T) {
	if _, err := Query(filepath.Join(t.TempDir(), "missing"), QueryOptions{}); err == nil {
		t.Error("Query of a missing directory succeeded")
	}
	got, err := Query(t.TempDir(), QueryOptions{})
	if err != nil || len(got) != 0 {
		t.Errorf("empty directory: %v, %v", got, err)
	}
}

func TestLoggingQueryFlushes(t *testing.T) {
	l := newTestLogging(t, Options{Dir: t.TempDir(), FlushInterval: time.Hour})
	log := l.Logger("c")
	log.Info().Msg("buffered")
	got, err := l.Query(QueryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Message != "buffered" {
		t.Errorf("got %+v", got)
	}
}
