package fakeagent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// outQueue is the per-connection queue; like the agent, a connection whose
// queue overflows is closed with 1008.
const outQueue = 4096

type fsub struct {
	id    string
	kind  string
	types []string
}

// session is one connection: a reader (the HTTP handler goroutine) and a
// writer goroutine.
type session struct {
	a      *Agent
	id     int
	ws     *websocket.Conn
	out    chan []byte
	done   chan struct{}
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc

	// Guarded by Agent.mu.
	hello bool
	user  string
	token string
	subs  map[string]*fsub
}

func (a *Agent) serveWS(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.headers = append(a.headers, r.Header.Clone())
	refuse, closed := a.refuse, a.closed
	a.mu.Unlock()
	if closed {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if refuse != 0 {
		http.Error(w, "refused by test", refuse)
		return
	}
	ws, err := a.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{a: a, ws: ws, out: make(chan []byte, outQueue), done: make(chan struct{}), ctx: ctx, cancel: cancel, subs: map[string]*fsub{}}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		s.close()
		return
	}
	a.connSeq++
	s.id = a.connSeq
	a.sessions[s] = struct{}{}
	a.wg.Add(2)
	a.mu.Unlock()
	go s.writeLoop()
	s.readLoop()
}

func (s *session) close() {
	s.once.Do(func() {
		// The socket goes first: a handler woken by the cancel must find
		// nothing left to answer on, as with a real dropped connection.
		close(s.done)
		_ = s.ws.Close()
		s.cancel()
		s.a.mu.Lock()
		delete(s.a.sessions, s)
		s.a.mu.Unlock()
	})
}

func (s *session) writeLoop() {
	defer s.a.wg.Done()
	for {
		select {
		case <-s.done:
			return
		case b := <-s.out:
			_ = s.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := s.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				s.close()
				return
			}
		}
	}
}

func (s *session) readLoop() {
	defer s.a.wg.Done()
	defer s.close()
	s.ws.SetReadLimit(protocol.MaxFrameBeforeLogin)
	s.ws.SetPingHandler(func(data string) error {
		s.a.pings.Add(1)
		if s.a.ignorePings.Load() {
			return nil // a hung agent: the client must notice by its pong wait
		}
		err := s.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		if err == websocket.ErrCloseSent {
			return nil
		}
		return err
	})
	for {
		_, data, err := s.ws.ReadMessage()
		if err != nil {
			return
		}
		var req protocol.Request
		if err := json.Unmarshal(data, &req); err != nil {
			s.send(protocol.Response{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &protocol.Error{Code: protocol.CodeParse, Message: "parse error"}})
			continue
		}
		s.handle(req)
	}
}

// enqueueLocked queues a frame without blocking; a full queue closes the
// connection as a slow consumer, as the agent does.
func (s *session) enqueueLocked(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	select {
	case s.out <- b:
	case <-s.done:
	default:
		s.a.wg.Add(1)
		go func() {
			defer s.a.wg.Done()
			msg := websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "slow consumer")
			_ = s.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			s.close()
		}()
	}
}

func (s *session) send(v any) {
	s.a.mu.Lock()
	defer s.a.mu.Unlock()
	s.enqueueLocked(v)
}

func (s *session) notifyLocked(method string, params any) {
	raw, _ := json.Marshal(params)
	s.enqueueLocked(protocol.Notification{JSONRPC: "2.0", Method: method, Params: raw})
}

func (s *session) resultLocked(id json.RawMessage, result any) {
	raw, err := json.Marshal(result)
	if err != nil {
		s.errorLocked(id, err)
		return
	}
	s.enqueueLocked(protocol.Response{JSONRPC: "2.0", ID: id, Result: raw})
}

func (s *session) errorLocked(id json.RawMessage, err error) {
	s.enqueueLocked(protocol.Response{JSONRPC: "2.0", ID: id, Error: errorOf(err)})
}

// handle runs one request. Built-in methods run inline under the agent's
// lock, so results and notifications keep their order; Handle'd methods
// run on their own goroutine and may block.
func (s *session) handle(req protocol.Request) {
	a := s.a
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, Call{Conn: s.id, Method: req.Method, Params: req.Params})
	if req.Method != protocol.SessionHello.Name && !s.hello {
		s.errorLocked(req.ID, protocol.Errorf(protocol.KindHandshakeRequired, "say session.hello first"))
		return
	}
	desc, known := protocol.Lookup(req.Method)
	if known && desc.Access >= protocol.Viewer {
		acc := a.accounts[s.user]
		if s.user == "" || acc == nil {
			s.errorLocked(req.ID, protocol.Errorf(protocol.KindUnauthorized, "log in first"))
			return
		}
		if !protocol.Role(acc.Role).Allows(desc.Access) {
			s.errorLocked(req.ID, protocol.Errorf(protocol.KindForbidden, "%s needs the %s role", req.Method, desc.Access))
			return
		}
	}
	if h := a.handlers[req.Method]; h != nil {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			res, err := h(s.ctx, req.Params)
			a.mu.Lock()
			defer a.mu.Unlock()
			if err != nil {
				s.errorLocked(req.ID, err)
				return
			}
			s.resultLocked(req.ID, res)
		}()
		return
	}
	if !known {
		s.enqueueLocked(protocol.Response{JSONRPC: "2.0", ID: req.ID, Error: &protocol.Error{Code: protocol.CodeMethodNotFound, Message: "no method " + req.Method}})
		return
	}
	res, err := s.builtinLocked(req)
	if err != nil {
		s.errorLocked(req.ID, err)
		return
	}
	if res != nil {
		s.resultLocked(req.ID, res)
	}
}

func decode[P any](raw json.RawMessage) (P, error) {
	var p P
	if len(raw) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, &protocol.Error{Code: protocol.CodeInvalidParams, Message: err.Error()}
	}
	return p, nil
}

// builtinLocked implements the methods the fake knows. A nil result with a
// nil error means the method answered itself (subscriptions).
func (s *session) builtinLocked(req protocol.Request) (any, error) {
	a := s.a
	switch req.Method {
	case protocol.SessionHello.Name:
		p, err := decode[apitype.HelloParams](req.Params)
		if err != nil {
			return nil, err
		}
		supported := false
		for _, v := range a.supported {
			supported = supported || v == p.Protocol
		}
		if !supported {
			e := protocol.Errorf(protocol.KindVersionMismatch, "protocol %d is not supported", p.Protocol)
			e.Data.Supported = a.supported
			return nil, e
		}
		s.hello = true
		return apitype.HelloResult{Protocol: protocol.Version, Agent: "lockstep-agent/fake", InstanceID: a.instance, EventSeq: a.seq}, nil

	case protocol.SessionLogin.Name:
		p, err := decode[apitype.LoginParams](req.Params)
		if err != nil {
			return nil, err
		}
		acc := a.accounts[p.Username]
		if acc == nil || acc.password != p.Password.Reveal() {
			return nil, protocol.Errorf(protocol.KindUnauthorized, "wrong username or password")
		}
		token := randomHex(16)
		a.tokens[token] = acc.Username
		return s.loginLocked(acc, token), nil

	case protocol.SessionResume.Name:
		p, err := decode[apitype.ResumeParams](req.Params)
		if err != nil {
			return nil, err
		}
		user, ok := a.tokens[p.Token.Reveal()]
		acc := a.accounts[user]
		if !ok || acc == nil {
			return nil, protocol.Errorf(protocol.KindUnauthorized, "session expired")
		}
		return s.loginLocked(acc, p.Token.Reveal()), nil

	case protocol.SessionLogout.Name:
		delete(a.tokens, s.token)
		s.user, s.token = "", ""
		clear(s.subs)
		s.ws.SetReadLimit(protocol.MaxFrameBeforeLogin)
		return apitype.Empty{}, nil

	case protocol.SessionWhoami.Name:
		return apitype.AccountResult{Account: a.accounts[s.user].Account}, nil

	case protocol.AgentInfo.Name:
		return apitype.AgentInfo{Version: "fake", InstanceID: a.instance, License: apitype.License{State: "valid"}}, nil

	case protocol.SystemsList.Name:
		out := apitype.SystemsListResult{Systems: []apitype.System{}}
		for i := 1; i <= a.sysSeq; i++ {
			if sys, ok := a.systems["sys-"+strconv.Itoa(i)]; ok {
				out.Systems = append(out.Systems, sys)
			}
		}
		return out, nil

	case protocol.SystemsGet.Name:
		p, err := decode[apitype.IDParams](req.Params)
		if err != nil {
			return nil, err
		}
		sys, ok := a.systems[p.ID]
		if !ok {
			return nil, protocol.Errorf(protocol.KindNotFound, "system %q not found", p.ID)
		}
		return apitype.SystemResult{System: sys}, nil

	case protocol.SystemsCreate.Name:
		p, err := decode[apitype.SystemsCreateParams](req.Params)
		if err != nil {
			return nil, err
		}
		if p.Name == "" {
			return nil, protocol.Invalid("name", "a system needs a name")
		}
		for _, sys := range a.systems {
			if sys.Name == p.Name {
				return nil, protocol.Errorf(protocol.KindConflict, "a system named %q exists", p.Name)
			}
		}
		a.sysSeq++
		now := time.Now().UTC()
		sys := apitype.System{ID: "sys-" + strconv.Itoa(a.sysSeq), Name: p.Name, Kind: p.Kind, URL: p.URL,
			Settings: p.Settings, Secrets: map[string]apitype.SecretState{}, CreatedAt: now, UpdatedAt: now}
		for k, v := range p.Secrets {
			sys.Secrets[k] = apitype.SecretState{Set: v != ""} // write-only: only whether it is set
		}
		a.systems[sys.ID] = sys
		return apitype.SystemResult{System: sys}, nil

	case protocol.SystemsDelete.Name:
		p, err := decode[apitype.IDParams](req.Params)
		if err != nil {
			return nil, err
		}
		if _, ok := a.systems[p.ID]; !ok {
			return nil, protocol.Errorf(protocol.KindNotFound, "system %q not found", p.ID)
		}
		delete(a.systems, p.ID)
		return apitype.Empty{}, nil

	case protocol.LogsSubscribe.Name:
		p, err := decode[apitype.LogsSubscribeParams](req.Params)
		if err != nil {
			return nil, err
		}
		sub := s.addSubLocked("logs", nil)
		var backlog []apitype.LogLine
		if n := min(p.Backlog, len(a.backlog)); n > 0 {
			backlog = append(backlog, a.backlog[len(a.backlog)-n:]...)
		}
		s.answerSubscribeLocked(req.ID, apitype.SubResult{Sub: sub.id}, func() {
			if len(backlog) > 0 {
				s.notifyLocked(protocol.NotifyLogs, apitype.LogsNotification{Sub: sub.id, Lines: backlog})
			}
		})
		return nil, nil

	case protocol.EventsSubscribe.Name:
		p, err := decode[apitype.EventsSubscribeParams](req.Params)
		if err != nil {
			return nil, err
		}
		res, replay := a.replayLocked(p)
		sub := s.addSubLocked("events", p.Types)
		res.Sub = sub.id
		s.answerSubscribeLocked(req.ID, res, func() {
			for _, ev := range replay {
				ev.Sub = sub.id
				s.notifyLocked(protocol.NotifyEvent, ev)
			}
		})
		return nil, nil

	case protocol.SubCancel.Name:
		p, err := decode[apitype.SubCancelParams](req.Params)
		if err != nil {
			return nil, err
		}
		if _, ok := s.subs[p.Sub]; !ok {
			return nil, protocol.Errorf(protocol.KindNotFound, "no subscription %q", p.Sub)
		}
		delete(s.subs, p.Sub)
		return apitype.Empty{}, nil
	}
	return nil, &protocol.Error{Code: protocol.CodeMethodNotFound, Message: "the fake agent does not implement " + req.Method}
}

func (s *session) loginLocked(acc *account, token string) apitype.LoginResult {
	s.user, s.token = acc.Username, token
	s.ws.SetReadLimit(protocol.MaxFrameAfterLogin)
	return apitype.LoginResult{Token: apitype.Secret(token), ExpiresAt: time.Now().Add(12 * time.Hour).UTC(), Account: acc.Account}
}

func (s *session) addSubLocked(kind string, types []string) *fsub {
	s.a.subSeq++
	sub := &fsub{id: fmt.Sprintf("%c%d", kind[0], s.a.subSeq), kind: kind, types: types}
	s.subs[sub.id] = sub
	return sub
}

// answerSubscribeLocked sends the result and the first notifications, in
// the order the test chose.
func (s *session) answerSubscribeLocked(id json.RawMessage, result any, first func()) {
	if s.a.early {
		first()
		s.resultLocked(id, result)
		return
	}
	s.resultLocked(id, result)
	first()
}

// replayLocked mirrors the agent's event bus: replay after since if the
// ring still holds it, else resync.
func (a *Agent) replayLocked(p apitype.EventsSubscribeParams) (apitype.EventsSubscribeResult, []apitype.EventNotification) {
	res := apitype.EventsSubscribeResult{Seq: a.seq}
	if p.Since == nil {
		return res, nil
	}
	since := *p.Since
	if since > a.seq {
		res.Resync = true // a number from before a restart
		return res, nil
	}
	oldest := a.seq + 1 - uint64(len(a.ring))
	if since+1 < oldest {
		res.Resync = true
		return res, nil
	}
	var replay []apitype.EventNotification
	for _, ev := range a.ring {
		if ev.Seq > since && (len(p.Types) == 0 || slices.Contains(p.Types, ev.Type)) {
			replay = append(replay, ev)
		}
	}
	return res, replay
}
