package mapping

import "github.com/lockstep-sync/lockstep/agent/internal/connector"

// A Jira project (side A) and an Azure DevOps project (side B), the pair
// the tests sync.

var jiraSchema = connector.Schema{
	EntityTypes: []string{"Bug", "Story"},
	LinkTypes:   []string{"blocks", "relates to"},
	Fields: []connector.FieldSchema{
		{Name: "summary", Type: connector.TypeString, Required: true},
		{Name: "description", Type: connector.TypeText},
		{Name: "status", Type: connector.TypeEnum, Values: []string{"To Do", "In Progress", "Done"}},
		{Name: "priority", Type: connector.TypeEnum, Values: []string{"Highest", "High", "Medium", "Low"}},
		{Name: "assignee", Type: connector.TypeUser},
		{Name: "labels", Type: connector.TypeLabels},
		{Name: "story points", Type: connector.TypeNumber},
		{Name: "environment", Type: connector.TypeText},
		{Name: "ado link", Type: connector.TypeString},
		{Name: "due", Type: connector.TypeDate},
		{Name: "flagged", Type: connector.TypeBool},
		{Name: "created", Type: connector.TypeDateTime, ReadOnly: true},
		{Name: "key", Type: connector.TypeString, ReadOnly: true},
	},
}

var adoSchema = connector.Schema{
	EntityTypes: []string{"Bug", "User Story"},
	LinkTypes:   []string{"Related", "Predecessor"},
	Fields: []connector.FieldSchema{
		{Name: "System.Title", Type: connector.TypeString, Required: true},
		{Name: "System.Description", Type: connector.TypeText},
		{Name: "System.State", Type: connector.TypeEnum, Values: []string{"New", "Active", "Resolved", "Closed"}},
		{Name: "Microsoft.VSTS.Common.Priority", Type: connector.TypeNumber},
		{Name: "System.AssignedTo", Type: connector.TypeUser},
		{Name: "System.Tags", Type: connector.TypeLabels},
		{Name: "Microsoft.VSTS.Scheduling.StoryPoints", Type: connector.TypeNumber},
		{Name: "Microsoft.VSTS.TCM.ReproSteps", Type: connector.TypeString}, // holds HTML
		{Name: "Custom.Origin", Type: connector.TypeString},
		{Name: "Custom.JiraKey", Type: connector.TypeString},
		{Name: "Microsoft.VSTS.Scheduling.DueDate", Type: connector.TypeDateTime},
		{Name: "System.CreatedDate", Type: connector.TypeDateTime, ReadOnly: true},
		{Name: "System.Id", Type: connector.TypeNumber, ReadOnly: true},
	},
}

// bugPair is a complete, valid mapping of Jira bugs to ADO bugs.
func bugPair() TypePair {
	return TypePair{
		A: "Bug", B: "Bug",
		Fields: []FieldPair{
			{A: "summary", B: "System.Title", Direction: Both},
			{A: "description", B: "System.Description", Direction: Both},
			{A: "status", B: "System.State", Direction: Both, ValueMap: &ValueMap{
				Pairs: []ValuePair{
					{A: "To Do", B: "New"},
					{A: "In Progress", B: "Active"},
					{A: "Done", B: "Closed"},
					{A: "Done", B: "Resolved"},
				},
			}},
			{A: "priority", B: "Microsoft.VSTS.Common.Priority", Direction: Both, ValueMap: &ValueMap{
				Pairs:    []ValuePair{{A: "Highest", B: "1"}, {A: "High", B: "2"}, {A: "Medium", B: "3"}, {A: "Low", B: "4"}},
				DefaultA: strp("Medium"), DefaultB: strp("3"),
			}},
			{A: "assignee", B: "System.AssignedTo", Direction: Both, UserMap: true},
			{A: "labels", B: "System.Tags", Direction: Both},
			{A: "story points", B: "Microsoft.VSTS.Scheduling.StoryPoints", Direction: Both},
			{B: "Custom.Origin", Direction: AtoB, TransformAToB: &Transform{Kind: TransformConstant, Value: "Jira"}},
			{A: "key", B: "Custom.JiraKey", Direction: AtoB},
			{A: "environment", B: "Microsoft.VSTS.TCM.ReproSteps", Direction: Both,
				TransformAToB: &Transform{Kind: TransformMarkdownToHTML},
				TransformBToA: &Transform{Kind: TransformHTMLToMarkdown}},
			{A: "ado link", Direction: BtoA, TransformBToA: &Transform{Kind: TransformTemplate, Value: "ADO #{{System.Id}}: {{url}}"}},
			{A: "due", B: "Microsoft.VSTS.Scheduling.DueDate", Direction: Both},
		},
		Filters: []Filter{
			{Field: "status", Op: OpNeq, Value: "Done"},
			{Side: SideB, Field: "System.Tags", Op: OpNotContains, Value: "no-sync"},
		},
		LinkTypes: []LinkTypePair{{A: "blocks", B: "Predecessor"}, {A: "relates to", B: "Related"}},
	}
}
