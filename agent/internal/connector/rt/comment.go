package rt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
	"github.com/lockstep-sync/lockstep/agent/internal/markup"
)

// Subjects of the comments Lockstep writes for its own bookkeeping: a new
// description (RT cannot edit the original) and an uploaded file (RT keeps
// files only on messages). Comments leaves them out; RT users see them in
// the ticket's history for what they are.
const (
	// No "[": REST2 takes any query holding one for JSON.
	descSubject   = "Lockstep: description"
	uploadSubject = "Lockstep: attachment"
)

// maxDescCache bounds the description cache. Descriptions are immutable
// per transaction, so entries never go stale; the map is simply emptied
// when full.
const maxDescCache = 1000

// bodyTypes is the JSON query for message bodies: RT's web editor writes
// text/html, the API and mail mostly text/plain.
var bodyTypes = []map[string]any{
	{"field": "ContentType", "value": "text/plain"},
	{"field": "ContentType", "value": "text/html", "entry_aggregator": "OR"},
}

// description reads a ticket's description: the content of its latest
// description comment, else of its Create transaction.
func (c *Conn) description(ctx context.Context, id string) (string, error) {
	// LIKE is "contains" in TransactionSQL: a reply whose subject quotes
	// ours matches too, so the newest exact match wins, else the Create.
	txn := ""
	for _, cond := range []string{"(Type = 'Create' OR (Type = 'Comment' AND Data LIKE " + sqlQuote(descSubject) + "))", "Type = 'Create'"} {
		q := pageQuery(20, 1)
		q.Set("query", "ObjectType = 'RT::Ticket' AND ObjectId = "+id+" AND "+cond)
		q.Set("orderby", "id")
		q.Set("order", "DESC")
		q.Set("fields", "Type,Data")
		var page wirePage[wireTxn]
		if err := c.getJSON(ctx, "/transactions", q, &page); err != nil {
			return "", fmt.Errorf("find the description of RT ticket %s: %w", id, err)
		}
		if i := slices.IndexFunc(page.Items, func(t wireTxn) bool { return t.Type == "Create" || ownSubject(t.Data) == descSubject }); i >= 0 {
			txn = string(page.Items[i].ID)
			break
		}
	}
	if txn == "" {
		return "", nil
	}
	c.descMu.Lock()
	d, ok := c.descs[txn]
	c.descMu.Unlock()
	if ok {
		return d, nil
	}
	bodies, err := c.bodies(ctx, "/transaction/"+txn+"/attachments")
	if err != nil {
		return "", fmt.Errorf("read the description of RT ticket %s: %w", id, err)
	}
	d = bodies[txn]
	c.descMu.Lock()
	if len(c.descs) >= maxDescCache {
		clear(c.descs)
	}
	c.descs[txn] = d
	c.descMu.Unlock()
	return d, nil
}

// bodies reads the message bodies of a collection of attachments, as
// Markdown by transaction id: each transaction's first text/plain part
// that is not a file, else its first text/html part, converted.
func (c *Conn) bodies(ctx context.Context, collection string) (map[string]string, error) {
	plain, html := map[string]string{}, map[string]string{}
	for page := 1; ; page++ {
		q := pageQuery(c.pageSize, page)
		q.Set("fields", "TransactionId,ContentType,Filename,Content")
		q.Set("orderby", "id")
		var p wirePage[wireAttachment]
		if err := c.search(ctx, collection, q, bodyTypes, &p); err != nil {
			return nil, err
		}
		for _, a := range p.Items {
			txn := string(a.TransactionID)
			if a.Filename != "" {
				continue
			}
			switch {
			case strings.EqualFold(a.ContentType, "text/plain"):
				if _, ok := plain[txn]; !ok {
					plain[txn] = a.Content
				}
			case strings.EqualFold(a.ContentType, "text/html"):
				if _, ok := html[txn]; !ok {
					html[txn] = a.Content
				}
			}
		}
		if len(p.Items) < c.pageSize {
			break
		}
	}
	for txn, h := range html {
		if _, ok := plain[txn]; ok {
			continue
		}
		md, err := markup.HTMLToMarkdown(h)
		if err != nil {
			return nil, fmt.Errorf("convert the HTML body of transaction %s: %w", txn, err)
		}
		plain[txn] = md
	}
	return plain, nil
}

// Comments lists a ticket's comments (internal) and correspondence
// (public), oldest first. Mail RT sent (EmailRecord) and Lockstep's own
// bookkeeping comments are left out.
func (c *Conn) Comments(ctx context.Context, ref connector.Ref) ([]connector.Comment, error) {
	id, err := ticketID(ref)
	if err != nil {
		return nil, fmt.Errorf("list RT comments: %w", err)
	}
	var txns []wireTxn
	for page := 1; ; page++ {
		q := pageQuery(c.pageSize, page)
		q.Set("query", "ObjectType = 'RT::Ticket' AND ObjectId = "+id+" AND (Type = 'Comment' OR Type = 'Correspond')")
		q.Set("orderby", "id")
		q.Set("fields", "Type,Data,Created,Creator")
		var p wirePage[wireTxn]
		if err := c.getJSON(ctx, "/transactions", q, &p); err != nil {
			return nil, fmt.Errorf("list RT comments of %s: %w", id, err)
		}
		txns = append(txns, p.Items...)
		if len(p.Items) < c.pageSize {
			break
		}
	}
	if len(txns) == 0 {
		return []connector.Comment{}, nil
	}
	bodies, err := c.bodies(ctx, "/ticket/"+id+"/attachments")
	if err != nil {
		return nil, fmt.Errorf("list RT comments of %s: %w", id, err)
	}
	out := make([]connector.Comment, 0, len(txns))
	for _, t := range txns {
		if ownSubject(t.Data) != "" {
			continue
		}
		body, marker := connector.SplitMarker(bodies[string(t.ID)])
		out = append(out, connector.Comment{ID: string(t.ID), Author: c.user(ctx, string(t.Creator.ID)),
			Body: body, Marker: marker, CreatedAt: t.Created.Time})
	}
	return out, nil
}

// AddComment writes a comment (internal) or correspondence (public,
// emailed to the requestors), as the commentAs setting says. The marker
// rides once at the end of the text/plain body as an HTML comment, which RT
// keeps as written and shows as text, and is read back into Comment.Marker.
func (c *Conn) AddComment(ctx context.Context, ref connector.Ref, nc connector.NewComment) (connector.Comment, error) {
	id, err := ticketID(ref)
	if err != nil {
		return connector.Comment{}, fmt.Errorf("add RT comment: %w", err)
	}
	txn, err := c.postMessage(ctx, id, c.commentAs, "", connector.HideMarker(plainContent(nc.Body), nc.Marker), nil)
	if err != nil {
		return connector.Comment{}, fmt.Errorf("add RT %s to %s: %w", c.commentAs, id, err)
	}
	var t wireTxn
	if err := c.getJSON(ctx, "/transaction/"+txn, nil, &t); err != nil {
		return connector.Comment{}, fmt.Errorf("add RT %s to %s: read it back: %w", c.commentAs, id, err)
	}
	return connector.Comment{ID: txn, Author: c.user(ctx, string(t.Creator.ID)), Body: nc.Body, Marker: nc.Marker, CreatedAt: t.Created.Time}, nil
}

// postMessage posts a comment or correspondence and returns its
// transaction id, which RT gives only in the Location header.
func (c *Conn) postMessage(ctx context.Context, id, kind, subject, content string, files []map[string]string) (string, error) {
	in := map[string]any{}
	if subject != "" {
		in["Subject"] = subject
	}
	if content != "" {
		in["Content"], in["ContentType"] = content, "text/plain"
	}
	if len(files) > 0 {
		in["Attachments"] = files
	}
	_, h, err := c.call(ctx, httpx.Request{Method: http.MethodPost, Path: "/ticket/" + id + "/" + kind}, in)
	if err != nil {
		return "", c.missingTicket(ctx, id, err)
	}
	return txnFromLocation(h.Get("Location"))
}

// txnFromLocation reads ".../transaction/<id>".
func txnFromLocation(loc string) (string, error) {
	u, err := url.Parse(loc)
	if err != nil || path.Base(path.Dir(u.Path)) != "transaction" {
		return "", fmt.Errorf("RT answered without the new transaction's location (%q): %w", loc, connector.ErrUnavailable)
	}
	id := path.Base(u.Path)
	if _, err := ticketID(connector.Ref{ID: id}); err != nil {
		return "", fmt.Errorf("RT answered with a bad transaction location %q: %w", loc, connector.ErrUnavailable)
	}
	return id, nil
}

// missingTicket explains a failed message post: RT answers 500 when the
// ticket does not exist, which would read as an outage worth retrying.
func (c *Conn) missingTicket(ctx context.Context, id string, err error) error {
	var se *httpx.StatusError
	if !errors.As(err, &se) || se.Status < 500 {
		return err
	}
	if _, _, rerr := c.readTicket(ctx, id); errors.Is(rerr, connector.ErrNotFound) {
		return fmt.Errorf("ticket %s does not exist: %w", id, rerr)
	}
	return err
}

// ownSubject returns a transaction's subject (RT keeps it in Data, with a
// line break) if it is one of Lockstep's bookkeeping subjects.
func ownSubject(data string) string {
	if s := strings.TrimSpace(data); s == descSubject || s == uploadSubject {
		return s
	}
	return ""
}
