package redmine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// metaFresh is how long the instance's lists (trackers, statuses,
// priorities, custom fields, a project's categories and versions) are
// trusted before a name that is not in them makes the connector read them
// again. They change rarely, and issues name them by id.
const metaFresh = 5 * time.Minute

// LinkTypes are Redmine's relation types, as seen from the issue they are
// listed on ("blocked" means the other issue blocks this one).
var LinkTypes = []string{"relates", "duplicates", "duplicated", "blocks", "blocked", "precedes", "follows", "copied_to", "copied_from"}

// meta holds the instance-wide lists and each project's own.
type meta struct {
	at           time.Time
	trackers     []wireRef
	statuses     []wireStatus
	priorities   []wirePriority
	customFields []wireCustomField // nil when the key is not an admin's
	cfByName     map[string]int64  // also learnt from issues, for non-admin keys
	projects     map[string]projectMeta
}

type projectMeta struct {
	at         time.Time
	id         int64
	name       string
	trackers   []wireRef
	categories []wireRef
	versions   []wireVersion
}

// instanceMeta returns the instance-wide lists, reading them when stale or
// when force is set.
func (c *Conn) instanceMeta(ctx context.Context, force bool) (*meta, error) {
	c.metaMu.Lock()
	m := c.meta
	c.metaMu.Unlock()
	if m != nil && !force && c.now().Sub(m.at) < metaFresh {
		return m, nil
	}
	fresh := &meta{at: c.now(), cfByName: map[string]int64{}, projects: map[string]projectMeta{}}
	var tr struct {
		Trackers []wireRef `json:"trackers"`
	}
	if err := c.get(ctx, "/trackers.json", nil, &tr); err != nil {
		return nil, fmt.Errorf("list redmine trackers: %w", err)
	}
	var st struct {
		IssueStatuses []wireStatus `json:"issue_statuses"`
	}
	if err := c.get(ctx, "/issue_statuses.json", nil, &st); err != nil {
		return nil, fmt.Errorf("list redmine issue statuses: %w", err)
	}
	var pr struct {
		IssuePriorities []wirePriority `json:"issue_priorities"`
	}
	if err := c.get(ctx, "/enumerations/issue_priorities.json", nil, &pr); err != nil {
		return nil, fmt.Errorf("list redmine issue priorities: %w", err)
	}
	var cf struct {
		CustomFields []wireCustomField `json:"custom_fields"`
	}
	// Custom field definitions are for administrators only; without them
	// custom fields are still read and written, by the names issues carry.
	err := c.get(ctx, "/custom_fields.json", nil, &cf)
	switch {
	case err == nil:
		for _, f := range cf.CustomFields {
			if f.CustomizedType == "issue" {
				fresh.customFields = append(fresh.customFields, f)
				fresh.cfByName[f.Name] = f.ID
			}
		}
	case errors.Is(err, connector.ErrForbidden) || errors.Is(err, connector.ErrUnauthorized) || errors.Is(err, connector.ErrNotFound):
	default:
		return nil, fmt.Errorf("list redmine custom fields: %w", err)
	}
	fresh.trackers, fresh.statuses, fresh.priorities = tr.Trackers, st.IssueStatuses, pr.IssuePriorities
	c.metaMu.Lock()
	if c.meta != nil {
		for name, id := range c.meta.cfByName {
			if _, ok := fresh.cfByName[name]; !ok {
				fresh.cfByName[name] = id
			}
		}
	}
	c.meta = fresh
	c.metaMu.Unlock()
	return fresh, nil
}

// projectMeta returns a project's trackers, categories and versions.
func (c *Conn) projectMeta(ctx context.Context, project string, force bool) (projectMeta, error) {
	m, err := c.instanceMeta(ctx, false)
	if err != nil {
		return projectMeta{}, err
	}
	c.metaMu.Lock()
	pm, ok := m.projects[project]
	c.metaMu.Unlock()
	if ok && !force && c.now().Sub(pm.at) < metaFresh {
		return pm, nil
	}
	var p struct {
		Project wireProject `json:"project"`
	}
	path := "/projects/" + url.PathEscape(project) + ".json"
	if err := c.get(ctx, path, url.Values{"include": {"trackers,issue_categories"}}, &p); err != nil {
		return projectMeta{}, fmt.Errorf("read redmine project %s: %w", project, err)
	}
	var v struct {
		Versions []wireVersion `json:"versions"`
	}
	if err := c.get(ctx, "/projects/"+url.PathEscape(project)+"/versions.json", nil, &v); err != nil {
		return projectMeta{}, fmt.Errorf("list redmine versions of %s: %w", project, err)
	}
	pm = projectMeta{at: c.now(), id: p.Project.ID, name: p.Project.Name, trackers: p.Project.Trackers,
		categories: p.Project.IssueCategories, versions: v.Versions}
	c.metaMu.Lock()
	m.projects[project] = pm
	c.metaMu.Unlock()
	return pm, nil
}

// learnCustomFields remembers the ids of custom fields seen on issues, so
// a key that cannot read the definitions can still write them by name.
func (c *Conn) learnCustomFields(cfs []wireCustomValue) {
	c.metaMu.Lock()
	defer c.metaMu.Unlock()
	if c.meta == nil {
		return
	}
	for _, v := range cfs {
		if _, ok := c.meta.cfByName[v.Name]; !ok && v.Name != "" {
			c.meta.cfByName[v.Name] = v.ID
		}
	}
}

// customField finds a custom field's definition (ok false without admin
// rights) and its id (0 when unknown).
func (c *Conn) customField(m *meta, name string) (wireCustomField, int64) {
	c.metaMu.Lock()
	defer c.metaMu.Unlock()
	for _, f := range m.customFields {
		if f.Name == name {
			return f, f.ID
		}
	}
	return wireCustomField{}, m.cfByName[name]
}

// Schema describes a project: its trackers as entity types, the standard
// fields with their values, and the custom fields enabled for it.
func (c *Conn) Schema(ctx context.Context, project string) (connector.Schema, error) {
	project, err := c.scope(project)
	if err != nil {
		return connector.Schema{}, fmt.Errorf("read redmine schema: %w", err)
	}
	m, err := c.instanceMeta(ctx, false)
	if err != nil {
		return connector.Schema{}, fmt.Errorf("read redmine schema of %s: %w", project, err)
	}
	pm, err := c.projectMeta(ctx, project, true)
	if err != nil {
		return connector.Schema{}, fmt.Errorf("read redmine schema of %s: %w", project, err)
	}
	out := connector.Schema{LinkTypes: append([]string(nil), LinkTypes...)}
	trackers := pm.trackers
	if len(trackers) == 0 {
		trackers = m.trackers
	}
	for _, t := range trackers {
		out.EntityTypes = append(out.EntityTypes, t.Name)
	}
	var statuses, priorities, categories, versions []string
	for _, s := range m.statuses {
		statuses = append(statuses, s.Name)
	}
	for _, p := range m.priorities {
		if p.Active == nil || *p.Active {
			priorities = append(priorities, p.Name)
		}
	}
	for _, cat := range pm.categories {
		categories = append(categories, cat.Name)
	}
	for _, v := range pm.versions {
		versions = append(versions, v.Name)
	}
	out.Fields = []connector.FieldSchema{
		{Name: "title", Label: "Subject", Type: connector.TypeString, Required: true},
		{Name: "description", Label: "Description", Type: connector.TypeText},
		{Name: "status", Label: "Status", Type: connector.TypeEnum, Values: statuses},
		{Name: "priority", Label: "Priority", Type: connector.TypeEnum, Values: priorities},
		{Name: "assignee", Label: "Assignee", Type: connector.TypeUser},
		{Name: "category", Label: "Category", Type: connector.TypeEnum, Values: categories},
		{Name: "targetVersion", Label: "Target version", Type: connector.TypeEnum, Values: versions},
		{Name: "startDate", Label: "Start date", Type: connector.TypeDate},
		{Name: "dueDate", Label: "Due date", Type: connector.TypeDate},
		{Name: "doneRatio", Label: "% Done", Type: connector.TypeNumber},
		{Name: "estimatedHours", Label: "Estimated time", Type: connector.TypeNumber},
		{Name: "private", Label: "Private", Type: connector.TypeBool},
		{Name: "author", Label: "Author", Type: connector.TypeUser, ReadOnly: true},
	}
	cfs, err := c.projectCustomFields(ctx, project, m, pm)
	if err != nil {
		return connector.Schema{}, fmt.Errorf("read redmine schema of %s: %w", project, err)
	}
	for _, f := range cfs {
		if c.markerField != "" && f.Name == c.markerField {
			continue // bookkeeping, not a field to map
		}
		fs := connector.FieldSchema{Name: "cf:" + f.Name, Label: f.Name, Type: cfType(f), Required: f.IsRequired}
		for _, pv := range f.PossibleValues {
			fs.Values = append(fs.Values, pv.Label)
		}
		out.Fields = append(out.Fields, fs)
	}
	if users, err := c.loadUsers(ctx, project); err == nil {
		out.Users = users
	}
	return out, nil
}

// projectCustomFields lists the custom fields the project's issues carry.
// With definitions (admin key) they are those enabled for the project's
// trackers; without, the names found on one of its issues, typed as text.
func (c *Conn) projectCustomFields(ctx context.Context, project string, m *meta, pm projectMeta) ([]wireCustomField, error) {
	var list wireIssueList
	if err := c.get(ctx, "/issues.json", url.Values{"project_id": {project}, "status_id": {"*"}, "limit": {"1"}}, &list); err != nil {
		return nil, fmt.Errorf("sample an issue: %w", err)
	}
	if m.customFields == nil {
		var out []wireCustomField
		for _, is := range list.Issues {
			c.learnCustomFields(is.CustomFields)
			for _, v := range is.CustomFields {
				_, multiple := v.Value.([]any)
				out = append(out, wireCustomField{ID: v.ID, Name: v.Name, FieldFormat: "string", Multiple: multiple})
			}
		}
		return out, nil
	}
	trackers := map[int64]bool{}
	for _, t := range pm.trackers {
		trackers[t.ID] = true
	}
	// The definitions do not say which projects use a field that is not
	// for all projects; an issue of the project does.
	onIssue := map[int64]bool{}
	for _, is := range list.Issues {
		for _, v := range is.CustomFields {
			onIssue[v.ID] = true
		}
	}
	var out []wireCustomField
	for _, f := range m.customFields {
		used := len(list.Issues) == 0 || onIssue[f.ID]
		forTracker := len(f.Trackers) == 0
		for _, t := range f.Trackers {
			forTracker = forTracker || trackers[t.ID]
		}
		if used && forTracker {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// cfType maps a custom field's format to an engine type.
func cfType(f wireCustomField) string {
	switch f.FieldFormat {
	case "text":
		return connector.TypeText
	case "int", "float":
		return connector.TypeNumber
	case "date":
		return connector.TypeDate
	case "bool":
		return connector.TypeBool
	case "user":
		return connector.TypeUser
	case "list", "enumeration", "version":
		if f.Multiple {
			return connector.TypeLabels
		}
		return connector.TypeEnum
	}
	if f.Multiple {
		return connector.TypeLabels
	}
	return connector.TypeString
}

// Validate proves the key works, says whose it is, and checks that the
// configured project exists and is visible to that user.
func (c *Conn) Validate(ctx context.Context) (string, error) {
	var me struct {
		User wireUser `json:"user"`
	}
	if err := c.get(ctx, "/users/current.json", nil, &me); err != nil {
		if errors.Is(err, connector.ErrForbidden) {
			return "", fmt.Errorf("check redmine credentials (is the REST API enabled under Administration > Settings > API?): %w", err)
		}
		return "", fmt.Errorf("check redmine credentials: %w", err)
	}
	name := strings.TrimSpace(me.User.Firstname + " " + me.User.Lastname)
	msg := fmt.Sprintf("Signed in to Redmine as %s (%s)", name, me.User.Login)
	if me.User.Admin {
		msg += ", an administrator"
	}
	if c.project == "" {
		return msg + "; no project set", nil
	}
	pm, err := c.projectMeta(ctx, c.project, true)
	if errors.Is(err, connector.ErrNotFound) {
		return "", fmt.Errorf("check redmine project: project %s does not exist or is not visible to %s: %w", c.project, me.User.Login, connector.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("check redmine project %s: %w", c.project, err)
	}
	if c.markerField != "" {
		m, err := c.instanceMeta(ctx, false)
		if err != nil {
			return "", fmt.Errorf("check redmine marker field: %w", err)
		}
		if _, id := c.customField(m, c.markerField); id == 0 && m.customFields != nil {
			return "", fmt.Errorf("check redmine marker field: no issue custom field is named %q: %w", c.markerField, connector.ErrInvalid)
		}
	}
	return fmt.Sprintf("%s; project %s (%s) found", msg, c.project, pm.name), nil
}

// get reads a JSON resource.
func (c *Conn) get(ctx context.Context, path string, q url.Values, out any) error {
	return redmineErr(c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: q}, nil, out))
}
