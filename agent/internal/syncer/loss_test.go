package syncer

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

// The losses an outside check found, each reproduced deterministically.

// withExtras makes n items in m, each with comments and one attachment.
func withExtras(m *memsys, typ, status string, n, comments int) []string {
	var ids []string
	for i := 0; i < n; i++ {
		id := m.userCreate(typ, connector.Fields{"title": fmt.Sprintf("%s item %d", m.prefix, i), "status": status})
		for c := 0; c < comments; c++ {
			m.userComment(id, fmt.Sprintf("comment %d of item %d", c, i))
		}
		m.userAttach(id, fmt.Sprintf("log-%d.txt", i), []byte(strings.Repeat("x", 10+i)))
		ids = append(ids, id)
	}
	return ids
}

// A kill after the peer exists and its pair is registered, but before the
// item's comments and attachments are copied: after a restart they must
// still be copied.
func TestKillAfterCreateStillCopiesCommentsAndAttachments(t *testing.T) {
	w := newKillWorld(t)
	withExtras(w.a, "incident", "new", 3, 3)
	k := w.killAt(w.b, "comment", 1)
	if !w.runKilled(k) {
		t.Fatal("the run never copied a comment")
	}
	if len(w.b.items) != 1 {
		t.Fatalf("%d items in B at the kill, want 1", len(w.b.items))
	}
	w.restart()
	w.quiesce()
	w.agree()
	for _, it := range w.b.items {
		if len(it.comments) != 3 || len(it.atts) != 1 {
			t.Errorf("%s has %d comments and %d attachments, want 3 and 1", it.ent.Key, len(it.comments), len(it.atts))
		}
	}
}

// writeOps are the calls that change a system.
var writeOps = map[string]bool{"create": true, "create-after": true, "update": true, "comment": true, "upload": true, "link": true}

// A kill between every two writes of a create (peer, pair, comments,
// attachments, links), then a restart: nothing duplicated, nothing lost.
func TestKillBetweenEveryTwoWritesOfACreate(t *testing.T) {
	setup := func(w *world) {
		target := w.a.userCreate("incident", connector.Fields{"title": "already synced", "status": "new"})
		w.quiesce()
		ids := withExtras(w.a, "incident", "new", 1, 2)
		w.a.userLink(ids[0], "blocks", target)
	}
	// Count the writes of a clean run.
	clean := newKillWorld(t)
	setup(clean)
	writes := 0
	clean.b.fail = func(op string) error {
		if writeOps[op] {
			writes++
		}
		return nil
	}
	clean.quiesce()
	clean.agree()
	if writes < 5 {
		t.Fatalf("a clean create made %d writes; expected create, 2 comments, an upload and a link", writes)
	}
	for n := 1; n <= writes; n++ {
		t.Run(fmt.Sprint("kill before write ", n), func(t *testing.T) {
			w := newKillWorld(t)
			setup(w)
			k := w.killAtWrite(w.b, n)
			if !w.runKilled(k) {
				t.Fatalf("write %d never came", n)
			}
			w.restart()
			w.quiesce()
			w.agree()
			if len(w.b.items) != 2 {
				t.Fatalf("%d items in B, want 2", len(w.b.items))
			}
		})
	}
}

// A link to an item that gets its pair later in the same run (or a later
// one) is made once the target is paired, along chains of new items.
func TestLinksToItemsCreatedInTheSameRun(t *testing.T) {
	w := newKillWorld(t)
	x := w.a.userCreate("incident", connector.Fields{"title": "X", "status": "new"})
	y := w.a.userCreate("incident", connector.Fields{"title": "Y", "status": "new"})
	z := w.a.userCreate("incident", connector.Fields{"title": "Z", "status": "new"})
	w.a.userLink(x, "blocks", y)
	w.a.userLink(y, "blocks", z)
	w.quiesce()
	w.agree()
	if w.b.engineLinks != 2 {
		t.Fatalf("%d links made in B, want 2 (X->Y, Y->Z)", w.b.engineLinks)
	}
}

// One update writes both sides; the second write is refused because a
// person changed that side meanwhile, undoing there the very change the
// first write carried over. The first write landed and must be recorded as
// synced, or the next run takes it for a person's change: a conflict, or
// the person's edit silently reverted.
func TestHalfFinishedUpdateRecordsTheWriteThatLanded(t *testing.T) {
	for _, policy := range []ConflictPolicy{ConflictHold, ConflictAWins, ConflictBWins} {
		t.Run(string(policy), func(t *testing.T) {
			w := newWorld(t, policy)
			id := w.a.userCreate("incident", connector.Fields{"title": "Disk full", "status": "new", "priority": "low"})
			w.quiesce()
			w.a.userSet(id, "status", "solved")  // flows to B
			w.b.userSet("1", "priority", "high") // flows to A
			updates := 0
			refused := ""
			refuse := func(side string) func(string) error {
				return func(op string) error {
					if op != "update" {
						return nil
					}
					updates++
					if updates != 2 {
						return nil
					}
					// The person undoes, on the side about to be written,
					// the change the first write carried away from it.
					refused = side
					if side == "a" {
						w.a.userSet(id, "status", "new")
					} else {
						w.b.userSet("1", "priority", "low")
					}
					return connector.ErrConflict
				}
			}
			w.a.fail, w.b.fail = refuse("a"), refuse("b")
			w.run()
			w.a.fail, w.b.fail = nil, nil
			if refused == "" {
				t.Fatal("the update made fewer than two writes")
			}
			w.clock.advance(time.Hour)
			w.quiesce()
			w.agree()
			runs, _ := w.eng.Views().Runs("p1", 50)
			for _, r := range runs {
				if len(r.Conflicts) > 0 {
					t.Fatalf("run %s reported a conflict %+v: the engine took its own write for a person's", r.ID, r.Conflicts)
				}
			}
			if refused == "a" {
				if got := w.a.items[id].ent.Fields["status"]; got != "new" {
					t.Fatalf("A's status = %v: the person's undo was reverted", got)
				}
			} else if got := w.b.items["1"].ent.Fields["priority"]; got != "low" {
				t.Fatalf("B's priority = %v: the person's undo was reverted", got)
			}
		})
	}
}

// Two different files with the same name and size, added on both sides
// of a pair: each is copied to the other side.
func TestSameNameSameSizeAttachmentsAreBothCopied(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "Logs", "status": "new"})
	w.quiesce()
	w.a.userAttach(id, "report.txt", []byte("AAAA"))
	w.b.userAttach("1", "report.txt", []byte("BBBB"))
	w.quiesce()
	w.agree()
	for _, m := range []*memsys{w.a, w.b} {
		for _, it := range m.items {
			if len(it.atts) != 2 {
				t.Fatalf("%s has %d attachments, want both report.txt files", it.ent.Key, len(it.atts))
			}
		}
	}
}

// A copied comment carries its marker once, in the system's own form.
func TestCommentCopyCarriesOneMarker(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "Noisy fan", "status": "new"})
	w.a.userComment(id, "It rattles.")
	w.quiesce()
	for _, it := range w.b.items {
		for _, c := range it.comments {
			if n := strings.Count(c.Body, "lockstep:"); n != 1 {
				t.Fatalf("the copy's stored body holds %d markers: %q", n, c.Body)
			}
		}
	}
}

// populate makes a synced world with comments, attachments and links.
func populate(w *world) {
	ids := withExtras(w.a, "incident", "new", 4, 2)
	bids := withExtras(w.b, "bug", "open", 3, 1)
	w.a.userLink(ids[0], "blocks", ids[1])
	w.b.userLink(bids[0], "blocks", bids[1])
	w.quiesce()
	w.agree()
}

// Pair state lost with the process: deleted and created again from the same
// document. Every peer is found by its marker, none created twice.
func TestRecreatedProcessAdoptsItsPeers(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	populate(w)
	creates := w.a.engineCreates + w.b.engineCreates
	w.losePairs() // the same document, stored anew
	w.quiesce()
	w.agree()
	if got := w.a.engineCreates + w.b.engineCreates; got != creates {
		t.Fatalf("%d creates after re-creating the process: duplicates", got-creates)
	}
	// Comments and attachments were adopted too: nothing new was written.
	if w.a.engineComments+w.b.engineComments != 4*2+3*1 || w.a.engineUploads+w.b.engineUploads != 7 {
		t.Fatalf("comments %d, uploads %d: copies made twice", w.a.engineComments+w.b.engineComments, w.a.engineUploads+w.b.engineUploads)
	}
}

// Pair state lost on another agent: the process document imported where
// the systems were configured again (new ids, same servers).
func TestImportOnAFreshAgentAdoptsPeers(t *testing.T) {
	for _, indexes := range []bool{true, false} {
		t.Run(fmt.Sprint("marker index ", indexes), func(t *testing.T) {
			w := newWorld(t, ConflictAWins)
			w.a.indexes, w.b.indexes = indexes, indexes
			populate(w)
			creates := w.a.engineCreates + w.b.engineCreates
			fresh, err := store.Create(store.Options{Dir: t.TempDir(), Key: w.key})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { fresh.Close() })
			w.st = fresh
			w.eng = New(w.deps(fresh, "sysA2", "sysB2"))
			w.proc.ID, w.proc.A.System, w.proc.B.System = "p1", "sysA2", "sysB2"
			fresh.Put("proc/p1", w.proc)
			w.quiesce()
			w.agree()
			if got := w.a.engineCreates + w.b.engineCreates; got != creates {
				t.Fatalf("%d creates on the fresh agent: duplicates", got-creates)
			}
		})
	}
}

// Pair state lost in part: the data dir restored from an older copy. The
// items created since the copy are found by their markers.
func TestRestoredStoreAdoptsPeersCreatedSince(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	populate(w)
	backup := w.backup()
	withExtras(w.a, "incident", "new", 2, 1)
	withExtras(w.b, "bug", "open", 2, 1)
	w.quiesce()
	w.agree()
	creates := w.a.engineCreates + w.b.engineCreates
	w.st.Close()
	w.reopen(backup)
	w.quiesce()
	w.agree()
	if got := w.a.engineCreates + w.b.engineCreates; got != creates {
		t.Fatalf("%d creates after the restore: duplicates", got-creates)
	}
}

// backup copies the data dir as a stopped agent's, the agent restarted
// after, and returns the copy's dir.
func (w *world) backup() string {
	w.t.Helper()
	if err := w.st.Close(); err != nil {
		w.t.Fatal(err)
	}
	dir := filepath.Join(w.t.TempDir(), "backup")
	copyDir(w.t, w.dir, dir)
	w.reopen(w.dir)
	return dir
}

// reopen opens the store in dir with a new engine, as a restarted agent.
func (w *world) reopen(dir string) {
	w.t.Helper()
	st, err := store.Open(store.Options{Dir: dir, Key: w.key})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { st.Close() })
	w.st = st
	w.eng = New(w.deps(st, "sysA", "sysB"))
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

var _ = context.Background

// TestSimulationOfLosses is the simulation with everything that lost work
// before: kills between any two writes, links to items created in the same
// run, deletions (mirrored), comment edits and deletions, the process
// deleted and created again, and the store restored from an older copy.
// After quiescence both sides agree and nothing is duplicated.
func TestSimulationOfLosses(t *testing.T) {
	seeds, rounds := uint64(4), 30
	if os.Getenv("LOCKSTEP_SOAK") != "" { // make soak
		seeds, rounds = 30, 120
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			w := newKillWorld(t)
			mirror := DeletePolicy{Action: DeleteMirror}
			w.proc.Options.Deletes = Deletes{A: mirror, B: mirror}
			w.st.Put("proc/p1", w.proc)
			r := mrand.New(mrand.NewPCG(seed, 7))
			statusesA, statusesB := []string{"new", "solved", "closed"}, []string{"open", "resolved", "closed"}
			snapshot := ""
			for round := 0; round < rounds; round++ {
				for e := 0; e < 1+r.IntN(4); e++ {
					sys, typ, statuses := w.a, "incident", statusesA
					if r.IntN(2) == 1 {
						sys, typ, statuses = w.b, "bug", statusesB
					}
					ids := keys(sys)
					switch op := r.IntN(14); {
					case op < 3 || len(ids) < 2:
						id := sys.userCreate(typ, connector.Fields{"title": fmt.Sprintf("item %d", r.IntN(1000)), "status": statuses[0], "description": "start"})
						if len(ids) > 0 && r.IntN(2) == 0 {
							sys.userLink(id, "blocks", ids[r.IntN(len(ids))])
						}
					case op < 6:
						sys.userSet(ids[r.IntN(len(ids))], "status", statuses[r.IntN(3)])
					case op < 8:
						sys.userComment(ids[r.IntN(len(ids))], fmt.Sprintf("comment %d", r.IntN(1000)))
					case op < 9:
						id := ids[r.IntN(len(ids))]
						if cs := sys.items[id].comments; len(cs) > 0 {
							if c := cs[r.IntN(len(cs))]; commentMarkerOf(c) == "" && !strings.Contains(c.Body, "lockstep:") {
								if r.IntN(2) == 0 {
									sys.userEditComment(id, c.ID, c.Body+" (edited)")
								} else {
									sys.userDeleteComment(id, c.ID)
								}
							}
						}
					case op < 10:
						sys.userAttach(ids[r.IntN(len(ids))], "same.txt", []byte{byte('a' + r.IntN(3))})
					case op < 11:
						sys.userLink(ids[0], "blocks", ids[1+r.IntN(len(ids)-1)])
					case op < 12:
						sys.userDelete(ids[r.IntN(len(ids))])
					default:
						sys.userSet(ids[r.IntN(len(ids))], "title", fmt.Sprintf("title %d", r.IntN(1000)))
					}
				}
				switch r.IntN(10) {
				case 0: // a kill between two writes, then a restart
					m := w.a
					if r.IntN(2) == 1 {
						m = w.b
					}
					w.runKilled(w.killAtWrite(m, 1+r.IntN(4)))
					w.restart()
				case 1: // a copy of the store, for a later restore
					w.st.Close()
					snapshot = filepath.Join(t.TempDir(), "copy")
					copyDir(t, w.dir, snapshot)
					w.reopen(w.dir)
					w.eng.workers = 1
				case 2: // the store restored from that copy
					if snapshot != "" {
						w.st.Close()
						w.dir = filepath.Join(t.TempDir(), "restored")
						copyDir(t, snapshot, w.dir)
						w.reopen(w.dir)
						w.eng.workers = 1
					}
				case 3: // the process deleted and created again
					if r.IntN(3) == 0 {
						if err := w.eng.Processes().Delete("admin", "p1"); err != nil {
							t.Fatal(err)
						}
						w.st.Put("proc/p1", w.proc)
					}
				default:
					w.run()
				}
			}
			w.clock.advance(time.Hour)
			w.quiesce()
			w.agree()
			before := w.writes()
			w.run()
			if w.writes() != before {
				t.Fatalf("a run after quiescence wrote: echo count %d", w.writes()-before)
			}
		})
	}
}
