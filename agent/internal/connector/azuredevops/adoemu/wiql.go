package adoemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxWIQL is the service's cap on a flat query's result.
const maxWIQL = 20000

// A small WIQL: SELECT ... FROM WorkItems WHERE <expr> ORDER BY <fields>,
// where <expr> combines "[Field] op value" with AND, OR and parentheses;
// ops are = <> > >= < <= CONTAINS; values are 'strings', numbers or
// @project. Dates compare to the millisecond with timePrecision=true and
// to the day without it, as the service does.

type cond interface {
	eval(it *item, ctx *wiqlCtx) bool
}

type wiqlCtx struct {
	project       *project
	timePrecision bool
	seconds       bool // compare times to the second only
}

type and []cond
type or []cond

type clause struct {
	field, op string
	value     string
	macro     bool
}

func (a and) eval(it *item, c *wiqlCtx) bool {
	for _, x := range a {
		if !x.eval(it, c) {
			return false
		}
	}
	return true
}

func (o or) eval(it *item, c *wiqlCtx) bool {
	for _, x := range o {
		if x.eval(it, c) {
			return true
		}
	}
	return false
}

func (cl clause) eval(it *item, c *wiqlCtx) bool {
	want := cl.value
	if cl.macro {
		want = c.project.Name
	}
	have := it.Fields[canonical(cl.field)]
	if strings.EqualFold(cl.op, "contains") {
		if canonical(cl.field) == "System.Tags" {
			for _, t := range strings.Split(fmt.Sprint(have), ";") {
				if strings.EqualFold(strings.TrimSpace(t), want) {
					return true
				}
			}
			return false
		}
		return strings.Contains(strings.ToLower(fmt.Sprint(have)), strings.ToLower(want))
	}
	var cmp int
	def, _ := fieldByRef(cl.field)
	switch def.Type {
	case "dateTime":
		a, err1 := time.Parse(time.RFC3339Nano, fmt.Sprint(have))
		b, err2 := time.Parse(time.RFC3339Nano, want)
		if err1 != nil || err2 != nil {
			return false
		}
		switch {
		case !c.timePrecision:
			a, b = a.UTC().Truncate(24*time.Hour), b.UTC().Truncate(24*time.Hour)
		case c.seconds:
			a, b = a.Truncate(time.Second), b.Truncate(time.Second)
		}
		cmp = a.Compare(b)
	case "integer", "double":
		a, _ := number(fmt.Sprint(have))
		b, _ := number(want)
		switch {
		case a < b:
			cmp = -1
		case a > b:
			cmp = 1
		}
	default:
		cmp = strings.Compare(strings.ToLower(fmt.Sprint(have)), strings.ToLower(want))
	}
	switch cl.op {
	case "=":
		return cmp == 0
	case "<>":
		return cmp != 0
	case ">":
		return cmp > 0
	case ">=":
		return cmp >= 0
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	}
	return false
}

func canonical(ref string) string {
	if d, ok := fieldByRef(ref); ok {
		return d.Ref
	}
	return ref
}

type parser struct {
	toks []string
	pos  int
}

func tokenize(q string) ([]string, error) {
	var toks []string
	for i := 0; i < len(q); {
		ch := q[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == ',':
			if ch == ',' {
				toks = append(toks, ",")
			}
			i++
		case ch == '(' || ch == ')':
			toks = append(toks, string(ch))
			i++
		case ch == '[':
			j := strings.IndexByte(q[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unclosed [")
			}
			toks = append(toks, q[i:i+j+1])
			i += j + 1
		case ch == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(q); j++ {
				if q[j] == '\'' {
					if j+1 < len(q) && q[j+1] == '\'' {
						b.WriteByte('\'')
						j++
						continue
					}
					break
				}
				b.WriteByte(q[j])
			}
			if j >= len(q) {
				return nil, fmt.Errorf("unclosed string")
			}
			toks = append(toks, "'"+b.String())
			i = j + 1
		case strings.ContainsRune("<>=", rune(ch)):
			j := i + 1
			for j < len(q) && strings.ContainsRune("<>=", rune(q[j])) {
				j++
			}
			toks = append(toks, q[i:j])
			i = j
		default:
			j := i
			for j < len(q) && !strings.ContainsRune(" \t\r\n,()[]'<>=", rune(q[j])) {
				j++
			}
			toks = append(toks, q[i:j])
			i = j
		}
	}
	return toks, nil
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) next() string { t := p.peek(); p.pos++; return t }

func (p *parser) expr() (cond, error) { return chain[or](p, "or", p.term) }

func (p *parser) term() (cond, error) { return chain[and](p, "and", p.factor) }

// chain parses operands joined by the keyword op into a list L (or, and);
// a single operand stands alone.
func chain[L interface {
	~[]cond
	cond
}](p *parser, op string, operand func() (cond, error)) (cond, error) {
	left, err := operand()
	if err != nil {
		return nil, err
	}
	list := L{left}
	for strings.EqualFold(p.peek(), op) {
		p.next()
		c, err := operand()
		if err != nil {
			return nil, err
		}
		list = append(list, c)
	}
	if len(list) == 1 {
		return left, nil
	}
	return list, nil
}

func (p *parser) factor() (cond, error) {
	if p.peek() == "(" {
		p.next()
		c, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, fmt.Errorf("expecting )")
		}
		return c, nil
	}
	f := p.next()
	if !strings.HasPrefix(f, "[") {
		return nil, fmt.Errorf("expecting a field, found %q", f)
	}
	name := strings.Trim(f, "[]")
	if _, ok := fieldByRef(name); !ok {
		return nil, fmt.Errorf("TF51005: The query references a field that does not exist. The error is caused by «[%s]».", name)
	}
	op := strings.ToLower(p.next())
	switch op {
	case "=", "<>", ">", ">=", "<", "<=", "contains":
	default:
		return nil, fmt.Errorf("expecting a comparison operator, found %q", op)
	}
	v := p.next()
	switch {
	case strings.HasPrefix(v, "'"):
		return clause{field: name, op: op, value: v[1:]}, nil
	case strings.EqualFold(v, "@project"):
		return clause{field: name, op: op, macro: true}, nil
	default:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return nil, fmt.Errorf("expecting a value, found %q", v)
		}
		return clause{field: name, op: op, value: v}, nil
	}
}

type order struct {
	field string
	desc  bool
}

func parseWIQL(q string) (cond, []order, error) {
	toks, err := tokenize(q)
	if err != nil {
		return nil, nil, err
	}
	p := &parser{toks: toks}
	if !strings.EqualFold(p.next(), "select") {
		return nil, nil, fmt.Errorf("expecting SELECT")
	}
	for p.peek() != "" && !strings.EqualFold(p.peek(), "from") {
		p.next()
	}
	p.next()
	if !strings.EqualFold(p.next(), "workitems") {
		return nil, nil, fmt.Errorf("only flat queries FROM WorkItems are supported")
	}
	var where cond = and{}
	if strings.EqualFold(p.peek(), "where") {
		p.next()
		if where, err = p.expr(); err != nil {
			return nil, nil, err
		}
	}
	var orders []order
	if strings.EqualFold(p.peek(), "order") {
		p.next()
		if !strings.EqualFold(p.next(), "by") {
			return nil, nil, fmt.Errorf("expecting BY")
		}
		for {
			f := p.next()
			if !strings.HasPrefix(f, "[") {
				return nil, nil, fmt.Errorf("expecting a sort field, found %q", f)
			}
			o := order{field: canonical(strings.Trim(f, "[]"))}
			if d := strings.ToLower(p.peek()); d == "asc" || d == "desc" {
				o.desc = d == "desc"
				p.next()
			}
			orders = append(orders, o)
			if p.peek() != "," {
				break
			}
			p.next()
		}
	}
	if p.peek() != "" {
		return nil, nil, fmt.Errorf("unexpected %q", p.peek())
	}
	return where, orders, nil
}

func (s *Server) wiql(w http.ResponseWriter, r *http.Request, proj *project) {
	if !s.apiVersion(w, r, false) {
		return
	}
	var body struct {
		Query string `json:"query"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body.Query == "" {
		s.fail(w, http.StatusBadRequest, "VS402622: The query text is required.", "VssPropertyValidationException", 0)
		return
	}
	where, orders, err := parseWIQL(body.Query)
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "TF") {
			msg = "TF51006: The query statement is not valid: " + msg
		}
		s.fail(w, http.StatusBadRequest, msg, "LegacyQueryValidationException", 0)
		return
	}
	q := r.URL.Query()
	top := maxWIQL
	if t := q.Get("$top"); t != "" {
		if n, err := strconv.Atoi(t); err == nil && n > 0 && n < top {
			top = n
		}
	}
	ctx := &wiqlCtx{project: proj, timePrecision: strings.EqualFold(q.Get("timePrecision"), "true"), seconds: s.o.WIQLSeconds}
	s.mu.Lock()
	var hits []*item
	for _, it := range s.items {
		if proj != nil && it.Project != proj {
			continue
		}
		if where.eval(it, ctx) {
			hits = append(hits, it)
		}
	}
	s.mu.Unlock()
	if len(hits) > maxWIQL && q.Get("$top") == "" {
		s.fail(w, http.StatusBadRequest, fmt.Sprintf("VS402337: The number of work items returned exceeds the size limits of %d. Change the query to return fewer items.", maxWIQL), "WorkItemTrackingQueryResultSizeLimitExceededException", 0)
		return
	}
	sort.SliceStable(hits, func(i, j int) bool {
		for _, o := range orders {
			a, b := fmt.Sprint(hits[i].Fields[o.field]), fmt.Sprint(hits[j].Fields[o.field])
			var c int
			if d, _ := fieldByRef(o.field); d.Type == "integer" || d.Type == "double" {
				x, _ := number(a)
				y, _ := number(b)
				c = map[bool]int{true: -1, false: 1}[x < y]
				if x == y {
					c = 0
				}
			} else {
				c = strings.Compare(a, b) // ISO dates sort as text
			}
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return hits[i].ID < hits[j].ID
	})
	if len(hits) > top {
		hits = hits[:top]
	}
	refs := make([]map[string]any, 0, len(hits))
	for _, it := range hits {
		refs = append(refs, map[string]any{"id": it.ID, "url": s.orgURL() + "/_apis/wit/workItems/" + strconv.Itoa(it.ID)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"queryType": "flat", "queryResultType": "workItem",
		"asOf": s.now(), "columns": []map[string]string{{"referenceName": "System.Id", "name": "ID"}}, "workItems": refs})
}
