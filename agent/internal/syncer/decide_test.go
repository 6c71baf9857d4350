package syncer

import (
	"maps"
	"slices"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
)

// decideFields is the update's decision from what was read alone: each
// case names the sides' values and the pair's record, and what must be
// written, held or recorded as a conflict.
func TestDecideFields(t *testing.T) {
	tp := mapping.TypePair{A: "incident", B: "bug", Fields: []mapping.FieldPair{
		{A: "title", B: "title", Direction: mapping.Both},
		{A: "note", B: "note", Direction: mapping.AtoB},
	}}
	base := map[string]Base{
		"title|title": {A: mapping.Hash("old"), B: mapping.Hash("old")},
		"note|note":   {A: mapping.Hash("n"), B: mapping.Hash("n")},
	}
	ent := func(s Side, title, note string) connector.Entity {
		return connector.Entity{Ref: connector.Ref{ID: string(s) + "1", Key: string(s) + "-1"}, Version: "v2",
			Fields: connector.Fields{"title": title, "note": note}}
	}
	cases := []struct {
		name       string
		conflict   ConflictPolicy
		a, b       *connector.Entity // nil: that side not read
		held       []string
		resolve    map[string]Side
		writesA    connector.Fields
		writesB    connector.Fields
		wantHeld   []string
		winners    []string
		wantReread bool
	}{
		{name: "a changed flows to b", conflict: ConflictAWins, a: ptr(ent(SideA, "new", "n")), b: ptr(ent(SideB, "old", "n")),
			writesB: connector.Fields{"title": "new"}},
		{name: "b not read stands at its base", conflict: ConflictAWins, a: ptr(ent(SideA, "new", "n")),
			writesB: connector.Fields{"title": "new"}},
		{name: "both changed, a wins", conflict: ConflictAWins, a: ptr(ent(SideA, "from a", "n")), b: ptr(ent(SideB, "from b", "n")),
			writesB: connector.Fields{"title": "from a"}, winners: []string{"a"}},
		{name: "both changed, b wins", conflict: ConflictBWins, a: ptr(ent(SideA, "from a", "n")), b: ptr(ent(SideB, "from b", "n")),
			writesA: connector.Fields{"title": "from b"}, winners: []string{"b"}},
		{name: "both changed, held", conflict: ConflictHold, a: ptr(ent(SideA, "from a", "n")), b: ptr(ent(SideB, "from b", "n")),
			wantHeld: []string{"title|title"}, winners: []string{"held"}},
		{name: "both changed alike", conflict: ConflictHold, a: ptr(ent(SideA, "same", "n")), b: ptr(ent(SideB, "same", "n"))},
		{name: "a field flows one way only", conflict: ConflictAWins, a: ptr(ent(SideA, "old", "n")), b: ptr(ent(SideB, "old", "b's note"))},
		{name: "a held field stays held", conflict: ConflictHold, a: ptr(ent(SideA, "old", "n")), b: ptr(ent(SideB, "old", "n")),
			held: []string{"title|title"}, wantHeld: []string{"title|title"}},
		{name: "a held field changed again is not a new conflict", conflict: ConflictHold, a: ptr(ent(SideA, "a2", "n")), b: ptr(ent(SideB, "b2", "n")),
			held: []string{"title|title"}, wantHeld: []string{"title|title"}},
		{name: "a resolution needs its side read", conflict: ConflictHold, a: ptr(ent(SideA, "from a", "n")),
			held: []string{"title|title"}, resolve: map[string]Side{"title|title": SideB}, wantReread: true},
		{name: "a resolution writes the chosen side's value", conflict: ConflictHold, a: ptr(ent(SideA, "from a", "n")), b: ptr(ent(SideB, "from b", "n")),
			held: []string{"title|title"}, resolve: map[string]Side{"title|title": SideB}, writesA: connector.Fields{"title": "from b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &Process{Options: Options{Conflict: tc.conflict}}
			pair := &Pair{ID: "p", Fields: maps.Clone(base), Held: tc.held, Resolve: tc.resolve}
			ents, known := map[Side]connector.Entity{}, map[Side]bool{}
			for s, e := range map[Side]*connector.Entity{SideA: tc.a, SideB: tc.b} {
				if e != nil {
					ents[s], known[s] = *e, true
				}
			}
			d, err := decideFields(p, pair, tp, ents, known)
			if err != nil {
				t.Fatal(err)
			}
			if d.needRead != tc.wantReread {
				t.Fatalf("needRead %v", d.needRead)
			}
			if tc.wantReread {
				return
			}
			for s, want := range map[Side]connector.Fields{SideA: tc.writesA, SideB: tc.writesB} {
				if len(want) == 0 {
					want = connector.Fields{}
				}
				if !maps.EqualFunc(d.writes[s], want, func(x, y any) bool { return x == y }) {
					t.Fatalf("writes to %s: %v, want %v", s, d.writes[s], want)
				}
			}
			if !slices.Equal(d.held, tc.wantHeld) {
				t.Fatalf("held %v, want %v", d.held, tc.wantHeld)
			}
			var winners []string
			for _, c := range d.conflicts {
				winners = append(winners, c.Winner)
			}
			if !slices.Equal(winners, tc.winners) {
				t.Fatalf("conflicts won by %v, want %v", winners, tc.winners)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
