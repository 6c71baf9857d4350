package support

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// progressLog records progress events and signals finished builds.
type progressLog struct {
	mu     sync.Mutex
	events []apitype.SupportProgress
	done   chan apitype.SupportProgress
}

func newProgressLog() *progressLog { return &progressLog{done: make(chan apitype.SupportProgress, 16)} }

func (p *progressLog) add(ev apitype.SupportProgress) {
	p.mu.Lock()
	p.events = append(p.events, ev)
	p.mu.Unlock()
	if ev.State != apitype.SupportRunning {
		p.done <- ev
	}
}

func (p *progressLog) of(id string) []apitype.SupportProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []apitype.SupportProgress
	for _, ev := range p.events {
		if ev.ID == id {
			out = append(out, ev)
		}
	}
	return out
}

func (p *progressLog) wait(t *testing.T, id string) apitype.SupportProgress {
	t.Helper()
	select {
	case ev := <-p.done:
		if ev.ID != id {
			t.Fatalf("finished %s, waiting for %s", ev.ID, id)
		}
		return ev
	case <-time.After(time.Minute):
		t.Fatalf("build %s did not finish", id)
		return apitype.SupportProgress{}
	}
}

func newTestManager(t *testing.T, src Sources, mod func(*Options)) (*Manager, *progressLog, *agenttest.Clock, string) {
	t.Helper()
	dir := t.TempDir()
	clock := agenttest.NewClock(testTime)
	prog := newProgressLog()
	o := Options{Dir: dir, Sources: src, Now: clock.Now, Progress: prog.add}
	if mod != nil {
		mod(&o)
	}
	m, err := NewManager(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m, prog, clock, dir
}

// packagePath is where a finished package lies.
func packagePath(dir, id string) string { return filepath.Join(dir, "support-"+id+".zip") }

func TestManagerCreateStatusRead(t *testing.T) {
	m, prog, _, dir := newTestManager(t, fullSources(t), nil)
	id, err := m.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if b, err := hex.DecodeString(id); err != nil || len(b) != 16 {
		t.Fatalf("id %q is not 128 bits of hex", id)
	}
	if ev := prog.wait(t, id); ev.State != apitype.SupportReady || ev.Percent != 100 {
		t.Fatalf("final event %+v", ev)
	}

	// Progress: a start, one event per part in order, percent rising.
	evs := prog.of(id)
	if evs[0].Percent != 0 || evs[0].State != apitype.SupportRunning {
		t.Errorf("first event %+v", evs[0])
	}
	parts := map[string]bool{}
	for i := 1; i < len(evs); i++ {
		if evs[i].Percent < evs[i-1].Percent {
			t.Errorf("percent fell: %+v then %+v", evs[i-1], evs[i])
		}
		if evs[i].State == apitype.SupportRunning && evs[i].Percent >= 100 {
			t.Errorf("100%% before ready: %+v", evs[i])
		}
		parts[evs[i].Part] = true
	}
	for _, p := range []string{PartHost, PartAudit, "logs/agent.log", PartManifest} {
		if !parts[p] {
			t.Errorf("no progress for %s (got %v)", p, parts)
		}
	}

	st, err := m.Status(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != apitype.SupportReady || st.Size == 0 || st.Error != "" {
		t.Fatalf("status %+v", st)
	}
	file, err := os.ReadFile(packagePath(dir, id))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(file); hex.EncodeToString(sum[:]) != st.SHA256 || int64(len(file)) != st.Size {
		t.Fatalf("status %s/%d, file %x/%d", st.SHA256, st.Size, sum, len(file))
	}
	if fi, _ := os.Stat(packagePath(dir, id)); fi.Mode().Perm() != 0o600 && os.PathSeparator == '/' {
		t.Errorf("package mode %v", fi.Mode())
	}

	// Chunked download reassembles the file exactly, with eof on the last chunk.
	for _, chunk := range []int{1000, 4096, protocol.MaxDownloadChunk} {
		var got bytes.Buffer
		for off := int64(0); ; {
			data, eof, err := m.Read(id, off, chunk)
			if err != nil {
				t.Fatalf("Read(%d, %d): %v", off, chunk, err)
			}
			if len(data) > chunk {
				t.Fatalf("Read returned %d bytes for length %d", len(data), chunk)
			}
			got.Write(data)
			off += int64(len(data))
			if eof {
				if off != st.Size {
					t.Fatalf("eof at %d of %d", off, st.Size)
				}
				break
			}
			if len(data) == 0 {
				t.Fatal("no data and no eof")
			}
		}
		if !bytes.Equal(got.Bytes(), file) {
			t.Fatalf("chunks of %d differ from the file", chunk)
		}
	}
	if data, eof, err := m.Read(id, st.Size, 10); err != nil || !eof || len(data) != 0 {
		t.Fatalf("Read at the end: %d bytes, eof %v, %v", len(data), eof, err)
	}

	invalid := []struct {
		offset int64
		length int
		field  string
	}{
		{0, 0, "length"},
		{0, -1, "length"},
		{0, protocol.MaxDownloadChunk + 1, "length"},
		{-1, 10, "offset"},
		{st.Size + 1, 10, "offset"},
	}
	for _, tc := range invalid {
		_, _, err := m.Read(id, tc.offset, tc.length)
		var ie *InvalidError
		if !errors.As(err, &ie) || ie.Field != tc.field || !errors.Is(err, ErrInvalid) {
			t.Errorf("Read(%d, %d) = %v, want invalid %s", tc.offset, tc.length, err, tc.field)
		}
	}
	if _, _, err := m.Read("0123456789abcdef0123456789abcdef", 0, 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("Read of an unknown id: %v", err)
	}
	if _, err := m.Status("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Status of an unknown id: %v", err)
	}
}

// blockingHost holds a build in its first part until released.
func blockingHost(src Sources) (Sources, chan struct{}, chan struct{}) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	src.Host = func(ctx context.Context) (any, error) {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return map[string]any{"os": "linux"}, nil
	}
	return src, started, release
}

func TestManagerOneBuildAtATime(t *testing.T) {
	src, started, release := blockingHost(Sources{})
	m, prog, _, _ := newTestManager(t, src, nil)
	id, err := m.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	<-started
	again, err := m.Create(t.Context())
	if err != nil || again != id {
		t.Fatalf("second Create while running = %q, %v; want the running id %q", again, err, id)
	}
	if st, _ := m.Status(id); st.State != apitype.SupportRunning || st.SHA256 != "" {
		t.Fatalf("status while running %+v", st)
	}
	if _, _, err := m.Read(id, 0, 10); !errors.Is(err, ErrNotReady) {
		t.Fatalf("Read while running: %v", err)
	}
	close(release)
	prog.wait(t, id)

	next, err := m.Create(t.Context())
	if err != nil || next == id {
		t.Fatalf("Create after the build = %q, %v; want a new id", next, err)
	}
	<-started // the new build blocks in Host again; Close cancels it
}

func TestManagerRetention(t *testing.T) {
	m, prog, clock, dir := newTestManager(t, Sources{}, nil)
	id, _ := m.Create(t.Context())
	prog.wait(t, id)
	path := packagePath(dir, id)

	clock.Add(DefaultRetention - time.Second)
	if n := m.Sweep(); n != 0 {
		t.Fatalf("swept %d before the retention period", n)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("package gone early: %v", err)
	}
	clock.Add(time.Second)
	if n := m.Sweep(); n != 1 {
		t.Fatalf("swept %d, want 1", n)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("package file still there: %v", err)
	}
	if _, err := m.Status(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Status after sweep: %v", err)
	}
	if _, _, err := m.Read(id, 0, 10); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Read after sweep: %v", err)
	}

	// A shorter retention set later applies to packages already built.
	id2, _ := m.Create(t.Context())
	prog.wait(t, id2)
	m.SetRetention(time.Hour)
	clock.Add(time.Hour)
	if n := m.Sweep(); n != 1 {
		t.Fatalf("swept %d after SetRetention, want 1", n)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("directory not empty: %v", entries)
	}
}

func TestManagerServeSweeps(t *testing.T) {
	m, prog, clock, _ := newTestManager(t, Sources{}, func(o *Options) { o.SweepInterval = time.Millisecond })
	id, _ := m.Create(t.Context())
	prog.wait(t, id)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- m.Serve(ctx) }()
	clock.Add(DefaultRetention)
	deadline := time.After(time.Minute)
	for {
		if _, err := m.Status(id); errors.Is(err, ErrNotFound) {
			break
		}
		select {
		case <-deadline:
			t.Fatal("Serve did not sweep the expired package")
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
}

func TestManagerMaxKept(t *testing.T) {
	m, prog, clock, dir := newTestManager(t, Sources{}, func(o *Options) { o.MaxKept = 2 })
	var ids []string
	for range 3 {
		id, _ := m.Create(t.Context())
		prog.wait(t, id)
		ids = append(ids, id)
		clock.Add(time.Minute)
	}
	if _, err := m.Status(ids[0]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("oldest package kept: %v", err)
	}
	for _, id := range ids[1:] {
		if st, err := m.Status(id); err != nil || st.State != apitype.SupportReady {
			t.Fatalf("package %s: %+v %v", id, st, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("%d files in the directory, want 2", len(entries))
	}
}

func TestManagerFailedBuild(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows cannot remove a directory holding an open file")
	}
	src, started, release := blockingHost(Sources{})
	m, prog, _, dir := newTestManager(t, src, nil)
	id, _ := m.Create(t.Context())
	<-started
	// The directory vanishes under the build: the package cannot be moved
	// into place.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	close(release)
	if ev := prog.wait(t, id); ev.State != apitype.SupportFailed {
		t.Fatalf("final event %+v", ev)
	}
	st, err := m.Status(id)
	if err != nil || st.State != apitype.SupportFailed || st.Error == "" || st.Size != 0 {
		t.Fatalf("status %+v, %v", st, err)
	}
	if _, _, err := m.Read(id, 0, 10); !errors.Is(err, ErrNotReady) {
		t.Fatalf("Read of a failed package: %v", err)
	}
}

func TestManagerClose(t *testing.T) {
	src, started, _ := blockingHost(Sources{})
	m, prog, _, dir := newTestManager(t, src, nil)
	// A finished package, then one that is running at Close.
	m.src.Host = nil
	first, _ := m.Create(t.Context())
	prog.wait(t, first)
	m.src.Host = src.Host
	if _, err := m.Create(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("Close left %d files", len(entries))
	}
	if _, err := m.Create(t.Context()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Create after Close: %v", err)
	}
	if _, err := m.Status(first); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Status after Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestManagerRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	old := []string{"support-0123456789abcdef0123456789abcdef.zip", ".support-123.zip.partial"}
	keep := []string{"notes.txt", "support-short.zip"}
	for _, n := range append(old, keep...) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m, err := NewManager(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, n := range old {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("leftover %s not removed", n)
		}
	}
	for _, n := range keep {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s removed: %v", n, err)
		}
	}
}

func TestManagerCreateCancelledRequest(t *testing.T) {
	m, _, _, _ := newTestManager(t, Sources{}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := m.Create(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Create with a cancelled request: %v", err)
	}
}
