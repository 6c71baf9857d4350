package mapping

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// literal is the pseudo-type of text an administrator wrote (a constant, a
// template, a value map's target): it may be parsed into any scalar type.
const literal = "literal"

// effectiveType is the type of what reaches the target of fp in dir when
// the source field has type src: transforms and maps change it.
func effectiveType(src string, fp FieldPair, dir Direction) string {
	t := src
	if tr := transformOf(fp, dir); tr != nil {
		switch tr.Kind {
		case TransformConstant, TransformTemplate:
			t = literal
		case TransformRegex:
			if t != connector.TypeLabels {
				t = literal
			}
		case TransformHTMLToMarkdown:
			t = connector.TypeText
		case TransformMarkdownToHTML, TransformMarkdownToText, TransformHTMLToText:
			t = connector.TypeString
		}
	}
	if fp.ValueMap != nil && t != connector.TypeLabels {
		t = literal
	}
	if fp.UserMap {
		t = connector.TypeUser
	}
	return t
}

// compatible reports whether a value of type from can be written to a
// field of type to (Coerce does the conversion); hint says how to fix a
// mismatch.
func compatible(from, to string) (ok bool, hint string) {
	if from == to {
		return true, ""
	}
	scalarText := map[string]bool{
		connector.TypeString: true, connector.TypeEnum: true, connector.TypeNumber: true, connector.TypeBool: true,
		connector.TypeDate: true, connector.TypeDateTime: true, connector.TypeUser: true, connector.TypeLabels: true,
	}
	switch {
	case from == literal:
		return to != connector.TypeUser, "set userMap to look people up"
	case to == connector.TypeString:
		if from == connector.TypeText {
			return false, "rich text needs a markdown_to_text transform"
		}
		return scalarText[from], ""
	case to == connector.TypeText:
		return scalarText[from], ""
	case to == connector.TypeEnum:
		return from == connector.TypeString, "add a value map"
	case to == connector.TypeLabels:
		return from == connector.TypeString || from == connector.TypeEnum, ""
	case to == connector.TypeDate:
		return from == connector.TypeDateTime, ""
	case to == connector.TypeDateTime:
		return from == connector.TypeDate, ""
	case to == connector.TypeNumber || to == connector.TypeBool:
		return false, "add a value map"
	case to == connector.TypeUser:
		return false, "set userMap to look people up"
	}
	return false, ""
}

// Coerce shapes v for a field described by f: numbers parsed from text,
// enum values spelled as the schema spells them, labels as []string, users
// as connector.User, dates as YYYY-MM-DD and datetimes as RFC 3339. The
// engine calls it (or CoerceFields) on Apply's result with the target's
// schema, because a value map or a template yields text whatever the
// target's type. nil stays nil; a field type Coerce does not know passes
// through unchanged.
func Coerce(v any, f connector.FieldSchema) (any, error) {
	if isEmpty(v) {
		return nil, nil
	}
	switch f.Type {
	case connector.TypeString, connector.TypeText:
		return display(v), nil
	case connector.TypeEnum:
		s := strings.TrimSpace(display(v))
		if len(f.Values) == 0 {
			return s, nil
		}
		for _, allowed := range f.Values {
			if fold(allowed) == fold(s) {
				return allowed, nil
			}
		}
		return nil, fmt.Errorf("coerce value %s for %s: not one of its values", connector.Digest(s), f.Name)
	case connector.TypeNumber:
		if n, ok := number(v); ok {
			return n, nil
		}
	case connector.TypeBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		switch fold(display(v)) {
		case "true", "yes", "1", "on":
			return true, nil
		case "false", "no", "0", "off":
			return false, nil
		}
	case connector.TypeDate:
		if d, ok := parseDate(display(v)); ok {
			return d, nil
		}
	case connector.TypeDateTime:
		if t, ok := parseDateTime(display(v)); ok {
			return t.UTC().Format(time.RFC3339Nano), nil
		}
	case connector.TypeLabels:
		return labels(v), nil
	case connector.TypeUser:
		if u, ok := toUser(v); ok {
			return u, nil
		}
		if s, ok := v.(string); ok {
			s = strings.TrimSpace(s)
			if strings.Contains(s, "@") {
				return connector.User{Email: s}, nil
			}
			return connector.User{Name: s}, nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("coerce value %s for %s: not a %s", connector.Digest(display(v)), f.Name, f.Type)
}

// CoerceFields runs Coerce over fields with the target's schema. Errors
// have the target field's name as Path. Fields the schema does not
// describe pass through unchanged.
func CoerceFields(fields connector.Fields, schema connector.Schema) (connector.Fields, []FieldError) {
	byName := make(map[string]connector.FieldSchema, len(schema.Fields))
	for _, f := range schema.Fields {
		byName[f.Name] = f
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make(connector.Fields, len(fields))
	var fe errs
	for _, name := range names {
		f, ok := byName[name]
		if !ok {
			out[name] = fields[name]
			continue
		}
		v, err := Coerce(fields[name], f)
		if err != nil {
			code := CodeTypeMismatch
			if f.Type == connector.TypeEnum {
				code = CodeNotInEnum
			}
			fe.add(name, code, "%s", err.Error())
			continue
		}
		out[name] = v
	}
	return out, fe
}

// labels makes a label set from a list or a single value: text of each
// element, blanks and duplicates dropped, order kept.
func labels(v any) []string {
	l, ok := list(v)
	if !ok {
		l = []any{v}
	}
	out := make([]string, 0, len(l))
	seen := map[string]bool{}
	for _, e := range l {
		s := strings.TrimSpace(display(e))
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// parseDate accepts YYYY-MM-DD, or an RFC 3339 time whose date (in its
// own offset, as the person who set it saw it) it returns.
func parseDate(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if _, err := time.Parse(time.DateOnly, s); err == nil {
		return s, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.Format(time.DateOnly), true
	}
	return "", false
}

// parseDateTime accepts RFC 3339, or a date taken as midnight UTC.
func parseDateTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}
