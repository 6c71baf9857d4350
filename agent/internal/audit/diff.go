package audit

import (
	"encoding/json"
	"reflect"
	"sort"
)

// Change is one field's before and after.
type Change struct {
	Field  string `json:"field"`
	Before any    `json:"before,omitempty"`
	After  any    `json:"after,omitempty"`
}

// Diff lists the fields that differ between two flat views of a record, in
// field order. Fields named in secret show only as [redacted] (with "set" or
// "cleared" when that changed): a diff never carries a secret's value.
func Diff(before, after map[string]any, secret ...string) []Change {
	isSecret := map[string]bool{}
	for _, s := range secret {
		isSecret[s] = true
	}
	fields := map[string]bool{}
	for k := range before {
		fields[k] = true
	}
	for k := range after {
		fields[k] = true
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []Change
	for _, k := range names {
		b, bok := before[k]
		a, aok := after[k]
		if bok == aok && equal(b, a) {
			continue
		}
		if isSecret[k] {
			out = append(out, Change{Field: k, Before: secretState(b, bok), After: secretState(a, aok)})
			continue
		}
		out = append(out, Change{Field: k, Before: b, After: a})
	}
	return out
}

func secretState(v any, ok bool) any {
	if !ok || v == nil || v == "" || v == false {
		return nil
	}
	return Redacted
}

// equal compares through JSON so that numbers of different Go types and
// nested maps compare by value.
func equal(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
