package snemu

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Encoded queries: conditions joined by ^ (and), ^OR (or, with the
// condition before), ^NQ (a new query, or'ed with the ones before);
// ORDERBY<field> and ORDERBYDESC<field>; a literal ^ in a value is ^^.
// Operators: = != > >= < <= IN NOT IN STARTSWITH ENDSWITH LIKE NOT LIKE
// ISEMPTY ISNOTEMPTY. Date-time values in plain text are UTC; a value
// javascript:gs.dateGenerate('yyyy-MM-dd','HH:mm:ss') is read in the
// user's time zone. A condition naming a field the table does not have
// is dropped (the rest of the query still applies) unless
// InvalidQueryReturnsNoRows is set.

type cond struct {
	field, op, value string
	or               []cond // conditions or'ed with this one
}

type order struct {
	field string
	desc  bool
}

type query struct {
	groups  [][]cond // or'ed groups of and'ed conditions
	orders  []order
	invalid bool // a condition named an unknown field
}

var operators = []string{"NOT IN", "NOT LIKE", "STARTSWITH", "ENDSWITH", "ISNOTEMPTY", "ISEMPTY", "LIKE", "IN", "!=", ">=", "<=", "=", ">", "<"}

var fieldName = regexp.MustCompile(`^[a-z0-9_.]+`)

// splitTerms splits on ^ that is not part of ^^.
func splitTerms(q string) []string {
	var out []string
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if q[i] == '^' {
			if i+1 < len(q) && q[i+1] == '^' {
				b.WriteByte('^')
				i++
				continue
			}
			out = append(out, b.String())
			b.Reset()
			continue
		}
		b.WriteByte(q[i])
	}
	return append(out, b.String())
}

func parseCond(term string) (cond, bool) {
	name := fieldName.FindString(term)
	if name == "" {
		return cond{}, false
	}
	rest := term[len(name):]
	for _, op := range operators {
		if strings.HasPrefix(rest, op) {
			return cond{field: name, op: op, value: rest[len(op):]}, true
		}
	}
	return cond{}, false
}

// parseQuery reads an encoded query for table.
func (e *Emu) parseQuery(table, q string) query {
	var out query
	cur := []cond{}
	for _, term := range splitTerms(q) {
		switch {
		case term == "" || term == "EQ":
			continue
		case strings.HasPrefix(term, "ORDERBYDESC"):
			out.orders = append(out.orders, order{field: strings.TrimPrefix(term, "ORDERBYDESC"), desc: true})
			continue
		case strings.HasPrefix(term, "ORDERBY"):
			out.orders = append(out.orders, order{field: strings.TrimPrefix(term, "ORDERBY")})
			continue
		case strings.HasPrefix(term, "NQ"):
			out.groups = append(out.groups, cur)
			cur = []cond{}
			term = strings.TrimPrefix(term, "NQ")
		}
		isOr := strings.HasPrefix(term, "OR") && !strings.HasPrefix(term, "ORDERBY")
		if isOr {
			term = strings.TrimPrefix(term, "OR")
		}
		c, ok := parseCond(term)
		if !ok || !e.knownPath(table, c.field) {
			out.invalid = true
			continue
		}
		if isOr && len(cur) > 0 {
			cur[len(cur)-1].or = append(cur[len(cur)-1].or, c)
			continue
		}
		cur = append(cur, c)
	}
	out.groups = append(out.groups, cur)
	return out
}

// knownPath reports whether a field (dot-walked through references) exists.
func (e *Emu) knownPath(table, path string) bool {
	_, _, ok := resolvePath(table, path)
	return ok
}

// resolvePath finds the table and field a dot-walked path ends on.
func resolvePath(table, path string) (string, fieldDef, bool) {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		f, ok := fieldOf(table, p)
		if !ok {
			return "", fieldDef{}, false
		}
		if i == len(parts)-1 {
			return table, f, true
		}
		if f.typ != "reference" {
			return "", fieldDef{}, false
		}
		table = f.ref
	}
	return "", fieldDef{}, false
}

// valueAt is the internal value at a dot-walked path of r. The caller
// holds e.mu.
func (e *Emu) valueAt(r *record, path string) string {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		v := r.vals[p]
		if i == len(parts)-1 {
			return v
		}
		if r = e.records[v]; r == nil {
			return ""
		}
	}
	return ""
}

// matches reports whether r satisfies q; u is the user whose time zone
// reads gs.dateGenerate. The caller holds e.mu.
func (e *Emu) matches(r *record, q query, u *User) bool {
	if q.invalid && e.o.InvalidQueryReturnsNoRows {
		return false
	}
	for _, g := range q.groups {
		ok := true
		for _, c := range g {
			if !e.matchOne(r, c, u) && !slices.ContainsFunc(c.or, func(o cond) bool { return e.matchOne(r, o, u) }) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

var dateGenerate = regexp.MustCompile(`^javascript:gs\.dateGenerate\('(\d{4}-\d{2}-\d{2})','(\d{2}:\d{2}:\d{2})'\)$`)

func (e *Emu) matchOne(r *record, c cond, u *User) bool {
	_, f, _ := resolvePath(r.class, c.field)
	have := e.valueAt(r, c.field)
	want := c.value
	if m := dateGenerate.FindStringSubmatch(want); m != nil {
		loc, err := time.LoadLocation(u.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		if t, err := time.ParseInLocation(stamp, m[1]+" "+m[2], loc); err == nil {
			want = t.UTC().Format(stamp)
		}
	}
	cmp := func(a, b string) int { return compare(f.typ, a, b) }
	switch c.op {
	case "=":
		return cmp(have, want) == 0
	case "!=":
		return cmp(have, want) != 0
	case ">":
		return have != "" && cmp(have, want) > 0
	case ">=":
		return have != "" && cmp(have, want) >= 0
	case "<":
		return have != "" && cmp(have, want) < 0
	case "<=":
		return have != "" && cmp(have, want) <= 0
	case "IN", "NOT IN":
		in := slices.ContainsFunc(strings.Split(want, ","), func(v string) bool { return cmp(have, v) == 0 })
		return in == (c.op == "IN")
	case "STARTSWITH":
		return strings.HasPrefix(strings.ToLower(have), strings.ToLower(want))
	case "ENDSWITH":
		return strings.HasSuffix(strings.ToLower(have), strings.ToLower(want))
	case "LIKE":
		return strings.Contains(strings.ToLower(have), strings.ToLower(want))
	case "NOT LIKE":
		return !strings.Contains(strings.ToLower(have), strings.ToLower(want))
	case "ISEMPTY":
		return have == ""
	case "ISNOTEMPTY":
		return have != ""
	}
	return false
}

// compare orders two internal values of a field type: numbers as
// numbers, everything else as text without regard to case (the
// instance's database collation), which also orders its date-times.
func compare(typ, a, b string) int {
	switch typ {
	case "integer", "longint", "decimal", "float", "numeric":
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		if err1 == nil && err2 == nil {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

// sortRecords orders records by the query's ORDERBY clauses, ties (and
// everything, without any) in the database's insertion order. The caller
// holds e.mu.
func (e *Emu) sortRecords(list []*record, orders []order) {
	slices.SortFunc(list, func(a, b *record) int { return a.seq - b.seq })
	slices.SortStableFunc(list, func(a, b *record) int {
		for _, o := range orders {
			_, f, ok := resolvePath(a.class, o.field)
			if !ok {
				continue
			}
			c := compare(f.typ, e.valueAt(a, o.field), e.valueAt(b, o.field))
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
}
