package sandbox

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func (s *Server) getMyself(w http.ResponseWriter, r *http.Request, tok Token) {
	u, err := s.store.User(tok.User)
	if err != nil {
		u = User{ID: tok.User, Name: tok.User}
	}
	writeJSON(w, http.StatusOK, struct {
		User
		ReadOnly bool `json:"readOnly"`
	}{u, tok.ReadOnly})
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ Token) {
	writeJSON(w, http.StatusOK, map[string][]User{"users": s.store.Users()})
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request, _ Token) {
	writeJSON(w, http.StatusOK, map[string][]Project{"projects": s.store.Projects()})
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request, _ Token) {
	var p Project
	if err := decode(w, r, &p); err != nil {
		writeError(w, err)
		return
	}
	p, err := s.store.CreateProject(p)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request, _ Token) {
	p, err := s.store.Project(r.PathValue("key"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// SchemaField describes one item field in a project's schema.
type SchemaField struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Type     string   `json:"type"` // string, markdown, enum, user, labels, date, datetime, number, bool
	Values   []string `json:"values,omitempty"`
	Required bool     `json:"required,omitempty"`
	ReadOnly bool     `json:"readOnly,omitempty"`
	Custom   bool     `json:"custom,omitempty"`
}

// Schema is what GET /api/projects/{key}/schema answers.
type Schema struct {
	Project   string        `json:"project"`
	Types     []string      `json:"types"`
	Fields    []SchemaField `json:"fields"`
	LinkTypes []string      `json:"linkTypes"`
	Users     []User        `json:"users"`
}

// ProjectSchema describes a project's items.
func (s *Server) ProjectSchema(key string) (Schema, error) {
	p, err := s.store.Project(key)
	if err != nil {
		return Schema{}, err
	}
	fields := []SchemaField{
		{Name: "key", Label: "Key", Type: "string", ReadOnly: true},
		{Name: "title", Label: "Title", Type: "string", Required: true},
		{Name: "description", Label: "Description", Type: "markdown"},
		{Name: "status", Label: "Status", Type: "enum", Values: p.Statuses},
		{Name: "priority", Label: "Priority", Type: "enum", Values: Priorities},
		{Name: "assignee", Label: "Assignee", Type: "user"},
		{Name: "labels", Label: "Labels", Type: "labels"},
		{Name: "dueDate", Label: "Due date", Type: "date"},
		{Name: "created", Label: "Created", Type: "datetime", ReadOnly: true},
		{Name: "updated", Label: "Updated", Type: "datetime", ReadOnly: true},
	}
	for _, f := range p.CustomFields {
		fields = append(fields, SchemaField{Name: f.Name, Label: f.Label, Type: f.Type, Values: f.Values, Custom: true})
	}
	return Schema{Project: p.Key, Types: p.Types, Fields: fields, LinkTypes: LinkTypes, Users: s.store.Users()}, nil
}

func (s *Server) getSchema(w http.ResponseWriter, r *http.Request, _ Token) {
	sc, err := s.ProjectSchema(r.PathValue("key"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sc)
}

func (s *Server) listItems(w http.ResponseWriter, r *http.Request, _ Token) {
	q := r.URL.Query()
	query := Query{Project: q.Get("project"), Cursor: q.Get("cursor"), RemoteLinkGlobalID: q.Get("remote_link_global_id"),
		RemoteLinks: q.Get("expand") == "remoteLinks", IncludeDeleted: q.Get("include_deleted") == "true"}
	if v := q.Get("expand"); v != "" && v != "remoteLinks" {
		writeError(w, invalid("expand", "must be remoteLinks"))
		return
	}
	if v := q.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeError(w, invalid("updated_since", "must be an RFC 3339 time"))
			return
		}
		query.UpdatedSince = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeError(w, invalid("limit", "must be a whole number"))
			return
		}
		query.Limit = n
	}
	page, err := s.store.ListItems(query)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func writeItem(w http.ResponseWriter, status int, it Item) {
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(it.Version, 10)))
	if status == http.StatusCreated {
		w.Header().Set("Location", "/api/items/"+strconv.FormatInt(it.ID, 10))
	}
	writeJSON(w, status, it)
}

func (s *Server) createItem(w http.ResponseWriter, r *http.Request, _ Token) {
	var n NewItem
	if err := decode(w, r, &n); err != nil {
		writeError(w, err)
		return
	}
	it, err := s.store.CreateItem(n)
	if err != nil {
		writeError(w, err)
		return
	}
	writeItem(w, http.StatusCreated, it)
}

func (s *Server) getItem(w http.ResponseWriter, r *http.Request, _ Token) {
	expand := r.URL.Query().Get("expand")
	if expand != "" && expand != "remoteLinks" {
		writeError(w, invalid("expand", "must be remoteLinks"))
		return
	}
	it, err := s.store.getItem(r.PathValue("id"), expand == "remoteLinks")
	if err != nil {
		writeError(w, err)
		return
	}
	writeItem(w, http.StatusOK, it)
}

func (s *Server) deleteItem(w http.ResponseWriter, r *http.Request, _ Token) {
	if err := s.store.DeleteItem(r.PathValue("id")); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) patchItem(w http.ResponseWriter, r *http.Request, _ Token) {
	var ifVersion int64
	if v := r.Header.Get("If-Match"); v != "" {
		n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(v, "W/"), `"`), 10, 64)
		if err != nil || n < 1 {
			writeError(w, invalid("If-Match", "must be an item version"))
			return
		}
		ifVersion = n
	}
	var raw map[string]json.RawMessage
	if err := decode(w, r, &raw); err != nil {
		writeError(w, err)
		return
	}
	patch, perr := decodePatch(raw)
	if perr != nil {
		writeError(w, perr)
		return
	}
	it, err := s.store.UpdateItem(r.PathValue("id"), patch, ifVersion)
	if err != nil {
		writeError(w, err)
		return
	}
	writeItem(w, http.StatusOK, it)
}

// decodePatch reads a merge patch: members present change, null clears a
// clearable field, absent members stay.
func decodePatch(raw map[string]json.RawMessage) (Patch, *Error) {
	var p Patch
	for name, v := range raw {
		isNull := string(v) == "null"
		var err error
		switch name {
		case "type", "title", "status", "priority":
			if isNull {
				return p, invalid(name, "cannot be cleared")
			}
			var str string
			err = json.Unmarshal(v, &str)
			switch name {
			case "type":
				p.Type = &str
			case "title":
				p.Title = &str
			case "status":
				p.Status = &str
			case "priority":
				p.Priority = &str
			}
		case "description", "assignee", "dueDate":
			var str string
			if !isNull {
				err = json.Unmarshal(v, &str)
			}
			switch name {
			case "description":
				p.Description = &str
			case "assignee":
				p.Assignee = &str
			case "dueDate":
				p.DueDate = &str
			}
		case "labels":
			labels := []string{}
			if !isNull {
				err = json.Unmarshal(v, &labels)
			}
			p.Labels = &labels
		case "customFields":
			err = json.Unmarshal(v, &p.CustomFields)
		case "id", "key", "project", "created", "updated", "version":
			return p, invalid(name, "is read-only")
		default:
			return p, invalid(name, "is not a field of an item")
		}
		if err != nil {
			return p, invalid(name, "has the wrong type")
		}
	}
	return p, nil
}
