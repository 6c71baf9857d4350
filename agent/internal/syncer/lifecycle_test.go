package syncer

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

// plain hides a system's optional abilities (marker reading, deletes,
// comment edits): a system that can do only what the contract requires.
type plain struct{ connector.Connector }

func (w *world) plainSystems() {
	d := w.eng.d
	open := d.Open
	d.Open = func(id string) (connector.Connector, error) {
		c, err := open(id)
		if err != nil {
			return nil, err
		}
		return plain{c}, nil
	}
	w.eng = New(d)
}

func TestDeletionPolicies(t *testing.T) {
	for _, action := range []DeleteAction{DeleteIgnore, DeleteMirror, DeleteMark} {
		for _, side := range []Side{SideA, SideB} {
			t.Run(fmt.Sprint(action, " on ", side), func(t *testing.T) {
				w := newWorld(t, ConflictAWins)
				pol := DeletePolicy{Action: action}
				if action == DeleteMark {
					pol.Field, pol.Value = "status", "closed"
				}
				w.proc.Options.Deletes = Deletes{A: pol, B: pol}
				w.st.Put("proc/p1", w.proc)
				keep := w.a.userCreate("incident", connector.Fields{"title": "stays", "status": "new"})
				id := w.a.userCreate("incident", connector.Fields{"title": "goes", "status": "new"})
				w.a.userComment(id, "a remark")
				w.quiesce()
				dead, survivor := w.a, w.b
				deadID, peerID := id, w.peerOf(SideA, id)
				if side == SideB {
					dead, survivor = w.b, w.a
					deadID, peerID = peerID, id
				}
				dead.userDelete(deadID)
				creates := w.a.engineCreates + w.b.engineCreates
				w.quiesce()
				w.quiesce()
				if got := w.a.engineCreates + w.b.engineCreates; got != creates {
					t.Fatalf("a deletion resurrected something: %d creates", got-creates)
				}
				pair, _ := w.eng.pairOf("p1", side.Other(), peerID)
				_, peerAlive := survivor.items[peerID]
				switch action {
				case DeleteMirror:
					if peerAlive || pair != nil || survivor.engineDeletes != 1 {
						t.Fatalf("mirror: peer alive %v, pair %+v, %d deletes", peerAlive, pair, survivor.engineDeletes)
					}
				case DeleteIgnore, DeleteMark:
					if !peerAlive || pair == nil || pair.State != PairDeleted || pair.Gone != side || !strings.Contains(pair.Error, "was deleted") {
						t.Fatalf("%s: peer alive %v, pair %+v", action, peerAlive, pair)
					}
					it := survivor.items[peerID]
					marks := 0
					for _, c := range it.comments {
						if strings.Contains(c.Body, "was deleted") {
							marks++
						}
					}
					if action == DeleteMark {
						want := "closed"
						if marks != 1 || it.ent.Fields["status"] != want {
							t.Fatalf("mark: %d notes, status %v", marks, it.ent.Fields["status"])
						}
					} else if marks != 0 || survivor.engineUpdates != 0 && survivor == w.a {
						t.Fatalf("ignore wrote to the survivor: %d notes", marks)
					}
					// The survivor's later edits go nowhere and recreate nothing.
					survivor.userSet(peerID, "title", "edited after")
					w.quiesce()
					if got := w.a.engineCreates + w.b.engineCreates; got != creates {
						t.Fatalf("an edit of the survivor recreated its peer")
					}
				}
				if p, _ := w.eng.pairOf("p1", SideA, keep); p == nil || p.State != PairSynced {
					t.Fatalf("the other pair: %+v", p)
				}
			})
		}
	}
}

// peerOf is the id of side s's entity's peer.
func (w *world) peerOf(s Side, id string) string {
	w.t.Helper()
	p, err := w.eng.pairOf("p1", s, id)
	if err != nil || p == nil {
		w.t.Fatalf("no pair for %s %s: %v", s, id, err)
	}
	return p.Ref(s.Other()).ID
}

func TestCommentEditsAndDeletesReachTheCopy(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "talk", "status": "new"})
	w.a.userComment(id, "first words")
	w.a.userComment(id, "second words")
	w.quiesce()
	peer := w.peerOf(SideA, id)
	orig := w.a.items[id].comments
	w.a.userEditComment(id, orig[0].ID, "first words, corrected")
	w.a.userDeleteComment(id, orig[1].ID)
	w.quiesce()
	copies := w.b.items[peer].comments
	if len(copies) != 1 || !strings.Contains(copies[0].Body, "first words, corrected") || strings.Count(copies[0].Body, "lockstep:") != 1 {
		t.Fatalf("copies after the edit and delete: %+v", copies)
	}
	if w.b.engineCommentEdits != 1 || w.b.engineCommentDeletes != 1 {
		t.Fatalf("%d edits, %d deletes", w.b.engineCommentEdits, w.b.engineCommentDeletes)
	}
	w.agree()
}

// A system that cannot edit or delete comments: the divergence is said on
// the pair, never silent.
func TestCommentEditOnASystemThatCannotIsReported(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.plainSystems()
	id := w.a.userCreate("incident", connector.Fields{"title": "talk", "status": "new"})
	w.a.userComment(id, "first words")
	w.a.userComment(id, "second words")
	w.quiesce()
	orig := w.a.items[id].comments
	w.a.userEditComment(id, orig[0].ID, "first words, corrected")
	w.a.userDeleteComment(id, orig[1].ID)
	w.quiesce()
	p, _ := w.eng.pairOf("p1", SideA, id)
	joined := strings.Join(p.Divergences, "\n")
	if !strings.Contains(joined, "was edited") || !strings.Contains(joined, "was deleted") {
		t.Fatalf("divergences %q", p.Divergences)
	}
	if w.b.engineCommentEdits+w.b.engineCommentDeletes != 0 {
		t.Fatal("wrote through an ability the system does not have")
	}
}

func TestAttachmentDeleteReachesTheCopy(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "files", "status": "new"})
	w.a.userAttach(id, "a.txt", []byte("aaa"))
	w.a.userAttach(id, "b.txt", []byte("bbbb"))
	w.quiesce()
	peer := w.peerOf(SideA, id)
	w.a.mu.Lock()
	gone := w.a.items[id].atts[0]
	w.a.mu.Unlock()
	w.a.DeleteAttachment(nil, connector.Ref{ID: id}, gone)
	w.quiesce()
	if n := len(w.b.items[peer].atts); n != 1 || w.b.items[peer].atts[0].Name != "b.txt" {
		t.Fatalf("copies after the delete: %+v", w.b.items[peer].atts)
	}
	w.agree()
}

// A held field does not freeze the pair: its other fields, comments and
// attachments go on syncing.
func TestHeldFieldDoesNotFreezeThePair(t *testing.T) {
	w := newWorld(t, ConflictHold)
	id := w.a.userCreate("incident", connector.Fields{"title": "Base", "status": "new", "priority": "low"})
	w.quiesce()
	peer := w.peerOf(SideA, id)
	w.a.userSet(id, "title", "From A")
	w.b.userSet(peer, "title", "From B")
	w.run()
	w.a.userSet(id, "priority", "high")
	w.a.userComment(id, "while held")
	w.quiesce()
	b := w.b.items[peer]
	if b.ent.Fields["priority"] != "high" || len(b.comments) != 1 {
		t.Fatalf("held pair froze: priority %v, %d comments", b.ent.Fields["priority"], len(b.comments))
	}
	p, _ := w.eng.pairOf("p1", SideA, id)
	if p.State != PairHeld || len(p.Held) != 1 || b.ent.Title != "From B" || w.a.items[id].ent.Title != "From A" {
		t.Fatalf("the conflict itself must wait: %+v", p)
	}
}

func TestUnpairKeepsBothOutOfSync(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "leave me", "status": "new"})
	w.quiesce()
	peer := w.peerOf(SideA, id)
	p, _ := w.eng.pairOf("p1", SideA, id)
	if n, err := w.eng.Unpair("admin", "p1", []string{p.ID}); err != nil || n != 1 {
		t.Fatalf("unpair: %d %v", n, err)
	}
	creates := w.a.engineCreates + w.b.engineCreates
	w.a.userSet(id, "title", "changed after unpairing")
	w.b.userSet(peer, "priority", "high")
	w.quiesce()
	if got := w.a.engineCreates + w.b.engineCreates; got != creates {
		t.Fatal("an unpaired entity was copied again (or re-adopted by its marker)")
	}
	if w.b.items[peer].ent.Title == "changed after unpairing" {
		t.Fatal("an unpaired entity is still synced")
	}
	// Relinking brings them back.
	v, excluded, err := w.eng.Relink(context.Background(), "admin", "p1", id, peer)
	if err != nil || len(excluded) != 0 || v.State != PairSynced {
		t.Fatalf("relink: %+v %v %v", v, excluded, err)
	}
	w.a.userSet(id, "title", "synced again")
	w.quiesce()
	if w.b.items[peer].ent.Title != "synced again" {
		t.Fatal("a relinked pair does not sync")
	}
}

func TestRelinkFixesAWrongPairAndExcludesTheOrphan(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "one", "status": "new"})
	w.quiesce()
	wrong := w.peerOf(SideA, id)
	right := w.b.userCreate("bug", connector.Fields{"title": "the real one", "status": "open"})
	w.proc.Options.CreateInA = false
	w.st.Put("proc/p1", w.proc)
	_, excluded, err := w.eng.Relink(context.Background(), "admin", "p1", "HELP-"+id, right)
	if err != nil || len(excluded) != 1 || excluded[0] != "ENG-"+wrong {
		t.Fatalf("relink: %v %v", excluded, err)
	}
	w.proc.Options.CreateInA = true
	w.st.Put("proc/p1", w.proc)
	creates := w.a.engineCreates
	w.quiesce()
	if w.a.engineCreates != creates {
		t.Fatal("the orphaned peer was copied back")
	}
	if p, _ := w.eng.pairOf("p1", SideA, id); p == nil || p.B.ID != right {
		t.Fatalf("pair after relink: %+v", p)
	}
}

func TestRecreateAfterAPeerWasDeleted(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "phoenix", "status": "new"})
	w.quiesce()
	w.b.userDelete(w.peerOf(SideA, id))
	w.quiesce()
	p, _ := w.eng.pairOf("p1", SideA, id)
	if p == nil || p.State != PairDeleted {
		t.Fatalf("pair %+v", p)
	}
	if err := w.eng.Recreate("admin", "p1", p.ID); err != nil {
		t.Fatal(err)
	}
	w.quiesce()
	w.agree()
	if len(w.b.items) != 1 {
		t.Fatalf("%d items in B after recreating", len(w.b.items))
	}
}

func TestAdoptByFieldAndByCSV(t *testing.T) {
	for _, mode := range []string{"field", "csv"} {
		t.Run(mode, func(t *testing.T) {
			w := newWorld(t, ConflictAWins)
			a1 := w.a.userCreate("incident", connector.Fields{"title": "Printer", "status": "new"})
			w.a.userCreate("incident", connector.Fields{"title": "Same", "status": "new"})
			w.a.userCreate("incident", connector.Fields{"title": "Same", "status": "new"})
			w.a.userCreate("incident", connector.Fields{"title": "Only in A", "status": "new"})
			b1 := w.b.userCreate("bug", connector.Fields{"title": "printer ", "status": "open"})
			w.b.userCreate("bug", connector.Fields{"title": "Same", "status": "open"})
			req := AdoptRequest{MatchA: "title", MatchB: "title", DryRun: true}
			if mode == "csv" {
				req = AdoptRequest{CSV: "a,b\nHELP-" + a1 + ",ENG-" + b1 + "\nHELP-404,ENG-" + b1 + "\n", DryRun: true}
			}
			res, err := w.eng.Adopt(context.Background(), "admin", "p1", req)
			if err != nil || len(res.Matches) != 1 || res.Matches[0].A.ID != a1 || res.Matches[0].B.ID != b1 {
				t.Fatalf("dry run: %+v %v", res, err)
			}
			if mode == "field" && (len(res.Ambiguous) != 1 || len(res.UnmatchedA) != 1) {
				t.Fatalf("dry run ambiguities and unmatched: %+v", res)
			}
			if mode == "csv" && (len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "HELP-404")) {
				t.Fatalf("dry run problems: %+v", res.Problems)
			}
			if p, _ := w.eng.pairOf("p1", SideA, a1); p != nil {
				t.Fatal("a dry run adopted")
			}
			req.DryRun = false
			if res, err = w.eng.Adopt(context.Background(), "admin", "p1", req); err != nil || res.Adopted != 1 {
				t.Fatalf("adopt: %+v %v", res, err)
			}
			w.quiesce()
			if w.b.items[b1].ent.Title != "Printer" && w.b.engineCreates != 3 {
				t.Fatalf("adopted pair: B title %q, %d creates in B", w.b.items[b1].ent.Title, w.b.engineCreates)
			}
			if p, _ := w.eng.pairOf("p1", SideA, a1); p == nil || p.B.ID != b1 {
				t.Fatalf("pair of %s: %+v", a1, p)
			}
		})
	}
}

func TestResolveFieldByFieldIsAudited(t *testing.T) {
	w := newWorld(t, ConflictHold)
	id := w.a.userCreate("incident", connector.Fields{"title": "Base", "status": "new", "priority": "low"})
	w.quiesce()
	peer := w.peerOf(SideA, id)
	w.a.userSet(id, "title", "A title")
	w.b.userSet(peer, "title", "B title")
	w.a.userSet(id, "priority", "high")
	w.b.userSet(peer, "priority", "low")
	w.b.userSet(peer, "priority", "low")
	w.b.userSet(peer, "labels", []string{"b"})
	w.a.userSet(id, "labels", []string{"a"})
	w.run()
	p, _ := w.eng.pairOf("p1", SideA, id)
	if p.State != PairHeld || len(p.Held) != 2 {
		t.Fatalf("held: %+v", p.Held)
	}
	vals, err := w.eng.PairValues(context.Background(), "p1", p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vals {
		if v.Field == "title|title" && (v.A != "A title" || v.B != "B title" || !v.Held) {
			t.Fatalf("live values of title: %+v", v)
		}
	}
	sub, _, _ := w.eng.d.Bus.Subscribe([]string{apitype.EventPairChanged}, nil, 4)
	defer sub.Close()
	if err := w.eng.ResolveFields("carol", "p1", p.ID, map[string]Side{"title|title": SideB}); err != nil {
		t.Fatal(err)
	}
	var got apitype.PairChanged
	if ev := <-sub.C(); json.Unmarshal(ev.Data, &got) != nil || got != (apitype.PairChanged{Process: "p1", Pair: p.ID, Change: "resolved"}) {
		t.Fatalf("after a resolve: event %s", ev.Data)
	}
	if err := w.eng.ResolveFields("carol", "p1", p.ID, map[string]Side{"status|status": SideB}); err == nil {
		t.Fatal("resolved a field that is not held")
	}
	w.quiesce()
	p, _ = w.eng.pairOf("p1", SideA, id)
	if w.a.items[id].ent.Title != "B title" || p.State != PairHeld || len(p.Held) != 1 || p.Held[0] != "labels|labels" {
		t.Fatalf("after resolving the title for b: A title %q, pair %s %v", w.a.items[id].ent.Title, p.State, p.Held)
	}
}

func TestQueueSaysWhatWaitsAndWhy(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.a.userCreate("incident", connector.Fields{"title": "one", "status": "new"})
	w.b.fail = func(op string) error {
		if op == "create" {
			return errFlaky
		}
		return nil
	}
	w.run()
	q, err := w.eng.Views().Queue("p1", 10)
	if err != nil || q.Total != 1 || q.Retrying != 1 || len(q.Items) != 1 || !strings.Contains(q.Items[0].Reason, "flaky") || q.Items[0].Step != stepFields {
		t.Fatalf("queue %+v %v", q, err)
	}
}

func TestInterruptedRunIsRecordedAtTheNextStart(t *testing.T) {
	w := newKillWorld(t)
	w.a.userCreate("incident", connector.Fields{"title": "one", "status": "new"})
	k := w.killAt(w.b, "create", 1)
	if !w.runKilled(k) {
		t.Fatal("no create")
	}
	w.restart()
	if err := w.eng.recordInterrupted(); err != nil {
		t.Fatal(err)
	}
	runs, _ := w.eng.Views().Runs("p1", 10)
	if len(runs) != 1 || !runs[0].Interrupted {
		t.Fatalf("runs %+v", runs)
	}
}
