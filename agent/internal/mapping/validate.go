package mapping

import (
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// ValidateTypes validates every pair of a process against the schemas of
// system A and system B, with paths such as "types[0].fields[2].b", and
// reports an entity type of either side paired twice (the engine would not
// know which pair an entity belongs to).
func ValidateTypes(pairs []TypePair, a, b connector.Schema) []FieldError {
	var out []FieldError
	seenA, seenB := map[string]int{}, map[string]int{}
	for i, p := range pairs {
		prefix := at("types", i, "")
		out = append(out, Prefix(prefix, ValidatePair(p, a, b))...)
		for _, s := range []struct {
			seen map[string]int
			name string
			side string
		}{{seenA, p.A, "a"}, {seenB, p.B, "b"}} {
			key := fold(s.name)
			if key == "" {
				continue
			}
			if first, dup := s.seen[key]; dup {
				out = append(out, FieldError{Path: prefix + "." + s.side, Code: CodeDuplicate,
					Message: "entity type " + quote(s.name) + " is already paired in types[" + itoa(first) + "]"})
				continue
			}
			s.seen[key] = i
		}
	}
	return out
}

// ValidatePair checks the pair p against the schemas of system A and system B:
// entity types, fields and link types that exist, targets that can be
// written, types that fit (or a transform or map that makes them fit),
// value-map values the target accepts, regexes and templates that compile,
// one writer per target field and direction, filters that make sense.
// Paths are relative to the pair ("fields[2].b"); ValidateTypes prefixes
// them.
func ValidatePair(p TypePair, a, b connector.Schema) []FieldError {
	v := validator{pair: p, a: index(a), b: index(b)}
	v.entityType("a", p.A, a.EntityTypes)
	v.entityType("b", p.B, b.EntityTypes)
	targets := map[Direction]map[string]int{AtoB: {}, BtoA: {}}
	for i, fp := range p.Fields {
		v.field(i, fp, targets)
	}
	for i, f := range p.Filters {
		v.filter(i, f)
	}
	for i, lp := range p.LinkTypes {
		v.linkType(i, "a", lp.A, a.LinkTypes)
		v.linkType(i, "b", lp.B, b.LinkTypes)
	}
	return v.errs
}

type validator struct {
	pair TypePair
	a, b map[string]connector.FieldSchema
	errs errs
}

func index(s connector.Schema) map[string]connector.FieldSchema {
	m := make(map[string]connector.FieldSchema, len(s.Fields))
	for _, f := range s.Fields {
		m[f.Name] = f
	}
	return m
}

// sideSchema returns the fields of side "a" or "b" and its display name.
func (v *validator) sideSchema(side string) (map[string]connector.FieldSchema, string) {
	if side == "a" {
		return v.a, "A"
	}
	return v.b, "B"
}

func (v *validator) entityType(side, name string, known []string) {
	if strings.TrimSpace(name) == "" {
		v.errs.add(side, CodeRequired, "entity type is required")
		return
	}
	for _, k := range known {
		if strings.EqualFold(k, name) {
			return
		}
	}
	_, sys := v.sideSchema(side)
	v.errs.add(side, CodeUnknownType, "entity type %s does not exist in %s", quote(name), sys)
}

func (v *validator) field(i int, fp FieldPair, targets map[Direction]map[string]int) {
	path := func(suffix string) string { return at("fields", i, suffix) }
	switch fp.Direction {
	case AtoB, BtoA, Both:
	case "":
		v.errs.add(path("direction"), CodeRequired, "direction is required: a_to_b, b_to_a or both")
		return
	default:
		v.errs.add(path("direction"), CodeInvalid, "direction %s is not a_to_b, b_to_a or both", quote(string(fp.Direction)))
		return
	}
	// Look both fields up once; a missing or unknown one ends the checks
	// that need it.
	fields := map[string]*connector.FieldSchema{}
	for _, side := range []string{"a", "b"} {
		name := fp.A
		if side == "b" {
			name = fp.B
		}
		schema, sys := v.sideSchema(string(side))
		if name == "" {
			if v.needs(fp, side) {
				v.errs.add(path(side), CodeRequired, "field of %s is required", sys)
			}
			continue
		}
		f, ok := schema[name]
		if !ok {
			v.errs.add(path(side), CodeUnknownField, "field %s does not exist in %s", quote(name), sys)
			continue
		}
		fields[side] = &f
	}
	for _, dir := range []Direction{AtoB, BtoA} {
		if !fp.Direction.Flows(dir) {
			continue
		}
		srcSide, dstSide := "a", "b"
		if dir == BtoA {
			srcSide, dstSide = "b", "a"
		}
		v.transform(i, fp, dir, fields[srcSide], fields[dstSide])
		dst := fields[dstSide]
		if dst == nil {
			continue
		}
		_, dstSys := v.sideSchema(dstSide)
		if first, dup := targets[dir][dst.Name]; dup {
			v.errs.add(path(dstSide), CodeDuplicate, "field %s of %s is already written in this direction by fields[%d]", quote(dst.Name), dstSys, first)
		} else {
			targets[dir][dst.Name] = i
		}
		if dst.ReadOnly {
			msg := "field %s is read-only in %s and cannot be written"
			if fp.Direction == Both {
				msg += ": make the direction one-way"
			}
			v.errs.add(path(dstSide), CodeReadOnly, msg, quote(dst.Name), dstSys)
			continue
		}
		src := fields[srcSide]
		if src == nil && !computes(transformOf(fp, dir)) {
			continue
		}
		var srcType, what string
		if src != nil {
			srcType, what = src.Type, src.Type+" field "+quote(src.Name)
		} else {
			what = "the " + string(transformOf(fp, dir).Kind) + " value" // computes(), so not nil
		}
		if ok, hint := compatible(effectiveType(srcType, fp, dir), dst.Type); !ok {
			msg := what + " cannot be written to " + dst.Type + " field " + quote(dst.Name) + " of " + dstSys
			if hint != "" {
				msg += ": " + hint
			}
			v.errs.add(path(dstSide), CodeTypeMismatch, "%s", msg)
		}
	}
	if fp.ValueMap != nil {
		v.valueMap(i, fp, fields)
	}
	if fp.UserMap {
		isUser := func(f *connector.FieldSchema) bool { return f != nil && f.Type == connector.TypeUser }
		if fields["a"] != nil && fields["b"] != nil && !isUser(fields["a"]) && !isUser(fields["b"]) {
			v.errs.add(path("userMap"), CodeUnusedUserMap, "neither field holds a user")
		}
	}
}

// needs reports whether side's field name is required: it is written, or
// read by a direction whose transform does not compute its own value.
func (v *validator) needs(fp FieldPair, side string) bool {
	for _, dir := range []Direction{AtoB, BtoA} {
		if !fp.Direction.Flows(dir) {
			continue
		}
		if targetSide(dir) == side {
			return true // the target
		}
		if !computes(transformOf(fp, dir)) {
			return true // the source
		}
	}
	return false
}

func (v *validator) transform(i int, fp FieldPair, dir Direction, src, dst *connector.FieldSchema) {
	t := transformOf(fp, dir)
	if t == nil {
		return
	}
	name := "transformAToB"
	if dir == BtoA {
		name = "transformBToA"
	}
	path := at("fields", i, name)
	switch t.Kind {
	case TransformConstant:
		if dst != nil && t.Value != "" && fp.ValueMap == nil && !fp.UserMap {
			if _, err := Coerce(t.Value, *dst); err != nil {
				code := CodeTypeMismatch
				if dst.Type == connector.TypeEnum {
					code = CodeNotInEnum
				}
				v.errs.add(path+".value", code, "constant %s does not fit %s field %s", quote(t.Value), dst.Type, quote(dst.Name))
			}
		}
	case TransformTemplate:
		parts, err := parseTemplate(t.Value)
		if err != nil {
			v.errs.add(path+".value", CodeBadTemplate, "%s", err.Error())
			return
		}
		srcSide := "a"
		if dir == BtoA {
			srcSide = "b"
		}
		schema, sys := v.sideSchema(srcSide)
		for _, p := range parts {
			if p.field == "" || isEntityPlaceholder(p.field) {
				continue
			}
			if _, ok := schema[p.field]; !ok {
				v.errs.add(path+".value", CodeBadTemplate, "placeholder {{%s}} names no field of %s", p.field, sys)
			}
		}
	case TransformRegex:
		if t.Pattern == "" {
			v.errs.add(path+".pattern", CodeRequired, "pattern is required")
			return
		}
		if _, err := compileRegex(t.Pattern); err != nil {
			v.errs.add(path+".pattern", CodeBadRegex, "%s", err.Error())
		}
	case TransformMarkdownToHTML, TransformHTMLToMarkdown, TransformMarkdownToText, TransformHTMLToText:
		if src != nil && src.Type != connector.TypeString && src.Type != connector.TypeText {
			v.errs.add(path+".kind", CodeTypeMismatch, "%s converts text, and %s is a %s field", t.Kind, quote(src.Name), src.Type)
		}
	case "":
		v.errs.add(path+".kind", CodeRequired, "kind is required")
	default:
		v.errs.add(path+".kind", CodeInvalid, "kind %s is not one of constant, template, regex, markdown_to_html, html_to_markdown, markdown_to_text, html_to_text", quote(t.Kind))
	}
}

// valueMap checks a value map's values against enum fields: each side's
// values must be values of that side's enum, unless a transform changes
// the source values before the map sees them.
func (v *validator) valueMap(i int, fp FieldPair, fields map[string]*connector.FieldSchema) {
	vm := fp.ValueMap
	path := at("fields", i, "valueMap")
	switch vm.OnMissing {
	case "", OnMissingDefault, OnMissingError, OnMissingKeep, OnMissingEmpty:
	default:
		v.errs.add(path+".onMissing", CodeInvalid, "onMissing %s is not default, error, keep or empty", quote(vm.OnMissing))
	}
	for _, side := range []string{"a", "b"} {
		f := fields[side]
		// side is the source of the direction towards the other side.
		fromHere := AtoB
		if side == "b" {
			fromHere = BtoA
		}
		if f == nil || f.Type != connector.TypeEnum || len(f.Values) == 0 {
			continue
		}
		if fp.Direction.Flows(fromHere) && transformOf(fp, fromHere) != nil && !fp.Direction.Flows(opposite(fromHere)) {
			continue
		}
		_, sys := v.sideSchema(side)
		for j, pair := range vm.Pairs {
			val := pair.A
			if side == "b" {
				val = pair.B
			}
			if val != "" && !inEnum(val, f.Values) {
				v.errs.add(at(path+".pairs", j, side), CodeNotInEnum, "%s is not a value of %s in %s", quote(val), quote(f.Name), sys)
			}
		}
		def := vm.DefaultA
		if side == "b" {
			def = vm.DefaultB
		}
		if def != nil && *def != "" && !inEnum(*def, f.Values) {
			v.errs.add(path+".default"+strings.ToUpper(side), CodeNotInEnum, "%s is not a value of %s in %s", quote(*def), quote(f.Name), sys)
		}
	}
	if vm.OnMissing == OnMissingDefault {
		if fp.Direction.Flows(AtoB) && vm.DefaultB == nil {
			v.errs.add(path+".defaultB", CodeRequired, "onMissing is default, so a default for B is required")
		}
		if fp.Direction.Flows(BtoA) && vm.DefaultA == nil {
			v.errs.add(path+".defaultA", CodeRequired, "onMissing is default, so a default for A is required")
		}
	}
}

func opposite(d Direction) Direction {
	if d == AtoB {
		return BtoA
	}
	return AtoB
}

func inEnum(v string, values []string) bool {
	for _, x := range values {
		if fold(x) == fold(v) {
			return true
		}
	}
	return false
}

func (v *validator) filter(i int, f Filter) {
	path := func(s string) string { return at("filters", i, s) }
	side := filterSide(f)
	if side != SideA && side != SideB {
		v.errs.add(path("side"), CodeInvalid, "side %s is not a or b", quote(f.Side))
		return
	}
	schema, sys := v.sideSchema(string(side))
	if f.Field == "" {
		v.errs.add(path("field"), CodeRequired, "field is required")
	} else if _, ok := schema[f.Field]; !ok && !isEntityPlaceholder(f.Field) {
		v.errs.add(path("field"), CodeUnknownField, "field %s does not exist in %s", quote(f.Field), sys)
	}
	switch f.Op {
	case OpEmpty, OpNotEmpty:
	case OpIn, OpNotIn:
		if _, err := filterValues(f); err != nil {
			v.errs.add(path("value"), CodeInvalid, "%s", err.Error())
		}
	case OpEq, OpNeq, OpContains, OpNotContains, OpGt, OpLt:
		if _, err := filterScalar(f); err != nil {
			v.errs.add(path("value"), CodeInvalid, "%s", err.Error())
		}
	case OpMatches:
		s, err := filterScalar(f)
		switch {
		case err != nil:
			v.errs.add(path("value"), CodeInvalid, "%s", err.Error())
		case s == "":
			v.errs.add(path("value"), CodeRequired, "pattern is required")
		default:
			if _, err := compileRegex(s); err != nil {
				v.errs.add(path("value"), CodeBadRegex, "%s", err.Error())
			}
		}
	case "":
		v.errs.add(path("op"), CodeRequired, "operator is required")
	default:
		v.errs.add(path("op"), CodeInvalid, "operator %s is not one of eq, neq, in, not_in, contains, not_contains, empty, not_empty, gt, lt, matches", quote(f.Op))
	}
}

func (v *validator) linkType(i int, side, name string, known []string) {
	path := at("linkTypes", i, side)
	_, sys := v.sideSchema(side)
	if strings.TrimSpace(name) == "" {
		v.errs.add(path, CodeRequired, "link type of %s is required", sys)
		return
	}
	for _, k := range known {
		if strings.EqualFold(k, name) {
			return
		}
	}
	v.errs.add(path, CodeUnknownLink, "link type %s does not exist in %s", quote(name), sys)
}

// ValidateUsers checks a user map's own settings and entries, with paths such
// as "entries[3].b".
func ValidateUsers(m UserMap) []FieldError {
	var e errs
	switch m.MatchBy {
	case "", MatchAuto, MatchID, MatchEmail, MatchName:
	default:
		e.add("matchBy", CodeInvalid, "matchBy %s is not auto, id, email or name", quote(m.MatchBy))
	}
	switch m.OnMissing {
	case "", OnMissingDefault, OnMissingError, OnMissingKeep, OnMissingEmpty:
	default:
		e.add("onMissing", CodeInvalid, "onMissing %s is not default, error, keep or empty", quote(m.OnMissing))
	}
	if m.OnMissing == OnMissingDefault && m.DefaultA == nil && m.DefaultB == nil {
		e.add("defaultB", CodeRequired, "onMissing is default, so a default user is required")
	}
	for i, en := range m.Entries {
		if en.A == (UserRef{}) {
			e.add(at("entries", i, "a"), CodeRequired, "give an id, email or name")
		}
		if en.B == (UserRef{}) {
			e.add(at("entries", i, "b"), CodeRequired, "give an id, email or name")
		}
	}
	return e
}
