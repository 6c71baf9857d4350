package rpc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/agent/internal/system"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// schemaTimeout bounds one schema read, below the call's own 30 s so the
// answer names the system instead of being a bare timeout. Jira and Azure
// DevOps read a page per entity type, which is what the margin is for.
const schemaTimeout = 25 * time.Second

// maxProjectLen bounds the project scope a caller can send on to a system.
const maxProjectLen = 256

func (s *Server) registerSchema() {
	Handle(s, protocol.SystemsSchema, s.systemSchema)
}

// systemSchema reads what a system holds in one project (entity types,
// fields, link types, users) for the sync process editor's pick-lists. It
// is a viewer method because the schema holds names, not secrets; users
// carry emails, so they go to operators and admins only.
func (s *Server) systemSchema(ctx context.Context, c *Call, p apitype.SystemsSchemaParams) (apitype.SystemsSchemaResult, error) {
	if strings.TrimSpace(p.ID) == "" {
		return apitype.SystemsSchemaResult{}, protocol.Invalid("id", "id is required")
	}
	if len(p.Project) > maxProjectLen {
		return apitype.SystemsSchemaResult{}, protocol.Invalid("project", "project is longer than %d characters", maxProjectLen)
	}
	// Config unseals the secrets the same way the engine's connectors get
	// them; here they are also what errors are scrubbed of.
	cfg, err := s.deps.Systems.Config(p.ID)
	if errors.Is(err, system.ErrNotFound) {
		return apitype.SystemsSchemaResult{}, protocol.Errorf(protocol.KindNotFound, "no system has the id %q", truncate(p.ID, 64))
	}
	if err != nil {
		return apitype.SystemsSchemaResult{}, err
	}
	con, done, err := s.openConnector(cfg)
	if err != nil {
		return apitype.SystemsSchemaResult{}, schemaError(ctx, cfg, p.Project, err)
	}
	defer done()
	rctx, cancel := context.WithTimeout(ctx, schemaTimeout)
	defer cancel()
	sch, err := con.Schema(rctx, p.Project)
	if err != nil {
		return apitype.SystemsSchemaResult{}, schemaError(ctx, cfg, p.Project, err)
	}
	withUsers := c.Account != nil && protocol.Role(c.Account.Role).Allows(protocol.Operator)
	return schemaResult(cfg.ID, p.Project, sch, withUsers), nil
}

// openConnector opens the system through the composition root's connector
// cache when it lends one (one rate limiter and connection pool per system,
// shared with the sync engine), else directly from the registry with the
// same unsealed configuration. done releases what was opened for this call
// alone; the cache's connector stays open.
func (s *Server) openConnector(cfg connector.Config) (con connector.Connector, done func(), err error) {
	if s.deps.Connector != nil {
		con, err := s.deps.Connector(cfg.ID)
		return con, func() {}, err
	}
	spec, ok := connector.Lookup(cfg.Kind)
	if !ok || spec.Open == nil {
		return nil, nil, fmt.Errorf("the %s connector is not available in this version: %w", cfg.Kind, connector.ErrUnavailable)
	}
	con, err = spec.Open(cfg, connector.Env{Log: s.log.With().Str("component", "connector").Str("system", cfg.ID).Logger()})
	if err != nil {
		return nil, nil, fmt.Errorf("open system %s: %w", cfg.Name, err)
	}
	return con, func() { connector.Close(con) }, nil
}

// schemaError turns a connector's failure into a wire error that names the
// system and says what to check. The system's own refusal of the agent's
// credentials is not kind unauthorized: that kind means the caller's
// session, and a client would log out on it. The detail a remote server
// produced may echo what it was sent, so it is scrubbed of the system's
// secrets.
func schemaError(ctx context.Context, cfg connector.Config, project string, err error) error {
	detail := secret.Scrub(err.Error(), secret.Values(cfg.Secrets)...)
	scope := "its default project"
	if project != "" {
		scope = fmt.Sprintf("project %q", truncate(project, 64))
	}
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return protocol.Errorf(protocol.KindCanceled, "reading the schema of system %s was canceled", cfg.Name)
	case errors.Is(err, context.DeadlineExceeded):
		return protocol.Errorf(protocol.KindTimeout, "system %s did not answer within %s while its schema was read", cfg.Name, schemaTimeout)
	case errors.Is(err, connector.ErrUnauthorized):
		return protocol.Errorf(protocol.KindUnavailable, "system %s refused the agent's credentials; check them on the Systems page (%s)", cfg.Name, detail)
	case errors.Is(err, connector.ErrForbidden):
		return protocol.Errorf(protocol.KindUnavailable, "system %s does not let the agent's account read the schema of %s (%s)", cfg.Name, scope, detail)
	case errors.Is(err, connector.ErrNotFound):
		return protocol.Invalid("project", "system %s has no %s (%s)", cfg.Name, scope, detail)
	case errors.Is(err, connector.ErrInvalid):
		return protocol.Invalid("project", "system %s cannot describe %s (%s)", cfg.Name, scope, detail)
	case errors.Is(err, connector.ErrRateLimited):
		return protocol.Errorf(protocol.KindRateLimited, "system %s is rate limiting the agent; try again shortly (%s)", cfg.Name, detail)
	}
	return protocol.Errorf(protocol.KindUnavailable, "cannot read the schema of system %s: %s", cfg.Name, detail)
}

// statesPrefix is the Extra key under which a connector lists one entity
// type's workflow states (the Azure DevOps connector does): the values its
// status field allows in that type.
const statesPrefix = "states:"

// attachmentsExtra is the Extra key under which a connector whose system
// cannot hold files says what becomes of the other side's attachments
// (the GitHub connector does): apitype.AttachmentsComment or
// apitype.AttachmentsSkip.
const attachmentsExtra = "attachments"

func schemaResult(systemID, project string, sch connector.Schema, withUsers bool) apitype.SystemsSchemaResult {
	out := apitype.SystemsSchemaResult{
		System: systemID, Project: project,
		EntityTypes: nonNil(sch.EntityTypes), LinkTypes: nonNil(sch.LinkTypes),
		Fields: make([]apitype.SchemaField, 0, len(sch.Fields)),
	}
	for _, f := range sch.Fields {
		out.Fields = append(out.Fields, apitype.SchemaField{Name: f.Name, Label: f.Label, Type: f.Type, Values: f.Values,
			ReadOnly: f.ReadOnly, Required: f.Required})
	}
	hasStatus := false
	for _, f := range sch.Fields {
		hasStatus = hasStatus || f.Name == "status"
	}
	if list := sch.Extra[attachmentsExtra]; len(list) > 0 {
		if mode, _ := list[0].(string); mode == apitype.AttachmentsComment || mode == apitype.AttachmentsSkip {
			out.Attachments = mode
		}
	}
	for key, list := range sch.Extra {
		typ, ok := strings.CutPrefix(key, statesPrefix)
		if !ok || typ == "" || !hasStatus {
			continue
		}
		values := make([]string, 0, len(list))
		for _, v := range list {
			if s, ok := v.(string); ok {
				values = append(values, s)
			}
		}
		if out.TypeValues == nil {
			out.TypeValues = map[string]map[string][]string{}
		}
		out.TypeValues[typ] = map[string][]string{"status": values}
	}
	if !withUsers {
		out.UsersOmitted = true
		return out
	}
	for _, u := range sch.Users {
		out.Users = append(out.Users, apitype.SchemaUser{ID: u.ID, Email: u.Email, Name: u.Name})
	}
	return out
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}
