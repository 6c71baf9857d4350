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

type comment struct {
	id      int64
	issue   *issue
	body    string
	author  string
	created time.Time
	updated time.Time
}

func (e *Emu) commentJSON(c *comment) map[string]any {
	rp := c.issue.repo
	return map[string]any{
		"id": c.id, "node_id": "IC_" + strconv.FormatInt(c.id, 36), "body": c.body, "user": e.userJSON(c.author),
		"created_at": timeJSON(c.created), "updated_at": timeJSON(c.updated), "author_association": "MEMBER",
		"url":       e.apiURL("/repos/" + rp.fullName() + "/issues/comments/" + strconv.FormatInt(c.id, 10)),
		"html_url":  e.htmlURL("/"+rp.fullName()+"/issues/"+strconv.Itoa(c.issue.number)) + "#issuecomment-" + strconv.FormatInt(c.id, 10),
		"issue_url": e.apiURL(c.issue.path()),
	}
}

// listComments is GET .../issues/{number}/comments: oldest first, paged,
// with since (updated at or after).
func (e *Emu) listComments(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.issueOf(w, r)
	if is == nil {
		return
	}
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeValidation(w, fieldError{Resource: "IssueComment", Code: "invalid", Field: "since"})
			return
		}
		since = t
	}
	var list []*comment
	for _, id := range is.comments {
		if c := e.comments[id]; !c.updated.Before(since) {
			list = append(list, c)
		}
	}
	perPage, page, ok := e.pageOf(w, r)
	if !ok {
		return
	}
	from, to := paginate(w, r, e.apiURL("/repositories/"+strconv.FormatInt(is.repo.id, 10)+"/issues/"+strconv.Itoa(is.number)+"/comments"),
		len(list), perPage, page)
	out := []any{}
	for _, c := range list[from:to] {
		out = append(out, e.commentJSON(c))
	}
	writeGet(w, r, out, time.Time{})
}

func decodeBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Body *string `json:"body"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return "", false
	}
	if in.Body == nil || strings.TrimSpace(*in.Body) == "" {
		writeValidation(w, fieldError{Resource: "IssueComment", Code: "missing_field", Field: "body"})
		return "", false
	}
	if len([]rune(*in.Body)) > maxBody {
		writeValidation(w, fieldError{Resource: "IssueComment", Code: "custom", Field: "body",
			Message: fmt.Sprintf("body is too long (maximum is %d characters)", maxBody)})
		return "", false
	}
	return *in.Body, true
}

func (e *Emu) createComment(w http.ResponseWriter, r *http.Request, u *User) {
	body, ok := decodeBody(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.issueOf(w, r)
	if is == nil || !writable(w, is.repo) {
		return
	}
	if is.locked && !can(u, Write) {
		writeError(w, http.StatusForbidden, "Unable to create comment because issue is locked.")
		return
	}
	now := e.now()
	c := &comment{id: e.newID(), issue: is, body: body, author: u.Login, created: now, updated: now}
	e.comments[c.id] = c
	is.comments = append(is.comments, c.id)
	e.touch(is) // a comment moves the issue's updated_at
	w.Header().Set("Location", e.commentJSON(c)["url"].(string))
	writeJSON(w, http.StatusCreated, e.commentJSON(c))
	e.deliver(is.repo, "issue_comment", "created", is, c, u)
}

// commentOf finds the comment a request names, in the repository it
// names; it answers 404 itself.
func (e *Emu) commentOf(w http.ResponseWriter, r *http.Request) *comment {
	rp := e.repoOf(w, r)
	if rp == nil {
		return nil
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	c := e.comments[id]
	if err != nil || c == nil || c.issue.repo != rp || c.issue.deleted {
		writeError(w, http.StatusNotFound, "Not Found")
		return nil
	}
	return c
}

func (e *Emu) getComment(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.commentOf(w, r); c != nil {
		writeGet(w, r, e.commentJSON(c), c.updated)
	}
}

// mayEdit: authors edit their comments; others need write access.
func mayEdit(w http.ResponseWriter, c *comment, u *User) bool {
	if strings.EqualFold(c.author, u.Login) || can(u, Write) {
		return true
	}
	writeError(w, http.StatusForbidden, "Must have admin rights to Repository.")
	return false
}

func (e *Emu) updateComment(w http.ResponseWriter, r *http.Request, u *User) {
	body, ok := decodeBody(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.commentOf(w, r)
	if c == nil || !writable(w, c.issue.repo) || !mayEdit(w, c, u) {
		return
	}
	if c.body != body {
		c.body, c.updated = body, e.now()
		e.touch(c.issue)
		defer e.deliver(c.issue.repo, "issue_comment", "edited", c.issue, c, u)
	}
	writeJSON(w, http.StatusOK, e.commentJSON(c))
}

func (e *Emu) deleteComment(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.commentOf(w, r)
	if c == nil || !writable(w, c.issue.repo) || !mayEdit(w, c, u) {
		return
	}
	delete(e.comments, c.id)
	c.issue.comments = slices.DeleteFunc(c.issue.comments, func(id int64) bool { return id == c.id })
	e.touch(c.issue)
	w.WriteHeader(http.StatusNoContent)
	e.deliver(c.issue.repo, "issue_comment", "deleted", c.issue, c, u)
}

// Comment adds a comment as a person would on the site, for tests.
func (e *Emu) Comment(fullName string, number int, author, body string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	is := e.repos[strings.ToLower(fullName)].issues[number]
	now := e.now()
	c := &comment{id: e.newID(), issue: is, body: body, author: author, created: now, updated: now}
	e.comments[c.id] = c
	is.comments = append(is.comments, c.id)
	e.touch(is)
}
