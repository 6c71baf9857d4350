package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// GitHub has two kinds of typed relation between issues: sub-issues (a
// parent and its children, "REST API endpoints for sub-issues") and issue
// dependencies ("blocked by" and "blocking", "REST API endpoints for issue
// dependencies"). Both name the other issue by its id (not its number) when
// written. Anything else is a reference in the text (#12, a URL), which
// the description and comments carry as they are.

// Links lists the issue's parent, sub-issues and dependencies. The issue's
// own summary says which lists are worth asking for; a server without the
// features (an older Enterprise Server) answers 404, read as none.
func (c *Conn) Links(ctx context.Context, ref connector.Ref) ([]connector.Link, error) {
	ir, err := c.parseRef(ref)
	if err != nil {
		return nil, fmt.Errorf("list GitHub links: %w", err)
	}
	wi, err := c.getIssue(ctx, ir)
	if err != nil {
		return nil, err
	}
	out := []connector.Link{}
	add := func(typ, rest string, ask bool) error {
		if !ask {
			return nil
		}
		list, err := getAll[wireIssue](ctx, c, ir.path(rest), nil)
		if errors.Is(err, connector.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list GitHub links of %s: %w", ir, err)
		}
		for _, t := range list {
			target := issueRef{repo: repoOfURL(t.RepositoryURL, ir.repo), number: t.Number}.String()
			out = append(out, connector.Link{Type: typ, Target: connector.Ref{ID: target, Key: target}})
		}
		return nil
	}
	if wi.ParentIssueURL != nil && *wi.ParentIssueURL != "" {
		var parent wireIssue
		if _, err := c.getJSON(ctx, ir.path("/parent"), nil, &parent); err != nil && !errors.Is(err, connector.ErrNotFound) {
			return nil, fmt.Errorf("read GitHub parent of %s: %w", ir, err)
		} else if err == nil && parent.Number > 0 {
			target := issueRef{repo: repoOfURL(parent.RepositoryURL, ir.repo), number: parent.Number}.String()
			out = append(out, connector.Link{Type: LinkChildOf, Target: connector.Ref{ID: target, Key: target}})
		}
	}
	sub, deps := wi.SubIssuesSummary, wi.DependenciesSummary
	if err := add(LinkParentOf, "/sub_issues", sub == nil || sub.Total > 0); err != nil {
		return nil, err
	}
	if err := add(LinkBlockedBy, "/dependencies/blocked_by", deps == nil || deps.BlockedBy > 0); err != nil {
		return nil, err
	}
	if err := add(LinkBlocks, "/dependencies/blocking", deps == nil || deps.Blocking > 0); err != nil {
		return nil, err
	}
	return out, nil
}

// relation is how one link type is written: on which of the two issues the
// request goes, and which one it names by id.
func relation(typ string) (onTarget bool, kind string, err error) {
	switch strings.ToLower(strings.TrimSpace(typ)) {
	case LinkParentOf:
		return false, "sub", nil
	case LinkChildOf:
		return true, "sub", nil
	case LinkBlockedBy:
		return false, "dep", nil
	case LinkBlocks:
		return true, "dep", nil
	}
	return false, "", fmt.Errorf("GitHub has no link type %q (it has %s, %s, %s and %s): %w", typ,
		LinkParentOf, LinkChildOf, LinkBlockedBy, LinkBlocks, connector.ErrInvalid)
}

// linkEnds reads both issues of a link: the one the request goes to, and
// the one it names, whose id it needs.
func (c *Conn) linkEnds(ctx context.Context, ref connector.Ref, l connector.Link) (on issueRef, named wireIssue, kind string, err error) {
	if l.Target.ID == "" && l.Target.Key == "" {
		return issueRef{}, wireIssue{}, "", fmt.Errorf("GitHub issues have no links to URLs (%s); a reference belongs in the text: %w", connector.Digest(l.URL), connector.ErrInvalid)
	}
	onTarget, kind, err := relation(l.Type)
	if err != nil {
		return issueRef{}, wireIssue{}, "", err
	}
	here, err := c.parseRef(ref)
	if err != nil {
		return issueRef{}, wireIssue{}, "", err
	}
	there, err := c.parseRef(l.Target)
	if err != nil {
		return issueRef{}, wireIssue{}, "", err
	}
	on, other := here, there
	if onTarget {
		on, other = there, here
	}
	named, err = c.getIssue(ctx, other)
	return on, named, kind, err
}

// AddLink adds a sub-issue or a dependency. Repeating one that exists is
// refused by GitHub (422); the link is then read back, and being there is
// success.
func (c *Conn) AddLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	on, named, kind, err := c.linkEnds(ctx, ref, l)
	if err != nil {
		return fmt.Errorf("add GitHub %q link from %s: %w", l.Type, connector.RefName(ref), err)
	}
	path, in := on.path("/sub_issues"), map[string]any{"sub_issue_id": named.ID}
	if kind == "dep" {
		path, in = on.path("/dependencies/blocked_by"), map[string]any{"issue_id": named.ID}
	}
	err = c.send(ctx, http.MethodPost, path, in, nil, false, false)
	if errors.Is(err, connector.ErrInvalid) && c.hasLink(ctx, ref, l) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("add GitHub %q link from %s to %s: %w", l.Type, connector.RefName(ref), connector.RefName(l.Target), err)
	}
	c.cache.drop(cacheKey(on.path(), nil))
	return nil
}

func (c *Conn) hasLink(ctx context.Context, ref connector.Ref, l connector.Link) bool {
	list, err := c.Links(ctx, ref)
	if err != nil {
		return false
	}
	want, err := c.parseRef(l.Target)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(list, func(x connector.Link) bool {
		return strings.EqualFold(x.Type, l.Type) && x.Target.ID == want.String()
	})
}

// RemoveLink removes a sub-issue or a dependency; one already gone is fine.
func (c *Conn) RemoveLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	on, named, kind, err := c.linkEnds(ctx, ref, l)
	if errors.Is(err, connector.ErrNotFound) {
		return nil // an end is gone, and the link with it
	}
	if err != nil {
		return fmt.Errorf("remove GitHub %q link from %s: %w", l.Type, connector.RefName(ref), err)
	}
	if kind == "sub" {
		err = c.send(ctx, http.MethodDelete, on.path("/sub_issue"), map[string]any{"sub_issue_id": named.ID}, nil, false, true)
	} else {
		err = c.send(ctx, http.MethodDelete, on.path("/dependencies/blocked_by/"+strconv.FormatInt(named.ID, 10)), nil, nil, false, true)
	}
	if err != nil && !errors.Is(err, connector.ErrNotFound) {
		return fmt.Errorf("remove GitHub %q link from %s to %s: %w", l.Type, connector.RefName(ref), connector.RefName(l.Target), err)
	}
	c.cache.drop(cacheKey(on.path(), nil))
	return nil
}
