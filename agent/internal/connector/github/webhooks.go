package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Webhook headers ("Webhook events and payloads", "Validating webhook
// deliveries").
const (
	SignatureHeader = "X-Hub-Signature-256" // sha256=<hex HMAC-SHA256 of the body>
	EventHeader     = "X-GitHub-Event"
)

// webhookEvents are the events that mean an issue, or a comment on it,
// changed.
var webhookEvents = []string{"issues", "issue_comment"}

// RegisterWebhook creates a repository webhook for issue and comment
// events, delivering JSON signed with secret. It needs the repository's
// admin role, and a fine-grained token with Webhooks read & write (a
// classic one with admin:repo_hook or repo). The id it returns names the
// repository too: "owner/repo:hook id".
func (c *Conn) RegisterWebhook(ctx context.Context, project, hookURL, secret string) (string, error) {
	repo, err := c.scope(project)
	if err != nil {
		return "", fmt.Errorf("register GitHub webhook: %w", err)
	}
	in := map[string]any{
		"name": "web", "active": true, "events": webhookEvents,
		"config": map[string]string{"url": hookURL, "content_type": "json", "secret": secret, "insecure_ssl": "0"},
	}
	var out struct {
		ID int64 `json:"id"`
	}
	if err := c.send(ctx, http.MethodPost, repo.path("/hooks"), in, &out, false, false); err != nil {
		hint := ""
		if errors.Is(err, connector.ErrNotFound) {
			// GitHub hides what an account may not manage behind a 404.
			hint = " (webhooks need the repository's admin role and a token allowed to write them)"
		}
		// The secret travels in the body, which a server may quote back.
		return "", fmt.Errorf("register GitHub webhook for %s%s: %w", repo, hint, connector.ScrubSecret(err, secret))
	}
	if out.ID == 0 {
		return "", fmt.Errorf("register GitHub webhook for %s: the answer names no webhook: %w", repo, connector.ErrUnavailable)
	}
	return repo.String() + ":" + strconv.FormatInt(out.ID, 10), nil
}

// UnregisterWebhook deletes a webhook; one already gone is fine.
func (c *Conn) UnregisterWebhook(ctx context.Context, id string) error {
	name, num, ok := strings.Cut(id, ":")
	repo, err := c.scope(name)
	if _, perr := strconv.ParseInt(num, 10, 64); !ok || err != nil || perr != nil {
		return fmt.Errorf("unregister GitHub webhook %q: not an id this connector gave: %w", id, connector.ErrInvalid)
	}
	err = c.send(ctx, http.MethodDelete, repo.path("/hooks/"+num), nil, nil, false, true)
	if err != nil && !errors.Is(err, connector.ErrNotFound) {
		return fmt.Errorf("unregister GitHub webhook %s: %w", id, err)
	}
	return nil
}

// ParseWebhook verifies X-Hub-Signature-256 in constant time and returns
// the issue an issues or issue_comment delivery names; other events (the
// ping GitHub sends when a hook is made) name none.
func (c *Conn) ParseWebhook(r *http.Request, body []byte, secret string) ([]connector.Ref, error) {
	if !connector.VerifySHA256(r.Header.Get(SignatureHeader), body, secret) {
		return nil, fmt.Errorf("verify GitHub webhook: bad or missing %s: %w", SignatureHeader, connector.ErrUnauthorized)
	}
	var d struct {
		Action string `json:"action"`
		Issue  *struct {
			Number int `json:"number"`
		} `json:"issue"`
		Repository *struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("parse GitHub webhook: not a delivery: %w", connector.ErrInvalid)
	}
	switch r.Header.Get(EventHeader) {
	case "issues", "issue_comment":
	default:
		return []connector.Ref{}, nil
	}
	if d.Issue == nil || d.Issue.Number <= 0 || d.Repository == nil {
		return nil, fmt.Errorf("parse GitHub webhook: a %s delivery without its issue: %w", r.Header.Get(EventHeader), connector.ErrInvalid)
	}
	repo, err := c.scope(d.Repository.FullName)
	if err != nil {
		return nil, fmt.Errorf("parse GitHub webhook: %w", err)
	}
	ref := issueRef{repo: repo, number: d.Issue.Number}.String()
	return []connector.Ref{{ID: ref, Key: ref}}, nil
}
