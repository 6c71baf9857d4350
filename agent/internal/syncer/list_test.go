package syncer

import (
	"fmt"
	"testing"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// TestListsClampToTheMaximum: Runs and Pairs asked for more than
// MaxListLimit answer MaxListLimit records, not the small default page a
// caller would take for the whole list.
func TestListsClampToTheMaximum(t *testing.T) {
	st := agenttest.Store(t)
	e := New(Deps{Store: st, Bus: events.New(10, nil), Log: zerolog.Nop()})
	if err := st.Update(func(tx *store.Tx) error {
		for i := 1; i <= MaxListLimit+1; i++ {
			if err := tx.Put(keyRun("p1", uint64(i)), Run{ID: fmt.Sprintf("p1-%d", i), Process: "p1"}); err != nil {
				return err
			}
			id := fmt.Sprintf("pair%04d", i)
			if err := tx.Put(keyPair("p1", id), Pair{ID: id, Process: "p1", State: PairSynced}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	runs, err := e.Views().Runs("p1", 10*MaxListLimit)
	if err != nil || len(runs) != MaxListLimit {
		t.Fatalf("runs: %d, %v; want %d", len(runs), err, MaxListLimit)
	}
	pairs, next, err := e.Views().Pairs("p1", "", "", 10*MaxListLimit)
	if err != nil || len(pairs) != MaxListLimit || next == "" {
		t.Fatalf("pairs: %d, cursor %q, %v; want %d and a cursor", len(pairs), next, err, MaxListLimit)
	}
	if runs, _ := e.Views().Runs("p1", 0); len(runs) != DefaultRunsLimit {
		t.Fatalf("runs with no limit: %d, want %d", len(runs), DefaultRunsLimit)
	}
}
