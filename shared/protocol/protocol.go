// Package protocol is the agent's WebSocket contract (PROTOCOL.md): the
// JSON-RPC 2.0 envelope, the error kinds, and one typed descriptor per method
// that the server and the client both use, so a method's name, its role and
// its param and result types are written down once.
package protocol

import (
	"encoding/json"
	"fmt"
)

// Version is the protocol version this build speaks.
const Version = 1

// Path is the WebSocket endpoint.
const Path = "/v1/ws"

// Frame limits: small before login so an anonymous peer cannot make the agent
// buffer much; larger after, for configuration documents.
const (
	MaxFrameBeforeLogin = 64 << 10
	MaxFrameAfterLogin  = 4 << 20
	X
	MaxDownloadChunk = 1 << 20
)

// Request is a client-to-agent call. ID is kept raw: JSON-RPC allows numbers
// and strings, and the answer must echo it byte for byte.
type Request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

// Response answers a Request.
type Response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// Notification is an agent-to-client message without an id.
type Notification struct {
	JSONRPC string          `json:"jsonrpc"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

// Incoming is what a client reads: a Response or a Notification.
type Incoming struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// IsNotification reports whether the frame is a server notification.
func (m Incoming) IsNotification() bool { return len(m.ID) == 0 && m.Method != "" }

// Standard JSON-RPC codes, and the one code of application errors.
const (
	CodeParse          = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternal       = -32603
	CodeApplication    = -32001
)

// Kind is an application error's stable name; clients branch on it only.
type Kind string

// Error kinds (PROTOCOL.md).
const (
	KindHandshakeRequired Kind = "handshake_required"
	KindVersionMismatch   Kind = "version_mismatch"
	KindUnauthorized      Kind = "unauthorized"
	KindLockedOut         Kind = "locked_out"
	KindForbidden         Kind = "forbidden"
	KindNotFound          Kind = "not_found"
	KindConflict          Kind = "conflict"
	KindInvalid           Kind = "invalid"
	KindLicense           Kind = "license"
	KindUnavailable       Kind = "unavailable"
	KindRateLimited       Kind = "rate_limited"
	KindTimeout           Kind = "timeout"
	KindCanceled          Kind = "canceled"
	KindInternal          Kind = "internal"
)

// ErrorData carries the kind and its details.
type ErrorData struct {
	Kind              Kind   `json:"kind"`
	Field             string `json:"field,omitempty"`
	RetryAfterSeconds int    `json:"retryAfterSeconds,omitempty"`
	Supported         []int  `json:"supported,omitempty"`
	// Issues lists every invalid field when there is more than one, so a
	// form can show each at its field.
	Issues []Issue `json:"issues,omitempty"`
}

// Issue is one invalid field.
type Issue struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a JSON-RPC error object; it is also a Go error on both sides.
type Error struct {
	Code    int        `json:"code"`
	Message string     `json:"message"`
	Data    *ErrorData `json:"data,omitempty"`
}

func (e *Error) Error() string {
	if e.Data != nil && e.Data.Field != "" {
		return fmt.Sprintf("%s (%s: %s)", e.Message, e.Data.Kind, e.Data.Field)
	}
	if e.Data != nil {
		return fmt.Sprintf("%s (%s)", e.Message, e.Data.Kind)
	}
	return e.Message
}

// ErrorKind returns the error's kind; standard codes map to the nearest kind.
func (e *Error) ErrorKind() Kind {
	if e.Data != nil && e.Data.Kind != "" {
		return e.Data.Kind
	}
	switch e.Code {
	case CodeInvalidParams, CodeInvalidRequest, CodeParse:
		return KindInvalid
	case CodeMethodNotFound:
		return KindNotFound
	}
	return KindInternal
}

// Errorf builds an application error of kind.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Code: CodeApplication, Message: fmt.Sprintf(format, args...), Data: &ErrorData{Kind: kind}}
}

// Invalid builds an `invalid` error naming the offending field.
func Invalid(field, format string, args ...any) *Error {
	e := Errorf(KindInvalid, format, args...)
	e.Data.Field = field
	return e
}
