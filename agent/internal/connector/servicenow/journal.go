package servicenow

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// Comments are journal entries (sys_journal_field): element "comments"
// (additional comments, seen by the caller) or "work_notes" (internal),
// element_id the record's sys_id. Which are read, and which one is
// written, are settings. An entry is added by writing the journal field
// of the record, which updates the record; entries cannot be edited.
//
// Journal text is plain text: Markdown is written as it is (it reads as
// text) and text is read back as it is. A comment's marker rides at its
// end as an HTML comment inside [code]...[/code], which journal fields
// render as HTML, so people do not see it.

// markerForm is a comment marker as a journal entry holds it.
func markerForm(marker string) string {
	return "[code]<!-- " + strings.ReplaceAll(marker, "--", "- -") + " -->[/code]"
}

// bareMarker is a comment marker without the HTML comment some callers
// wrap it in ("<!-- lockstep:a:1 -->" is "lockstep:a:1").
func bareMarker(m string) string {
	m = strings.TrimSpace(m)
	if inner, ok := strings.CutPrefix(m, "<!--"); ok {
		if inner, ok = strings.CutSuffix(inner, "-->"); ok {
			return strings.TrimSpace(inner)
		}
	}
	return m
}

// trailingMarker finds a marker at the end of an entry: in [code] tags,
// or bare where an instance does not render them.
var trailingMarker = regexp.MustCompile(`\s*(?:\[code\])?<!--\s*(\S[^\n]*?)\s*-->(?:\[/code\])?\s*$`)

// splitMarker takes the marker out of an entry's text.
func splitMarker(text string) (body, marker string) {
	m := trailingMarker.FindStringSubmatchIndex(text)
	if m == nil {
		return text, ""
	}
	return text[:m[0]], text[m[2]:m[3]]
}

// Comments lists a record's journal entries of the elements read, oldest
// first.
func (c *Conn) Comments(ctx context.Context, ref connector.Ref) ([]connector.Comment, error) {
	_, id, err := c.locate(ctx, ref)
	if err != nil {
		return nil, err
	}
	recs, err := c.listAll(ctx, "sys_journal_field", "element_id="+id+"^elementIN"+strings.Join(c.readJournals, ",")+
		"^ORDERBYsys_created_on^ORDERBYsys_id", []string{"sys_id", "element", "value", "sys_created_on", "sys_created_by"})
	if err != nil {
		return nil, fmt.Errorf("list ServiceNow comments of %s: %w", connector.RefName(ref), err)
	}
	var by []string
	for _, r := range recs {
		by = append(by, r.get("sys_created_by"))
	}
	who := c.authors(ctx, by)
	out := make([]connector.Comment, 0, len(recs))
	for _, r := range recs {
		if !sysIDs.MatchString(r.get("sys_id")) {
			continue
		}
		body, marker := splitMarker(r.get("value"))
		out = append(out, connector.Comment{ID: r.get("sys_id"), Author: who[r.get("sys_created_by")], Body: body, Marker: marker,
			CreatedAt: parseStamp(r.get("sys_created_on"))})
	}
	return out, nil
}

// AddComment writes the journal field the writeJournal setting names and
// reads the entry it made back from sys_journal_field.
func (c *Conn) AddComment(ctx context.Context, ref connector.Ref, nc connector.NewComment) (connector.Comment, error) {
	table, id, err := c.locate(ctx, ref)
	if err != nil {
		return connector.Comment{}, err
	}
	fail := func(err error) (connector.Comment, error) {
		return connector.Comment{}, fmt.Errorf("add ServiceNow %s to %s: %w", c.writeJournal, connector.RefName(ref), err)
	}
	text, marker := nc.Body, bareMarker(nc.Marker)
	if marker != "" {
		// Written once, in the journal's own form: a caller that put the
		// marker in the body too gets it moved, not doubled.
		text = strings.ReplaceAll(text, "<!-- "+marker+" -->", "")
	}
	text = strings.TrimRight(text, " \t\r\n")
	if strings.TrimSpace(text) == "" {
		return fail(fmt.Errorf("a journal entry cannot be empty: %w", connector.ErrInvalid))
	}
	if marker != "" {
		text += "\n\n" + markerForm(marker)
	}
	var r record
	q := readFields("sys_id", "sys_updated_on")
	// Not idempotent: a repeat would add the entry twice.
	if err := c.call(ctx, httpx.Request{Method: http.MethodPatch, Path: "/api/now/table/" + table + "/" + id, Query: q},
		map[string]string{c.writeJournal: text}, &r); err != nil {
		return fail(err)
	}
	recs, err := c.list(ctx, "sys_journal_field", "element_id="+id+"^element="+c.writeJournal+"^ORDERBYDESCsys_created_on",
		[]string{"sys_id", "value", "sys_created_on", "sys_created_by"}, 20, 0)
	if err != nil {
		return fail(fmt.Errorf("read the entry back: %w", err))
	}
	for _, e := range recs {
		if strings.TrimSpace(e.get("value")) == strings.TrimSpace(text) && sysIDs.MatchString(e.get("sys_id")) {
			body, marker := splitMarker(e.get("value"))
			author := c.authors(ctx, []string{e.get("sys_created_by")})[e.get("sys_created_by")]
			return connector.Comment{ID: e.get("sys_id"), Author: author, Body: body, Marker: marker,
				CreatedAt: parseStamp(e.get("sys_created_on"))}, nil
		}
	}
	return fail(fmt.Errorf("the entry was written but is not among the record's latest %s (a business rule may have changed it): %w",
		c.writeJournal, connector.ErrUnavailable))
}

// readFields asks for fields with their values and display values.
func readFields(fields ...string) map[string][]string {
	return map[string][]string{"sysparm_display_value": {"all"}, "sysparm_exclude_reference_link": {"true"},
		"sysparm_fields": {strings.Join(fields, ",")}}
}
