package syncer_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/agenttest/rig"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/sandboxconn"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
)

// slipIn is a sandbox connector that runs a hook once, just before the
// next comment it writes: someone else's change landing between what a run
// knew of an entity and Lockstep's own write to it.
type slipIn struct {
	*sandboxconn.Conn
	mu     sync.Mutex
	before func()
}

func (s *slipIn) AddComment(ctx context.Context, ref connector.Ref, nc connector.NewComment) (connector.Comment, error) {
	s.mu.Lock()
	f := s.before
	s.before = nil
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return s.Conn.AddComment(ctx, ref, nc)
}

// TestCommentSlippedInBeforeOurs: a comment a user adds to a copy just
// before Lockstep writes a comment there is not hidden by Lockstep's own
// write. The sandbox says which version its write moved the item from;
// here it is not the version the run knew, so the copy's comments are
// listed again and the user's comment reaches the original.
func TestCommentSlippedInBeforeOurs(t *testing.T) {
	a := rig.NewSandbox(t, "HELP", "incident", sandbox.Knobs{})
	b := rig.NewSandbox(t, "ENG", "bug", sandbox.Knobs{})
	racer := &slipIn{Conn: b.Conn}
	eng := rig.NewEngine(t, rig.Systems{a.ID: a.Conn, b.ID: racer})
	ctx := context.Background()
	p, err := eng.Processes().Create(ctx, "test", syncer.Process{Name: "slip",
		A: syncer.End{System: "sys-HELP", Project: "HELP"}, B: syncer.End{System: "sys-ENG", Project: "ENG"},
		Types: []mapping.TypePair{{A: "incident", B: "bug", Fields: []mapping.FieldPair{
			{A: "title", B: "title", Direction: mapping.Both}}}},
		Options: syncer.Options{CreateInA: true, CreateInB: true, Comments: true, Conflict: syncer.ConflictAWins}})
	if err != nil {
		t.Fatal(err)
	}
	src, err := a.Server.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: "printer on fire"})
	if err != nil {
		t.Fatal(err)
	}
	runs := func(n int) {
		t.Helper()
		for range n {
			if r, err := eng.RunNow(ctx, p.ID); err != nil || len(r.Errors) > 0 {
				t.Fatalf("run: %v %+v", err, r.Errors)
			}
		}
	}
	runs(2)
	page, err := b.Server.Store().ListItems(sandbox.Query{Project: "ENG", Limit: 10})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("copies: %+v %v", page.Items, err)
	}
	peer := page.Items[0]

	// Alice comments on the original; as the run copies it, Bob comments
	// on the copy, after the run last read it.
	if _, err := a.Server.Store().AddComment(src.Key, "alice", "the fire spreads"); err != nil {
		t.Fatal(err)
	}
	racer.before = func() {
		if _, err := b.Server.Store().AddComment(peer.Key, "bob", "extinguisher on its way"); err != nil {
			t.Error(err)
		}
	}
	runs(3)
	cs, _, err := a.Server.Store().Comments(src.Key, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, c := range cs {
		bodies = append(bodies, c.Body)
	}
	if len(cs) != 2 || !strings.Contains(strings.Join(bodies, "|"), "extinguisher on its way") {
		t.Fatalf("the original's comments: %q: Bob's comment on the copy must reach it, once", bodies)
	}
	cs, _, _ = b.Server.Store().Comments(peer.Key, 0, 100)
	if len(cs) != 2 {
		t.Fatalf("the copy holds %d comments, want Bob's and Alice's copy", len(cs))
	}
}
