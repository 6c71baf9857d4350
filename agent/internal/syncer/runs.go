package syncer

// A run's record: begun in progress, saved when it ends, and recorded as
// interrupted at the next start when the agent stopped first.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// beginRun gives a run its id and records it as in progress, in one
// commit: a run the agent never finished (a crash, a kill) is found at the
// next start and recorded as interrupted.
func (e *Engine) beginRun(r *Run) error {
	return e.d.Store.Update(func(tx *store.Tx) error {
		var seq uint64
		if raw, err := tx.GetRaw(keyRunSeq(r.Process)); err == nil {
			seq, _ = strconv.ParseUint(string(raw), 10, 64)
		}
		seq++
		r.ID = r.Process + "-" + strconv.FormatUint(seq, 10)
		if err := tx.SetRaw(keyRunSeq(r.Process), []byte(strconv.FormatUint(seq, 10))); err != nil {
			return err
		}
		return tx.Put(keyRunning(r.Process), r)
	})
}

// saveRun records a finished run.
func (e *Engine) saveRun(r *Run) error {
	seq, err := runSeq(r.ID)
	if err != nil {
		return err
	}
	return e.d.Store.Update(func(tx *store.Tx) error {
		if err := tx.Put(keyRun(r.Process, seq), r); err != nil {
			return err
		}
		if err := tx.Delete(keyRunning(r.Process)); err != nil {
			return err
		}
		return e.pruneTx(tx, r.Process, seq) // retention.go
	})
}

// recordInterrupted records the runs an earlier agent left in progress.
func (e *Engine) recordInterrupted() error {
	var open []Run
	err := e.d.Store.View(func(tx *store.Tx) error {
		return tx.Scan("running/", "", func(_ string, raw []byte) error {
			var r Run
			if json.Unmarshal(raw, &r) == nil && r.ID != "" {
				open = append(open, r)
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("find interrupted runs: %w", err)
	}
	for _, r := range open {
		r.Interrupted, r.EndedAt = true, e.d.Now().UTC()
		// Canceled: the stop is no fault of a system's, so health does
		// not count it against the process.
		r.Errors = append(r.Errors, RunError{Message: "the agent stopped before the run ended (a crash or a kill); its work resumes from the queue",
			Cause: connector.CauseCanceled})
		if err := e.saveRun(&r); err != nil {
			return fmt.Errorf("record interrupted run %s: %w", r.ID, err)
		}
		e.d.Log.Warn().Str("process", r.Process).Str("run", r.ID).Msg("run interrupted: the agent stopped before it ended")
	}
	return nil
}

// runSeq reads the sequence number of a run id "<process>-<seq>".
func runSeq(id string) (uint64, error) {
	i := strings.LastIndexByte(id, '-')
	if i < 0 {
		return 0, fmt.Errorf("run id %q: %w", id, ErrNotFound)
	}
	seq, err := strconv.ParseUint(id[i+1:], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("run id %q: %w", id, ErrNotFound)
	}
	return seq, nil
}
