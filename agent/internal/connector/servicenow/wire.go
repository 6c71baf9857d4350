package servicenow

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// The Table API's JSON as this connector reads it. Every request asks for
// sysparm_display_value=all and sysparm_exclude_reference_link=true, so a
// field is {"display_value": ..., "value": ...}: value is the internal
// value (UTC "2006-01-02 15:04:05" for dates and times, a sys_id for a
// reference, a choice's value), display_value what a person sees (dates
// in the API user's time zone and date format, a reference's display
// field, a choice's label). The connector reads values for everything it
// compares or writes back, and display values only for names.

// stamp is the instance's internal date-time format, always UTC.
const stamp = "2006-01-02 15:04:05"

// value is one field of a record.
type value struct {
	Value   string
	Display string
}

// UnmarshalJSON reads a field in any of the API's shapes: the object of
// sysparm_display_value=all (with or without a link), or a bare value
// (display values off, or attachment metadata). Numbers, booleans and
// null become text; an odd shape is an empty value, never an error, so
// one strange field cannot hide a whole record.
func (v *value) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var o struct {
			Value   json.RawMessage `json:"value"`
			Display json.RawMessage `json:"display_value"`
		}
		if json.Unmarshal(b, &o) == nil {
			v.Value, v.Display = text(o.Value), text(o.Display)
		}
		return nil
	}
	v.Value = text(b)
	v.Display = v.Value
	return nil
}

// text is a JSON scalar as text ("" for null and anything else).
func text(b json.RawMessage) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ""
	}
	switch b[0] {
	case '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			return s
		}
	case 't', 'f':
		var x bool
		if json.Unmarshal(b, &x) == nil {
			return strconv.FormatBool(x)
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if json.Unmarshal(b, &n) == nil {
			return n.String()
		}
	}
	return ""
}

// record is one row as the Table API returns it, by field (or dot-walked
// path).
type record map[string]value

func (r record) get(field string) string { return r[field].Value }

// parseStamp reads an internal date-time (UTC); the zero time when it is
// empty or malformed.
func parseStamp(s string) time.Time {
	t, err := time.ParseInLocation(stamp, s, time.UTC)
	if err != nil {
		return time.Time{}
	}
	return t
}

// formatStamp writes t as the instance's internal (UTC) value.
func formatStamp(t time.Time) string { return t.UTC().Format(stamp) }
