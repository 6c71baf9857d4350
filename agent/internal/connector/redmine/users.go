package redmine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// usersFresh is how long the user list is trusted before an unknown user
// makes the connector read it again. Issues carry only a user's id and
// display name; the list adds the email (administrators only).
const usersFresh = time.Minute

// loadUsers reads the people issues of project can name: every active
// user when the key is an administrator's (/users.json), else the
// project's members (users and groups), which are what Redmine lets an
// issue be assigned to.
func (c *Conn) loadUsers(ctx context.Context, project string) ([]connector.User, error) {
	var out []connector.User
	for offset := 0; ; offset += maxPage {
		var page struct {
			Users      []wireUser `json:"users"`
			TotalCount int        `json:"total_count"`
		}
		err := c.get(ctx, "/users.json", url.Values{"status": {"1"}, "limit": {strconv.Itoa(maxPage)}, "offset": {strconv.Itoa(offset)}}, &page)
		if errors.Is(err, connector.ErrForbidden) || errors.Is(err, connector.ErrUnauthorized) {
			return c.loadMembers(ctx, project)
		}
		if err != nil {
			return nil, fmt.Errorf("list redmine users: %w", err)
		}
		for _, u := range page.Users {
			out = append(out, connector.User{ID: itoa(u.ID), Email: u.Mail, Name: strings.TrimSpace(u.Firstname + " " + u.Lastname)})
		}
		if len(page.Users) == 0 || offset+len(page.Users) >= page.TotalCount {
			break
		}
	}
	c.setUsers(out)
	return out, nil
}

func (c *Conn) loadMembers(ctx context.Context, project string) ([]connector.User, error) {
	if project == "" {
		return nil, fmt.Errorf("list redmine users: the key may not list all users and no project is set: %w", connector.ErrForbidden)
	}
	var out []connector.User
	path := "/projects/" + url.PathEscape(project) + "/memberships.json"
	for offset := 0; ; offset += maxPage {
		var page struct {
			Memberships []wireMembership `json:"memberships"`
			TotalCount  int              `json:"total_count"`
		}
		if err := c.get(ctx, path, url.Values{"limit": {strconv.Itoa(maxPage)}, "offset": {strconv.Itoa(offset)}}, &page); err != nil {
			return nil, fmt.Errorf("list redmine members of %s: %w", project, err)
		}
		for _, m := range page.Memberships {
			switch {
			case m.User != nil:
				out = append(out, connector.User{ID: itoa(m.User.ID), Name: m.User.Name})
			case m.Group != nil:
				out = append(out, connector.User{ID: itoa(m.Group.ID), Name: m.Group.Name})
			}
		}
		if len(page.Memberships) == 0 || offset+len(page.Memberships) >= page.TotalCount {
			break
		}
	}
	c.setUsers(out)
	return out, nil
}

func (c *Conn) setUsers(list []connector.User) {
	m := make(map[string]connector.User, len(list))
	for _, u := range list {
		m[u.ID] = u
	}
	c.usersMu.Lock()
	c.users, c.usersAt = m, c.now()
	c.usersMu.Unlock()
}

func (c *Conn) cachedUsers() (map[string]connector.User, bool) {
	c.usersMu.Lock()
	defer c.usersMu.Unlock()
	return c.users, c.users != nil && c.now().Sub(c.usersAt) < usersFresh
}

// user turns an issue's {id, name} into a User, adding the email when the
// cached list has it. It never makes a request: a list of issues must not
// cost a request per assignee.
func (c *Conn) user(r *wireRef) any {
	if r == nil {
		return nil
	}
	u := connector.User{ID: itoa(r.ID), Name: r.Name}
	if users, _ := c.cachedUsers(); users != nil {
		if known, ok := users[u.ID]; ok && known.Email != "" {
			u.Email = known.Email
		}
	}
	return u
}

// userID finds the Redmine user (or group) a value names: by id, else
// email, else display name or login. nil clears.
func (c *Conn) userID(ctx context.Context, project, field string, v any) (any, error) {
	want, ok := connector.UserValue(v)
	switch u := v.(type) {
	case string:
		if u == "" {
			return "", nil
		}
		want = connector.User{ID: u, Email: u, Name: u}
	case float64:
		want = connector.User{ID: strconv.FormatInt(int64(u), 10)}
	default:
		if !ok {
			return nil, fmt.Errorf("field %s must be a user, not %T: %w", field, v, connector.ErrInvalid)
		}
	}
	if want == (connector.User{}) {
		return "", nil
	}
	users, fresh := c.cachedUsers()
	if id, ok := matchUser(users, want); ok {
		return id, nil
	}
	if !fresh || users == nil {
		list, err := c.loadUsers(ctx, project)
		if err != nil {
			return nil, err
		}
		m := make(map[string]connector.User, len(list))
		for _, u := range list {
			m[u.ID] = u
		}
		if id, ok := matchUser(m, want); ok {
			return id, nil
		}
	}
	// An id Redmine knows but the list lacks (a locked user, a group when
	// the key lists users) is still worth sending: Redmine decides.
	if _, err := strconv.ParseInt(want.ID, 10, 64); err == nil {
		return want.ID, nil
	}
	return nil, fmt.Errorf("field %s: no Redmine user matches %s: %w", field, connector.DescribeUser(want), connector.ErrInvalid)
}

// matchUser is the id of the user want names among users (by id).
func matchUser(users map[string]connector.User, want connector.User) (string, bool) {
	u, ok := connector.MatchUser(maps.Values(users), want)
	return u.ID, ok
}
