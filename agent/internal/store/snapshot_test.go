package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestSnapshotIsConsistentWhileWritesGoOn takes a snapshot of an open store
// while another goroutine keeps moving a balance between two keys in
// transactions: the restored store holds one moment of it (the sum is
// intact), under a different key, and a store made without a schema is
// refused.
func TestSnapshotIsConsistentWhileWritesGoOn(t *testing.T) {
	key := newKey(t)
	s := create(t, filepath.Join(t.TempDir(), "store"), key)
	defer s.Close()
	if err := s.SetMeta("instance_id", "abc"); err != nil {
		t.Fatal(err)
	}
	// Enough records to span many stream batches.
	for i := 0; i < 2000; i++ {
		if err := s.Put(fmt.Sprintf("rec/%05d", i), map[string]string{"v": strings.Repeat("x", 200)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Update(func(tx *Tx) error {
		if err := tx.Put("acct/a", 1000); err != nil {
			return err
		}
		return tx.Put("acct/b", 0)
	}); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			_ = s.Update(func(tx *Tx) error {
				var a, b int
				if err := tx.Get("acct/a", &a); err != nil {
					return err
				}
				if err := tx.Get("acct/b", &b); err != nil {
					return err
				}
				if err := tx.Put("acct/a", a-1); err != nil {
					return err
				}
				return tx.Put("acct/b", b+1)
			})
		}
	}()
	var snap bytes.Buffer
	n, err := s.Snapshot(t.Context(), &snap)
	stop()
	wg.Wait()
	if err != nil || n != int64(snap.Len()) || n == 0 {
		t.Fatalf("snapshot: %d bytes, %v", n, err)
	}

	dir := filepath.Join(t.TempDir(), "restored")
	other := newKey(t)
	if err := Restore(Options{Dir: dir, Key: other}, &snap); err != nil {
		t.Fatal(err)
	}
	if err := CheckRestored(Options{Dir: dir, Key: key}); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("the source key opened the restored store: %v", err)
	}
	if err := CheckRestored(Options{Dir: dir, Key: other}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(Options{Dir: dir, Key: other})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var a, b int
	if err := r.Get("acct/a", &a); err != nil {
		t.Fatal(err)
	}
	if err := r.Get("acct/b", &b); err != nil {
		t.Fatal(err)
	}
	if a+b != 1000 {
		t.Fatalf("a torn snapshot: a=%d b=%d", a, b)
	}
	count := 0
	r.View(func(tx *Tx) error {
		return tx.Scan("rec/", "", func(string, []byte) error { count++; return nil })
	})
	if count != 2000 {
		t.Fatalf("restored %d records of 2000", count)
	}
	// The restored store is writable and keeps working.
	if err := r.Put("after/restore", 1); err != nil {
		t.Fatal(err)
	}
	if err := Restore(Options{Dir: dir, Key: other}, bytes.NewReader(nil)); err == nil {
		t.Fatal("restored over an existing store")
	}
}

func TestRestoreStopsOnAReaderError(t *testing.T) {
	key := newKey(t)
	s := create(t, filepath.Join(t.TempDir(), "store"), key)
	s.SetMeta("instance_id", "abc")
	var snap bytes.Buffer
	if _, err := s.Snapshot(t.Context(), &snap); err != nil {
		t.Fatal(err)
	}
	s.Close()
	boom := errors.New("chunk 3 fails authentication")
	r := io.MultiReader(bytes.NewReader(snap.Bytes()[:snap.Len()/2]), errReader{boom})
	if err := Restore(Options{Dir: filepath.Join(t.TempDir(), "r"), Key: key}, r); !errors.Is(err, boom) {
		t.Fatalf("restore from a failing reader: %v", err)
	}
	// An empty stream makes a store without an instance: not an agent's.
	dir := filepath.Join(t.TempDir(), "empty")
	if err := Restore(Options{Dir: dir, Key: key}, bytes.NewReader(nil)); err != nil {
		t.Fatal(err)
	}
	if err := CheckRestored(Options{Dir: dir, Key: key}); !errors.Is(err, ErrEmptySnapshot) {
		t.Fatalf("empty snapshot: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
