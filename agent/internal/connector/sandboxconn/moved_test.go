package sandboxconn

import (
	"context"
	"strconv"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
)

// TestCommentWritesSayTheVersion: a comment's add and edit answer what
// they did to the item's version (from the one before to the one after),
// which the engine takes as proof that no one else changed the item in
// between; an edit that changes nothing says nothing.
func TestCommentWritesSayTheVersion(t *testing.T) {
	t.Parallel()
	s, url := start(t, sandbox.Options{})
	c := open(t, url, "HELP")
	ctx := context.Background()
	e, err := c.Create(ctx, "", "incident", connector.Fields{"title": "versions"}, connector.Marker{System: "s", Key: "K-9"})
	if err != nil {
		t.Fatal(err)
	}
	added, err := c.AddComment(ctx, e.Ref, connector.NewComment{Body: "first"})
	if err != nil {
		t.Fatal(err)
	}
	now, err := c.Get(ctx, e.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if added.Moved != (connector.Moved{From: e.Version, To: now.Version}) {
		t.Fatalf("add moved %+v; the item went from %s to %s", added.Moved, e.Version, now.Version)
	}
	// Someone else's change in between shows as a From that is not the
	// version the writer knew.
	if _, err := s.Store().AddComment(e.Key, "carol", "me too"); err != nil {
		t.Fatal(err)
	}
	edited, err := c.UpdateComment(ctx, e.Ref, added.ID, connector.NewComment{Body: "first, edited"})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := strconv.Atoi(now.Version)
	if edited.Moved != (connector.Moved{From: strconv.Itoa(v + 1), To: strconv.Itoa(v + 2)}) {
		t.Fatalf("edit moved %+v, want from %d to %d", edited.Moved, v+1, v+2)
	}
	same, err := c.UpdateComment(ctx, e.Ref, added.ID, connector.NewComment{Body: "first, edited"})
	if err != nil || same.Moved != (connector.Moved{}) {
		t.Fatalf("an edit that changes nothing moved %+v (%v)", same.Moved, err)
	}
	// Listing says nothing of versions.
	list, err := c.Comments(ctx, e.Ref)
	if err != nil || len(list) != 2 || list[0].Moved != (connector.Moved{}) {
		t.Fatalf("listed %+v %v", list, err)
	}
}
