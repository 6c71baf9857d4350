package gitlab

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
)

// TokenHeader carries a project hook's secret token on each delivery.
// GitLab sends the token itself, not a signature of the body.
const TokenHeader = "X-Gitlab-Token"

// RegisterWebhook adds a project hook for issue and note events
// (confidential ones too), with secret as its token. It needs the
// Maintainer role. The id is "<project id>:<hook id>".
func (c *Conn) RegisterWebhook(ctx context.Context, project, hookURL, secret string) (string, error) {
	p, err := c.resolve(ctx, project)
	if err != nil {
		return "", fmt.Errorf("register GitLab webhook: %w", err)
	}
	in := map[string]any{"url": hookURL, "token": secret, "issues_events": true, "note_events": true,
		"confidential_issues_events": true, "confidential_note_events": true,
		"push_events": false, "enable_ssl_verification": true}
	var h wireHook
	r := projectRequest(http.MethodPost, strconv.FormatInt(p.ID, 10), "/hooks")
	if err := c.http.DoJSON(ctx, r, in, &h); err != nil {
		// The token travels in the body, which a server may quote back.
		return "", fmt.Errorf("register GitLab webhook for %s: %w", p.Path, connector.ScrubSecret(err, secret))
	}
	if h.ID <= 0 {
		return "", fmt.Errorf("register GitLab webhook for %s: the answer names no hook: %w", p.Path, connector.ErrUnavailable)
	}
	return fmt.Sprintf("%d:%d", p.ID, h.ID), nil
}

// UnregisterWebhook deletes a project hook; one already gone is fine.
func (c *Conn) UnregisterWebhook(ctx context.Context, id string) error {
	pid, hid, ok := strings.Cut(id, ":")
	_, err1 := strconv.ParseInt(pid, 10, 64)
	_, err2 := strconv.ParseInt(hid, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return fmt.Errorf("unregister GitLab webhook %q: not a hook id (<project id>:<hook id>): %w", id, connector.ErrInvalid)
	}
	err := c.http.DoJSON(ctx, projectRequest(http.MethodDelete, pid, "/hooks/"+hid), nil, nil)
	if err != nil && !errors.Is(err, connector.ErrNotFound) {
		return fmt.Errorf("unregister GitLab webhook %s: %w", id, err)
	}
	return nil
}

// ParseWebhook checks X-Gitlab-Token in constant time and returns the
// issue an issue or note event names (none for a note on something else,
// or another event).
func (c *Conn) ParseWebhook(r *http.Request, body []byte, secret string) ([]connector.Ref, error) {
	got := r.Header.Get(TokenHeader)
	if secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
		return nil, fmt.Errorf("verify GitLab webhook: bad or missing %s: %w", TokenHeader, connector.ErrUnauthorized)
	}
	var d struct {
		ObjectKind string `json:"object_kind"`
		ProjectID  int64  `json:"project_id"`
		Project    struct {
			ID                int64  `json:"id"`
			PathWithNamespace string `json:"path_with_namespace"`
		} `json:"project"`
		ObjectAttributes struct {
			IID          int64  `json:"iid"`
			ProjectID    int64  `json:"project_id"`
			NoteableType string `json:"noteable_type"`
		} `json:"object_attributes"`
		Issue *struct {
			IID       int64 `json:"iid"`
			ProjectID int64 `json:"project_id"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(body, &d); err != nil || d.ObjectKind == "" {
		return nil, fmt.Errorf("parse GitLab webhook: not a delivery: %w", connector.ErrInvalid)
	}
	var ir issueRef
	switch d.ObjectKind {
	case "issue":
		ir = issueRef{project: firstPositive(d.ObjectAttributes.ProjectID, d.Project.ID), iid: d.ObjectAttributes.IID}
	case "note":
		if d.ObjectAttributes.NoteableType != "Issue" || d.Issue == nil {
			return []connector.Ref{}, nil
		}
		ir = issueRef{project: firstPositive(d.Issue.ProjectID, d.ProjectID, d.Project.ID), iid: d.Issue.IID}
	default:
		return []connector.Ref{}, nil
	}
	if ir.project <= 0 || ir.iid <= 0 {
		return nil, fmt.Errorf("parse GitLab %s webhook: it names no issue: %w", d.ObjectKind, connector.ErrInvalid)
	}
	ref := connector.Ref{ID: ir.id()}
	if d.Project.PathWithNamespace != "" && (d.Project.ID == 0 || d.Project.ID == ir.project) {
		ref.Key = fmt.Sprintf("%s#%d", d.Project.PathWithNamespace, ir.iid)
	}
	return []connector.Ref{ref}, nil
}

func firstPositive(ns ...int64) int64 {
	for _, n := range ns {
		if n > 0 {
			return n
		}
	}
	return 0
}
