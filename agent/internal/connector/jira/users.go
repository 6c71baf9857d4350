package jira

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// usersFresh is how long a project's assignable users are trusted before
// a user that is not among them makes the connector read them again.
const usersFresh = time.Minute

type userCache struct {
	list []connector.User
	at   time.Time
}

// user converts Jira's user JSON. On Cloud the id is the accountId and the
// email is often hidden (then empty); on Server the id is the user name.
func (c *Conn) user(w *wireUser) connector.User {
	if w == nil {
		return connector.User{}
	}
	id := w.AccountID
	if !c.cloud {
		id = w.Name
	}
	return connector.User{ID: id, Email: w.EmailAddress, Name: w.DisplayName}
}

// assignable lists the users who can be assigned issues of project.
func (c *Conn) assignable(ctx context.Context, project string) ([]connector.User, error) {
	c.mu.Lock()
	uc, ok := c.users[project]
	c.mu.Unlock()
	if ok && c.now().Sub(uc.at) < usersFresh {
		return uc.list, nil
	}
	var list []wireUser
	q := url.Values{"project": {project}, "maxResults": {"1000"}}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: c.api + "/user/assignable/search", Query: q}, nil, &list); err != nil {
		return nil, fmt.Errorf("list assignable Jira users of %s: %w", project, err)
	}
	out := make([]connector.User, 0, len(list))
	for i := range list {
		out = append(out, c.user(&list[i]))
	}
	c.mu.Lock()
	c.users[project] = userCache{list: out, at: c.now()}
	c.mu.Unlock()
	return out, nil
}

// wantedUser reads a field value naming a user: a connector.User, its JSON
// form, or a string (an id, email or name).
func wantedUser(v any) (connector.User, bool, error) {
	want, ok := connector.UserValue(v)
	if s, isText := v.(string); isText {
		want, ok = connector.User{ID: s, Email: s, Name: s}, true
	}
	if !ok {
		return want, false, fmt.Errorf("a user, not %T: %w", v, connector.ErrInvalid)
	}
	return want, want != (connector.User{}), nil
}

// userRef finds the Jira user a value names and returns the JSON Jira
// takes for it ({"accountId"} on Cloud, {"name"} on Server), nil to clear.
// It looks among the project's assignable users by id, email, then display
// name, and then asks Jira's user search (Cloud hides most emails, so an
// email may only be found there, or not at all).
func (c *Conn) userRef(ctx context.Context, project string, v any) (any, error) {
	want, ok, err := wantedUser(v)
	if err != nil || !ok {
		return nil, err
	}
	ref := func(id string) any {
		if c.cloud {
			return map[string]string{"accountId": id}
		}
		return map[string]string{"name": id}
	}
	list, err := c.assignable(ctx, project)
	if err != nil {
		return nil, err
	}
	if id, ok := matchUser(slices.Values(list), want); ok {
		return ref(id), nil
	}
	for _, q := range []string{want.Email, want.Name} {
		if q == "" {
			continue
		}
		found, err := c.searchUsers(ctx, q)
		if err != nil {
			return nil, err
		}
		if id, ok := matchUser(slices.Values(found), want); ok {
			return ref(id), nil
		}
	}
	return nil, fmt.Errorf("no Jira user matches %s: %w", connector.DescribeUser(want), connector.ErrInvalid)
}

func (c *Conn) searchUsers(ctx context.Context, q string) ([]connector.User, error) {
	param := "query"
	if !c.cloud {
		param = "username"
	}
	var list []wireUser
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: c.api + "/user/search", Query: url.Values{param: {q}}}, nil, &list); err != nil {
		return nil, fmt.Errorf("search Jira users: %w", err)
	}
	out := make([]connector.User, 0, len(list))
	for i := range list {
		out = append(out, c.user(&list[i]))
	}
	return out, nil
}

// matchUser is the id of the user want names among users.
func matchUser(users iter.Seq[connector.User], want connector.User) (string, bool) {
	u, ok := connector.MatchUser(users, want)
	return u.ID, ok
}
