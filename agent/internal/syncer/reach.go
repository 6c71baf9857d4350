package syncer

// How far a run has read each side's changes, for creates. A run polls in
// rounds (run.go): until a side's poll has been read to its end, a copy
// made before (its pair lost: a process created again or imported, a store
// restored from an older copy) may lie in a later round, unseen. A create
// never trusts what it has not seen:
//   - a create into a side whose polls read markers first reads the
//     markers of that side's changes not yet polled (allMarks): a pass over
//     the pages, keeping nothing but the markers, once per run and side;
//   - an unpaired entity of a side whose polls read no markers may itself
//     be such a copy, which only its original's look for a peer made before
//     can tell (drain): it waits, in the queue, until the other side's
//     changes are all read and looked at (waits).
// In the ordinary initial sync, where one side's backlog fits a round, the
// other side's poll reaches its end in the first round: neither applies.

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// reach is shared by a run's workers.
type reach struct {
	mu sync.Mutex
	// unread: the side's changes are not all read (its poll stopped after
	// a round); marked: its markers are, by allMarks.
	unread, marked map[Side]bool
	// marking is held through a pass of allMarks, which pages through a
	// side's changes: the workers about to create wait for it, not those
	// only asking how far the run has read (mu).
	marking sync.Mutex
}

func newReach() *reach { return &reach{unread: map[Side]bool{}, marked: map[Side]bool{}} }

// polled records whether side s's poll stopped after a round, changes
// following.
func (r *reach) polled(s Side, more bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unread[s] = more
}

// fromWatermarks is the reach of a run that polls nothing (an entity
// synced on request): as the last poll left each side.
func (c *cycle) fromWatermarks() error {
	for _, s := range []Side{SideA, SideB} {
		var wm Watermark
		if err := c.e.d.Store.Get(keyWatermark(c.p.ID, s), &wm); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		c.reach.polled(s, wm.Partial)
	}
	return nil
}

// unread reports whether side s's changes are not all read yet.
func (c *cycle) unread(s Side) bool {
	if c.reach == nil {
		return false
	}
	c.reach.mu.Lock()
	defer c.reach.mu.Unlock()
	return c.reach.unread[s]
}

// waits reports whether an unpaired entity of side s waits for the other
// side's changes to be all read: s's polls read no markers, so it may be a
// copy of an entity of the other side not read yet.
func (c *cycle) waits(s Side) bool {
	return !c.indexed(s) && c.unread(s.Other())
}

// unwaited leaves out of a drain the unpaired items that wait (waits):
// their queue entries stay, due, for the round that has read the other
// side to its end. Nothing of them is read before.
func (c *cycle) unwaited(items []QueueItem) []QueueItem {
	if !c.waits(SideA) && !c.waits(SideB) {
		return items
	}
	out := items[:0:0]
	for _, it := range items {
		if c.waits(it.Side) {
			if id, err := c.e.pairIDOf(c.p.ID, it.Side, it.Entity); err == nil && id == "" {
				continue
			}
		}
		out = append(out, it)
	}
	return out
}

// allMarks has the marker index of side t, whose polls read markers, hold
// the markers of all its changes, those this run's poll has not reached
// too, before a create into t trusts the index. Only the markers are kept,
// a page at a time: what stays in memory is bounded as the rounds are.
func (c *cycle) allMarks(ctx context.Context, t Side) error {
	r := c.reach
	if r == nil {
		return nil
	}
	r.marking.Lock()
	defer r.marking.Unlock()
	r.mu.Lock()
	done := !r.unread[t] || r.marked[t]
	r.mu.Unlock()
	if done {
		return nil
	}
	var wm Watermark
	if err := c.e.d.Store.Get(keyWatermark(c.p.ID, t), &wm); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	since := wm.Since
	if !since.IsZero() {
		since = since.Add(-overlap)
	}
	for cursor := ""; ; {
		page, err := c.con[t].Changes(ctx, c.p.End(t).Project, since, cursor)
		if err != nil {
			return onSide(t, fmt.Errorf("read the markers of side %s's changes not polled yet: %w", t, err))
		}
		marks := map[string]string{}
		for _, ent := range page.Entities {
			if ent.Marker != "" {
				marks[ent.Marker] = ent.ID
			}
		}
		if err := c.q.mark(t, marks); err != nil {
			return fmt.Errorf("record the markers of side %s: %w", t, err)
		}
		if page.Cursor == "" {
			break
		}
		cursor = page.Cursor
	}
	r.mu.Lock()
	r.marked[t] = true
	r.mu.Unlock()
	c.log.Info().Str("side", string(t)).Msg("read the markers of changes in later rounds before creating")
	return nil
}
