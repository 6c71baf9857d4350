package mapping

import (
	"reflect"
	"strings"
	"testing"
)

func TestValidateValidPair(t *testing.T) {
	if errs := ValidatePair(bugPair(), jiraSchema, adoSchema); len(errs) != 0 {
		for _, e := range errs {
			t.Errorf("%s [%s]: %s", e.Path, e.Code, e.Message)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	type want struct{ path, code, msg string }
	tests := []struct {
		name   string
		modify func(p *TypePair)
		want   []want
	}{
		{"unknown entity types", func(p *TypePair) { p.A, p.B = "Epic", "" }, []want{
			{"a", CodeUnknownType, `entity type "Epic" does not exist in A`},
			{"b", CodeRequired, "entity type is required"},
		}},
		{"unknown field", func(p *TypePair) { p.Fields[0].B = "System.Titel" }, []want{
			{"fields[0].b", CodeUnknownField, `field "System.Titel" does not exist in B`},
		}},
		{"missing target", func(p *TypePair) { p.Fields[0].B = "" }, []want{
			{"fields[0].b", CodeRequired, "field of B is required"},
		}},
		{"missing direction", func(p *TypePair) { p.Fields[0].Direction = "" }, []want{
			{"fields[0].direction", CodeRequired, "direction is required"},
		}},
		{"bad direction", func(p *TypePair) { p.Fields[0].Direction = "sideways" }, []want{
			{"fields[0].direction", CodeInvalid, `direction "sideways"`},
		}},
		{"read-only target", func(p *TypePair) {
			p.Fields = append(p.Fields, FieldPair{A: "summary", B: "System.Id", Direction: AtoB})
		}, []want{
			// Read-only ends the checks of that direction: no type mismatch.
			{"fields[12].b", CodeReadOnly, `field "System.Id" is read-only in B and cannot be written`},
		}},
		{"both on a read-only field", func(p *TypePair) { p.Fields[8].Direction = Both }, []want{
			{"fields[8].a", CodeReadOnly, `field "key" is read-only in A and cannot be written: make the direction one-way`},
		}},
		{"duplicate target in one direction", func(p *TypePair) {
			p.Fields = append(p.Fields, FieldPair{A: "environment", B: "System.Title", Direction: AtoB, TransformAToB: &Transform{Kind: TransformMarkdownToText}})
		}, []want{
			{"fields[12].b", CodeDuplicate, `field "System.Title" of B is already written in this direction by fields[0]`},
		}},
		{"rich text into a plain field", func(p *TypePair) { p.Fields[9].TransformAToB = nil; p.Fields[9].Direction = AtoB }, []want{
			{"fields[9].b", CodeTypeMismatch, `text field "environment" cannot be written to string field "Microsoft.VSTS.TCM.ReproSteps" of B: rich text needs a markdown_to_text transform`},
		}},
		{"enum to number without a value map", func(p *TypePair) { p.Fields[3].ValueMap = nil }, []want{
			{"fields[3].b", CodeTypeMismatch, `enum field "priority" cannot be written to number field "Microsoft.VSTS.Common.Priority" of B: add a value map`},
			{"fields[3].a", CodeTypeMismatch, `number field "Microsoft.VSTS.Common.Priority" cannot be written to enum field "priority" of A: add a value map`},
		}},
		{"value map values not in the enums", func(p *TypePair) {
			p.Fields[2].ValueMap.Pairs[1] = ValuePair{A: "Doing", B: "Activ"}
			p.Fields[2].ValueMap.DefaultB = strp("Open")
		}, []want{
			{"fields[2].valueMap.pairs[1].a", CodeNotInEnum, `"Doing" is not a value of "status" in A`},
			{"fields[2].valueMap.pairs[1].b", CodeNotInEnum, `"Activ" is not a value of "System.State" in B`},
			{"fields[2].valueMap.defaultB", CodeNotInEnum, `"Open" is not a value of "System.State" in B`},
		}},
		{"value map policy", func(p *TypePair) { p.Fields[2].ValueMap.OnMissing = "guess" }, []want{
			{"fields[2].valueMap.onMissing", CodeInvalid, `onMissing "guess"`},
		}},
		{"default policy needs defaults", func(p *TypePair) { p.Fields[2].ValueMap.OnMissing = OnMissingDefault }, []want{
			{"fields[2].valueMap.defaultB", CodeRequired, "a default for B is required"},
			{"fields[2].valueMap.defaultA", CodeRequired, "a default for A is required"},
		}},
		{"bad regex", func(p *TypePair) {
			p.Fields[0].TransformAToB = &Transform{Kind: TransformRegex, Pattern: `(?<x`}
		}, []want{
			{"fields[0].transformAToB.pattern", CodeBadRegex, "compile pattern"},
		}},
		{"empty regex", func(p *TypePair) { p.Fields[0].TransformBToA = &Transform{Kind: TransformRegex} }, []want{
			{"fields[0].transformBToA.pattern", CodeRequired, "pattern is required"},
		}},
		{"template naming an unknown field", func(p *TypePair) { p.Fields[10].TransformBToA.Value = "{{key}} {{System.Ttle}}" }, []want{
			{"fields[10].transformBToA.value", CodeBadTemplate, "placeholder {{System.Ttle}} names no field of B"},
		}},
		{"broken template", func(p *TypePair) { p.Fields[10].TransformBToA.Value = "{{key" }, []want{
			{"fields[10].transformBToA.value", CodeBadTemplate, "without a closing"},
		}},
		{"constant that does not fit", func(p *TypePair) {
			p.Fields[6] = FieldPair{B: "Microsoft.VSTS.Scheduling.StoryPoints", Direction: AtoB, TransformAToB: &Transform{Kind: TransformConstant, Value: "lots"}}
		}, []want{
			{"fields[6].transformAToB.value", CodeTypeMismatch, `constant "lots" does not fit number field`},
		}},
		{"computed value needs a one-way pair", func(p *TypePair) { p.Fields[7].Direction = Both }, []want{
			{"fields[7].a", CodeRequired, "field of A is required"},
		}},
		{"unknown transform kind", func(p *TypePair) { p.Fields[0].TransformAToB = &Transform{Kind: "lua"} }, []want{
			{"fields[0].transformAToB.kind", CodeInvalid, `kind "lua"`},
		}},
		{"conversion of a non-text field", func(p *TypePair) {
			p.Fields[6].TransformAToB = &Transform{Kind: TransformMarkdownToHTML}
		}, []want{
			{"fields[6].transformAToB.kind", CodeTypeMismatch, `markdown_to_html converts text, and "story points" is a number field`},
			{"fields[6].b", CodeTypeMismatch, "cannot be written to number field"},
		}},
		{"user map on non-user fields", func(p *TypePair) { p.Fields[0].UserMap = true }, []want{
			{"fields[0].userMap", CodeUnusedUserMap, "neither field holds a user"},
		}},
		{"user without user map", func(p *TypePair) {
			p.Fields = append(p.Fields, FieldPair{A: "summary", B: "System.AssignedTo", Direction: AtoB})
		}, []want{
			{"fields[12].b", CodeDuplicate, "already written in this direction by fields[4]"},
			{"fields[12].b", CodeTypeMismatch, `string field "summary" cannot be written to user field "System.AssignedTo" of B: set userMap to look people up`},
		}},
		{"filters", func(p *TypePair) {
			p.Filters = []Filter{
				{Field: "sprint", Op: OpEq, Value: "1"},
				{Side: "c", Field: "x", Op: OpEq},
				{Field: "status", Op: "like"},
				{Field: "status", Op: OpIn, Value: []any{map[string]any{}}},
				{Field: "summary", Op: OpMatches, Value: "("},
				{Side: SideB, Field: "key", Op: OpEmpty},
				{Field: "labels", Op: OpEq, Value: []any{"a"}},
			}
		}, []want{
			{"filters[0].field", CodeUnknownField, `field "sprint" does not exist in A`},
			{"filters[1].side", CodeInvalid, `side "c"`},
			{"filters[2].op", CodeInvalid, `operator "like"`},
			{"filters[3].value", CodeInvalid, "list elements must be single values"},
			{"filters[4].value", CodeBadRegex, "compile pattern"},
			{"filters[6].value", CodeInvalid, "must be a single value"},
		}},
		{"link types", func(p *TypePair) {
			p.LinkTypes = []LinkTypePair{{A: "Blocks", B: "Successor"}, {A: "", B: "Related"}}
		}, []want{
			{"linkTypes[0].b", CodeUnknownLink, `link type "Successor" does not exist in B`},
			{"linkTypes[1].a", CodeRequired, "link type of A is required"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := bugPair()
			tt.modify(&p)
			got := ValidatePair(p, jiraSchema, adoSchema)
			if len(got) != len(tt.want) {
				for _, e := range got {
					t.Logf("%s [%s]: %s", e.Path, e.Code, e.Message)
				}
				t.Fatalf("got %d errors, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				e := got[i]
				if e.Path != w.path || e.Code != w.code || !strings.Contains(e.Message, w.msg) {
					t.Errorf("error %d = %s [%s] %q; want %s [%s] containing %q", i, e.Path, e.Code, e.Message, w.path, w.code, w.msg)
				}
			}
		})
	}
}

func TestValidateTypes(t *testing.T) {
	p := bugPair()
	p.Fields = p.Fields[:1]
	p.Fields[0].B = "nope"
	dup := bugPair()
	dup.B = "User Story"
	got := ValidateTypes([]TypePair{bugPair(), p, dup}, jiraSchema, adoSchema)
	want := []string{"types[1].fields[0].b", "types[1].a", "types[1].b", "types[2].a"}
	if !reflect.DeepEqual(paths(got), want) {
		t.Errorf("paths = %v, want %v", paths(got), want)
	}
	if !strings.Contains(got[1].Message, "already paired in types[0]") {
		t.Errorf("message = %q", got[1].Message)
	}
	if got[0].Error() != `types[1].fields[0].b: field "nope" does not exist in B` {
		t.Errorf("Error() = %q", got[0].Error())
	}
}
