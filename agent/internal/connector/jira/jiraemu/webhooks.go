package jiraemu

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"
)

// Admin webhooks (/rest/webhooks/1.0/webhook). A webhook saved with a
// secret has each delivery signed: X-Hub-Signature: sha256=<hex HMAC-SHA256
// of the raw body keyed by the secret>.

type webhook struct {
	id, name, url, secret, jql string
	events                     []string
	excludeBody                bool
}

func (e *Emu) webhookJSON(h *webhook) map[string]any {
	return map[string]any{"self": e.URL() + "/rest/webhooks/1.0/webhook/" + h.id, "name": h.name, "url": h.url,
		"events": h.events, "filters": map[string]any{"issue-related-events-section": h.jql},
		"excludeBody": h.excludeBody, "enabled": true}
}

func (e *Emu) registerWebhook(w http.ResponseWriter, r *http.Request, _ *User) {
	var in struct {
		Name        string            `json:"name"`
		URL         string            `json:"url"`
		Events      []string          `json:"events"`
		Filters     map[string]string `json:"filters"`
		ExcludeBody bool              `json:"excludeBody"`
		Secret      string            `json:"secret"`
	}
	if !readBody(w, r, &in) {
		return
	}
	errs := map[string]string{}
	if in.Name == "" {
		errs["name"] = "Name is required."
	}
	if in.URL == "" {
		errs["url"] = "URL is required."
	}
	if len(in.Events) == 0 {
		errs["events"] = "At least one event is required."
	}
	jql := in.Filters["issue-related-events-section"]
	if jql != "" {
		if _, err := parseJQL(jql); err != nil {
			errs["filters"] = err.Error()
		}
	}
	if len(errs) > 0 {
		writeFieldErrors(w, errs)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	h := &webhook{id: e.newID(), name: in.Name, url: in.URL, secret: in.Secret, jql: jql, events: in.Events, excludeBody: in.ExcludeBody}
	e.webhooks[h.id] = h
	writeJSON(w, http.StatusCreated, e.webhookJSON(h))
}

func (e *Emu) listWebhooks(w http.ResponseWriter, _ *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []any{}
	for _, h := range e.webhooks {
		out = append(out, e.webhookJSON(h))
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emu) deleteWebhook(w http.ResponseWriter, r *http.Request, _ *User) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.webhooks[r.PathValue("id")] == nil {
		writeError(w, http.StatusNotFound, "Webhook not found.")
		return
	}
	delete(e.webhooks, r.PathValue("id"))
	w.WriteHeader(http.StatusNoContent)
}

// Webhooks lists the registered webhooks' ids, for tests.
func (e *Emu) Webhooks() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for id := range e.webhooks {
		out = append(out, id)
	}
	return out
}

// notify sends event to every webhook whose events and filter match. It
// runs with e.mu held; deliveries go out on their own goroutines.
func (e *Emu) notify(event string, is *issue, c *comment) {
	for _, h := range e.webhooks {
		wanted := false
		for _, ev := range h.events {
			wanted = wanted || ev == event
		}
		if !wanted {
			continue
		}
		if h.jql != "" {
			q, err := parseJQL(h.jql)
			if err != nil {
				continue
			}
			if ok, err := q.match(is, time.UTC); err != nil || !ok {
				continue
			}
		}
		payload := map[string]any{"timestamp": e.now().UnixMilli(), "webhookEvent": event}
		if h.excludeBody {
			payload["issue"] = map[string]any{"id": is.id, "key": is.key}
		} else {
			payload["issue"] = e.issueJSON(is, nil)
		}
		if c != nil {
			payload["comment"] = e.commentJSON(c, false)
		}
		body, err := json.Marshal(payload)
		if err != nil {
			continue
		}
		e.stats.Deliveries++
		e.deliveries.Add(1)
		go e.deliver(h.url, h.secret, body)
	}
}

func (e *Emu) deliver(url, secret string, body []byte) {
	defer e.deliveries.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("X-Atlassian-Webhook-Identifier", e.newDeliveryID())
	if secret != "" {
		req.Header.Set("X-Hub-Signature", Sign(body, secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
}

func (e *Emu) newDeliveryID() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.newID()
}

// Sign is the X-Hub-Signature value of a delivery: "sha256=" and the hex
// HMAC-SHA256 of the body keyed by the webhook's secret.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
