package jiraemu

import (
	"net/http"
	"strings"
)

// The site's fixed configuration: one workflow, priorities, custom fields
// and link types, as a new Jira site has them (plus a few custom fields).

type status struct{ id, name, category string }

var statusList = []status{
	{"10000", "To Do", "new"}, {"3", "In Progress", "indeterminate"},
	{"10001", "In Review", "indeterminate"}, {"10002", "Done", "done"},
}

var categoryNames = map[string]string{"new": "To Do", "indeterminate": "In Progress", "done": "Done"}

// transition is a workflow edge. "To Do" cannot reach "Done" directly.
type transition struct{ id, name, from, to string }

var workflow = []transition{
	{"11", "Start Progress", "To Do", "In Progress"},
	{"21", "Send to Review", "In Progress", "In Review"},
	{"31", "Stop Progress", "In Progress", "To Do"},
	{"41", "Approve", "In Review", "Done"},
	{"51", "Reject", "In Review", "In Progress"},
	{"61", "Reopen", "Done", "To Do"},
}

var priorityList = []string{"Highest", "High", "Medium", "Low", "Lowest"}

// customField is a custom field of the site.
type customField struct {
	id, name, typ, items, custom string
	options                      []string
}

const cft = "com.atlassian.jira.plugin.system.customfieldtypes:"

var customFields = []customField{
	{id: "customfield_10016", name: "Story Points", typ: "number", custom: cft + "float"},
	{id: "customfield_10020", name: "Severity", typ: "option", custom: cft + "select", options: []string{"S1", "S2", "S3"}},
	{id: "customfield_10021", name: "Customer", typ: "string", custom: cft + "textfield"},
	{id: "customfield_10022", name: "Root Cause", typ: "string", custom: cft + "textarea"},
	{id: "customfield_10023", name: "Platforms", typ: "array", items: "option", custom: cft + "multiselect", options: []string{"Linux", "macOS", "Windows"}},
	{id: "customfield_10024", name: "Target Date", typ: "date", custom: cft + "datepicker"},
}

func customByID(id string) *customField {
	for i := range customFields {
		if customFields[i].id == id {
			return &customFields[i]
		}
	}
	return nil
}

type linkType struct{ id, name, inward, outward string }

var linkTypeList = []linkType{
	{"10000", "Blocks", "is blocked by", "blocks"},
	{"10001", "Cloners", "is cloned by", "clones"},
	{"10002", "Duplicate", "is duplicated by", "duplicates"},
	{"10003", "Relates", "relates to", "relates to"},
}

func statusJSON(name string) map[string]any {
	for _, s := range statusList {
		if s.name == name {
			return map[string]any{"id": s.id, "name": s.name, "statusCategory": map[string]any{"key": s.category, "name": categoryNames[s.category]}}
		}
	}
	return nil
}

func (e *Emu) projectByKey(key string) *Project {
	for i := range e.o.Projects {
		if strings.EqualFold(e.o.Projects[i].Key, key) {
			return &e.o.Projects[i]
		}
	}
	return nil
}

// projectOr404 is the project with key, or nil after answering 404 as
// Jira does.
func (e *Emu) projectOr404(w http.ResponseWriter, key string) *Project {
	p := e.projectByKey(key)
	if p == nil {
		writeError(w, http.StatusNotFound, "No project could be found with key '"+key+"'.")
	}
	return p
}

func issueTypes(p *Project) []string {
	if len(p.IssueTypes) == 0 {
		return []string{"Bug", "Task", "Story"}
	}
	return p.IssueTypes
}

func issueTypeID(i int) string {
	return []string{"10001", "10002", "10003", "10004", "10005", "10006"}[i%6]
}

func (e *Emu) issueTypeJSON(p *Project, i int) map[string]any {
	return map[string]any{"id": issueTypeID(i), "name": issueTypes(p)[i], "subtask": false,
		"self": e.URL() + e.api + "/issuetype/" + issueTypeID(i)}
}

func (e *Emu) myself(w http.ResponseWriter, _ *http.Request, u *User) {
	writeJSON(w, http.StatusOK, e.userJSON(u))
}

// myPermissions answers GET /mypermissions?permissions=A,B.
func (e *Emu) myPermissions(w http.ResponseWriter, r *http.Request, u *User) {
	want := r.URL.Query().Get("permissions")
	if want == "" {
		writeError(w, http.StatusBadRequest, "The permissions query parameter is required.")
		return
	}
	out := map[string]any{}
	for _, p := range strings.Split(want, ",") {
		have := p == "BROWSE_PROJECTS" || !u.ReadOnly
		out[p] = map[string]any{"key": p, "name": p, "type": "PROJECT", "havePermission": have}
	}
	writeJSON(w, http.StatusOK, map[string]any{"permissions": out})
}

func (e *Emu) project(w http.ResponseWriter, r *http.Request, _ *User) {
	p := e.projectOr404(w, r.PathValue("key"))
	if p == nil {
		return
	}
	var types []any
	for i := range issueTypes(p) {
		types = append(types, e.issueTypeJSON(p, i))
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": "100" + p.Key, "key": p.Key, "name": p.Name,
		"self": e.URL() + e.api + "/project/" + p.Key, "issueTypes": types})
}

// page answers a createmeta page: Cloud names the list after its content,
// Server calls it "values" and adds isLast.
func (e *Emu) metaPage(w http.ResponseWriter, cloudName string, list []any) {
	if list == nil {
		list = []any{}
	}
	out := map[string]any{"startAt": 0, "maxResults": 50, "total": len(list)}
	if e.Cloud() {
		out[cloudName] = list
	} else {
		out["values"], out["isLast"] = list, true
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emu) createMetaTypes(w http.ResponseWriter, r *http.Request, _ *User) {
	p := e.projectOr404(w, r.PathValue("project"))
	if p == nil {
		return
	}
	var list []any
	for i := range issueTypes(p) {
		list = append(list, e.issueTypeJSON(p, i))
	}
	e.metaPage(w, "issueTypes", list)
}

func (e *Emu) createMetaFields(w http.ResponseWriter, r *http.Request, _ *User) {
	p := e.projectOr404(w, r.PathValue("project"))
	if p == nil {
		return
	}
	found := false
	for i := range issueTypes(p) {
		found = found || issueTypeID(i) == r.PathValue("type")
	}
	if !found {
		writeError(w, http.StatusNotFound, "Issue type with id '"+r.PathValue("type")+"' does not exist or is not available in the project.")
		return
	}
	field := func(id, name string, required bool, schema map[string]any, allowed []any) map[string]any {
		f := map[string]any{"fieldId": id, "key": id, "name": name, "required": required, "schema": schema,
			"operations": []string{"set"}, "hasDefaultValue": false}
		if allowed != nil {
			f["allowedValues"] = allowed
		}
		return f
	}
	var prios []any
	for i, n := range priorityList {
		prios = append(prios, map[string]any{"id": string(rune('1' + i)), "name": n})
	}
	list := []any{
		field("summary", "Summary", true, map[string]any{"type": "string", "system": "summary"}, nil),
		field("issuetype", "Issue Type", true, map[string]any{"type": "issuetype", "system": "issuetype"}, nil),
		field("project", "Project", true, map[string]any{"type": "project", "system": "project"}, nil),
		field("description", "Description", false, map[string]any{"type": "string", "system": "description"}, nil),
		field("priority", "Priority", false, map[string]any{"type": "priority", "system": "priority"}, prios),
		field("assignee", "Assignee", false, map[string]any{"type": "user", "system": "assignee"}, nil),
		field("labels", "Labels", false, map[string]any{"type": "array", "items": "string", "system": "labels"}, nil),
		field("duedate", "Due date", false, map[string]any{"type": "date", "system": "duedate"}, nil),
	}
	for _, cf := range customFields {
		schema := map[string]any{"type": cf.typ, "custom": cf.custom, "customId": mustAtoi(cf.id[len("customfield_"):])}
		if cf.items != "" {
			schema["items"] = cf.items
		}
		var allowed []any
		for i, o := range cf.options {
			allowed = append(allowed, map[string]any{"id": cf.id[len(cf.id)-2:] + string(rune('0'+i)), "value": o})
		}
		list = append(list, field(cf.id, cf.name, false, schema, allowed))
	}
	e.metaPage(w, "fields", list)
}

func (e *Emu) priorities(w http.ResponseWriter, _ *http.Request, _ *User) {
	var out []any
	for i, n := range priorityList {
		out = append(out, map[string]any{"id": string(rune('1' + i)), "name": n, "self": e.URL() + e.api + "/priority/" + string(rune('1'+i))})
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emu) statuses(w http.ResponseWriter, _ *http.Request, _ *User) {
	var out []any
	for _, s := range statusList {
		out = append(out, statusJSON(s.name))
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emu) fields(w http.ResponseWriter, _ *http.Request, _ *User) {
	sys := func(id, name, typ, items string) map[string]any {
		schema := map[string]any{"type": typ, "system": id}
		if items != "" {
			schema["items"] = items
		}
		return map[string]any{"id": id, "key": id, "name": name, "custom": false, "navigable": true, "schema": schema}
	}
	out := []any{
		sys("summary", "Summary", "string", ""), sys("description", "Description", "string", ""),
		sys("status", "Status", "status", ""), sys("priority", "Priority", "priority", ""),
		sys("assignee", "Assignee", "user", ""), sys("reporter", "Reporter", "user", ""),
		sys("labels", "Labels", "array", "string"), sys("duedate", "Due date", "date", ""),
		sys("created", "Created", "datetime", ""), sys("updated", "Updated", "datetime", ""),
		sys("issuetype", "Issue Type", "issuetype", ""), sys("project", "Project", "project", ""),
		sys("attachment", "Attachment", "array", "attachment"), sys("issuelinks", "Linked Issues", "array", "issuelinks"),
	}
	for _, cf := range customFields {
		schema := map[string]any{"type": cf.typ, "custom": cf.custom, "customId": mustAtoi(cf.id[len("customfield_"):])}
		if cf.items != "" {
			schema["items"] = cf.items
		}
		out = append(out, map[string]any{"id": cf.id, "key": cf.id, "name": cf.name, "custom": true, "navigable": true, "schema": schema})
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emu) linkTypes(w http.ResponseWriter, _ *http.Request, _ *User) {
	var out []any
	for _, t := range linkTypeList {
		out = append(out, map[string]any{"id": t.id, "name": t.name, "inward": t.inward, "outward": t.outward,
			"self": e.URL() + e.api + "/issueLinkType/" + t.id})
	}
	writeJSON(w, http.StatusOK, map[string]any{"issueLinkTypes": out})
}

func (e *Emu) assignable(w http.ResponseWriter, r *http.Request, _ *User) {
	if e.projectOr404(w, r.URL.Query().Get("project")) == nil {
		return
	}
	out := []any{}
	for i := range e.o.Users {
		out = append(out, e.userJSON(&e.o.Users[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// userSearch matches query (Cloud) or username (Server) against names and
// visible emails, as Jira's user search does.
func (e *Emu) userSearch(w http.ResponseWriter, r *http.Request, _ *User) {
	q := r.URL.Query().Get("query")
	if !e.Cloud() {
		q = r.URL.Query().Get("username")
	}
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		writeError(w, http.StatusBadRequest, "The username query parameter was not provided")
		return
	}
	out := []any{}
	for i := range e.o.Users {
		u := &e.o.Users[i]
		email := strings.ToLower(u.Email)
		if e.Cloud() && u.HideEmail {
			email = ""
		}
		if strings.Contains(strings.ToLower(u.DisplayName), q) || strings.Contains(strings.ToLower(u.Name), q) || (email != "" && strings.Contains(email, q)) {
			out = append(out, e.userJSON(u))
		}
	}
	writeJSON(w, http.StatusOK, out)
}
