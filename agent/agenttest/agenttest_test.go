package agenttest

import (
	"errors"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// A kit's store is a real encrypted store: it opens again with its key
// and with no other, and its sealer opens what it sealed.
func TestStoreIsEncryptedUnderItsKey(t *testing.T) {
	dir, key := t.TempDir(), Key(t)
	st := StoreAt(t, dir, key)
	if err := st.Put("k", "v"); err != nil {
		t.Fatal(err)
	}
	sealed, err := Sealer(t, st, key).Seal("scope", "system", "id", "field", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := store.Open(store.Options{Dir: dir, Key: Key(t)}); !errors.Is(err, store.ErrKeyMismatch) {
		t.Fatalf("another key: %v, want ErrKeyMismatch", err)
	}
	again, err := store.Open(store.Options{Dir: dir, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	var v string
	if err := again.Get("k", &v); err != nil || v != "v" {
		t.Fatalf("reopened: %q, %v", v, err)
	}
	if plain, err := Sealer(t, again, key).Open("scope", "system", "id", "field", sealed); err != nil || string(plain) != "secret" {
		t.Fatalf("unseal: %q, %v", plain, err)
	}
}

func TestEventuallyWaitsForTheCondition(t *testing.T) {
	n := 0
	Eventually(t, "the third look", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Fatalf("looked %d times", n)
	}
}

func TestClockMovesOnlyWhenTold(t *testing.T) {
	t0 := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	c := NewClock(t0)
	if !c.Now().Equal(t0) || !c.Now().Equal(t0) {
		t.Fatalf("a clock nobody moved shows %v", c.Now())
	}
	c.Add(90 * time.Second)
	if want := t0.Add(90 * time.Second); !c.Now().Equal(want) {
		t.Fatalf("after Add: %v, want %v", c.Now(), want)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("after Set: %v", c.Now())
	}
}
