package sandboxconn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// SignatureHeader carries the sandbox's HMAC-SHA256 of a delivery.
const SignatureHeader = "X-Sandbox-Signature"

// RegisterWebhook subscribes url to the project's item events.
func (c *Conn) RegisterWebhook(ctx context.Context, project, hookURL, secret string) (string, error) {
	project, err := c.scope(project)
	if err != nil {
		return "", fmt.Errorf("register sandbox webhook: %w", err)
	}
	var w wireWebhook
	in := map[string]string{"url": hookURL, "secret": secret, "project": project}
	if err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodPost, Path: "/api/webhooks"}, in, &w); err != nil {
		return "", fmt.Errorf("register sandbox webhook for %s: %w", project, err)
	}
	return strconv.FormatInt(w.ID, 10), nil
}

// UnregisterWebhook deletes a subscription; one already gone is fine.
func (c *Conn) UnregisterWebhook(ctx context.Context, id string) error {
	err := c.http.DoJSON(ctx, httpx.Request{Method: http.MethodDelete, Path: "/api/webhooks/" + url.PathEscape(id)}, nil, nil)
	if err != nil && !errors.Is(err, connector.ErrNotFound) {
		return fmt.Errorf("unregister sandbox webhook %s: %w", id, err)
	}
	return nil
}

// ParseWebhook verifies X-Sandbox-Signature (sha256=<hex HMAC of the body>)
// in constant time and returns the item the delivery names.
func (c *Conn) ParseWebhook(r *http.Request, body []byte, secret string) ([]connector.Ref, error) {
	if !connector.VerifySHA256(r.Header.Get(SignatureHeader), body, secret) {
		return nil, fmt.Errorf("verify sandbox webhook: bad or missing signature: %w", connector.ErrUnauthorized)
	}
	var d wireDelivery
	if err := json.Unmarshal(body, &d); err != nil || d.Item.ID == 0 {
		return nil, fmt.Errorf("parse sandbox webhook: not a delivery: %w", connector.ErrInvalid)
	}
	return []connector.Ref{{ID: strconv.FormatInt(d.Item.ID, 10), Key: d.Item.Key}}, nil
}
