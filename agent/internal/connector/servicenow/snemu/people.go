package snemu

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// What people do on the instance, for tests: the same rules apply as to
// writes through the API, without the HTTP round trip.

// Insert creates a record of table as the user named by (a user_name) and
// returns its sys_id. vals hold internal values (sys_ids for references,
// choice values); "comments" and "work_notes" add journal entries.
func (e *Emu) Insert(table, by string, vals map[string]string) (string, error) {
	u := e.userByName(by)
	if u == nil || tableByName(table) == nil {
		return "", fmt.Errorf("insert into %s as %s: no such table or user", table, by)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.create(table, vals, u)
	if err != nil {
		return "", fmt.Errorf("insert into %s: %s: %s", table, err.message, err.detail)
	}
	return r.vals["sys_id"], nil
}

// Update changes a record as the user named by.
func (e *Emu) Update(id, by string, vals map[string]string) error {
	u := e.userByName(by)
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.records[id]
	if u == nil || r == nil {
		return fmt.Errorf("update %s as %s: no such record or user", id, by)
	}
	if err := e.modify(r, vals, u); err != nil {
		return fmt.Errorf("update %s: %s: %s", id, err.message, err.detail)
	}
	return nil
}

// Delete removes a record and its attachments.
func (e *Emu) Delete(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := e.records[id]; r != nil {
		e.remove(r)
	}
}

// Record returns a copy of a record's internal values (nil if none).
func (e *Emu) Record(id string) map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := e.records[id]; r != nil {
		return maps.Clone(r.vals)
	}
	return nil
}

// Records returns copies of the records of table (and the tables
// extending it), oldest first.
func (e *Emu) Records(table string) []map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var list []*record
	for _, r := range e.records {
		if extends(r.class, table) {
			list = append(list, r)
		}
	}
	slices.SortFunc(list, func(a, b *record) int { return a.seq - b.seq })
	out := make([]map[string]string, 0, len(list))
	for _, r := range list {
		out = append(out, maps.Clone(r.vals))
	}
	return out
}

// Find returns the sys_id of the first record of table whose field holds
// value, or "".
func (e *Emu) Find(table, field, value string) string {
	for _, r := range e.Records(table) {
		if r[field] == value {
			return r["sys_id"]
		}
	}
	return ""
}

// JournalEntry is one sys_journal_field row.
type JournalEntry struct {
	SysID, Element, Value, CreatedBy, CreatedOn string
}

// Journal lists a record's journal entries of every element, oldest first.
func (e *Emu) Journal(id string) []JournalEntry {
	var out []JournalEntry
	for _, r := range e.Records("sys_journal_field") {
		if r["element_id"] == id {
			out = append(out, JournalEntry{SysID: r["sys_id"], Element: r["element"], Value: r["value"],
				CreatedBy: r["sys_created_by"], CreatedOn: r["sys_created_on"]})
		}
	}
	return out
}

// Attach adds an attachment to a record as the user named by, as the
// form's paper clip does (the record itself is not updated).
func (e *Emu) Attach(id, by, name, contentType string, data []byte) (string, error) {
	u := e.userByName(by)
	e.mu.Lock()
	defer e.mu.Unlock()
	parent := e.records[id]
	if u == nil || parent == nil {
		return "", fmt.Errorf("attach to %s as %s: no such record or user", id, by)
	}
	return e.attachRaw(parent, name, contentType, data, u).vals["sys_id"], nil
}

// File is an attachment's name and content.
type File struct {
	SysID, Name, ContentType string
	Data                     []byte
}

// Files lists a record's attachments, oldest first.
func (e *Emu) Files(id string) []File {
	var out []File
	for _, r := range e.Records("sys_attachment") {
		if r["table_sys_id"] == id {
			e.mu.Lock()
			data := slices.Clone(e.files[r["sys_id"]])
			e.mu.Unlock()
			out = append(out, File{SysID: r["sys_id"], Name: r["file_name"], ContentType: r["content_type"], Data: data})
		}
	}
	return out
}

// UserID is the sys_id of the user named user_name, or "".
func (e *Emu) UserID(userName string) string {
	if u := e.userByName(userName); u != nil {
		return u.SysID
	}
	return ""
}

// GroupID is the sys_id of the group named name, or "".
func (e *Emu) GroupID(name string) string { return e.Find("sys_user_group", "name", name) }

// AddChoice adds a sys_choice entry, as an administrator configuring a
// choice list would.
func (e *Emu) AddChoice(table, element, value, label string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.insertRaw("sys_choice", "", map[string]string{"name": table, "element": element, "value": value, "label": label,
		"sequence": "1000", "inactive": "false", "language": "en"})
}

// Label is a choice value's label on table, or the value itself.
func (e *Emu) Label(table, element, value string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if l, ok := e.choiceLabel(table, element, value); ok {
		return l
	}
	return value
}

// Value is the value of the choice labelled label on table, or "".
func (e *Emu) Value(table, element, label string) string {
	for _, name := range chain(table) {
		for _, r := range e.Records("sys_choice") {
			if r["name"] == name && r["element"] == element && strings.EqualFold(r["label"], label) {
				return r["value"]
			}
		}
	}
	return ""
}
