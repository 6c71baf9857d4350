package gitlab

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/gitlab/gitlabemu"
)

// seed makes n issues as bob, the clock moving step before each, and
// returns their ids in creation order.
func seed(t *testing.T, e *gitlabemu.Emu, clk *agenttest.Clock, n int, step time.Duration) []string {
	t.Helper()
	var ids []string
	for i := range n {
		clk.Add(step)
		iid, err := e.CreateIssue(helpdesk, "bob", map[string]any{"title": fmt.Sprintf("issue %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, fmt.Sprintf("%d:%d", helpdesk, iid))
	}
	return ids
}

// changed reads all pages of changes since and returns the ids in order,
// each once, and the number of pages.
func changed(t *testing.T, c *Conn, since time.Time) ([]string, int) {
	t.Helper()
	pages := contracttest.Pages(t, context.Background(), c, "acme/helpdesk", since, 100)
	var ids []string
	for _, e := range contracttest.Entities(pages) {
		if !slices.Contains(ids, e.ID) {
			ids = append(ids, e.ID)
		}
	}
	return ids, len(pages)
}

// TestChangesPaging reads 250 issues, three or four to a millisecond (the
// API shows milliseconds; the database keeps microseconds), across pages
// of 100, from the start and from the middle, with the totals GitLab
// leaves out of large lists left out.
func TestChangesPaging(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	e := start(t, gitlabemu.Options{Now: clk.Now, CountLimit: 50})
	c := open(t, e)
	ids := seed(t, e, clk, 250, 300*time.Microsecond)
	contracttest.CheckPaging(t, context.Background(), c, contracttest.Paging{Project: "acme/helpdesk", Made: ids, MinPages: 3, From: 150, NotBefore: 141})
}

// TestChangesOneMillisecond: more issues than a page share one
// millisecond, so the cursor must count pages within it.
func TestChangesOneMillisecond(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	e := start(t, gitlabemu.Options{Now: clk.Now})
	c := open(t, e)
	before := seed(t, e, clk, 5, time.Second)
	same := seed(t, e, clk, 230, 0)
	clk.Add(time.Second)
	after := seed(t, e, clk, 5, time.Second)
	all, _ := changed(t, c, time.Time{})
	want := append(append(slices.Clone(before), same...), after...)
	if !slices.Equal(all, want) {
		t.Fatalf("%d changes, want %d in order", len(all), len(want))
	}
}

// TestChangesShift: issues updated while the pages are read move to the
// end of the order; no other issue may be lost, and the moved ones come
// again with their new version.
func TestChangesShift(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	e := start(t, gitlabemu.Options{Now: clk.Now})
	c := open(t, e)
	ctx := context.Background()
	ids := seed(t, e, clk, 260, 400*time.Microsecond)
	page, err := c.Changes(ctx, "acme/helpdesk", time.Time{}, "")
	if err != nil || len(page.Entities) != 100 || page.Cursor == "" {
		t.Fatalf("first page: %d, %q, %v", len(page.Entities), page.Cursor, err)
	}
	seen := map[string]int{}
	for _, en := range page.Entities {
		seen[en.ID]++
	}
	// Someone edits the first issue (listed) and the 150th (not yet).
	clk.Add(time.Second)
	for _, iid := range []int{1, 150} {
		if err := e.EditIssue(helpdesk, iid, "bob", map[string]any{"title": "moved"}); err != nil {
			t.Fatal(err)
		}
	}
	for cursor := page.Cursor; cursor != ""; {
		p, err := c.Changes(ctx, "acme/helpdesk", time.Time{}, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range p.Entities {
			seen[en.ID]++
		}
		cursor = p.Cursor
	}
	for _, id := range ids {
		if seen[id] == 0 {
			t.Fatalf("%s lost while paging", id)
		}
	}
	if seen[ids[0]] != 2 {
		t.Fatalf("the edited first issue was listed %d times, want twice (before and after its edit)", seen[ids[0]])
	}
}

// TestChangesTimeZone: a self-managed GitLab in another time zone shows
// times with its offset; they are the same instants.
func TestChangesTimeZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	clk := agenttest.NewClock(time.Date(2026, 1, 4, 23, 30, 0, 0, time.UTC))
	e := start(t, gitlabemu.Options{Now: clk.Now, TimeZone: berlin})
	c := open(t, e)
	ids := seed(t, e, clk, 3, time.Hour)
	got, err := c.Get(context.Background(), connector.Ref{ID: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	if !got.UpdatedAt.Equal(time.Date(2026, 1, 5, 0, 30, 0, 0, time.UTC)) || !strings.HasPrefix(got.Version, "2026-01-05T01:30:00.000+01:00~") {
		t.Fatalf("updated %v, version %q", got.UpdatedAt, got.Version)
	}
	some, _ := changed(t, c, got.UpdatedAt.Add(time.Minute))
	if !slices.Equal(some, ids[1:]) {
		t.Fatalf("changes since an hour after the first: %v", some)
	}
}

func TestCursorRefused(t *testing.T) {
	c := open(t, start(t, gitlabemu.Options{}))
	for _, bad := range []string{"x", "1|0|0|", "a|1|0|", "1|1|b|"} {
		if _, err := c.Changes(context.Background(), "acme/helpdesk", time.Time{}, bad); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}
