package rt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Change detection reads RT's transaction feed, not ticket LastUpdated:
// transaction ids only grow, so "id > N" is a cursor that neither skips nor
// repeats, and the feed also shows tickets that left every search (deleted
// ones). The engine's since starts the feed (Created >= since, whole
// seconds, so the second of since is read again); after that the cursor
// carries the last transaction id read.
//
// A page names the tickets its transactions touched (RT's own mail,
// EmailRecord, is not a change), each read live. A ticket whose latest
// transaction lies beyond the page is deferred to the page that holds it
// and carried in the cursor, so pages stay ascending by UpdatedAt across
// page boundaries too.

// feedCursor is a position in the transaction feed.
type feedCursor struct {
	after    int64    // the last transaction id read
	deferred []string // tickets touched before after, to list on a later page
}

func (f feedCursor) String() string {
	s := strconv.FormatInt(f.after, 10)
	if len(f.deferred) > 0 {
		s += ":" + strings.Join(f.deferred, ",")
	}
	return s
}

func parseCursor(s string) (feedCursor, error) {
	head, tail, deferred := strings.Cut(s, ":")
	after, err := strconv.ParseInt(head, 10, 64)
	if err != nil || after < 0 || (deferred && tail == "") {
		return feedCursor{}, fmt.Errorf("cursor %q is not an RT feed position: %w", s, connector.ErrInvalid)
	}
	f := feedCursor{after: after}
	if tail != "" {
		for _, id := range strings.Split(tail, ",") {
			if _, err := strconv.ParseUint(id, 10, 63); err != nil {
				return feedCursor{}, fmt.Errorf("cursor %q names a bad ticket: %w", s, connector.ErrInvalid)
			}
			f.deferred = append(f.deferred, id)
		}
	}
	return f, nil
}

// rtSQLTime is how TicketSQL and TransactionSQL take a UTC time.
const rtSQLTime = "2006-01-02 15:04:05"

// Changes lists the queue's tickets changed at or after since, one page of
// the transaction feed at a time. Tickets deleted (status "deleted") are
// listed in Page.Deleted; a ticket moved to another queue stops appearing.
func (c *Conn) Changes(ctx context.Context, project string, since time.Time, cursor string) (connector.Page, error) {
	queue, err := c.scope(project)
	if err != nil {
		return connector.Page{}, fmt.Errorf("list RT changes: %w", err)
	}
	var cur feedCursor
	if cursor != "" {
		if cur, err = parseCursor(cursor); err != nil {
			return connector.Page{}, fmt.Errorf("list RT changes in %s: %w", queue, err)
		}
	}
	qid, err := c.queueID(ctx, queue)
	if err != nil {
		return connector.Page{}, fmt.Errorf("list RT changes in %s: %w", queue, err)
	}
	// The queue goes by id: REST2 reads any transaction query holding a
	// "[" as JSON, and a queue name may hold one.
	sql := "ObjectType = 'RT::Ticket' AND TicketQueue = " + qid + " AND id > " + strconv.FormatInt(cur.after, 10)
	if cursor == "" && !since.IsZero() {
		sql += " AND Created >= '" + since.UTC().Truncate(time.Second).Format(rtSQLTime) + "'"
	}
	q := pageQuery(c.pageSize, 1)
	q.Set("query", sql)
	q.Set("orderby", "id")
	q.Set("fields", "ObjectId,Type,Created")
	var feed wirePage[wireTxn]
	if err := c.getJSON(ctx, "/transactions", q, &feed); err != nil {
		return connector.Page{}, fmt.Errorf("list RT changes in %s: %w", queue, err)
	}
	last := cur.after
	touched := slices.Clone(cur.deferred)
	for _, t := range feed.Items {
		id, err := strconv.ParseInt(string(t.ID), 10, 64)
		if err != nil {
			return connector.Page{}, fmt.Errorf("list RT changes in %s: transaction id %q: %w", queue, t.ID, connector.ErrUnavailable)
		}
		last = max(last, id)
		if t.Type != "EmailRecord" && !slices.Contains(touched, string(t.ObjectID)) {
			touched = append(touched, string(t.ObjectID))
		}
	}
	more := len(feed.Items) == c.pageSize && (feed.Total == nil || *feed.Total > len(feed.Items))

	out := connector.Page{Entities: []connector.Entity{}}
	next := feedCursor{after: last}
	for _, id := range touched {
		t, version, err := c.readTicket(ctx, id)
		if errors.Is(err, connector.ErrNotFound) {
			continue // gone for good; RT itself keeps deleted tickets
		}
		if err != nil {
			return connector.Page{}, fmt.Errorf("list RT changes in %s: read ticket %s: %w", queue, id, err)
		}
		if isDeleted(t.Status) {
			out.Deleted = append(out.Deleted, connector.Ref{ID: id, Key: id})
			continue
		}
		if v, err := strconv.ParseInt(version, 10, 64); more && err == nil && v > last {
			next.deferred = append(next.deferred, id)
			continue
		}
		e, err := c.entity(ctx, t, version)
		if err != nil {
			return connector.Page{}, fmt.Errorf("list RT changes in %s: ticket %s: %w", queue, id, err)
		}
		out.Entities = append(out.Entities, e)
	}
	slices.SortStableFunc(out.Entities, func(a, b connector.Entity) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	if more {
		out.Cursor = next.String()
	}
	return out, nil
}

// queueID resolves a queue name, once per connector: a queue's id never
// changes.
func (c *Conn) queueID(ctx context.Context, name string) (string, error) {
	c.usersMu.Lock()
	id, ok := c.queueIDs[name]
	c.usersMu.Unlock()
	if ok {
		return id, nil
	}
	q, err := c.readQueue(ctx, name)
	if err != nil {
		return "", err
	}
	id = string(q.ID)
	if _, err := strconv.ParseUint(id, 10, 63); err != nil {
		return "", fmt.Errorf("queue %s has the id %q: %w", name, id, connector.ErrUnavailable)
	}
	c.usersMu.Lock()
	c.queueIDs[name] = id
	c.usersMu.Unlock()
	return id, nil
}
