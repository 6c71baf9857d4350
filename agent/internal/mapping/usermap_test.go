package mapping

import (
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

var testUsers = UserMap{Entries: []UserEntry{
	{A: UserRef{ID: "5b10a2844c20165700ede21g", Email: "ann@corp.example", Name: "Ann Lee"}, B: UserRef{ID: "u-ann", Email: "ann@corp.example", Name: "Ann Lee"}},
	{A: UserRef{Email: "bob@corp.example"}, B: UserRef{ID: "u-bob"}},
	{A: UserRef{Name: "Chris Kim"}, B: UserRef{ID: "u-chris1"}},
	{A: UserRef{Name: "chris kim"}, B: UserRef{ID: "u-chris2"}}, // two people, one display name
	{A: UserRef{ID: "dana"}, B: UserRef{ID: "u-dana"}},
	{A: UserRef{ID: "dana-old"}, B: UserRef{ID: "u-dana"}}, // two A accounts, one B person
}}

func TestUserMapLookup(t *testing.T) {
	tests := []struct {
		name string
		m    UserMap
		u    connector.User
		dir  Direction
		want connector.User
		ok   bool
	}{
		{"by id", testUsers, connector.User{ID: "5B10A2844C20165700EDE21G"}, AtoB, connector.User{ID: "u-ann", Email: "ann@corp.example", Name: "Ann Lee"}, true},
		{"id unknown, email matches", testUsers, connector.User{ID: "x", Email: " Bob@Corp.Example "}, AtoB, connector.User{ID: "u-bob"}, true},
		{"by display name", testUsers, connector.User{Name: "Ann Lee"}, AtoB, connector.User{ID: "u-ann", Email: "ann@corp.example", Name: "Ann Lee"}, true},
		{"ambiguous display name matches nothing", testUsers, connector.User{Name: "Chris Kim"}, AtoB, connector.User{}, false},
		{"reverse", testUsers, connector.User{ID: "u-bob"}, BtoA, connector.User{Email: "bob@corp.example"}, true},
		{"reverse of many-to-one: first wins", testUsers, connector.User{ID: "u-dana"}, BtoA, connector.User{ID: "dana"}, true},
		{"matchBy email ignores ids", UserMap{Entries: testUsers.Entries, MatchBy: MatchEmail}, connector.User{ID: "dana"}, AtoB, connector.User{}, false},
		{"matchBy email", UserMap{Entries: testUsers.Entries, MatchBy: MatchEmail}, connector.User{Email: "ann@corp.example"}, AtoB, connector.User{ID: "u-ann", Email: "ann@corp.example", Name: "Ann Lee"}, true},
		{"matchBy name", UserMap{Entries: testUsers.Entries, MatchBy: MatchName}, connector.User{ID: "dana", Name: "Ann Lee"}, AtoB, connector.User{ID: "u-ann", Email: "ann@corp.example", Name: "Ann Lee"}, true},
		{"nobody", testUsers, connector.User{ID: "zed"}, AtoB, connector.User{}, false},
		{"empty user", testUsers, connector.User{}, AtoB, connector.User{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := LookupUser(tt.m, tt.u, tt.dir)
			if ok != tt.ok || got != tt.want {
				t.Errorf("Lookup = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestUserMapMap(t *testing.T) {
	withDefault := testUsers
	withDefault.DefaultB = &UserRef{ID: "u-triage"}
	unassign := testUsers
	unassign.DefaultB = &UserRef{}
	strict := testUsers
	strict.OnMissing = OnMissingError
	empty := testUsers
	empty.OnMissing = OnMissingEmpty
	tests := []struct {
		name    string
		m       UserMap
		v       any
		want    any
		wantErr string
	}{
		{"user value", testUsers, connector.User{ID: "dana"}, connector.User{ID: "u-dana"}, ""},
		{"pointer", testUsers, &connector.User{ID: "dana"}, connector.User{ID: "u-dana"}, ""},
		{"JSON form", testUsers, map[string]any{"id": "dana", "name": "Dana"}, connector.User{ID: "u-dana"}, ""},
		{"bare email", testUsers, "bob@corp.example", connector.User{ID: "u-bob"}, ""},
		{"bare id", testUsers, "dana", connector.User{ID: "u-dana"}, ""},
		{"nil", testUsers, nil, nil, ""},
		{"list", testUsers, []any{map[string]any{"id": "dana"}, "dana-old", "bob@corp.example"}, []connector.User{{ID: "u-dana"}, {ID: "u-bob"}}, ""},
		{"missing kept by default", testUsers, connector.User{ID: "zed", Email: "zed@corp.example"}, connector.User{ID: "zed", Email: "zed@corp.example"}, ""},
		{"missing bare string kept", testUsers, "zed@corp.example", "zed@corp.example", ""},
		{"default user", withDefault, connector.User{ID: "zed"}, connector.User{ID: "u-triage"}, ""},
		{"empty default unassigns", unassign, connector.User{ID: "zed"}, nil, ""},
		{"empty policy", empty, connector.User{ID: "zed"}, nil, ""},
		{"error names the user", strict, connector.User{ID: "zed", Email: "zed@corp.example"}, nil, `map assignee -> owner user id "zed", email ` + connector.Digest("zed@corp.example") + ": no user map entry"},
		{"not a user", testUsers, 3.0, nil, "float64 is not a user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MapUser(tt.m, tt.v, AtoB, "assignee -> owner")
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

func TestUserMapValidate(t *testing.T) {
	m := UserMap{MatchBy: "login", OnMissing: "drop", Entries: []UserEntry{{A: UserRef{ID: "a"}}}}
	got := paths(ValidateUsers(m))
	want := []string{"matchBy", "onMissing", "entries[0].b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths = %v, want %v", got, want)
	}
	if errs := ValidateUsers(testUsers); len(errs) != 0 {
		t.Errorf("valid map: %v", errs)
	}
}

func paths(errs []FieldError) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Path)
	}
	return out
}
