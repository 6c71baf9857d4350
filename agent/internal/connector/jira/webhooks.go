package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// SignatureHeader carries the HMAC-SHA256 of an admin webhook's delivery
// ("sha256=<hex>"), sent when the webhook was saved with a secret.
const SignatureHeader = "X-Hub-Signature"

// webhookEvents are the events that mean an issue, or what hangs on it,
// changed.
var webhookEvents = []string{"jira:issue_created", "jira:issue_updated", "comment_created", "comment_updated",
	"attachment_created", "issuelink_created", "issuelink_deleted"}

// RegisterWebhook registers an admin webhook (/rest/webhooks/1.0/webhook)
// for the project's issues, signed with secret. It needs a Jira
// administrator's credentials.
func (c *Conn) RegisterWebhook(ctx context.Context, project, hookURL, secret string) (string, error) {
	project, err := scope(project)
	if err != nil {
		return "", fmt.Errorf("register Jira webhook: %w", err)
	}
	in := map[string]any{
		"name": "Lockstep " + project, "url": hookURL, "events": webhookEvents,
		"filters":     map[string]string{"issue-related-events-section": "project = " + jqlString(project)},
		"excludeBody": false, "secret": secret,
	}
	var out struct {
		Self string `json:"self"`
	}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: "/rest/webhooks/1.0/webhook"}, in, &out); err != nil {
		// The secret travels in the body, which a server may quote back.
		return "", fmt.Errorf("register Jira webhook for %s: %w", project, connector.ScrubSecret(err, secret))
	}
	u, err := url.Parse(out.Self)
	if err != nil || out.Self == "" {
		return "", fmt.Errorf("register Jira webhook for %s: the answer names no webhook: %w", project, connector.ErrUnavailable)
	}
	return path.Base(u.Path), nil
}

// UnregisterWebhook deletes a webhook; one already gone is fine.
func (c *Conn) UnregisterWebhook(ctx context.Context, id string) error {
	err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodDelete, Path: "/rest/webhooks/1.0/webhook/" + url.PathEscape(id)}, nil, nil)
	if err != nil && !errors.Is(err, connector.ErrNotFound) {
		return fmt.Errorf("unregister Jira webhook %s: %w", id, err)
	}
	return nil
}

// ParseWebhook verifies X-Hub-Signature in constant time and returns the
// issue the delivery names (none for events about no issue).
func (c *Conn) ParseWebhook(r *http.Request, body []byte, secret string) ([]connector.Ref, error) {
	if !connector.VerifySHA256(r.Header.Get(SignatureHeader), body, secret) {
		return nil, fmt.Errorf("verify Jira webhook: bad or missing signature: %w", connector.ErrUnauthorized)
	}
	var d struct {
		WebhookEvent string `json:"webhookEvent"`
		Issue        *struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(body, &d); err != nil || d.WebhookEvent == "" {
		return nil, fmt.Errorf("parse Jira webhook: not a delivery: %w", connector.ErrInvalid)
	}
	if d.Issue == nil || (d.Issue.ID == "" && d.Issue.Key == "") {
		return []connector.Ref{}, nil
	}
	return []connector.Ref{{ID: d.Issue.ID, Key: d.Issue.Key}}, nil
}
