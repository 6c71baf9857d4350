package contracttest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Paging is a kind's paging test: entities it changed one after another,
// more than fit on a page, for CheckPaging to read back through Changes.
// How they are made (through the connector, or behind its back in the
// emulator) and how small a page is are the kind's business.
type Paging struct {
	Project string
	// Made are the ids of the entities changed, oldest change first.
	Made []string
	// Elsewhere, when set, is the id of an entity of another project:
	// Changes of Project never lists it.
	Elsewhere string
	// MinPages is how many pages reading all of Made takes at least.
	MinPages int
	// From, when above 0, makes a second read since the update time of
	// Made[From]: it lists every one of Made[From:], and none of
	// Made[:NotBefore] (a connector's overlap may reach back a little,
	// never to the start).
	From, NotBefore int
	// Touch, when set, changes the given entity. It is called on Made[0]
	// after the first page was read: the entity moves behind the cursor
	// and is listed again later, and no other entity is skipped.
	Touch func(id string)
}

// CheckPaging reads Changes of p.Project from the beginning and checks
// what the contract promises of paging: ascending update times across
// pages (Pages), every entity of p.Made listed, first in the order they
// changed, each once (twice for a touched one), over at least p.MinPages
// pages, nothing of another project; and, with p.From, a read from the
// middle that misses nothing after it. It returns the first read's pages
// for the kind's own checks.
func CheckPaging(t *testing.T, ctx context.Context, c connector.Connector, p Paging) []connector.Page {
	t.Helper()
	var touch func(int)
	if p.Touch != nil {
		touch = func(n int) {
			if n == 1 {
				p.Touch(p.Made[0])
			}
		}
	}
	read := pages(t, ctx, c, p.Project, time.Time{}, maxPages, touch)
	seen := map[string]int{}
	var order []string
	for _, e := range Entities(read) {
		if seen[e.ID]++; seen[e.ID] == 1 {
			order = append(order, e.ID)
		}
	}
	if !slices.Equal(order, p.Made) || len(read) < p.MinPages {
		t.Fatalf("changes of %q list %v in %d pages; want %v in %d pages or more", p.Project, order, len(read), p.Made, p.MinPages)
	}
	for id, n := range seen {
		want := 1
		if p.Touch != nil && id == p.Made[0] {
			want = 2
		}
		if n != want {
			t.Errorf("%s listed %d times, want %d", id, n, want)
		}
	}
	if p.Elsewhere != "" && seen[p.Elsewhere] > 0 {
		t.Errorf("changes of %q list %s of another project", p.Project, p.Elsewhere)
	}
	if p.From > 0 {
		mid, err := c.Get(ctx, connector.Ref{ID: p.Made[p.From]})
		if err != nil {
			t.Fatal(err)
		}
		some := map[string]bool{}
		for _, e := range Entities(Pages(t, ctx, c, p.Project, mid.UpdatedAt, maxPages)) {
			some[e.ID] = true
		}
		for _, id := range p.Made[p.From:] {
			if !some[id] {
				t.Errorf("changes since %v miss %s", mid.UpdatedAt, id)
			}
		}
		for _, id := range p.Made[:p.NotBefore] {
			if some[id] {
				t.Errorf("changes since %v reach back to %s", mid.UpdatedAt, id)
			}
		}
	}
	return read
}
