package gitlabemu

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

type hook struct {
	ID                 int
	ProjectID          int
	URL, Token         string
	Issues, Notes      bool
	ConfidentialIssues bool
	ConfidentialNotes  bool
	Push               bool
	SSLVerification    bool
	CreatedAt          time.Time
}

// Delivery is one webhook delivery as sent.
type Delivery struct {
	Event  string
	Header http.Header
	Body   []byte
	Status int // the receiver's answer; 0 when it could not be reached
}

func (e *Emu) hookJSON(h *hook) map[string]any {
	return map[string]any{"id": h.ID, "url": h.URL, "project_id": h.ProjectID, "issues_events": h.Issues,
		"note_events": h.Notes, "confidential_issues_events": h.ConfidentialIssues, "confidential_note_events": h.ConfidentialNotes,
		"push_events": h.Push, "merge_requests_events": false, "enable_ssl_verification": h.SSLVerification,
		"created_at": e.stamp(h.CreatedAt)}
}

func boolParam(in map[string]any, name string, def bool) bool {
	s, ok := param(in, name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(s)
	return err == nil && b
}

func (e *Emu) createHook(w http.ResponseWriter, r *http.Request, u *User) {
	in, err := decodeBody(r)
	if err != nil {
		message(w, http.StatusBadRequest, "400 Bad request - "+err.Error())
		return
	}
	raw, ok := param(in, "url")
	if !ok {
		paramError(w, "url is missing")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.projectAt(w, r, u, Maintainer)
	if p == nil {
		return
	}
	target, err := url.Parse(raw)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		message(w, http.StatusUnprocessableEntity, "Invalid url given")
		return
	}
	if e.o.BlockLocalHooks && local(target.Hostname()) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": map[string][]string{
			"url": {"is blocked: Requests to the local network are not allowed"}}})
		return
	}
	token, _ := param(in, "token")
	h := &hook{ID: e.newID("hook"), ProjectID: p.ID, URL: raw, Token: token,
		Issues: boolParam(in, "issues_events", false), Notes: boolParam(in, "note_events", false),
		ConfidentialIssues: boolParam(in, "confidential_issues_events", false),
		ConfidentialNotes:  boolParam(in, "confidential_note_events", false),
		Push:               boolParam(in, "push_events", true), SSLVerification: boolParam(in, "enable_ssl_verification", true),
		CreatedAt: e.now()}
	e.hooks[h.ID] = h
	writeJSON(w, http.StatusCreated, e.hookJSON(h))
}

func local(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast())
}

func (e *Emu) listHooks(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.projectAt(w, r, u, Maintainer)
	if p == nil {
		return
	}
	items := []any{}
	for _, h := range e.hooks {
		if h.ProjectID == p.ID {
			items = append(items, e.hookJSON(h))
		}
	}
	e.writePage(w, r, items)
}

func (e *Emu) deleteHook(w http.ResponseWriter, r *http.Request, u *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.projectAt(w, r, u, Maintainer)
	if p == nil {
		return
	}
	id, _ := strconv.Atoi(r.PathValue("hook"))
	h := e.hooks[id]
	if h == nil || h.ProjectID != p.ID {
		message(w, http.StatusNotFound, "404 Not found")
		return
	}
	delete(e.hooks, id)
	w.WriteHeader(http.StatusNoContent)
}

// Hooks lists the registered hooks' URLs, for tests.
func (e *Emu) Hooks() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, h := range e.hooks {
		out = append(out, h.URL)
	}
	return out
}

// Deliveries returns the webhook deliveries sent so far.
func (e *Emu) Deliveries() []Delivery {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Delivery(nil), e.hookLog...)
}

// webhookTime is the time format of hook payloads, which differs from
// the REST API's.
const webhookTime = "2006-01-02 15:04:05 MST"

func (e *Emu) hookProject(p *project) map[string]any {
	j := e.projectJSON(p)
	return map[string]any{"id": p.ID, "name": p.Name, "web_url": j["web_url"], "path_with_namespace": p.Path,
		"namespace": j["namespace"].(map[string]any)["full_path"], "visibility_level": 0,
		"git_http_url": e.URL() + "/" + p.Path + ".git", "default_branch": "main"}
}

func (e *Emu) hookIssue(is *issue) map[string]any {
	var due any
	if is.DueDate != "" {
		due = is.DueDate
	}
	state := map[string]int{"opened": 1, "closed": 2}[is.State]
	labels := []any{}
	for _, l := range is.Labels {
		labels = append(labels, map[string]any{"title": l, "color": "#6699cc", "type": "ProjectLabel"})
	}
	out := map[string]any{"id": is.ID, "iid": is.IID, "project_id": is.ProjectID, "title": is.Title,
		"description": is.Description, "state": is.State, "state_id": state, "author_id": is.Author,
		"assignee_ids": is.Assignees, "milestone_id": nilIfZero(is.Milestone), "due_date": due,
		"confidential": is.Confidential, "created_at": is.CreatedAt.UTC().Format(webhookTime),
		"updated_at": is.UpdatedAt.UTC().Format(webhookTime), "labels": labels, "type": "Issue",
		"url": fmt.Sprintf("%s/%s/-/issues/%d", e.URL(), e.projects[is.ProjectID].Path, is.IID)}
	if e.o.Premium {
		out["weight"] = is.Weight
	}
	return out
}

func nilIfZero(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func (e *Emu) hookUser(u *User) map[string]any {
	return map[string]any{"id": u.ID, "name": u.Name, "username": u.Username, "avatar_url": nil, "email": "[REDACTED]"}
}

// deliverIssue sends an issue event to the project's hooks that take it.
func (e *Emu) deliverIssue(is *issue, u *User, action string) {
	event, kind := "Issue Hook", "issue"
	if is.Confidential {
		event, kind = "Confidential Issue Hook", "confidential_issue"
	}
	attrs := e.hookIssue(is)
	attrs["action"] = action
	payload := map[string]any{"object_kind": "issue", "event_type": kind, "user": e.hookUser(u),
		"project": e.hookProject(e.projects[is.ProjectID]), "object_attributes": attrs, "labels": attrs["labels"],
		"changes": map[string]any{}}
	e.deliver(is.ProjectID, event, func(h *hook) bool {
		return is.Confidential && h.ConfidentialIssues || !is.Confidential && h.Issues
	}, payload)
}

// deliverNote sends a note event for a note on an issue.
func (e *Emu) deliverNote(is *issue, n *note, u *User) {
	event, kind := "Note Hook", "note"
	if is.Confidential || n.Internal {
		event, kind = "Confidential Note Hook", "confidential_note"
	}
	confidential := is.Confidential || n.Internal
	action := "create"
	if !n.UpdatedAt.Equal(n.CreatedAt) {
		action = "update"
	}
	payload := map[string]any{"object_kind": "note", "event_type": kind, "user": e.hookUser(u),
		"project_id": is.ProjectID, "project": e.hookProject(e.projects[is.ProjectID]),
		"object_attributes": map[string]any{"id": n.ID, "note": n.Body, "noteable_type": "Issue", "author_id": n.Author,
			"created_at": n.CreatedAt.UTC().Format(webhookTime), "updated_at": n.UpdatedAt.UTC().Format(webhookTime),
			"project_id": is.ProjectID, "noteable_id": is.ID, "system": n.System, "action": action,
			"url": fmt.Sprintf("%s/%s/-/issues/%d#note_%d", e.URL(), e.projects[is.ProjectID].Path, is.IID, n.ID)},
		"issue": e.hookIssue(is)}
	e.deliver(is.ProjectID, event, func(h *hook) bool {
		return confidential && h.ConfidentialNotes || !confidential && h.Notes
	}, payload)
}

// deliver posts payload to each hook of the project that wants it, in the
// background as GitLab's Sidekiq jobs do. The caller holds e.mu.
func (e *Emu) deliver(projectID int, event string, wants func(*hook) bool, payload map[string]any) {
	body, _ := json.Marshal(payload)
	for _, h := range e.hooks {
		if h.ProjectID != projectID || !wants(h) {
			continue
		}
		uuid := make([]byte, 16)
		_, _ = rand.Read(uuid)
		hdr := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"GitLab/" + e.o.Version},
			"X-Gitlab-Event": {event}, "X-Gitlab-Event-Uuid": {hex.EncodeToString(uuid)},
			"X-Gitlab-Instance": {e.URL()}, "X-Gitlab-Webhook-Uuid": {fmt.Sprintf("hook-%d", h.ID)}}
		if h.Token != "" {
			hdr.Set("X-Gitlab-Token", h.Token)
		}
		e.stats.Deliveries++
		target := h.URL
		e.deliveries.Add(1)
		go func() {
			defer e.deliveries.Done()
			d := Delivery{Event: event, Header: hdr, Body: body}
			req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
			if err == nil {
				req.Header = hdr.Clone()
				client := &http.Client{Timeout: 10 * time.Second}
				if resp, err := client.Do(req); err == nil {
					d.Status = resp.StatusCode
					resp.Body.Close()
				}
			}
			e.mu.Lock()
			e.hookLog = append(e.hookLog, d)
			e.mu.Unlock()
		}()
	}
}
