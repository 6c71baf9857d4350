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

// Normalize brings field values into the contract's closed set of shapes,
// at the boundary where entities enter the engine: nil, string, float64,
// bool, []string, User, and map[string]any for structured values that
// name no person. A *User becomes a User (a nil one, nil); the JSON object
// of a person (only id, email and name) becomes a User; whole numbers of
// any Go type become float64; a list of texts becomes []string. Everything
// downstream (mapping, hashing, the engine) then reads one shape per kind
// of value. The map is changed in place and returned.
func Normalize(f Fields) Fields {
	for k, v := range f {
		f[k] = NormalizeValue(v)
	}
	return f
}

// NormalizeValue is Normalize for one value.
func NormalizeValue(v any) any {
	switch x := v.(type) {
	case *User:
		if x == nil {
			return nil
		}
		return *x
	case map[string]any:
		if u, ok := AsUser(x); ok {
			return u
		}
	case int:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float32:
		return float64(x)
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return v
			}
			out = append(out, s)
		}
		return out
	}
	return v
}

// AsUser reports whether v names a person, and which: a User, a non-nil
// *User, or the JSON object of one (keys id, email and name only, texts,
// at least one not empty). It is the one reading of a person everything
// shares: mapping, the engine's user count and the connectors.
func AsUser(v any) (User, bool) {
	switch x := v.(type) {
	case User:
		return x, x != (User{})
	case *User:
		if x == nil {
			return User{}, false
		}
		return *x, *x != (User{})
	case map[string]any:
		var u User
		for k, val := range x {
			s, ok := val.(string)
			if !ok && val != nil {
				return User{}, false
			}
			switch k {
			case "id":
				u.ID = s
			case "email":
				u.Email = s
			case "name":
				u.Name = s
			default:
				return User{}, false
			}
		}
		return u, u != (User{})
	}
	return User{}, false
}

// UserValue reads a value written into a user field: a person (AsUser),
// or nothing (nil, a nil *User, an empty User), which clears the field and
// is the zero User. ok is false for anything else; a connector reads other
// forms (a login, an email, a number) its own way or refuses them.
func UserValue(v any) (u User, ok bool) {
	if u, ok := AsUser(v); ok {
		return u, true
	}
	switch x := v.(type) {
	case nil:
		return User{}, true
	case User:
		return User{}, true // the empty User: no one
	case *User:
		if x == nil || *x == (User{}) {
			return User{}, true
		}
	case map[string]any:
		// Lenient where a value is written: the person's fields are
		// taken, anything else in the object is left.
		var u User
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
