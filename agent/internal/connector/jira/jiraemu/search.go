package jiraemu

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The JQL subset: clauses joined by AND, each "field op value" or "field
// in (v, ...)", on project, key/issuekey, labels, status, issuetype,
// created and updated; then ORDER BY fields with ASC/DESC. Dates are
// "yyyy/MM/dd HH:mm", "yyyy-MM-dd HH:mm" or without the time, read in the
// searching user's time zone, so they have minute precision.

type clause struct {
	field, op string
	values    []string
}

type order struct {
	field string
	desc  bool
}

type query struct {
	clauses []clause
	orderBy []order
}

func jqlError(format string, a ...any) error {
	return fmt.Errorf("Error in the JQL Query: "+format, a...) //nolint:staticcheck // Jira's own wording
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, jqlError("the quoted string starting at character %d is not terminated.", i)
			}
			toks = append(toks, "\x00"+b.String()) // a quoted value
			i = j + 1
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, string(c))
			i++
		case strings.ContainsRune("=!<>~", rune(c)):
			j := i + 1
			if j < len(s) && s[j] == '=' {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\"'(),=!<>~", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

func value(tok string) string { return strings.TrimPrefix(tok, "\x00") }

func parseJQL(s string) (query, error) {
	toks, err := tokenize(s)
	if err != nil {
		return query{}, err
	}
	var q query
	i := 0
	next := func() string {
		if i >= len(toks) {
			return ""
		}
		i++
		return toks[i-1]
	}
	for i < len(toks) {
		if strings.EqualFold(toks[i], "order") {
			break
		}
		field := strings.ToLower(next())
		switch field {
		case "project", "key", "issuekey", "labels", "status", "issuetype", "created", "updated":
		default:
			return query{}, jqlError("field '%s' does not exist or you do not have permission to view it.", field)
		}
		op := strings.ToLower(next())
		var c clause
		c.field, c.op = field, op
		switch op {
		case "=", "!=", ">=", "<=", ">", "<":
			v := next()
			if v == "" {
				return query{}, jqlError("expecting a value after '%s'.", op)
			}
			c.values = []string{value(v)}
		case "in":
			if next() != "(" {
				return query{}, jqlError("expecting '(' after 'in'.")
			}
			for {
				v := next()
				if v == "" {
					return query{}, jqlError("expecting ')' to close the list.")
				}
				c.values = append(c.values, value(v))
				sep := next()
				if sep == ")" {
					break
				}
				if sep != "," {
					return query{}, jqlError("expecting ',' or ')' but got '%s'.", sep)
				}
			}
		default:
			return query{}, jqlError("the operator '%s' is not supported here.", op)
		}
		q.clauses = append(q.clauses, c)
		if i < len(toks) && strings.EqualFold(toks[i], "and") {
			i++
			continue
		}
		if i < len(toks) && !strings.EqualFold(toks[i], "order") {
			return query{}, jqlError("expecting 'AND' or 'ORDER BY' but got '%s'.", toks[i])
		}
	}
	if i < len(toks) {
		next()
		if !strings.EqualFold(next(), "by") {
			return query{}, jqlError("expecting 'by' after 'order'.")
		}
		for i < len(toks) {
			o := order{field: strings.ToLower(next())}
			if i < len(toks) && (strings.EqualFold(toks[i], "asc") || strings.EqualFold(toks[i], "desc")) {
				o.desc = strings.EqualFold(next(), "desc")
			}
			q.orderBy = append(q.orderBy, o)
			if i < len(toks) && next() != "," {
				return query{}, jqlError("expecting ',' between ORDER BY fields.")
			}
		}
	}
	return q, nil
}

func parseJQLDate(v string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{"2006/01/02 15:04", "2006-01-02 15:04", "2006/01/02", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, jqlError("date value '%s' for field 'updated' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd'.", v)
}

func (q query) match(is *issue, loc *time.Location) (bool, error) {
	for _, c := range q.clauses {
		ok, err := c.match(is, loc)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (c clause) match(is *issue, loc *time.Location) (bool, error) {
	switch c.field {
	case "created", "updated":
		t, err := parseJQLDate(c.values[0], loc)
		if err != nil {
			return false, err
		}
		at := is.updated
		if c.field == "created" {
			at = is.created
		}
		switch c.op {
		case ">=":
			return !at.Before(t), nil
		case ">":
			return at.After(t), nil
		case "<=":
			return !at.After(t), nil
		case "<":
			return at.Before(t), nil
		}
		return false, jqlError("the operator '%s' is not supported for dates here.", c.op)
	}
	var have []string
	switch c.field {
	case "project":
		have = []string{is.project}
	case "key", "issuekey":
		have = []string{is.key, is.id}
	case "labels":
		have = is.labels
	case "status":
		have = []string{is.status}
	case "issuetype":
		have = []string{is.issueType}
	}
	any := false
	for _, v := range c.values {
		for _, h := range have {
			// Labels are case-sensitive in Jira; the rest is not.
			if h == v || c.field != "labels" && strings.EqualFold(h, v) {
				any = true
			}
		}
	}
	switch c.op {
	case "=", "in":
		return any, nil
	case "!=":
		return !any, nil
	}
	return false, jqlError("the operator '%s' is not supported for the field '%s'.", c.op, c.field)
}

// run evaluates a query for a user and sorts the result.
func (e *Emu) run(jql string, u *User) ([]*issue, error) {
	q, err := parseJQL(jql)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(tz(u))
	if err != nil {
		loc = time.UTC
	}
	var out []*issue
	for _, is := range e.issues {
		ok, err := q.match(is, loc)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, is)
		}
	}
	orderBy := q.orderBy
	if len(orderBy) == 0 {
		orderBy = []order{{field: "key", desc: true}} // Jira's default: newest first
	}
	slices.SortStableFunc(out, func(a, b *issue) int {
		for _, o := range orderBy {
			var c int
			switch o.field {
			case "updated":
				c = a.updated.Compare(b.updated)
			case "created":
				c = a.created.Compare(b.created)
			default: // key: by project, then number
				an, _ := strconv.Atoi(a.id)
				bn, _ := strconv.Atoi(b.id)
				c = an - bn
			}
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	return out, nil
}

// searchJQL is Cloud's GET /rest/api/3/search/jql: nextPageToken paging,
// isLast, and only ids unless fields are asked for.
func (e *Emu) searchJQL(w http.ResponseWriter, r *http.Request, u *User) {
	qs := r.URL.Query()
	jql := qs.Get("jql")
	if !strings.Contains(strings.ToLower(jql), "project") && !strings.Contains(strings.ToLower(jql), "key") {
		writeError(w, http.StatusBadRequest, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
		return
	}
	maxResults := e.maxResults(qs.Get("maxResults"))
	start := 0
	if tok := qs.Get("nextPageToken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(raw), "offset:") || n < 0 {
			writeError(w, http.StatusBadRequest, "The provided next page token is invalid or expired.")
			return
		}
		start = n
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	found, err := e.run(jql, u)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	fields := fieldList(qs.Get("fields"))
	issues := []any{}
	end := min(start+maxResults, len(found))
	for _, is := range found[min(start, len(found)):end] {
		if fields == nil {
			issues = append(issues, map[string]any{"id": is.id})
		} else {
			issues = append(issues, e.issueJSON(is, fields))
		}
	}
	out := map[string]any{"issues": issues, "isLast": end >= len(found)}
	if end < len(found) {
		// Absent on the last page (JRACLOUD-92184).
		out["nextPageToken"] = base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(end)))
	}
	writeJSON(w, http.StatusOK, out)
}

// searchServer is Server's GET /rest/api/2/search: startAt, maxResults
// and total.
func (e *Emu) searchServer(w http.ResponseWriter, r *http.Request, u *User) {
	qs := r.URL.Query()
	maxResults := e.maxResults(qs.Get("maxResults"))
	start, err := strconv.Atoi(qs.Get("startAt"))
	if qs.Get("startAt") == "" {
		start, err = 0, nil
	}
	if err != nil || start < 0 {
		writeError(w, http.StatusBadRequest, "startAt must be a non-negative number")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	found, err := e.run(qs.Get("jql"), u)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	fields := fieldList(qs.Get("fields"))
	if fields == nil {
		fields = []string{"*navigable"}
	}
	issues := []any{}
	end := min(start+maxResults, len(found))
	for _, is := range found[min(start, len(found)):end] {
		issues = append(issues, e.issueJSON(is, fields))
	}
	writeJSON(w, http.StatusOK, map[string]any{"startAt": start, "maxResults": maxResults, "total": len(found), "issues": issues})
}

func (e *Emu) maxResults(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > e.o.MaxResults {
		return e.o.MaxResults
	}
	return n
}
