package ghemu

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"
)

type hook struct {
	id     int64
	url    string
	secret string
	events []string
	active bool
}

// Hook is a registered webhook, for tests.
type Hook struct {
	ID     int64
	URL    string
	Events []string
}

// Hooks lists a repository's webhooks.
func (e *Emu) Hooks(fullName string) []Hook {
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := e.repos[lower(fullName)]
	if rp == nil {
		return nil
	}
	var out []Hook
	for _, h := range rp.hooks {
		out = append(out, Hook{ID: h.id, URL: h.url, Events: slices.Clone(h.events)})
	}
	return out
}

func (e *Emu) hookJSON(rp *repo, h *hook) map[string]any {
	return map[string]any{"id": h.id, "type": "Repository", "name": "web", "active": h.active, "events": h.events,
		"config": map[string]string{"url": h.url, "content_type": "json", "insecure_ssl": "0", "secret": "********"},
		"url":    e.apiURL("/repos/" + rp.fullName() + "/hooks/" + strconv.FormatInt(h.id, 10))}
}

// Repository webhooks need the admin role; others get 404, as GitHub
// answers for what a user may not see.
func (e *Emu) listHooks(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := e.repoOf(w, r)
	if rp == nil {
		return
	}
	if !can(u, Admin) {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	out := []any{}
	for _, h := range rp.hooks {
		out = append(out, e.hookJSON(rp, h))
	}
	writeGet(w, r, out, time.Time{})
}

func (e *Emu) createHook(w http.ResponseWriter, r *http.Request, u *User) {
	var in struct {
		Name   string            `json:"name"`
		Active *bool             `json:"active"`
		Events []string          `json:"events"`
		Config map[string]string `json:"config"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := e.repoOf(w, r)
	if rp == nil {
		return
	}
	if !can(u, Admin) {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	if in.Config["url"] == "" {
		writeValidation(w, fieldError{Resource: "Hook", Code: "custom", Message: "Config must contain a URL"})
		return
	}
	for _, ev := range in.Events {
		if !slices.Contains([]string{"issues", "issue_comment", "push", "pull_request", "sub_issues", "*"}, ev) {
			writeValidation(w, fieldError{Resource: "Hook", Code: "invalid", Field: "events", Message: ev + " is not a valid event name"})
			return
		}
	}
	if in.Events == nil {
		in.Events = []string{"push"}
	}
	h := &hook{id: e.newID(), url: in.Config["url"], secret: in.Config["secret"], events: in.Events, active: in.Active == nil || *in.Active}
	rp.hooks[h.id] = h
	writeJSON(w, http.StatusCreated, e.hookJSON(rp, h))
	e.send(h, "ping", map[string]any{"zen": "Keep it logically awesome.", "hook_id": h.id, "hook": e.hookJSON(rp, h)})
}

func (e *Emu) deleteHook(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rp := e.repoOf(w, r)
	if rp == nil {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if !can(u, Admin) || rp.hooks[id] == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	delete(rp.hooks, id)
	w.WriteHeader(http.StatusNoContent)
}

// deliver sends an event about an issue (and a comment) to the
// repository's hooks that take it. The caller holds e.mu.
func (e *Emu) deliver(rp *repo, event, action string, is *issue, c *comment, u *User) {
	payload := map[string]any{"action": action, "issue": e.issueJSON(is),
		"repository": map[string]any{"id": rp.id, "name": rp.name, "full_name": rp.fullName(), "owner": map[string]any{"login": rp.owner}},
		"sender":     e.userJSON(u.Login)}
	if c != nil {
		payload["comment"] = e.commentJSON(c)
	}
	for _, h := range rp.hooks {
		if h.active && (slices.Contains(h.events, event) || slices.Contains(h.events, "*")) {
			e.send(h, event, payload)
		}
	}
}

// send posts one delivery, signed with the hook's secret: X-Hub-Signature-256
// (HMAC-SHA256) and the legacy X-Hub-Signature (HMAC-SHA1). The caller
// holds e.mu.
func (e *Emu) send(h *hook, event string, payload any) {
	body, _ := json.Marshal(payload)
	guid := make([]byte, 16)
	_, _ = rand.Read(guid)
	header := http.Header{
		"Content-Type":      {"application/json"},
		"User-Agent":        {"GitHub-Hookshot/044aadd"},
		"X-Github-Event":    {event},
		"X-Github-Delivery": {hex.EncodeToString(guid)},
		"X-Github-Hook-Id":  {strconv.FormatInt(h.id, 10)},
	}
	if h.secret != "" {
		header.Set("X-Hub-Signature-256", Sign(body, h.secret))
		m := hmac.New(sha1.New, []byte(h.secret))
		m.Write(body)
		header.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(m.Sum(nil)))
	}
	e.stats.Deliveries++
	e.deliveries.Add(1)
	go func() {
		defer e.deliveries.Done()
		req, err := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header = header
		client := &http.Client{Timeout: 10 * time.Second}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
}
