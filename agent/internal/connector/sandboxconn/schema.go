package sandboxconn

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// fieldTypes maps the sandbox's schema types to the engine's.
var fieldTypes = map[string]string{
	"string": connector.TypeString, "markdown": connector.TypeText, "enum": connector.TypeEnum,
	"user": connector.TypeUser, "labels": connector.TypeLabels, "date": connector.TypeDate,
	"datetime": connector.TypeDateTime, "number": connector.TypeNumber, "bool": connector.TypeBool,
}

// Schema reads the project's schema. It lists exactly the fields Get puts
// in Entity.Fields; the sandbox's read-only key and timestamps are the
// Entity's own members.
func (c *Conn) Schema(ctx context.Context, project string) (connector.Schema, error) {
	project, err := c.scope(project)
	if err != nil {
		return connector.Schema{}, fmt.Errorf("read sandbox schema: %w", err)
	}
	var ws wireSchema
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: "/api/projects/" + url.PathEscape(project) + "/schema"}, nil, &ws); err != nil {
		return connector.Schema{}, fmt.Errorf("read sandbox schema of %s: %w", project, err)
	}
	c.setUsers(ws.Users)
	out := connector.Schema{EntityTypes: ws.Types, LinkTypes: ws.LinkTypes}
	for _, f := range ws.Fields {
		if f.ReadOnly {
			continue
		}
		typ, ok := fieldTypes[f.Type]
		if !ok {
			typ = connector.TypeString
		}
		name := f.Name
		if f.Custom {
			name = "cf." + f.Name
		}
		out.Fields = append(out.Fields, connector.FieldSchema{Name: name, Label: f.Label, Type: typ, Values: f.Values, Required: f.Required})
	}
	for _, u := range ws.Users {
		out.Users = append(out.Users, connector.User{ID: u.ID, Email: u.Email, Name: u.Name})
	}
	return out, nil
}

// Validate proves the token works and may write, and that the configured
// project exists.
func (c *Conn) Validate(ctx context.Context) (string, error) {
	var me wireMyself
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: "/api/myself"}, nil, &me); err != nil {
		return "", fmt.Errorf("check sandbox credentials: %w", err)
	}
	if me.ReadOnly {
		return "", fmt.Errorf("check sandbox credentials: the token of %s is read-only and cannot sync: %w", me.Name, connector.ErrForbidden)
	}
	msg := fmt.Sprintf("Signed in to the sandbox as %s", me.Name)
	if c.project == "" {
		return msg + "; no project set", nil
	}
	var p wireProject
	err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: "/api/projects/" + url.PathEscape(c.project)}, nil, &p)
	if errors.Is(err, connector.ErrNotFound) {
		return "", fmt.Errorf("check sandbox project: project %s does not exist: %w", c.project, connector.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("check sandbox project %s: %w", c.project, err)
	}
	return fmt.Sprintf("%s; project %s (%s) found", msg, p.Key, p.Name), nil
}
