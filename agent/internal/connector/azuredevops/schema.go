package azuredevops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

type wireList[T any] struct {
	Count int `json:"count"`
	Value []T `json:"value"`
}

type wireType struct {
	Name       string `json:"name"`
	IsDisabled bool   `json:"isDisabled"`
}

type wireTypeField struct {
	ReferenceName  string `json:"referenceName"`
	Name           string `json:"name"`
	AlwaysRequired bool   `json:"alwaysRequired"`
	AllowedValues  []any  `json:"allowedValues"`
}

type wireField struct {
	ReferenceName string `json:"referenceName"`
	Name          string `json:"name"`
	Type          string `json:"type"`
	ReadOnly      bool   `json:"readOnly"`
	IsIdentity    bool   `json:"isIdentity"`
}

type wireRelationType struct {
	ReferenceName string         `json:"referenceName"`
	Name          string         `json:"name"`
	Attributes    map[string]any `json:"attributes"`
}

// fieldTypes maps the service's field types to the engine's.
var fieldTypes = map[string]string{
	"string": connector.TypeString, "plainText": connector.TypeString, "html": connector.TypeText,
	"integer": connector.TypeNumber, "double": connector.TypeNumber, "boolean": connector.TypeBool,
	"dateTime": connector.TypeDateTime, "treePath": connector.TypeString, "identity": connector.TypeUser,
	"picklistString": connector.TypeEnum, "picklistInteger": connector.TypeEnum, "picklistDouble": connector.TypeEnum,
}

// Schema reads the project's work item types, their fields with allowed
// values, their states, and the organization's link types. It lists
// exactly the fields Get puts in Entity.Fields; Extra["states:<type>"]
// holds each type's states in workflow order.
func (c *Conn) Schema(ctx context.Context, project string) (connector.Schema, error) {
	project, err := c.scope(project)
	if err != nil {
		return connector.Schema{}, fmt.Errorf("read Azure DevOps schema: %w", err)
	}
	fail := func(err error) (connector.Schema, error) {
		return connector.Schema{}, fmt.Errorf("read Azure DevOps schema of %s: %w", project, err)
	}
	var types wireList[wireType]
	if err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: projectPath(project, "wit/workitemtypes")}, nil, false, &types); err != nil {
		return fail(err)
	}
	var fields wireList[wireField]
	if err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: "/_apis/wit/fields"}, nil, false, &fields); err != nil {
		return fail(err)
	}
	defs := map[string]wireField{}
	for _, f := range fields.Value {
		defs[f.ReferenceName] = f
	}
	out := connector.Schema{Extra: map[string][]any{}}
	type seen struct {
		label    string
		values   []string
		required bool
	}
	byRef := map[string]*seen{}
	var states []string
	for _, t := range types.Value {
		if t.IsDisabled {
			continue
		}
		out.EntityTypes = append(out.EntityTypes, t.Name)
		var tf wireList[wireTypeField]
		err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: projectPath(project, "wit/workitemtypes/"+t.Name+"/fields"),
			Query: url.Values{"$expand": {"allowedValues"}}}, nil, false, &tf)
		if err != nil {
			return fail(fmt.Errorf("fields of %s: %w", t.Name, err))
		}
		for _, f := range tf.Value {
			s := byRef[f.ReferenceName]
			if s == nil {
				s = &seen{label: f.Name}
				byRef[f.ReferenceName] = s
			}
			s.required = s.required || f.AlwaysRequired
			for _, v := range f.AllowedValues {
				if text := fmt.Sprint(v); !slices.Contains(s.values, text) {
					s.values = append(s.values, text)
				}
			}
		}
		var st wireList[struct {
			Name string `json:"name"`
		}]
		if err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: projectPath(project, "wit/workitemtypes/"+t.Name+"/states")}, nil, false, &st); err != nil {
			return fail(fmt.Errorf("states of %s: %w", t.Name, err))
		}
		var list []any
		for _, s := range st.Value {
			list = append(list, s.Name)
			if !slices.Contains(states, s.Name) {
				states = append(states, s.Name)
			}
		}
		out.Extra["states:"+t.Name] = list
	}
	if len(out.EntityTypes) == 0 {
		return fail(fmt.Errorf("the project has no enabled work item types: %w", connector.ErrForbidden))
	}
	add := func(name, ref, typ string, values []string) {
		s := byRef[ref]
		if s == nil {
			return // no type of this project has the field
		}
		out.Fields = append(out.Fields, connector.FieldSchema{Name: name, Label: s.label, Type: typ, Values: values, Required: s.required})
	}
	add("title", refTitle, connector.TypeString, nil)
	add("description", refDesc, connector.TypeText, nil)
	add("status", refState, connector.TypeEnum, states)
	if s := byRef[refPriority]; s != nil {
		add("priority", refPriority, connector.TypeEnum, s.values)
	}
	add("assignee", refAssigned, connector.TypeUser, nil)
	add("labels", refTags, connector.TypeLabels, nil)
	add("dueDate", refDue, connector.TypeDate, nil)
	add("areaPath", refArea, connector.TypeString, nil)
	add("iterationPath", refIteration, connector.TypeString, nil)
	var refs []string
	for ref := range byRef {
		if custom(ref) && !defs[ref].ReadOnly {
			refs = append(refs, ref)
		}
	}
	sort.Strings(refs)
	for _, ref := range refs {
		d := defs[ref]
		typ, ok := fieldTypes[d.Type]
		if !ok {
			typ = connector.TypeString
		}
		if d.IsIdentity {
			typ = connector.TypeUser
		}
		s := byRef[ref]
		if len(s.values) > 0 {
			typ = connector.TypeEnum
		}
		out.Fields = append(out.Fields, connector.FieldSchema{Name: customPrefix + ref, Label: s.label, Type: typ, Values: s.values, Required: s.required})
	}
	var rels wireList[wireRelationType]
	if err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: "/_apis/wit/workitemrelationtypes"}, nil, false, &rels); err != nil {
		return fail(err)
	}
	for _, r := range rels.Value {
		usage, _ := r.Attributes["usage"].(string)
		enabled, ok := r.Attributes["enabled"].(bool)
		if usage == "workItemLink" && (enabled || !ok) {
			out.LinkTypes = append(out.LinkTypes, r.ReferenceName)
		}
	}
	// Related first: it is the link every process has and the one a
	// mapping most often pairs.
	sort.SliceStable(out.LinkTypes, func(i, j int) bool {
		return out.LinkTypes[i] == "System.LinkTypes.Related" && out.LinkTypes[j] != "System.LinkTypes.Related"
	})
	return out, nil
}

type wireProject struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// projectRef reads a project (its id is what service hooks need).
func (c *Conn) projectRef(ctx context.Context, project string) (wireProject, error) {
	c.mu.Lock()
	id := c.projectID[project]
	c.mu.Unlock()
	if id != "" {
		return wireProject{ID: id, Name: project}, nil
	}
	var p wireProject
	err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: "/_apis/projects/" + project}, nil, false, &p)
	if errors.Is(err, connector.ErrNotFound) {
		return wireProject{}, fmt.Errorf("project %s does not exist in organization %s: %w", project, c.org, err)
	}
	if err != nil {
		return wireProject{}, err
	}
	c.mu.Lock()
	c.projectID[project] = p.ID
	c.mu.Unlock()
	return p, nil
}

// Validate proves the PAT works and, when a project is set, that it can
// see the project and its work item types.
func (c *Conn) Validate(ctx context.Context) (string, error) {
	if c.project == "" {
		var list wireList[wireProject]
		err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: "/_apis/projects", Query: url.Values{"$top": {"1"}}}, nil, false, &list)
		if err != nil {
			return "", fmt.Errorf("check Azure DevOps credentials for %s: %w", c.org, err)
		}
		return fmt.Sprintf("Signed in to Azure DevOps organization %s; no project set", c.org), nil
	}
	p, err := c.projectRef(ctx, c.project)
	if err != nil {
		return "", fmt.Errorf("check Azure DevOps project: %w", err)
	}
	var types wireList[wireType]
	if err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: projectPath(c.project, "wit/workitemtypes")}, nil, false, &types); err != nil {
		return "", fmt.Errorf("check Azure DevOps work item access in %s: %w", c.project, err)
	}
	return fmt.Sprintf("Signed in to Azure DevOps organization %s; project %s found with %s work item types", c.org, p.Name, strconv.Itoa(len(types.Value))), nil
}
