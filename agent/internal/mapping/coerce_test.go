package mapping

import (
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

func TestCoerce(t *testing.T) {
	enum := connector.FieldSchema{Name: "state", Type: connector.TypeEnum, Values: []string{"New", "Active", "Closed"}}
	tests := []struct {
		name    string
		v       any
		f       connector.FieldSchema
		want    any
		wantErr string
	}{
		{"nil stays nil", nil, enum, nil, ""},
		{"blank is nil", " ", connector.FieldSchema{Type: connector.TypeNumber}, nil, ""},
		{"number to string", 2.0, connector.FieldSchema{Type: connector.TypeString}, "2", ""},
		{"labels to text", []string{"a", "b"}, connector.FieldSchema{Type: connector.TypeText}, "a, b", ""},
		{"user to string", connector.User{ID: "1", Name: "Ann"}, connector.FieldSchema{Type: connector.TypeString}, "Ann", ""},
		{"enum spelled as the schema", "active", enum, "Active", ""},
		{"enum value not allowed", "Blocked", enum, nil, "coerce value " + connector.Digest("Blocked") + " for state: not one of its values"},
		{"enum without values", "x", connector.FieldSchema{Type: connector.TypeEnum}, "x", ""},
		{"text to number", " 3.5 ", connector.FieldSchema{Name: "sp", Type: connector.TypeNumber}, 3.5, ""},
		{"not a number", "high", connector.FieldSchema{Name: "sp", Type: connector.TypeNumber}, nil, "coerce value " + connector.Digest("high") + " for sp: not a number"},
		{"bool from text", "Yes", connector.FieldSchema{Type: connector.TypeBool}, true, ""},
		{"bool from 0", 0.0, connector.FieldSchema{Type: connector.TypeBool}, false, ""},
		{"bool refused", "maybe", connector.FieldSchema{Type: connector.TypeBool}, nil, "not a bool"},
		{"date", "2024-06-01", connector.FieldSchema{Type: connector.TypeDate}, "2024-06-01", ""},
		{"date from datetime keeps its own day", "2024-06-01T23:30:00-05:00", connector.FieldSchema{Type: connector.TypeDate}, "2024-06-01", ""},
		{"bad date", "June 1", connector.FieldSchema{Type: connector.TypeDate}, nil, "not a date"},
		{"datetime in UTC", "2024-06-01T12:00:00+02:00", connector.FieldSchema{Type: connector.TypeDateTime}, "2024-06-01T10:00:00Z", ""},
		{"datetime from date", "2024-06-01", connector.FieldSchema{Type: connector.TypeDateTime}, "2024-06-01T00:00:00Z", ""},
		{"labels from one value", "bug", connector.FieldSchema{Type: connector.TypeLabels}, []string{"bug"}, ""},
		{"labels deduplicated", []any{"a", " a", "", "b"}, connector.FieldSchema{Type: connector.TypeLabels}, []string{"a", "b"}, ""},
		{"user from JSON", map[string]any{"id": "u1"}, connector.FieldSchema{Type: connector.TypeUser}, connector.User{ID: "u1"}, ""},
		{"user from email", "ann@x.example", connector.FieldSchema{Type: connector.TypeUser}, connector.User{Email: "ann@x.example"}, ""},
		{"user from name", "Ann Lee", connector.FieldSchema{Type: connector.TypeUser}, connector.User{Name: "Ann Lee"}, ""},
		{"unknown type passes", map[string]any{"k": "v"}, connector.FieldSchema{Type: "reference"}, map[string]any{"k": "v"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Coerce(tt.v, tt.f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
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

func TestCoerceFields(t *testing.T) {
	schema := connector.Schema{Fields: []connector.FieldSchema{
		{Name: "priority", Type: connector.TypeNumber},
		{Name: "state", Type: connector.TypeEnum, Values: []string{"New"}},
		{Name: "tags", Type: connector.TypeLabels},
	}}
	got, errs := CoerceFields(connector.Fields{"priority": "2", "state": "Gone", "tags": "x", "other": 1.0}, schema)
	want := connector.Fields{"priority": 2.0, "tags": []string{"x"}, "other": 1.0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	if len(errs) != 1 || errs[0].Path != "state" || errs[0].Code != CodeNotInEnum {
		t.Errorf("errs = %+v, want one not_in_enum at state", errs)
	}
}
