// Package contracttest checks a connector against the contract in
// package connector. Each connector's tests call RunContract with a way to
// open it against a real system or an emulator:
//
//	func TestContract(t *testing.T) {
//		contracttest.RunContract(t, func(t *testing.T) (connector.Connector, string) {
//			return openAgainstEmulator(t), "PROJ"
//		})
//	}
//
// The checks use only the contract: the first entity type of the schema,
// the fields "title" and "description", the first link type. A capability
// the system lacks is reported with errors.ErrUnsupported and skipped.
//
// What needs a kind's own data is checked by helpers its tests call with
// it, so no kind writes those checks again: CheckPaging (entities made
// more than a page's worth, read back in order, from the start and from
// the middle) and CheckRoundTrip (the kind's fields written, read back,
// cleared, with the marker kept and no stray link). A kind's own tests
// keep only what is its own: how it normalises values, which values its
// system refuses, the edge cases of its API.
package contracttest

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// maxPages bounds paging, so a cursor that never ends fails the test
// instead of hanging it.
const maxPages = 1000

// RunContract runs the contract checks as subtests. open is called once;
// the project it returns must accept new entities.
func RunContract(t *testing.T, open func(t *testing.T) (connector.Connector, string)) {
	t.Helper()
	// The bound only stops a hung connector: a real server on a loaded
	// machine (RT under a full make test) can take minutes for the whole
	// contract, and the failure must name the hang, not the load.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, project := open(t)
	run := rand.Text()[:8]

	var schema connector.Schema
	t.Run("Validate", func(t *testing.T) {
		msg, err := c.Validate(ctx)
		if err != nil || msg == "" {
			t.Fatalf("Validate = %q, %v", msg, err)
		}
	})
	ok := t.Run("Schema", func(t *testing.T) {
		var err error
		if schema, err = c.Schema(ctx, project); err != nil {
			t.Fatal(err)
		}
		if len(schema.EntityTypes) == 0 {
			t.Fatal("no entity types")
		}
		if !slices.ContainsFunc(schema.Fields, func(f connector.FieldSchema) bool { return f.Name == "title" }) {
			t.Fatalf("no title field in %+v", schema.Fields)
		}
	})
	if !ok {
		t.FailNow()
	}
	typ := schema.EntityTypes[0]
	marker := connector.Marker{System: "contract-" + run, Key: "SRC-" + run, URL: "https://source.example/SRC-" + run}

	var created connector.Entity
	ok = t.Run("Create and Get", func(t *testing.T) {
		var err error
		created, err = c.Create(ctx, project, typ, connector.Fields{"title": "Contract " + run, "description": "Made by the *contract* test."}, marker)
		if err != nil {
			t.Fatal(err)
		}
		if created.ID == "" || created.Version == "" || created.Title != "Contract "+run || created.UpdatedAt.IsZero() {
			t.Fatalf("created %+v", created)
		}
		got, err := c.Get(ctx, created.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != created.ID || got.Title != created.Title || got.Version != created.Version || got.Fields["title"] != created.Title {
			t.Fatalf("Get = %+v, created %+v", got, created)
		}
	})
	if !ok {
		t.FailNow()
	}

	t.Run("FindByMarker", func(t *testing.T) {
		found, err := c.FindByMarker(ctx, project, marker)
		if err != nil || len(found) != 1 || found[0].ID != created.ID {
			t.Fatalf("FindByMarker = %+v, %v", found, err)
		}
		none, err := c.FindByMarker(ctx, project, connector.Marker{System: marker.System, Key: "absent"})
		if err != nil || none == nil || len(none) != 0 {
			t.Fatalf("no match must be an empty slice: %#v, %v", none, err)
		}
	})

	var updated connector.Entity
	t.Run("Update", func(t *testing.T) {
		var err error
		updated, err = c.Update(ctx, created.Ref, connector.Fields{"title": "Contract " + run + " renamed"}, created.Version)
		if err != nil {
			t.Fatal(err)
		}
		if updated.Title != "Contract "+run+" renamed" || updated.Version == created.Version || updated.UpdatedAt.Before(created.UpdatedAt) {
			t.Fatalf("updated %+v", updated)
		}
		// A write from a stale version is refused, changes nothing, and is
		// worth a re-read and retry.
		_, err = c.Update(ctx, created.Ref, connector.Fields{"title": "stale"}, created.Version)
		if !errors.Is(err, connector.ErrConflict) || !connector.Transient(err) {
			t.Fatalf("stale version: %v, want ErrConflict", err)
		}
		if got, err := c.Get(ctx, created.Ref); err != nil || got.Title != updated.Title || got.Version != updated.Version {
			t.Fatalf("after the refused write: %+v, %v; want it as updated, %+v", got, err, updated)
		}
	})

	t.Run("Changes", func(t *testing.T) {
		changed := Entities(Pages(t, ctx, c, project, created.UpdatedAt, maxPages))
		if !slices.ContainsFunc(changed, func(e connector.Entity) bool { return e.ID == created.ID }) {
			t.Fatal("Changes since the entity's creation does not list it")
		}
	})

	t.Run("Comments", func(t *testing.T) {
		mark := "lockstep:a:" + run
		added, err := c.AddComment(ctx, created.Ref, connector.NewComment{Body: "Hello from **" + run + "**", Marker: mark})
		if errors.Is(err, errors.ErrUnsupported) {
			t.Skip(err)
		}
		if err != nil || added.ID == "" {
			t.Fatalf("AddComment = %+v, %v", added, err)
		}
		list, err := c.Comments(ctx, created.Ref)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(list, func(cm connector.Comment) bool { return cm.ID == added.ID })
		if i < 0 || !strings.Contains(list[i].Body, "Hello from") {
			t.Fatalf("comments %+v lack %+v", list, added)
		}
		// The marker is read back once, apart from the text.
		if list[i].Marker != mark || strings.Contains(list[i].Body, "lockstep:") {
			t.Fatalf("comment read back with marker %q and body %q: want the marker %q apart from the text", list[i].Marker, list[i].Body, mark)
		}
		ed, ok := c.(connector.CommentEditor)
		if !ok {
			return
		}
		edited, err := ed.UpdateComment(ctx, created.Ref, added.ID, connector.NewComment{Body: "Edited by " + run, Marker: mark})
		if err != nil || edited.ID != added.ID {
			t.Fatalf("UpdateComment = %+v, %v", edited, err)
		}
		list, _ = c.Comments(ctx, created.Ref)
		if i := slices.IndexFunc(list, func(cm connector.Comment) bool { return cm.ID == added.ID }); i < 0 || list[i].Body != "Edited by "+run || list[i].Marker != mark {
			t.Fatalf("after the edit: %+v", list)
		}
		if err := ed.DeleteComment(ctx, created.Ref, added.ID); err != nil {
			t.Fatal(err)
		}
		list, _ = c.Comments(ctx, created.Ref)
		if slices.ContainsFunc(list, func(cm connector.Comment) bool { return cm.ID == added.ID }) {
			t.Fatal("a deleted comment is still listed")
		}
	})

	t.Run("Markers", func(t *testing.T) {
		ix, ok := c.(connector.MarkerIndexer)
		if !ok || !ix.IndexesMarkers() {
			t.Skip("the connector does not read markers back")
		}
		got, err := c.Get(ctx, created.Ref)
		if err != nil || got.Marker != marker.Text() {
			t.Fatalf("Get read the marker %q (%v), want %q", got.Marker, err, marker.Text())
		}
		changed := Entities(Pages(t, ctx, c, project, created.UpdatedAt, maxPages))
		i := slices.IndexFunc(changed, func(e connector.Entity) bool { return e.ID == created.ID })
		if i < 0 || changed[i].Marker != marker.Text() {
			t.Fatalf("Changes read the marker of %s as %+v, want %q", created.ID, changed, marker.Text())
		}
	})

	t.Run("Attachments", func(t *testing.T) {
		content := "attachment of " + run + "\n"
		a, err := c.Upload(ctx, created.Ref, "contract-"+run+".txt", "text/plain", int64(len(content)), strings.NewReader(content))
		if errors.Is(err, errors.ErrUnsupported) {
			t.Skip(err)
		}
		if err != nil || a.ID == "" || a.Size != int64(len(content)) {
			t.Fatalf("Upload = %+v, %v", a, err)
		}
		list, err := c.Attachments(ctx, created.Ref)
		if err != nil || !slices.ContainsFunc(list, func(x connector.Attachment) bool { return x.ID == a.ID && x.Name == a.Name }) {
			t.Fatalf("Attachments = %+v, %v", list, err)
		}
		rc, err := c.Download(ctx, created.Ref, a)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		got, err := io.ReadAll(rc)
		if err != nil || string(got) != content {
			t.Fatalf("Download = %q, %v", got, err)
		}
	})

	t.Run("Links", func(t *testing.T) {
		if len(schema.LinkTypes) == 0 {
			t.Skip("the system has no link types")
		}
		other, err := c.Create(ctx, project, typ, connector.Fields{"title": "Contract " + run + " other"},
			connector.Marker{System: marker.System, Key: marker.Key + "-other"})
		if err != nil {
			t.Fatal(err)
		}
		link := connector.Link{Type: schema.LinkTypes[0], Target: other.Ref}
		if err := c.AddLink(ctx, created.Ref, link); err != nil {
			t.Fatal(err)
		}
		has := func() bool {
			list, err := c.Links(ctx, created.Ref)
			if err != nil {
				t.Fatal(err)
			}
			return slices.ContainsFunc(list, func(l connector.Link) bool { return l.Type == link.Type && l.Target.ID == other.ID })
		}
		if !has() {
			t.Fatal("added link not listed")
		}
		if err := c.RemoveLink(ctx, created.Ref, link); err != nil {
			t.Fatal(err)
		}
		if has() {
			t.Fatal("removed link still listed")
		}
	})

	t.Run("AttachmentDelete", func(t *testing.T) {
		del, ok := c.(connector.AttachmentDeleter)
		if !ok {
			t.Skip("the connector cannot delete attachments")
		}
		content := "to be deleted " + run
		a, err := c.Upload(ctx, created.Ref, "delete-"+run+".txt", "text/plain", int64(len(content)), strings.NewReader(content))
		if errors.Is(err, errors.ErrUnsupported) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := del.DeleteAttachment(ctx, created.Ref, a); err != nil {
			t.Fatal(err)
		}
		list, err := c.Attachments(ctx, created.Ref)
		if err != nil || slices.ContainsFunc(list, func(x connector.Attachment) bool { return x.ID == a.ID }) {
			t.Fatalf("after the delete: %+v, %v", list, err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		del, ok := c.(connector.Deleter)
		if !ok {
			t.Skip("the connector cannot delete entities")
		}
		doomed, err := c.Create(ctx, project, typ, connector.Fields{"title": "Contract " + run + " doomed"},
			connector.Marker{System: marker.System, Key: marker.Key + "-doomed"})
		if err != nil {
			t.Fatal(err)
		}
		err = del.Delete(ctx, doomed.Ref)
		if errors.Is(err, connector.ErrForbidden) {
			t.Skipf("the test account may not delete: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, doomed.Ref); !errors.Is(err, connector.ErrNotFound) {
			t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
		}
		if err := del.Delete(ctx, doomed.Ref); err != nil && !errors.Is(err, connector.ErrNotFound) {
			t.Fatalf("a second Delete: %v, want nil or ErrNotFound", err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		if _, err := c.Get(ctx, connector.Ref{ID: "999999999", Key: "NOPE-999999999"}); !errors.Is(err, connector.ErrNotFound) {
			t.Fatalf("Get of a missing entity: %v, want ErrNotFound", err)
		}
	})

	// Last: the agent closes a system's connector when the system changes,
	// while a run may still hold it, so Close releases without disabling.
	t.Run("Close", func(t *testing.T) {
		if _, ok := c.(io.Closer); !ok {
			t.Skip("the connector holds nothing between calls")
		}
		if err := connector.Close(c); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := connector.Close(c); err != nil {
			t.Fatalf("a second Close: %v", err)
		}
		if got, err := c.Get(ctx, created.Ref); err != nil || got.ID != created.ID {
			t.Fatalf("Get after Close = %+v, %v; a call after Close must still work", got, err)
		}
	})
}
