package rt

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Schema describes a queue: the ticket fields, the statuses of its
// lifecycle, its ticket custom fields (enum values of select fields read
// from RT), the link types and, for an administrator's token, the users.
// The marker custom field is bookkeeping and not listed.
func (c *Conn) Schema(ctx context.Context, project string) (connector.Schema, error) {
	queue, err := c.scope(project)
	if err != nil {
		return connector.Schema{}, fmt.Errorf("read RT schema: %w", err)
	}
	q, err := c.readQueue(ctx, queue)
	if err != nil {
		return connector.Schema{}, fmt.Errorf("read RT schema of %s: %w", queue, err)
	}
	statuses := c.statuses
	if q.Lifecycle != "" && q.Lifecycle != "default" && slices.Equal(statuses, defaultStatuses) {
		return connector.Schema{}, fmt.Errorf("read RT schema of %s: the queue has the lifecycle %q, whose statuses REST2 does not publish; list them in the statuses setting: %w",
			queue, q.Lifecycle, connector.ErrInvalid)
	}
	out := connector.Schema{
		EntityTypes: []string{EntityType},
		LinkTypes:   slices.Clone(linkTypes),
		Fields: []connector.FieldSchema{
			{Name: "title", Label: "Subject", Type: connector.TypeString, Required: true},
			{Name: "description", Label: "Description", Type: connector.TypeText},
			{Name: "status", Label: "Status", Type: connector.TypeEnum, Values: slices.DeleteFunc(slices.Clone(statuses), isDeleted)},
			{Name: "priority", Label: "Priority", Type: connector.TypeNumber},
			{Name: "owner", Label: "Owner", Type: connector.TypeUser},
			{Name: "requestors", Label: "Requestors", Type: connector.TypeLabels},
			{Name: "due", Label: "Due", Type: connector.TypeDateTime},
			{Name: "queue", Label: "Queue", Type: connector.TypeString, ReadOnly: true},
		},
	}
	for _, h := range q.TicketCustomFields {
		if h.Name == c.markerField {
			continue
		}
		f, err := c.cfSchema(ctx, string(h.ID))
		if err != nil {
			return connector.Schema{}, fmt.Errorf("read RT schema of %s: %w", queue, err)
		}
		out.Fields = append(out.Fields, f)
	}
	if out.Users, err = c.listUsers(ctx); err != nil {
		return connector.Schema{}, fmt.Errorf("read RT schema of %s: %w", queue, err)
	}
	return out, nil
}

// cfSchema describes a ticket custom field.
func (c *Conn) cfSchema(ctx context.Context, id string) (connector.FieldSchema, error) {
	var cf wireCustomField
	if err := c.getJSON(ctx, "/customfield/"+url.PathEscape(id), nil, &cf); err != nil {
		return connector.FieldSchema{}, fmt.Errorf("read custom field %s: %w", id, err)
	}
	multi := string(cf.MaxValues) != "1"
	c.usersMu.Lock()
	c.cfMultis[id] = multi
	c.usersMu.Unlock()
	f := connector.FieldSchema{Name: cfPrefix + cf.Name, Label: cf.Name, Type: connector.TypeString}
	switch cf.Type {
	case "Select", "Combobox", "Autocomplete":
		values, err := c.cfValues(ctx, id)
		if err != nil {
			return connector.FieldSchema{}, err
		}
		f.Values = values
		f.Type = connector.TypeEnum
		if cf.Type != "Select" {
			f.Type = connector.TypeString // the values are suggestions, not a closed list
		}
	case "Date":
		f.Type = connector.TypeDate
	case "DateTime":
		f.Type = connector.TypeDateTime
	case "Binary", "Image":
		f.ReadOnly = true // files, shown by name
	}
	if multi {
		f.Type = connector.TypeLabels
	}
	return f, nil
}

func (c *Conn) cfValues(ctx context.Context, id string) ([]string, error) {
	var out []string
	for page := 1; ; page++ {
		var p wirePage[wireCFValueItem]
		if err := c.getJSON(ctx, "/customfield/"+url.PathEscape(id)+"/values", pageQuery(maxPage, page), &p); err != nil {
			return nil, fmt.Errorf("read the values of custom field %s: %w", id, err)
		}
		for _, v := range p.Items {
			out = append(out, v.Name)
		}
		if len(p.Items) < maxPage {
			return out, nil
		}
	}
}

func (c *Conn) readQueue(ctx context.Context, name string) (wireQueue, error) {
	var q wireQueue
	err := c.getJSON(ctx, "/queue/"+url.PathEscape(name), nil, &q)
	if errors.Is(err, connector.ErrNotFound) {
		return wireQueue{}, fmt.Errorf("queue %s does not exist or the token may not see it: %w", name, err)
	}
	if err != nil {
		return wireQueue{}, fmt.Errorf("read queue %s: %w", name, err)
	}
	return q, nil
}

// Validate proves the token works and, when a queue is set, that the
// queue exists and has the marker custom field, without which Lockstep
// could not find the tickets it created after a crash.
func (c *Conn) Validate(ctx context.Context) (string, error) {
	var about struct {
		Version string `json:"Version"`
	}
	if err := c.getJSON(ctx, "/rt", nil, &about); err != nil {
		return "", fmt.Errorf("check RT credentials: %w", err)
	}
	msg := "Signed in to Request Tracker " + about.Version
	if c.queue == "" {
		return msg + "; no queue set", nil
	}
	q, err := c.readQueue(ctx, c.queue)
	if err != nil {
		return "", fmt.Errorf("check RT queue: %w", err)
	}
	if !slices.ContainsFunc(q.TicketCustomFields, func(h wireHyperlink) bool { return h.Name == c.markerField }) {
		return "", fmt.Errorf("check RT queue %s: the ticket custom field %q does not apply to it; create it (freeform, one value) and apply it to the queue or globally: %w",
			c.queue, c.markerField, connector.ErrInvalid)
	}
	return fmt.Sprintf("%s; queue %s found, marker field %q applies", msg, q.Name, c.markerField), nil
}
