package snemu

import (
	"slices"
	"strconv"
)

// The emulator's data dictionary: the tables the ServiceNow connector
// touches, with the fields, types and choice lists of a base instance
// (task and the tables extending it, users, groups) and the system tables
// it reads them from (sys_db_object, sys_dictionary, sys_choice,
// sys_journal_field, sys_attachment). Every table also has the sys_*
// fields every ServiceNow table has.

// fieldDef is one sys_dictionary entry.
type fieldDef struct {
	element, label, typ string
	maxLen              int
	ref                 string // referenced table of a reference field
	mandatory, readOnly bool
	choice              int  // 0 none, 1 dropdown without -- None --, 3 with
	display             bool // the table's display field
}

// tableDef is one sys_db_object entry and its own fields.
type tableDef struct {
	name, label, super string
	prefix             string // number prefix, for tables that number records
	firstNumber        int
	fields             []fieldDef
}

func str(element, label string, maxLen int) fieldDef {
	return fieldDef{element: element, label: label, typ: "string", maxLen: maxLen}
}

func ref(element, label, table string) fieldDef {
	return fieldDef{element: element, label: label, typ: "reference", maxLen: 32, ref: table}
}

func choice(element, label, typ string) fieldDef {
	return fieldDef{element: element, label: label, typ: typ, maxLen: 40, choice: 3}
}

// sysFields are the fields every table has; the instance maintains them.
var sysFields = []fieldDef{
	{element: "sys_id", label: "Sys ID", typ: "GUID", maxLen: 32, readOnly: true},
	{element: "sys_created_on", label: "Created", typ: "glide_date_time", maxLen: 40, readOnly: true},
	{element: "sys_created_by", label: "Created by", typ: "string", maxLen: 40, readOnly: true},
	{element: "sys_updated_on", label: "Updated", typ: "glide_date_time", maxLen: 40, readOnly: true},
	{element: "sys_updated_by", label: "Updated by", typ: "string", maxLen: 40, readOnly: true},
	{element: "sys_mod_count", label: "Updates", typ: "integer", maxLen: 40, readOnly: true},
	{element: "sys_class_name", label: "Class", typ: "sys_class_name", maxLen: 80, readOnly: true},
}

var tables = []tableDef{
	{name: "task", label: "Task", prefix: "TASK", firstNumber: 10001, fields: []fieldDef{
		{element: "number", label: "Number", typ: "string", maxLen: 40, display: true, readOnly: true},
		str("short_description", "Short description", 160),
		str("description", "Description", 4000),
		choice("state", "State", "integer"),
		choice("priority", "Priority", "integer"),
		choice("impact", "Impact", "integer"),
		choice("urgency", "Urgency", "integer"),
		ref("assigned_to", "Assigned to", "sys_user"),
		ref("assignment_group", "Assignment group", "sys_user_group"),
		ref("parent", "Parent", "task"),
		str("correlation_id", "Correlation ID", 100),
		str("correlation_display", "Correlation display", 100),
		{element: "comments", label: "Additional comments", typ: "journal_input", maxLen: 4000},
		{element: "work_notes", label: "Work notes", typ: "journal_input", maxLen: 4000},
		{element: "opened_at", label: "Opened", typ: "glide_date_time", maxLen: 40},
		ref("opened_by", "Opened by", "sys_user"),
		{element: "due_date", label: "Due date", typ: "due_date", maxLen: 40},
		{element: "active", label: "Active", typ: "boolean", maxLen: 40},
		str("close_notes", "Close notes", 4000),
		{element: "reassignment_count", label: "Reassignment count", typ: "integer", maxLen: 40, readOnly: true},
	}},
	{name: "incident", label: "Incident", super: "task", prefix: "INC", firstNumber: 10001, fields: []fieldDef{
		ref("caller_id", "Caller", "sys_user"),
		choice("category", "Category", "string"),
		choice("close_code", "Resolution code", "string"),
		ref("problem_id", "Problem", "problem"),
		ref("parent_incident", "Parent Incident", "incident"),
		{element: "resolved_at", label: "Resolved", typ: "glide_date_time", maxLen: 40},
	}},
	{name: "problem", label: "Problem", super: "task", prefix: "PRB", firstNumber: 40001, fields: []fieldDef{
		{element: "cause_notes", label: "Cause notes", typ: "html", maxLen: 65536},
		{element: "fix_notes", label: "Fix notes", typ: "html", maxLen: 65536},
		{element: "known_error", label: "Known error", typ: "boolean", maxLen: 40},
		{element: "first_reported_by_task", label: "First reported by", typ: "reference", maxLen: 32, ref: "task"},
	}},
	{name: "sc_task", label: "Catalog Task", super: "task", prefix: "SCTASK", firstNumber: 10001},
	{name: "sys_user", label: "User", fields: []fieldDef{
		str("user_name", "User ID", 40),
		{element: "name", label: "Name", typ: "string", maxLen: 151, display: true},
		str("first_name", "First name", 50),
		str("last_name", "Last name", 50),
		{element: "email", label: "Email", typ: "email", maxLen: 100},
		{element: "active", label: "Active", typ: "boolean", maxLen: 40},
		str("time_zone", "Time zone", 40),
		str("date_format", "Date format", 40),
	}},
	{name: "sys_user_group", label: "Group", fields: []fieldDef{
		{element: "name", label: "Name", typ: "string", maxLen: 80, display: true},
		{element: "active", label: "Active", typ: "boolean", maxLen: 40},
	}},
	{name: "sys_db_object", label: "Table", fields: []fieldDef{
		str("name", "Name", 80),
		{element: "label", label: "Label", typ: "string", maxLen: 80, display: true},
		ref("super_class", "Extends table", "sys_db_object"),
	}},
	{name: "sys_dictionary", label: "Dictionary Entry", fields: []fieldDef{
		{element: "name", label: "Table", typ: "table_name", maxLen: 80},
		{element: "element", label: "Column name", typ: "string", maxLen: 80, display: true},
		str("column_label", "Column label", 80),
		str("internal_type", "Type", 40),
		{element: "max_length", label: "Max length", typ: "integer", maxLen: 40},
		str("reference", "Reference", 80),
		{element: "mandatory", label: "Mandatory", typ: "boolean", maxLen: 40},
		{element: "read_only", label: "Read only", typ: "boolean", maxLen: 40},
		{element: "active", label: "Active", typ: "boolean", maxLen: 40},
		{element: "display", label: "Display", typ: "boolean", maxLen: 40},
		{element: "choice", label: "Choice", typ: "integer", maxLen: 40},
	}},
	{name: "sys_choice", label: "Choice", fields: []fieldDef{
		{element: "name", label: "Table", typ: "table_name", maxLen: 80},
		str("element", "Element", 80),
		str("value", "Value", 40),
		{element: "label", label: "Label", typ: "string", maxLen: 100, display: true},
		{element: "sequence", label: "Sequence", typ: "integer", maxLen: 40},
		{element: "inactive", label: "Inactive", typ: "boolean", maxLen: 40},
		str("language", "Language", 40),
	}},
	{name: "sys_journal_field", label: "Journal Entry", fields: []fieldDef{
		{element: "name", label: "Name", typ: "string", maxLen: 80},
		str("element", "Element", 40),
		{element: "element_id", label: "Element ID", typ: "GUID", maxLen: 32},
		{element: "value", label: "Value", typ: "string", maxLen: 65536, display: true},
	}},
	{name: "sys_attachment", label: "Attachment", fields: []fieldDef{
		{element: "file_name", label: "File name", typ: "string", maxLen: 100, display: true},
		str("content_type", "Content type", 100),
		str("size_bytes", "Size bytes", 40),
		str("table_name", "Table name", 80),
		{element: "table_sys_id", label: "Table sys ID", typ: "string", maxLen: 32},
		str("hash", "Hash", 64),
		str("state", "State", 40),
	}},
}

// choiceDef is one sys_choice entry.
type choiceDef struct {
	table, element, value, label string
}

func choices(table, element string, pairs ...string) []choiceDef {
	out := make([]choiceDef, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, choiceDef{table: table, element: element, value: pairs[i], label: pairs[i+1]})
	}
	return out
}

// baseChoices are the base system's choice lists. A table without its own
// entries for a field inherits the list of the table it extends: sc_task
// shows task's states, incident and problem have their own.
var baseChoices = slices.Concat(
	choices("task", "state", "-5", "Pending", "1", "Open", "2", "Work in Progress", "3", "Closed Complete", "4", "Closed Incomplete", "7", "Closed Skipped"),
	choices("task", "priority", "1", "1 - Critical", "2", "2 - High", "3", "3 - Moderate", "4", "4 - Low", "5", "5 - Planning"),
	choices("task", "impact", "1", "1 - High", "2", "2 - Medium", "3", "3 - Low"),
	choices("task", "urgency", "1", "1 - High", "2", "2 - Medium", "3", "3 - Low"),
	choices("incident", "state", "1", "New", "2", "In Progress", "3", "On Hold", "6", "Resolved", "7", "Closed", "8", "Canceled"),
	choices("incident", "category", "inquiry", "Inquiry / Help", "software", "Software", "hardware", "Hardware", "network", "Network", "database", "Database"),
	choices("incident", "close_code", "Solution provided", "Solution provided", "Workaround provided", "Workaround provided",
		"Duplicate", "Duplicate", "Resolved by caller", "Resolved by caller"),
	choices("problem", "state", "101", "New", "102", "Assess", "103", "Root Cause Analysis", "104", "Fix in Progress", "106", "Resolved", "107", "Closed"),
)

// defaultState is a new record's state per table (the dictionary default).
var defaultState = map[string]string{"incident": "1", "problem": "101", "task": "1", "sc_task": "1"}

// priorityLookup is the base system's incident priority data lookup:
// priority follows impact and urgency, whatever is written to it.
func priorityLookup(impact, urgency string) string {
	i, err1 := strconv.Atoi(impact)
	u, err2 := strconv.Atoi(urgency)
	if err1 != nil || err2 != nil || i < 1 || i > 3 || u < 1 || u > 3 {
		return "5"
	}
	return strconv.Itoa(i + u - 1)
}

func tableByName(name string) *tableDef {
	for i := range tables {
		if tables[i].name == name {
			return &tables[i]
		}
	}
	return nil
}

// chain is a table and the tables it extends, most specific first.
func chain(name string) []string {
	var out []string
	for t := tableByName(name); t != nil; t = tableByName(t.super) {
		out = append(out, t.name)
		if t.super == "" {
			break
		}
	}
	return out
}

// extends reports whether table is base or extends it.
func extends(table, base string) bool { return slices.Contains(chain(table), base) }

// fieldOf finds a field of a table or the tables it extends.
func fieldOf(table, element string) (fieldDef, bool) {
	for _, name := range chain(table) {
		for _, f := range tableByName(name).fields {
			if f.element == element {
				return f, true
			}
		}
	}
	for _, f := range sysFields {
		if f.element == element {
			return f, true
		}
	}
	return fieldDef{}, false
}

// fieldsOf lists a table's fields, its own first, then inherited, then sys.
func fieldsOf(table string) []fieldDef {
	var out []fieldDef
	for _, name := range chain(table) {
		out = append(out, tableByName(name).fields...)
	}
	return append(out, sysFields...)
}

// displayField is the element whose value is a record's display value.
func displayField(table string) string {
	for _, f := range fieldsOf(table) {
		if f.display {
			return f.element
		}
	}
	return "sys_id"
}
