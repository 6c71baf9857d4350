package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

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
	req.ID = validID(req.ID)
	if req.JSONRPC != "2.0" {
		return req, &protocol.Error{Code: protocol.CodeInvalidRequest, Message: `jsonrpc must be "2.0"`}
	}
	if req.Method == "" {
		return req, &protocol.Error{Code: protocol.CodeInvalidRequest, Message: "method is required"}
	}
	if len(req.ID) == 0 {
		// The protocol has no client notifications: every call gets an answer.
		return req, &protocol.Error{Code: protocol.CodeInvalidRequest, Message: "id must be a number or a short string"}
	}
	if p := bytes.TrimSpace(req.Params); len(p) > 0 && p[0] != '{' && !bytes.Equal(p, []byte("null")) {
		return req, &protocol.Error{Code: protocol.CodeInvalidParams, Message: "params must be an object",
			Data: &protocol.ErrorData{Kind: protocol.KindInvalid, Field: "params"}}
	}
	return req, nil
}

// validID keeps ids that JSON-RPC allows (numbers and strings, bounded) and
// drops anything else, so a hostile id is never echoed back.
func validID(id json.RawMessage) json.RawMessage {
	id = bytes.TrimSpace(id)
	if len(id) == 0 || len(id) > 64 {
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

// decodeParams decodes params into P, naming the field on a type mismatch.
func decodeParams[P any](raw json.RawMessage) (P, *protocol.Error) {
	var p P
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return p, nil
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "" {
				field = "params"
			}
			return p, &protocol.Error{Code: protocol.CodeInvalidParams, Message: fmt.Sprintf("%s must be %s", field, jsonType(te.Type.Kind().String())),
				Data: &protocol.ErrorData{Kind: protocol.KindInvalid, Field: field}}
		}
		return p, &protocol.Error{Code: protocol.CodeInvalidParams, Message: "params are not valid: " + err.Error(),
			Data: &protocol.ErrorData{Kind: protocol.KindInvalid, Field: "params"}}
	}
	return p, nil
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "ptr":
		return "a value of another type"
	}
	return "a number"
}
