package mapping

import (
	"errors"
	"fmt"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// errNoMatch and errNoUser mark a value or person no entry maps; Apply
// turns them into CodeNoMatch.
var (
	errNoMatch = errors.New("no value map entry")
	errNoUser  = errors.New("no user map entry")
)

// onMissing resolves the empty policy: "default" when there is a default,
// otherwise fallback.
func onMissing(policy OnMissing, hasDefault bool, fallback OnMissing) OnMissing {
	if policy != "" {
		return policy
	}
	if hasDefault {
		return OnMissingDefault
	}
	return fallback
}

// MapValue maps one value flowing in dir (AtoB looks the value up among the A
// sides and returns the B side). Scalars are looked up by their text, so a
// number 2 matches a pair "2"; lists (labels, multi-selects) map element by
// element, dropping duplicates the map creates. An empty source maps to nil
// unless a pair maps the empty string explicitly.
//
// field names the source field in the error for a value nobody mapped.
func MapValue(m *ValueMap, v any, dir Direction, field string) (any, error) {
	if l, ok := list(v); ok {
		out := make([]string, 0, len(l))
		seen := map[string]bool{}
		for _, e := range l {
			r, err := mapValueOne(m, e, dir, field)
			if err != nil {
				return nil, err
			}
			// An element mapped to nothing (empty policy) is dropped; a
			// kept element that is not text is kept as its text.
			s := display(r)
			if s == "" || seen[fold(s)] {
				continue
			}
			seen[fold(s)] = true
			out = append(out, s)
		}
		return out, nil
	}
	return mapValueOne(m, v, dir, field)
}

func mapValueOne(m *ValueMap, v any, dir Direction, field string) (any, error) {
	if v == nil {
		v = ""
	}
	s, ok := scalarString(v)
	if !ok {
		s = display(v)
	}
	key := fold(s)
	for _, p := range m.Pairs {
		from, to := p.A, p.B
		if dir == BtoA {
			from, to = p.B, p.A
		}
		if fold(from) == key {
			if to == "" {
				return nil, nil
			}
			return to, nil
		}
	}
	if key == "" {
		return nil, nil
	}
	def := m.DefaultB
	if dir == BtoA {
		def = m.DefaultA
	}
	switch onMissing(m.OnMissing, def != nil, OnMissingError) {
	case OnMissingDefault:
		if def == nil {
			return nil, fmt.Errorf("map %s value %s: %w and no default for this direction", field, connector.Digest(s), errNoMatch)
		}
		if *def == "" {
			return nil, nil
		}
		return *def, nil
	case OnMissingKeep:
		return v, nil
	case OnMissingEmpty:
		return nil, nil
	}
	return nil, fmt.Errorf("map %s value %s: %w", field, connector.Digest(s), errNoMatch)
}
