package rpc_test

import (
	"crypto/tls"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// wrongValue is a JSON value that t does not accept, and whether t has one
// (an interface accepts anything).
func wrongValue(t reflect.Type) (any, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Time](), t == reflect.TypeFor[json.RawMessage]():
		return 5, true
	}
	switch t.Kind() {
	case reflect.String, reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
		return 5, true
	case reflect.Bool:
		return "yes", true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "5", true
	}
	return nil, false
}

type paramCase struct {
	params map[string]any
	field  string
}

// paramCases are the wrong-typed params of one method: each top-level
// field with a value of the wrong type, and, for maps and lists of a
// concrete type, one element of the wrong type.
func paramCases(t reflect.Type) []paramCase {
	var out []paramCase
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if v, ok := wrongValue(f.Type); ok {
			out = append(out, paramCase{map[string]any{name: v}, name})
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == reflect.TypeFor[json.RawMessage]():
		case ft.Kind() == reflect.Map:
			if v, ok := wrongValue(ft.Elem()); ok {
				out = append(out, paramCase{map[string]any{name: map[string]any{"k": v}}, name + ".k"})
			}
		case ft.Kind() == reflect.Slice:
			if v, ok := wrongValue(ft.Elem()); ok {
				out = append(out, paramCase{map[string]any{name: []any{v}}, name + "[0]"})
			}
		}
	}
	return out
}

// TestWrongTypesNameTheField sends every method declared in shared/protocol
// a value of the wrong type for each of its params: the answer is invalid
// params naming exactly that field, never "params" or a dangling path.
func TestWrongTypesNameTheField(t *testing.T) {
	ag := startAgent(t)
	admin := ag.session(t, "admin", adminPassword)
	fresh, _, err := dial(t, ag.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	tested := 0
	for _, d := range protocol.All() {
		if d.Params == nil {
			t.Fatalf("%s declares no params type", d.Name)
		}
		c := admin
		if d.Access == protocol.Handshake {
			c = fresh
		}
		for _, pc := range paramCases(d.Params) {
			resp := c.raw(d.Name, pc.params)
			e := resp.Error
			if e == nil || e.Data == nil || e.ErrorKind() != protocol.KindInvalid || e.Data.Field != pc.field {
				t.Errorf("%s %v: got %+v, want invalid naming %q", d.Name, pc.params, e, pc.field)
				continue
			}
			if !strings.HasPrefix(e.Message, pc.field+" must be ") {
				t.Errorf("%s %v: message %q does not say what %s must be", d.Name, pc.params, e.Message, pc.field)
			}
			tested++
		}
	}
	if tested < 60 {
		t.Fatalf("only %d wrong-typed params were tried", tested)
	}
	// The two the probe found, by name.
	for _, c := range []struct {
		method string
		params string
		field  string
	}{
		{protocol.ProcessesCreate.Name, `{"process":5}`, "process"},
		{protocol.ProcessesCreate.Name, `{"process":{"name":"x","schedule":{"pollSeconds":"often"}}}`, "process.schedule.pollSeconds"},
		{protocol.ProcessesBulkSync.Name, `{"id":"p","since":1700000000}`, "since"},
		{protocol.ProcessesBulkSync.Name, `{"id":"p","since":"yesterday"}`, "since"},
		{protocol.SystemsUpdate.Name, `{"id":"x","secrets":{"apiKey":1}}`, "secrets.apiKey"},
	} {
		resp := admin.raw(c.method, json.RawMessage(c.params))
		if resp.Error == nil || resp.Error.Data == nil || resp.Error.Data.Field != c.field {
			t.Errorf("%s %s: %+v, want field %q", c.method, c.params, resp.Error, c.field)
		}
	}
}

// TestInvalidUTF8IDIsRefusedNotEchoed: the id is echoed byte for byte, and
// an answer holding invalid UTF-8 is an invalid text frame (RFC 6455).
func TestInvalidUTF8IDIsRefusedNotEchoed(t *testing.T) {
	ag := startAgent(t)
	d := websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial("wss://"+ag.addr+protocol.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, frame := range []string{
		"{\"jsonrpc\":\"2.0\",\"id\":\"\xff\xfe\",\"method\":\"session.hello\",\"params\":{\"protocol\":1}}",
		"{\"jsonrpc\":\"2.0\",\"id\":\"a\xc3\",\"method\":\"no.such\"}",
		"{\"jsonrpc\":\"1.0\",\"id\":\"\xed\xa0\x80\",\"method\":\"x\"}",
	} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
			t.Fatal(err)
		}
		ws.SetReadDeadline(time.Now().Add(30 * time.Second)) // bounds a broken test only
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(data) {
			t.Fatalf("answer to %q is not valid UTF-8: %q", frame, data)
		}
		var resp protocol.Response
		if err := json.Unmarshal(data, &resp); err != nil {
			t.Fatal(err)
		}
		if string(resp.ID) != "null" || resp.Error == nil || resp.Error.Code != protocol.CodeInvalidRequest {
			t.Fatalf("answer to %q: %s, want an invalid request with a null id", frame, data)
		}
	}
}
