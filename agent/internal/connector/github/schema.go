package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// metaFresh is how long a repository's milestones and assignable users are
// trusted; a name the engine writes that is missing triggers a re-read.
const metaFresh = 10 * time.Minute

// maxPages bounds the pages of one list: far beyond any repository's
// labels or milestones, it only stops a server whose Link never ends.
const maxPages = 100

// repoMeta is what writes look names up in.
type repoMeta struct {
	at         time.Time
	milestones []wireMilestone
	assignees  []wireUser
}

// Link types: GitHub's sub-issues (parent and child) and issue
// dependencies (blocked by, blocking), read from the issue's side.
const (
	LinkParentOf  = "parent of"  // the target is a sub-issue of this issue
	LinkChildOf   = "child of"   // this issue is a sub-issue of the target
	LinkBlockedBy = "blocked by" // the target blocks this issue
	LinkBlocks    = "blocks"     // this issue blocks the target
)

// AttachmentsExtra is the Schema.Extra key saying what becomes of the other
// side's attachments (its one value is the system's attachments setting,
// apitype.AttachmentsComment or apitype.AttachmentsSkip): GitHub issues
// cannot hold files. The agent passes it on in systems.schema.
const AttachmentsExtra = "attachments"

// getAll reads every page of a list, following the Link header.
func getAll[T any](ctx context.Context, c *Conn, path string, q url.Values) ([]T, error) {
	if q == nil {
		q = url.Values{}
	}
	q.Set("per_page", strconv.Itoa(pageSize))
	var out []T
	for page := 1; page <= maxPages; {
		if page > 1 {
			q.Set("page", strconv.Itoa(page))
		}
		var list []T
		link, err := c.getJSON(ctx, path, q, &list)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
		next := nextPage(link)
		if next <= page || len(list) == 0 {
			return out, nil
		}
		page = next
	}
	return nil, fmt.Errorf("GET %s: paging does not end: %w", path, connector.ErrUnavailable)
}

// Validate reads the token's account, checks that the owner exists and, if
// a default repository is set, that the account can write its issues.
func (c *Conn) Validate(ctx context.Context) (string, error) {
	resp, err := c.http.Do(ctx, httpx.Request{Method: http.MethodGet, Path: "/user", Header: apiHeader()})
	if err != nil {
		return "", fmt.Errorf("check GitHub credentials: %w", err)
	}
	var me wireUser
	err = json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if err != nil || me.Login == "" {
		return "", fmt.Errorf("check GitHub credentials: GET /user did not name an account: %w", connector.ErrUnavailable)
	}
	msg := "Signed in to GitHub as " + me.Login
	// Classic tokens list their scopes; fine-grained and app tokens do
	// not, and show what they lack only when refused.
	if scopes, classic := resp.Header["X-Oauth-Scopes"]; classic {
		list := strings.Split(strings.Join(scopes, ","), ",")
		for i := range list {
			list[i] = strings.TrimSpace(list[i])
		}
		if !slices.Contains(list, "repo") && !slices.Contains(list, "public_repo") {
			return "", fmt.Errorf("check GitHub credentials: the classic token of %s has scopes %q, without repo (or public_repo for public repositories): %w",
				me.Login, strings.Join(list, ", "), connector.ErrForbidden)
		}
		msg += " (classic token, scopes " + strings.Join(list, ", ") + ")"
	}
	var owner wireUser
	if _, err := c.getJSON(ctx, "/users/"+url.PathEscape(c.owner), nil, &owner); err != nil {
		if errors.Is(err, connector.ErrNotFound) {
			return "", fmt.Errorf("check GitHub owner %s: no organization or user of that name: %w", c.owner, err)
		}
		return "", fmt.Errorf("check GitHub owner %s: %w", c.owner, err)
	}
	msg += "; owner " + owner.Login
	if owner.Type != "" {
		msg += " (" + strings.ToLower(owner.Type) + ")"
	}
	if c.repo != "" {
		repo, err := c.scope("")
		if err != nil {
			return "", fmt.Errorf("check GitHub repository: %w", err)
		}
		r, err := c.repository(ctx, repo)
		if err != nil {
			return "", err
		}
		if p := r.Permissions; p != nil && !(p.Admin || p.Maintain || p.Push || p.Triage) {
			return "", fmt.Errorf("check GitHub repository %s: %s can only read it; labels, assignees and states need at least the Triage role: %w",
				repo, me.Login, connector.ErrForbidden)
		}
		msg += "; repository " + repo.String() + " can be written"
	}
	return msg, nil
}

// repository reads a repository and checks that it keeps issues.
func (c *Conn) repository(ctx context.Context, repo repoRef) (wireRepo, error) {
	var r wireRepo
	if _, err := c.getJSON(ctx, repo.path(), nil, &r); err != nil {
		if errors.Is(err, connector.ErrNotFound) {
			return r, fmt.Errorf("read GitHub repository %s: it does not exist or the token cannot see it: %w", repo, err)
		}
		return r, fmt.Errorf("read GitHub repository %s: %w", repo, err)
	}
	if !r.HasIssues {
		return r, fmt.Errorf("read GitHub repository %s: its issues are turned off: %w", repo, connector.ErrInvalid)
	}
	if r.Archived {
		return r, fmt.Errorf("read GitHub repository %s: it is archived, and so read only: %w", repo, connector.ErrForbidden)
	}
	return r, nil
}

// Schema reads the repository's labels, milestones and assignable users.
func (c *Conn) Schema(ctx context.Context, project string) (connector.Schema, error) {
	repo, err := c.scope(project)
	if err != nil {
		return connector.Schema{}, fmt.Errorf("read GitHub schema: %w", err)
	}
	fail := func(err error) (connector.Schema, error) {
		return connector.Schema{}, fmt.Errorf("read GitHub schema of %s: %w", repo, err)
	}
	if _, err := c.repository(ctx, repo); err != nil {
		return connector.Schema{}, err
	}
	labels, err := getAll[wireLabel](ctx, c, repo.path("/labels"), nil)
	if err != nil {
		return fail(err)
	}
	meta, err := c.loadMeta(ctx, repo, true)
	if err != nil {
		return fail(err)
	}
	labelNames := make([]string, 0, len(labels))
	for _, l := range labels {
		labelNames = append(labelNames, l.Name)
	}
	logins := make([]string, 0, len(meta.assignees))
	users := make([]connector.User, 0, len(meta.assignees))
	for _, u := range meta.assignees {
		logins = append(logins, u.Login)
		users = append(users, connector.User{ID: u.Login, Name: u.Login, Email: u.Email})
	}
	var milestones []string
	for _, m := range meta.milestones {
		milestones = append(milestones, m.Title)
	}
	return connector.Schema{
		EntityTypes: []string{TypeIssue, TypePullRequest},
		Fields: []connector.FieldSchema{
			{Name: "title", Label: "Title", Type: connector.TypeString, Required: true},
			{Name: "description", Label: "Description", Type: connector.TypeText},
			{Name: "status", Label: "Status", Type: connector.TypeEnum, Values: []string{StatusOpen, StatusCompleted, StatusNotPlanned, StatusDuplicate}},
			{Name: "state", Label: "State", Type: connector.TypeEnum, Values: []string{"open", "closed"}},
			{Name: "stateReason", Label: "State reason", Type: connector.TypeEnum, Values: []string{StatusCompleted, StatusNotPlanned, StatusDuplicate, "reopened"}},
			{Name: "labels", Label: "Labels", Type: connector.TypeLabels, Values: labelNames},
			{Name: "assignee", Label: "Assignee", Type: connector.TypeUser},
			{Name: "assignees", Label: "Assignees", Type: connector.TypeLabels, Values: logins},
			{Name: "milestone", Label: "Milestone", Type: connector.TypeEnum, Values: milestones},
			{Name: "author", Label: "Author", Type: connector.TypeUser, ReadOnly: true},
		},
		LinkTypes: []string{LinkParentOf, LinkChildOf, LinkBlockedBy, LinkBlocks},
		Users:     users,
		Extra:     map[string][]any{AttachmentsExtra: {c.attach}},
	}, nil
}

// loadMeta returns a repository's milestones and assignable users, read
// again when stale or when refresh is set.
func (c *Conn) loadMeta(ctx context.Context, repo repoRef, refresh bool) (repoMeta, error) {
	c.mu.Lock()
	m, ok := c.meta[repo.String()]
	c.mu.Unlock()
	if ok && !refresh && c.now().Sub(m.at) < metaFresh {
		return m, nil
	}
	milestones, err := getAll[wireMilestone](ctx, c, repo.path("/milestones"), url.Values{"state": {"all"}})
	if err != nil {
		return repoMeta{}, fmt.Errorf("list milestones of %s: %w", repo, err)
	}
	assignees, err := getAll[wireUser](ctx, c, repo.path("/assignees"), nil)
	if err != nil {
		return repoMeta{}, fmt.Errorf("list assignable users of %s: %w", repo, err)
	}
	m = repoMeta{at: c.now(), milestones: milestones, assignees: assignees}
	c.mu.Lock()
	c.meta[repo.String()] = m
	c.mu.Unlock()
	return m, nil
}

// findUser finds the assignable user a value names: login first (GitHub
// logins ignore case), then email, then name.
func findUser(list []wireUser, want connector.User) (string, bool) {
	for _, u := range list {
		if want.ID != "" && strings.EqualFold(u.Login, want.ID) {
			return u.Login, true
		}
	}
	for _, u := range list {
		if want.Email != "" && strings.EqualFold(u.Email, want.Email) {
			return u.Login, true
		}
	}
	for _, u := range list {
		if want.Name != "" && (strings.EqualFold(u.Login, want.Name) || strings.EqualFold(u.Name, want.Name)) {
			return u.Login, true
		}
	}
	return "", false
}

// assignable resolves a user value to a login that can be assigned in
// repo; nil is "" (nobody). A plain string is a login.
func (c *Conn) assignable(ctx context.Context, repo repoRef, v any) (string, error) {
	want, ok := connector.UserValue(v)
	if s, isText := v.(string); isText {
		want, ok = connector.User{ID: strings.TrimPrefix(strings.TrimSpace(s), "@")}, true
	}
	if !ok {
		return "", fmt.Errorf("an assignee must be a user or a login, not %T: %w", v, connector.ErrInvalid)
	}
	if want == (connector.User{}) {
		return "", nil
	}
	for _, refresh := range []bool{false, true} {
		m, err := c.loadMeta(ctx, repo, refresh)
		if err != nil {
			return "", err
		}
		if login, ok := findUser(m.assignees, want); ok {
			return login, nil
		}
	}
	return "", fmt.Errorf("%s cannot be assigned in %s (not among its assignable users): %w", connector.DescribeUser(want), repo, connector.ErrInvalid)
}

// milestoneNumber resolves a milestone title to its number; nil and ""
// clear the milestone (JSON null).
func (c *Conn) milestoneNumber(ctx context.Context, repo repoRef, v any) (any, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case float64:
		return int(t), nil
	case string:
		if strings.TrimSpace(t) == "" {
			return nil, nil
		}
		for _, refresh := range []bool{false, true} {
			m, err := c.loadMeta(ctx, repo, refresh)
			if err != nil {
				return nil, err
			}
			for _, ms := range m.milestones {
				if ms.Title == t {
					return ms.Number, nil
				}
			}
		}
		return nil, fmt.Errorf("%s has no milestone %s: %w", repo, connector.Digest(t), connector.ErrInvalid)
	}
	return nil, fmt.Errorf("field milestone must be a milestone title, not %T: %w", v, connector.ErrInvalid)
}

// graphRequest is a GraphQL call: POST /graphql. Repeating it is safe for
// the one mutation the connector makes (a deleted issue stays deleted).
func graphRequest() httpx.Request {
	return httpx.Request{Method: http.MethodPost, Path: "/graphql", Idempotent: true}
}
