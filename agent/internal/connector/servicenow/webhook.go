package servicenow

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Webhooks: ServiceNow has no API to subscribe to changes. An
// administrator creates an after business rule on the table that sends an
// outbound REST message (docs/connectors/servicenow.md has the script):
// a POST of {"table","sys_id","number","operation","sys_updated_on"} to
// the process's webhook URL, with the shared secret of the system's
// webhookSecret setting in the X-Lockstep-Secret header, over HTTPS.
// Polling stays on: deliveries get lost.

// SecretHeader carries the shared secret of a delivery.
const SecretHeader = "X-Lockstep-Secret"

// RegisterWebhook cannot ask the instance for anything: it checks that a
// webhook secret is set and logs where the business rule must post.
func (c *Conn) RegisterWebhook(ctx context.Context, project, url, _ string) (string, error) {
	table, err := c.scope(project)
	if err != nil {
		return "", fmt.Errorf("register ServiceNow webhook: %w", err)
	}
	if !c.webhookSecret.IsSet() {
		return "", fmt.Errorf("ServiceNow cannot register webhooks through its API: create the business rule the connector's "+
			"documentation describes, posting to %s, and set the system's webhook secret: %w", url, connector.ErrInvalid)
	}
	c.log.Info().Msg("ServiceNow webhook: a business rule on table " + table + " must post record changes to " + url +
		" with the webhook secret in the " + SecretHeader + " header")
	return "business-rule:" + table, nil
}

// UnregisterWebhook has nothing to remove: the business rule is the
// administrator's.
func (c *Conn) UnregisterWebhook(context.Context, string) error { return nil }

// delivery is what the business rule posts.
type delivery struct {
	Table     string `json:"table"`
	SysID     string `json:"sys_id"`
	Number    string `json:"number"`
	Operation string `json:"operation"`
}

// ParseWebhook checks the delivery's shared secret (the system's webhook
// secret; the one the engine generated when no secret is set, which no
// business rule knows, so nothing passes) in constant time, and returns
// the record it names (a list of deliveries is accepted too).
func (c *Conn) ParseWebhook(r *http.Request, body []byte, secret string) ([]connector.Ref, error) {
	want := secret
	if c.webhookSecret.IsSet() {
		want = c.webhookSecret.Reveal()
	}
	got := r.Header.Get(SecretHeader)
	gh, wh := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	if want == "" || got == "" || subtle.ConstantTimeCompare(gh[:], wh[:]) != 1 {
		return nil, fmt.Errorf("ServiceNow webhook: the %s header does not hold the webhook secret: %w", SecretHeader, connector.ErrUnauthorized)
	}
	var list []delivery
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &list); err != nil {
			return nil, fmt.Errorf("ServiceNow webhook: the body is not a list of records: %w: %w", connector.ErrInvalid, err)
		}
	} else {
		var d delivery
		if err := json.Unmarshal(trimmed, &d); err != nil {
			return nil, fmt.Errorf("ServiceNow webhook: the body is not a record change: %w: %w", connector.ErrInvalid, err)
		}
		list = []delivery{d}
	}
	out := make([]connector.Ref, 0, len(list))
	for _, d := range list {
		if !validName(d.Table) || !sysIDs.MatchString(d.SysID) {
			return nil, fmt.Errorf("ServiceNow webhook: table %s and sys_id %s are not a table name and a sys_id: %w",
				connector.Digest(d.Table), connector.Digest(d.SysID), connector.ErrInvalid)
		}
		out = append(out, connector.Ref{ID: recordID(d.Table, d.SysID), Key: d.Number})
	}
	return out, nil
}
