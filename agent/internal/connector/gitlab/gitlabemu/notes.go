package gitlabemu

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

type note struct {
	ID        int
	Body      string
	Author    int
	System    bool
	Internal  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (e *Emu) noteJSON(is *issue, n *note) map[string]any {
	return map[string]any{
		"id": n.ID, "type": nil, "body": n.Body, "attachment": nil, "author": e.userJSON(e.user(n.Author)),
		"created_at": e.stamp(n.CreatedAt), "updated_at": e.stamp(n.UpdatedAt), "system": n.System,
		"noteable_id": is.ID, "noteable_type": "Issue", "noteable_iid": is.IID, "project_id": is.ProjectID,
		"resolvable": false, "confidential": n.Internal, "internal": n.Internal,
	}
}

// touch moves an issue's updated_at, as a note saved or destroyed does
// (Note belongs_to its noteable with touch: true).
func (e *Emu) touch(is *issue) { is.UpdatedAt = e.now() }

func (e *Emu) listNotes(w http.ResponseWriter, r *http.Request, u *User) {
	q := r.URL.Query()
	order, dir := q.Get("order_by"), q.Get("sort")
	if order == "" {
		order = "created_at"
	}
	if dir == "" {
		dir = "desc"
	}
	if (order != "created_at" && order != "updated_at") || (dir != "asc" && dir != "desc") {
		paramError(w, "order_by does not have a valid value")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _, is := e.issueAt(w, r, u)
	if is == nil {
		return
	}
	list := slices.Clone(is.notes)
	key := func(n *note) time.Time {
		if order == "updated_at" {
			return n.UpdatedAt
		}
		return n.CreatedAt
	}
	sort.SliceStable(list, func(i, j int) bool {
		if dir == "asc" {
			return key(list[i]).Before(key(list[j])) || key(list[i]).Equal(key(list[j])) && list[i].ID < list[j].ID
		}
		return key(list[i]).After(key(list[j])) || key(list[i]).Equal(key(list[j])) && list[i].ID > list[j].ID
	})
	items := make([]any, 0, len(list))
	for _, n := range list {
		items = append(items, e.noteJSON(is, n))
	}
	e.writePage(w, r, items)
}

func (e *Emu) noteOf(w http.ResponseWriter, r *http.Request, is *issue) *note {
	id, err := strconv.Atoi(r.PathValue("note"))
	if err == nil {
		for _, n := range is.notes {
			if n.ID == id {
				return n
			}
		}
	}
	message(w, http.StatusNotFound, "404 Note Not Found")
	return nil
}

func (e *Emu) getNote(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, _, is := e.issueAt(w, r, u); is != nil {
		if n := e.noteOf(w, r, is); n != nil {
			writeJSON(w, http.StatusOK, e.noteJSON(is, n))
		}
	}
}

func noteBody(w http.ResponseWriter, in map[string]any) (string, bool) {
	body, ok := param(in, "body")
	if !ok {
		paramError(w, "body is missing")
		return "", false
	}
	switch {
	case body == "":
		fieldErrors(w, map[string][]string{"note": {"can't be blank"}})
		return "", false
	case utf8.RuneCountInString(body) > maxNote:
		fieldErrors(w, map[string][]string{"note": {fmt.Sprintf("is too long (maximum is %d characters)", maxNote)}})
		return "", false
	}
	return body, true
}

func (e *Emu) createNote(w http.ResponseWriter, r *http.Request, u *User) {
	in, err := decodeBody(r)
	if err != nil {
		message(w, http.StatusBadRequest, "400 Bad request - "+err.Error())
		return
	}
	body, ok := noteBody(w, in)
	if !ok || !e.appLimit(w, u, "notes_create", e.o.NoteCreateLimit) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _, is := e.issueAt(w, r, u)
	if is == nil {
		return
	}
	internal, _ := param(in, "internal")
	now := e.now()
	n := &note{ID: e.newID("note"), Body: body, Author: u.ID, Internal: internal == "true", CreatedAt: now, UpdatedAt: now}
	is.notes = append(is.notes, n)
	e.touch(is)
	e.deliverNote(is, n, u)
	writeJSON(w, http.StatusCreated, e.noteJSON(is, n))
}

func (e *Emu) editNote(w http.ResponseWriter, r *http.Request, u *User) {
	in, err := decodeBody(r)
	if err != nil {
		message(w, http.StatusBadRequest, "400 Bad request - "+err.Error())
		return
	}
	body, ok := noteBody(w, in)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _, is := e.issueAt(w, r, u)
	if is == nil {
		return
	}
	n := e.noteOf(w, r, is)
	if n == nil {
		return
	}
	if n.System || n.Author != u.ID {
		forbidden(w) // only a note's author edits it
		return
	}
	if body != n.Body {
		n.Body, n.UpdatedAt = body, e.now()
		e.touch(is)
		e.deliverNote(is, n, u)
	}
	writeJSON(w, http.StatusOK, e.noteJSON(is, n))
}

func (e *Emu) deleteNote(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, level, is := e.issueAt(w, r, u)
	if is == nil {
		return
	}
	n := e.noteOf(w, r, is)
	if n == nil {
		return
	}
	if n.System || (n.Author != u.ID && level < Maintainer) {
		forbidden(w)
		return
	}
	is.notes = slices.DeleteFunc(is.notes, func(x *note) bool { return x == n })
	e.touch(is)
	w.WriteHeader(http.StatusNoContent)
}

// AddNote adds a note as user would through the UI, for tests.
func (e *Emu) AddNote(projectID, iid int, username, body string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.userByName(username)
	for _, is := range e.issues {
		if is.ProjectID == projectID && is.IID == iid {
			now := e.now()
			n := &note{ID: e.newID("note"), Body: body, Author: u.ID, CreatedAt: now, UpdatedAt: now}
			is.notes = append(is.notes, n)
			e.touch(is)
			e.deliverNote(is, n, u)
			return n.ID
		}
	}
	return 0
}

// Notes returns the bodies of an issue's notes, system notes included
// (prefixed "system: "), oldest first, for tests.
func (e *Emu) Notes(projectID, iid int) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, is := range e.issues {
		if is.ProjectID == projectID && is.IID == iid {
			for _, n := range is.notes {
				if n.System {
					out = append(out, "system: "+n.Body)
				} else {
					out = append(out, n.Body)
				}
			}
		}
	}
	return out
}
