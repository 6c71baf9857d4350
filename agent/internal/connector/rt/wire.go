package rt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// REST2's JSON, as this connector reads it. RT is loose with types: ids
// come as numbers in one place and strings in the next, and numbers such
// as Priority and ContentLength arrive as strings; flexString takes both.

// flexString is a JSON string or number, kept as text.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("want a string or number: %w", err)
		}
		*f = flexString(n.String())
	}
	return nil
}

// rtTime is an RT timestamp. RT writes unset dates as the Unix epoch; they
// read as the zero time.
type rtTime struct{ time.Time }

func (t *rtTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", s, err)
	}
	if v.Unix() <= 0 {
		v = time.Time{}
	}
	t.Time = v.UTC()
	return nil
}

// wireRef is a linked record: {"id":..., "type":..., "_url":...}.
type wireRef struct {
	ID   flexString `json:"id"`
	Type string     `json:"type"`
	URL  string     `json:"_url"`
}

type wireHyperlink struct {
	Ref  string     `json:"ref"`
	ID   flexString `json:"id"`
	Type string     `json:"type"`
	URL  string     `json:"_url"`
	Name string     `json:"name"`
}

type wireCFValue struct {
	ID     flexString `json:"id"`
	Name   string     `json:"name"`
	Values []any      `json:"values"`
}

type wireTicket struct {
	ID           flexString      `json:"id"`
	Subject      string          `json:"Subject"`
	Status       string          `json:"Status"`
	Priority     flexString      `json:"Priority"`
	Queue        wireRef         `json:"Queue"`
	Owner        wireRef         `json:"Owner"`
	Requestor    []wireRef       `json:"Requestor"`
	Created      rtTime          `json:"Created"`
	LastUpdated  rtTime          `json:"LastUpdated"`
	Due          rtTime          `json:"Due"`
	EffectiveID  wireRef         `json:"EffectiveId"`
	CustomFields []wireCFValue   `json:"CustomFields"`
	Hyperlinks   []wireHyperlink `json:"_hyperlinks"`
}

// wirePage is a REST2 collection page.
type wirePage[T any] struct {
	Total   *int `json:"total"`
	Count   int  `json:"count"`
	Page    int  `json:"page"`
	PerPage int  `json:"per_page"`
	Items   []T  `json:"items"`
}

type wireTxn struct {
	ID flexString `json:"id"`
	// Record is the lowercase "type" ("transaction"): declared so that
	// encoding/json, which also matches keys case-insensitively, never
	// puts it in Type.
	Record   string     `json:"type"`
	Type     string     `json:"Type"`
	Field    string     `json:"Field"`
	ObjectID flexString `json:"ObjectId"`
	Data     string     `json:"Data"`
	Created  rtTime     `json:"Created"`
	Creator  wireRef    `json:"Creator"`
	OldValue string     `json:"OldValue"`
	NewValue string     `json:"NewValue"`
}

type wireAttachment struct {
	ID            flexString `json:"id"`
	Filename      string     `json:"Filename"`
	ContentType   string     `json:"ContentType"`
	ContentLength flexString `json:"ContentLength"`
	Content       string     `json:"Content"`
	TransactionID flexString `json:"TransactionId"`
	Created       rtTime     `json:"Created"`
}

type wireUser struct {
	ID           flexString `json:"id"`
	Name         string     `json:"Name"`
	EmailAddress string     `json:"EmailAddress"`
	RealName     string     `json:"RealName"`
	Disabled     flexString `json:"Disabled"`
}

type wireQueue struct {
	ID                 flexString      `json:"id"`
	Name               string          `json:"Name"`
	Description        string          `json:"Description"`
	Lifecycle          string          `json:"Lifecycle"`
	Disabled           flexString      `json:"Disabled"`
	TicketCustomFields []wireHyperlink `json:"TicketCustomFields"`
}

type wireCustomField struct {
	ID          flexString `json:"id"`
	Name        string     `json:"Name"`
	Type        string     `json:"Type"`
	MaxValues   flexString `json:"MaxValues"`
	LookupType  string     `json:"LookupType"`
	Description string     `json:"Description"`
	Disabled    flexString `json:"Disabled"`
}

type wireCFValueItem struct {
	Name string `json:"name"`
}

// wireCreated is the answer to a create: {"id":"12","type":"ticket",...}.
type wireCreated struct {
	ID   flexString `json:"id"`
	Type string     `json:"type"`
}

// decodeTicket reads GET /ticket/:id.
func decodeTicket(b []byte) (wireTicket, error) {
	var t wireTicket
	if err := json.Unmarshal(b, &t); err != nil {
		return wireTicket{}, fmt.Errorf("decode ticket: %w", err)
	}
	if _, err := strconv.ParseInt(string(t.ID), 10, 64); err != nil {
		return wireTicket{}, fmt.Errorf("decode ticket: id %q is not a number", t.ID)
	}
	return t, nil
}

// decodePage reads a collection page.
func decodePage[T any](b []byte) (wirePage[T], error) {
	var p wirePage[T]
	if err := json.Unmarshal(b, &p); err != nil {
		return wirePage[T]{}, fmt.Errorf("decode page: %w", err)
	}
	return p, nil
}

// cfValue turns a custom field's values into the engine's value: one
// value is text, several (or a multi-value field) a list.
func cfValue(values []any, multi bool) any {
	out := make([]string, 0, len(values))
	for _, v := range values {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case float64:
			out = append(out, strconv.FormatFloat(x, 'f', -1, 64))
		case map[string]any: // an upload or image field: its file name
			if n, ok := x["filename"].(string); ok {
				out = append(out, n)
			}
		}
	}
	if multi {
		return out
	}
	if len(out) == 0 {
		return nil
	}
	return out[0]
}
