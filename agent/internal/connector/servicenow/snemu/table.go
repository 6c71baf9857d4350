package snemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The Table API.

func (e *Emu) knownTable(w http.ResponseWriter, name string) bool {
	if tableByName(name) == nil {
		writeError(w, http.StatusBadRequest, "Invalid table "+name, "")
		return false
	}
	return true
}

// dictionaryTables are hidden from users without their read ACLs: a query
// of them answers no rows.
var dictionaryTables = []string{"sys_db_object", "sys_dictionary", "sys_choice"}

// renderOpts are the sysparm_* parameters that shape a record.
type renderOpts struct {
	fields  []string // nil: every field of the record's class
	display string   // "false", "true" or "all"
	links   bool
	u       *User
}

func (e *Emu) renderOptions(r *http.Request, u *User) renderOpts {
	q := r.URL.Query()
	o := renderOpts{display: strings.ToLower(q.Get("sysparm_display_value")), links: q.Get("sysparm_exclude_reference_link") != "true", u: u}
	if o.display != "true" && o.display != "all" {
		o.display = "false"
	}
	if f := strings.TrimSpace(q.Get("sysparm_fields")); f != "" {
		for _, name := range strings.Split(f, ",") {
			if name = strings.TrimSpace(name); name != "" {
				o.fields = append(o.fields, name)
			}
		}
	}
	return o
}

// render is a record as the Table API returns it. The caller holds e.mu.
func (e *Emu) render(r *record, o renderOpts) map[string]any {
	paths := o.fields
	if paths == nil {
		for _, f := range fieldsOf(r.class) {
			paths = append(paths, f.element)
		}
	}
	out := map[string]any{}
	for _, p := range paths {
		table, f, ok := resolvePath(r.class, p)
		if !ok {
			continue // the instance leaves out fields it does not know
		}
		value := e.valueAt(r, p)
		if strings.HasPrefix(f.typ, "journal") {
			value = ""
		}
		var link string
		if f.typ == "reference" && value != "" && o.links {
			link = e.URL() + "/api/now/table/" + f.ref + "/" + value
		}
		switch o.display {
		case "false":
			if link != "" {
				out[p] = map[string]any{"link": link, "value": value}
			} else {
				out[p] = value
			}
		case "true":
			d := e.display(r, table, f, p, value, o.u)
			if link != "" {
				out[p] = map[string]any{"display_value": d, "link": link}
			} else {
				out[p] = d
			}
		default:
			m := map[string]any{"display_value": e.display(r, table, f, p, value, o.u), "value": value}
			if link != "" {
				m["link"] = link
			}
			out[p] = m
		}
	}
	return out
}

// javaDate turns the Java date patterns users choose into Go layouts.
var javaDate = strings.NewReplacer("yyyy", "2006", "MM", "01", "dd", "02")

// display is a field's display value for the user. The caller holds e.mu.
func (e *Emu) display(r *record, table string, f fieldDef, path, value string, u *User) string {
	switch {
	case strings.HasPrefix(f.typ, "journal"):
		owner := r
		if i := strings.LastIndex(path, "."); i >= 0 {
			owner = e.records[e.valueAt(r, path[:i])]
		}
		if owner == nil {
			return ""
		}
		return e.journalText(owner.vals["sys_id"], f, u)
	case value == "":
		return ""
	case f.typ == "reference":
		target := e.records[value]
		if target == nil {
			return ""
		}
		return target.vals[displayField(target.class)]
	case f.choice > 0:
		if l, ok := e.choiceLabel(table, f.element, value); ok {
			return l
		}
		return value
	case f.typ == "glide_date_time" || f.typ == "due_date":
		t, err := time.ParseInLocation(stamp, value, time.UTC)
		if err != nil {
			return value
		}
		return t.In(userZone(u)).Format(javaDate.Replace(u.DateFormat) + " 15:04:05")
	case f.typ == "glide_date":
		t, err := time.Parse(time.DateOnly, value)
		if err != nil {
			return value
		}
		return t.Format(javaDate.Replace(u.DateFormat))
	}
	return value
}

func userZone(u *User) *time.Location {
	if u != nil {
		if loc, err := time.LoadLocation(u.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// choiceLabel reads sys_choice: the list of the most specific table of
// the chain that has one. The caller holds e.mu.
func (e *Emu) choiceLabel(table, element, value string) (string, bool) {
	for _, name := range chain(table) {
		found, label := false, ""
		for _, c := range e.records {
			if c.class != "sys_choice" || c.vals["name"] != name || c.vals["element"] != element || c.vals["language"] != "en" {
				continue
			}
			found = true
			if c.vals["value"] == value && c.vals["inactive"] != "true" {
				label = c.vals["label"]
			}
		}
		if found {
			return label, label != ""
		}
	}
	return "", false
}

// journalText is a journal field as its display value shows it: every
// entry, newest first, headed by its time and author.
func (e *Emu) journalText(id string, f fieldDef, u *User) string {
	var b strings.Builder
	for _, j := range e.journal(id, f.element) {
		t, _ := time.ParseInLocation(stamp, j.vals["sys_created_on"], time.UTC)
		by := j.vals["sys_created_by"]
		if usr := e.userByName(by); usr != nil {
			by = usr.Name
		}
		fmt.Fprintf(&b, "%s - %s (%s)\n%s\n\n", t.In(userZone(u)).Format("2006-01-02 15:04:05"), by, f.label, j.vals["value"])
	}
	return b.String()
}

// journal lists a record's entries of element, newest first. The caller
// holds e.mu.
func (e *Emu) journal(id, element string) []*record {
	var out []*record
	for _, r := range e.records {
		if r.class == "sys_journal_field" && r.vals["element_id"] == id && r.vals["element"] == element {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *record) int { return b.seq - a.seq })
	return out
}

func (e *Emu) list(w http.ResponseWriter, r *http.Request, u *User) {
	table := r.PathValue("table")
	if !e.knownTable(w, table) {
		return
	}
	q := r.URL.Query()
	limit, offset := 10000, 0
	if v := q.Get("sysparm_limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "Invalid sysparm_limit: "+v, "")
			return
		}
		limit = n
	}
	if v := q.Get("sysparm_offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "Invalid sysparm_offset: "+v, "")
			return
		}
		offset = n
	}
	o := e.renderOptions(r, u)
	e.mu.Lock()
	var hits []*record
	if !(u.NoDictionary && slices.Contains(dictionaryTables, table)) {
		pq := e.parseQuery(table, q.Get("sysparm_query"))
		for _, rec := range e.records {
			if extends(rec.class, table) && e.matches(rec, pq, u) {
				hits = append(hits, rec)
			}
		}
		e.sortRecords(hits, pq.orders)
	}
	total := len(hits)
	page := []map[string]any{}
	for i := offset; i < total && i < offset+limit; i++ {
		if !e.hidden(hits[i], u) {
			page = append(page, e.render(hits[i], o))
		}
	}
	e.mu.Unlock()
	if q.Get("sysparm_no_count") != "true" {
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
	}
	if links := pageLinks(e.URL(), r.URL, offset, limit, total); links != "" {
		w.Header().Set("Link", links)
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": page})
}

// pageLinks is the Link header of a page: first, prev, next and last,
// each the request with another sysparm_offset; none when one page holds
// everything.
func pageLinks(base string, u *url.URL, offset, limit, total int) string {
	if offset == 0 && total <= limit {
		return ""
	}
	link := func(off int, rel string) string {
		q := u.Query()
		q.Set("sysparm_offset", strconv.Itoa(off))
		q.Set("sysparm_limit", strconv.Itoa(limit))
		return "<" + base + u.Path + "?" + q.Encode() + `>;rel="` + rel + `"`
	}
	parts := []string{link(0, "first")}
	if offset > 0 {
		parts = append(parts, link(max(0, offset-limit), "prev"))
	}
	if offset+limit < total {
		parts = append(parts, link(offset+limit, "next"))
	}
	last := 0
	if total > 0 {
		last = (total - 1) / limit * limit
	}
	return strings.Join(append(parts, link(last, "last")), ",")
}

func (e *Emu) get(w http.ResponseWriter, r *http.Request, u *User) {
	table := r.PathValue("table")
	if !e.knownTable(w, table) {
		return
	}
	o := e.renderOptions(r, u)
	e.mu.Lock()
	rec := e.records[r.PathValue("id")]
	if rec == nil || !extends(rec.class, table) || (u.NoDictionary && slices.Contains(dictionaryTables, table)) || e.hidden(rec, u) {
		e.mu.Unlock()
		noRecord(w)
		return
	}
	out := e.render(rec, o)
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"result": out})
}

// hidden reports whether the user's ACLs hide a record. The caller holds
// e.mu.
func (e *Emu) hidden(r *record, u *User) bool {
	return u.Hidden != "" && extends(r.class, "task") && e.matches(r, e.parseQuery(r.class, u.Hidden), u)
}

func noRecord(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
}

// readBody reads a write's JSON object. A list counts only by its first
// element, as the API documents.
func readBody(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, bool) {
	var raw json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		writeError(w, http.StatusBadRequest, "Exception while reading request", "The payload is not valid JSON.")
		return nil, false
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
			raw = list[0]
		}
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil || in == nil {
		writeError(w, http.StatusBadRequest, "Exception while reading request", "The payload is not valid JSON.")
		return nil, false
	}
	return in, true
}

// bodyValues turns a write's JSON values into text as the instance stores
// them: numbers and booleans as their text, null as empty. Objects and
// lists are dropped.
func bodyValues(in map[string]json.RawMessage) map[string]string {
	out := map[string]string{}
	for k, raw := range in {
		var v any
		if json.Unmarshal(raw, &v) != nil {
			continue
		}
		switch x := v.(type) {
		case string:
			out[k] = x
		case float64:
			out[k] = strings.TrimSpace(string(raw))
		case bool:
			out[k] = strconv.FormatBool(x)
		case nil:
			out[k] = ""
		}
	}
	return out
}

// writeError is an error a write rule raised.
type writeErr struct {
	status          int
	message, detail string
}

func aclError(op string) *writeErr {
	return &writeErr{http.StatusForbidden, "Operation Failed", "ACL Exception " + op + " Failed due to security constraints"}
}

// apply sets values on r as a write through the API or the form would,
// runs the business logic, and returns the journal entries to add. It
// drops what the instance drops silently: unknown, system and read-only
// fields; it truncates text to its length. The caller holds e.mu.
func (e *Emu) apply(r *record, vals map[string]string) (changed bool, entries [][2]string, err *writeErr) {
	next := map[string]string{}
	for k, v := range r.vals {
		next[k] = v
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := vals[k]
		f, ok := fieldOf(r.class, k)
		if !ok || f.readOnly || strings.HasPrefix(k, "sys_") {
			continue
		}
		switch {
		case strings.HasPrefix(f.typ, "journal"):
			if strings.TrimSpace(v) != "" {
				entries = append(entries, [2]string{k, v})
			}
			continue
		case f.typ == "boolean":
			v = strconv.FormatBool(v == "true" || v == "1")
		case f.maxLen > 0 && utf8.RuneCountInString(v) > f.maxLen:
			v = string([]rune(v)[:f.maxLen])
		}
		next[k] = v
	}
	if extends(r.class, "incident") {
		next["priority"] = priorityLookup(next["impact"], next["urgency"])
		if next["state"] == "6" && !e.o.NoDataPolicy && (next["close_code"] == "" || strings.TrimSpace(next["close_notes"]) == "") {
			return false, nil, &writeErr{http.StatusForbidden, "Operation Failed",
				"Data Policy Exception: \n The following fields are mandatory: Resolution code, Close notes"}
		}
		if next["state"] == "6" && next["resolved_at"] == "" {
			next["resolved_at"] = e.now().Format(stamp)
		}
	}
	if extends(r.class, "task") {
		closed := map[string]bool{"3": true, "4": true, "7": true, "8": true, "107": true}
		next["active"] = strconv.FormatBool(!closed[next["state"]])
	}
	for k, v := range next {
		if r.vals[k] != v {
			changed = true
		}
	}
	r.vals = next
	return changed || len(entries) > 0, entries, nil
}

// create inserts a record of class with vals as user. The caller holds e.mu.
func (e *Emu) create(class string, vals map[string]string, u *User) (*record, *writeErr) {
	if u.ReadOnly || (!u.Admin && strings.HasPrefix(class, "sys_") && class != "sys_user") {
		return nil, aclError("Insert")
	}
	t := tableByName(class)
	r := &record{class: class, vals: map[string]string{}}
	if extends(class, "task") {
		e.numbers[class]++
		n := t.firstNumber + e.numbers[class] - 1
		r.vals["number"] = fmt.Sprintf("%s%07d", t.prefix, n)
		r.vals["state"] = defaultState[class]
		if r.vals["state"] == "" {
			r.vals["state"] = "1"
		}
		r.vals["impact"], r.vals["urgency"], r.vals["priority"] = "3", "3", "4"
		r.vals["opened_at"] = e.now().Format(stamp)
		r.vals["opened_by"] = u.SysID
		r.vals["reassignment_count"] = "0"
	}
	_, entries, err := e.apply(r, vals)
	if err != nil {
		e.numbers[class]-- // the insert never happened
		return nil, err
	}
	fresh := e.insertRaw(class, "", r.vals)
	fresh.vals["sys_created_by"], fresh.vals["sys_updated_by"] = u.UserName, u.UserName
	e.addJournal(fresh, entries, u)
	e.fire(fresh, "insert")
	return fresh, nil
}

// modify updates r with vals as user: a write that changes nothing leaves
// sys_mod_count and sys_updated_on as they were. The caller holds e.mu.
func (e *Emu) modify(r *record, vals map[string]string, u *User) *writeErr {
	if u.ReadOnly || (!u.Admin && strings.HasPrefix(r.class, "sys_")) {
		return aclError("Update")
	}
	before := r.vals
	changed, entries, err := e.apply(r, vals)
	if err != nil {
		r.vals = before
		return err
	}
	if !changed {
		return nil
	}
	n, _ := strconv.Atoi(r.vals["sys_mod_count"])
	r.vals["sys_mod_count"] = strconv.Itoa(n + 1)
	r.vals["sys_updated_on"] = e.now().Format(stamp)
	r.vals["sys_updated_by"] = u.UserName
	e.addJournal(r, entries, u)
	e.fire(r, "update")
	return nil
}

func (e *Emu) addJournal(r *record, entries [][2]string, u *User) {
	for _, en := range entries {
		j := e.insertRaw("sys_journal_field", "", map[string]string{"name": r.class, "element": en[0],
			"element_id": r.vals["sys_id"], "value": en[1]})
		j.vals["sys_created_by"], j.vals["sys_updated_by"] = u.UserName, u.UserName
	}
}

func (e *Emu) insert(w http.ResponseWriter, r *http.Request, u *User) {
	table := r.PathValue("table")
	if !e.knownTable(w, table) {
		return
	}
	in, ok := readBody(w, r)
	if !ok {
		return
	}
	o := e.renderOptions(r, u)
	e.mu.Lock()
	rec, werr := e.create(table, bodyValues(in), u)
	if werr != nil {
		e.mu.Unlock()
		writeError(w, werr.status, werr.message, werr.detail)
		return
	}
	out := e.render(rec, o)
	id := rec.vals["sys_id"]
	e.mu.Unlock()
	w.Header().Set("Location", e.URL()+"/api/now/table/"+table+"/"+id)
	writeJSON(w, http.StatusCreated, map[string]any{"result": out})
}

func (e *Emu) update(w http.ResponseWriter, r *http.Request, u *User) {
	table := r.PathValue("table")
	if !e.knownTable(w, table) {
		return
	}
	in, ok := readBody(w, r)
	if !ok {
		return
	}
	o := e.renderOptions(r, u)
	e.mu.Lock()
	rec := e.records[r.PathValue("id")]
	if rec == nil || !extends(rec.class, table) {
		e.mu.Unlock()
		noRecord(w)
		return
	}
	if werr := e.modify(rec, bodyValues(in), u); werr != nil {
		e.mu.Unlock()
		writeError(w, werr.status, werr.message, werr.detail)
		return
	}
	out := e.render(rec, o)
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"result": out})
}

func (e *Emu) delete(w http.ResponseWriter, r *http.Request, u *User) {
	table := r.PathValue("table")
	if !e.knownTable(w, table) {
		return
	}
	e.mu.Lock()
	rec := e.records[r.PathValue("id")]
	if rec == nil || !extends(rec.class, table) {
		e.mu.Unlock()
		noRecord(w)
		return
	}
	if !u.Admin {
		e.mu.Unlock()
		writeError(w, http.StatusForbidden, "Operation Failed", "ACL Exception Delete Failed due to security constraints")
		return
	}
	e.remove(rec)
	e.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// remove deletes a record with its attachments. The caller holds e.mu.
func (e *Emu) remove(rec *record) {
	id := rec.vals["sys_id"]
	delete(e.records, id)
	for aid, a := range e.records {
		if a.class == "sys_attachment" && a.vals["table_sys_id"] == id {
			delete(e.records, aid)
			delete(e.files, aid)
		}
	}
	e.fire(rec, "delete")
}
