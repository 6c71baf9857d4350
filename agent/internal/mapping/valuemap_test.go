package mapping

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

func strp(s string) *string { return &s }

func TestValueMapMap(t *testing.T) {
	status := &ValueMap{Pairs: []ValuePair{
		{A: "To Do", B: "New"},
		{A: "Open", B: "New"}, // many A to one B: B->A picks "To Do", the first
		{A: "In Progress", B: "Active"},
		{A: "Done", B: "Closed"},
		{A: "", B: "Proposed"}, // an explicit mapping of "nothing"
	}}
	withDefaults := &ValueMap{Pairs: status.Pairs, DefaultA: strp("To Do"), DefaultB: strp("New")}
	tests := []struct {
		name    string
		m       *ValueMap
		v       any
		dir     Direction
		want    any
		wantErr string
	}{
		{"forward", status, "In Progress", AtoB, "Active", ""},
		{"case and space ignored", status, "  in progress ", AtoB, "Active", ""},
		{"many to one forward", status, "Open", AtoB, "New", ""},
		{"reverse: first pair wins", status, "New", BtoA, "To Do", ""},
		{"reverse", status, "closed", BtoA, "Done", ""},
		{"empty mapped explicitly", status, nil, AtoB, "Proposed", ""},
		{"empty mapped back to empty", status, "Proposed", BtoA, nil, ""},
		{"empty without a pair stays empty", status, "", BtoA, nil, ""},
		{"missing is an error naming field and value", status, "Blocked", AtoB, nil, "map status -> state value " + connector.Digest("Blocked") + ": no value map entry"},
		{"default used", withDefaults, "Blocked", AtoB, "New", ""},
		{"default of the other direction", withDefaults, "Removed", BtoA, "To Do", ""},
		{"keep", &ValueMap{Pairs: status.Pairs, OnMissing: OnMissingKeep}, "Blocked", AtoB, "Blocked", ""},
		{"empty policy", &ValueMap{Pairs: status.Pairs, OnMissing: OnMissingEmpty}, "Blocked", AtoB, nil, ""},
		{"error despite default", &ValueMap{Pairs: status.Pairs, DefaultB: strp("New"), OnMissing: OnMissingError}, "Blocked", AtoB, nil, "no value map entry"},
		{"default policy without default", &ValueMap{Pairs: status.Pairs, OnMissing: OnMissingDefault}, "Blocked", AtoB, nil, "no default for this direction"},
		{"numbers match by text", &ValueMap{Pairs: []ValuePair{{A: "1", B: "Highest"}, {A: "2", B: "High"}}}, 2.0, AtoB, "High", ""},
		{"booleans match by text", &ValueMap{Pairs: []ValuePair{{A: "true", B: "Yes"}}}, true, AtoB, "Yes", ""},
		{"labels element by element", &ValueMap{Pairs: []ValuePair{{A: "bug", B: "defect"}, {A: "ui", B: "frontend"}, {A: "ux", B: "frontend"}}},
			[]string{"bug", "UI", "ux"}, AtoB, []string{"defect", "frontend"}, ""},
		{"labels keep unmapped", &ValueMap{Pairs: []ValuePair{{A: "bug", B: "defect"}}, OnMissing: OnMissingKeep},
			[]any{"bug", "other"}, AtoB, []string{"defect", "other"}, ""},
		{"labels error", &ValueMap{Pairs: []ValuePair{{A: "bug", B: "defect"}}}, []string{"bug", "x"}, AtoB, nil, "value " + connector.Digest("x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MapValue(tt.m, tt.v, tt.dir, "status -> state")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if !errors.Is(err, errNoMatch) {
					t.Errorf("err = %v, want errNoMatch", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}
