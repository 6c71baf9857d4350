package adoemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

type item struct {
	ID        int
	Rev       int
	Project   *project
	Fields    map[string]any
	Relations []map[string]any
}

type attachment struct {
	ID      string
	Name    string
	Data    []byte
	Created time.Time
}

// route dispatches /_apis/<rest> of the organization (proj nil) or a
// project.
func (s *Server) route(w http.ResponseWriter, r *http.Request, proj *project, rest []string) {
	path := strings.ToLower(strings.Join(rest, "/"))
	m := r.Method
	switch {
	case proj == nil && len(rest) == 2 && strings.HasPrefix(path, "projects/") && m == http.MethodGet:
		s.getProject(w, r, rest[1])
	case proj == nil && path == "projects" && m == http.MethodGet:
		s.listProjects(w, r)
	case path == "wit/wiql" && m == http.MethodPost:
		s.wiql(w, r, proj)
	case path == "wit/workitemsbatch" && m == http.MethodPost:
		s.batch(w, r, proj)
	case len(rest) == 3 && strings.HasPrefix(path, "wit/workitems/$") && m == http.MethodPost:
		s.create(w, r, proj, rest[2][1:])
	case len(rest) == 3 && strings.HasPrefix(path, "wit/workitems/"):
		s.workItem(w, r, proj, rest[2])
	case len(rest) == 4 && strings.HasPrefix(path, "wit/workitems/") && rest[3] == "comments":
		s.comments(w, r, proj, rest[2])
	case path == "wit/attachments" && m == http.MethodPost:
		s.upload(w, r)
	case len(rest) == 3 && strings.HasPrefix(path, "wit/attachments/") && m == http.MethodGet:
		s.download(w, r, rest[2])
	case path == "wit/workitemtypes" && proj != nil && m == http.MethodGet:
		s.types(w, r)
	case len(rest) == 4 && strings.HasPrefix(path, "wit/workitemtypes/") && proj != nil && m == http.MethodGet:
		s.typeDetail(w, r, rest[2], strings.ToLower(rest[3]))
	case path == "wit/fields" && m == http.MethodGet:
		s.fields(w, r)
	case path == "wit/workitemrelationtypes" && m == http.MethodGet:
		s.relationTypes(w, r)
	case proj == nil && path == "hooks/subscriptions" && m == http.MethodPost:
		s.subscribe(w, r)
	case proj == nil && len(rest) == 3 && strings.HasPrefix(path, "hooks/subscriptions/"):
		s.subscription(w, r, rest[2])
	default:
		s.fail(w, http.StatusNotFound, "TF400813: The resource cannot be found.", "ResourceNotFoundException", 0)
	}
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request, name string) {
	if !s.apiVersion(w, r, false) {
		return
	}
	s.mu.Lock()
	p := s.projects[strings.ToLower(name)]
	s.mu.Unlock()
	if p == nil {
		s.fail(w, http.StatusNotFound, fmt.Sprintf("TF200016: The following project does not exist: %s. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.", name), "ProjectDoesNotExistWithNameException", 0)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": p.ID, "name": p.Name, "url": s.orgURL() + "/_apis/projects/" + p.ID,
		"state": "wellFormed", "revision": 1, "visibility": "private"})
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) {
	if !s.apiVersion(w, r, false) {
		return
	}
	s.mu.Lock()
	var out []any
	for _, p := range s.projects {
		out = append(out, map[string]any{"id": p.ID, "name": p.Name, "url": s.orgURL() + "/_apis/projects/" + p.ID, "state": "wellFormed"})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "value": out})
}

// view renders an item as the service does: fields, and relations when
// expand asks for them.
func (s *Server) view(it *item, fields []string, relations bool) map[string]any {
	f := map[string]any{}
	if len(fields) > 0 {
		for _, name := range fields {
			for k, v := range it.Fields {
				if equalFold(k, name) {
					f[k] = v
				}
			}
		}
	} else {
		for k, v := range it.Fields {
			f[k] = v
		}
	}
	url := s.orgURL() + "/_apis/wit/workItems/" + strconv.Itoa(it.ID)
	out := map[string]any{"id": it.ID, "rev": it.Rev, "fields": f, "url": url,
		"_links": map[string]any{"self": map[string]string{"href": url},
			"html": map[string]string{"href": s.orgURL() + "/" + it.Project.Name + "/_workitems/edit/" + strconv.Itoa(it.ID)}}}
	if relations {
		rels := make([]map[string]any, len(it.Relations))
		copy(rels, it.Relations)
		out["relations"] = rels
	}
	return out
}

// expand reads $expand: relations for Relations and All.
func expandRelations(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "", "none", "fields", "links":
		return false, true
	case "relations", "all":
		return true, true
	}
	return false, false
}

func (s *Server) workItem(w http.ResponseWriter, r *http.Request, proj *project, idText string) {
	if !s.apiVersion(w, r, false) {
		return
	}
	id, err := strconv.Atoi(idText)
	if err != nil {
		s.fail(w, http.StatusBadRequest, fmt.Sprintf("TF51011: The specified work item id %q is not valid.", idText), "WorkItemIdInvalidException", 0)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.items[id]
	if it == nil || (proj != nil && it.Project != proj) {
		s.failLocked(w, http.StatusNotFound, fmt.Sprintf("TF401232: Work item %d does not exist, or you do not have permissions to read it.", id), "WorkItemUnauthorizedAccessException", 3200)
		return
	}
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		rel, ok := expandRelations(q.Get("$expand"))
		if !ok {
			s.failLocked(w, http.StatusBadRequest, "The value of $expand is not valid.", "VssPropertyValidationException", 0)
			return
		}
		var fields []string
		if f := q.Get("fields"); f != "" {
			if q.Get("$expand") != "" && !strings.EqualFold(q.Get("$expand"), "none") {
				s.failLocked(w, http.StatusBadRequest, "The expand parameter can not be used with the fields parameter.", "ConflictingParametersException", 0)
				return
			}
			fields = strings.Split(f, ",")
		}
		writeJSON(w, http.StatusOK, s.view(it, fields, rel))
	case http.MethodPatch:
		ops, ok := s.readPatch(w, r)
		if !ok {
			return
		}
		if status, msg, key := s.apply(it, ops, false); status != 0 {
			s.failLocked(w, status, msg, key, 0)
			return
		}
		writeJSON(w, http.StatusOK, s.view(it, nil, true))
		s.notifyLocked("workitem.updated", it)
	default:
		s.failLocked(w, http.StatusMethodNotAllowed, "The requested resource does not support http method '"+r.Method+"'.", "VssResourceNotFoundException", 0)
	}
}

type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	From  *string         `json:"from"`
	Value json.RawMessage `json:"value"`
}

func (s *Server) readPatch(w http.ResponseWriter, r *http.Request) ([]patchOp, bool) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json-patch+json") {
		s.failLocked(w, http.StatusUnsupportedMediaType, fmt.Sprintf("The request indicated a Content-Type of %q for method type %q which is not supported. Valid content types for this method are: application/json-patch+json.", ct, r.Method), "VssRequestContentTypeNotSupportedException", 0)
		return nil, false
	}
	var ops []patchOp
	if err := json.NewDecoder(io.LimitReader(r.Body, 32<<20)).Decode(&ops); err != nil || len(ops) == 0 {
		s.failLocked(w, http.StatusBadRequest, "You must pass a valid patch document in the body of the request.", "VssPropertyValidationException", 0)
		return nil, false
	}
	return ops, true
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, proj *project, typeName string) {
	if !s.apiVersion(w, r, false) {
		return
	}
	if proj == nil {
		s.fail(w, http.StatusNotFound, "TF400813: The resource cannot be found.", "ResourceNotFoundException", 0)
		return
	}
	t, ok := typeByName(typeName)
	if !ok {
		s.fail(w, http.StatusNotFound, fmt.Sprintf("VS402323: Work item type %s does not exist in project %s or you do not have permission to access it.", typeName, proj.Name), "WorkItemTypeNotFoundException", 0)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ops, ok := s.readPatch(w, r)
	if !ok {
		return
	}
	now := s.now()
	me := identityRef(s.me(), s.orgURL())
	it := &item{ID: s.nextID, Project: proj, Fields: map[string]any{
		"System.Id": s.nextID, "System.WorkItemType": t.Name, "System.TeamProject": proj.Name,
		"System.AreaPath": proj.Name, "System.IterationPath": proj.Name, "System.State": t.States[0].Name,
		"System.Reason": "New", "System.CreatedDate": now, "System.CreatedBy": me, "System.CommentCount": 0,
		"Microsoft.VSTS.Common.Priority": 2,
	}}
	if status, msg, key := s.apply(it, ops, true); status != 0 {
		s.failLocked(w, status, msg, key, 0)
		return
	}
	s.nextID++
	s.items[it.ID] = it
	writeJSON(w, http.StatusOK, s.view(it, nil, true))
	s.notifyLocked("workitem.created", it)
}

func (s *Server) now() string {
	return s.o.Now().UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

// apply runs a JSON Patch document against a copy of the item and commits
// it, with a new revision, only when every operation succeeded. It returns
// a status and message on failure.
func (s *Server) apply(it *item, ops []patchOp, creating bool) (int, string, string) {
	t, _ := typeByName(fmt.Sprint(it.Fields["System.WorkItemType"]))
	fields := map[string]any{}
	for k, v := range it.Fields {
		fields[k] = v
	}
	rels := append([]map[string]any(nil), it.Relations...)
	var reverse []func()
	history := ""
	for _, op := range ops {
		switch {
		case op.Op == "test" && op.Path == "/rev":
			var rev int
			if json.Unmarshal(op.Value, &rev) != nil || rev != it.Rev {
				return http.StatusPreconditionFailed, "TF26071: This work item has been changed by someone else since you opened it. You will need to refresh it and discard your changes.", "WorkItemRevisionMismatchException"
			}
		case strings.HasPrefix(op.Path, "/fields/"):
			ref := strings.TrimPrefix(op.Path, "/fields/")
			if status, msg, key := s.setField(t, fields, ref, op, &history); status != 0 {
				return status, msg, key
			}
		case op.Path == "/relations/-" && op.Op == "add":
			var rel struct {
				Rel        string         `json:"rel"`
				URL        string         `json:"url"`
				Attributes map[string]any `json:"attributes"`
			}
			if json.Unmarshal(op.Value, &rel) != nil || rel.Rel == "" || rel.URL == "" {
				return http.StatusBadRequest, "VS402625: The relation is not valid: rel and url are required.", "WorkItemLinkInvalidException"
			}
			rt, ok := relTypeByRef(rel.Rel)
			if !ok {
				return http.StatusBadRequest, fmt.Sprintf("TF201063: The link type %q does not exist.", rel.Rel), "WorkItemLinkTypeNotFoundException"
			}
			for _, have := range rels {
				if equalFold(fmt.Sprint(have["rel"]), rt.Ref) && strings.EqualFold(fmt.Sprint(have["url"]), rel.URL) {
					return http.StatusBadRequest, fmt.Sprintf("TF201035: The work item link of type %s to %s already exists.", rt.Ref, rel.URL), "WorkItemLinkAlreadyExistsException"
				}
			}
			attrs := map[string]any{"isLocked": false}
			for k, v := range rel.Attributes {
				attrs[k] = v
			}
			switch rt.Usage {
			case "workItemLink":
				target := s.itemAt(rel.URL)
				if target == nil {
					return http.StatusBadRequest, fmt.Sprintf("TF201040: The work item link target %s does not exist.", rel.URL), "WorkItemLinkInvalidException"
				}
				if target == it {
					return http.StatusBadRequest, "TF201036: You cannot link a work item to itself.", "WorkItemLinkInvalidException"
				}
				attrs["name"] = rt.Name
				opposite := rt.Opposite
				self := s.orgURL() + "/_apis/wit/workItems/" + strconv.Itoa(it.ID)
				reverse = append(reverse, func() {
					target.Relations = append(target.Relations, map[string]any{"rel": opposite, "url": self, "attributes": map[string]any{"isLocked": false}})
					target.Rev++
					target.Fields["System.Rev"] = target.Rev
					target.Fields["System.ChangedDate"] = s.now()
				})
			case "resourceLink":
				if rt.Ref == "AttachedFile" {
					a := s.attachmentAt(rel.URL)
					if a == nil {
						return http.StatusBadRequest, fmt.Sprintf("TF401335: The attachment %s does not exist.", rel.URL), "AttachmentNotFoundException"
					}
					n := 0
					for _, have := range rels {
						if have["rel"] == "AttachedFile" {
							n++
						}
					}
					if n >= 100 {
						return http.StatusBadRequest, "VS403337: A work item cannot have more than 100 attached files.", "WorkItemAttachmentLimitExceededException"
					}
					attrs["name"] = a.Name
					attrs["resourceSize"] = len(a.Data)
					attrs["resourceCreatedDate"] = a.Created.UTC().Format(time.RFC3339Nano)
					attrs["id"] = len(rels) + 1
				}
			}
			rels = append(rels, map[string]any{"rel": rt.Ref, "url": rel.URL, "attributes": attrs})
		case strings.HasPrefix(op.Path, "/relations/") && op.Op == "remove":
			i, err := strconv.Atoi(strings.TrimPrefix(op.Path, "/relations/"))
			if err != nil || i < 0 || i >= len(rels) {
				return http.StatusBadRequest, fmt.Sprintf("Invalid patch path %s: index out of range.", op.Path), "PatchOperationFailedException"
			}
			removed := rels[i]
			rels = append(rels[:i:i], rels[i+1:]...)
			if rt, ok := relTypeByRef(fmt.Sprint(removed["rel"])); ok && rt.Usage == "workItemLink" {
				if target := s.itemAt(fmt.Sprint(removed["url"])); target != nil {
					self := s.orgURL() + "/_apis/wit/workItems/" + strconv.Itoa(it.ID)
					reverse = append(reverse, func() {
						for j, tr := range target.Relations {
							if equalFold(fmt.Sprint(tr["rel"]), rt.Opposite) && strings.EqualFold(fmt.Sprint(tr["url"]), self) {
								target.Relations = append(target.Relations[:j:j], target.Relations[j+1:]...)
								target.Rev++
								target.Fields["System.Rev"] = target.Rev
								target.Fields["System.ChangedDate"] = s.now()
								break
							}
						}
					})
				}
			}
		default:
			return http.StatusBadRequest, fmt.Sprintf("The patch operation %s %s is not supported.", op.Op, op.Path), "PatchOperationFailedException"
		}
	}
	if title, _ := fields["System.Title"].(string); strings.TrimSpace(title) == "" {
		return http.StatusBadRequest, "TF401320: Rule Error for field Title. Error code: Required, InvalidEmpty.", "RuleValidationException"
	}
	it.Fields, it.Relations = fields, rels
	it.Rev++
	it.Fields["System.Rev"] = it.Rev
	it.Fields["System.ChangedDate"] = s.now()
	it.Fields["System.ChangedBy"] = identityRef(s.me(), s.orgURL())
	delete(it.Fields, "System.History") // history is a log, not a value
	if history != "" {
		s.addCommentLocked(it, history)
	}
	for _, f := range reverse {
		f()
	}
	return 0, "", ""
}

func (s *Server) setField(t witType, fields map[string]any, ref string, op patchOp, history *string) (int, string, string) {
	def, ok := fieldByRef(ref)
	tf, onType := t.field(ref)
	if !ok || !onType {
		return http.StatusBadRequest, fmt.Sprintf("TF51535: Cannot find field %s.", ref), "WorkItemFieldInvalidException"
	}
	if def.ReadOnly {
		return http.StatusBadRequest, fmt.Sprintf("TF401326: Invalid field status 'ReadOnly' for field %s.", ref), "RuleValidationException"
	}
	if op.Op == "remove" {
		delete(fields, def.Ref)
		return 0, "", ""
	}
	if op.Op != "add" && op.Op != "replace" {
		return http.StatusBadRequest, fmt.Sprintf("The patch operation %s is not supported for fields.", op.Op), "PatchOperationFailedException"
	}
	var v any
	if err := json.Unmarshal(op.Value, &v); err != nil {
		return http.StatusBadRequest, "You must pass a valid patch document in the body of the request.", "VssPropertyValidationException"
	}
	ruleErr := func(code string) (int, string, string) {
		return http.StatusBadRequest, fmt.Sprintf("TF401320: Rule Error for field %s. Error code: %s.", def.Name, code), "RuleValidationException"
	}
	if v == nil || v == "" {
		if tf.Required {
			return ruleErr("Required, InvalidEmpty")
		}
		delete(fields, def.Ref)
		return 0, "", ""
	}
	switch {
	case def.Type == "history":
		*history = fmt.Sprint(v)
		return 0, "", ""
	case def.Identity:
		str, _ := v.(string)
		u, ok := s.findUser(str)
		if !ok {
			return ruleErr("ValidIdentity, InvalidIdentity")
		}
		v = identityRef(u, s.orgURL())
	case def.Type == "integer":
		n, ok := number(v)
		if !ok || n != float64(int(n)) {
			return ruleErr("InvalidType")
		}
		v = int(n)
	case def.Type == "double":
		n, ok := number(v)
		if !ok {
			return ruleErr("InvalidType")
		}
		v = n
	case def.Type == "dateTime":
		str, _ := v.(string)
		ts, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			if ts, err = time.Parse("2006-01-02", str); err != nil {
				return ruleErr("InvalidType")
			}
		}
		v = ts.UTC().Format("2006-01-02T15:04:05Z")
	default:
		if _, ok := v.(string); !ok {
			return ruleErr("InvalidType")
		}
		if def.Ref == "System.Tags" {
			v = normalizeTags(v.(string))
		}
	}
	if len(tf.Allowed) > 0 {
		allowed := false
		for _, a := range tf.Allowed {
			if fmt.Sprint(a) == fmt.Sprint(v) {
				allowed = true
			}
		}
		if !allowed {
			return ruleErr("LimitedToValues, AllowsOldValue, InvalidListValue")
		}
	}
	fields[def.Ref] = v
	return 0, "", ""
}

// normalizeTags sorts and de-duplicates "a; b" as the service stores tags.
func normalizeTags(s string) string {
	seen := map[string]bool{}
	var out []string
	for _, t := range strings.Split(s, ";") {
		t = strings.TrimSpace(t)
		if t != "" && !seen[strings.ToLower(t)] {
			seen[strings.ToLower(t)] = true
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return strings.Join(out, "; ")
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

// findUser resolves what a patch may name a user by: unique name, display
// name, or "Display Name <unique name>".
func (s *Server) findUser(v string) (User, bool) {
	if i := strings.LastIndex(v, "<"); i >= 0 && strings.HasSuffix(v, ">") {
		v = v[i+1 : len(v)-1]
	}
	v = strings.TrimSpace(v)
	for _, u := range s.o.Users {
		if strings.EqualFold(u.UniqueName, v) || strings.EqualFold(u.DisplayName, v) || u.ID == v {
			return u, true
		}
	}
	return User{}, false
}

// itemAt finds the work item a relation URL names.
func (s *Server) itemAt(u string) *item {
	i := strings.LastIndex(strings.ToLower(u), "/_apis/wit/workitems/")
	if i < 0 {
		return nil
	}
	id, err := strconv.Atoi(u[i+len("/_apis/wit/workitems/"):])
	if err != nil {
		return nil
	}
	return s.items[id]
}

func (s *Server) attachmentAt(u string) *attachment {
	i := strings.LastIndex(strings.ToLower(u), "/_apis/wit/attachments/")
	if i < 0 {
		return nil
	}
	id, _, _ := strings.Cut(u[i+len("/_apis/wit/attachments/"):], "?")
	return s.attachments[strings.ToLower(id)]
}

// Touch changes an item as another user would (a new revision), for
// conflict tests.
func (s *Server) Touch(id int, field string, value any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.items[id]
	if it == nil {
		return fmt.Errorf("no work item %d", id)
	}
	it.Fields[field] = value
	it.Rev++
	it.Fields["System.Rev"] = it.Rev
	it.Fields["System.ChangedDate"] = s.now()
	s.notifyLocked("workitem.updated", it)
	return nil
}

func (s *Server) batch(w http.ResponseWriter, r *http.Request, proj *project) {
	if !s.apiVersion(w, r, false) {
		return
	}
	var req struct {
		IDs         []int    `json:"ids"`
		Fields      []string `json:"fields"`
		Expand      string   `json:"$expand"`
		ErrorPolicy string   `json:"errorPolicy"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || len(req.IDs) == 0 {
		s.fail(w, http.StatusBadRequest, "VS402906: The request body is not valid: ids are required.", "VssPropertyValidationException", 0)
		return
	}
	if len(req.IDs) > 200 {
		s.fail(w, http.StatusBadRequest, fmt.Sprintf("VS402335: The maximum number of work items that can be requested in a batch is 200; the request named %d.", len(req.IDs)), "WorkItemsBatchLimitExceededException", 0)
		return
	}
	rel, ok := expandRelations(req.Expand)
	if !ok {
		s.fail(w, http.StatusBadRequest, "The value of $expand is not valid.", "VssPropertyValidationException", 0)
		return
	}
	if len(req.Fields) > 0 && req.Expand != "" && !strings.EqualFold(req.Expand, "none") {
		s.fail(w, http.StatusBadRequest, "The expand parameter can not be used with the fields parameter.", "ConflictingParametersException", 0)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, id := range req.IDs {
		it := s.items[id]
		if it == nil || (proj != nil && it.Project != proj) {
			if strings.EqualFold(req.ErrorPolicy, "omit") {
				out = append(out, nil)
				continue
			}
			s.failLocked(w, http.StatusNotFound, fmt.Sprintf("TF401232: Work item %d does not exist, or you do not have permissions to read it.", id), "WorkItemUnauthorizedAccessException", 3200)
			return
		}
		out = append(out, s.view(it, req.Fields, rel))
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "value": out})
}
