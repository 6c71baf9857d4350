package contracttest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// RoundTrip is a kind's fields round trip: the fields it writes and the
// update it makes, for CheckRoundTrip. The values are the kind's: its
// enums, users, dates and custom fields.
type RoundTrip struct {
	Project, Type string
	// Fields are what Create writes.
	Fields connector.Fields
	Marker connector.Marker
	// Update is written from the created version; its nil values clear
	// their fields.
	Update connector.Fields
	// Created, when set, is called with the created entity before the
	// update: for the kind's checks of what the system stored.
	Created func(connector.Entity)
}

// CheckRoundTrip creates an entity with r.Fields and r.Marker and checks
// what every kind must do with fields: Get reads the entity as Create
// returned it; the update reads back as written, its cleared fields empty
// (nil, "" or an empty list); the marker survives it, so FindByMarker
// still finds the entity; the marker is not listed as a link; a field the
// kind does not have is ErrInvalid. It returns the entity as created and
// as updated, for the kind's own checks of how it reads values back.
func CheckRoundTrip(t *testing.T, ctx context.Context, c connector.Connector, r RoundTrip) (created, updated connector.Entity) {
	t.Helper()
	created, err := c.Create(ctx, r.Project, r.Type, r.Fields, r.Marker)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	sameAsRead(t, ctx, c, "created", created)
	if r.Created != nil {
		r.Created(created)
	}
	if updated, err = c.Update(ctx, created.Ref, r.Update, created.Version); err != nil {
		t.Fatalf("update: %v", err)
	}
	for name, v := range r.Update {
		if v == nil && !empty(updated.Fields[name]) {
			t.Errorf("%s not cleared: %#v", name, updated.Fields[name])
		}
	}
	sameAsRead(t, ctx, c, "updated", updated)
	found, err := c.FindByMarker(ctx, r.Project, r.Marker)
	if err != nil || len(found) != 1 || found[0].ID != created.ID {
		t.Fatalf("FindByMarker after the update = %+v, %v; want %s", found, err, created.ID)
	}
	links, err := c.Links(ctx, created.Ref)
	if err != nil && !errors.Is(err, errors.ErrUnsupported) || len(links) != 0 {
		t.Fatalf("a new entity's links: %+v, %v; the marker must not show as one", links, err)
	}
	if _, err := c.Update(ctx, created.Ref, connector.Fields{"nonsense": 1}, ""); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("an unknown field: %v, want ErrInvalid", err)
	}
	return created, updated
}

// sameAsRead checks that Get reads e as it was returned.
func sameAsRead(t *testing.T, ctx context.Context, c connector.Connector, what string, e connector.Entity) {
	t.Helper()
	got, err := c.Get(ctx, e.Ref)
	if err != nil {
		t.Fatalf("get the %s entity: %v", what, err)
	}
	if got.ID != e.ID || got.Version != e.Version || fmt.Sprint(got.Fields) != fmt.Sprint(e.Fields) {
		t.Fatalf("Get reads the %s entity as\n%+v\nnot as returned\n%+v", what, got, e)
	}
}

// empty says whether v is an empty field value: nil, "" or an empty list.
func empty(v any) bool {
	if v == nil || v == "" {
		return true
	}
	rv := reflect.ValueOf(v)
	return (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.Len() == 0
}
