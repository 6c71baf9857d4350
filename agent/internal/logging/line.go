package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Line is one parsed log line: PROTOCOL.md's LogLine. Fields holds every
// field other than the four named ones (never nil); numbers are json.Number
// so ids and sizes keep their exact value.
type Line struct {
	Time      time.Time      `json:"time"`
	Level     string         `json:"level"`
	Component string         `json:"component"`
	Message   string         `json:"message"`
	Fields    map[string]any `json:"fields"`
}

// ParseLine decodes one JSON log line. It accepts exactly one JSON object
// (surrounding white space allowed) and returns an error for anything else;
// it never panics. A known field with an unexpected type stays in Fields.
func ParseLine(raw []byte) (Line, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return Line{}, fmt.Errorf("decode log line: %w", err)
	}
	if m == nil {
		return Line{}, errors.New("decode log line: not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Line{}, errors.New("decode log line: data after the object")
	}
	var line Line
	if t, ok := lineTime(m["time"]); ok {
		line.Time = t
		delete(m, "time")
	}
	take := func(key string, dst *string) {
		if s, ok := m[key].(string); ok {
			*dst = s
			delete(m, key)
		}
	}
	take("level", &line.Level)
	take(FieldComponent, &line.Component)
	take("message", &line.Message)
	line.Fields = m
	return line, nil
}

// lineTime reads the time field: RFC 3339 text as the agent writes it, or
// Unix seconds or milliseconds as zerolog can be configured to write. It
// refuses times outside years 0-9999, which JSON cannot carry back out.
func lineTime(v any) (time.Time, bool) {
	var t time.Time
	switch v := v.(type) {
	case string:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return time.Time{}, false
		}
	case json.Number:
		f, err := v.Float64()
		if err != nil || math.IsNaN(f) || math.Abs(f) > 1e15 {
			return time.Time{}, false
		}
		if math.Abs(f) >= 1e11 { // too large for seconds: milliseconds
			t = time.UnixMilli(int64(f))
		} else {
			t = time.Unix(int64(f), int64((f-math.Trunc(f))*1e9))
		}
	default:
		return time.Time{}, false
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, false
	}
	return t, true
}
