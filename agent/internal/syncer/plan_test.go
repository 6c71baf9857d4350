package syncer

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// storeDump is every key and value of the store, to show a dry run wrote
// nothing.
func (w *world) storeDump() map[string][]byte {
	w.t.Helper()
	out := map[string][]byte{}
	if err := w.st.View(func(tx *store.Tx) error {
		return tx.Scan("", "", func(k string, v []byte) error { out[k] = v; return nil })
	}); err != nil {
		w.t.Fatal(err)
	}
	return out
}

// unlink removes a link as a person would.
func (m *memsys) unlink(id, typ, target string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items[id]
	it.links = slices.DeleteFunc(it.links, func(l connector.Link) bool { return l.Type == typ && l.Target.ID == target })
	m.touch(it)
}

// A dry run lists every kind of write a run would make, in the order the
// run would make them, and changes nothing: not the systems, not the
// store. The list is the plan API's answer, so it is pinned here entry by
// entry.
func TestPlanListsEveryWriteAndChangesNothing(t *testing.T) {
	w := newWorld(t, ConflictHold)
	w.eng.workers = 1 // the peers' ids in the order made
	x1 := w.a.userCreate("incident", connector.Fields{"title": "one", "status": "new"})
	x2 := w.a.userCreate("incident", connector.Fields{"title": "two", "status": "new"})
	x3 := w.a.userCreate("incident", connector.Fields{"title": "three", "status": "new"})
	x4 := w.a.userCreate("incident", connector.Fields{"title": "four", "status": "new"})
	w.a.userComment(x1, "first words")
	w.a.userComment(x1, "second words")
	w.a.userAttach(x1, "a.txt", []byte("aaa"))
	w.a.userLink(x1, "blocks", x2)
	w.quiesce()
	y4 := w.peerOf(SideA, x4)

	// Every kind of change, on both sides.
	w.proc.Types[0].Fields[1].ValueMap.DefaultB = nil
	w.proc.Types[0].Fields[1].ValueMap.OnMissing = mapping.OnMissingError
	w.st.Put("proc/p1", w.proc)
	w.a.userCreate("incident", connector.Fields{"title": "fresh", "status": "new"})
	w.b.userCreate("bug", connector.Fields{"title": "from eng", "status": "open"})
	w.a.userCreate("incident", connector.Fields{"title": "bad", "status": "weird"})
	w.a.userSet(x1, "title", "one, renamed")
	orig := w.a.items[x1].comments
	w.a.userEditComment(x1, orig[0].ID, "first words, corrected")
	w.a.userDeleteComment(x1, orig[1].ID)
	w.a.userComment(x1, "third words")
	w.a.mu.Lock()
	gone := w.a.items[x1].atts[0]
	w.a.mu.Unlock()
	w.a.DeleteAttachment(nil, connector.Ref{ID: x1}, gone)
	w.a.userAttach(x1, "c.txt", []byte("cccc"))
	w.a.unlink(x1, "blocks", x2)
	w.a.userLink(x1, "blocks", x4)
	w.a.userDelete(x3)
	w.a.userSet(x4, "title", "four from A")
	w.b.userSet(y4, "title", "four from B")
	w.clock.advance(1)

	plan, sysBefore := w.planChangesNothing()
	var got []string
	for _, it := range plan {
		got = append(got, strings.Join([]string{it.Action, string(it.Side), it.Key, it.Title, it.Detail}, " | "))
	}
	want := []string{
		"read | a | HELP-5 | fresh | ",
		"read | a | HELP-6 | bad | ",
		"read | a | HELP-1 | one, renamed | ",
		"read | a | HELP-4 | four from A | ",
		"read | b | ENG-5 | from eng | ",
		"read | b | ENG-4 | four from B | ",
		"create | b | HELP-5 | fresh | bug from a HELP-5",
		"error | a | HELP-6 | bad | map HELP-6: fields[1].valueMap: map status -> status value sha256:0728c355c79c: no value map entry: needs attention",
		"update | b | ENG-1 | one | title",
		"comment-edit | b | ENG-1 |  | comment 1 from HELP-1",
		"comment | b | ENG-1 |  | comment 3 from HELP-1",
		"comment-delete | b | ENG-1 |  | copy 2 of deleted comment 2",
		"attach | b | ENG-1 |  | c.txt (4 bytes) from HELP-1",
		"attachment-delete | b | ENG-1 |  | copy 1 of deleted attachment 1",
		"link | b | ENG-1 |  | blocks ENG-4",
		"unlink | b | ENG-1 |  | blocks 2",
		"hold | a | HELP-4 | four from A | title|title",
		"deleted | a | HELP-3 | three | deletion policy ignore for its peer ENG-3",
		"create | a | ENG-5 | from eng | incident from b ENG-5",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("plan:\n%s", strings.Join(got, "\n"))
	}

	// A real run then makes the writes the plan listed, no more, no less.
	made := w.runForPlan(sysBefore)
	w.b.mu.Lock()
	if !slices.ContainsFunc(w.b.items[w.peerOf(SideA, x1)].links, func(l connector.Link) bool { return l.Target.ID == w.peerOf(SideA, x2) }) {
		made["unlink b"] = 1
	}
	w.b.mu.Unlock()
	if planned := plannedWrites(plan); !maps.Equal(made, planned) {
		t.Fatalf("the run wrote %v; the plan said %v", made, planned)
	}
}

// A dry run after the pairs were lost (the process deleted and created
// again) lists the peers it would adopt and the changes made since that it
// would carry over, and never a create.
func TestPlanAfterPairsWereLostAdopts(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.eng.workers = 1
	ids := withExtras(w.a, "incident", "new", 2, 1)
	w.quiesce()
	w.losePairs()
	w.a.userSet(ids[0], "priority", "high")
	w.clock.advance(1)

	plan, sysBefore := w.planChangesNothing()
	got := planLines(plan)
	want := []string{
		"adopt | b | ENG-2 | existing peer of HELP-2",
		"adopt | b | ENG-1 | existing peer of HELP-1",
		"update | b | ENG-1 | priority",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("plan:\n%s", strings.Join(got, "\n"))
	}
	if made, planned := w.runForPlan(sysBefore), plannedWrites(plan); !maps.Equal(made, planned) {
		t.Fatalf("the run wrote %v; the plan said %v", made, planned)
	}
	w.agree()
}

// A dry run after the pairs were lost lists the deletion of an entity
// whose copy it finds by its marker, as the run then applies the deletion
// policy to it, and creates nothing.
func TestPlanAfterPairsWereLostListsADeletion(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.eng.workers = 1
	ids := withExtras(w.a, "incident", "new", 2, 0)
	w.quiesce()
	copyID := w.peerOf(SideA, ids[0])
	w.losePairs()
	w.a.userDelete(ids[0])
	w.clock.advance(1)

	plan, sysBefore := w.planChangesNothing()
	got := planLines(plan)
	want := []string{
		"adopt | b | ENG-2 | existing peer of HELP-2",
		"deleted | a | HELP-1 | deletion policy ignore for its peer ENG-1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("plan:\n%s", strings.Join(got, "\n"))
	}
	if made, planned := w.runForPlan(sysBefore), plannedWrites(plan); !maps.Equal(made, planned) {
		t.Fatalf("the run wrote %v; the plan said %v", made, planned)
	}
	if p, err := w.eng.pairOf("p1", SideB, copyID); err != nil || p == nil || p.State != PairDeleted {
		t.Fatalf("the copy's pair after the run: %+v %v", p, err)
	}
}

// planChangesNothing makes a plan and checks that it changed neither
// system nor any key of the store. It returns the plan and the engine's
// writes so far.
func (w *world) planChangesNothing() ([]PlanItem, map[string]int) {
	t := w.t
	t.Helper()
	before, sysBefore := w.storeDump(), w.engineWrites()
	plan, err := w.eng.Plan(context.Background(), "p1")
	if err != nil {
		t.Fatal(err)
	}
	if sysAfter := w.engineWrites(); !maps.Equal(sysAfter, sysBefore) {
		t.Fatalf("the dry run wrote to a system: %v, was %v", sysAfter, sysBefore)
	}
	after := w.storeDump()
	for k, v := range after {
		if !bytes.Equal(before[k], v) {
			t.Fatalf("the dry run changed %s in the store", k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			t.Fatalf("the dry run removed %s from the store", k)
		}
	}
	return plan, sysBefore
}

// losePairs deletes the process and stores the same document again: every
// pair is gone, the entities and their markers stay.
func (w *world) losePairs() {
	w.t.Helper()
	if err := w.eng.Processes().Delete("admin", "p1"); err != nil {
		w.t.Fatal(err)
	}
	if err := w.st.Put("proc/p1", w.proc); err != nil {
		w.t.Fatal(err)
	}
}

// planLines are a plan's entries other than reads, one line each.
func planLines(plan []PlanItem) []string {
	var out []string
	for _, it := range plan {
		if it.Action != "read" {
			out = append(out, strings.Join([]string{it.Action, string(it.Side), it.Key, it.Detail}, " | "))
		}
	}
	return out
}

// runForPlan runs for real and returns the writes it made since before,
// by plan action and side.
func (w *world) runForPlan(before map[string]int) map[string]int {
	w.run()
	made := map[string]int{}
	for k, n := range w.engineWrites() {
		if d := n - before[k]; d != 0 {
			made[k] = d
		}
	}
	return made
}

// plannedWrites counts a plan's writes to systems by action and side.
func plannedWrites(plan []PlanItem) map[string]int {
	out := map[string]int{}
	for _, it := range plan {
		switch it.Action {
		case "read", "error", "hold", "deleted", "adopt":
		default:
			out[it.Action+" "+string(it.Side)]++
		}
	}
	return out
}

// engineWrites counts the engine's writes to each system, by plan action
// and side.
func (w *world) engineWrites() map[string]int {
	out := map[string]int{}
	for _, m := range []struct {
		s   Side
		sys *memsys
	}{{SideA, w.a}, {SideB, w.b}} {
		m.sys.mu.Lock()
		for action, n := range map[string]int{"create": m.sys.engineCreates, "update": m.sys.engineUpdates, "comment": m.sys.engineComments,
			"comment-edit": m.sys.engineCommentEdits, "comment-delete": m.sys.engineCommentDeletes, "attach": m.sys.engineUploads,
			"attachment-delete": m.sys.engineAttDeletes, "link": m.sys.engineLinks, "delete": m.sys.engineDeletes} {
			out[action+" "+string(m.s)] = n
		}
		m.sys.mu.Unlock()
	}
	return out
}
