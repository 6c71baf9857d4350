package snemu

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"time"
)

// oauthToken is POST /oauth_token.do, form-encoded: grant_type
// client_credentials (client_id, client_secret; the token acts as the
// client's OAuth Application User) or password (the client and a user's
// username and password). A refused request answers 401 with the body
// the instance sends, {"error_description":"access_denied","error":"server_error"}.
func (e *Emu) oauthToken(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error_description": "unsupported content type", "error": "invalid_request"})
		return
	}
	denied := func() {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error_description": "access_denied", "error": "server_error"})
	}
	var client *Client
	for i := range e.o.Clients {
		c := &e.o.Clients[i]
		if c.ID == r.PostForm.Get("client_id") && c.Secret == r.PostForm.Get("client_secret") {
			client = c
		}
	}
	if client == nil {
		denied()
		return
	}
	var u *User
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		if !e.o.ClientCredentials {
			denied()
			return
		}
		u = e.userByName(client.User)
	case "password":
		if cand := e.userByName(r.PostForm.Get("username")); cand != nil && cand.Password != "" && cand.Password == r.PostForm.Get("password") {
			u = cand
		}
	default:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error_description": "unsupported grant type", "error": "unsupported_grant_type"})
		return
	}
	if u == nil || u.Inactive {
		denied()
		return
	}
	tok := newSysID() + newSysID()
	e.mu.Lock()
	e.tokens[tok] = token{user: u.SysID, expires: e.o.Now().Add(e.o.TokenTTL)}
	e.stats.Tokens++
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "scope": "useraccount", "token_type": "Bearer",
		"expires_in": int(e.o.TokenTTL / time.Second)})
}

// ExpireTokens ends every access token now, as their expiry would.
func (e *Emu) ExpireTokens() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := range e.tokens {
		delete(e.tokens, k)
	}
}

// AddHook adds a business rule, as an administrator setting up the
// outbound REST message after the instance is running.
func (e *Emu) AddHook(h Hook) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.o.Hooks = append(e.o.Hooks, h)
}

// fire runs the business rules of the options for a record change. The
// caller holds e.mu.
func (e *Emu) fire(r *record, operation string) {
	for _, h := range e.o.Hooks {
		if !extends(r.class, h.Table) {
			continue
		}
		body, _ := json.Marshal(map[string]string{"table": r.class, "sys_id": r.vals["sys_id"], "number": r.vals["number"],
			"operation": operation, "sys_updated_on": r.vals["sys_updated_on"]})
		header := h.Header
		if header == "" {
			header = "X-Lockstep-Secret"
		}
		e.stats.Deliveries++
		e.hooks.Add(1)
		go func(url, header, secret string) {
			defer e.hooks.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				e.hookFailed()
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(header, secret)
			resp, err := e.o.HookClient.Do(req)
			if err != nil {
				e.hookFailed()
				return
			}
			resp.Body.Close()
			if resp.StatusCode >= 300 {
				e.hookFailed()
			}
		}(h.URL, header, h.Secret)
	}
}

func (e *Emu) hookFailed() {
	e.mu.Lock()
	e.stats.FailedHooks++
	e.mu.Unlock()
}
