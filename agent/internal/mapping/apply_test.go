package mapping

import (
	"reflect"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/markup"
)

var processUsers = UserMap{Entries: []UserEntry{
	{A: UserRef{ID: "acc-ann", Name: "Ann Lee"}, B: UserRef{ID: "ado-ann", Email: "ann@corp.example"}},
}}

func jiraIssue() connector.Entity {
	return connector.Entity{
		Ref: connector.Ref{ID: "10042", Key: "HELP-12"}, Type: "Bug", Title: "Checkout fails",
		URL: "https://jira.example/browse/HELP-12",
		Fields: connector.Fields{
			"summary":      "Checkout fails",
			"description":  "**Steps**\n\n1. Add 51 items",
			"status":       "In Progress",
			"priority":     "High",
			"assignee":     connector.User{ID: "acc-ann", Name: "Ann Lee"},
			"labels":       []string{"checkout", "p1"},
			"story points": 3.0,
			"key":          "HELP-12",
			"environment":  "Firefox *128*",
			"due":          "2024-06-01",
			"created":      "2024-05-01T08:00:00Z",
		},
	}
}

func adoWorkItem() connector.Entity {
	return connector.Entity{
		Ref: connector.Ref{ID: "42", Key: "42"}, Type: "Bug", Title: "Checkout fails",
		URL: "https://dev.azure.example/org/proj/_workitems/edit/42",
		Fields: connector.Fields{
			"System.Id":                             42.0,
			"System.Title":                          "Checkout fails",
			"System.State":                          "Resolved",
			"Microsoft.VSTS.Common.Priority":        1.0,
			"System.AssignedTo":                     map[string]any{"id": "ado-ann", "email": "ann@corp.example"},
			"System.Tags":                           []any{"checkout"},
			"Microsoft.VSTS.TCM.ReproSteps":         "<p>Open <b>Firefox</b></p>",
			"Microsoft.VSTS.Scheduling.DueDate":     "2024-06-01T00:00:00Z",
			"Microsoft.VSTS.Scheduling.StoryPoints": nil, // cleared in ADO
		},
	}
}

func TestApplyAtoB(t *testing.T) {
	got, errs := Apply(bugPair(), AtoB, jiraIssue(), processUsers)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := connector.Fields{
		"System.Title":                          "Checkout fails",
		"System.Description":                    "**Steps**\n\n1. Add 51 items",
		"System.State":                          "Active",
		"Microsoft.VSTS.Common.Priority":        "2",
		"System.AssignedTo":                     connector.User{ID: "ado-ann", Email: "ann@corp.example"},
		"System.Tags":                           []string{"checkout", "p1"},
		"Microsoft.VSTS.Scheduling.StoryPoints": 3.0,
		"Custom.Origin":                         "Jira",
		"Custom.JiraKey":                        "HELP-12",
		"Microsoft.VSTS.TCM.ReproSteps":         "<p>Firefox <em>128</em></p>\n",
		"Microsoft.VSTS.Scheduling.DueDate":     "2024-06-01",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Apply A->B\n got %#v\nwant %#v", got, want)
	}

	// The engine then shapes the values for the target's schema.
	typed, errs := CoerceFields(got, adoSchema)
	if len(errs) != 0 {
		t.Fatalf("coerce: %v", errs)
	}
	if typed["Microsoft.VSTS.Common.Priority"] != 2.0 || typed["Microsoft.VSTS.Scheduling.DueDate"] != "2024-06-01T00:00:00Z" {
		t.Errorf("coerced: priority %#v, due %#v", typed["Microsoft.VSTS.Common.Priority"], typed["Microsoft.VSTS.Scheduling.DueDate"])
	}
}

func TestApplyBtoA(t *testing.T) {
	got, errs := Apply(bugPair(), BtoA, adoWorkItem(), processUsers)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := connector.Fields{
		"summary":      "Checkout fails",
		"status":       "Done", // Resolved and Closed both map back to Done
		"priority":     "Highest",
		"assignee":     connector.User{ID: "acc-ann", Name: "Ann Lee"},
		"labels":       []any{"checkout"},
		"story points": nil, // present and empty: clears the target
		"environment":  "Open **Firefox**",
		"ado link":     "ADO #42: https://dev.azure.example/org/proj/_workitems/edit/42",
		"due":          "2024-06-01T00:00:00Z",
		// description is absent from the source: not written
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Apply B->A\n got %#v\nwant %#v", got, want)
	}
	typed, errs := CoerceFields(got, jiraSchema)
	if len(errs) != 0 {
		t.Fatalf("coerce: %v", errs)
	}
	if typed["due"] != "2024-06-01" || !reflect.DeepEqual(typed["labels"], []string{"checkout"}) {
		t.Errorf("coerced: due %#v, labels %#v", typed["due"], typed["labels"])
	}
}

func TestApplyErrors(t *testing.T) {
	e := jiraIssue()
	e.Fields["status"] = "Blocked"
	e.Fields["environment"] = strings.Repeat("x", markup.MaxRichTextBytes+1)
	p := bugPair()
	strict := processUsers
	strict.OnMissing = OnMissingError
	e.Fields["assignee"] = connector.User{ID: "acc-zed"}
	got, errs := Apply(p, AtoB, e, strict)
	wantPaths := []string{"fields[2].valueMap", "fields[4].userMap", "fields[9].transformAToB"}
	if !reflect.DeepEqual(paths(errs), wantPaths) {
		t.Fatalf("paths = %v, want %v (%v)", paths(errs), wantPaths, errs)
	}
	if errs[0].Code != CodeNoMatch || errs[0].Message != "map status -> System.State value "+connector.Digest("Blocked")+": no value map entry" {
		t.Errorf("value map error = %+v", errs[0])
	}
	if errs[1].Code != CodeNoMatch || !strings.Contains(errs[1].Message, `"acc-zed"`) {
		t.Errorf("user map error = %+v", errs[1])
	}
	if errs[2].Code != CodeTransform || !strings.Contains(errs[2].Message, "transform environment -> Microsoft.VSTS.TCM.ReproSteps: convert Markdown to HTML") {
		t.Errorf("transform error = %+v", errs[2])
	}
	// The other fields still flow; the failed ones are absent.
	if got["System.Title"] != "Checkout fails" {
		t.Errorf("title = %#v", got["System.Title"])
	}
	for _, f := range []string{"System.State", "System.AssignedTo", "Microsoft.VSTS.TCM.ReproSteps"} {
		if _, ok := got[f]; ok {
			t.Errorf("%s written despite its error", f)
		}
	}
}

func TestApplyDirection(t *testing.T) {
	_, errs := Apply(bugPair(), Both, jiraIssue(), processUsers)
	if len(errs) != 1 || errs[0].Path != "direction" {
		t.Errorf("errs = %v", errs)
	}
}

func TestApplyIsDeterministic(t *testing.T) {
	a, _ := Apply(bugPair(), AtoB, jiraIssue(), processUsers)
	for range 20 {
		b, _ := Apply(bugPair(), AtoB, jiraIssue(), processUsers)
		if !reflect.DeepEqual(a, b) {
			t.Fatal("Apply returned different results for the same input")
		}
	}
	// It does not modify its arguments, and its result shares nothing
	// with them.
	e := jiraIssue()
	out, _ := Apply(bugPair(), AtoB, e, processUsers)
	if !reflect.DeepEqual(e, jiraIssue()) {
		t.Error("Apply modified the source entity")
	}
	out["System.Tags"].([]string)[0] = "changed"
	if e.Fields["labels"].([]string)[0] != "checkout" {
		t.Error("the result aliases the source's labels")
	}
}

func TestLinkType(t *testing.T) {
	p := bugPair()
	p.LinkTypes = append(p.LinkTypes, LinkTypePair{A: "is blocked by", B: "Predecessor"})
	tests := []struct {
		dir  Direction
		in   string
		want string
		ok   bool
	}{
		{AtoB, "Blocks", "Predecessor", true},
		{AtoB, "relates to", "Related", true},
		{BtoA, "predecessor", "blocks", true}, // first pair wins
		{AtoB, "clones", "", false},
	}
	for _, tt := range tests {
		got, ok := LinkType(p, tt.dir, tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("LinkType(%s, %q) = %q, %v; want %q, %v", tt.dir, tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
