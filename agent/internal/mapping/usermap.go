package mapping

import (
	"fmt"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// LookupUser finds the person u (of the source side of dir) in the map and
// returns the same person on the other side. Comparison ignores case and
// surrounding space. With MatchAuto it tries the account id, then the email,
// then the display name; a display name shared by entries that map to
// different people is ambiguous and matches nothing, because guessing a
// person is worse than reporting no match. Among entries that match by the
// same key, the first in list order wins.
func LookupUser(m UserMap, u connector.User, dir Direction) (connector.User, bool) {
	for _, by := range userKeys(m) {
		want := strings.TrimSpace(userKey(u, by))
		if want == "" {
			continue
		}
		if r, ok := findUser(m, want, by, dir); ok {
			return r, true
		}
	}
	return connector.User{}, false
}

// userKeys lists the identities tried, in order.
func userKeys(m UserMap) []MatchBy {
	switch m.MatchBy {
	case MatchID, MatchEmail, MatchName:
		return []MatchBy{m.MatchBy}
	}
	return []MatchBy{MatchID, MatchEmail, MatchName}
}

func userKey(u connector.User, by MatchBy) string {
	switch by {
	case MatchID:
		return u.ID
	case MatchEmail:
		return u.Email
	}
	return u.Name
}

func refKey(r UserRef, by MatchBy) string { return userKey(UserOf(r), by) }

func findUser(m UserMap, want string, by MatchBy, dir Direction) (connector.User, bool) {
	var found *UserRef
	for i := range m.Entries {
		from, to := &m.Entries[i].A, &m.Entries[i].B
		if dir == BtoA {
			from, to = to, from
		}
		if !strings.EqualFold(strings.TrimSpace(refKey(*from, by)), want) {
			continue
		}
		if found == nil {
			found = to
			if by != MatchName {
				break
			}
			continue
		}
		if !sameRef(*found, *to) {
			return connector.User{}, false // ambiguous display name
		}
	}
	if found == nil {
		return connector.User{}, false
	}
	return UserOf(*found), true
}

func sameRef(a, b UserRef) bool {
	return strings.EqualFold(a.ID, b.ID) && strings.EqualFold(a.Email, b.Email) && strings.EqualFold(a.Name, b.Name)
}

// MapUser maps a user field's value flowing in dir: a user (connector.User or
// its JSON form), a string naming one (matched as an id, email or name), or
// a list of those. field names the source field in errors.
func MapUser(m UserMap, v any, dir Direction, field string) (any, error) {
	if isEmpty(v) {
		return nil, nil
	}
	if l, ok := list(v); ok {
		out := make([]connector.User, 0, len(l))
		for _, e := range l {
			r, err := mapUserOne(m, e, dir, field)
			if err != nil {
				return nil, err
			}
			if u, ok := toUser(r); ok && u != (connector.User{}) && !containsUser(out, u) {
				out = append(out, u)
			}
		}
		return out, nil
	}
	return mapUserOne(m, v, dir, field)
}

func containsUser(list []connector.User, u connector.User) bool {
	for _, x := range list {
		if x == u {
			return true
		}
	}
	return false
}

func mapUserOne(m UserMap, v any, dir Direction, field string) (any, error) {
	if isEmpty(v) {
		return nil, nil
	}
	u, ok := toUser(v)
	if !ok {
		s, isText := v.(string)
		if !isText {
			return nil, fmt.Errorf("map %s: %T is not a user", field, v)
		}
		// A bare string may be any of the three identities.
		s = strings.TrimSpace(s)
		u = connector.User{ID: s, Email: s, Name: s}
	}
	if r, ok := LookupUser(m, u, dir); ok {
		if r == (connector.User{}) {
			return nil, nil
		}
		return r, nil
	}
	def := m.DefaultB
	if dir == BtoA {
		def = m.DefaultA
	}
	switch onMissing(m.OnMissing, def != nil, OnMissingKeep) {
	case OnMissingDefault:
		if def == nil {
			return nil, fmt.Errorf("map %s user %s: %w and no default for this direction", field, describeUser(v), errNoUser)
		}
		if *def == (UserRef{}) {
			return nil, nil
		}
		return UserOf(*def), nil
	case OnMissingKeep:
		if _, isText := v.(string); isText {
			return v, nil
		}
		return u, nil
	case OnMissingEmpty:
		return nil, nil
	}
	return nil, fmt.Errorf("map %s user %s: %w", field, describeUser(v), errNoUser)
}

// describeUser names a person in an error: their id, and only digests of
// an email or a name (a bare text may be any of them), since errors are
// stored (connector.DescribeUser).
func describeUser(v any) string {
	if s, ok := v.(string); ok {
		return connector.Digest(strings.TrimSpace(s))
	}
	u, _ := toUser(v)
	return connector.DescribeUser(u)
}
