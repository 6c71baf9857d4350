package sandboxconn

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// usersFresh is how long the user list is trusted before an unknown id or
// email makes the connector read it again. Items carry only the
// assignee's id; the cache turns it into a User without a request per item.
const usersFresh = 10 * time.Second

func (c *Conn) cachedUsers() map[string]connector.User {
	c.usersMu.Lock()
	defer c.usersMu.Unlock()
	return c.users
}

func (c *Conn) setUsers(list []wireUser) {
	m := make(map[string]connector.User, len(list))
	for _, u := range list {
		m[u.ID] = connector.User{ID: u.ID, Email: u.Email, Name: u.Name}
	}
	c.usersMu.Lock()
	c.users, c.usersAt = m, c.now()
	c.usersMu.Unlock()
}

// loadUsers reads the user list unless it is fresh.
func (c *Conn) loadUsers(ctx context.Context) error {
	c.usersMu.Lock()
	fresh := c.users != nil && c.now().Sub(c.usersAt) < usersFresh
	c.usersMu.Unlock()
	if fresh {
		return nil
	}
	var out struct {
		Users []wireUser `json:"users"`
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodGet, Path: "/api/users"}, nil, &out); err != nil {
		return fmt.Errorf("list sandbox users: %w", err)
	}
	c.setUsers(out.Users)
	return nil
}

// user resolves an id; if the list cannot be read, the id alone is still
// a usable User.
func (c *Conn) user(ctx context.Context, id string) connector.User {
	if u, ok := c.cachedUsers()[id]; ok {
		return u
	}
	if c.loadUsers(ctx) == nil {
		if u, ok := c.cachedUsers()[id]; ok {
			return u
		}
	}
	return connector.User{ID: id}
}

// assigneeID finds the sandbox user a value names: by id, else email,
// else display name.
func (c *Conn) assigneeID(ctx context.Context, v any) (any, error) {
	want, ok := connector.UserValue(v)
	if s, isText := v.(string); isText {
		want, ok = connector.User{ID: s, Email: s}, true
	}
	if !ok {
		return nil, fmt.Errorf("field assignee must be a user, not %T: %w", v, connector.ErrInvalid)
	}
	if want == (connector.User{}) {
		return nil, nil
	}
	if id, ok := match(c.cachedUsers(), want); ok {
		return id, nil
	}
	if err := c.loadUsers(ctx); err != nil {
		return nil, err
	}
	if id, ok := match(c.cachedUsers(), want); ok {
		return id, nil
	}
	return nil, fmt.Errorf("no sandbox user matches %s: %w", connector.DescribeUser(want), connector.ErrInvalid)
}

// match is the id of the user want names among users (by id).
func match(users map[string]connector.User, want connector.User) (string, bool) {
	u, ok := connector.MatchUser(maps.Values(users), want)
	return u.ID, ok
}
