package job

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The support package's tests cover downloads, retention, eviction, Close
// and leftovers through its Manager; these cover what only a job's own
// options decide.

type events struct {
	mu   sync.Mutex
	list []Progress
	done chan Progress
}

func (e *events) add(p Progress) {
	e.mu.Lock()
	e.list = append(e.list, p)
	e.mu.Unlock()
	if p.State != Running {
		e.done <- p
	}
}

func (e *events) wait(t *testing.T) Progress {
	t.Helper()
	select {
	case p := <-e.done:
		return p
	case <-time.After(time.Minute): // bounds a broken test only
		t.Fatal("the job did not finish")
		return Progress{}
	}
}

func newManager(t *testing.T) (*Manager, *events, string) {
	t.Helper()
	dir := t.TempDir()
	ev := &events{done: make(chan Progress, 8)}
	m, err := New(Options{Dir: dir, Name: "backup", Ext: ".lsbackup", Noun: "backup", Progress: ev.add,
		Scrub: func(s string) string { return strings.ReplaceAll(s, "hunter2", "[redacted]") }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, ev, dir
}

func TestBusyWithoutJoin(t *testing.T) {
	m, ev, _ := newManager(t)
	release := make(chan struct{})
	started := make(chan struct{})
	id, err := m.Start(t.Context(), func(ctx context.Context, w io.Writer, progress func(string, int)) error {
		close(started)
		<-release
		progress("store", 250) // a builder's estimate past 100 is held below it
		_, err := w.Write([]byte("archive"))
		return err
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	<-started
	if _, err := m.Start(t.Context(), nil, false); !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), id) {
		t.Fatalf("second Start without join: %v", err)
	}
	close(release)
	if p := ev.wait(t); p.State != Ready || p.Percent != 100 {
		t.Fatalf("final event %+v", p)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, p := range ev.list {
		if p.State == Running && p.Percent > 99 {
			t.Fatalf("running at %d%%", p.Percent)
		}
	}
	st, err := m.Status(id)
	if err != nil || st.Size != int64(len("archive")) {
		t.Fatalf("status %+v %v", st, err)
	}
}

func TestFailedAndPanickingBuildsLeaveNothing(t *testing.T) {
	m, ev, dir := newManager(t)
	for _, build := range []Build{
		func(ctx context.Context, w io.Writer, _ func(string, int)) error {
			w.Write([]byte("half"))
			return errors.New("the password hunter2 did not work")
		},
		func(ctx context.Context, w io.Writer, _ func(string, int)) error { panic("bug") },
	} {
		id, err := m.Start(t.Context(), build, false)
		if err != nil {
			t.Fatal(err)
		}
		if p := ev.wait(t); p.State != Failed {
			t.Fatalf("final event %+v", p)
		}
		st, _ := m.Status(id)
		if st.State != Failed || st.Error == "" || strings.Contains(st.Error, "hunter2") {
			t.Fatalf("status %+v", st)
		}
		if _, _, err := m.Read(id, 0, 10); !errors.Is(err, ErrNotReady) {
			t.Fatalf("Read of a failed job: %v", err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("failed jobs left %v", entries)
	}
	if _, err := m.Status("nope"); !errors.Is(err, ErrNotFound) || err.Error() != "backup not found" {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestWriteFileReplacesNothingOnFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	if _, err := WriteFile(t.Context(), path, ".out-*", func(_ context.Context, w io.Writer) error {
		w.Write([]byte("partial"))
		return errors.New("stop")
	}); err == nil {
		t.Fatal("a failed write succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a failed write left %v", entries)
	}
	res, err := WriteFile(t.Context(), path, ".out-*", func(_ context.Context, w io.Writer) error {
		_, err := w.Write([]byte("whole"))
		return err
	})
	if err != nil || res.Size != 5 || len(res.SHA256) != 64 {
		t.Fatalf("write: %+v %v", res, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 && os.PathSeparator == '/' {
		t.Fatalf("mode %v", fi.Mode())
	}
}
