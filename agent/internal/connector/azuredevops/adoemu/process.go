package adoemu

// The process every project of the emulator uses: a small Agile process
// with three work item types, the system fields, a picklist and a custom
// field, so schema discovery has allowed values, states and required
// fields to find.

type fieldDef struct {
	Name, Ref, Type string
	ReadOnly        bool
	Identity        bool
	Picklist        bool
}

var fieldDefs = []fieldDef{
	{Name: "ID", Ref: "System.Id", Type: "integer", ReadOnly: true},
	{Name: "Rev", Ref: "System.Rev", Type: "integer", ReadOnly: true},
	{Name: "Work Item Type", Ref: "System.WorkItemType", Type: "string"},
	{Name: "Team Project", Ref: "System.TeamProject", Type: "string", ReadOnly: true},
	{Name: "Title", Ref: "System.Title", Type: "string"},
	{Name: "Description", Ref: "System.Description", Type: "html"},
	{Name: "State", Ref: "System.State", Type: "string"},
	{Name: "Reason", Ref: "System.Reason", Type: "string"},
	{Name: "Assigned To", Ref: "System.AssignedTo", Type: "string", Identity: true},
	{Name: "Tags", Ref: "System.Tags", Type: "plainText"},
	{Name: "Area Path", Ref: "System.AreaPath", Type: "treePath"},
	{Name: "Iteration Path", Ref: "System.IterationPath", Type: "treePath"},
	{Name: "Created Date", Ref: "System.CreatedDate", Type: "dateTime", ReadOnly: true},
	{Name: "Created By", Ref: "System.CreatedBy", Type: "string", ReadOnly: true, Identity: true},
	{Name: "Changed Date", Ref: "System.ChangedDate", Type: "dateTime", ReadOnly: true},
	{Name: "Changed By", Ref: "System.ChangedBy", Type: "string", ReadOnly: true, Identity: true},
	{Name: "Comment Count", Ref: "System.CommentCount", Type: "integer", ReadOnly: true},
	{Name: "History", Ref: "System.History", Type: "history"},
	{Name: "Priority", Ref: "Microsoft.VSTS.Common.Priority", Type: "integer"},
	{Name: "Severity", Ref: "Microsoft.VSTS.Common.Severity", Type: "string"},
	{Name: "Due Date", Ref: "Microsoft.VSTS.Scheduling.DueDate", Type: "dateTime"},
	{Name: "Story Points", Ref: "Microsoft.VSTS.Scheduling.StoryPoints", Type: "double"},
	{Name: "Team", Ref: "Custom.Team", Type: "string", Picklist: true},
}

func fieldByRef(ref string) (fieldDef, bool) {
	for _, f := range fieldDefs {
		if equalFold(f.Ref, ref) {
			return f, true
		}
	}
	return fieldDef{}, false
}

type typeField struct {
	Ref      string
	Required bool
	Allowed  []any
}

type witType struct {
	Name, Ref, Color string
	States           []state
	Fields           []typeField
}

type state struct{ Name, Color, Category string }

var common = []typeField{
	{Ref: "System.Id"}, {Ref: "System.Rev"}, {Ref: "System.WorkItemType"}, {Ref: "System.TeamProject"},
	{Ref: "System.Title", Required: true}, {Ref: "System.Description"}, {Ref: "System.Reason"},
	{Ref: "System.AssignedTo"}, {Ref: "System.Tags"}, {Ref: "System.AreaPath"}, {Ref: "System.IterationPath"},
	{Ref: "System.CreatedDate"}, {Ref: "System.CreatedBy"}, {Ref: "System.ChangedDate"}, {Ref: "System.ChangedBy"},
	{Ref: "System.CommentCount"}, {Ref: "System.History"},
	{Ref: "Microsoft.VSTS.Common.Priority", Allowed: []any{1, 2, 3, 4}},
	{Ref: "Custom.Team", Allowed: []any{"Red", "Blue", "Green"}},
}

func withState(states []state, extra ...typeField) []typeField {
	allowed := make([]any, 0, len(states))
	for _, st := range states {
		allowed = append(allowed, st.Name)
	}
	out := append([]typeField{{Ref: "System.State", Required: true, Allowed: allowed}}, common...)
	return append(out, extra...)
}

var (
	bugStates   = []state{{"New", "b2b2b2", "Proposed"}, {"Active", "007acc", "InProgress"}, {"Resolved", "ff9d00", "Resolved"}, {"Closed", "339933", "Completed"}}
	taskStates  = []state{{"New", "b2b2b2", "Proposed"}, {"Active", "007acc", "InProgress"}, {"Closed", "339933", "Completed"}, {"Removed", "ffffff", "Removed"}}
	storyStates = []state{{"New", "b2b2b2", "Proposed"}, {"Active", "007acc", "InProgress"}, {"Resolved", "ff9d00", "Resolved"}, {"Closed", "339933", "Completed"}, {"Removed", "ffffff", "Removed"}}
)

var witTypes = []witType{
	{Name: "Bug", Ref: "Microsoft.VSTS.WorkItemTypes.Bug", Color: "CC293D", States: bugStates,
		Fields: withState(bugStates, typeField{Ref: "Microsoft.VSTS.Common.Severity", Allowed: []any{"1 - Critical", "2 - High", "3 - Medium", "4 - Low"}})},
	{Name: "Task", Ref: "Microsoft.VSTS.WorkItemTypes.Task", Color: "F2CB1D", States: taskStates,
		Fields: withState(taskStates, typeField{Ref: "Microsoft.VSTS.Scheduling.DueDate"})},
	{Name: "User Story", Ref: "Microsoft.VSTS.WorkItemTypes.UserStory", Color: "009CCC", States: storyStates,
		Fields: withState(storyStates, typeField{Ref: "Microsoft.VSTS.Scheduling.StoryPoints"})},
}

func typeByName(name string) (witType, bool) {
	for _, t := range witTypes {
		if equalFold(t.Name, name) {
			return t, true
		}
	}
	return witType{}, false
}

func (t witType) field(ref string) (typeField, bool) {
	for _, f := range t.Fields {
		if equalFold(f.Ref, ref) {
			return f, true
		}
	}
	return typeField{}, false
}

type relType struct {
	Ref, Name, Opposite string
	Usage               string // workItemLink or resourceLink
	Forward             bool
	Topology            string
}

var relTypes = []relType{
	{Ref: "System.LinkTypes.Related", Name: "Related", Opposite: "System.LinkTypes.Related", Usage: "workItemLink", Topology: "network"},
	{Ref: "System.LinkTypes.Hierarchy-Forward", Name: "Child", Opposite: "System.LinkTypes.Hierarchy-Reverse", Usage: "workItemLink", Forward: true, Topology: "tree"},
	{Ref: "System.LinkTypes.Hierarchy-Reverse", Name: "Parent", Opposite: "System.LinkTypes.Hierarchy-Forward", Usage: "workItemLink", Topology: "tree"},
	{Ref: "System.LinkTypes.Dependency-Forward", Name: "Successor", Opposite: "System.LinkTypes.Dependency-Reverse", Usage: "workItemLink", Forward: true, Topology: "dependency"},
	{Ref: "System.LinkTypes.Dependency-Reverse", Name: "Predecessor", Opposite: "System.LinkTypes.Dependency-Forward", Usage: "workItemLink", Topology: "dependency"},
	{Ref: "System.LinkTypes.Duplicate-Forward", Name: "Duplicate", Opposite: "System.LinkTypes.Duplicate-Reverse", Usage: "workItemLink", Forward: true, Topology: "network"},
	{Ref: "System.LinkTypes.Duplicate-Reverse", Name: "Duplicate Of", Opposite: "System.LinkTypes.Duplicate-Forward", Usage: "workItemLink", Topology: "network"},
	{Ref: "AttachedFile", Name: "Attached File", Usage: "resourceLink"},
	{Ref: "Hyperlink", Name: "Hyperlink", Usage: "resourceLink"},
	{Ref: "ArtifactLink", Name: "Artifact Link", Usage: "resourceLink"},
}

func relTypeByRef(ref string) (relType, bool) {
	for _, r := range relTypes {
		if equalFold(r.Ref, ref) {
			return r, true
		}
	}
	return relType{}, false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
