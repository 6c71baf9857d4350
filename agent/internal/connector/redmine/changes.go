package redmine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
)

// Change detection.
//
// Redmine dates an issue's changes in updated_on (to the second) and lists
// issues by it, so Changes pages through "updated_on >= since" in
// ascending order. It pages by key (the last updated_on and id seen) with
// a small overlap rather than by bare offset, because an issue updated
// while the engine pages moves to the end of the list and would shift the
// offsets under it.
//
// updated_on misses relation changes, attachment deletions and note edits.
// Relations and attachments are reconciled: at most every reconcileEvery,
// the first page of a Changes call walks the whole project (list requests
// of 100 issues, relations and attachments included), compares a hash of
// each issue's relations and attachments with the previous walk, and
// flags the issues that differ. Every Changes call in the next interval
// reports the flagged issues older than its since before its first page's
// own issues; the engine drops those whose Version (which covers relations
// and attachments) it already has. The interval-long retention is what
// lets several processes polling the same project each see the change.
// The first walk after the connector opens has nothing to compare with,
// so it flags every issue older than since once: a restart may repeat,
// never miss. Note edits are not detected (see docs/connectors/redmine.md).

// keyOverlap is how many issues a next page reads again, covering issues
// that moved away between pages.
const keyOverlap = 10

// maxCursorIDs bounds the ids a cursor remembers; beyond it, an issue of
// the cursor's second may be listed twice, which the engine tolerates.
const maxCursorIDs = 100

// reconcileState is one project's walk memory.
type reconcileState struct {
	mu       sync.Mutex
	walked   time.Time
	baseline bool
	hashes   map[int64]string    // relations and attachments, by issue id
	flagged  map[int64]time.Time // issues a walk found changed, and when
}

func (c *Conn) reconcileOf(project string) *reconcileState {
	c.recMu.Lock()
	defer c.recMu.Unlock()
	st, ok := c.reconcile[project]
	if !ok {
		st = &reconcileState{hashes: map[int64]string{}, flagged: map[int64]time.Time{}}
		c.reconcile[project] = st
	}
	return st
}

// extrasHash covers what updated_on does not date.
func extrasHash(is wireIssue) string {
	var parts []string
	for _, r := range is.Relations {
		parts = append(parts, fmt.Sprintf("r%d:%d>%d:%s", r.ID, r.IssueID, r.IssueToID, r.RelationType))
	}
	for _, a := range is.Attachments {
		parts = append(parts, fmt.Sprintf("a%d", a.ID))
	}
	slices.Sort(parts)
	sum := sha256.Sum256([]byte(strings.Join(parts, ",")))
	return hex.EncodeToString(sum[:8])
}

// cursor says where the last page ended. Redmine's "updated_on >= T" is
// "> T - 1 s" on times it stores with fractions of a second, and sorts by
// that full time, so the next page asks from the last issue's second and
// skips what it already returned there: prev and cur count the issues
// returned at the second before and at that second, ids are those at it.
type cursor struct {
	at        int64 // updated_on of the last issue, Unix seconds
	prev, cur int
	ids       []int64
}

func (k cursor) String() string {
	ids := make([]string, len(k.ids))
	for i, id := range k.ids {
		ids[i] = itoa(id)
	}
	return fmt.Sprintf("%d:%d:%d:%s", k.at, k.prev, k.cur, strings.Join(ids, ","))
}

func parseCursor(s string) (cursor, error) {
	bad := fmt.Errorf("cursor %q is not a Redmine cursor: %w", s, connector.ErrInvalid)
	parts := strings.Split(s, ":")
	if len(parts) != 4 {
		return cursor{}, bad
	}
	var k cursor
	var err [3]error
	k.at, err[0] = strconv.ParseInt(parts[0], 10, 64)
	k.prev, err[1] = strconv.Atoi(parts[1])
	k.cur, err[2] = strconv.Atoi(parts[2])
	if err[0] != nil || err[1] != nil || err[2] != nil || k.prev < 0 || k.cur < 0 {
		return cursor{}, bad
	}
	if parts[3] != "" {
		for _, f := range strings.Split(parts[3], ",") {
			id, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return cursor{}, bad
			}
			k.ids = append(k.ids, id)
		}
	}
	return k, nil
}

// advance records an issue returned at second at.
func (k *cursor) advance(at, id int64) {
	switch {
	case at == k.at:
		k.cur++
	case at == k.at+1:
		k.prev, k.cur, k.ids = k.cur, 1, nil
	default:
		k.prev, k.cur, k.ids = 0, 1, nil
	}
	k.at = at
	if len(k.ids) < maxCursorIDs {
		k.ids = append(k.ids, id)
	}
}

// Changes lists the project's issues updated at or after since (to the
// second, inclusive), ascending by updated_on and id, with reconciled
// issues first on the first page (see the comment above).
func (c *Conn) Changes(ctx context.Context, project string, since time.Time, cur string) (connector.Page, error) {
	project, err := c.scope(project)
	if err != nil {
		return connector.Page{}, fmt.Errorf("list redmine changes: %w", err)
	}
	fail := func(err error) (connector.Page, error) {
		return connector.Page{}, fmt.Errorf("list redmine changes in %s: %w", project, err)
	}
	m, err := c.instanceMeta(ctx, false)
	if err != nil {
		return fail(err)
	}
	from := since.UTC().Truncate(time.Second)
	st := c.reconcileOf(project)
	var out connector.Page
	q := url.Values{"project_id": {project}, "status_id": {"*"}, "include": {include},
		"sort": {"updated_on:asc,id:asc"}, "limit": {strconv.Itoa(c.pageSize)}}
	var after cursor
	if cur == "" {
		extra, err := c.reconciled(ctx, project, st, since)
		if err != nil {
			return fail(err)
		}
		for _, is := range extra {
			out.Entities = append(out.Entities, c.entity(m, is))
		}
		if !since.IsZero() {
			q.Set("updated_on", ">="+from.Format(time.RFC3339))
		}
	} else {
		if after, err = parseCursor(cur); err != nil {
			return fail(err)
		}
		q.Set("updated_on", ">="+time.Unix(after.at, 0).UTC().Format(time.RFC3339))
		// The overlap stays a small part of a page, so every page moves on.
		q.Set("offset", strconv.Itoa(max(0, after.prev+after.cur-min(keyOverlap, c.pageSize/5))))
	}
	list, err := c.issues(ctx, q)
	if err != nil {
		return fail(err)
	}
	// Redmine's ">=" is "> since - 1 s" on times stored with fractions of
	// a second, so the page may repeat the second before since, and with
	// it a reconciled issue: list each issue once.
	onPage := map[string]bool{}
	for _, is := range list.Issues {
		onPage[itoa(is.ID)] = true
	}
	out.Entities = slices.DeleteFunc(out.Entities, func(e connector.Entity) bool { return onPage[e.ID] })
	last := after
	last.ids = slices.Clone(after.ids)
	for _, is := range list.Issues {
		at := is.UpdatedOn.Unix()
		if cur != "" && (at < after.at || (at == after.at && slices.Contains(after.ids, is.ID))) {
			continue // returned before: read again by the overlap or the second before
		}
		last.advance(at, is.ID)
		st.seen(is)
		out.Entities = append(out.Entities, c.entity(m, is))
	}
	if len(list.Issues) == c.pageSize && list.Offset+len(list.Issues) < list.TotalCount {
		out.Cursor = last.String()
	}
	return out, nil
}

// issues reads one page of GET /issues.json.
func (c *Conn) issues(ctx context.Context, q url.Values) (wireIssueList, error) {
	var raw json.RawMessage
	if err := c.get(ctx, "/issues.json", q, &raw); err != nil {
		return wireIssueList{}, err
	}
	return decodeIssueList(raw)
}

// seen records an issue's extras as polling read them: a change polling
// reported needs no reconcile.
func (st *reconcileState) seen(is wireIssue) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.baseline {
		st.hashes[is.ID] = extrasHash(is)
	}
}

// reconciled walks the project when a walk is due and returns the flagged
// issues updated before since, read fresh, ascending.
func (c *Conn) reconciled(ctx context.Context, project string, st *reconcileState, since time.Time) ([]wireIssue, error) {
	st.mu.Lock()
	defer st.mu.Unlock() // one walk at a time per project; others wait for its result
	now := c.now()
	fresh := map[int64]wireIssue{}
	if !st.baseline || now.Sub(st.walked) >= c.reconcileEvery {
		if err := c.walk(ctx, project, st, since, now, fresh); err != nil {
			return nil, err
		}
	}
	from := since.UTC().Truncate(time.Second)
	var want []int64
	for id, at := range st.flagged {
		switch {
		case now.Sub(at) > c.reconcileEvery:
			delete(st.flagged, id)
		case fresh[id].ID == 0:
			want = append(want, id)
		}
	}
	slices.Sort(want)
	for len(want) > 0 {
		n := min(len(want), maxPage)
		ids := make([]string, n)
		for i, id := range want[:n] {
			ids[i] = itoa(id)
		}
		want = want[n:]
		list, err := c.issues(ctx, url.Values{"issue_id": {strings.Join(ids, ",")}, "project_id": {project}, "status_id": {"*"},
			"include": {include}, "limit": {strconv.Itoa(maxPage)}})
		if err != nil {
			return nil, fmt.Errorf("read reconciled issues: %w", err)
		}
		for _, is := range list.Issues {
			fresh[is.ID] = is
		}
	}
	var out []wireIssue
	for id, is := range fresh {
		if _, flagged := st.flagged[id]; flagged && (since.IsZero() || is.UpdatedOn.Before(from)) {
			out = append(out, is)
		}
	}
	slices.SortFunc(out, func(a, b wireIssue) int {
		if c := a.UpdatedOn.Compare(b.UpdatedOn); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	if since.IsZero() {
		return nil, nil // everything is listed anyway
	}
	return out, nil
}

// walk reads every issue of the project and flags those whose relations or
// attachments changed since the last walk (all, on the first walk, when
// since is set). Flagged issues go into fresh.
func (c *Conn) walk(ctx context.Context, project string, st *reconcileState, since, now time.Time, fresh map[int64]wireIssue) error {
	hashes := map[int64]string{}
	q := url.Values{"project_id": {project}, "status_id": {"*"}, "include": {include}, "sort": {"id:asc"}, "limit": {strconv.Itoa(c.pageSize)}}
	for offset := 0; ; {
		q.Set("offset", strconv.Itoa(offset))
		list, err := c.issues(ctx, q)
		if err != nil {
			return fmt.Errorf("reconcile walk: %w", err)
		}
		for _, is := range list.Issues {
			h := extrasHash(is)
			hashes[is.ID] = h
			old, known := st.hashes[is.ID]
			if (st.baseline && known && old != h) || (st.baseline && !known) || (!st.baseline && !since.IsZero()) {
				st.flagged[is.ID] = now
				fresh[is.ID] = is
			}
		}
		offset += len(list.Issues)
		if len(list.Issues) == 0 || offset >= list.TotalCount {
			break
		}
	}
	st.hashes, st.walked, st.baseline = hashes, now, true
	return nil
}
