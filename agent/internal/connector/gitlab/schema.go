package gitlab

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// Link types: GitLab's own names. Blocking links need GitLab Premium.
const (
	LinkRelatesTo   = "relates_to"
	LinkBlocks      = "blocks"
	LinkIsBlockedBy = "is_blocked_by"
)

// minDownloadVersion is the first GitLab whose API downloads uploads.
const minDownloadVersion = "17.4"

// Validate checks the token: whose it is, that it may write (the api
// scope), and which GitLab answers.
func (c *Conn) Validate(ctx context.Context) (string, error) {
	var me wireUser
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: "/user"}, nil, &me); err != nil {
		return "", fmt.Errorf("validate GitLab token: %w", err)
	}
	var tok struct {
		Scopes    []string `json:"scopes"`
		ExpiresAt *string  `json:"expires_at"`
	}
	err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: "/personal_access_tokens/self"}, nil, &tok)
	switch {
	case err == nil:
		if !slices.Contains(tok.Scopes, "api") {
			return "", fmt.Errorf("validate GitLab token of @%s: its scopes are %s; writing issues needs the api scope: %w",
				me.Username, strings.Join(tok.Scopes, ", "), connector.ErrForbidden)
		}
	case errors.Is(err, connector.ErrNotFound):
		// An OAuth token, or a GitLab before 15.5: its scopes cannot be read.
	default:
		return "", fmt.Errorf("validate GitLab token of @%s: %w", me.Username, err)
	}
	var ver struct {
		Version string `json:"version"`
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: "/version"}, nil, &ver); err != nil {
		return "", fmt.Errorf("read the GitLab version: %w", err)
	}
	msg := fmt.Sprintf("authenticated as @%s (%s) on GitLab %s", me.Username, me.Name, ver.Version)
	if tok.ExpiresAt != nil && *tok.ExpiresAt != "" {
		msg += "; the token expires on " + *tok.ExpiresAt
	}
	if versionBefore(ver.Version, minDownloadVersion) {
		msg += "; attachments need GitLab " + minDownloadVersion + " or later to download"
	}
	return msg, nil
}

// versionBefore compares "major.minor" of a GitLab version ("17.5.0-ee").
func versionBefore(v, than string) bool {
	num := func(s string) (int, int) {
		parts := strings.SplitN(s, ".", 3)
		if len(parts) < 2 {
			return 0, 0
		}
		a, _ := strconv.Atoi(parts[0])
		b, _ := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
		return a, b
	}
	a1, b1 := num(v)
	a2, b2 := num(than)
	return a1 < a2 || a1 == a2 && b1 < b2
}

// Schema describes a project's issues: the types, fields, link types and
// the members who can be assigned.
func (c *Conn) Schema(ctx context.Context, project string) (connector.Schema, error) {
	p, err := c.resolve(ctx, project)
	if err != nil {
		return connector.Schema{}, fmt.Errorf("read GitLab schema: %w", err)
	}
	fail := func(err error) (connector.Schema, error) {
		return connector.Schema{}, fmt.Errorf("read GitLab schema of %s: %w", p.Path, err)
	}
	members, err := c.members(ctx, p, true)
	if err != nil {
		return fail(err)
	}
	milestones, err := c.milestones(ctx, p, true)
	if err != nil {
		return fail(err)
	}
	labels, err := getAll[struct {
		Name string `json:"name"`
	}](ctx, c, projectRequest(http.MethodGet, strconv.FormatInt(p.ID, 10), "/labels"))
	if err != nil {
		return fail(err)
	}
	if _, known := p.tier(); !known {
		// One issue tells whether weights (and blocking links) exist.
		r := projectRequest(http.MethodGet, strconv.FormatInt(p.ID, 10), "/issues")
		r.Query = url.Values{"per_page": {"1"}, "scope": {"all"}}
		var one []wireIssue
		if _, err := c.getPage(ctx, r, &one); err != nil {
			return fail(err)
		}
		for _, wi := range one {
			p.learnTier(wi)
		}
	}
	var titles []string
	for _, m := range milestones {
		if m.State != "closed" && !slices.Contains(titles, m.Title) {
			titles = append(titles, m.Title)
		}
	}
	s := connector.Schema{
		EntityTypes: []string{"issue", "incident"},
		Fields: []connector.FieldSchema{
			{Name: "title", Label: "Title", Type: connector.TypeString, Required: true},
			{Name: "description", Label: "Description", Type: connector.TypeText},
			{Name: "status", Label: "State", Type: connector.TypeEnum, Values: []string{StatusOpened, StatusClosed}},
			{Name: "labels", Label: "Labels", Type: connector.TypeLabels},
			{Name: "assignee", Label: "Assignee", Type: connector.TypeUser},
			{Name: "assignees", Label: "Assignees (user names)", Type: connector.TypeLabels},
			{Name: "milestone", Label: "Milestone", Type: connector.TypeEnum, Values: titles},
			{Name: "dueDate", Label: "Due date", Type: connector.TypeDate},
			{Name: "confidential", Label: "Confidential", Type: connector.TypeBool},
		},
		LinkTypes: []string{LinkRelatesTo},
		Extra:     map[string][]any{},
	}
	premium, known := p.tier()
	if premium || !known {
		s.Fields = append(s.Fields, connector.FieldSchema{Name: "weight", Label: "Weight", Type: connector.TypeNumber})
		s.LinkTypes = append(s.LinkTypes, LinkBlocks, LinkIsBlockedBy)
	}
	for _, m := range members {
		s.Users = append(s.Users, user(m))
	}
	for _, l := range labels {
		s.Extra["labels"] = append(s.Extra["labels"], l.Name)
	}
	return s, nil
}

// members lists who can be assigned to the project's issues (members,
// inherited ones too), from the cache unless fresh is asked or it is old.
func (c *Conn) members(ctx context.Context, p *projectInfo, fresh bool) ([]wireUser, error) {
	p.mu.Lock()
	cached, at := p.members, p.membersAt
	p.mu.Unlock()
	if !fresh && cached != nil && c.now().Sub(at) < cacheFor {
		return cached, nil
	}
	r := projectRequest(http.MethodGet, strconv.FormatInt(p.ID, 10), "/members/all")
	list, err := getAll[wireUser](ctx, c, r)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	active := make([]wireUser, 0, len(list))
	for _, m := range list {
		if m.State == "" || m.State == "active" {
			active = append(active, m)
		}
	}
	p.mu.Lock()
	p.members, p.membersAt = active, c.now()
	p.mu.Unlock()
	return active, nil
}

// milestones lists the project's milestones and those of its groups.
func (c *Conn) milestones(ctx context.Context, p *projectInfo, fresh bool) ([]wireMilestone, error) {
	p.mu.Lock()
	cached, at := p.milestones, p.msAt
	p.mu.Unlock()
	if !fresh && cached != nil && c.now().Sub(at) < cacheFor {
		return cached, nil
	}
	r := projectRequest(http.MethodGet, strconv.FormatInt(p.ID, 10), "/milestones")
	r.Query = url.Values{"include_ancestors": {"true"}}
	list, err := getAll[wireMilestone](ctx, c, r)
	if err != nil {
		return nil, fmt.Errorf("list milestones: %w", err)
	}
	p.mu.Lock()
	p.milestones, p.msAt = list, c.now()
	p.mu.Unlock()
	return list, nil
}

// milestoneID finds a milestone by title (nil and "" clear it: 0).
// GitLab silently drops a milestone_id it does not know, so an unknown
// title is refused here.
func (c *Conn) milestoneID(ctx context.Context, p *projectInfo, v any) (int64, error) {
	title, ok := v.(string)
	if v == nil || ok && title == "" {
		return 0, nil
	}
	if !ok {
		return 0, fmt.Errorf("field milestone must be a milestone's title, not %T: %w", v, connector.ErrInvalid)
	}
	for _, fresh := range []bool{false, true} {
		list, err := c.milestones(ctx, p, fresh)
		if err != nil {
			return 0, err
		}
		// An active milestone wins over a closed one of the same title.
		for _, state := range []string{"active", ""} {
			for _, m := range list {
				if m.Title == title && (state == "" || m.State == state) {
					return m.ID, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("field milestone: %s has no milestone %s: %w", p.Path, connector.Digest(title), connector.ErrInvalid)
}

// assigneeIDs finds the members the values name (a connector.User or its
// JSON, or a user name): by user name, then public email, then display
// name. GitLab silently drops assignees who are not members, so anyone
// else is refused here. nil values clear.
func (c *Conn) assigneeIDs(ctx context.Context, p *projectInfo, values []any) ([]int64, error) {
	ids := []int64{}
	for _, v := range values {
		want, ok := connector.UserValue(v)
		if s, isText := v.(string); isText {
			want, ok = connector.User{ID: s, Email: s, Name: s}, true
		}
		if !ok {
			return nil, fmt.Errorf("an assignee must be a user, not %T: %w", v, connector.ErrInvalid)
		}
		if want == (connector.User{}) {
			continue
		}
		id, err := c.memberID(ctx, p, want)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (c *Conn) memberID(ctx context.Context, p *projectInfo, want connector.User) (int64, error) {
	for _, fresh := range []bool{false, true} {
		list, err := c.members(ctx, p, fresh)
		if err != nil {
			return 0, err
		}
		if u, ok := connector.MatchUser(usersOf(list), want); ok {
			for _, m := range list {
				if m.Username == u.ID {
					return m.ID, nil
				}
			}
		}
	}
	if want.Email != "" {
		// Member lists show no emails; the user search matches public
		// emails (and all of them for an administrator).
		r := httpx.Request{Method: http.MethodGet, Path: "/users", Query: url.Values{"search": {want.Email}}}
		var found []wireUser
		if _, err := c.getPage(ctx, r, &found); err != nil {
			return 0, fmt.Errorf("search user %s: %w", want.Email, err)
		}
		list, _ := c.members(ctx, p, false)
		if len(found) == 1 {
			for _, m := range list {
				if m.ID == found[0].ID {
					return m.ID, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("no member of %s is %s: %w", p.Path, connector.DescribeUser(want), connector.ErrInvalid)
}

func usersOf(list []wireUser) iter.Seq[connector.User] {
	return func(yield func(connector.User) bool) {
		for _, m := range list {
			if !yield(user(m)) {
				return
			}
		}
	}
}
