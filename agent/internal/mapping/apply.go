package mapping

import (
	"errors"
	"fmt"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Apply computes the target's field values for the fields of pair that flow
// in dir (AtoB or BtoA) from src, an entity of the source side. Per field:
//
//  1. the source value: the source field's value, or for a constant or
//     template transform, what it computes from src;
//  2. the transform (regex or conversion) on that value;
//  3. the value map;
//  4. the user map, when the pair says UserMap.
//
// A field whose source is absent from src.Fields is left out of the
// result, so a partial read never clears the target; a source present with
// a nil value clears it. A field that fails (a value nobody mapped, a
// conversion refused) is left out and reported; the other fields are still
// returned, and the engine decides whether a partial update is acceptable.
// The result is deterministic: same arguments, same values and errors in
// field order.
func Apply(pair TypePair, dir Direction, src connector.Entity, users UserMap) (connector.Fields, []FieldError) {
	var fe errs
	if dir != AtoB && dir != BtoA {
		fe.add("direction", CodeInvalid, "apply needs direction %s or %s, not %q", AtoB, BtoA, dir)
		return connector.Fields{}, fe
	}
	out := connector.Fields{}
	for i, fp := range pair.Fields {
		if !fp.Direction.Flows(dir) {
			continue
		}
		target := target(fp, dir)
		if target == "" {
			continue // Validate reports it; nothing to write to
		}
		v, ok, fail := applyField(fp, dir, src, users)
		if fail != nil {
			fe.add(at("fields", i, fail.part), fail.code, "%s", fail.err.Error())
			continue
		}
		if ok {
			// A copy: the caller may change the result without changing
			// the source entity it came from.
			out[target] = clone(v)
		}
	}
	return out, fe
}

// fieldFail says which part of a field pair failed, and how.
type fieldFail struct {
	part string // "transformAToB", "valueMap", "userMap"
	code string
	err  error
}

func applyField(fp FieldPair, dir Direction, src connector.Entity, users UserMap) (any, bool, *fieldFail) {
	name := source(fp, dir)
	t := transformOf(fp, dir)
	var v any
	switch {
	case computes(t):
	case name == "":
		return nil, false, nil
	default:
		var present bool
		v, present = src.Fields[name]
		if !present {
			return nil, false, nil
		}
	}
	label := describeField(name, target(fp, dir))
	if t != nil {
		r, err := ApplyTransform(*t, v, src)
		if err != nil {
			part := "transformAToB"
			if dir == BtoA {
				part = "transformBToA"
			}
			return nil, false, &fieldFail{part, CodeTransform, fmt.Errorf("transform %s: %w", label, err)}
		}
		v = r
	}
	if fp.ValueMap != nil {
		r, err := MapValue(fp.ValueMap, v, dir, label)
		if err != nil {
			return nil, false, &fieldFail{"valueMap", mapCode(err), err}
		}
		v = r
	}
	if fp.UserMap {
		r, err := MapUser(users, v, dir, label)
		if err != nil {
			return nil, false, &fieldFail{"userMap", mapCode(err), err}
		}
		v = r
	}
	return v, true, nil
}

// describeField names a field pair in an error: "status -> state".
func describeField(source, target string) string {
	if source == "" {
		return target
	}
	return source + " -> " + target
}

func mapCode(err error) string {
	if errors.Is(err, errNoMatch) || errors.Is(err, errNoUser) {
		return CodeNoMatch
	}
	return CodeInvalid
}

// clone copies the lists and maps of a JSON-like value.
func clone(v any) any {
	switch x := v.(type) {
	case []string:
		return append([]string(nil), x...)
	case []connector.User:
		return append([]connector.User(nil), x...)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clone(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = clone(e)
		}
		return out
	}
	return v
}
