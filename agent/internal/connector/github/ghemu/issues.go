package ghemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxBody is the most characters GitHub takes in an issue or comment body.
const maxBody = 65536

type issue struct {
	repo        *repo
	id          int64
	number      int
	title       string
	body        *string
	state       string
	stateReason *string
	labels      []*label
	assignees   []string
	milestone   *milestone
	author      string
	created     time.Time
	updated     time.Time
	closedAt    *time.Time
	closedBy    string
	comments    []int64
	pull        bool
	locked      bool
	deleted     bool
	parent      int64   // the parent issue's id, 0 for none
	subs        []int64 // sub-issues' ids, in order
	blockedBy   []int64 // ids of the issues that block this one
	// The search index: what search sees of the issue, and what it will
	// see once the index catches up.
	indexed *snapshot
	pending []pendingSnap
}

type snapshot struct {
	title, body, state string
	pull               bool
}

type pendingSnap struct {
	at   time.Time
	snap snapshot
}

func (is *issue) path() string {
	return "/repos/" + is.repo.fullName() + "/issues/" + strconv.Itoa(is.number)
}

// touch records a change: the update time moves and the search index
// learns of it after the lag.
func (e *Emu) touch(is *issue) {
	is.updated = e.now()
	body := ""
	if is.body != nil {
		body = *is.body
	}
	snap := snapshot{title: is.title, body: body, state: is.state, pull: is.pull}
	if e.o.SearchLag <= 0 {
		is.indexed, is.pending = &snap, nil
		return
	}
	is.pending = append(is.pending, pendingSnap{at: e.o.Now().Add(e.o.SearchLag), snap: snap})
}

// index applies what the search index has caught up with.
func (e *Emu) index(is *issue) *snapshot {
	now := e.o.Now()
	for len(is.pending) > 0 && !is.pending[0].at.After(now) {
		s := is.pending[0].snap
		is.indexed, is.pending = &s, is.pending[1:]
	}
	return is.indexed
}

func (e *Emu) issueJSON(is *issue) map[string]any {
	rp := is.repo
	labels := []any{}
	for _, l := range is.labels {
		labels = append(labels, e.labelJSON(rp, l))
	}
	assignees := []any{}
	for _, a := range is.assignees {
		assignees = append(assignees, e.userJSON(a))
	}
	var assignee any
	if len(is.assignees) > 0 {
		assignee = e.userJSON(is.assignees[0])
	}
	var closedAt any
	if is.closedAt != nil {
		closedAt = timeJSON(*is.closedAt)
	}
	var milestone any
	if is.milestone != nil {
		milestone = e.milestoneJSON(rp, is.milestone)
	}
	blocking := 0
	for _, other := range e.issues {
		if !other.deleted && slices.Contains(other.blockedBy, is.id) {
			blocking++
		}
	}
	out := map[string]any{
		"id": is.id, "node_id": nodeID(is.id), "number": is.number, "title": is.title, "body": is.body,
		"state": is.state, "state_reason": is.stateReason, "locked": is.locked,
		"user": e.userJSON(is.author), "labels": labels, "assignee": assignee, "assignees": assignees,
		"milestone": milestone, "comments": len(is.comments),
		"created_at": timeJSON(is.created), "updated_at": timeJSON(is.updated), "closed_at": closedAt,
		"author_association": "MEMBER",
		"url":                e.apiURL(is.path()), "html_url": e.htmlURL("/" + rp.fullName() + "/issues/" + strconv.Itoa(is.number)),
		"repository_url": e.apiURL("/repos/" + rp.fullName()), "comments_url": e.apiURL(is.path() + "/comments"),
		"sub_issues_summary": map[string]int{"total": len(is.subs), "completed": 0, "percent_completed": 0},
		"issue_dependencies_summary": map[string]int{"blocked_by": len(is.blockedBy), "blocking": blocking,
			"total_blocked_by": len(is.blockedBy), "total_blocking": blocking},
	}
	if is.parent != 0 {
		if p := e.issues[is.parent]; p != nil && !p.deleted {
			out["parent_issue_url"] = e.apiURL(p.path())
		}
	}
	if is.closedBy != "" {
		out["closed_by"] = e.userJSON(is.closedBy)
	}
	if is.pull {
		out["pull_request"] = map[string]any{"url": e.apiURL("/repos/" + rp.fullName() + "/pulls/" + strconv.Itoa(is.number)),
			"html_url": e.htmlURL("/" + rp.fullName() + "/pull/" + strconv.Itoa(is.number)), "merged_at": nil}
		out["html_url"] = e.htmlURL("/" + rp.fullName() + "/pull/" + strconv.Itoa(is.number))
	}
	return out
}

func nodeID(id int64) string { return "I_kwDO" + strconv.FormatInt(id, 36) }

// issueOf finds the issue a request names; it answers 404 (no such
// issue) or 410 (deleted) itself.
func (e *Emu) issueOf(w http.ResponseWriter, r *http.Request) *issue {
	rp := e.repoOf(w, r)
	if rp == nil {
		return nil
	}
	n, err := strconv.Atoi(r.PathValue("number"))
	is := rp.issues[n]
	if err != nil || is == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return nil
	}
	if is.deleted {
		writeError(w, http.StatusGone, "This issue was deleted")
		return nil
	}
	return is
}

// listIssues is GET /repos/{owner}/{repo}/issues (and the
// /repositories/{id}/issues its Link header names): issues and pull
// requests, filtered by state, labels, creator, assignee and since
// (updated at or after), sorted by created, updated or comments.
func (e *Emu) listIssues(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := e.repoOf(w, r)
	if rp == nil {
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	sortBy := q.Get("sort")
	if sortBy == "" {
		sortBy = "created"
	}
	dir := q.Get("direction")
	if dir == "" {
		dir = "desc"
	}
	if !slices.Contains([]string{"open", "closed", "all"}, state) || !slices.Contains([]string{"created", "updated", "comments"}, sortBy) ||
		!slices.Contains([]string{"asc", "desc"}, dir) {
		writeValidation(w, fieldError{Resource: "Issue", Code: "invalid", Field: "state, sort or direction"})
		return
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeValidation(w, fieldError{Resource: "Issue", Code: "invalid", Field: "since",
				Message: "since must be a timestamp in ISO 8601 format: YYYY-MM-DDTHH:MM:SSZ"})
			return
		}
		since = t
	}
	var wantLabels []string
	if v := q.Get("labels"); v != "" {
		wantLabels = strings.Split(v, ",")
	}
	var list []*issue
	for _, is := range rp.issues {
		if is.deleted || state != "all" && is.state != state {
			continue
		}
		if !since.IsZero() && (is.updated.Before(since) || e.o.SinceExclusive && is.updated.Equal(since)) {
			continue
		}
		if c := q.Get("creator"); c != "" && !strings.EqualFold(c, is.author) {
			continue
		}
		if a := q.Get("assignee"); a != "" && a != "*" && !slices.ContainsFunc(is.assignees, func(x string) bool { return strings.EqualFold(x, a) }) {
			continue
		}
		if !slices.ContainsFunc(wantLabels, func(l string) bool {
			return !slices.ContainsFunc(is.labels, func(x *label) bool { return strings.EqualFold(x.name, strings.TrimSpace(l)) })
		}) {
			list = append(list, is)
		}
	}
	slices.SortFunc(list, func(a, b *issue) int {
		var c int
		switch sortBy {
		case "updated":
			c = a.updated.Compare(b.updated)
		case "comments":
			c = len(a.comments) - len(b.comments)
		default:
			c = a.created.Compare(b.created)
		}
		if c == 0 {
			c = a.number - b.number
		}
		if dir == "desc" {
			c = -c
		}
		return c
	})
	perPage, page, ok := e.pageOf(w, r)
	if !ok {
		return
	}
	from, to := paginate(w, r, e.apiURL("/repositories/"+strconv.FormatInt(rp.id, 10)+"/issues"), len(list), perPage, page)
	out := []any{}
	for _, is := range list[from:to] {
		out = append(out, e.issueJSON(is))
	}
	writeGet(w, r, out, time.Time{})
}

func (e *Emu) getIssue(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.issueOf(w, r)
	if is == nil {
		return
	}
	writeGet(w, r, e.issueJSON(is), is.updated)
}

// issueInput is the JSON of a create or an update: fields left out are
// nil (a raw null is "null", which clears).
type issueInput struct {
	Title       json.RawMessage `json:"title"`
	Body        json.RawMessage `json:"body"`
	State       *string         `json:"state"`
	StateReason json.RawMessage `json:"state_reason"`
	Labels      *[]any          `json:"labels"`
	Assignee    json.RawMessage `json:"assignee"`
	Assignees   *[]string       `json:"assignees"`
	Milestone   json.RawMessage `json:"milestone"`
	DuplicateID *int64          `json:"duplicate_issue_id"`
}

// applyInput writes an input to an issue; the first refusal is answered
// with 422 and nothing is changed.
func (e *Emu) applyInput(w http.ResponseWriter, is *issue, in issueInput, u *User, creating bool) bool {
	next := *is
	invalid := func(field, code, msg string) bool {
		writeValidation(w, fieldError{Resource: "Issue", Code: code, Field: field, Message: msg})
		return false
	}
	if in.Title != nil {
		var s string
		if json.Unmarshal(in.Title, &s) != nil {
			var n json.Number
			if json.Unmarshal(in.Title, &n) != nil {
				return invalid("title", "invalid", "")
			}
			s = n.String()
		}
		if strings.TrimSpace(s) == "" {
			return invalid("title", "missing_field", "")
		}
		next.title = s
	} else if creating {
		return invalid("title", "missing_field", "")
	}
	if in.Body != nil {
		var s *string
		if json.Unmarshal(in.Body, &s) != nil {
			return invalid("body", "invalid", "")
		}
		if s != nil && len([]rune(*s)) > maxBody {
			return invalid("body", "custom", fmt.Sprintf("body is too long (maximum is %d characters)", maxBody))
		}
		next.body = s
	}
	if in.State != nil {
		switch *in.State {
		case "open", "closed":
		default:
			return invalid("state", "invalid", "")
		}
	}
	var reason *string
	hasReason := in.StateReason != nil
	if hasReason && json.Unmarshal(in.StateReason, &reason) != nil {
		return invalid("state_reason", "invalid", "")
	}
	if reason != nil {
		switch *reason {
		case "completed", "not_planned", "reopened":
		case "duplicate":
			if in.DuplicateID == nil {
				return invalid("duplicate_issue_id", "missing_field", "duplicate_issue_id is required when state_reason is duplicate")
			}
		default:
			return invalid("state_reason", "invalid", "")
		}
	}
	newState := is.state
	if in.State != nil {
		newState = *in.State
	}
	if newState != is.state || (hasReason && newState == "closed") {
		now := e.now()
		switch newState {
		case "closed":
			r := "completed"
			if reason != nil && *reason != "reopened" {
				r = *reason
			}
			next.state, next.stateReason, next.closedAt, next.closedBy = "closed", &r, &now, u.Login
		case "open":
			r := "reopened"
			next.state, next.stateReason, next.closedAt, next.closedBy = "open", &r, nil, ""
		}
	}
	// Labels, assignees and milestone are silently dropped for users
	// without triage access ("Create an issue": only users with push
	// access can set them).
	mayTriage := can(u, Triage)
	if in.Labels != nil && mayTriage {
		next.labels = nil
		for _, v := range *in.Labels {
			name, _ := v.(string)
			if m, ok := v.(map[string]any); ok {
				name, _ = m["name"].(string)
			}
			if strings.TrimSpace(name) == "" {
				return invalid("labels", "invalid", "")
			}
			i := slices.IndexFunc(is.repo.labels, func(l *label) bool { return strings.EqualFold(l.name, name) })
			var l *label
			if i >= 0 {
				l = is.repo.labels[i]
			} else if can(u, Write) {
				// A label that does not exist is created, colour ededed.
				l = &label{id: e.newID(), name: name, color: "ededed"}
				is.repo.labels = append(is.repo.labels, l)
			} else {
				continue
			}
			if !slices.Contains(next.labels, l) {
				next.labels = append(next.labels, l)
			}
		}
	}
	var assignees *[]string
	if in.Assignee != nil {
		var a *string
		if json.Unmarshal(in.Assignee, &a) != nil {
			return invalid("assignee", "invalid", "")
		}
		list := []string{}
		if a != nil && *a != "" {
			list = []string{*a}
		}
		assignees = &list
	}
	if in.Assignees != nil {
		assignees = in.Assignees
	}
	if assignees != nil && mayTriage {
		next.assignees = []string{}
		for _, a := range *assignees {
			if !slices.ContainsFunc(e.assignable(), func(x string) bool { return strings.EqualFold(x, a) }) {
				writeValidation(w, fieldError{Resource: "Issue", Code: "invalid", Field: "assignees", Message: a + " is not assignable"})
				return false
			}
			if !slices.Contains(next.assignees, e.user(a).Login) {
				next.assignees = append(next.assignees, e.user(a).Login)
			}
		}
		if len(next.assignees) > 10 {
			return invalid("assignees", "invalid", "an issue has at most 10 assignees")
		}
	}
	if in.Milestone != nil && mayTriage {
		var n *int
		if json.Unmarshal(in.Milestone, &n) != nil {
			var s string
			if json.Unmarshal(in.Milestone, &s) != nil {
				return invalid("milestone", "invalid", "")
			}
			v, err := strconv.Atoi(s)
			if err != nil {
				return invalid("milestone", "invalid", "")
			}
			n = &v
		}
		next.milestone = nil
		if n != nil {
			i := slices.IndexFunc(is.repo.milestones, func(m *milestone) bool { return m.number == *n })
			if i < 0 {
				return invalid("milestone", "invalid", "")
			}
			next.milestone = is.repo.milestones[i]
		}
	}
	*is = next
	return true
}

func decodeInput(w http.ResponseWriter, r *http.Request) (issueInput, bool) {
	var in issueInput
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return in, false
	}
	return in, true
}

// writable answers the refusals of a repository that takes no writes.
func writable(w http.ResponseWriter, rp *repo) bool {
	switch {
	case rp.noIssues:
		writeError(w, http.StatusGone, "Issues are disabled for this repo")
	case rp.archived:
		writeError(w, http.StatusForbidden, "Repository was archived so is read-only.")
	default:
		return true
	}
	return false
}

func (e *Emu) createIssue(w http.ResponseWriter, r *http.Request, u *User) {
	in, ok := decodeInput(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := e.repoOf(w, r)
	if rp == nil || !writable(w, rp) {
		return
	}
	in.State, in.StateReason = nil, nil // a create has no state
	is := &issue{repo: rp, id: e.newID(), number: rp.nextNumber, state: "open", author: u.Login, assignees: []string{}, created: e.now()}
	if !e.applyInput(w, is, in, u, true) {
		return
	}
	rp.nextNumber++
	rp.issues[is.number] = is
	e.issues[is.id] = is
	e.touch(is)
	out := e.issueJSON(is)
	w.Header().Set("Location", e.apiURL(is.path()))
	writeJSON(w, http.StatusCreated, out)
	e.deliver(rp, "issues", "opened", is, nil, u)
}

func (e *Emu) updateIssue(w http.ResponseWriter, r *http.Request, u *User) {
	in, ok := decodeInput(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.issueOf(w, r)
	if is == nil || !writable(w, is.repo) {
		return
	}
	before, _ := json.Marshal(e.issueJSON(is))
	oldState := is.state
	if !e.applyInput(w, is, in, u, false) {
		return
	}
	action := "edited"
	if after, _ := json.Marshal(e.issueJSON(is)); string(after) != string(before) {
		e.touch(is)
		switch {
		case oldState == "open" && is.state == "closed":
			action = "closed"
		case oldState == "closed" && is.state == "open":
			action = "reopened"
		}
		defer e.deliver(is.repo, "issues", action, is, nil, u)
	}
	writeJSON(w, http.StatusOK, e.issueJSON(is))
}

// graphql serves the one mutation the connector makes: deleteIssue, for
// repository administrators.
func (e *Emu) graphql(w http.ResponseWriter, r *http.Request, u *User) {
	var in struct {
		Query     string            `json:"query"`
		Variables map[string]string `json:"variables"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	fail := func(typ, msg string) {
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"deleteIssue": nil},
			"errors": []any{map[string]any{"type": typ, "path": []string{"deleteIssue"}, "message": msg}}})
	}
	if !strings.Contains(in.Query, "deleteIssue") {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []any{map[string]any{"message": "this emulator serves only deleteIssue"}}})
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var target *issue
	for _, is := range e.issues {
		if nodeID(is.id) == in.Variables["id"] && !is.deleted {
			target = is
		}
	}
	switch {
	case target == nil:
		fail("NOT_FOUND", fmt.Sprintf("Could not resolve to a node with the global id of '%s'", in.Variables["id"]))
	case !can(u, Admin):
		fail("FORBIDDEN", u.Login+" does not have the correct permissions to execute `DeleteIssue`")
	default:
		target.deleted = true
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"deleteIssue": map[string]any{"clientMutationId": nil}}})
		e.deliver(target.repo, "issues", "deleted", target, nil, u)
	}
}

// Issue is an issue as tests see it.
type Issue struct {
	Number    int
	Title     string
	Body      string
	State     string
	Labels    []string
	Assignees []string
	Updated   time.Time
	Comments  []string // bodies, oldest first
	Pull      bool
	Deleted   bool
}

// Issues returns a repository's issues by number, for tests.
func (e *Emu) Issues(fullName string) []Issue {
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := e.repos[strings.ToLower(fullName)]
	if rp == nil {
		return nil
	}
	var out []Issue
	for _, is := range rp.issues {
		x := Issue{Number: is.number, Title: is.title, State: is.state, Assignees: slices.Clone(is.assignees),
			Updated: is.updated, Pull: is.pull, Deleted: is.deleted}
		if is.body != nil {
			x.Body = *is.body
		}
		for _, l := range is.labels {
			x.Labels = append(x.Labels, l.name)
		}
		for _, id := range is.comments {
			x.Comments = append(x.Comments, e.comments[id].body)
		}
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b Issue) int { return a.Number - b.Number })
	return out
}

// Seed makes an issue (or pull request) directly, as a person would on the
// site, without a request; it returns its number.
func (e *Emu) Seed(fullName, author string, x Issue) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := e.repos[strings.ToLower(fullName)]
	if rp == nil {
		panic("ghemu: no repository " + fullName)
	}
	is := &issue{repo: rp, id: e.newID(), number: rp.nextNumber, title: x.Title, state: "open", author: author,
		assignees: slices.Clone(x.Assignees), created: e.now(), pull: x.Pull}
	if x.Assignees == nil {
		is.assignees = []string{}
	}
	if x.Body != "" {
		b := x.Body
		is.body = &b
	}
	if x.State == "closed" {
		r, now := "completed", e.now()
		is.state, is.stateReason, is.closedAt = "closed", &r, &now
	}
	for _, name := range x.Labels {
		i := slices.IndexFunc(rp.labels, func(l *label) bool { return l.name == name })
		if i < 0 {
			rp.labels = append(rp.labels, &label{id: e.newID(), name: name, color: "ededed"})
			i = len(rp.labels) - 1
		}
		is.labels = append(is.labels, rp.labels[i])
	}
	rp.nextNumber++
	rp.issues[is.number] = is
	e.issues[is.id] = is
	e.touch(is)
	return is.number
}

// Edit changes an issue as a person would on the site: title and body when
// not empty, state when not empty.
func (e *Emu) Edit(fullName string, number int, title, body, state string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.repos[strings.ToLower(fullName)].issues[number]
	if title != "" {
		is.title = title
	}
	if body != "" {
		is.body = &body
	}
	if state != "" && state != is.state {
		r := "completed"
		if state == "open" {
			r = "reopened"
		}
		is.state, is.stateReason = state, &r
	}
	e.touch(is)
}
