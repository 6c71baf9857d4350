package rt

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// Link types, RT's own names. MergedInto is read-only: merging tickets is
// not something a sync should do.
const (
	LinkRefersTo     = "RefersTo"
	LinkReferredToBy = "ReferredToBy"
	LinkDependsOn    = "DependsOn"
	LinkDependedOnBy = "DependedOnBy"
	LinkMemberOf     = "MemberOf"
	LinkMembers      = "Members"
	LinkMergedInto   = "MergedInto"
)

// linkTypes lists the types in the schema, writable ones first.
var linkTypes = []string{LinkRefersTo, LinkReferredToBy, LinkDependsOn, LinkDependedOnBy, LinkMemberOf, LinkMembers, LinkMergedInto}

// linkRefs maps REST2's hyperlink refs to link types.
var linkRefs = map[string]string{
	"refers-to": LinkRefersTo, "referred-to-by": LinkReferredToBy,
	"depends-on": LinkDependsOn, "depended-on-by": LinkDependedOnBy,
	"parent": LinkMemberOf, "child": LinkMembers,
}

// Links lists a ticket's links from its _hyperlinks: to tickets (Target
// set) and to URLs (URL set). A merged ticket answers as the ticket it was
// merged into, which shows as a MergedInto link.
func (c *Conn) Links(ctx context.Context, ref connector.Ref) ([]connector.Link, error) {
	id, err := ticketID(ref)
	if err != nil {
		return nil, fmt.Errorf("list RT links: %w", err)
	}
	t, _, err := c.readTicket(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("list RT links of %s: %w", id, err)
	}
	return linksOf(id, t), nil
}

func linksOf(id string, t wireTicket) []connector.Link {
	out := []connector.Link{}
	if string(t.ID) != id {
		out = append(out, connector.Link{Type: LinkMergedInto, Target: connector.Ref{ID: string(t.ID), Key: string(t.ID)}})
	}
	for _, h := range t.Hyperlinks {
		typ, ok := linkRefs[h.Ref]
		if !ok {
			continue
		}
		if h.Type == "ticket" {
			out = append(out, connector.Link{Type: typ, Target: connector.Ref{ID: string(h.ID), Key: string(h.ID)}})
		} else if h.URL != "" {
			out = append(out, connector.Link{Type: typ, URL: h.URL})
		}
	}
	return out
}

// linkValue is what RT takes as the other end: a ticket number or a URL.
func linkValue(l connector.Link) (any, error) {
	if !slices.Contains(linkTypes, l.Type) {
		return nil, fmt.Errorf("link type %q is not one of RT's: %w", l.Type, connector.ErrInvalid)
	}
	if l.Type == LinkMergedInto {
		return nil, fmt.Errorf("RT merges are not written by a sync: %w", connector.ErrInvalid)
	}
	if l.Target.ID != "" || l.Target.Key != "" {
		id, err := ticketID(l.Target)
		if err != nil {
			return nil, err
		}
		return id, nil
	}
	if l.URL != "" {
		return l.URL, nil
	}
	return nil, fmt.Errorf("link has neither a target ticket nor a URL: %w", connector.ErrInvalid)
}

func hasLink(list []connector.Link, l connector.Link, value any) bool {
	return slices.ContainsFunc(list, func(x connector.Link) bool {
		return x.Type == l.Type && ((x.Target.ID != "" && x.Target.ID == value) || (x.URL != "" && x.URL == value))
	})
}

// AddLink adds a link with a PUT of Add<Type>. RT answers 200 even when it
// refuses (an unknown ticket, a link loop), so the links are read back.
// Adding an existing link changes nothing, so it may be retried.
func (c *Conn) AddLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	return c.changeLink(ctx, ref, l, "Add")
}

// RemoveLink removes a link with a PUT of Delete<Type>. A link already
// gone is not an error: the goal is that it does not exist.
func (c *Conn) RemoveLink(ctx context.Context, ref connector.Ref, l connector.Link) error {
	return c.changeLink(ctx, ref, l, "Delete")
}

func (c *Conn) changeLink(ctx context.Context, ref connector.Ref, l connector.Link, action string) error {
	verb := map[string]string{"Add": "add", "Delete": "remove"}[action]
	id, err := ticketID(ref)
	if err != nil {
		return fmt.Errorf("%s RT link: %w", verb, err)
	}
	value, err := linkValue(l)
	if err != nil {
		return fmt.Errorf("%s RT %s link of %s: %w", verb, l.Type, id, err)
	}
	answer, _, err := c.call(ctx, httpx.Request{Method: http.MethodPut, Path: "/ticket/" + id}, map[string]any{action + l.Type: value})
	if err != nil {
		return fmt.Errorf("%s RT %s link from %s to %v: %w", verb, l.Type, id, value, err)
	}
	t, _, err := c.readTicket(ctx, id)
	if err != nil {
		return fmt.Errorf("%s RT %s link from %s to %v: read back: %w", verb, l.Type, id, value, err)
	}
	if hasLink(linksOf(id, t), l, value) != (action == "Add") {
		return fmt.Errorf("%s RT %s link from %s to %v: RT said %q: %w", verb, l.Type, id, value, messages(answer), connector.ErrInvalid)
	}
	return nil
}
