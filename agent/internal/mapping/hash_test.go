package mapping

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

func TestHashEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b any
	}{
		{"nil and empty string", nil, ""},
		{"whitespace is empty", nil, " \n\t"},
		{"empty list", nil, []string{}},
		{"list of blanks", nil, []any{"", " "}},
		{"empty map", nil, map[string]any{}},
		{"empty user", nil, connector.User{}},
		{"CRLF", "a\r\nb\rc", "a\nb\nc"},
		{"trailing whitespace and newlines", "**Steps**\n\n1. a  \n", "**Steps**\n\n1. a"},
		{"surrounding whitespace", "  title ", "title"},
		{"blank-line runs", "a\n\n\n\nb", "a\n\nb"},
		{"blank lines with spaces", "a\n  \n\t\nb", "a\n\nb"},
		{"NFC", "Cafe\u0301", "Caf\u00e9"},
		{"number forms", 2.0, 2},
		{"negative zero", math.Copysign(0, -1), 0.0},
		{"int64 and float", int64(7), 7.0},
		{"json.Number", json.Number("1.50"), 1.5},
		{"number and its canonical text", 2.0, "2"},
		{"bool and text", true, "true"},
		{"labels are sets", []string{"b", "a", "a"}, []string{"a", "b"}},
		{"labels after JSON", []string{"x", "y"}, []any{"y", "x"}},
		{"labels ignore blanks", []string{"x", ""}, []string{"x"}},
		{"users by id", connector.User{ID: "u1", Name: "Ann"}, connector.User{ID: "U1", Email: "ann@x.example", Name: "Ann Lee"}},
		{"users in JSON form", connector.User{ID: "u1"}, map[string]any{"id": "u1", "name": "Ann"}},
		{"users by email without id", connector.User{Email: "Ann@X.example"}, connector.User{Email: "ann@x.example", Name: "A"}},
		{"user pointer", &connector.User{ID: "u1"}, connector.User{ID: "u1"}},
		{"multi-user sets", []connector.User{{ID: "a"}, {ID: "b"}}, []any{map[string]any{"id": "b"}, map[string]any{"id": "a"}}},
		{"datetime precision and offset", "2024-06-01T12:00:00+02:00", "2024-06-01T10:00:00.000Z"},
		{"Jira datetime", "2024-06-01T10:00:00.000+0000", "2024-06-01T10:00:00Z"},
		{"maps by non-empty entries", map[string]any{"a": 1.0, "b": nil}, map[string]any{"a": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ha, hb := Hash(tt.a), Hash(tt.b); ha != hb {
				t.Errorf("Hash(%#v) = %s, Hash(%#v) = %s; want equal", tt.a, ha, tt.b, hb)
			}
		})
	}
}

func TestHashDiffer(t *testing.T) {
	tests := []struct {
		name string
		a, b any
	}{
		{"text", "a", "b"},
		{"case counts in text", "Done", "done"},
		{"inner whitespace counts", "a b", "a  b"},
		{"line break counts", "a\nb", "a b"},
		{"paragraph break counts", "a\nb", "a\n\nb"},
		{"version-like text is not a number", "1.10", 1.1},
		{"non-canonical number text", "2.0", 2.0},
		{"labels", []string{"a"}, []string{"a", "b"}},
		{"label case", []string{"UI"}, []string{"ui"}},
		{"users", connector.User{ID: "u1"}, connector.User{ID: "u2"}},
		{"user id beats same email", connector.User{ID: "u1", Email: "a@x"}, connector.User{ID: "u2", Email: "a@x"}},
		{"empty and zero", nil, 0.0},
		{"empty and false", nil, false},
		{"list is not its element", []string{"a"}, "a"},
		{"user is not a string", connector.User{Name: "Ann"}, "Ann"},
		{"map nesting", map[string]any{"a": "b"}, map[string]any{"ab": ""}},
		{"different instants", "2024-06-01T10:00:00Z", "2024-06-01T10:00:01Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if Hash(tt.a) == Hash(tt.b) {
				t.Errorf("Hash(%#v) == Hash(%#v); want different", tt.a, tt.b)
			}
		})
	}
}

func TestHashFormat(t *testing.T) {
	h := Hash("x")
	if !strings.HasPrefix(h, HashVersion+":") || len(h) != len(HashVersion)+1+32 {
		t.Errorf("Hash = %q, want %s: and 32 hex digits", h, HashVersion)
	}
	// Pinned: a change here changes every stored hash, which needs a new
	// HashVersion.
	if got, want := Hash("Checkout fails"), Hash("Checkout fails \r\n"); got != want {
		t.Errorf("normalisation changed")
	}
	if got := Hash(nil); got != "h1:5feceb66ffc86f38d952786c6d696c79" {
		t.Errorf("Hash(nil) = %s: the encoding changed; bump HashVersion", got)
	}
}
