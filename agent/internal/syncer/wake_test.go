package syncer

import (
	"fmt"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// putQueue writes n queue entries of process p1, side A, entities
// "A-<i>", each made by item(i), in transactions of a size Badger takes.
func (w *world) putQueue(n int, item func(i int) QueueItem) {
	w.t.Helper()
	const batch = 500
	for start := 0; start < n; start += batch {
		err := w.st.Update(func(tx *store.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				it := item(i)
				if err := tx.Put(keyQueue("p1", it.Side, it.Entity), it); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			w.t.Fatal(err)
		}
	}
}

// A process with more entities waiting out a backoff than one Badger
// transaction can rewrite (tens of thousands, after an outage of a system
// during a large sync) has them all woken: each is due now, its attempts
// still counted, and an entity already due is left as it was.
func TestWakeQueueWakesMoreThanOneTransactionHolds(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	const n = 20000 // about 3.5 MB of entries: Badger takes about 1.2 MB in one transaction here
	later := w.clock.now().Add(time.Hour)
	w.putQueue(n, func(i int) QueueItem {
		it := QueueItem{Side: SideA, Entity: fmt.Sprintf("A-%05d", i), Attempts: 3, NotBefore: later,
			LastError: "POST /api/items: HTTP 503 Service Unavailable", Enqueued: w.clock.now().Add(-time.Hour)}
		if i%1000 == 0 {
			it.NotBefore, it.Attempts = time.Time{}, 0 // due already
		}
		return it
	})
	if err := w.eng.wakeQueue("p1"); err != nil {
		t.Fatalf("wake %d entities: %v", n, err)
	}
	seen := 0
	err := w.st.View(func(tx *store.Tx) error {
		return tx.Scan(prefixQueue("p1"), "", func(k string, raw []byte) error {
			var it QueueItem
			if err := tx.Get(k, &it); err != nil {
				return err
			}
			seen++
			want := 3
			if seen%1000 == 1 {
				want = 0
			}
			if !it.NotBefore.IsZero() || it.Attempts != want {
				return fmt.Errorf("entry %s after the wake: %+v", k, it)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != n {
		t.Fatalf("%d entries after the wake, want %d", seen, n)
	}
}
