package mapping

import (
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

func TestFilterMatch(t *testing.T) {
	fields := connector.Fields{
		"priority":  3.0,
		"status":    "In Progress",
		"area":      `Lamdat-Unified\Europe`,
		"labels":    []string{"checkout", "P1"},
		"jsonList":  []any{"a", "b"},
		"assignee":  map[string]any{"id": "acc-1", "email": "ann@corp.example", "name": "Ann Lee"},
		"due":       "2024-06-01",
		"updated":   "2024-06-01T10:00:00Z",
		"empty":     "",
		"nothing":   nil,
		"version":   "1.10",
		"estimate":  "8",
		"subsystem": "Payments",
	}
	tests := []struct {
		f       Filter
		want    bool
		wantErr string
	}{
		{Filter{Field: "status", Op: OpEq, Value: "in progress"}, true, ""},
		{Filter{Field: "status", Op: OpEq, Value: "In"}, false, ""},
		{Filter{Field: "priority", Op: OpEq, Value: 3}, true, ""},
		{Filter{Field: "priority", Op: OpEq, Value: "3"}, true, ""},
		{Filter{Field: "area", Op: OpEq, Value: `Lamdat-Unified\Europe`}, true, ""},
		{Filter{Field: "status", Op: OpNeq, Value: "Done"}, true, ""},
		{Filter{Field: "labels", Op: OpEq, Value: "p1"}, true, ""},
		{Filter{Field: "labels", Op: OpContains, Value: "check"}, false, ""}, // lists: whole elements
		{Filter{Field: "labels", Op: OpNotContains, Value: "ui"}, true, ""},
		{Filter{Field: "jsonList", Op: OpContains, Value: "b"}, true, ""},
		{Filter{Field: "status", Op: OpContains, Value: "PROG"}, true, ""},
		{Filter{Field: "status", Op: OpNotContains, Value: "prog"}, false, ""},
		{Filter{Field: "status", Op: OpIn, Value: []any{"To Do", "In Progress"}}, true, ""},
		{Filter{Field: "status", Op: OpIn, Value: []string{"Done"}}, false, ""},
		{Filter{Field: "status", Op: OpIn, Value: "In Progress"}, true, ""},
		{Filter{Field: "labels", Op: OpIn, Value: []any{"ui", "checkout"}}, true, ""},
		{Filter{Field: "status", Op: OpNotIn, Value: []any{"Done", "Closed"}}, true, ""},
		{Filter{Field: "assignee", Op: OpEq, Value: "ANN@corp.example"}, true, ""},
		{Filter{Field: "assignee", Op: OpEq, Value: "acc-1"}, true, ""},
		{Filter{Field: "empty", Op: OpEmpty}, true, ""},
		{Filter{Field: "nothing", Op: OpEmpty}, true, ""},
		{Filter{Field: "absent", Op: OpEmpty}, true, ""},
		{Filter{Field: "labels", Op: OpNotEmpty}, true, ""},
		{Filter{Field: "empty", Op: OpEq, Value: ""}, true, ""},
		{Filter{Field: "priority", Op: OpGt, Value: 2}, true, ""},
		{Filter{Field: "priority", Op: OpGt, Value: "3"}, false, ""},
		{Filter{Field: "priority", Op: OpLt, Value: 10}, true, ""}, // numbers, not text ("3" > "10")
		{Filter{Field: "estimate", Op: OpLt, Value: 10}, true, ""},
		{Filter{Field: "due", Op: OpGt, Value: "2024-05-31"}, true, ""},
		{Filter{Field: "updated", Op: OpLt, Value: "2024-06-01T12:00:00+02:00"}, false, ""}, // 10:00Z == 12:00+02
		{Filter{Field: "subsystem", Op: OpGt, Value: "billing"}, true, ""},
		{Filter{Field: "nothing", Op: OpGt, Value: 1}, false, ""},
		{Filter{Field: "labels", Op: OpGt, Value: 1}, false, "holds a list"},
		{Filter{Field: "status", Op: OpMatches, Value: `^In\b`}, true, ""},
		{Filter{Field: "labels", Op: OpMatches, Value: `^P\d$`}, true, ""},
		{Filter{Field: "status", Op: OpMatches, Value: `(`}, false, "compile pattern"},
		{Filter{Field: "status", Op: "like", Value: "x"}, false, `unknown operator "like"`},
		{Filter{Field: "status", Op: OpEq, Value: []any{"x"}}, false, "single value"},
		{Filter{Field: "status", Op: OpIn, Value: []any{[]any{"x"}}}, false, "single values"},
	}
	for _, tt := range tests {
		name := tt.f.Field + " " + string(tt.f.Op)
		t.Run(name, func(t *testing.T) {
			got, err := MatchFilter(tt.f, fields)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%+v: got %v, want %v", tt.f, got, tt.want)
			}
		})
	}
}

func TestTypePairMatch(t *testing.T) {
	p := TypePair{Filters: []Filter{
		{Field: "priority", Op: OpGt, Value: 2},
		{Field: "key", Op: OpMatches, Value: `^HELP-`},
		{Side: SideB, Field: "state", Op: OpNeq, Value: "Removed"},
	}}
	e := connector.Entity{Ref: connector.Ref{Key: "HELP-1"}, Fields: connector.Fields{"priority": 3.0}}
	if ok, err := MatchPair(p, SideA, e); err != nil || !ok {
		t.Errorf("A: got %v, %v; want a match", ok, err)
	}
	e.Fields["priority"] = 1.0
	if ok, err := MatchPair(p, SideA, e); err != nil || ok {
		t.Errorf("A with low priority: got %v, %v; want no match", ok, err)
	}
	if ok, err := MatchPair(p, SideB, connector.Entity{Fields: connector.Fields{"state": "Removed"}}); err != nil || ok {
		t.Errorf("B: got %v, %v; want no match", ok, err)
	}
	if ok, err := MatchPair(TypePair{}, SideA, e); err != nil || !ok {
		t.Errorf("no filters: got %v, %v; want a match", ok, err)
	}
	bad := TypePair{Filters: []Filter{{Side: SideB, Field: "y", Op: OpEmpty}, {Field: "x", Op: "??"}}}
	if _, err := MatchPair(bad, SideA, e); err == nil || !strings.Contains(err.Error(), "match filters[1]") {
		t.Errorf("broken filter: err = %v", err)
	}
}
