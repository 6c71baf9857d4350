package gitlabemu

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

type issue struct {
	ID, IID, ProjectID int
	Title, Description string
	State              string // opened, closed
	Type               string // issue, incident, test_case
	Labels             []string
	Assignees          []int
	Milestone          int
	DueDate            string
	Weight             *int
	Confidential       bool
	Author             int
	CreatedAt          time.Time
	UpdatedAt          time.Time
	ClosedAt           time.Time
	ClosedBy           int
	notes              []*note
}

// Limits GitLab's models enforce.
const (
	maxTitle       = 255
	maxDescription = 1_048_576
	maxNote        = 1_000_000
)

var issueTypes = []string{"issue", "incident", "test_case"}

func (e *Emu) issueOf(w http.ResponseWriter, r *http.Request, p *project) *issue {
	iid, err := strconv.Atoi(r.PathValue("iid"))
	if err == nil {
		for _, is := range e.issues {
			if is.ProjectID == p.ID && is.IID == iid {
				return is
			}
		}
	}
	message(w, http.StatusNotFound, "404 Issue Not Found")
	return nil
}

// issueJSON is the issue entity of the REST API.
func (e *Emu) issueJSON(is *issue) map[string]any {
	p := e.projects[is.ProjectID]
	assignees := []any{}
	for _, id := range is.Assignees {
		assignees = append(assignees, e.userJSON(e.user(id)))
	}
	var first any
	if len(assignees) > 0 {
		first = assignees[0]
	}
	var ms any
	for _, m := range p.milestones {
		if m.ID == is.Milestone {
			ms = map[string]any{"id": m.ID, "iid": m.IID, "project_id": p.ID, "title": m.Title, "state": m.State}
		}
	}
	var closedBy any
	if is.ClosedBy != 0 {
		closedBy = e.userJSON(e.user(is.ClosedBy))
	}
	var due any
	if is.DueDate != "" {
		due = is.DueDate
	}
	out := map[string]any{
		"id": is.ID, "iid": is.IID, "project_id": is.ProjectID, "title": is.Title, "description": is.Description,
		"state": is.State, "created_at": e.stamp(is.CreatedAt), "updated_at": e.stamp(is.UpdatedAt),
		"closed_at": e.stampOrNil(is.ClosedAt), "closed_by": closedBy, "labels": slices.Clone(is.Labels),
		"milestone": ms, "assignees": assignees, "assignee": first, "author": e.userJSON(e.user(is.Author)),
		"type": strings.ToUpper(is.Type), "issue_type": is.Type, "user_notes_count": e.userNotes(is),
		"due_date": due, "confidential": is.Confidential, "discussion_locked": nil,
		"web_url":    fmt.Sprintf("%s/%s/-/issues/%d", e.URL(), p.Path, is.IID),
		"references": map[string]string{"short": fmt.Sprintf("#%d", is.IID), "relative": fmt.Sprintf("#%d", is.IID), "full": fmt.Sprintf("%s#%d", p.Path, is.IID)},
		"_links": map[string]string{
			"self":    fmt.Sprintf("%s/api/v4/projects/%d/issues/%d", e.URL(), p.ID, is.IID),
			"notes":   fmt.Sprintf("%s/api/v4/projects/%d/issues/%d/notes", e.URL(), p.ID, is.IID),
			"project": fmt.Sprintf("%s/api/v4/projects/%d", e.URL(), p.ID),
		},
	}
	if e.o.Premium {
		if is.Weight != nil {
			out["weight"] = *is.Weight
		} else {
			out["weight"] = nil
		}
	}
	return out
}

func (e *Emu) userNotes(is *issue) int {
	n := 0
	for _, nt := range is.notes {
		if !nt.System {
			n++
		}
	}
	return n
}

// parseTimeParam reads a datetime parameter as Grape does (ISO 8601, with
// or without fraction and zone, or a date).
func parseTimeParam(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05Z0700", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var orderFields = []string{"created_at", "updated_at", "priority", "due_date", "relative_position", "label_priority", "milestone_due", "popularity", "weight", "title"}

func (e *Emu) listIssues(w http.ResponseWriter, r *http.Request, u *User) {
	q := r.URL.Query()
	var after, before time.Time
	for name, dst := range map[string]*time.Time{"updated_after": &after, "updated_before": &before} {
		if v := q.Get(name); v != "" {
			t, ok := parseTimeParam(v)
			if !ok {
				paramError(w, name+" is invalid")
				return
			}
			*dst = t
		}
	}
	order := q.Get("order_by")
	if order == "" {
		order = "created_at"
	}
	if !slices.Contains(orderFields, order) {
		paramError(w, "order_by does not have a valid value")
		return
	}
	sortDir := q.Get("sort")
	if sortDir == "" {
		sortDir = "desc"
	}
	if sortDir != "asc" && sortDir != "desc" {
		paramError(w, "sort does not have a valid value")
		return
	}
	state := q.Get("state")
	if state != "" && state != "all" && state != "opened" && state != "closed" {
		paramError(w, "state does not have a valid value")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p, _ := e.projectOf(w, r, u)
	if p == nil {
		return
	}
	labels, _ := stringList(map[string]any{"labels": q.Get("labels")}, "labels")
	terms := searchTerms(q.Get("search"))
	in := q.Get("in")
	var list []*issue
	for _, is := range e.issues {
		switch {
		case is.ProjectID != p.ID,
			state == "opened" && is.State != "opened", state == "closed" && is.State != "closed",
			!after.IsZero() && is.UpdatedAt.Before(after), !before.IsZero() && is.UpdatedAt.After(before),
			len(terms) > 0 && !matches(is, terms, in):
			continue
		}
		if !hasAll(is.Labels, labels) {
			continue
		}
		list = append(list, is)
	}
	key := func(is *issue) time.Time {
		if order == "updated_at" {
			return is.UpdatedAt
		}
		return is.CreatedAt
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if !key(a).Equal(key(b)) {
			if sortDir == "asc" {
				return key(a).Before(key(b))
			}
			return key(a).After(key(b))
		}
		if sortDir == "asc" {
			return a.ID < b.ID
		}
		return a.ID > b.ID
	})
	items := make([]any, 0, len(list))
	for _, is := range list {
		items = append(items, e.issueJSON(is))
	}
	e.writePage(w, r, items)
}

func hasAll(have, want []string) bool {
	for _, l := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, l) }) {
			return false
		}
	}
	return true
}

// The issue search follows GitLab's PostgreSQL full-text search
// (PgFullTextSearchable): the query keeps only [a-zA-Z0-9 .@/-_"], each
// term of three characters or more must be the prefix of a word of the
// searched text (title and description, or what "in" names), HTML tags
// count as their inner text, and words of 50 characters or more are not
// indexed.
var (
	queryDisallowed = regexp.MustCompile(`[^a-zA-Z0-9 .@/\-_"]`)
	xmlTag          = regexp.MustCompile(`</?([^>]+)>`)
	longWord        = regexp.MustCompile(`[A-Za-z0-9+/@]{50,}`)
	wordSep         = regexp.MustCompile(`[^\p{L}\p{N}]+`)
)

func searchTerms(q string) []string {
	q = queryDisallowed.ReplaceAllString(q, " ")
	var out []string
	for _, t := range strings.Fields(strings.ToLower(q)) {
		for _, part := range wordSep.Split(t, -1) {
			if utf8.RuneCountInString(part) >= 3 {
				out = append(out, part)
			}
		}
	}
	return out
}

func words(text string) []string {
	text = longWord.ReplaceAllString(text, " ")
	text = xmlTag.ReplaceAllString(text, " $1 ")
	return wordSep.Split(strings.ToLower(text), -1)
}

func matches(is *issue, terms []string, in string) bool {
	var text []string
	if in == "" || strings.Contains(in, "title") {
		text = append(text, words(is.Title)...)
	}
	if in == "" || strings.Contains(in, "description") {
		text = append(text, words(is.Description)...)
	}
	for _, t := range terms {
		if !slices.ContainsFunc(text, func(w string) bool { return strings.HasPrefix(w, t) }) {
			return false
		}
	}
	return true
}

func (e *Emu) getIssue(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, _, is := e.issueAt(w, r, u); is != nil {
		writeJSON(w, http.StatusOK, e.issueJSON(is))
	}
}

func (e *Emu) createIssue(w http.ResponseWriter, r *http.Request, u *User) {
	in, err := decodeBody(r)
	if err != nil {
		message(w, http.StatusBadRequest, "400 Bad request - "+err.Error())
		return
	}
	if !e.appLimit(w, u, "issues_create", e.o.IssueCreateLimit) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p, _ := e.projectOf(w, r, u)
	if p == nil {
		return
	}
	title, ok := param(in, "title")
	if !ok {
		paramError(w, "title is missing")
		return
	}
	now := e.now()
	is := &issue{ID: e.newID("issue"), ProjectID: p.ID, State: "opened", Type: "issue", Author: u.ID,
		CreatedAt: now, UpdatedAt: now, Labels: []string{}, Title: title}
	if !e.applyFields(w, p, is, in, u, false) {
		return
	}
	p.nextIID++
	is.IID = p.nextIID
	e.issues[is.ID] = is
	e.deliverIssue(is, u, "open")
	writeJSON(w, http.StatusCreated, e.issueJSON(is))
}

var editable = []string{"title", "description", "labels", "add_labels", "remove_labels", "assignee_ids", "assignee_id",
	"milestone_id", "due_date", "weight", "confidential", "state_event", "issue_type", "discussion_locked"}

func (e *Emu) editIssue(w http.ResponseWriter, r *http.Request, u *User) {
	in, err := decodeBody(r)
	if err != nil {
		message(w, http.StatusBadRequest, "400 Bad request - "+err.Error())
		return
	}
	if !slices.ContainsFunc(editable, func(k string) bool { _, ok := in[k]; return ok }) {
		paramError(w, strings.Join(editable, ", ")+" are missing, at least one parameter must be provided")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p, level, is := e.issueAt(w, r, u)
	if is == nil {
		return
	}
	if level < Reporter && is.Author != u.ID {
		forbidden(w)
		return
	}
	if !e.applyFields(w, p, is, in, u, true) {
		return
	}
	e.deliverIssue(is, u, "update")
	writeJSON(w, http.StatusOK, e.issueJSON(is))
}

// applyFields validates and applies the writable attributes of a create or
// edit, all or nothing, writing the system notes GitLab would.
func (e *Emu) applyFields(w http.ResponseWriter, p *project, is *issue, in map[string]any, u *User, edit bool) bool {
	next := *is
	next.Labels = slices.Clone(is.Labels)
	next.Assignees = slices.Clone(is.Assignees)
	errs := map[string][]string{}
	if t, ok := param(in, "title"); ok {
		if strings.TrimSpace(t) == "" {
			errs["title"] = append(errs["title"], "can't be blank")
		}
		next.Title = t
	}
	if d, ok := param(in, "description"); ok {
		next.Description = d
	}
	if l, ok := stringList(in, "labels"); ok {
		next.Labels = l
	}
	if l, ok := stringList(in, "add_labels"); ok {
		for _, x := range l {
			if !slices.Contains(next.Labels, x) {
				next.Labels = append(next.Labels, x)
			}
		}
	}
	if l, ok := stringList(in, "remove_labels"); ok {
		next.Labels = slices.DeleteFunc(next.Labels, func(x string) bool { return slices.Contains(l, x) })
	}
	if ids, ok, bad := intList(in, "assignee_ids"); ok {
		if bad {
			paramError(w, "assignee_ids is invalid")
			return false
		}
		next.Assignees = nil
		for _, id := range ids {
			// GitLab drops users who cannot be assigned (not members)
			// without a word.
			if au := e.user(id); au != nil && p.Members[au.Username] > 0 && !slices.Contains(next.Assignees, id) {
				next.Assignees = append(next.Assignees, id)
			}
		}
		if !e.o.Premium && len(next.Assignees) > 1 {
			next.Assignees = next.Assignees[:1]
		}
	}
	if id, ok, bad := intParam(in, "milestone_id"); ok {
		if bad {
			paramError(w, "milestone_id is invalid")
			return false
		}
		next.Milestone = 0
		for _, m := range p.milestones {
			if m.ID == id {
				next.Milestone = id // a milestone of another project is ignored
			}
		}
	}
	if d, ok := param(in, "due_date"); ok {
		if d != "" {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				paramError(w, "due_date is invalid")
				return false
			}
		}
		next.DueDate = d
	}
	if _, ok := in["weight"]; ok && e.o.Premium {
		n, _, bad := intParam(in, "weight")
		s, _ := param(in, "weight")
		switch {
		case bad:
			paramError(w, "weight is invalid")
			return false
		case s == "":
			next.Weight = nil
		case n < 0:
			errs["weight"] = append(errs["weight"], "must be greater than or equal to 0")
		default:
			next.Weight = &n
		}
	}
	if c, ok := param(in, "confidential"); ok {
		b, err := strconv.ParseBool(c)
		if err != nil {
			paramError(w, "confidential is invalid")
			return false
		}
		next.Confidential = b
	}
	if t, ok := param(in, "issue_type"); ok {
		if !slices.Contains(issueTypes, t) {
			paramError(w, "issue_type does not have a valid value")
			return false
		}
		next.Type = t
	}
	stateEvent := ""
	if s, ok := param(in, "state_event"); ok {
		if !edit || (s != "close" && s != "reopen") {
			if edit {
				paramError(w, "state_event does not have a valid value")
				return false
			}
		} else {
			stateEvent = s
		}
	}
	if utf8.RuneCountInString(next.Title) > maxTitle {
		errs["title"] = append(errs["title"], fmt.Sprintf("is too long (maximum is %d characters)", maxTitle))
	}
	if utf8.RuneCountInString(next.Description) > maxDescription {
		errs["description"] = append(errs["description"], fmt.Sprintf("is too long (maximum is %d characters)", maxDescription))
	}
	for _, l := range next.Labels {
		if utf8.RuneCountInString(l) > 255 {
			errs["labels"] = append(errs["labels"], "is invalid")
		}
	}
	if len(errs) > 0 {
		fieldErrors(w, errs)
		return false
	}
	now := e.now()
	changed := !edit
	sys := func(body string) {
		if edit {
			next.notes = append(next.notes, &note{ID: e.newID("note"), Body: body, Author: u.ID, System: true, CreatedAt: now, UpdatedAt: now})
		}
	}
	if next.Title != is.Title {
		sys(fmt.Sprintf("changed title from **%s** to **%s**", is.Title, next.Title))
		changed = true
	}
	if next.Description != is.Description {
		sys("changed the description")
		changed = true
	}
	if !slices.Equal(next.Assignees, is.Assignees) {
		sys("changed assignees")
		changed = true
	}
	if !slices.Equal(next.Labels, is.Labels) || next.Milestone != is.Milestone || next.DueDate != is.DueDate ||
		!sameWeight(next.Weight, is.Weight) || next.Confidential != is.Confidential || next.Type != is.Type {
		changed = true // resource events, not notes, record these
	}
	switch {
	case stateEvent == "close" && next.State == "opened":
		next.State, next.ClosedAt, next.ClosedBy = "closed", now, u.ID
		sys("closed")
		changed = true
	case stateEvent == "reopen" && next.State == "closed":
		next.State, next.ClosedAt, next.ClosedBy = "opened", time.Time{}, 0
		sys("reopened")
		changed = true
	}
	for _, l := range next.Labels {
		if !slices.ContainsFunc(p.labels, func(x string) bool { return strings.EqualFold(x, l) }) {
			p.labels = append(p.labels, l) // unknown labels are made at project level
		}
	}
	if changed {
		next.UpdatedAt = now
	}
	*is = next
	return true
}

func sameWeight(a, b *int) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func (e *Emu) deleteIssue(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, level, is := e.issueAt(w, r, u)
	if is == nil {
		return
	}
	if level < Owner {
		forbidden(w)
		return
	}
	delete(e.issues, is.ID)
	for id, l := range e.links {
		if l.Source == is.ID || l.Target == is.ID {
			delete(e.links, id)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// Issues lists the issues of a project in creation order, as the API
// shows them, for tests to check what a sync left.
func (e *Emu) Issues(projectID int) []map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	var list []*issue
	for _, is := range e.issues {
		if is.ProjectID == projectID {
			list = append(list, is)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].IID < list[j].IID })
	out := make([]map[string]any, 0, len(list))
	for _, is := range list {
		out = append(out, e.issueJSON(is))
	}
	return out
}

// CreateIssue makes an issue as username would in the UI (fields as the
// API takes them: title, description, labels...) and returns its iid.
func (e *Emu) CreateIssue(projectID int, username string, fields map[string]any) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, u := e.projects[projectID], e.userByName(username)
	if p == nil || u == nil {
		return 0, fmt.Errorf("no project %d or user %s", projectID, username)
	}
	now := e.now()
	is := &issue{ID: e.newID("issue"), ProjectID: p.ID, State: "opened", Type: "issue", Author: u.ID,
		CreatedAt: now, UpdatedAt: now, Labels: []string{}}
	rec := httptest.NewRecorder()
	if !e.applyFields(rec, p, is, fields, u, false) {
		return 0, fmt.Errorf("create issue: %s", rec.Body.String())
	}
	p.nextIID++
	is.IID = p.nextIID
	e.issues[is.ID] = is
	e.deliverIssue(is, u, "open")
	return is.IID, nil
}

// EditIssue edits an issue as username would in the UI (fields as the API
// takes them, state_event included).
func (e *Emu) EditIssue(projectID, iid int, username string, fields map[string]any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.userByName(username)
	for _, is := range e.issues {
		if is.ProjectID == projectID && is.IID == iid && u != nil {
			rec := httptest.NewRecorder()
			if !e.applyFields(rec, e.projects[projectID], is, fields, u, true) {
				return fmt.Errorf("edit issue: %s", rec.Body.String())
			}
			e.deliverIssue(is, u, "update")
			return nil
		}
	}
	return fmt.Errorf("no issue %d#%d or user %s", projectID, iid, username)
}
