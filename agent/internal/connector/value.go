package connector

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
)

// Readers of field values as the engine passes them (see the contract's
// comment): each connector then turns them into its system's form.

// TextList reads a labels-like value: a []string, or the []any that JSON
// decoding makes of one; nil is the empty list. field names the value in
// errors. The result is a copy the caller may change.
func TextList(field string, v any) ([]string, error) {
	switch l := v.(type) {
	case nil:
		return []string{}, nil
	case []string:
		return slices.Clone(l), nil
	case []any:
		out := make([]string, 0, len(l))
		for _, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("field %s holds %T, not text: %w", field, e, ErrInvalid)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("field %s must be a list of text, not %T: %w", field, v, ErrInvalid)
}

// UserValue reads a value naming a user in the contract's own forms: a
// User, a *User, or the JSON object of one (id, email, name). nil and a
// nil *User are the zero User, which clears a user field. ok is false for
// anything else; a connector reads other forms (a login, an email, a
// number) its own way or refuses them.
func UserValue(v any) (u User, ok bool) {
	switch x := v.(type) {
	case nil:
		return User{}, true
	case User:
		return x, true
	case *User:
		if x == nil {
			return User{}, true
		}
		return *x, true
	case map[string]any:
		u.ID, _ = x["id"].(string)
		u.Email, _ = x["email"].(string)
		u.Name, _ = x["name"].(string)
		return u, true
	}
	return User{}, false
}

// MatchUser finds the user want names among users: by id, else by email,
// else by display name, the last two ignoring case. The first way that
// matches anyone decides, so an id is never outvoted by another user's
// name.
func MatchUser(users iter.Seq[User], want User) (User, bool) {
	for _, by := range []func(User) bool{
		func(u User) bool { return want.ID != "" && u.ID == want.ID },
		func(u User) bool { return want.Email != "" && strings.EqualFold(u.Email, want.Email) },
		func(u User) bool { return want.Name != "" && strings.EqualFold(u.Name, want.Name) },
	} {
		for u := range users {
			if by(u) {
				return u, true
			}
		}
	}
	return User{}, false
}

// RefName is how errors and logs name an entity: its key, else its id.
func RefName(ref Ref) string {
	if ref.Key != "" {
		return ref.Key
	}
	return ref.ID
}

// Day reads a date value: "YYYY-MM-DD", an RFC 3339 date and time (the
// calendar day it names where it was written), or a time.Time. ok is
// false for nil and "", which clear the field; each system has its own
// way of saying so.
func Day(field string, v any) (day string, ok bool, err error) {
	switch d := v.(type) {
	case nil:
		return "", false, nil
	case string:
		if d == "" {
			return "", false, nil
		}
		if _, err := time.Parse(time.DateOnly, d); err == nil {
			return d, true, nil
		}
		if t, err := time.Parse(time.RFC3339Nano, d); err == nil {
			return t.Format(time.DateOnly), true, nil
		}
		return "", false, fmt.Errorf("field %s: value %s is not a date (YYYY-MM-DD): %w", field, Digest(d), ErrInvalid)
	case time.Time:
		return d.Format(time.DateOnly), true, nil
	}
	return "", false, fmt.Errorf("field %s must be a date, not %T: %w", field, v, ErrInvalid)
}
