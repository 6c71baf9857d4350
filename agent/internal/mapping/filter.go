package mapping

import (
	"fmt"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// MatchFilter reports whether fields satisfy the filter f. Comparisons of text
// ignore case and surrounding space. On a list field (labels), eq and
// contains mean "has the value", in means "has any of the values", and the
// negations are their opposites. gt and lt compare numbers, then dates and
// times, then text; a field with no value is neither greater nor less. A
// user compares by id, email or display name. An error means the filter
// itself is broken (unknown operator, bad pattern, a list value for gt);
// Validate reports those when the mapping is saved.
func MatchFilter(f Filter, fields connector.Fields) (bool, error) {
	v := fields[f.Field]
	switch f.Op {
	case OpEmpty:
		return isEmpty(v), nil
	case OpNotEmpty:
		return !isEmpty(v), nil
	case OpEq, OpContains:
		want, err := filterScalar(f)
		if err != nil {
			return false, err
		}
		return has(v, want, f.Op == OpContains), nil
	case OpNeq, OpNotContains:
		want, err := filterScalar(f)
		if err != nil {
			return false, err
		}
		return !has(v, want, f.Op == OpNotContains), nil
	case OpIn, OpNotIn:
		wants, err := filterValues(f)
		if err != nil {
			return false, err
		}
		hit := false
		for _, w := range wants {
			hit = hit || has(v, w, false)
		}
		return hit == (f.Op == OpIn), nil
	case OpGt, OpLt:
		want, err := filterScalar(f)
		if err != nil {
			return false, err
		}
		if isEmpty(v) {
			return false, nil
		}
		if _, isList := list(v); isList {
			return false, fmt.Errorf("filter %s %s: the field holds a list, which has no order", f.Field, f.Op)
		}
		c := compare(v, want)
		return (f.Op == OpGt && c > 0) || (f.Op == OpLt && c < 0), nil
	case OpMatches:
		pattern, err := filterScalar(f)
		if err != nil {
			return false, err
		}
		re, err := compileRegex(pattern)
		if err != nil {
			return false, fmt.Errorf("filter %s matches: %w", f.Field, err)
		}
		for _, s := range texts(v) {
			if re.MatchString(s) {
				return true, nil
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("filter %s: unknown operator %q", f.Field, f.Op)
}

// MatchAll reports whether fields satisfy every filter (an empty list
// matches everything).
func MatchAll(filters []Filter, fields connector.Fields) (bool, error) {
	for i, f := range filters {
		ok, err := MatchFilter(f, fields)
		if err != nil {
			return false, fmt.Errorf("match filters[%d]: %w", i, err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// MatchPair reports whether e, an entity of side (SideA or SideB), passes the
// pair's filters for that side. Besides e's fields, filters can name id,
// key, title, url and type; a field of that name wins.
func MatchPair(p TypePair, side Side, e connector.Entity) (bool, error) {
	var fields connector.Fields
	for i, f := range p.Filters {
		if filterSide(f) != side {
			continue
		}
		if fields == nil {
			fields = make(connector.Fields, len(e.Fields)+5)
			for k, v := range map[string]string{"id": e.ID, "key": e.Key, "title": e.Title, "url": e.URL, "type": e.Type} {
				fields[k] = v
			}
			for k, v := range e.Fields {
				fields[k] = v
			}
		}
		ok, err := MatchFilter(f, fields)
		if err != nil {
			return false, fmt.Errorf("match filters[%d]: %w", i, err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func filterSide(f Filter) Side {
	if f.Side == "" {
		return SideA
	}
	return f.Side
}

// filterScalar is the filter's value as text.
func filterScalar(f Filter) (string, error) {
	if f.Value == nil {
		return "", nil
	}
	if s, ok := scalarString(f.Value); ok {
		return s, nil
	}
	return "", fmt.Errorf("filter %s %s: the value must be a single value, not %T", f.Field, f.Op, f.Value)
}

// filterValues is the filter's value as a list of texts; a single value
// is a list of one.
func filterValues(f Filter) ([]string, error) {
	if l, ok := list(f.Value); ok {
		out := make([]string, 0, len(l))
		for _, e := range l {
			s, ok := scalarString(e)
			if !ok {
				return nil, fmt.Errorf("filter %s %s: list elements must be single values, not %T", f.Field, f.Op, e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := filterScalar(f)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

// texts are the texts a value can be compared by: one per list element,
// and a user's id, email and name.
func texts(v any) []string {
	if l, ok := list(v); ok {
		var out []string
		for _, e := range l {
			out = append(out, texts(e)...)
		}
		return out
	}
	if u, ok := toUser(v); ok {
		return []string{u.ID, u.Email, u.Name}
	}
	if v == nil {
		return nil
	}
	return []string{display(v)}
}

// has reports whether v equals want (or contains it as a substring, for
// text with substring set), ignoring case.
func has(v any, want string, substring bool) bool {
	w := fold(want)
	ts := texts(v)
	if len(ts) == 0 {
		return w == ""
	}
	_, isList := list(v)
	for _, t := range ts {
		t = fold(t)
		if t == w || (substring && !isList && strings.Contains(t, w)) {
			return true
		}
	}
	return false
}

// compare orders a field value against the filter's text: as numbers when
// both are numbers, as times when both are dates or times, else as text.
func compare(v any, want string) int {
	if a, ok := number(v); ok {
		if b, ok := number(want); ok {
			switch {
			case a < b:
				return -1
			case a > b:
				return 1
			}
			return 0
		}
	}
	s := display(v)
	if a, ok := parseDateTime(s); ok {
		if b, ok := parseDateTime(want); ok {
			return a.Compare(b)
		}
	}
	return strings.Compare(fold(s), fold(want))
}
