package ghemu

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

type label struct {
	id          int64
	name, color string
	description *string
}

type milestone struct {
	number int
	title  string
	state  string
}

type repo struct {
	id          int64
	owner, name string
	noIssues    bool
	archived    bool
	labels      []*label
	milestones  []*milestone
	issues      map[int]*issue // by number
	nextNumber  int
	hooks       map[int64]*hook
}

func (r *repo) fullName() string { return r.owner + "/" + r.name }

func (e *Emu) addRepo(r Repo) *repo {
	rp := &repo{id: e.newID(), owner: r.Owner, name: r.Name, noIssues: r.NoIssues, archived: r.Archived,
		issues: map[int]*issue{}, nextNumber: 1, hooks: map[int64]*hook{}}
	names := r.Labels
	if names == nil {
		names = []string{"bug", "documentation", "enhancement"}
	}
	for _, n := range names {
		rp.labels = append(rp.labels, &label{id: e.newID(), name: n, color: "d73a4a"})
	}
	for i, t := range r.Milestones {
		rp.milestones = append(rp.milestones, &milestone{number: i + 1, title: t, state: "open"})
	}
	e.repos[strings.ToLower(rp.fullName())] = rp
	return rp
}

// repoOf finds the repository a request names, by owner and name or (in a
// Link header's URL) by id; it answers 404 itself.
func (e *Emu) repoOf(w http.ResponseWriter, r *http.Request) *repo {
	if id := r.PathValue("id"); id != "" && strings.Contains(r.URL.Path, "/repositories/") {
		for _, rp := range e.repos {
			if strconv.FormatInt(rp.id, 10) == id {
				return rp
			}
		}
	} else if rp, ok := e.repos[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("repo"))]; ok {
		return rp
	}
	writeError(w, http.StatusNotFound, "Not Found")
	return nil
}

func (e *Emu) user(login string) *User {
	for i := range e.o.Users {
		if strings.EqualFold(e.o.Users[i].Login, login) {
			return &e.o.Users[i]
		}
	}
	return nil
}

// userJSON is a user as issues show it (a simple user: no name, no email).
func (e *Emu) userJSON(login string) map[string]any {
	if login == "" {
		return nil
	}
	id := int64(0)
	for i, u := range e.o.Users {
		if strings.EqualFold(u.Login, login) {
			login, id = u.Login, int64(i+1)
		}
	}
	return map[string]any{"login": login, "id": id, "node_id": "U_" + strconv.FormatInt(id, 10), "type": "User",
		"url": e.apiURL("/users/" + login), "html_url": e.htmlURL("/" + login), "site_admin": false}
}

func (e *Emu) getMe(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	out := e.userJSON(u.Login)
	e.mu.Unlock()
	out["name"], out["email"] = u.Name, nilIfEmpty(u.Email)
	writeGet(w, r, out, time.Time{})
}

// getUser is GET /users/{login}: a user, or an organization that owns a
// repository.
func (e *Emu) getUser(w http.ResponseWriter, r *http.Request, _ *User) {
	login := r.PathValue("login")
	e.mu.Lock()
	defer e.mu.Unlock()
	if u := e.user(login); u != nil {
		out := e.userJSON(u.Login)
		out["name"], out["email"] = u.Name, nilIfEmpty(u.Email)
		writeGet(w, r, out, time.Time{})
		return
	}
	for _, rp := range e.repos {
		if strings.EqualFold(rp.owner, login) {
			writeGet(w, r, map[string]any{"login": rp.owner, "id": 1, "type": "Organization",
				"url": e.apiURL("/users/" + rp.owner), "html_url": e.htmlURL("/" + rp.owner)}, time.Time{})
			return
		}
	}
	writeError(w, http.StatusNotFound, "Not Found")
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (e *Emu) getRepo(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := e.repoOf(w, r)
	if rp == nil {
		return
	}
	p := perm(u)
	writeGet(w, r, map[string]any{
		"id": rp.id, "name": rp.name, "full_name": rp.fullName(), "private": false, "owner": map[string]any{"login": rp.owner},
		"has_issues": !rp.noIssues, "archived": rp.archived, "html_url": e.htmlURL("/" + rp.fullName()),
		"url": e.apiURL("/repos/" + rp.fullName()),
		"permissions": map[string]bool{"admin": p == Admin, "maintain": p == Admin, "push": can(u, Write),
			"triage": can(u, Triage), "pull": true},
	}, time.Time{})
}

func (e *Emu) labelJSON(rp *repo, l *label) map[string]any {
	return map[string]any{"id": l.id, "node_id": "LA_" + strconv.FormatInt(l.id, 10), "name": l.name, "color": l.color,
		"default": false, "description": l.description, "url": e.apiURL("/repos/" + rp.fullName() + "/labels/" + l.name)}
}

func (e *Emu) milestoneJSON(rp *repo, m *milestone) map[string]any {
	if m == nil {
		return nil
	}
	return map[string]any{"number": m.number, "title": m.title, "state": m.state,
		"url": e.apiURL("/repos/" + rp.fullName() + "/milestones/" + strconv.Itoa(m.number))}
}

func (e *Emu) listLabels(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := e.repoOf(w, r)
	if rp == nil {
		return
	}
	perPage, page, ok := e.pageOf(w, r)
	if !ok {
		return
	}
	from, to := paginate(w, r, e.apiURL(r.URL.Path[len(e.o.PathPrefix):]), len(rp.labels), perPage, page)
	out := []any{}
	for _, l := range rp.labels[from:to] {
		out = append(out, e.labelJSON(rp, l))
	}
	writeGet(w, r, out, time.Time{})
}

// listMilestones lists open milestones, or those of ?state=closed|all.
func (e *Emu) listMilestones(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := e.repoOf(w, r)
	if rp == nil {
		return
	}
	state := r.URL.Query().Get("state")
	if state == "" {
		state = "open"
	}
	var list []*milestone
	for _, m := range rp.milestones {
		if state == "all" || m.state == state {
			list = append(list, m)
		}
	}
	perPage, page, ok := e.pageOf(w, r)
	if !ok {
		return
	}
	from, to := paginate(w, r, e.apiURL(r.URL.Path[len(e.o.PathPrefix):]), len(list), perPage, page)
	out := []any{}
	for _, m := range list[from:to] {
		out = append(out, e.milestoneJSON(rp, m))
	}
	writeGet(w, r, out, time.Time{})
}

// assignable lists who can be assigned: users with push access or triage.
func (e *Emu) assignable() []string {
	var out []string
	for _, u := range e.o.Users {
		if can(&u, Triage) {
			out = append(out, u.Login)
		}
	}
	slices.Sort(out)
	return out
}

func (e *Emu) listAssignees(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.repoOf(w, r) == nil {
		return
	}
	perPage, page, ok := e.pageOf(w, r)
	if !ok {
		return
	}
	logins := e.assignable()
	from, to := paginate(w, r, e.apiURL(r.URL.Path[len(e.o.PathPrefix):]), len(logins), perPage, page)
	out := []any{}
	for _, l := range logins[from:to] {
		out = append(out, e.userJSON(l))
	}
	writeGet(w, r, out, time.Time{})
}

func lower(s string) string { return strings.ToLower(s) }
