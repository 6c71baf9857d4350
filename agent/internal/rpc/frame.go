package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lockstep-sync/lockstep/shared/input"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// decodeRequest parses one frame strictly enough to answer precisely: a frame
// that is not JSON is a parse error; JSON that is not a request is an invalid
// request, answered with the id when one could be read.
func decodeRequest(data []byte) (protocol.Request, *protocol.Error) {
	if !json.Valid(data) {
		return protocol.Request{}, &protocol.Error{Code: protocol.CodeParse, Message: "frame is not valid JSON"}
	}
	var req protocol.Request
	if err := json.Unmarshal(data, &req); err != nil {
		// Valid JSON of the wrong shape (an array, a number as method...).
		var probe struct {
			ID json.RawMessage `json:"id"`
		}
		_ = json.Unmarshal(data, &probe)
		return protocol.Request{ID: validID(probe.ID)}, &protocol.Error{Code: protocol.CodeInvalidRequest, Message: "frame is not a JSON-RPC request object"}
	}
	sent := req.ID
	req.ID = validID(req.ID)
	if len(bytes.TrimSpace(sent)) > 0 && req.ID == nil {
		return req, &protocol.Error{Code: protocol.CodeInvalidRequest, Message: "id must be a number or a string of at most 64 bytes of valid UTF-8"}
	}
	if req.JSONRPC != "2.0" {
		return req, &protocol.Error{Code: protocol.CodeInvalidRequest, Message: `jsonrpc must be "2.0"`}
	}
	if req.Method == "" {
		return req, &protocol.Error{Code: protocol.CodeInvalidRequest, Message: "method is required"}
	}
	if len(req.ID) == 0 {
		// The protocol has no client notifications: every call gets an answer.
		return req, &protocol.Error{Code: protocol.CodeInvalidRequest, Message: "id is required: every call gets an answer"}
	}
	if p := bytes.TrimSpace(req.Params); len(p) > 0 && p[0] != '{' && !bytes.Equal(p, []byte("null")) {
		return req, &protocol.Error{Code: protocol.CodeInvalidParams, Message: "params must be an object",
			Data: &protocol.ErrorData{Kind: protocol.KindInvalid, Field: "params"}}
	}
	return req, nil
}

// validID keeps ids that JSON-RPC allows (numbers and strings, bounded) and
// drops anything else, so a hostile id is never echoed back. An id is
// echoed byte for byte, and a text frame must be valid UTF-8 (RFC 6455), so
// an id that is not is dropped too: the answer would be a frame the client
// must refuse.
func validID(id json.RawMessage) json.RawMessage {
	id = bytes.TrimSpace(id)
	if len(id) == 0 || len(id) > 64 || !utf8.Valid(id) {
		return nil
	}
	switch {
	case id[0] == '"':
		var s string
		if json.Unmarshal(id, &s) != nil {
			return nil
		}
	case id[0] == '-' || (id[0] >= '0' && id[0] <= '9'):
		var n json.Number
		if json.Unmarshal(id, &n) != nil {
			return nil
		}
	default:
		return nil
	}
	return id
}

func errorResponse(id json.RawMessage, e *protocol.Error) protocol.Response {
	if id == nil {
		id = json.RawMessage("null")
	}
	return protocol.Response{JSONRPC: "2.0", ID: id, Error: e}
}

// decodeParams decodes params into P. Any value of the wrong type is
// answered with the path of that value ("since", "secrets.token",
// "origins[2]") and the type it must have.
func decodeParams[P any](raw json.RawMessage) (P, *protocol.Error) {
	var p P
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return p, nil
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, paramsError(raw, reflect.TypeFor[P](), "", "params", err)
	}
	return p, nil
}

// paramsError names the value of raw that did not decode into t: prefix is
// prepended to the path found ("process."), and whole names the value
// itself when the problem is at its root.
func paramsError(raw json.RawMessage, t reflect.Type, prefix, whole string, err error) *protocol.Error {
	path, want, ok := badValue(raw, t, "")
	field := whole
	if ok && path != "" {
		field = prefix + path
	}
	if !ok {
		// Valid JSON that still did not decode: say what the decoder said,
		// without the Go type names it uses.
		return &protocol.Error{Code: protocol.CodeInvalidParams, Message: field + " is not valid: " + plainDecodeError(err),
			Data: &protocol.ErrorData{Kind: protocol.KindInvalid, Field: field}}
	}
	return &protocol.Error{Code: protocol.CodeInvalidParams, Message: fmt.Sprintf("%s must be %s", field, want),
		Data: &protocol.ErrorData{Kind: protocol.KindInvalid, Field: field}}
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	rawType         = reflect.TypeFor[json.RawMessage]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// badValue walks raw alongside t and returns the path of the first value
// that does not decode into its Go type, and what that type wants. Object
// keys match fields as encoding/json matches them (exactly, else ignoring
// case); unknown keys are ignored, as the decoder ignores them. ok is false
// when every part decodes (nothing to blame).
func badValue(raw json.RawMessage, t reflect.Type, path string) (string, string, bool) {
	if json.Unmarshal(raw, reflect.New(t).Interface()) == nil {
		return "", "", false
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawType || t == timeType || reflect.PointerTo(t).Implements(unmarshalerType) {
		return path, want(t), true
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return path, want(t), true
		}
		for _, f := range jsonFields(t) {
			v, ok := obj[f.name]
			if !ok {
				for k, kv := range obj {
					if strings.EqualFold(k, f.name) {
						v, ok = kv, true
						break
					}
				}
			}
			if !ok {
				continue
			}
			if p, w, bad := badValue(v, f.typ, join(path, f.name)); bad {
				return p, w, true
			}
		}
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return path, want(t), true
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if p, w, bad := badValue(obj[k], t.Elem(), join(path, k)); bad {
				return p, w, true
			}
		}
	case reflect.Slice, reflect.Array:
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return path, want(t), true
		}
		for i, v := range list {
			if p, w, bad := badValue(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); bad {
				return p, w, true
			}
		}
	}
	return path, want(t), true
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields lists a struct's fields under their JSON names, embedded
// structs' fields included, as encoding/json sees them.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for f := range t.Fields() {
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, jsonFields(ft)...)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name: name, typ: f.Type})
	}
	return out
}

// want says in words what a value of t looks like in JSON.
func want(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return "a date and time as an RFC 3339 string, e.g. 2026-01-31T09:00:00Z"
	case t == rawType:
		return "a JSON object"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("a whole number between %d and %d", -(int64(1) << (t.Bits() - 1)), int64(1)<<(t.Bits()-1)-1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if t.Bits() == 64 {
			return "a whole number of at least 0"
		}
		return fmt.Sprintf("a whole number between 0 and %d", uint64(1)<<t.Bits()-1)
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "a value of another type"
}

// plainDecodeError is a decoder's message without "json: " and Go type names.
func plainDecodeError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if i := strings.Index(msg, " into Go "); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

// longString finds the first string in raw (a key or a value) longer than
// its limit: limits[path] where a field has its own, else input.MaxString
// (input.MaxID for keys). It returns the path, the limit and the string's
// length. The frame limit bounds raw, so the walk is bounded too.
func longString(raw json.RawMessage, limits map[string]int) (path string, limit, n int, found bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type level struct {
		path    string
		object  bool
		key     string // the key whose value comes next (objects)
		haveKey bool
		index   int // the next element's index (arrays)
	}
	var stack []level
	// next returns the path of the value about to be read and moves past it.
	next := func() string {
		if len(stack) == 0 {
			return ""
		}
		top := &stack[len(stack)-1]
		if top.object {
			top.haveKey = false
			return join(top.path, top.key)
		}
		top.index++
		return fmt.Sprintf("%s[%d]", top.path, top.index-1)
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", 0, 0, false // the caller decoded raw already; nothing more to say
		}
		if len(stack) > 0 && stack[len(stack)-1].object && !stack[len(stack)-1].haveKey {
			if key, ok := tok.(string); ok {
				top := &stack[len(stack)-1]
				if len(key) > input.MaxID {
					return join(top.path, truncate(key, 32)), input.MaxID, len(key), true
				}
				top.key, top.haveKey = key, true
				continue
			}
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				stack = append(stack, level{path: next(), object: v == '{'})
			} else {
				stack = stack[:len(stack)-1]
			}
		case string:
			p := next()
			limit, ok := limits[p]
			if !ok {
				limit = input.MaxString
			}
			if len(v) > limit {
				return p, limit, len(v), true
			}
		default:
			next()
		}
	}
}
