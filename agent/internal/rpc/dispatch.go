package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/auth"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// callTimeout keeps every request under the 30 s the design allows; longer
// work is a job with progress events.
const callTimeout = 30 * time.Second

// Call is what a handler knows about its caller.
type Call struct {
	conn    *conn
	Account *apitype.Account // nil before login
	Token   string
	Remote  string
}

// Actor names the caller in audit records.
func (c *Call) Actor() string {
	if c.Account == nil {
		return "anonymous"
	}
	return c.Account.Username
}

// stringLimits are the fields allowed more than input.MaxString, the
// ceiling of every other string in every request. Services bound what they
// store more tightly (names, URLs, settings, secrets).
var stringLimits = map[string]map[string]int{
	// A configuration document of many processes; the frame bounds it.
	protocol.ProcessesImport.Name: {"document": protocol.MaxFrameAfterLogin},
}

type handler struct {
	desc protocol.Descriptor
	call func(ctx context.Context, c *Call, params json.RawMessage) (any, error)
}

// Handle registers fn as the implementation of m. The descriptor carries the
// method's access level, so a method cannot be registered without one.
func Handle[P, R any](s *Server, m protocol.Method[P, R], fn func(ctx context.Context, c *Call, p P) (R, error)) {
	s.handlers[m.Name] = handler{desc: m.Descriptor(), call: func(ctx context.Context, c *Call, raw json.RawMessage) (any, error) {
		p, perr := decodeParams[P](raw)
		if perr != nil {
			return nil, perr
		}
		if path, limit, n, long := longString(raw, stringLimits[m.Name]); long {
			return nil, protocol.Invalid(path, "%s is longer than %d bytes (it has %d)", path, limit, n)
		}
		return fn(ctx, c, p)
	}}
}

// dispatch runs one request: the handshake rule, authentication and the
// role check all happen here and nowhere else.
func (s *Server) dispatch(c *conn, req protocol.Request) *protocol.Response {
	h, ok := s.handlers[req.Method]
	if !ok {
		r := errorResponse(req.ID, &protocol.Error{Code: protocol.CodeMethodNotFound, Message: "unknown method " + truncate(req.Method, 64)})
		return &r
	}
	call := &Call{conn: c, Remote: c.remote}
	c.mu.Lock()
	hello := c.hello
	c.mu.Unlock()
	if !hello && h.desc.Access != protocol.Handshake {
		r := errorResponse(req.ID, protocol.Errorf(protocol.KindHandshakeRequired, "call session.hello first"))
		return &r
	}
	if h.desc.Access >= protocol.Viewer && c.localAccount != nil {
		call.Account = c.localAccount
	} else if h.desc.Access >= protocol.Viewer {
		token, _ := c.session()
		if token == "" {
			r := errorResponse(req.ID, protocol.Errorf(protocol.KindUnauthorized, "log in first"))
			return &r
		}
		sess, err := s.deps.Auth.Validate(token)
		if errors.Is(err, auth.ErrUnauthorized) {
			// Timed out (or ended without this agent being told): its
			// subscriptions end with it, as at a logout.
			c.endSessionOf(token)
			r := errorResponse(req.ID, protocol.Errorf(protocol.KindUnauthorized, "the session has expired or was revoked: log in again"))
			return &r
		}
		if err != nil {
			// The store failed to answer: the session may well be alive, so
			// it is kept and only this call fails, as internal (logged with
			// an error id, answered without the store's detail).
			r := errorResponse(req.ID, s.toWire(req.Method, err))
			return &r
		}
		call.Account, call.Token = &sess.Account, token
		if !protocol.Role(sess.Account.Role).Allows(h.desc.Access) {
			if h.desc.Access >= protocol.Operator {
				s.deps.Audit.Append(audit.Entry{Actor: sess.Account.Username, Action: req.Method, Target: "method", Result: audit.Denied, Remote: c.remote})
			}
			r := errorResponse(req.ID, protocol.Errorf(protocol.KindForbidden, "the %s role may not call %s", sess.Account.Role, req.Method))
			return &r
		}
	}
	if h.desc.Access == protocol.Anonymous {
		defer c.authCall()()
	}
	ctx, cancel := context.WithTimeout(c.ctx, callTimeout)
	defer cancel()
	start := time.Now()
	result, err := h.call(ctx, call, req.Params)
	// One debug line per call: method, caller and outcome, never params
	// (they can carry secrets).
	if err != nil {
		werr := s.toWire(req.Method, err)
		s.log.Debug().Str("method", req.Method).Str("actor", call.Actor()).Str("remote", c.remote).
			Str("kind", string(werr.ErrorKind())).Dur("took", time.Since(start)).Msg("call failed")
		r := errorResponse(req.ID, werr)
		return &r
	}
	s.log.Debug().Str("method", req.Method).Str("actor", call.Actor()).Str("remote", c.remote).Dur("took", time.Since(start)).Msg("call")
	raw, merr := json.Marshal(result)
	if merr != nil {
		s.log.Error().Err(merr).Str("method", req.Method).Msg("encode result")
		r := errorResponse(req.ID, &protocol.Error{Code: protocol.CodeInternal, Message: "internal error"})
		return &r
	}
	return &protocol.Response{JSONRPC: "2.0", ID: req.ID, Result: raw}
}

// truncate shortens a caller's string for an error message, at a character
// boundary so the answer stays valid UTF-8.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
