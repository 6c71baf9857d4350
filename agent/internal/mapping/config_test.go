package mapping

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The configuration is stored as JSON and exported as YAML: both tags
// must exist on every field and agree, or an export and re-import would
// lose settings.
func TestConfigTags(t *testing.T) {
	for _, v := range []any{TypePair{}, FieldPair{}, ValueMap{}, ValuePair{}, UserMap{}, UserEntry{}, UserRef{}, Transform{}, Filter{}, LinkTypePair{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			f := typ.Field(i)
			j, y := f.Tag.Get("json"), f.Tag.Get("yaml")
			if j == "" || y == "" {
				t.Errorf("%s.%s: json tag %q, yaml tag %q; want both", typ.Name(), f.Name, j, y)
				continue
			}
			if j != y {
				t.Errorf("%s.%s: json %q and yaml %q differ", typ.Name(), f.Name, j, y)
			}
			if name := strings.Split(j, ",")[0]; name == "" || name == "-" {
				t.Errorf("%s.%s: no name in %q", typ.Name(), f.Name, j)
			}
		}
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	p := bugPair()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"valueMap"`, `"transformAToB"`, `"linkTypes"`, `"defaultB"`, `"direction":"a_to_b"`, `"kind":"markdown_to_html"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
	var back TypePair
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	// Filter values come back as JSON types; the rest is identical.
	back.Filters, p.Filters = nil, nil
	if !reflect.DeepEqual(back, p) {
		t.Errorf("round trip changed the pair:\n%+v\n%+v", back, p)
	}
	if errs := ValidatePair(back, jiraSchema, adoSchema); len(errs) != 0 {
		t.Errorf("decoded pair does not validate: %v", errs)
	}
}

func TestDirectionFlows(t *testing.T) {
	if !Both.Flows(AtoB) || !Both.Flows(BtoA) || !AtoB.Flows(AtoB) || AtoB.Flows(BtoA) || BtoA.Flows(AtoB) {
		t.Error("Flows is wrong")
	}
}
