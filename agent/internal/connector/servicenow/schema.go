package servicenow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// A table's schema comes from the data dictionary: sys_db_object (which
// table extends which), sys_dictionary (each table's own fields; a table
// has the fields of the tables it extends too) and sys_choice (choice
// lists; a table without its own list for a field uses the list of the
// table it extends). Reading them needs read access to those tables,
// which an administrator grants the integration user.

// Field kinds: how a field's values cross the contract.
const (
	kindString = iota
	kindText
	kindHTML
	kindNumber
	kindBool
	kindDate
	kindDateTime
	kindChoice
	kindUser
	kindRef  // a reference written and read by its display value
	kindLink // a reference to another task record: a link type
)

// fieldInfo is one field of a table.
type fieldInfo struct {
	element  string // the instance's name
	name     string // the engine's name
	label    string
	typ      string // sys_dictionary internal_type
	maxLen   int
	ref      string // referenced table
	refShow  string // the referenced table's display field
	kind     int
	readOnly bool
	required bool
	choices  []choice // choice fields, in sequence order
}

type choice struct{ value, label string }

// tableSchema is what the connector knows of one table.
type tableSchema struct {
	table   string
	label   string
	chain   []string // the table and the tables it extends, most specific first
	fields  []*fieldInfo
	byName  map[string]*fieldInfo // by engine name
	byElem  map[string]*fieldInfo // by element
	links   []*fieldInfo
	read    []string // sysparm_fields of a full read
	fetched time.Time
}

// aliases are the engine's names for the fields every task table has.
var aliases = map[string]string{"short_description": "title", "description": "description", "state": "status",
	"priority": "priority", "assigned_to": "assignee"}

// internal are fields the connector keeps for itself or that are not
// values: the marker, the record's identity, journals (comments).
var internal = []string{"correlation_id", "correlation_display", "number", "sys_id", "sys_class_name"}

// kinds maps dictionary types to field kinds; unlisted types (scripts,
// conditions, lists of sys_ids, passwords...) are not synced.
var kinds = map[string]int{
	"string": kindString, "email": kindString, "url": kindString, "phone_number": kindString, "phone_number_e164": kindString,
	"translated_field": kindString, "translated_text": kindText, "multi_two_lines": kindText, "char": kindString,
	"html": kindHTML, "translated_html": kindHTML,
	"integer": kindNumber, "longint": kindNumber, "decimal": kindNumber, "float": kindNumber, "numeric": kindNumber,
	"boolean": kindBool, "glide_date": kindDate, "glide_date_time": kindDateTime, "due_date": kindDateTime,
	"reference": kindRef, "choice": kindString,
}

// engineTypes are the contract's types of the kinds.
var engineTypes = map[int]string{kindString: connector.TypeString, kindText: connector.TypeText, kindHTML: connector.TypeText,
	kindNumber: connector.TypeNumber, kindBool: connector.TypeBool, kindDate: connector.TypeDate, kindDateTime: connector.TypeDateTime,
	kindChoice: connector.TypeEnum, kindUser: connector.TypeUser, kindRef: connector.TypeString}

// tableChains reads, for each of names, the table and every table it
// extends, a level of sys_db_object per request, remembering them.
func (c *Conn) tableChains(ctx context.Context, names []string) (map[string][]string, error) {
	parent := map[string]string{}
	c.mu.Lock()
	known := map[string][]string{}
	for n, ch := range c.chains {
		known[n] = ch
	}
	c.mu.Unlock()
	for _, ch := range known {
		for i := 0; i+1 < len(ch); i++ {
			parent[ch[i]] = ch[i+1]
		}
		parent[ch[len(ch)-1]] = ""
	}
	todo := slices.Clone(names)
	for round := 0; len(todo) > 0; round++ {
		if round > 20 {
			return nil, fmt.Errorf("read table hierarchy: deeper than 20 levels: %w", connector.ErrUnavailable)
		}
		var ask []string
		for _, n := range todo {
			if _, ok := parent[n]; !ok && n != "" && !slices.Contains(ask, n) {
				ask = append(ask, n)
			}
		}
		if len(ask) == 0 {
			break
		}
		recs, err := c.list(ctx, "sys_db_object", "nameIN"+strings.Join(ask, ","), []string{"name", "super_class.name"}, len(ask)+10, 0)
		if err != nil {
			return nil, fmt.Errorf("read table hierarchy: %w", err)
		}
		todo = nil
		for _, r := range recs {
			name, super := r.get("name"), r.get("super_class.name")
			if !slices.Contains(ask, name) {
				continue
			}
			parent[name] = super
			if super != "" {
				todo = append(todo, super)
			}
		}
		for _, n := range ask {
			if _, ok := parent[n]; !ok {
				parent[n] = "" // unknown to sys_db_object: the caller decides
			}
		}
	}
	out := map[string][]string{}
	for _, n := range names {
		var ch []string
		for t := n; t != "" && !slices.Contains(ch, t) && len(ch) <= 20; t = parent[t] {
			ch = append(ch, t)
		}
		out[n] = ch
	}
	c.mu.Lock()
	for n, ch := range out {
		c.chains[n] = ch
	}
	c.mu.Unlock()
	return out, nil
}

// schema returns a table's schema, read at most every schemaTTL.
func (c *Conn) schema(ctx context.Context, table string) (*tableSchema, error) {
	c.mu.Lock()
	s := c.schemas[table]
	c.mu.Unlock()
	if s != nil && c.now().Sub(s.fetched) < schemaTTL {
		return s, nil
	}
	s, err := c.readSchema(ctx, table)
	if err != nil {
		return nil, fmt.Errorf("read the dictionary of ServiceNow table %s: %w", table, err)
	}
	c.mu.Lock()
	c.schemas[table] = s
	c.mu.Unlock()
	return s, nil
}

func (c *Conn) readSchema(ctx context.Context, table string) (*tableSchema, error) {
	if !validName(table) {
		return nil, fmt.Errorf("%q is not a table name: %w", table, connector.ErrInvalid)
	}
	chains, err := c.tableChains(ctx, []string{table})
	if err != nil {
		return nil, err
	}
	chain := chains[table]
	dict, err := c.listAll(ctx, "sys_dictionary", "nameIN"+strings.Join(chain, ",")+"^active=true",
		[]string{"name", "element", "column_label", "internal_type", "max_length", "reference", "mandatory", "read_only", "choice"})
	if err != nil {
		return nil, err
	}
	if len(dict) == 0 {
		// The Table API answers a query of a table the user may not read
		// with no rows, and one of a table that does not exist likewise.
		return nil, fmt.Errorf("no dictionary entries for %s: the table does not exist, or the account cannot read "+
			"sys_db_object and sys_dictionary (an administrator grants read access to them): %w", table, connector.ErrForbidden)
	}
	if !slices.Contains(chain, "task") {
		return nil, fmt.Errorf("table %s does not extend task (it extends %s): the connector syncs task tables, whose "+
			"correlation_id keeps its marker: %w", table, strings.Join(chain[1:], ", "), connector.ErrInvalid)
	}
	s := &tableSchema{table: table, chain: chain, byName: map[string]*fieldInfo{}, byElem: map[string]*fieldInfo{}, fetched: c.now()}
	// The most specific table's entry of an element wins.
	depth := func(name string) int { return slices.Index(chain, name) }
	slices.SortStableFunc(dict, func(a, b record) int { return depth(a.get("name")) - depth(b.get("name")) })
	var refTables []string
	for _, d := range dict {
		el := d.get("element")
		if el == "" {
			if d.get("name") == table {
				s.label = d.get("column_label")
			}
			continue
		}
		if s.byElem[el] != nil {
			continue
		}
		f := &fieldInfo{element: el, label: d.get("column_label"), typ: d.get("internal_type"), ref: d.get("reference"),
			readOnly: d.get("read_only") == "true", required: d.get("mandatory") == "true"}
		f.maxLen, _ = strconv.Atoi(d.get("max_length"))
		k, ok := kinds[f.typ]
		if !ok || strings.HasPrefix(el, "sys_") || slices.Contains(internal, el) || !validName(el) {
			continue
		}
		if k == kindString && f.maxLen > 255 {
			k = kindText // a multi-line text area
		}
		if n, _ := strconv.Atoi(d.get("choice")); n > 0 {
			k = kindChoice
		}
		f.kind = k
		if k == kindRef {
			if f.ref == "" || !validName(f.ref) {
				continue
			}
			refTables = append(refTables, f.ref)
		}
		s.byElem[el] = f
	}
	if err := c.refKinds(ctx, s, refTables); err != nil {
		return nil, err
	}
	if err := c.readChoices(ctx, s); err != nil {
		return nil, err
	}
	for _, f := range s.byElem {
		f.name = f.element
		if a, ok := aliases[f.element]; ok {
			f.name = a
		}
	}
	for _, f := range s.byElem {
		// An element named like an alias of another field (a custom
		// "status") keeps its value under a name of its own.
		if other, taken := s.byElem[aliasSource(f.name)]; f.name == f.element && taken && other != f {
			f.name = "field:" + f.element
		}
		if f.kind == kindLink {
			s.links = append(s.links, f)
			continue
		}
		s.fields = append(s.fields, f)
		s.byName[f.name] = f
	}
	sort.Slice(s.fields, func(i, j int) bool { return fieldOrder(s.fields[i]) < fieldOrder(s.fields[j]) })
	sort.Slice(s.links, func(i, j int) bool { return s.links[i].element < s.links[j].element })
	if s.byName["title"] == nil {
		return nil, fmt.Errorf("table %s has no short_description field: %w", table, connector.ErrInvalid)
	}
	s.read = []string{"sys_id", "number", "sys_class_name", "sys_created_on", "sys_updated_on", "sys_mod_count", "correlation_id"}
	for _, f := range s.fields {
		s.read = append(s.read, f.element)
		if f.kind == kindUser {
			s.read = append(s.read, f.element+".email")
		}
	}
	for _, f := range s.links {
		s.read = append(s.read, f.element, f.element+".sys_class_name")
	}
	return s, nil
}

// aliasSource is the element an engine name stands for ("" for none).
func aliasSource(name string) string {
	for el, a := range aliases {
		if a == name {
			return el
		}
	}
	return ""
}

// fieldOrder lists the common fields first, then the rest by name.
func fieldOrder(f *fieldInfo) string {
	for i, n := range []string{"title", "description", "status", "priority", "assignee"} {
		if f.name == n {
			return fmt.Sprint(i)
		}
	}
	return "9" + f.name
}

// refKinds sorts references: to sys_user they are users, to a task table
// links, to anything else values read and written by display value (whose
// field the dictionary marks).
func (c *Conn) refKinds(ctx context.Context, s *tableSchema, refTables []string) error {
	if len(refTables) == 0 {
		return nil
	}
	slices.Sort(refTables)
	refTables = slices.Compact(refTables)
	chains, err := c.tableChains(ctx, refTables)
	if err != nil {
		return err
	}
	var all []string
	for _, ch := range chains {
		all = append(all, ch...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	shows, err := c.listAll(ctx, "sys_dictionary", "nameIN"+strings.Join(all, ",")+"^display=true^active=true", []string{"name", "element"})
	if err != nil {
		return err
	}
	showOf := func(table string) string {
		for _, t := range chains[table] {
			for _, d := range shows {
				if d.get("name") == t && d.get("element") != "" {
					return d.get("element")
				}
			}
		}
		return "sys_id"
	}
	for _, f := range s.byElem {
		if f.kind != kindRef {
			continue
		}
		switch {
		case f.ref == "sys_user":
			f.kind = kindUser
		case slices.Contains(chains[f.ref], "task"):
			f.kind = kindLink
		default:
			f.refShow = showOf(f.ref)
		}
	}
	return nil
}

// readChoices fills the choice lists of the schema's choice fields.
func (c *Conn) readChoices(ctx context.Context, s *tableSchema) error {
	recs, err := c.listAll(ctx, "sys_choice", "nameIN"+strings.Join(s.chain, ",")+"^inactive=false^language=en^ORDERBYsequence",
		[]string{"name", "element", "value", "label"})
	if err != nil {
		return err
	}
	for _, f := range s.byElem {
		if f.kind != kindChoice {
			continue
		}
		for _, t := range s.chain {
			for _, r := range recs {
				if r.get("name") == t && r.get("element") == f.element && r.get("label") != "" {
					f.choices = append(f.choices, choice{value: r.get("value"), label: r.get("label")})
				}
			}
			if len(f.choices) > 0 {
				break // the most specific table's list only
			}
		}
		if len(f.choices) == 0 {
			f.kind = kindString // a choice field without a list holds free values
			if k, ok := kinds[f.typ]; ok && k == kindNumber {
				f.kind = kindNumber
			}
		}
	}
	return nil
}

// Schema describes a table: its one entity type (the table), its fields
// (exactly those Get puts in Entity.Fields) and its link types (the
// references to other task records).
func (c *Conn) Schema(ctx context.Context, project string) (connector.Schema, error) {
	table, err := c.scope(project)
	if err != nil {
		return connector.Schema{}, fmt.Errorf("read ServiceNow schema: %w", err)
	}
	s, err := c.schema(ctx, table)
	if err != nil {
		return connector.Schema{}, err
	}
	out := connector.Schema{EntityTypes: []string{table}, LinkTypes: []string{}}
	for _, f := range s.fields {
		fs := connector.FieldSchema{Name: f.name, Label: f.label, Type: engineTypes[f.kind], ReadOnly: f.readOnly, Required: f.required}
		for _, ch := range f.choices {
			if !slices.Contains(fs.Values, ch.label) {
				fs.Values = append(fs.Values, ch.label)
			}
		}
		out.Fields = append(out.Fields, fs)
	}
	for _, f := range s.links {
		out.LinkTypes = append(out.LinkTypes, f.element)
	}
	return out, nil
}

// Validate proves the credentials work, that the default table can be
// read, and that its dictionary can; it names the rate limit rule the
// instance applies to the account, if any.
func (c *Conn) Validate(ctx context.Context) (string, error) {
	q := url.Values{"sysparm_limit": {"1"}, "sysparm_fields": {"sys_id"}, "sysparm_no_count": {"true"}}
	r := httpx.Request{Method: http.MethodGet, Path: "/api/now/table/" + c.table, Query: q}
	resp, err := c.do(ctx, r)
	if err != nil {
		return "", fmt.Errorf("check ServiceNow access to %s as %s: %w", c.table, c.who, err)
	}
	limit, rule := resp.Header.Get("X-RateLimit-Limit"), resp.Header.Get("X-RateLimit-Rule")
	drain(resp.Body)
	s, err := c.schema(ctx, c.table)
	if err != nil {
		if errors.Is(err, connector.ErrForbidden) {
			return "", fmt.Errorf("check ServiceNow access as %s: %w", c.who, err)
		}
		return "", err
	}
	host := c.http.BaseURL()
	if u, err := url.Parse(host); err == nil {
		host = u.Host
	}
	msg := fmt.Sprintf("Signed in to ServiceNow %s as %s; table %s (%s) has %d fields and %d link types", host, c.who, c.table,
		s.label, len(s.fields), len(s.links))
	if limit != "" {
		msg += fmt.Sprintf("; a rate limit rule allows %s requests per hour", limit)
		if rule != "" {
			msg += " (rule " + rule + ")"
		}
	}
	return msg, nil
}
