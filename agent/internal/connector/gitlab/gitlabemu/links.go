package gitlabemu

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// link is an issue link. "is_blocked_by" is stored as "blocks" with source
// and target swapped, as GitLab does.
type link struct {
	ID             int
	Source, Target int // issue ids
	Type           string
	CreatedAt      time.Time
}

// linkTypeFrom is how a link reads from the issue with id.
func (l *link) typeFrom(id int) string {
	if l.Type == "blocks" && l.Target == id {
		return "is_blocked_by"
	}
	return l.Type
}

func (e *Emu) ref(from, to *issue) string {
	if from.ProjectID == to.ProjectID {
		return fmt.Sprintf("#%d", to.IID)
	}
	return fmt.Sprintf("%s#%d", e.projects[to.ProjectID].Path, to.IID)
}

func (e *Emu) listLinks(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _, is := e.issueAt(w, r, u)
	if is == nil {
		return
	}
	var list []*link
	for _, l := range e.links {
		if l.Source == is.ID || l.Target == is.ID {
			list = append(list, l)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	out := []any{}
	for _, l := range list {
		other := e.issues[l.Target]
		if l.Target == is.ID {
			other = e.issues[l.Source]
		}
		if other == nil || e.projects[other.ProjectID].Members[u.Username] == 0 && !u.Admin {
			continue // issues the user cannot see are left out
		}
		j := e.issueJSON(other)
		j["issue_link_id"] = l.ID
		j["link_type"] = l.typeFrom(is.ID)
		j["link_created_at"] = e.stamp(l.CreatedAt)
		j["link_updated_at"] = e.stamp(l.CreatedAt)
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emu) createLink(w http.ResponseWriter, r *http.Request, u *User) {
	in, err := decodeBody(r)
	if err != nil {
		message(w, http.StatusBadRequest, "400 Bad request - "+err.Error())
		return
	}
	targetProject, ok := param(in, "target_project_id")
	if !ok {
		paramError(w, "target_project_id is missing")
		return
	}
	targetIID, ok := param(in, "target_issue_iid")
	if !ok {
		paramError(w, "target_issue_iid is missing")
		return
	}
	typ, given := param(in, "link_type")
	if !given {
		typ = "relates_to"
	}
	if typ != "relates_to" && typ != "blocks" && typ != "is_blocked_by" {
		paramError(w, "link_type does not have a valid value")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, level, is := e.issueAt(w, r, u)
	if is == nil {
		return
	}
	if given && typ != "relates_to" && !e.o.Premium {
		message(w, http.StatusForbidden, "Blocked issues not available for current license")
		return
	}
	var target *issue
	for _, x := range e.projects {
		if fmt.Sprint(x.ID) != targetProject && x.Path != targetProject {
			continue
		}
		n, _ := strconv.Atoi(targetIID)
		for _, t := range e.issues {
			if t.ProjectID == x.ID && t.IID == n && (x.Members[u.Username] > 0 || u.Admin) {
				target = t
			}
		}
	}
	if target == nil {
		message(w, http.StatusNotFound, "No matching issue found. Make sure that you are adding a valid issue URL.")
		return
	}
	if level < Reporter || e.projects[target.ProjectID].Members[u.Username] < Reporter && !u.Admin {
		forbidden(w)
		return
	}
	if target.ID == is.ID {
		message(w, http.StatusBadRequest, "Cannot link an issue to itself")
		return
	}
	for _, l := range e.links {
		if l.Source == is.ID && l.Target == target.ID || l.Source == target.ID && l.Target == is.ID {
			message(w, http.StatusConflict, "Issue(s) already assigned")
			return
		}
	}
	l := &link{ID: e.newID("link"), Source: is.ID, Target: target.ID, Type: typ, CreatedAt: e.now()}
	if typ == "is_blocked_by" {
		l.Source, l.Target, l.Type = target.ID, is.ID, "blocks"
	}
	e.links[l.ID] = l
	e.linkNotes(is, target, u, "marked this issue as related to "+e.ref(is, target), "marked this issue as related to "+e.ref(target, is))
	writeJSON(w, http.StatusCreated, map[string]any{"source_issue": e.issueJSON(e.issues[l.Source]),
		"target_issue": e.issueJSON(e.issues[l.Target]), "link_type": typ})
}

// linkNotes writes the system notes a link change leaves on both issues
// (they move both issues' updated_at).
func (e *Emu) linkNotes(a, b *issue, u *User, onA, onB string) {
	now := e.now()
	for _, x := range []struct {
		is   *issue
		body string
	}{{a, onA}, {b, onB}} {
		x.is.notes = append(x.is.notes, &note{ID: e.newID("note"), Body: x.body, Author: u.ID, System: true, CreatedAt: now, UpdatedAt: now})
		e.touch(x.is)
	}
}

func (e *Emu) deleteLink(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, level, is := e.issueAt(w, r, u)
	if is == nil {
		return
	}
	id, _ := strconv.Atoi(r.PathValue("link"))
	l := e.links[id]
	if l == nil || (l.Source != is.ID && l.Target != is.ID) {
		message(w, http.StatusNotFound, "404 Not found")
		return
	}
	if level < Reporter {
		forbidden(w)
		return
	}
	typ := l.typeFrom(is.ID)
	other := e.issues[l.Target]
	if l.Target == is.ID {
		other = e.issues[l.Source]
	}
	delete(e.links, id)
	e.linkNotes(is, other, u, "removed the relation with "+e.ref(is, other), "removed the relation with "+e.ref(other, is))
	writeJSON(w, http.StatusOK, map[string]any{"source_issue": e.issueJSON(e.issues[l.Source]),
		"target_issue": e.issueJSON(e.issues[l.Target]), "link_type": typ})
}
