package connector

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestTextList(t *testing.T) {
	in := []string{"a", "b"}
	got, err := TextList("labels", in)
	if err != nil || !slices.Equal(got, in) {
		t.Fatalf("TextList([]string) = %v, %v", got, err)
	}
	got[0] = "changed"
	if in[0] != "a" {
		t.Fatal("TextList must copy, not share, the caller's slice")
	}
	if got, err := TextList("labels", []any{"x", "y"}); err != nil || !slices.Equal(got, []string{"x", "y"}) {
		t.Fatalf("TextList([]any) = %v, %v", got, err)
	}
	if got, err := TextList("labels", nil); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("TextList(nil) = %#v, %v; want an empty list", got, err)
	}
	for _, v := range []any{[]any{"x", 3.0}, "a,b", 7.0, map[string]any{}} {
		if _, err := TextList("labels", v); !errors.Is(err, ErrInvalid) {
			t.Errorf("TextList(%#v) = %v, want ErrInvalid", v, err)
		}
	}
	if _, err := TextList("cf:Teams", []any{1.0}); err == nil || err.Error() != "field cf:Teams holds float64, not text: "+ErrInvalid.Error() {
		t.Errorf("error names the field and the odd element: %v", err)
	}
}

func TestUserValue(t *testing.T) {
	ada := User{ID: "7", Email: "ada@example.com", Name: "Ada"}
	var none *User
	for _, tc := range []struct {
		name string
		v    any
		want User
		ok   bool
	}{
		{"User", ada, ada, true},
		{"*User", &ada, ada, true},
		{"JSON object", map[string]any{"id": "7", "email": "ada@example.com", "name": "Ada", "extra": 1.0}, ada, true},
		{"partial object", map[string]any{"email": "ada@example.com", "id": 7.0}, User{Email: "ada@example.com"}, true},
		{"nil", nil, User{}, true},
		{"nil *User", none, User{}, true},
		{"text", "ada", User{}, false},
		{"number", 7.0, User{}, false},
	} {
		got, ok := UserValue(tc.v)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: UserValue = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMatchUser(t *testing.T) {
	users := []User{
		{ID: "1", Email: "bob@example.com", Name: "Ada"}, // another user named like Ada
		{ID: "2", Email: "ada@example.com", Name: "Ada Lovelace"},
		{ID: "3", Email: "carol@example.com", Name: "Carol"},
	}
	for _, tc := range []struct {
		name   string
		want   User
		wantID string
		ok     bool
	}{
		{"by id", User{ID: "3", Name: "Ada"}, "3", true},
		{"email before name", User{Email: "ADA@example.com", Name: "Ada"}, "2", true},
		{"by name, any case", User{Name: "carol"}, "3", true},
		{"unknown id falls back to email", User{ID: "99", Email: "carol@example.com"}, "3", true},
		{"nobody", User{ID: "99", Email: "x@example.com", Name: "X"}, "", false},
		{"zero user matches no one", User{}, "", false},
	} {
		got, ok := MatchUser(slices.Values(users), tc.want)
		if got.ID != tc.wantID || ok != tc.ok {
			t.Errorf("%s: MatchUser = %+v, %v; want id %q, %v", tc.name, got, ok, tc.wantID, tc.ok)
		}
	}
}

func TestRefName(t *testing.T) {
	if got := RefName(Ref{ID: "10001", Key: "HELP-1"}); got != "HELP-1" {
		t.Errorf("with a key: %q", got)
	}
	if got := RefName(Ref{ID: "10001"}); got != "10001" {
		t.Errorf("without a key: %q", got)
	}
}

func TestDay(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
		ok   bool
	}{
		{"date", "2026-03-09", "2026-03-09", true},
		{"datetime keeps the day it was written on", "2026-03-09T23:30:00-05:00", "2026-03-09", true},
		{"time", time.Date(2026, 3, 9, 1, 2, 3, 0, time.UTC), "2026-03-09", true},
		{"nil clears", nil, "", false},
		{"empty clears", "", "", false},
	} {
		got, ok, err := Day("dueDate", tc.v)
		if err != nil || got != tc.want || ok != tc.ok {
			t.Errorf("%s: Day = %q, %v, %v; want %q, %v", tc.name, got, ok, err, tc.want, tc.ok)
		}
	}
	for _, v := range []any{"2026-13-01", "9 March", "2026-03-09T25:00:00Z", 20260309.0, []string{"2026-03-09"}} {
		if _, ok, err := Day("dueDate", v); ok || !errors.Is(err, ErrInvalid) {
			t.Errorf("Day(%#v) = ok %v, %v; want ErrInvalid", v, ok, err)
		}
	}
}

func TestNormalizeGivesOneShapePerKind(t *testing.T) {
	ada := User{ID: "7", Email: "ada@example.com"}
	var none *User
	f := Normalize(Fields{
		"ptr": &ada, "nilptr": none, "object": map[string]any{"id": "7", "email": "ada@example.com"},
		"other": map[string]any{"href": "https://x"}, "int": 3, "int64": int64(4), "list": []any{"a", "b"},
		"mixed": []any{"a", 1.0}, "text": "t", "nil": nil,
	})
	want := Fields{"ptr": ada, "nilptr": nil, "object": ada, "other": map[string]any{"href": "https://x"}, "int": 3.0, "int64": 4.0,
		"list": []string{"a", "b"}, "mixed": []any{"a", 1.0}, "text": "t", "nil": nil}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("Normalize = %#v\nwant %#v", f, want)
	}
	// One reading of a person: a nil or empty one is nobody.
	for _, v := range []any{nil, none, User{}, map[string]any{}, map[string]any{"id": ""}, map[string]any{"id": "7", "x": 1.0}, "ada"} {
		if u, ok := AsUser(v); ok {
			t.Errorf("AsUser(%#v) = %+v: not a person", v, u)
		}
	}
	if u, ok := AsUser(map[string]any{"name": "Ada"}); !ok || u.Name != "Ada" {
		t.Errorf("AsUser of a name only: %+v %v", u, ok)
	}
}
