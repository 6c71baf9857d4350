package logging

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		check   func(t *testing.T, l Line)
	}{
		{name: "agent line", in: `{"level":"warn","component":"sync","process":"p1","attachment_size":12345678901234567,"time":"2026-01-02T03:04:05.678+01:00","message":"slow"}` + "\n",
			check: func(t *testing.T, l Line) {
				want := time.Date(2026, 1, 2, 2, 4, 5, 678e6, time.UTC)
				if !l.Time.Equal(want) || l.Level != "warn" || l.Component != "sync" || l.Message != "slow" {
					t.Errorf("got %+v", l)
				}
				if len(l.Fields) != 2 || l.Fields["process"] != "p1" || l.Fields["attachment_size"] != json.Number("12345678901234567") {
					t.Errorf("fields = %v", l.Fields)
				}
			}},
		{name: "unix seconds", in: `{"time":1767323045}`, check: func(t *testing.T, l Line) {
			if l.Time.Unix() != 1767323045 {
				t.Errorf("time = %v", l.Time)
			}
		}},
		{name: "unix milliseconds", in: `{"time":1767323045123}`, check: func(t *testing.T, l Line) {
			if l.Time.UnixMilli() != 1767323045123 {
				t.Errorf("time = %v", l.Time)
			}
		}},
		{name: "wrong types stay in fields", in: `{"level":3,"message":["a"],"time":"yesterday"}`, check: func(t *testing.T, l Line) {
			if l.Level != "" || l.Message != "" || !l.Time.IsZero() || len(l.Fields) != 3 {
				t.Errorf("got %+v", l)
			}
		}},
		{name: "empty object", in: `{}`, check: func(t *testing.T, l Line) {
			if l.Fields == nil {
				t.Error("Fields is nil")
			}
		}},
		{name: "empty", in: ``, wantErr: true},
		{name: "null", in: `null`, wantErr: true},
		{name: "array", in: `[1,2]`, wantErr: true},
		{name: "string", in: `"level"`, wantErr: true},
		{name: "truncated", in: `{"level":"info","mess`, wantErr: true},
		{name: "two objects", in: `{"a":1}{"b":2}`, wantErr: true},
		{name: "trailing garbage", in: `{"a":1} x`, wantErr: true},
		{name: "binary", in: "\x00\xff\xfe{", wantErr: true},
		{name: "year out of range", in: `{"time":9e15}`, check: func(t *testing.T, l Line) {
			if !l.Time.IsZero() {
				t.Errorf("time = %v", l.Time)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, err := ParseLine([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, line)
			}
		})
	}
}

func TestLineJSONShape(t *testing.T) {
	line, err := ParseLine([]byte(`{"level":"info","component":"rpc","time":"2026-01-02T03:04:05.000Z","message":"hi","system":"jira"}`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(line)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2026-01-02T03:04:05Z","level":"info","component":"rpc","message":"hi","fields":{"system":"jira"}}`
	if string(out) != want {
		t.Errorf("JSON = %s\nwant   %s", out, want)
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add([]byte(`{"level":"info","component":"sync","time":"2026-01-02T03:04:05.000Z","message":"m","process":"p"}`))
	f.Add([]byte(`{"time":-62135596800}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		line, err := ParseLine(raw)
		if err != nil {
			return
		}
		// Whatever parses must travel on to the desktop.
		if _, err := json.Marshal(line); err != nil {
			t.Fatalf("marshal %+v: %v", line, err)
		}
		if line.Fields == nil {
			t.Fatal("Fields is nil")
		}
	})
}
