package store

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func create(t testing.TB, dir string, key []byte) *Store {
	t.Helper()
	s, err := Create(Options{Dir: dir, Key: key})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return s
}

// reopen closes s and opens its store again, closed when the test ends.
func reopen(t testing.TB, s *Store, dir string, key []byte) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(Options{Dir: dir, Key: key})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type system struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Sealed []byte `json:"sealed"`
}

func TestRepoRoundTripAndReopen(t *testing.T) {
	dir := t.TempDir()
	key := newKey(t)
	s := create(t, dir, key)
	repo := NewRepo[system](s, "system")
	for _, id := range []string{"b", "a", "c"} {
		if err := repo.Put(id, system{ID: id, Name: "n-" + id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := repo.Delete("c"); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Get("c"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted record: got %v, want ErrNotFound", err)
	}
	if err := repo.Put("x/y", system{}); err == nil {
		t.Fatal("an id with a slash was accepted")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}

	s, err := Open(Options{Dir: dir, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all, err := NewRepo[system](s, "system").List()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != "a" || all[1].ID != "b" {
		t.Fatalf("list after reopen = %+v", all)
	}
	if v, err := s.Schema(); err != nil || v != SchemaVersion() {
		t.Fatalf("schema = %d, %v; want %d", v, err, SchemaVersion())
	}
}

func TestCreateRefusesExistingStore(t *testing.T) {
	dir := t.TempDir()
	s := create(t, dir, newKey(t))
	s.Close()
	if _, err := Create(Options{Dir: dir, Key: newKey(t)}); err == nil {
		t.Fatal("Create over an existing store succeeded")
	}
}

func hashTree(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWrongKeyChangesNothing(t *testing.T) {
	dir := t.TempDir()
	key := newKey(t)
	s := create(t, dir, key)
	if err := s.Put("system/a", system{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before := hashTree(t, dir)

	cases := map[string][]byte{
		"wrong key": newKey(t),
		"no key":    nil,
		"short key": key[:16],
	}
	for name, k := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Open(Options{Dir: dir, Key: k})
			if err == nil {
				t.Fatal("open succeeded")
			}
			after := hashTree(t, dir)
			if len(after) != len(before) {
				t.Fatalf("file set changed: %d -> %d files", len(before), len(after))
			}
			for p, h := range before {
				if after[p] != h {
					t.Fatalf("%s changed", p)
				}
			}
		})
	}
	if _, err := Open(Options{Dir: dir, Key: newKey(t)}); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("wrong key: %v, want ErrKeyMismatch", err)
	}
}

func TestRotateKey(t *testing.T) {
	dir := t.TempDir()
	oldKey, newK := newKey(t), newKey(t)
	s := create(t, dir, oldKey)
	if err := s.Put("system/a", system{Name: "kept"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := RotateKey(dir, oldKey, newK); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Dir: dir, Key: oldKey}); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("old key after rotation: %v, want ErrKeyMismatch", err)
	}
	s, err := Open(Options{Dir: dir, Key: newK})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v system
	if err := s.Get("system/a", &v); err != nil || v.Name != "kept" {
		t.Fatalf("after rotation: %+v, %v", v, err)
	}
}

// TestCanaryNeverOnDisk stores a sealed canary and greps every file of the
// data dir for it, with Badger's encryption on and off: the field sealing on
// its own must keep the secret off the disk.
func TestCanaryNeverOnDisk(t *testing.T) {
	canary := []byte("CANARY-s3cr3t-7f1c9e2a-do-not-leak")
	for _, encrypted := range []bool{true, false} {
		name := "badger-encrypted"
		if !encrypted {
			name = "badger-plain"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			master := newKey(t)
			var badgerKey []byte
			if encrypted {
				badgerKey = master
			}
			s := create(t, dir, badgerKey)
			sealer, err := secret.NewSealer(master, s.DataKeys())
			if err != nil {
				t.Fatal(err)
			}
			sealed, err := sealer.Seal("sys1", "system", "sys1", "token", canary)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Put("system/sys1", system{ID: "sys1", Name: "Jira", Sealed: sealed}); err != nil {
				t.Fatal(err)
			}
			var back system
			if err := s.Get("system/sys1", &back); err != nil {
				t.Fatal(err)
			}
			plain, err := sealer.Open("sys1", "system", "sys1", "token", back.Sealed)
			if err != nil || !bytes.Equal(plain, canary) {
				t.Fatalf("open sealed: %q, %v", plain, err)
			}
			// Sealed under another field name, the value must not open.
			if _, err := sealer.Open("sys1", "system", "sys1", "password", back.Sealed); err == nil {
				t.Fatal("a sealed value opened under another field")
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			// Plain Badger must still show the record's name: proof the grep reads real data.
			foundName := false
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, _ := os.ReadFile(p)
				if bytes.Contains(b, canary) {
					t.Errorf("%s contains the canary secret", p)
				}
				if bytes.Contains(b, []byte(`"name":"Jira"`)) {
					foundName = true
				}
				return nil
			})
			if foundName == encrypted {
				t.Fatalf("plaintext record visible = %v with encryption %v", foundName, encrypted)
			}
		})
	}
}

func TestShredDestroysSealedValues(t *testing.T) {
	dir := t.TempDir()
	master := newKey(t)
	s := create(t, dir, master)
	defer s.Close()
	sealer, _ := secret.NewSealer(master, s.DataKeys())
	sealed, err := sealer.Seal("sys1", "system", "sys1", "token", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sealer.Shred("sys1"); err != nil {
		t.Fatal(err)
	}
	if _, err := sealer.Open("sys1", "system", "sys1", "token", sealed); !errors.Is(err, secret.ErrNoDataKey) {
		t.Fatalf("open after shred: %v, want ErrNoDataKey", err)
	}
}

func TestSealerRotation(t *testing.T) {
	dir := t.TempDir()
	oldK, newK := newKey(t), newKey(t)
	s := create(t, dir, oldK)
	sealer, _ := secret.NewSealer(oldK, s.DataKeys())
	sealed, err := sealer.Seal("sys1", "system", "sys1", "token", []byte("tok"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sealer.PrepareRotation(newK); err != nil {
		t.Fatal(err)
	}
	// Rotation prepared but not completed: the old key still opens everything.
	if p, err := sealer.Open("sys1", "system", "sys1", "token", sealed); err != nil || string(p) != "tok" {
		t.Fatalf("before switch: %q %v", p, err)
	}
	s.Close()
	if err := RotateKey(dir, oldK, newK); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Options{Dir: dir, Key: newK})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ns, _ := secret.NewSealer(newK, s.DataKeys())
	if err := ns.Settle(); err != nil {
		t.Fatal(err)
	}
	if p, err := ns.Open("sys1", "system", "sys1", "token", sealed); err != nil || string(p) != "tok" {
		t.Fatalf("after rotation: %q %v", p, err)
	}
	old, _ := secret.NewSealer(oldK, s.DataKeys())
	if _, err := old.Open("sys1", "system", "sys1", "token", sealed); err == nil {
		t.Fatal("the old master key still unwraps the data key after Settle")
	}
}

// TestScanVersionsSeesOverwrittenAndDeleted: an overwritten value and a
// deleted key are still in the store until compaction, and ScanVersions
// shows them, so a privacy check cannot miss them.
func TestScanVersionsSeesOverwrittenAndDeleted(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	st, err := Create(Options{Dir: t.TempDir(), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, v := range []string{"first", "second"} {
		if err := st.Put("k/1", v); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Put("k/2", "gone"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete("k/2"); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	deletions := 0
	if err := st.ScanVersions(func(k string, v []byte) error {
		if v == nil {
			deletions++
		}
		seen[k+"="+string(v)] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`k/1="first"`, `k/1="second"`, `k/2="gone"`} {
		if !seen[want] {
			t.Errorf("ScanVersions missed %s (saw %v)", want, seen)
		}
	}
	if deletions == 0 {
		t.Error("the deletion marker was not shown")
	}
}
