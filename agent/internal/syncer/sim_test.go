package syncer

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

type world struct {
	t     *testing.T
	clock *simClock
	a, b  *memsys
	eng   *Engine
	proc  Process
	st    *store.Store
	dir   string
	key   []byte
}

func strp(s string) *string { return &s }

func newWorld(t *testing.T, conflict ConflictPolicy) *world {
	t.Helper()
	key, dir := agenttest.Key(t), t.TempDir()
	st := agenttest.StoreAt(t, dir, key)
	w := &world{t: t, clock: &simClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}, st: st, dir: dir, key: key}
	w.a, w.b = newMemsys("HELP", w.clock), newMemsys("ENG", w.clock)
	w.eng = New(w.deps(st, "sysA", "sysB"))
	status := &mapping.ValueMap{Pairs: []mapping.ValuePair{{A: "new", B: "open"}, {A: "solved", B: "resolved"}, {A: "closed", B: "closed"}},
		DefaultA: strp("new"), DefaultB: strp("open")}
	w.proc = Process{
		ID: "p1", Name: "Helpdesk <-> Engineering",
		A: End{System: "sysA", Project: "HELP"}, B: End{System: "sysB", Project: "ENG"},
		Types: []mapping.TypePair{{A: "incident", B: "bug",
			Fields: []mapping.FieldPair{
				{A: "title", B: "title", Direction: mapping.Both},
				{A: "status", B: "status", Direction: mapping.Both, ValueMap: status},
				{A: "priority", B: "priority", Direction: mapping.Both},
				{A: "labels", B: "labels", Direction: mapping.Both},
				{A: "description", B: "description", Direction: mapping.Both},
			},
			LinkTypes: []mapping.LinkTypePair{{A: "blocks", B: "blocks"}},
		}},
		Options:  Options{CreateInA: true, CreateInB: true, Comments: true, Attachments: true, Conflict: conflict},
		Schedule: Schedule{PollSeconds: 30},
	}
	if err := st.Put("proc/p1", w.proc); err != nil {
		t.Fatal(err)
	}
	return w
}

// deps are the engine's dependencies with the two systems configured under
// the ids a and b (a re-created system gets a new id, same URL).
func (w *world) deps(st *store.Store, a, b string) Deps {
	return Deps{
		Store: st, Bus: events.New(100, nil), Log: zerolog.Nop(), Now: w.clock.now,
		Open: func(id string) (connector.Connector, error) {
			switch id {
			case a:
				return w.a, nil
			case b:
				return w.b, nil
			}
			return nil, fmt.Errorf("system %s: %w", id, ErrNotFound)
		},
		SystemURL: func(id string) string {
			switch id {
			case a:
				return "https://help.example"
			case b:
				return "https://eng.example"
			}
			return ""
		},
	}
}

func (w *world) run() Run {
	w.t.Helper()
	w.clock.advance(time.Second)
	return w.eng.runOnce(context.Background(), &w.proc, "test", nil)
}

func (w *world) writes() int {
	n := 0
	for _, m := range []*memsys{w.a, w.b} {
		m.mu.Lock()
		n += m.engineCreates + m.engineUpdates + m.engineComments + m.engineUploads + m.engineLinks
		m.mu.Unlock()
	}
	return n
}

// quiesce runs until a run writes nothing; it fails if that takes long.
func (w *world) quiesce() {
	w.t.Helper()
	for i := 0; i < 12; i++ {
		before := w.writes()
		w.run()
		if w.writes() == before && w.queueLen() == 0 {
			return
		}
	}
	w.t.Fatalf("no quiescence after 12 runs (queue %d)", w.queueLen())
}

func (w *world) queueLen() int {
	n := 0
	w.st.View(func(tx *store.Tx) error {
		return tx.Scan(prefixQueue("p1"), "", func(string, []byte) error { n++; return nil })
	})
	return n
}

var statusAB = map[string]string{"new": "open", "solved": "resolved", "closed": "closed"}

// agree checks that every pair's mapped fields are equal, nothing is
// duplicated, and comments, attachments and links match.
func (w *world) agree() {
	t := w.t
	t.Helper()
	pairs, _, err := w.eng.Views().Pairs("p1", "", "", 500)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != len(w.a.items) || len(pairs) != len(w.b.items) {
		t.Fatalf("%d pairs for %d items in A and %d in B: a duplicate or a miss", len(pairs), len(w.a.items), len(w.b.items))
	}
	seenA, seenB := map[string]bool{}, map[string]bool{}
	for _, p := range pairs {
		if seenA[p.A.ID] || seenB[p.B.ID] {
			t.Fatalf("an entity is in two pairs: %+v", p)
		}
		seenA[p.A.ID], seenB[p.B.ID] = true, true
		a, b := w.a.items[p.A.ID], w.b.items[p.B.ID]
		if p.State != PairSynced {
			t.Fatalf("pair %s is %s: %s", p.ID, p.State, p.Error)
		}
		for _, f := range []string{"title", "priority", "description"} {
			if !reflect.DeepEqual(a.ent.Fields[f], b.ent.Fields[f]) {
				t.Errorf("%s/%s field %s: %v vs %v", a.ent.Key, b.ent.Key, f, a.ent.Fields[f], b.ent.Fields[f])
			}
		}
		if mapping.Hash(a.ent.Fields["labels"]) != mapping.Hash(b.ent.Fields["labels"]) {
			t.Errorf("%s labels %v vs %v", a.ent.Key, a.ent.Fields["labels"], b.ent.Fields["labels"])
		}
		if sa, _ := a.ent.Fields["status"].(string); statusAB[sa] != b.ent.Fields["status"] {
			t.Errorf("%s status %v vs %v", a.ent.Key, a.ent.Fields["status"], b.ent.Fields["status"])
		}
		if len(a.comments) != len(b.comments) {
			t.Errorf("%s has %d comments, %s has %d", a.ent.Key, len(a.comments), b.ent.Key, len(b.comments))
		}
		if len(a.atts) != len(b.atts) {
			t.Errorf("%s has %d attachments, %s has %d", a.ent.Key, len(a.atts), b.ent.Key, len(b.atts))
		}
		if len(a.links) != len(b.links) {
			t.Errorf("%s has %d links, %s has %d", a.ent.Key, len(a.links), b.ent.Key, len(b.links))
		}
	}
}

func TestCreateUpdateNoEcho(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "Printer on fire", "status": "new", "priority": "high", "labels": []string{"hw"}, "description": "It *burns*."})
	r := w.run()
	if r.Counts.Created != 1 || len(w.b.items) != 1 {
		t.Fatalf("first run: %+v, %d items in B", r.Counts, len(w.b.items))
	}
	w.quiesce()
	before := w.writes()
	w.run()
	w.run()
	if w.writes() != before {
		t.Fatalf("idle runs wrote %d times: an echo", w.writes()-before)
	}
	w.b.userSet("1", "status", "resolved")
	w.run()
	if got := w.a.items[id].ent.Fields["status"]; got != "solved" {
		t.Fatalf("status in A = %v, want solved", got)
	}
	w.quiesce()
	w.agree()
	// Exactly one write per user edit: create + one update.
	if w.b.engineUpdates != 0 || w.a.engineUpdates != 1 {
		t.Fatalf("writes: %d updates to A, %d to B", w.a.engineUpdates, w.b.engineUpdates)
	}
}

// TestCommentMarkersOutOfBody: connectors that read a copy's marker into
// Comment.Marker and take it out of the body (the contract's way) get
// their copies recognised by it when the comment map is lost (a crash
// between a copy and its record): nothing is copied again, idle runs write
// nothing.
func TestCommentMarkersOutOfBody(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "talk", "status": "new"})
	w.a.userComment(id, "from A")
	w.quiesce()
	w.b.userComment("1", "from B")
	w.quiesce()
	pairs, _, err := w.eng.Views().Pairs("p1", "", "", 10)
	if err != nil || len(pairs) != 1 {
		t.Fatalf("pairs %+v, %v", pairs, err)
	}
	lost := pairs[0].Pair
	lost.Comments, lost.CommentSums, lost.A.Extras, lost.B.Extras = nil, nil, "", ""
	if err := w.st.Put(keyPair("p1", lost.ID), lost); err != nil {
		t.Fatal(err)
	}
	w.a.userSet(id, "title", "talk more") // the item is worked again
	w.quiesce()
	before := w.writes()
	w.run()
	w.run()
	if w.writes() != before {
		t.Fatalf("idle runs wrote %d times: a copy taken for an original", w.writes()-before)
	}
	w.agree()
	if n := len(w.a.items[id].comments); n != 2 {
		t.Fatalf("A has %d comments, want 2", n)
	}
	read, _ := w.b.Comments(context.Background(), connector.Ref{ID: "1"})
	for _, cm := range read {
		if strings.Contains(cm.Body, "lockstep:") {
			t.Fatalf("a marker left in a body: %q", cm.Body)
		}
	}
}

// TestUnsupportedAttachmentsSkipped: a system that holds no files refuses
// an upload with errors.ErrUnsupported; the attachment is counted as
// skipped once, the pair stays synced, and it is not tried again.
func TestUnsupportedAttachmentsSkipped(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.b.fail = func(op string) error {
		if op == "upload" {
			return fmt.Errorf("no files here: %w", errors.ErrUnsupported)
		}
		return nil
	}
	id := w.a.userCreate("incident", connector.Fields{"title": "with a file", "status": "new"})
	w.a.userAttach(id, "log.txt", []byte("boom"))
	r := w.run()
	if r.Counts.Created != 1 || r.Counts.Skipped != 1 || r.Counts.Failed != 0 {
		t.Fatalf("first run %+v", r.Counts)
	}
	w.a.userSet(id, "title", "with a file, edited")
	w.quiesce()
	pairs, _, _ := w.eng.Views().Pairs("p1", "", "", 10)
	if len(pairs) != 1 || pairs[0].State != PairSynced || len(w.b.items["1"].atts) != 0 {
		t.Fatalf("pairs %+v", pairs)
	}
	runs, _ := w.eng.Views().Runs("p1", 100)
	skipped := 0
	for _, r := range runs {
		skipped += r.Counts.Skipped
	}
	if skipped != 1 {
		t.Fatalf("skipped %d times, want once", skipped)
	}
}

func TestConflictPolicies(t *testing.T) {
	for _, policy := range []ConflictPolicy{ConflictAWins, ConflictBWins, ConflictHold} {
		t.Run(string(policy), func(t *testing.T) {
			w := newWorld(t, policy)
			id := w.a.userCreate("incident", connector.Fields{"title": "Base", "status": "new"})
			w.quiesce()
			w.a.userSet(id, "title", "From A")
			w.b.userSet("1", "title", "From B")
			r := w.run()
			if r.Counts.Conflicts != 1 || len(r.Conflicts) != 1 || r.Conflicts[0].Field != "title|title" {
				t.Fatalf("conflict not recorded: %+v", r)
			}
			a, b := w.a.items[id].ent.Title, w.b.items["1"].ent.Title
			switch policy {
			case ConflictAWins:
				if a != "From A" || b != "From A" {
					t.Fatalf("a wins: %q %q", a, b)
				}
			case ConflictBWins:
				if a != "From B" || b != "From B" {
					t.Fatalf("b wins: %q %q", a, b)
				}
			case ConflictHold:
				pair, _ := w.eng.pairOf("p1", SideA, id)
				if a != "From A" || b != "From B" || pair.State != PairHeld {
					t.Fatalf("hold: %q %q %s", a, b, pair.State)
				}
				if err := w.eng.Resolve("admin", "p1", pair.ID, "b"); err != nil {
					t.Fatal(err)
				}
				w.quiesce()
				if w.a.items[id].ent.Title != "From B" {
					t.Fatalf("after resolving for b: %q", w.a.items[id].ent.Title)
				}
			}
		})
	}
}

// TestSimulation makes random edits on both sides for many rounds with runs
// in between; after quiescence both sides agree, nothing is duplicated, and
// the engine wrote at most once per user edit.
func TestSimulation(t *testing.T) {
	seeds, rounds := uint64(5), 40
	if os.Getenv("LOCKSTEP_SOAK") != "" { // make soak
		seeds, rounds = 50, 200
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			w := newWorld(t, ConflictAWins)
			r := mrand.New(mrand.NewPCG(seed, 99))
			userFieldEdits := 0
			statusesA, statusesB := []string{"new", "solved", "closed"}, []string{"open", "resolved", "closed"}
			for round := 0; round < rounds; round++ {
				for e := 0; e < 1+r.IntN(4); e++ {
					sys, typ, statuses := w.a, "incident", statusesA
					if r.IntN(2) == 1 {
						sys, typ, statuses = w.b, "bug", statusesB
					}
					ids := keys(sys)
					switch op := r.IntN(10); {
					case op < 2 || len(ids) == 0:
						sys.userCreate(typ, connector.Fields{"title": fmt.Sprintf("item %d", r.IntN(1000)), "status": statuses[0], "priority": "low", "labels": []string{"x"}, "description": "start"})
					case op < 6:
						id := ids[r.IntN(len(ids))]
						switch r.IntN(4) {
						case 0:
							sys.userSet(id, "title", fmt.Sprintf("title %d", r.IntN(1000)))
						case 1:
							sys.userSet(id, "status", statuses[r.IntN(3)])
						case 2:
							sys.userSet(id, "labels", []string{"l" + fmt.Sprint(r.IntN(3)), "x"})
						default:
							sys.userSet(id, "description", fmt.Sprintf("text %d", r.IntN(1000)))
						}
						userFieldEdits++
					case op < 8:
						sys.userComment(ids[r.IntN(len(ids))], fmt.Sprintf("comment %d", r.IntN(1000)))
					case op < 9:
						sys.userAttach(ids[r.IntN(len(ids))], fmt.Sprintf("f%d.txt", r.IntN(1000)), []byte(strings.Repeat("z", r.IntN(100))))
					default:
						if len(ids) > 1 {
							sys.userLink(ids[0], "blocks", ids[1+r.IntN(len(ids)-1)])
						}
					}
				}
				if r.IntN(3) > 0 {
					w.run()
				}
			}
			w.quiesce()
			w.agree()
			updates := w.a.engineUpdates + w.b.engineUpdates
			if updates > userFieldEdits {
				t.Fatalf("%d engine updates for %d user field edits: echoes", updates, userFieldEdits)
			}
			before := w.writes()
			w.run()
			if w.writes() != before {
				t.Fatalf("a run after quiescence wrote: echo count %d", w.writes()-before)
			}
		})
	}
}

func keys(m *memsys) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for id := range m.items {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

var errFlaky = fmt.Errorf("flaky: %w", connector.ErrUnavailable)

// TestFaultsAndCrashesNeverDuplicate fails requests at random, including a
// create that lands but whose answer is lost, and checks recovery finds the
// peer by its marker instead of creating it again.
func TestFaultsAndCrashesNeverDuplicate(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	r := mrand.New(mrand.NewPCG(7, 7))
	var rmu sync.Mutex
	fail := func(op string) error {
		rmu.Lock()
		defer rmu.Unlock()
		if r.IntN(5) == 0 {
			return errFlaky
		}
		return nil
	}
	w.a.fail, w.b.fail = fail, fail
	for i := 0; i < 20; i++ {
		w.a.userCreate("incident", connector.Fields{"title": fmt.Sprint("a", i), "status": "new"})
		w.b.userCreate("bug", connector.Fields{"title": fmt.Sprint("b", i), "status": "open"})
	}
	for i := 0; i < 30; i++ {
		w.run()
		// Backoff is real time in the queue: move the clock past it.
		w.clock.advance(10 * time.Minute)
	}
	w.a.fail, w.b.fail = nil, nil
	for i := 0; i < 3; i++ {
		w.clock.advance(time.Hour)
		w.quiesce()
	}
	w.agree()
	if len(w.a.items) != 40 || len(w.b.items) != 40 {
		t.Fatalf("%d items in A, %d in B, want 40 each", len(w.a.items), len(w.b.items))
	}
}

// TestAdoptedPeerTakesChangesMadeMeanwhile: a create lands but its answer
// is lost (as when the agent is killed mid-request), and a person changes
// the source before the retry. Recovery adopts the peer by its marker; the
// peer still holds the values it was created with, so the change must flow
// to it, not be taken as already synced.
func TestAdoptedPeerTakesChangesMadeMeanwhile(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "Printer jam", "status": "new", "priority": "low"})
	w.b.fail = func(op string) error {
		if op == "create-after" {
			return errFlaky
		}
		return nil
	}
	w.run()
	w.b.fail = nil
	if len(w.b.items) != 1 || w.b.engineCreates != 1 {
		t.Fatalf("the lost create did not land: %d items in B", len(w.b.items))
	}
	w.a.userSet(id, "status", "solved")
	w.a.userSet(id, "priority", "high")
	w.clock.advance(time.Hour) // past the retry's backoff
	w.quiesce()
	w.agree()
	if len(w.b.items) != 1 {
		t.Fatalf("%d items in B: the peer was created again instead of adopted", len(w.b.items))
	}
	// Changed once more, the adopted pair syncs as any other.
	w.a.userSet(id, "status", "closed")
	w.quiesce()
	w.agree()
}

func TestPoisonedEntityIsParkedAndOthersFlow(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	// A status no value map entry covers and no default for: permanent.
	w.proc.Types[0].Fields[1].ValueMap.DefaultB = nil
	w.proc.Types[0].Fields[1].ValueMap.OnMissing = mapping.OnMissingError
	w.st.Put("proc/p1", w.proc)
	bad := w.a.userCreate("incident", connector.Fields{"title": "bad", "status": "weird"})
	w.a.userCreate("incident", connector.Fields{"title": "good", "status": "new"})
	r := w.run()
	if r.Counts.Created != 1 || r.Counts.Failed != 1 {
		t.Fatalf("counts %+v", r.Counts)
	}
	parked, _ := w.eng.Views().Errors("p1")
	if len(parked) != 1 || parked[0].Entity != bad || !strings.Contains(parked[0].Error, connector.Digest("weird")) || strings.Contains(parked[0].Error, "weird") {
		t.Fatalf("parked = %+v", parked)
	}
	w.a.userSet(bad, "status", "new")
	if n, err := w.eng.Retry("p1", SideA, bad); err != nil || n != 1 {
		t.Fatalf("retry: %d %v", n, err)
	}
	w.quiesce()
	if parked, _ := w.eng.Views().Errors("p1"); len(parked) != 0 {
		t.Fatalf("still parked after the fix: %+v", parked)
	}
	w.agree()
}

func TestPlanChangesNothing(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	w.a.userCreate("incident", connector.Fields{"title": "one", "status": "new"})
	items, err := w.eng.Plan(context.Background(), "p1")
	if err != nil {
		t.Fatal(err)
	}
	var creates int
	for _, it := range items {
		if it.Action == "create" {
			creates++
		}
	}
	if creates != 1 || len(w.b.items) != 0 || w.queueLen() != 0 {
		t.Fatalf("plan %+v; B has %d items, queue %d", items, len(w.b.items), w.queueLen())
	}
	var wm Watermark
	if err := w.st.Get(keyWatermark("p1", SideA), &wm); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("plan moved the watermark: %v %v", wm, err)
	}
}

func TestSyncEntityAndBulk(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	one := w.a.userCreate("incident", connector.Fields{"title": "only me", "status": "new"})
	w.a.userCreate("incident", connector.Fields{"title": "not me", "status": "new"})
	run, err := w.eng.SyncEntity(context.Background(), "p1", SideA, one)
	if err != nil || run.Counts.Created != 1 || len(w.b.items) != 1 {
		t.Fatalf("sync one entity: %+v %v; B has %d items", run.Counts, err, len(w.b.items))
	}
	if _, err := w.eng.SyncEntity(context.Background(), "p1", Side("c"), one); err == nil {
		t.Fatal("side c accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.eng.Serve(ctx)
	for w.eng.ctxSet() == false {
		time.Sleep(time.Millisecond)
	}
	job, err := w.eng.Bulk("p1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := w.eng.BulkStatus(job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == "done" {
			if st.Total < 2 || st.Done != st.Total {
				t.Fatalf("bulk job %+v", st)
			}
			break
		}
		if st.State == "failed" || time.Now().After(deadline) {
			t.Fatalf("bulk job %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(w.b.items) != 2 {
		t.Fatalf("after bulk sync B has %d items, want 2", len(w.b.items))
	}
}

// ctxSet reports whether Serve has started.
func (e *Engine) ctxSet() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ctx != nil
}
