package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// TestGeneratedFilesAreCurrent fails while a file under
// frontend/src/api/generated differs from what tsgen writes now: shared/
// changed and `make generate` was not run (or the file was edited by hand).
func TestGeneratedFilesAreCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	files, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		path := filepath.Join(root, outDir, name)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v; run `make generate`", filepath.Join(outDir, name), err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `make generate` (go run ./build/tsgen) and commit the result\n%s",
				filepath.Join(outDir, name), firstDifference(got, want))
		}
	}
	entries, err := os.ReadDir(filepath.Join(root, outDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := files[e.Name()]; !ok {
			t.Errorf("%s is in the generated directory but tsgen does not write it", e.Name())
		}
	}
}

func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n  committed: " + gl + "\n  generated: " + wl
		}
	}
	return ""
}

// The field rules are encoding/json's: a probe type shows each.
type probeInner struct {
	X int `json:"x"`
}

type probe struct {
	probeInner
	Plain    string            `json:"plain"`
	Omitted  string            `json:"omitted,omitempty"`
	Zero     probeInner        `json:"zero,omitzero"`
	Ptr      *probeInner       `json:"ptr"`
	OptPtr   *probeInner       `json:"optPtr,omitempty"`
	List     []probeInner      `json:"list"`
	Bytes    []byte            `json:"bytes"`
	Map      map[string]*int   `json:"map"`
	Any      any               `json:"any"`
	Skipped  string            `json:"-"`
	Dash     string            `json:"-,"`
	Untagged bool              //
	Number   int64             `json:"number,string"`
	Nested   struct{ A bool }  `json:"nested"`
	Named    map[string]string `json:"with space"`
	Set      bool              `json:"set" ts:"optional"`
}

func TestFieldRules(t *testing.T) {
	g := &generator{sources: map[string]*source{reflect.TypeFor[probe]().PkgPath(): {}}, used: map[reflect.Type]bool{}}
	g.use(reflect.TypeFor[probe]())
	if !g.used[reflect.TypeFor[probeInner]()] {
		t.Fatal("an embedded struct's type is not used")
	}
	want := map[string]string{
		"plain": "string", "omitted?": "string", "zero?": "probeInner", "ptr": "probeInner | null",
		"optPtr?": "probeInner", "list": "probeInner[] | null", "bytes": "string | null", "map": "Record<string, number | null> | null",
		"any": "unknown", "'-'": "string", "Untagged": "boolean", "number": "string", "nested": "{ A: boolean; }",
		"'with space'": "Record<string, string> | null", "set?": "boolean",
	}
	got := map[string]string{}
	for _, f := range jsonFields(reflect.TypeFor[probe]()) {
		ts, err := g.fieldType(f)
		if err != nil {
			t.Fatalf("%s: %v", f.goName, err)
		}
		got[propName(f.name)+opt(f.optional)] = ts
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields:\n got %v\nwant %v", got, want)
	}
	if e := embedded(reflect.TypeFor[probe]()); len(e) != 1 || e[0] != reflect.TypeFor[probeInner]() {
		t.Errorf("embedded: %v", e)
	}
}

// Every method and event of the protocol is in the tables.
func TestTablesAreComplete(t *testing.T) {
	files, err := generate(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	methods := string(files["methods.ts"])
	for _, m := range protocol.All() {
		if strings.Count(methods, "'"+m.Name+"': ") != 2 {
			t.Errorf("%s is not in both the method table and the access table", m.Name)
		}
	}
	for _, e := range protocol.Events() {
		if !strings.Contains(methods, "  "+e.Name+": ") {
			t.Errorf("event %s is not in the event map", e.Name)
		}
	}
}
