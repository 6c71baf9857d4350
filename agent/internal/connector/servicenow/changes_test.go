package servicenow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/servicenow/snemu"
)

func seedIncidents(t *testing.T, e *snemu.Emu, n int, prefix string) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		id, err := e.Insert("incident", "beth.anglin", map[string]string{"short_description": fmt.Sprintf("%s %03d", prefix, i)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	return ids
}

// listed counts each record's appearances across all pages.
func listed(pages []connector.Page) map[string]int {
	out := map[string]int{}
	for _, e := range contracttest.Entities(pages) {
		out[e.ID]++
	}
	return out
}

func TestChangesPagesBySecondAndSysID(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	e := start(t, snemu.Options{Now: clk.Now})
	c := open(t, e)
	ctx := context.Background()
	// 230 records in one second (more than two pages), then 150 spread
	// over the next seconds.
	same := seedIncidents(t, e, 230, "same second")
	var spread []string
	for i := range 150 {
		clk.Add(time.Duration(i%3) * time.Second)
		spread = append(spread, seedIncidents(t, e, 1, fmt.Sprintf("spread %d", i))...)
	}
	if _, err := c.Schema(ctx, "incident"); err != nil { // read once, then kept
		t.Fatal(err)
	}
	before := e.Stats().Requests
	pages := contracttest.Pages(t, ctx, c, "incident", time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC), 100)
	seen := listed(pages)
	for _, id := range append(same, spread...) {
		if seen["incident:"+id] != 1 {
			t.Fatalf("record %s listed %d times", id, seen["incident:"+id])
		}
	}
	if len(seen) != 380 {
		t.Fatalf("%d records listed, want 380", len(seen))
	}
	// 380 records in pages of 100, one more at the end of the busy
	// second, and the look for new attachments: a handful of requests,
	// not one per record.
	if n := e.Stats().Requests - before; n > 8 {
		t.Fatalf("%d requests for 380 changes", n)
	}
}

// TestChangesSurviveAShiftDuringPaging updates records of the first page
// while the engine reads the next ones: with offsets, the records behind
// them would move up and one would be skipped.
func TestChangesSurviveAShiftDuringPaging(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	e := start(t, snemu.Options{Now: clk.Now})
	c := open(t, e)
	ctx := context.Background()
	var ids []string
	for i := range 250 {
		clk.Add(time.Second)
		ids = append(ids, seedIncidents(t, e, 1, fmt.Sprint("shift ", i))...)
	}
	since := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	page, err := c.Changes(ctx, "incident", since, "")
	if err != nil || page.Cursor == "" || len(page.Entities) != 100 {
		t.Fatalf("first page: %d entities, cursor %q, %v", len(page.Entities), page.Cursor, err)
	}
	seen := map[string]int{}
	for _, en := range page.Entities {
		seen[en.ID]++
	}
	clk.Add(time.Minute)
	for _, id := range ids[:10] { // people edit records already listed
		if err := e.Update(id, "beth.anglin", map[string]string{"urgency": "2"}); err != nil {
			t.Fatal(err)
		}
	}
	for cursor := page.Cursor; cursor != ""; {
		p, err := c.Changes(ctx, "incident", since, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range p.Entities {
			seen[en.ID]++
		}
		cursor = p.Cursor
	}
	for i, id := range ids {
		if seen["incident:"+id] == 0 {
			t.Fatalf("record %d was skipped", i)
		}
	}
}

// TestChangesTimeZonesAndPrecision: sys_updated_on is compared in UTC
// to the second, whatever the account's time zone and date format (the
// display values the emulator sends are in Europe/Berlin, dd.MM.yyyy).
func TestChangesTimeZonesAndPrecision(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 3, 29, 0, 59, 58, 0, time.UTC)) // around the DST switch in Berlin
	e := start(t, snemu.Options{Now: clk.Now})
	c := open(t, e)
	ctx := context.Background()
	old := seedIncidents(t, e, 1, "before")[0]
	clk.Set(time.Date(2026, 3, 29, 1, 0, 1, 0, time.UTC))
	atWatermark := seedIncidents(t, e, 1, "in the watermark's second")[0]
	clk.Set(time.Date(2026, 3, 29, 1, 0, 2, 0, time.UTC))
	after := seedIncidents(t, e, 1, "after")[0]
	// A watermark in the middle of second 01:00:01 must still list the
	// record of that second: the instance keeps no fractions.
	since := time.Date(2026, 3, 29, 3, 0, 1, 700_000_000, time.FixedZone("CEST", 2*3600))
	pages := contracttest.Pages(t, ctx, c, "incident", since, 10)
	seen := listed(pages)
	if seen["incident:"+old] != 0 || seen["incident:"+atWatermark] != 1 || seen["incident:"+after] != 1 {
		t.Fatalf("listed %v", seen)
	}
	for _, en := range contracttest.Entities(pages) {
		if en.UpdatedAt.Location() != time.UTC || en.UpdatedAt.Nanosecond() != 0 {
			t.Fatalf("UpdatedAt %v is not the instance's UTC value", en.UpdatedAt)
		}
		if strings.HasSuffix(en.ID, atWatermark) && !en.UpdatedAt.Equal(time.Date(2026, 3, 29, 1, 0, 1, 0, time.UTC)) {
			t.Fatalf("UpdatedAt %v, want 01:00:01 UTC", en.UpdatedAt)
		}
	}
}

func TestChangesDetectNewAttachments(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	e := start(t, snemu.Options{Now: clk.Now})
	c := open(t, e)
	ctx := context.Background()
	quiet := seedIncidents(t, e, 1, "quiet")[0]
	busy := seedIncidents(t, e, 1, "busy")[0]
	got, err := c.Get(ctx, connector.Ref{ID: "incident:" + quiet})
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	since := clk.Now()
	// A person attaches a file: the record itself is not updated.
	if _, err := e.Attach(quiet, "beth.anglin", "screen.png", "image/png", []byte("png")); err != nil {
		t.Fatal(err)
	}
	if r := e.Record(quiet); r["sys_mod_count"] != "0" {
		t.Fatalf("attaching updated the record: %v", r)
	}
	clk.Add(time.Second)
	if err := e.Update(busy, "beth.anglin", map[string]string{"urgency": "1"}); err != nil {
		t.Fatal(err)
	}
	// Our own upload is not news.
	if _, err := c.Upload(ctx, connector.Ref{ID: "incident:" + busy}, "copy.txt", "text/plain", 4, strings.NewReader("copy")); err != nil {
		t.Fatal(err)
	}
	pages := contracttest.Pages(t, ctx, c, "incident", since, 10)
	all := contracttest.Entities(pages)
	if len(all) != 2 || all[0].ID != "incident:"+quiet || all[1].ID != "incident:"+busy {
		t.Fatalf("changes %+v", all)
	}
	if all[0].Version == got.Version || !strings.HasPrefix(all[0].Version, got.Version+"@") {
		t.Fatalf("the flagged record's version %q must differ from %q", all[0].Version, got.Version)
	}
	if all[1].Version != "1" {
		t.Fatalf("own upload flagged the record: version %q", all[1].Version)
	}
	// Without the setting, nothing but updates.
	off := open(t, e, "detectAttachments", false)
	if all := contracttest.Entities(contracttest.Pages(t, ctx, off, "incident", since, 10)); len(all) != 1 {
		t.Fatalf("detectAttachments off: %+v", all)
	}
	// A version read back after the flag still passes the version check.
	if _, err := c.Update(ctx, all[0].Ref, connector.Fields{"title": "quiet, with a screenshot"}, all[0].Version); err != nil {
		t.Fatal(err)
	}
}

func TestRateLimitRetryAfter(t *testing.T) {
	e := start(t, snemu.Options{RateLimit: 5, Window: time.Second})
	c := open(t, e)
	ctx := context.Background()
	created, err := c.Create(ctx, "incident", "", connector.Fields{"title": "rate"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if _, err := c.Get(ctx, created.Ref); err != nil {
			t.Fatalf("get %d: %v", i, err)
		}
	}
	st := e.Stats()
	if st.RateLimited == 0 || st.EarlyRetries != 0 {
		t.Fatalf("stats %+v: the limit must be hit, and Retry-After honoured", st)
	}
	if hs := c.HTTPStats(); hs.RateLimited == 0 || hs.Retries == 0 {
		t.Fatalf("client stats %+v", hs)
	}
}

// TestChangesPastRecordsTheAccountCannotSee: ACLs remove records from a
// page after the query ran, so pages come short, even empty, before the
// end; only the Link header says whether more follow.
func TestChangesPastRecordsTheAccountCannotSee(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	u := users()
	u[0].Hidden = "assignment_group=" + "0123456789abcdef0123456789abcdef"
	e := start(t, snemu.Options{Now: clk.Now, Users: u})
	c := open(t, e)
	ctx := context.Background()
	var visible []string
	for i := range 400 {
		clk.Add(time.Second)
		vals := map[string]string{"short_description": fmt.Sprint("acl ", i)}
		if i < 250 || i%2 == 0 { // a run of 250 hidden records, then every other one
			vals["assignment_group"] = "0123456789abcdef0123456789abcdef"
		}
		id, err := e.Insert("incident", "beth.anglin", vals)
		if err != nil {
			t.Fatal(err)
		}
		if vals["assignment_group"] == "" {
			visible = append(visible, id)
		}
	}
	pages := contracttest.Pages(t, ctx, c, "incident", time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC), 50)
	seen := listed(pages)
	if len(seen) != len(visible) {
		t.Fatalf("%d records listed, want the %d visible ones", len(seen), len(visible))
	}
	for _, id := range visible {
		if seen["incident:"+id] != 1 {
			t.Fatalf("visible record %s listed %d times", id, seen["incident:"+id])
		}
	}
	empty := 0
	for _, p := range pages {
		if len(p.Entities) == 0 && p.Cursor != "" {
			empty++
		}
	}
	if empty == 0 {
		t.Fatal("no page came back empty before the end: the test does not test what it says")
	}
}

// TestRateLimitForTheHour: a rule spent for the hour answers 429 with a
// Retry-After of many minutes. The call fails at once as rate limited (the
// engine retries it later), and the calls after it wait for the pause
// without asking the instance again.
func TestRateLimitForTheHour(t *testing.T) {
	e := start(t, snemu.Options{RateLimit: 8, Window: time.Hour})
	c := open(t, e)
	ctx := context.Background()
	created, err := c.Create(ctx, "incident", "", connector.Fields{"title": "hourly"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	var rerr error
	for range 5 {
		if _, rerr = c.Get(ctx, created.Ref); rerr != nil {
			break
		}
	}
	if !errors.Is(rerr, connector.ErrRateLimited) || !connector.Transient(rerr) {
		t.Fatalf("a spent hourly rule: %v", rerr)
	}
	asked := e.Stats().Requests
	if _, err := c.Get(ctx, created.Ref); !errors.Is(err, connector.ErrRateLimited) {
		t.Fatalf("during the pause: %v", err)
	}
	if st := e.Stats(); st.Requests != asked || st.EarlyRetries != 0 {
		t.Fatalf("the instance was asked again during the pause: %+v", st)
	}
}

// TestChangesWithoutAttachmentAccess: an account the Attachment API
// refuses still polls; the look for new attachments is left out.
func TestChangesWithoutAttachmentAccess(t *testing.T) {
	u := users()
	u[0].NoAttachments = true
	e := start(t, snemu.Options{Users: u})
	c := open(t, e)
	id := seedIncidents(t, e, 1, "no files")[0]
	all := contracttest.Entities(contracttest.Pages(t, context.Background(), c, "incident", time.Now().Add(-time.Hour), 10))
	if len(all) != 1 || all[0].ID != "incident:"+id {
		t.Fatalf("changes %+v", all)
	}
}
