package gitlabemu

import (
	"net/http"
	"sort"
	"strings"
)

func (e *Emu) currentUser(w http.ResponseWriter, _ *http.Request, u *User) {
	j := e.userJSON(u)
	j["email"] = u.Email // a user sees their own email
	j["is_admin"] = u.Admin
	writeJSON(w, http.StatusOK, j)
}

func (e *Emu) version(w http.ResponseWriter, _ *http.Request, _ *User) {
	writeJSON(w, http.StatusOK, map[string]string{"version": e.o.Version, "revision": "6f4a0b1c"})
}

func (e *Emu) tokenSelf(w http.ResponseWriter, _ *http.Request, u *User) {
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID + 1000, "name": "lockstep", "revoked": false, "active": true,
		"scopes": u.Scopes, "user_id": u.ID, "created_at": "2026-01-05T10:00:00.000Z", "last_used_at": nil, "expires_at": "2027-01-05"})
}

// searchUsers answers GET /users?username= (exact) and ?search= (user
// name, name, or a public email, which is all a non-administrator can
// match).
func (e *Emu) searchUsers(w http.ResponseWriter, r *http.Request, _ *User) {
	q := r.URL.Query()
	items := []any{}
	for i := range e.o.Users {
		x := &e.o.Users[i]
		switch {
		case q.Get("username") != "":
			if !strings.EqualFold(x.Username, q.Get("username")) {
				continue
			}
		case q.Get("search") != "":
			s := strings.ToLower(q.Get("search"))
			if !strings.Contains(strings.ToLower(x.Username), s) && !strings.Contains(strings.ToLower(x.Name), s) && !strings.EqualFold(x.Email, s) {
				continue
			}
		}
		items = append(items, e.userJSON(x))
	}
	e.writePage(w, r, items)
}

func (e *Emu) projectJSON(p *project) map[string]any {
	ns, name, _ := strings.Cut(p.Path, "/")
	if i := strings.LastIndex(p.Path, "/"); i >= 0 {
		ns, name = p.Path[:i], p.Path[i+1:]
	}
	return map[string]any{"id": p.ID, "name": p.Name, "path": name, "path_with_namespace": p.Path,
		"name_with_namespace": p.Name, "web_url": e.URL() + "/" + p.Path, "visibility": "private",
		"namespace": map[string]any{"full_path": ns, "path": ns, "kind": "group"}, "issues_enabled": true}
}

func (e *Emu) getProject(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, _ := e.projectOf(w, r, u); p != nil {
		writeJSON(w, http.StatusOK, e.projectJSON(p))
	}
}

func (e *Emu) members(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, _ := e.projectOf(w, r, u)
	if p == nil {
		return
	}
	var names []string
	for n := range p.Members {
		names = append(names, n)
	}
	sort.Strings(names)
	items := []any{}
	for _, n := range names {
		if m := e.userByName(n); m != nil {
			j := e.userJSON(m)
			j["access_level"] = p.Members[n]
			items = append(items, j)
		}
	}
	e.writePage(w, r, items)
}

func (e *Emu) labelsList(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, _ := e.projectOf(w, r, u)
	if p == nil {
		return
	}
	items := []any{}
	for i, l := range p.labels {
		items = append(items, map[string]any{"id": i + 1, "name": l, "color": "#6699cc", "description": nil})
	}
	e.writePage(w, r, items)
}

func (e *Emu) milestonesList(w http.ResponseWriter, r *http.Request, u *User) {
	state := r.URL.Query().Get("state")
	e.mu.Lock()
	defer e.mu.Unlock()
	p, _ := e.projectOf(w, r, u)
	if p == nil {
		return
	}
	items := []any{}
	for _, m := range p.milestones {
		if state != "" && state != m.State {
			continue
		}
		items = append(items, map[string]any{"id": m.ID, "iid": m.IID, "project_id": p.ID, "title": m.Title, "state": m.State, "due_date": nil})
	}
	e.writePage(w, r, items)
}
