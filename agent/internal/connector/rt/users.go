package rt

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// usersFresh is how long a user's details are trusted. Tickets name users
// by login only; the cache turns a login into a User without a request
// per ticket.
const usersFresh = 5 * time.Minute

type userEntry struct {
	u  connector.User
	at time.Time
}

func userOf(w wireUser) connector.User {
	name := w.Name
	if name == "" {
		name = string(w.ID)
	}
	return connector.User{ID: name, Email: w.EmailAddress, Name: w.RealName}
}

// user resolves an RT login; if its record cannot be read, the login
// alone is still a usable User.
func (c *Conn) user(ctx context.Context, login string) connector.User {
	c.usersMu.Lock()
	e, ok := c.users[login]
	c.usersMu.Unlock()
	if ok && c.now().Sub(e.at) < usersFresh {
		return e.u
	}
	// A token that may not read other users gets the login alone, and
	// that is cached too, rather than asked again for every ticket.
	u := connector.User{ID: login}
	var w wireUser
	if err := c.getJSON(ctx, "/user/"+url.PathEscape(login), nil, &w); err == nil {
		u = userOf(w)
	}
	c.usersMu.Lock()
	c.users[login] = userEntry{u: u, at: c.now()}
	c.usersMu.Unlock()
	return u
}

// userWanted reads the engine's value of a user field.
func userWanted(v any) connector.User {
	if s, ok := v.(string); ok {
		if strings.Contains(s, "@") {
			return connector.User{Email: s}
		}
		return connector.User{ID: s}
	}
	u, _ := connector.UserValue(v)
	return u
}

// ownerName finds the RT login a value names: by login, else email, else
// real name. nil is "Nobody", RT's unowned.
func (c *Conn) ownerName(ctx context.Context, v any) (string, error) {
	switch v.(type) {
	case nil, connector.User, *connector.User, map[string]any, string:
	default:
		return "", fmt.Errorf("field owner must be a user, not %T: %w", v, connector.ErrInvalid)
	}
	want := userWanted(v)
	if want == (connector.User{}) {
		return "Nobody", nil
	}
	if want.ID != "" {
		var w wireUser
		err := c.getJSON(ctx, "/user/"+url.PathEscape(want.ID), nil, &w)
		if err == nil && w.Name != "" {
			return w.Name, nil
		}
		if err != nil && !errors.Is(err, connector.ErrNotFound) {
			return "", fmt.Errorf("look up RT user %s: %w", want.ID, err)
		}
	}
	for _, by := range []struct{ field, value string }{{"EmailAddress", want.Email}, {"RealName", want.Name}} {
		if by.value == "" {
			continue
		}
		q := pageQuery(2, 1)
		q.Set("fields", "Name,EmailAddress,RealName")
		var page wirePage[wireUser]
		query := []map[string]any{{"field": by.field, "value": by.value}}
		if err := c.search(ctx, "/users", q, query, &page); err != nil {
			return "", fmt.Errorf("look up RT user by %s: %w", by.field, err)
		}
		if len(page.Items) == 1 {
			return userOf(page.Items[0]).ID, nil
		}
	}
	return "", fmt.Errorf("no RT user matches %s: %w", connector.DescribeUser(want), connector.ErrInvalid)
}

// listUsers reads the enabled users for the schema; RT shows the user
// list to administrators only, so a refusal is an empty list.
func (c *Conn) listUsers(ctx context.Context) ([]connector.User, error) {
	var out []connector.User
	for page := 1; ; page++ {
		q := pageQuery(maxPage, page)
		q.Set("fields", "Name,EmailAddress,RealName,Disabled")
		var p wirePage[wireUser]
		err := c.getJSON(ctx, "/users", q, &p)
		if errors.Is(err, connector.ErrForbidden) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list RT users: %w", err)
		}
		for _, w := range p.Items {
			if w.Name == "RT_System" || w.Name == "Nobody" || (w.Disabled != "" && w.Disabled != "0") {
				continue
			}
			out = append(out, userOf(w))
		}
		if len(p.Items) < maxPage {
			return out, nil
		}
	}
}
