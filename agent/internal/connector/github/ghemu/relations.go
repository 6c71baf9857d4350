package ghemu

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Sub-issues ("REST API endpoints for sub-issues") and issue dependencies
// ("REST API endpoints for issue dependencies"): both name the other issue
// by its id, and both are timeline events that move both issues'
// updated_at.

// listOf answers a page of issues given by id.
func (e *Emu) listOf(w http.ResponseWriter, r *http.Request, ids []int64) {
	var list []*issue
	for _, id := range ids {
		if is := e.issues[id]; is != nil && !is.deleted {
			list = append(list, is)
		}
	}
	perPage, page, ok := e.pageOf(w, r)
	if !ok {
		return
	}
	from, to := paginate(w, r, e.apiURL(r.URL.Path[len(e.o.PathPrefix):]), len(list), perPage, page)
	out := []any{}
	for _, is := range list[from:to] {
		out = append(out, e.issueJSON(is))
	}
	writeGet(w, r, out, time.Time{})
}

// otherIssue reads the id a relation's request body names.
func (e *Emu) otherIssue(w http.ResponseWriter, r *http.Request, field string) (*issue, bool) {
	var in map[string]json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return nil, false
	}
	var id int64
	if err := json.Unmarshal(in[field], &id); err != nil || id <= 0 {
		writeValidation(w, fieldError{Resource: "Issue", Code: "missing_field", Field: field})
		return nil, false
	}
	other := e.issues[id]
	if other == nil || other.deleted {
		writeError(w, http.StatusNotFound, "Not Found")
		return nil, false
	}
	return other, true
}

// relationTarget finds the issue a relation is written on: it exists, its
// repository takes writes, and u has at least the triage role. It answers
// the refusals itself.
func (e *Emu) relationTarget(w http.ResponseWriter, r *http.Request, u *User) *issue {
	is := e.issueOf(w, r)
	if is == nil || !writable(w, is.repo) {
		return nil
	}
	if !can(u, Triage) {
		writeError(w, http.StatusForbidden, "Must have triage rights to Repository.")
		return nil
	}
	return is
}

func (e *Emu) listSubIssues(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if is := e.issueOf(w, r); is != nil {
		e.listOf(w, r, is.subs)
	}
}

func (e *Emu) addSubIssue(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	parent := e.relationTarget(w, r, u)
	if parent == nil {
		return
	}
	var in struct {
		SubIssueID    int64 `json:"sub_issue_id"`
		ReplaceParent bool  `json:"replace_parent"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	child := e.issues[in.SubIssueID]
	switch {
	case child == nil || child.deleted:
		writeError(w, http.StatusNotFound, "Not Found")
		return
	case child == parent || !strings.EqualFold(child.repo.owner, parent.repo.owner):
		writeValidation(w, fieldError{Resource: "Issue", Code: "invalid", Field: "sub_issue_id",
			Message: "A sub-issue must be another issue of the same owner"})
		return
	case child.parent == parent.id:
		writeValidation(w, fieldError{Resource: "Issue", Code: "invalid", Field: "sub_issue_id", Message: "Sub issue already exists"})
		return
	case child.parent != 0 && !in.ReplaceParent:
		writeValidation(w, fieldError{Resource: "Issue", Code: "invalid", Field: "sub_issue_id", Message: "Sub issue may only have one parent"})
		return
	}
	if old := e.issues[child.parent]; old != nil {
		old.subs = slices.DeleteFunc(old.subs, func(id int64) bool { return id == child.id })
		e.touch(old)
	}
	child.parent = parent.id
	parent.subs = append(parent.subs, child.id)
	e.touch(parent)
	e.touch(child)
	writeJSON(w, http.StatusCreated, e.issueJSON(parent))
}

func (e *Emu) removeSubIssue(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	parent := e.relationTarget(w, r, u)
	if parent == nil {
		return
	}
	child, ok := e.otherIssue(w, r, "sub_issue_id")
	if !ok {
		return
	}
	if child.parent != parent.id {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	child.parent = 0
	parent.subs = slices.DeleteFunc(parent.subs, func(id int64) bool { return id == child.id })
	e.touch(parent)
	e.touch(child)
	writeJSON(w, http.StatusOK, e.issueJSON(parent))
}

func (e *Emu) getParent(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.issueOf(w, r)
	if is == nil {
		return
	}
	p := e.issues[is.parent]
	if p == nil || p.deleted {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeGet(w, r, e.issueJSON(p), p.updated)
}

func (e *Emu) listBlockedBy(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if is := e.issueOf(w, r); is != nil {
		e.listOf(w, r, is.blockedBy)
	}
}

func (e *Emu) listBlocking(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.issueOf(w, r)
	if is == nil {
		return
	}
	var ids []int64
	for _, other := range e.issues {
		if slices.Contains(other.blockedBy, is.id) {
			ids = append(ids, other.id)
		}
	}
	slices.Sort(ids)
	e.listOf(w, r, ids)
}

func (e *Emu) addBlockedBy(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.relationTarget(w, r, u)
	if is == nil {
		return
	}
	blocker, ok := e.otherIssue(w, r, "issue_id")
	if !ok {
		return
	}
	switch {
	case blocker == is:
		writeValidation(w, fieldError{Resource: "Issue", Code: "invalid", Field: "issue_id", Message: "An issue cannot block itself"})
		return
	case slices.Contains(is.blockedBy, blocker.id):
		writeValidation(w, fieldError{Resource: "Issue", Code: "invalid", Field: "issue_id", Message: "Dependency already exists"})
		return
	}
	is.blockedBy = append(is.blockedBy, blocker.id)
	e.touch(is)
	e.touch(blocker)
	writeJSON(w, http.StatusCreated, e.issueJSON(blocker))
}

func (e *Emu) removeBlockedBy(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.relationTarget(w, r, u)
	if is == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("issue_id"), 10, 64)
	if err != nil || !slices.Contains(is.blockedBy, id) {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	is.blockedBy = slices.DeleteFunc(is.blockedBy, func(x int64) bool { return x == id })
	e.touch(is)
	if b := e.issues[id]; b != nil {
		e.touch(b)
		writeJSON(w, http.StatusOK, e.issueJSON(b))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Blocking lists, for tests, the numbers of the issues an issue blocks (in
// the same repository), and Subs those of its sub-issues.
func (e *Emu) Blocking(fullName string, number int) []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.repos[lower(fullName)].issues[number]
	var out []int
	for _, other := range e.issues {
		if other.repo == is.repo && !other.deleted && slices.Contains(other.blockedBy, is.id) {
			out = append(out, other.number)
		}
	}
	slices.Sort(out)
	return out
}

// Subs lists the numbers of an issue's sub-issues, for tests.
func (e *Emu) Subs(fullName string, number int) []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []int
	for _, id := range e.repos[lower(fullName)].issues[number].subs {
		out = append(out, e.issues[id].number)
	}
	return out
}
