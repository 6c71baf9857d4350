package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDescriptors(t *testing.T) {
	if d := Duplicates(); len(d) > 0 {
		t.Fatalf("methods declared twice: %v", d)
	}
	for _, d := range All() {
		if d.Access < Handshake || d.Access > Admin {
			t.Errorf("%s has no valid access level", d.Name)
		}
		if !strings.Contains(d.Name, ".") {
			t.Errorf("%s: method names are noun.verb", d.Name)
		}
	}
	if _, ok := Lookup("session.hello"); !ok {
		t.Fatal("session.hello missing")
	}
}

func TestRoleAllows(t *testing.T) {
	cases := []struct {
		role Role
		acc  Access
		want bool
	}{
		{RoleViewer, Viewer, true}, {RoleViewer, Operator, false}, {RoleViewer, Admin, false},
		{RoleOperator, Operator, true}, {RoleOperator, Admin, false},
		{RoleAdmin, Admin, true}, {Role("root"), Viewer, false}, {RoleAdmin, Access(0), false},
	}
	for _, c := range cases {
		if got := c.role.Allows(c.acc); got != c.want {
			t.Errorf("%s.Allows(%s) = %v", c.role, c.acc, got)
		}
	}
}

func TestErrorJSON(t *testing.T) {
	e := Invalid("url", "url must be https")
	b, _ := json.Marshal(e)
	if string(b) != `{"code":-32001,"message":"url must be https","data":{"kind":"invalid","field":"url"}}` {
		t.Fatalf("error JSON: %s", b)
	}
	if (&Error{Code: CodeInvalidParams}).ErrorKind() != KindInvalid {
		t.Fatal("invalid params should map to kind invalid")
	}
}
