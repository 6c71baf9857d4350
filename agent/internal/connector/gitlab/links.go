package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Links lists an issue's links, each typed as it reads from this issue
// (GitLab shows "A blocks B" on B as is_blocked_by A).
func (c *Conn) Links(ctx context.Context, ref connector.Ref) ([]connector.Link, error) {
	list, err := c.issueLinks(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := make([]connector.Link, 0, len(list))
	for _, wi := range list {
		if wi.ProjectID <= 0 || wi.IID <= 0 {
			continue
		}
		out = append(out, connector.Link{Type: wi.LinkType,
			Target: connector.Ref{ID: issueRef{project: wi.ProjectID, iid: wi.IID}.id(), Key: wi.References.Full}})
	}
	return out, nil
}

func (c *Conn) issueLinks(ctx context.Context, ref connector.Ref) ([]wireIssue, error) {
	r, err := c.parseRef(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("list GitLab issue links: %w", err)
	}
	var list []wireIssue
	if err := c.http.DoJSON(ctx, r.request(http.MethodGet, "/links"), nil, &list); err != nil {
		return nil, fmt.Errorf("list GitLab issue links of %s: %w", connector.RefName(ref), err)
	}
	return list, nil
}

// linkType reads a link type in GitLab's spelling or a person's
// ("relates to", "Is blocked by").
func linkType(t string) (string, error) {
	s := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(t)), " ", "_")
	switch s {
	case LinkRelatesTo, LinkBlocks, LinkIsBlockedBy:
		return s, nil
	}
	return "", fmt.Errorf("GitLab has no %q issue link; its types are %s, %s and %s: %w", t, LinkRelatesTo, LinkBlocks, LinkIsBlockedBy, connector.ErrInvalid)
}

// AddLink links two issues. GitLab keeps one link between two issues:
// adding it again is fine, adding another type of link to the same issue
// is refused. Links to URLs do not exist in GitLab issues.
func (c *Conn) AddLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	fail := func(err error) error {
		return fmt.Errorf("add GitLab %q link from %s to %s: %w", l.Type, connector.RefName(ref), connector.RefName(l.Target), err)
	}
	if l.Target.ID == "" && l.Target.Key == "" {
		return fail(fmt.Errorf("GitLab issues link to issues only, not to URLs: %w: %w", connector.ErrInvalid, errors.ErrUnsupported))
	}
	typ, err := linkType(l.Type)
	if err != nil {
		return fail(err)
	}
	r, err := c.parseRef(ctx, ref)
	if err != nil {
		return fail(err)
	}
	t, err := c.parseRef(ctx, l.Target)
	if err != nil {
		return fail(err)
	}
	in := map[string]string{"target_project_id": strconv.FormatInt(t.project, 10), "target_issue_iid": strconv.FormatInt(t.iid, 10), "link_type": typ}
	err = c.http.DoJSON(ctx, r.request(http.MethodPost, "/links"), in, nil)
	if !errors.Is(err, connector.ErrConflict) {
		if err != nil {
			return fail(err)
		}
		return nil
	}
	// 409 "Issue(s) already assigned": some link joins the two already.
	list, lerr := c.issueLinks(ctx, ref)
	if lerr != nil {
		return fail(lerr)
	}
	for _, wi := range list {
		if wi.ProjectID == t.project && wi.IID == t.iid {
			if wi.LinkType == typ {
				return nil
			}
			return fail(fmt.Errorf("a %s link joins them already, and GitLab keeps one link between two issues: %w", wi.LinkType, connector.ErrInvalid))
		}
	}
	return fail(err)
}

// RemoveLink removes the link of l's type to l's target; a link already
// gone is not an error.
func (c *Conn) RemoveLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	fail := func(err error) error {
		return fmt.Errorf("remove GitLab %q link from %s to %s: %w", l.Type, connector.RefName(ref), connector.RefName(l.Target), err)
	}
	typ, err := linkType(l.Type)
	if err != nil {
		return fail(err)
	}
	r, err := c.parseRef(ctx, ref)
	if err != nil {
		return fail(err)
	}
	t, err := c.parseRef(ctx, l.Target)
	if err != nil {
		return fail(err)
	}
	list, err := c.issueLinks(ctx, ref)
	if err != nil {
		return fail(err)
	}
	for _, wi := range list {
		if wi.ProjectID != t.project || wi.IID != t.iid || wi.LinkType != typ || wi.IssueLinkID <= 0 {
			continue
		}
		err := c.http.DoJSON(ctx, r.request(http.MethodDelete, "/links/"+strconv.FormatInt(wi.IssueLinkID, 10)), nil, nil)
		if err != nil && !errors.Is(err, connector.ErrNotFound) {
			return fail(err)
		}
	}
	return nil
}
