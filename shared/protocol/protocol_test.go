package protocol

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strconv"
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

func TestMethodsHaveResultTypes(t *testing.T) {
	for _, d := range All() {
		if d.Params == nil || d.Result == nil {
			t.Errorf("%s: params %v, result %v", d.Name, d.Params, d.Result)
		}
	}
}

// TestEventsListEveryEventType reads apitype's source: every Event...
// constant is an event type, and each must be in the table with its
// payload, or the UI's generated event map would miss it.
func TestEventsListEveryEventType(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("../apitype/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("apitype's source: %v", err)
	}
	declared := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !strings.HasPrefix(n.Name, "Event") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						declared[v] = true
					}
				}
			}
		}
	}
	if len(declared) < 10 {
		t.Fatalf("found only %d event constants in apitype: %v", len(declared), declared)
	}
	listed := map[string]bool{}
	for _, e := range Events() {
		if listed[e.Name] {
			t.Errorf("%s is listed twice", e.Name)
		}
		listed[e.Name] = true
		if !declared[e.Name] {
			t.Errorf("%s is listed but apitype declares no such event", e.Name)
		}
		if e.Data != nil && e.Data.Kind() != reflect.Struct {
			t.Errorf("%s: payload %v is not a struct", e.Name, e.Data)
		}
	}
	for name := range declared {
		if !listed[name] {
			t.Errorf("apitype declares event %s, but protocol.Events does not list it", name)
		}
	}
}
