package mapping

import (
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

var jiraBug = connector.Entity{
	Ref:   connector.Ref{ID: "10042", Key: "HELP-12"},
	Type:  "Bug",
	Title: "Checkout fails",
	URL:   "https://jira.example/browse/HELP-12",
	Fields: connector.Fields{
		"summary":      "Checkout fails",
		"priority":     "High",
		"story points": 3.0,
		"labels":       []string{"checkout", "p1"},
		"assignee":     connector.User{ID: "acc-1", Email: "ann@corp.example", Name: "Ann Lee"},
		"flagged":      true,
		"title":        "a field called title",
	},
}

func TestTransformApply(t *testing.T) {
	tests := []struct {
		name    string
		tr      Transform
		v       any
		want    any
		wantErr string
	}{
		{"constant", Transform{Kind: TransformConstant, Value: "Jira"}, "ignored", "Jira", ""},
		{"empty constant clears", Transform{Kind: TransformConstant}, "x", nil, ""},
		{"template", Transform{Kind: TransformTemplate, Value: "[{{key}}] {{ title }} ({{priority}}, {{story points}} pts, {{labels}}, {{assignee}}, {{flagged}}) {{url}} {{missing}}"}, nil,
			"[HELP-12] Checkout fails (High, 3 pts, checkout, p1, Ann Lee, true) https://jira.example/browse/HELP-12 ", ""},
		{"template: metadata wins over a field", Transform{Kind: TransformTemplate, Value: "{{title}}/{{id}}/{{type}}"}, nil, "Checkout fails/10042/Bug", ""},
		{"template: unclosed", Transform{Kind: TransformTemplate, Value: "{{key"}, nil, nil, "without a closing"},
		{"template: empty placeholder", Transform{Kind: TransformTemplate, Value: "{{ }}"}, nil, nil, "empty placeholder"},
		{"template: too long", Transform{Kind: TransformTemplate, Value: strings.Repeat("x", MaxTemplateLen+1)}, nil, nil, "longer than"},
		// Not text/template: this names a field that does not exist, so it
		// renders as nothing, and nothing runs.
		{"template: no function calls", Transform{Kind: TransformTemplate, Value: `{{printf "%s" .}}`}, nil, "", ""},
		{"regex with groups", Transform{Kind: TransformRegex, Pattern: `^(\d+) - (?P<name>.+)$`, Replace: "${name} ($1)"}, "2 - High", "High (2)", ""},
		{"regex replaces every match", Transform{Kind: TransformRegex, Pattern: `\s+`, Replace: " "}, "a  b\t\nc", "a b c", ""},
		{"regex on labels drops emptied elements", Transform{Kind: TransformRegex, Pattern: `^team-`, Replace: ""}, []string{"team-a", "team-", "x"}, []string{"a", "x"}, ""},
		{"regex on a number", Transform{Kind: TransformRegex, Pattern: `^`, Replace: "P"}, 2.0, "P2", ""},
		{"regex on nothing", Transform{Kind: TransformRegex, Pattern: `^$`, Replace: "n/a"}, nil, "n/a", ""},
		{"regex: bad pattern", Transform{Kind: TransformRegex, Pattern: `(`}, "x", nil, "compile pattern"},
		{"regex: too long", Transform{Kind: TransformRegex, Pattern: strings.Repeat("a", MaxPatternLen+1)}, "x", nil, "longer than"},
		{"markdown to html", Transform{Kind: TransformMarkdownToHTML}, "**b**", "<p><strong>b</strong></p>\n", ""},
		{"html to markdown", Transform{Kind: TransformHTMLToMarkdown}, "<p><b>b</b></p>", "**b**", ""},
		{"markdown to text", Transform{Kind: TransformMarkdownToText}, "**b** [l](u)", "b l (u)", ""},
		{"html to text", Transform{Kind: TransformHTMLToText}, "<p>a</p><p>b</p>", "a\n\nb", ""},
		{"conversion keeps nil", Transform{Kind: TransformHTMLToText}, nil, nil, ""},
		{"unknown kind", Transform{Kind: "starlark"}, "x", nil, `unknown kind "starlark"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ApplyTransform(tt.tr, tt.v, jiraBug)
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

// Transforms share the compiled-pattern cache; the race detector checks it
// is safe to use from the engine's workers at once.
func TestTransformRegexConcurrent(t *testing.T) {
	tr := Transform{Kind: TransformRegex, Pattern: `\d+`, Replace: "n"}
	done := make(chan any, 8)
	for range 8 {
		go func() {
			v, _ := ApplyTransform(tr, "a1", jiraBug)
			done <- v
		}()
	}
	for range 8 {
		if got := <-done; got != "an" {
			t.Errorf("concurrent transform = %v, want an", got)
		}
	}
}
