package servicenow

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// Links are the table's reference fields to other task records: parent,
// problem_id, parent_incident... Each holds one record, so a link type
// links to one target at a time. ServiceNow has no remote links (URLs).

func (c *Conn) linkField(s *tableSchema, typ string) (*fieldInfo, error) {
	i := slices.IndexFunc(s.links, func(f *fieldInfo) bool { return f.element == typ })
	if i < 0 {
		var names []string
		for _, f := range s.links {
			names = append(names, f.element)
		}
		return nil, fmt.Errorf("%q is not a link type of ServiceNow table %s (it has %s): %w", typ, s.table, strings.Join(names, ", "), connector.ErrInvalid)
	}
	return s.links[i], nil
}

// Links lists the record's references to other task records.
func (c *Conn) Links(ctx context.Context, ref connector.Ref) ([]connector.Link, error) {
	table, id, err := c.locate(ctx, ref)
	if err != nil {
		return nil, err
	}
	s, err := c.schema(ctx, table)
	if err != nil {
		return nil, err
	}
	out := []connector.Link{}
	if len(s.links) == 0 {
		return out, nil
	}
	var fields []string
	for _, f := range s.links {
		fields = append(fields, f.element, f.element+".sys_class_name")
	}
	var r record
	if err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: "/api/now/table/" + table + "/" + id, Query: readFields(fields...)}, nil, &r); err != nil {
		return nil, fmt.Errorf("list ServiceNow links of %s: %w", connector.RefName(ref), err)
	}
	for _, f := range s.links {
		target, class := r.get(f.element), r.get(f.element+".sys_class_name")
		if !sysIDs.MatchString(target) {
			continue
		}
		if !validName(class) {
			class = f.ref
		}
		out = append(out, connector.Link{Type: f.element, Target: connector.Ref{ID: recordID(class, target), Key: r[f.element].Display}})
	}
	return out, nil
}

// AddLink points the reference field named by the link type at the
// target. A field already pointing elsewhere is not overwritten: it holds
// one record, and a second link of its type is refused.
func (c *Conn) AddLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	return c.setLink(ctx, ref, l, true)
}

// RemoveLink clears the reference field when it points at the target.
func (c *Conn) RemoveLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	return c.setLink(ctx, ref, l, false)
}

func (c *Conn) setLink(ctx context.Context, ref connector.Ref, l connector.Link, add bool) error {
	verb := "remove"
	if add {
		verb = "add"
	}
	fail := func(err error) error {
		return fmt.Errorf("%s ServiceNow link %s of %s: %w", verb, l.Type, connector.RefName(ref), err)
	}
	table, id, err := c.locate(ctx, ref)
	if err != nil {
		return fail(err)
	}
	if l.Target.ID == "" && l.URL != "" {
		return fail(fmt.Errorf("ServiceNow records have no links to URLs: %w", connector.ErrInvalid))
	}
	s, err := c.schema(ctx, table)
	if err != nil {
		return fail(err)
	}
	f, err := c.linkField(s, l.Type)
	if err != nil {
		return fail(err)
	}
	targetTable, target, ok := splitID(l.Target.ID)
	if !ok {
		return fail(fmt.Errorf("target %q is not a ServiceNow record id: %w", l.Target.ID, connector.ErrInvalid))
	}
	if add {
		chains, err := c.tableChains(ctx, []string{targetTable})
		if err != nil {
			return fail(err)
		}
		if !slices.Contains(chains[targetTable], f.ref) {
			return fail(fmt.Errorf("%s holds %s records, and %s is a %s: %w", f.element, f.ref, connector.RefName(l.Target), targetTable, connector.ErrInvalid))
		}
	}
	path := "/api/now/table/" + table + "/" + id
	var cur record
	if err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: readFields(f.element)}, nil, &cur); err != nil {
		return fail(err)
	}
	now := cur.get(f.element)
	switch {
	case add && now == target, !add && now != target:
		return nil // already as wanted
	case add && now != "":
		return fail(fmt.Errorf("%s already points at %s, and holds one record: %w", f.element, cur[f.element].Display, connector.ErrInvalid))
	}
	val := ""
	if add {
		val = target
	}
	// Setting a field to a value is idempotent.
	if err := c.call(ctx, httpx.Request{Method: http.MethodPatch, Path: path, Query: readFields("sys_id"), Idempotent: true},
		map[string]string{f.element: val}, nil); err != nil {
		return fail(err)
	}
	return nil
}
