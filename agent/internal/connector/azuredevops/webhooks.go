package azuredevops

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// hookUser is the basic-auth user name of deliveries. Service hooks do not
// sign their payloads; the webHooks consumer sends basic credentials we
// choose, so the secret rides as the password and ParseWebhook checks it.
const hookUser = "lockstep"

// hookEvents are the events a registration subscribes to, one
// subscription each.
var hookEvents = []string{"workitem.created", "workitem.updated"}

type wireSubscription struct {
	ID               string            `json:"id,omitempty"`
	PublisherID      string            `json:"publisherId"`
	EventType        string            `json:"eventType"`
	ResourceVersion  string            `json:"resourceVersion"`
	ConsumerID       string            `json:"consumerId"`
	ConsumerActionID string            `json:"consumerActionId"`
	PublisherInputs  map[string]string `json:"publisherInputs"`
	ConsumerInputs   map[string]string `json:"consumerInputs"`
}

// RegisterWebhook subscribes hookURL to work item creations and updates in
// project. The id it returns lists both subscriptions, comma-separated.
func (c *Conn) RegisterWebhook(ctx context.Context, project, hookURL, secret string) (string, error) {
	project, err := c.scope(project)
	if err != nil {
		return "", fmt.Errorf("register Azure DevOps service hook: %w", err)
	}
	p, err := c.projectRef(ctx, project)
	if err != nil {
		return "", fmt.Errorf("register Azure DevOps service hook for %s: %w", project, err)
	}
	var ids []string
	for _, event := range hookEvents {
		in := wireSubscription{PublisherID: "tfs", EventType: event, ResourceVersion: "1.0", ConsumerID: "webHooks",
			ConsumerActionID: "httpRequest", PublisherInputs: map[string]string{"projectId": p.ID},
			ConsumerInputs: map[string]string{"url": hookURL, "basicAuthUsername": hookUser, "basicAuthPassword": secret,
				"messagesToSend": "none", "detailedMessagesToSend": "none"}}
		var out wireSubscription
		if err := c.call(ctx, httpx.Request{Method: http.MethodPost, Path: "/_apis/hooks/subscriptions"}, in, false, &out); err != nil {
			if len(ids) > 0 {
				_ = c.UnregisterWebhook(ctx, strings.Join(ids, ","))
			}
			return "", fmt.Errorf("register Azure DevOps service hook %s for %s: %w", event, project, connector.ScrubSecret(err, secret))
		}
		ids = append(ids, out.ID)
	}
	return strings.Join(ids, ","), nil
}

// UnregisterWebhook deletes the subscriptions of a registration; one
// already gone is fine.
func (c *Conn) UnregisterWebhook(ctx context.Context, id string) error {
	var errs []error
	for _, sub := range strings.Split(id, ",") {
		if sub = strings.TrimSpace(sub); sub == "" {
			continue
		}
		err := c.call(ctx, httpx.Request{Method: http.MethodDelete, Path: "/_apis/hooks/subscriptions/" + sub}, nil, false, nil)
		if err != nil && !errors.Is(err, connector.ErrNotFound) {
			errs = append(errs, fmt.Errorf("unregister Azure DevOps service hook %s: %w", sub, err))
		}
	}
	return errors.Join(errs...)
}

// ParseWebhook checks a delivery's basic credentials against secret in
// constant time and returns the work item it names.
func (c *Conn) ParseWebhook(r *http.Request, body []byte, secret string) ([]connector.Ref, error) {
	user, pw, ok := r.BasicAuth()
	if !ok || secret == "" || user != hookUser || subtle.ConstantTimeCompare([]byte(pw), []byte(secret)) != 1 {
		return nil, fmt.Errorf("verify Azure DevOps service hook: bad or missing credentials: %w", connector.ErrUnauthorized)
	}
	var d struct {
		EventType string `json:"eventType"`
		Resource  struct {
			ID         json.Number `json:"id"`
			WorkItemID int         `json:"workItemId"`
			Revision   struct {
				ID int `json:"id"`
			} `json:"revision"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("parse Azure DevOps service hook: not an event: %w", connector.ErrInvalid)
	}
	var id int
	switch d.EventType {
	case "workitem.updated":
		// The resource is the update; the work item is named inside it.
		id = d.Resource.WorkItemID
		if id == 0 {
			id = d.Resource.Revision.ID
		}
	case "workitem.created", "workitem.restored", "workitem.commented", "workitem.deleted":
		n, _ := d.Resource.ID.Int64()
		id = int(n)
	default:
		return nil, fmt.Errorf("parse Azure DevOps service hook: event %q is not a work item event: %w", d.EventType, connector.ErrInvalid)
	}
	if id <= 0 {
		return nil, fmt.Errorf("parse Azure DevOps service hook: the %s event names no work item: %w", d.EventType, connector.ErrInvalid)
	}
	s := strconv.Itoa(id)
	return []connector.Ref{{ID: s, Key: s}}, nil
}
