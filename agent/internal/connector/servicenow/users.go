package servicenow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Users and other references. A reference field holds a sys_id; the
// engine sees users as connector.User (the sys_id, email and name) and
// other references by their display value. Writing one looks the record
// up: users by sys_id, user_name, email, then name; other records by
// their table's display field. Answers are remembered for a while.

const userTTL = 10 * time.Minute

type userEntry struct {
	user connector.User
	id   string // a resolved reference's sys_id
	at   time.Time
}

func (c *Conn) cached(key string) (userEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.users[key]
	if !ok || c.now().Sub(e.at) > userTTL {
		return userEntry{}, false
	}
	return e, true
}

func (c *Conn) remember(key string, e userEntry) {
	e.at = c.now()
	c.mu.Lock()
	c.users[key] = e
	c.mu.Unlock()
}

// userOf reads a user field of a record.
func userOf(r record, element string) any {
	v := r[element]
	if v.Value == "" {
		return nil
	}
	return connector.User{ID: v.Value, Name: v.Display, Email: r.get(element + ".email")}
}

// resolveUser finds the sys_id of the user v names; "" clears the field.
func (c *Conn) resolveUser(ctx context.Context, field string, v any) (string, error) {
	u, ok := connector.UserValue(v)
	if !ok {
		s, isText := v.(string)
		if !isText {
			return "", fmt.Errorf("field %s must be a user, not %T: %w", field, v, connector.ErrInvalid)
		}
		if strings.Contains(s, "@") {
			u = connector.User{Email: s}
		} else {
			u = connector.User{ID: s}
		}
	}
	u.ID, u.Email, u.Name = strings.TrimSpace(u.ID), strings.TrimSpace(u.Email), strings.TrimSpace(u.Name)
	if u == (connector.User{}) {
		return "", nil
	}
	key := "user:" + u.ID + "|" + u.Email + "|" + u.Name
	if e, ok := c.cached(key); ok {
		return e.id, nil
	}
	var terms []string
	if sysIDs.MatchString(u.ID) {
		terms = append(terms, "sys_id="+u.ID)
	}
	if u.ID != "" {
		terms = append(terms, "user_name="+quote(u.ID))
	}
	if u.Email != "" {
		terms = append(terms, "email="+quote(u.Email))
	}
	if u.Name != "" {
		terms = append(terms, "name="+quote(u.Name))
	}
	recs, err := c.list(ctx, "sys_user", strings.Join(terms, "^OR"), []string{"sys_id", "user_name", "name", "email", "active"}, 50, 0)
	if err != nil {
		return "", fmt.Errorf("find the ServiceNow user for %s: %w", field, err)
	}
	// The first way that matches anyone decides; two people matching
	// it are ambiguous, never a guess.
	for _, by := range []struct {
		what string
		ok   func(r record) bool
	}{
		{"sys_id", func(r record) bool { return u.ID != "" && r.get("sys_id") == u.ID }},
		{"user name", func(r record) bool { return u.ID != "" && strings.EqualFold(r.get("user_name"), u.ID) }},
		{"email", func(r record) bool { return u.Email != "" && strings.EqualFold(r.get("email"), u.Email) }},
		{"name", func(r record) bool { return u.Name != "" && strings.EqualFold(r.get("name"), u.Name) }},
	} {
		var hits []record
		for _, r := range recs {
			if by.ok(r) {
				hits = append(hits, r)
			}
		}
		if len(hits) > 1 {
			var active []record
			for _, h := range hits {
				if h.get("active") != "false" {
					active = append(active, h)
				}
			}
			hits = active
		}
		switch len(hits) {
		case 0:
			continue
		case 1:
			c.remember(key, userEntry{id: hits[0].get("sys_id")})
			return hits[0].get("sys_id"), nil
		default:
			return "", fmt.Errorf("field %s: %d ServiceNow users have the %s of %s: %w", field, len(hits), by.what, connector.DescribeUser(u), connector.ErrInvalid)
		}
	}
	return "", fmt.Errorf("field %s: no ServiceNow user matches %s: %w", field, connector.DescribeUser(u), connector.ErrInvalid)
}

// authors finds the users whose user_name wrote journal entries.
func (c *Conn) authors(ctx context.Context, userNames []string) map[string]connector.User {
	out := map[string]connector.User{}
	var ask []string
	for _, n := range userNames {
		if n == "" {
			continue
		}
		if e, ok := c.cached("author:" + n); ok {
			out[n] = e.user
		} else if !slices.Contains(ask, n) {
			ask = append(ask, n)
		}
	}
	if len(ask) > 0 {
		recs, err := c.list(ctx, "sys_user", "user_nameIN"+strings.Join(ask, ","), []string{"sys_id", "user_name", "name", "email"}, len(ask)+10, 0)
		if err != nil {
			c.log.Warn().Err(err).Msg("could not read the authors of ServiceNow journal entries")
		}
		for _, r := range recs {
			u := connector.User{ID: r.get("sys_id"), Name: r.get("name"), Email: r.get("email")}
			out[r.get("user_name")] = u
			c.remember("author:"+r.get("user_name"), userEntry{user: u})
		}
	}
	for _, n := range userNames {
		if _, ok := out[n]; !ok && n != "" {
			out[n] = connector.User{Name: n} // "system", or a user since deleted
		}
	}
	return out
}

// resolveRef finds the sys_id of the record of f's table whose display
// value is v; "" clears the field.
func (c *Conn) resolveRef(ctx context.Context, f *fieldInfo, v any) (string, error) {
	s, ok := v.(string)
	if v != nil && !ok {
		return "", fmt.Errorf("field %s must be text naming a %s record, not %T: %w", f.name, f.ref, v, connector.ErrInvalid)
	}
	if s = strings.TrimSpace(s); s == "" {
		return "", nil
	}
	if sysIDs.MatchString(s) {
		return s, nil
	}
	key := "ref:" + f.ref + "|" + s
	if e, ok := c.cached(key); ok {
		return e.id, nil
	}
	recs, err := c.list(ctx, f.ref, f.refShow+"="+quote(s), []string{"sys_id", f.refShow}, 5, 0)
	if err != nil {
		return "", fmt.Errorf("find the %s record %q for %s: %w", f.ref, s, f.name, err)
	}
	var hits []string
	for _, r := range recs {
		if strings.EqualFold(r.get(f.refShow), s) {
			hits = append(hits, r.get("sys_id"))
		}
	}
	switch len(hits) {
	case 0:
		return "", fmt.Errorf("field %s: no %s record has the %s %s: %w", f.name, f.ref, f.refShow, connector.Digest(s), connector.ErrInvalid)
	case 1:
		c.remember(key, userEntry{id: hits[0]})
		return hits[0], nil
	}
	return "", fmt.Errorf("field %s: %d %s records have the %s %s: %w", f.name, len(hits), f.ref, f.refShow, connector.Digest(s), connector.ErrInvalid)
}
