package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/job"
)

// cheapKDF keeps passphrase tests fast under the race detector; the format
// and the code paths are those of DefaultKDF.
var cheapKDF = KDF{Time: 1, Memory: 64, Threads: 1}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func manifest(t testing.TB, withKey []byte) Manifest {
	return Manifest{
		AgentVersion: "1.2.3", InstanceID: "abc", CreatedAt: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), Schema: 1,
		Files: map[string][]byte{"agent.json": []byte(`{"version":1}`), "tls/agent.key": []byte("PRIVATE KEY")}, MasterKey: withKey,
	}
}

func snapshotOf(data []byte) func(context.Context, io.Writer) error {
	return func(_ context.Context, w io.Writer) error {
		_, err := w.Write(data)
		return err
	}
}

func seal(t testing.TB, s Sealing, m Manifest, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(context.Background(), &buf, s, m, snapshotOf(data)); err != nil {
		t.Fatalf("write: %v", err)
	}
	return buf.Bytes()
}

// openAll opens an archive and reads its whole store stream.
func openAll(archive []byte, k Keys) (*Archive, []byte, error) {
	a, err := Open(bytes.NewReader(archive), k)
	if err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(a.Store)
	return a, data, err
}

func TestRoundTripEverySize(t *testing.T) {
	master := randomBytes(t, 32)
	for _, n := range []int{0, 1, chunkSize - 4 - 60, chunkSize, chunkSize + 1, 3*chunkSize + 17} {
		data := randomBytes(t, n)
		for _, s := range []Sealing{{MasterKey: master}, {Passphrase: []byte("correct horse battery"), KDF: cheapKDF}} {
			m := manifest(t, nil)
			keys := Keys{MasterKey: master}
			if s.Kind() == Passphrase {
				m.MasterKey = master
				keys = Keys{Passphrase: s.Passphrase}
			}
			archive := seal(t, s, m, data)
			a, got, err := openAll(archive, keys)
			if err != nil {
				t.Fatalf("%d bytes, %s: %v", n, s.Kind(), err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("%d bytes, %s: store stream differs", n, s.Kind())
			}
			if a.Header.Kind != s.Kind() || a.Manifest.InstanceID != "abc" || string(a.Manifest.Files["tls/agent.key"]) != "PRIVATE KEY" {
				t.Fatalf("%s: header or manifest lost: %+v", s.Kind(), a.Manifest)
			}
			if s.Kind() == Passphrase && !bytes.Equal(a.Manifest.MasterKey, master) {
				t.Fatal("passphrase archive lost its master key")
			}
			if bytes.Contains(archive, []byte("PRIVATE KEY")) || bytes.Contains(archive, master) {
				t.Fatal("the archive holds a file or the key in the clear")
			}
		}
	}
}

func TestWrongKeyIsRefusedBeforeThePayload(t *testing.T) {
	master := randomBytes(t, 32)
	archive := seal(t, Sealing{MasterKey: master}, manifest(t, nil), []byte("store"))
	if _, err := Open(bytes.NewReader(archive), Keys{MasterKey: randomBytes(t, 32)}); !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("wrong master key: %v", err)
	}
	if _, err := Open(bytes.NewReader(archive), Keys{Passphrase: []byte("a passphrase anyway")}); err == nil || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("passphrase for a master-key archive: %v", err)
	}
	pass := seal(t, Sealing{Passphrase: []byte("correct horse battery"), KDF: cheapKDF}, manifest(t, master), []byte("store"))
	if _, err := Open(bytes.NewReader(pass), Keys{Passphrase: []byte("correct horse batterY")}); !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := Open(bytes.NewReader(pass), Keys{MasterKey: master}); err == nil || !strings.Contains(err.Error(), "--passphrase-file") {
		t.Fatalf("master key for a passphrase archive: %v", err)
	}
}

// TestModifiedBytesAreRefused flips one byte at every offset of the header
// and at the edges (nonce-bound starts, tags) and a spread of offsets of
// each chunk of a three-chunk archive: each one is refused, and nothing of
// the store stream is accepted as complete.
func TestModifiedBytesAreRefused(t *testing.T) {
	master := randomBytes(t, 32)
	archive := seal(t, Sealing{MasterKey: master}, manifest(t, nil), randomBytes(t, 2*chunkSize+100))
	var offsets []int
	for i := 0; i < headerSize; i++ {
		offsets = append(offsets, i)
	}
	for start := headerSize; start < len(archive); start += chunkSize + tagSize {
		end := min(start+chunkSize+tagSize, len(archive))
		for i := start; i < end; i++ {
			if i-start < 16 || end-i <= tagSize+16 || (i-start)%997 == 0 {
				offsets = append(offsets, i)
			}
		}
	}
	for _, i := range offsets {
		bad := bytes.Clone(archive)
		bad[i] ^= 0x40
		_, _, err := openAll(bad, Keys{MasterKey: master})
		if err == nil {
			t.Fatalf("a flipped byte at %d was accepted", i)
		}
		if !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrWrongKey) && !errors.Is(err, ErrNotArchive) && !strings.Contains(err.Error(), "format") {
			t.Fatalf("byte %d: unexpected error %v", i, err)
		}
	}
}

func TestTruncationAnywhereIsRefused(t *testing.T) {
	master := randomBytes(t, 32)
	archive := seal(t, Sealing{MasterKey: master}, manifest(t, nil), randomBytes(t, 2*chunkSize+100))
	boundary := headerSize + chunkSize + tagSize
	cuts := []int{0, 3, headerSize - 1, headerSize, headerSize + 10, boundary, boundary + 1, 2 * boundary, len(archive) - 1}
	for _, n := range cuts {
		_, _, err := openAll(archive[:n], Keys{MasterKey: master})
		if err == nil {
			t.Fatalf("an archive cut at %d of %d was accepted", n, len(archive))
		}
	}
	// Cut exactly after a chunk: the reader says it is truncated, not
	// tampered with, so an administrator looks for the rest of the file.
	for _, n := range []int{boundary, boundary + chunkSize + tagSize} {
		if _, _, err := openAll(archive[:n], Keys{MasterKey: master}); !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at chunk boundary %d: %v", n, err)
		}
	}
	// Bytes appended after the last chunk are refused too.
	if _, _, err := openAll(append(bytes.Clone(archive), 0), Keys{MasterKey: master}); err == nil {
		t.Fatal("an archive with a trailing byte was accepted")
	}
	if _, err := Open(strings.NewReader("PK\x03\x04 a zip file"), Keys{MasterKey: master}); !errors.Is(err, ErrNotArchive) {
		t.Fatalf("a foreign file: %v", err)
	}
}

func TestHeaderBoundsAndRefusals(t *testing.T) {
	master := randomBytes(t, 32)
	var buf bytes.Buffer
	if err := Write(t.Context(), &buf, Sealing{Passphrase: []byte("short")}, manifest(t, master), snapshotOf(nil)); err == nil || !strings.Contains(err.Error(), "at least 12") {
		t.Fatalf("short passphrase: %v", err)
	}
	if err := Write(t.Context(), &buf, Sealing{Passphrase: []byte("long enough passphrase")}, manifest(t, nil), snapshotOf(nil)); err == nil {
		t.Fatal("a passphrase archive without the master key was written")
	}
	if err := Write(t.Context(), &buf, Sealing{MasterKey: master}, manifest(t, master), snapshotOf(nil)); err == nil {
		t.Fatal("a master-key archive carrying the master key was written")
	}
	// A header asking for 4 GiB of argon2id memory is refused before any work.
	pass := seal(t, Sealing{Passphrase: []byte("correct horse battery"), KDF: cheapKDF}, manifest(t, master), nil)
	bad := bytes.Clone(pass)
	copy(bad[len(magic)+2+saltSize+4:], []byte{0xff, 0xff, 0xff, 0xff})
	if _, err := Open(bytes.NewReader(bad), Keys{Passphrase: []byte("correct horse battery")}); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "memory") {
		t.Fatalf("huge argon2id memory: %v", err)
	}
	newer := bytes.Clone(pass)
	newer[len(magic)] = 9
	if _, err := Inspect(bytes.NewReader(newer)); err == nil || !strings.Contains(err.Error(), "newer agent") {
		t.Fatalf("newer format: %v", err)
	}
	h, err := Inspect(bytes.NewReader(pass))
	if err != nil || h.Kind != Passphrase || h.KDF != cheapKDF {
		t.Fatalf("inspect: %+v %v", h, err)
	}
}

// TestStreamsInConstantMemory seals 48 MiB produced on the fly and checks
// that the live heap stays far below it, then opens it the same way.
func TestStreamsInConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 48 MiB")
	}
	master := randomBytes(t, 32)
	const total = 48 << 20
	block := randomBytes(t, 1<<20)
	var peak uint64
	measure := func() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	h := sha256.New()
	counter := &job.CountWriter{W: h}
	err := Write(t.Context(), counter, Sealing{MasterKey: master}, manifest(t, nil), func(_ context.Context, w io.Writer) error {
		for i := 0; i < total/len(block); i++ {
			if _, err := w.Write(block); err != nil {
				return err
			}
			if i%8 == 0 {
				measure()
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if counter.N < total {
		t.Fatalf("wrote %d bytes", counter.N)
	}
	if peak > 24<<20 {
		t.Fatalf("live heap reached %d MiB while sealing 48 MiB", peak>>20)
	}
}

func TestSnapshotErrorStopsTheArchive(t *testing.T) {
	var buf bytes.Buffer
	boom := errors.New("disk on fire")
	err := Write(t.Context(), &buf, Sealing{MasterKey: randomBytes(t, 32)}, manifest(t, nil), func(context.Context, io.Writer) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("snapshot error: %v", err)
	}
	// What was written has no last chunk: it can never be restored.
	if _, _, err := openAll(buf.Bytes(), Keys{MasterKey: randomBytes(t, 32)}); err == nil {
		t.Fatal("an unfinished archive opened")
	}
}
