package syncer

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

func refuse(op string) func(string) error {
	return func(got string) error {
		if got == op {
			return fmt.Errorf("HTTP 401 Unauthorized: %w", connector.ErrUnauthorized)
		}
		return nil
	}
}

// Credentials refused in a later step of an item (listing the source's
// comments, after its fields were written to the peer) stop the run with
// the source's side named; what the item did before is kept (its peer is
// not written again), and its queue entry stays as it was.
func TestRefusedInAnItemsStepStopsTheRunOnItsSide(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	id := w.a.userCreate("incident", connector.Fields{"title": "one", "status": "new"})
	if r := w.run(); len(r.Errors) > 0 {
		t.Fatalf("first run: %+v", r.Errors)
	}
	w.a.userSet(id, "title", "two")
	w.a.fail = refuse("comments")
	updates := w.b.engineUpdates
	r := w.run()
	if len(r.Errors) != 1 || r.Errors[0].Entity != "" || r.Errors[0].Side != SideA || r.Errors[0].Cause != connector.CauseUnauthorized {
		t.Fatalf("want one run failure on side a: %+v", r.Errors)
	}
	if w.b.engineUpdates != updates+1 {
		t.Fatalf("the peer was not written before the refusal: %d updates", w.b.engineUpdates-updates)
	}
	if parked, _ := w.eng.Views().Errors("p1"); len(parked) != 0 {
		t.Fatalf("parked: %+v", parked)
	}
	q, err := w.eng.Views().Queue("p1", 10)
	if err != nil || q.Total != 1 || q.Items[0].Entity != id || q.Items[0].Attempts != 0 || q.Items[0].LastError != "" {
		t.Fatalf("queue: %v %+v", err, q)
	}
	if h := w.health(); h.State != apitype.HealthFailing || h.System != "sysA" || h.Cause != connector.CauseUnauthorized {
		t.Fatalf("health: %+v", h)
	}
	w.a.fail = nil
	if r := w.run(); len(r.Errors) > 0 {
		t.Fatalf("after the fix: %+v", r.Errors)
	}
	if w.b.engineUpdates != updates+1 {
		t.Fatalf("the peer was written again: the write before the refusal was not recorded")
	}
	if q, _ := w.eng.Views().Queue("p1", 10); q.Total != 0 {
		t.Fatalf("queue after the fix: %+v", q)
	}
}

// A 403 is about one entity (a permission on a project or an item): it
// stays that entity's failure, parked, and the run goes on with the others.
func TestForbiddenStaysPerEntity(t *testing.T) {
	w := newWorld(t, ConflictAWins)
	for i := range 3 {
		w.a.userCreate("incident", connector.Fields{"title": fmt.Sprint("item ", i), "status": "new"})
	}
	w.b.fail = func(op string) error {
		if op == "create" {
			return fmt.Errorf("HTTP 403 Forbidden: %w", connector.ErrForbidden)
		}
		return nil
	}
	r := w.run()
	if len(r.Errors) != 3 || r.Counts.Failed != 3 {
		t.Fatalf("want each entity's failure: %+v", r.Errors)
	}
	for _, e := range r.Errors {
		if e.Entity == "" || !e.Parked {
			t.Fatalf("not an entity's parked failure: %+v", e)
		}
	}
	if h := w.health(); h.State != apitype.HealthDegraded || h.Cause != CauseParked || h.Parked != 3 {
		t.Fatalf("health: %+v", h)
	}
}

// The abilities an item calls through a run's boundary tag their errors
// with its side, as its own methods do.
func TestBoundaryTagsAbilitiesWithItsSide(t *testing.T) {
	m := newMemsys("ENG", &simClock{})
	m.fail = refuse("delete")
	del, ok := ability[connector.Deleter](boundary{Connector: m, side: SideB})
	if !ok {
		t.Fatal("the memory system deletes")
	}
	var se *sideError
	err := del.Delete(context.Background(), connector.Ref{ID: "1"})
	if !errors.As(err, &se) || se.side != SideB || !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("untagged: %#v", err)
	}
	if _, ok := ability[connector.VersionGuard](boundary{Connector: m, side: SideB}); !ok {
		t.Fatal("an ability with no requests is not found through the boundary")
	}
}
