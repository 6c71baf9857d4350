package jiraemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

type issue struct {
	id, key, project, issueType string
	summary                     string
	description                 any // ADF document (Cloud) or wiki text (Server); nil when empty
	status, priority            string
	assignee, reporter          string // user ids
	labels                      []string
	dueDate                     string
	custom                      map[string]any
	created, updated            time.Time
	comments                    []*comment
	attachments                 []string // ids
	remoteLinks                 []*remoteLink
}

type comment struct {
	id, author       string
	body             any
	created, updated time.Time
	properties       []any
}

type attachment struct {
	id, issue, name, mime, author string
	data                          []byte
	created                       time.Time
}

type link struct {
	id, typ         string // type name
	inward, outward string // issue ids: inward -> outward reads "inward <outward> outward"
}

type remoteLink struct {
	id, globalID, url, title, relationship string
}

func (e *Emu) lookup(idOrKey string) *issue {
	if is, ok := e.issues[idOrKey]; ok {
		return is
	}
	if id, ok := e.keys[strings.ToUpper(idOrKey)]; ok {
		return e.issues[id]
	}
	return nil
}

func notFound(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
}

// pathIssue is the issue the path's {key} names (an id or a key), or nil
// after answering 404. The caller holds e.mu.
func (e *Emu) pathIssue(w http.ResponseWriter, r *http.Request) *issue {
	is := e.lookup(r.PathValue("key"))
	if is == nil {
		notFound(w)
	}
	return is
}

// readBody decodes a request's JSON body into in, or answers 400 as Jira
// does and reports false.
func readBody(w http.ResponseWriter, r *http.Request, in any) bool {
	if err := json.NewDecoder(r.Body).Decode(in); err != nil {
		writeError(w, http.StatusBadRequest, "Can not deserialize the request body.")
		return false
	}
	return true
}

// touch moves updated forward, at least a millisecond: the timestamp is
// the connector's version, and Jira's has millisecond precision.
func (e *Emu) touch(is *issue) {
	now := e.now().Truncate(time.Millisecond)
	if !now.After(is.updated) {
		now = is.updated.Add(time.Millisecond)
	}
	is.updated = now
}

// issueJSON renders an issue; fields limits the fields ("*all",
// "*navigable" or ids), nil means all.
func (e *Emu) issueJSON(is *issue, fields []string) map[string]any {
	all := fields == nil || slices.Contains(fields, "*all") || slices.Contains(fields, "*navigable")
	want := func(name string) bool { return all || slices.Contains(fields, name) }
	f := map[string]any{}
	put := func(name string, v any) {
		if want(name) {
			f[name] = v
		}
	}
	p := e.projectByKey(is.project)
	put("summary", is.summary)
	put("description", is.description)
	put("status", statusJSON(is.status))
	if is.priority != "" {
		put("priority", map[string]any{"id": fmt.Sprint(slices.Index(priorityList, is.priority) + 1), "name": is.priority})
	} else {
		put("priority", nil)
	}
	put("assignee", e.userJSON(e.userByID(is.assignee)))
	put("reporter", e.userJSON(e.userByID(is.reporter)))
	put("labels", append([]string{}, is.labels...))
	if is.dueDate != "" {
		put("duedate", is.dueDate)
	} else {
		put("duedate", nil)
	}
	put("created", is.created.Format(timeFormat))
	put("updated", is.updated.Format(timeFormat))
	put("issuetype", e.issueTypeJSON(p, slices.Index(issueTypes(p), is.issueType)))
	put("project", map[string]any{"id": "100" + p.Key, "key": p.Key, "name": p.Name})
	if want("attachment") {
		list := []any{}
		for _, id := range is.attachments {
			list = append(list, e.attachmentJSON(e.attachments[id]))
		}
		f["attachment"] = list
	}
	if want("issuelinks") {
		list := []any{}
		for _, l := range e.sortedLinks() {
			var t linkType
			for _, lt := range linkTypeList {
				if lt.name == l.typ {
					t = lt
				}
			}
			tj := map[string]any{"id": t.id, "name": t.name, "inward": t.inward, "outward": t.outward}
			switch is.id {
			case l.inward:
				list = append(list, map[string]any{"id": l.id, "type": tj, "outwardIssue": e.issueRef(l.outward)})
			case l.outward:
				list = append(list, map[string]any{"id": l.id, "type": tj, "inwardIssue": e.issueRef(l.inward)})
			}
		}
		f["issuelinks"] = list
	}
	for _, cf := range customFields {
		v, ok := is.custom[cf.id]
		if !ok {
			v = nil
		}
		put(cf.id, v)
	}
	return map[string]any{"id": is.id, "key": is.key, "self": e.URL() + e.api + "/issue/" + is.id, "fields": f}
}

func (e *Emu) sortedLinks() []*link {
	out := make([]*link, 0, len(e.links))
	for _, l := range e.links {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b *link) int { return strings.Compare(a.id, b.id) })
	return out
}

func (e *Emu) issueRef(id string) map[string]any {
	is := e.issues[id]
	if is == nil {
		return nil
	}
	return map[string]any{"id": is.id, "key": is.key, "self": e.URL() + e.api + "/issue/" + is.id,
		"fields": map[string]any{"summary": is.summary, "status": statusJSON(is.status)}}
}

func (e *Emu) getIssue(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.pathIssue(w, r)
	if is == nil {
		return
	}
	writeJSON(w, http.StatusOK, e.issueJSON(is, fieldList(r.URL.Query().Get("fields"))))
}

func fieldList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// createIssue answers POST /issue {"fields":{...}}.
func (e *Emu) createIssue(w http.ResponseWriter, r *http.Request, u *User) {
	var in struct {
		Fields map[string]json.RawMessage `json:"fields"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Fields == nil {
		writeError(w, http.StatusBadRequest, "Can not deserialize the request body.")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var proj struct{ Key, ID string }
	_ = json.Unmarshal(in.Fields["project"], &proj)
	p := e.projectByKey(proj.Key)
	if p == nil {
		writeFieldErrors(w, map[string]string{"project": "Specify a valid project ID or key"})
		return
	}
	var it struct{ Name, ID string }
	_ = json.Unmarshal(in.Fields["issuetype"], &it)
	typ := ""
	for i, n := range issueTypes(p) {
		if strings.EqualFold(n, it.Name) || issueTypeID(i) == it.ID {
			typ = n
		}
	}
	if typ == "" {
		writeFieldErrors(w, map[string]string{"issuetype": "Specify an issue type"})
		return
	}
	now := e.now().Truncate(time.Millisecond)
	is := &issue{id: e.newID(), project: p.Key, issueType: typ, status: "To Do", priority: "Medium",
		reporter: userID(u), labels: []string{}, custom: map[string]any{}, created: now, updated: now}
	if errs := e.applyFields(is, in.Fields, true); len(errs) > 0 {
		writeFieldErrors(w, errs)
		return
	}
	e.counters[p.Key]++
	is.key = fmt.Sprintf("%s-%d", p.Key, e.counters[p.Key])
	e.issues[is.id] = is
	e.keys[is.key] = is.id
	e.notify("jira:issue_created", is, nil)
	writeJSON(w, http.StatusCreated, map[string]any{"id": is.id, "key": is.key, "self": e.URL() + e.api + "/issue/" + is.id})
}

func userID(u *User) string {
	if u.AccountID != "" {
		return u.AccountID
	}
	return u.Name
}

// editIssue answers PUT /issue/{key} {"fields":{...}} with 204. Status is
// not a field: it changes through transitions only.
func (e *Emu) editIssue(w http.ResponseWriter, r *http.Request, _ *User) {
	var in struct {
		Fields map[string]json.RawMessage `json:"fields"`
		Update map[string]json.RawMessage `json:"update"`
	}
	if !readBody(w, r, &in) {
		return
	}
	if len(in.Update) > 0 {
		writeError(w, http.StatusBadRequest, "This emulator supports edits through \"fields\" only.")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.pathIssue(w, r)
	if is == nil {
		return
	}
	next := *is
	next.labels = slices.Clone(is.labels)
	next.custom = map[string]any{}
	for k, v := range is.custom {
		next.custom[k] = v
	}
	if errs := e.applyFields(&next, in.Fields, false); len(errs) > 0 {
		writeFieldErrors(w, errs)
		return
	}
	*is = next
	e.touch(is)
	e.notify("jira:issue_updated", is, nil)
	w.WriteHeader(http.StatusNoContent)
}

// applyFields validates and sets fields as Jira's create and edit screens
// do; it returns Jira's per-field errors.
func (e *Emu) applyFields(is *issue, fields map[string]json.RawMessage, create bool) map[string]string {
	errs := map[string]string{}
	if create {
		if _, ok := fields["summary"]; !ok {
			errs["summary"] = "You must specify a summary of the issue."
		}
	}
	for name, raw := range fields {
		isNull := string(raw) == "null"
		switch name {
		case "project", "issuetype":
			if !create {
				errs[name] = "Field '" + name + "' cannot be set. It is not on the appropriate screen, or unknown."
			}
		case "summary":
			var s string
			if json.Unmarshal(raw, &s) != nil || strings.TrimSpace(s) == "" {
				errs[name] = "You must specify a summary of the issue."
			} else if strings.ContainsAny(s, "\n\r") {
				errs[name] = "The summary is invalid because it contains newline characters."
			} else if len(s) > 255 {
				errs[name] = "Summary must be less than 255 characters."
			}
			is.summary = s
		case "description":
			v, msg := e.richText(raw)
			if msg != "" {
				errs[name] = msg
			}
			is.description = v
		case "priority":
			var p struct{ Name, ID string }
			if isNull {
				is.priority = ""
				continue
			}
			if json.Unmarshal(raw, &p) != nil || !slices.Contains(priorityList, p.Name) {
				errs[name] = "Specify a valid value for priority"
			}
			is.priority = p.Name
		case "assignee":
			if isNull {
				is.assignee = ""
				continue
			}
			var a struct {
				AccountID string `json:"accountId"`
				Name      string `json:"name"`
			}
			_ = json.Unmarshal(raw, &a)
			id := a.Name
			if e.Cloud() {
				id = a.AccountID
			}
			if e.userByID(id) == nil {
				if e.Cloud() {
					errs[name] = "Specified user does not exist or you do not have required permissions"
				} else {
					errs[name] = "User '" + a.Name + "' does not exist."
				}
			}
			is.assignee = id
		case "labels":
			var l []string
			if !isNull && json.Unmarshal(raw, &l) != nil {
				errs[name] = "Field 'labels' must be an array of strings."
			}
			for _, x := range l {
				if strings.ContainsAny(x, " \t\n") {
					errs[name] = "The label '" + x + "' contains spaces which is invalid."
				}
			}
			is.labels = append([]string{}, l...)
		case "duedate":
			var d string
			if !isNull {
				if json.Unmarshal(raw, &d) != nil {
					errs[name] = "Error parsing date string: " + string(raw)
				} else if _, err := time.Parse(time.DateOnly, d); err != nil {
					errs[name] = "Error parsing date string: " + d
				}
			}
			is.dueDate = d
		default:
			cf := customByID(name)
			if cf == nil {
				errs[name] = "Field '" + name + "' cannot be set. It is not on the appropriate screen, or unknown."
				continue
			}
			if isNull {
				delete(is.custom, name)
				continue
			}
			v, msg := e.customValue(cf, raw)
			if msg != "" {
				errs[name] = msg
			}
			is.custom[name] = v
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// richText checks a rich-text value: an ADF document on Cloud v3, a
// string of wiki markup on Server v2.
func (e *Emu) richText(raw json.RawMessage) (any, string) {
	if string(raw) == "null" {
		return nil, ""
	}
	if !e.Cloud() {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, "Operation value must be a string"
		}
		if s == "" {
			return nil, ""
		}
		return s, ""
	}
	var doc map[string]any
	if json.Unmarshal(raw, &doc) != nil || doc["type"] != "doc" || doc["version"] != float64(1) {
		return nil, "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
	}
	if _, ok := doc["content"].([]any); !ok {
		return nil, "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
	}
	return doc, ""
}

func (e *Emu) customValue(cf *customField, raw json.RawMessage) (any, string) {
	switch cf.typ {
	case "number":
		var f float64
		if json.Unmarshal(raw, &f) != nil {
			return nil, "Operation value must be a number"
		}
		return f, ""
	case "date":
		var d string
		if json.Unmarshal(raw, &d) != nil {
			return nil, "Error parsing date string: " + string(raw)
		}
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, "Error parsing date string: " + d
		}
		return d, ""
	case "string":
		if cf.custom == cft+"textarea" {
			return e.richText(raw)
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, "Operation value must be a string"
		}
		return s, ""
	case "option":
		var o struct{ Value, ID string }
		if json.Unmarshal(raw, &o) != nil || !slices.Contains(cf.options, o.Value) {
			return nil, "Option value '" + o.Value + "' is not valid"
		}
		return e.optionJSON(cf, o.Value), ""
	case "array":
		var list []struct{ Value, ID string }
		if json.Unmarshal(raw, &list) != nil {
			return nil, "Operation value must be an array"
		}
		out := []any{}
		for _, o := range list {
			if !slices.Contains(cf.options, o.Value) {
				return nil, "Option value '" + o.Value + "' is not valid"
			}
			out = append(out, e.optionJSON(cf, o.Value))
		}
		return out, ""
	}
	return nil, "unsupported field"
}

func (e *Emu) optionJSON(cf *customField, v string) map[string]any {
	i := slices.Index(cf.options, v)
	id := cf.id[len(cf.id)-2:] + string(rune('0'+i))
	return map[string]any{"id": id, "value": v, "self": e.URL() + e.api + "/customFieldOption/" + id}
}

func (e *Emu) transitions(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.pathIssue(w, r)
	if is == nil {
		return
	}
	list := []any{}
	for _, t := range workflow {
		if t.from == is.status {
			list = append(list, map[string]any{"id": t.id, "name": t.name, "to": statusJSON(t.to),
				"hasScreen": false, "isGlobal": false, "isInitial": false, "isAvailable": true, "isConditional": false})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"expand": "transitions", "transitions": list})
}

func (e *Emu) doTransition(w http.ResponseWriter, r *http.Request, _ *User) {
	var in struct {
		Transition struct {
			ID string `json:"id"`
		} `json:"transition"`
	}
	if !readBody(w, r, &in) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.pathIssue(w, r)
	if is == nil {
		return
	}
	for _, t := range workflow {
		if t.id == in.Transition.ID && t.from == is.status {
			is.status = t.to
			e.touch(is)
			e.notify("jira:issue_updated", is, nil)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeError(w, http.StatusBadRequest, "Transition id '"+in.Transition.ID+"' is not valid for this issue.")
}
