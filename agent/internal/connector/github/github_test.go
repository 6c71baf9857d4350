package github

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/github/ghemu"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

const (
	adminToken  = "ghp_admin0123456789abcdefghijklmnopqrstu"
	writerToken = "github_pat_writer0123456789abcdef"
	readerToken = "github_pat_reader0123456789abcdef"
	noScope     = "ghp_noscope0123456789abcdefghijklmnopq"
	roToken     = "github_pat_readonly0123456789abcdef"
)

func users() []ghemu.User {
	return []ghemu.User{
		{Login: "octo-admin", Name: "Ada Admin", Email: "ada@example.com", Token: adminToken, Scopes: []string{"repo", "admin:repo_hook"}, Permission: ghemu.Admin},
		{Login: "bob", Name: "Bob Builder", Token: writerToken},
		{Login: "rita", Name: "Rita Reader", Token: readerToken, Permission: ghemu.Read},
		{Login: "gist-only", Token: noScope, Scopes: []string{"gist", "read:user"}},
		{Login: "robot", Token: roToken, ReadOnlyToken: true},
	}
}

func start(t testing.TB, o ghemu.Options) *ghemu.Emu {
	t.Helper()
	if o.Users == nil {
		o.Users = users()
	}
	if o.Repos == nil {
		o.Repos = []ghemu.Repo{{Owner: "acme", Name: "widgets", Milestones: []string{"v1.0", "v2.0"}}, {Owner: "acme", Name: "gadgets"}}
	}
	e := ghemu.Start(o)
	t.Cleanup(e.Close)
	return e
}

func config(t testing.TB, e *ghemu.Emu, token string, more ...any) connector.Config {
	settings := contracttest.Settings(t, map[string]any{"owner": "acme", "repository": "widgets",
		"writesPerMinute": 60000, "attachments": AttachSkip}, more...)
	return connector.Config{ID: contracttest.SystemID(t), Name: "GitHub", Kind: Kind, URL: e.URL(),
		Settings: settings, Secrets: map[string]secret.Secret{"token": secret.New(token)}}
}

func open(t testing.TB, e *ghemu.Emu, more ...any) *Conn {
	t.Helper()
	return contracttest.Open(t, Open, config(t, e, adminToken, more...), connector.Env{})
}

func TestContract(t *testing.T) {
	contracttest.RunContract(t, func(t *testing.T) (connector.Connector, string) {
		return open(t, start(t, ghemu.Options{})), "widgets"
	})
}

// TestContractEnterprise runs the contract against an Enterprise Server's
// layout: the REST API under /api/v3, GraphQL at /api/graphql.
func TestContractEnterprise(t *testing.T) {
	contracttest.RunContract(t, func(t *testing.T) (connector.Connector, string) {
		e := start(t, ghemu.Options{PathPrefix: "/api/v3"})
		c := open(t, e)
		t.Cleanup(func() {
			en, err := c.Create(context.Background(), "widgets", TypeIssue, connector.Fields{"title": "to delete"}, connector.Marker{})
			if err != nil {
				t.Error(err)
				return
			}
			if err := c.Delete(context.Background(), en.Ref); err != nil {
				t.Errorf("delete through /api/graphql: %v", err)
			}
		})
		return c, "acme/widgets"
	})
}

func TestRegistered(t *testing.T) {
	spec, ok := connector.Lookup(Kind)
	if !ok || spec.Open == nil || spec.Test == nil {
		t.Fatalf("spec %+v", spec)
	}
	if f, ok := spec.Field("token"); !ok || !f.Secret || !f.Required {
		t.Fatal("token must be a required secret field")
	}
	e := start(t, ghemu.Options{})
	msg, err := spec.Test(context.Background(), config(t, e, adminToken))
	if err != nil || !strings.Contains(msg, "octo-admin") || !strings.Contains(msg, "acme/widgets") || !strings.Contains(msg, "scopes repo") {
		t.Fatalf("Test = %q, %v", msg, err)
	}
}

func TestAuthFailures(t *testing.T) {
	e := start(t, ghemu.Options{})
	ctx := context.Background()
	const wrong = "ghp_wrong0123456789abcdefghijklmnopqrstu"
	c := contracttest.Open(t, Open, config(t, e, wrong), connector.Env{})
	_, err := c.Validate(ctx)
	if !errors.Is(err, connector.ErrUnauthorized) || !strings.Contains(err.Error(), "Bad credentials") || strings.Contains(err.Error(), wrong) {
		t.Fatalf("wrong token: %v", err)
	}
	if _, err := c.Changes(ctx, "widgets", time.Time{}, ""); !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("wrong token, changes: %v", err)
	}
	cases := []struct {
		name  string
		token string
		want  error
		text  string
	}{
		{"classic token without repo scope", noScope, connector.ErrForbidden, "without repo"},
		{"read role", readerToken, connector.ErrForbidden, "Triage"},
	}
	for _, tc := range cases {
		c := contracttest.Open(t, Open, config(t, e, tc.token), connector.Env{})
		if _, err := c.Validate(ctx); !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	ro := contracttest.Open(t, Open, config(t, e, roToken), connector.Env{})
	_, err = ro.Create(ctx, "widgets", TypeIssue, connector.Fields{"title": "x"}, connector.Marker{})
	if !errors.Is(err, connector.ErrForbidden) || !strings.Contains(err.Error(), "Resource not accessible by personal access token") {
		t.Fatalf("read-only token: %v", err)
	}
	bad := []connector.Config{
		{Name: "no token", Settings: map[string]any{"owner": "acme"}},
		{Name: "no owner", Settings: map[string]any{}, Secrets: map[string]secret.Secret{"token": secret.New("x")}},
		{Name: "owner with slash", Settings: map[string]any{"owner": "acme/widgets"}, Secrets: map[string]secret.Secret{"token": secret.New("x")}},
		{Name: "attachments", Settings: map[string]any{"owner": "acme", "attachments": "upload"}, Secrets: map[string]secret.Secret{"token": secret.New("x")}},
	}
	for _, cfg := range bad {
		if _, err := Open(cfg, connector.Env{}); err == nil {
			t.Errorf("%s: opened", cfg.Name)
		}
	}
	if _, err := Open(bad[0], connector.Env{}); !errors.Is(err, connector.ErrUnauthorized) {
		t.Errorf("no token: %v", err)
	}
	other := contracttest.Open(t, Open, config(t, e, adminToken, "owner", "nobody-here"), connector.Env{})
	if _, err := other.Validate(ctx); !errors.Is(err, connector.ErrNotFound) || !strings.Contains(err.Error(), "nobody-here") {
		t.Fatalf("unknown owner: %v", err)
	}
}

func TestAPIBase(t *testing.T) {
	for raw, want := range map[string][2]string{
		"":                                    {"https://api.github.com", "https://api.github.com"},
		"https://github.com/":                 {"https://api.github.com", "https://api.github.com"},
		"https://api.github.com":              {"https://api.github.com", "https://api.github.com"},
		"https://ghe.example.com/api/v3/":     {"https://ghe.example.com/api/v3", "https://ghe.example.com/api"},
		"https://ghe.example.com:8443/api/v3": {"https://ghe.example.com:8443/api/v3", "https://ghe.example.com:8443/api"},
	} {
		rest, graph, err := apiBase(raw)
		if err != nil || rest != want[0] || graph != want[1] {
			t.Errorf("apiBase(%q) = %q, %q, %v; want %v", raw, rest, graph, err, want)
		}
	}
}

func TestFieldsRoundTrip(t *testing.T) {
	e := start(t, ghemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	schema, err := c.Schema(ctx, "widgets")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, f := range schema.Fields {
		types[f.Name] = f.Type
		if f.Name == "milestone" && strings.Join(f.Values, ",") != "v1.0,v2.0" {
			t.Errorf("milestones %v", f.Values)
		}
		if f.Name == "labels" && !slices.Contains(f.Values, "bug") {
			t.Errorf("labels %v", f.Values)
		}
	}
	for name, typ := range map[string]string{"title": connector.TypeString, "description": connector.TypeText, "status": connector.TypeEnum,
		"state": connector.TypeEnum, "stateReason": connector.TypeEnum, "labels": connector.TypeLabels, "assignee": connector.TypeUser,
		"assignees": connector.TypeLabels, "milestone": connector.TypeEnum, "author": connector.TypeUser} {
		if types[name] != typ {
			t.Errorf("schema field %s is %q, want %q", name, types[name], typ)
		}
	}
	if strings.Join(schema.EntityTypes, ",") != "issue,pull_request" || strings.Join(schema.LinkTypes, ",") != "parent of,child of,blocked by,blocks" {
		t.Fatalf("types %v, link types %v", schema.EntityTypes, schema.LinkTypes)
	}
	if len(schema.Users) != 4 || fmt.Sprint(schema.Extra[AttachmentsExtra]) != "[skip]" {
		t.Fatalf("users %+v, extra %v", schema.Users, schema.Extra)
	}
	fields := connector.Fields{
		"title": "Printer on fire", "description": "It **burns**.\n\n- smoke\n- flames\n",
		"status": StatusNotPlanned, "labels": []string{"bug", "hardware"}, "assignee": connector.User{Name: "Bob"},
		"milestone": "v2.0",
	}
	marker := connector.Marker{System: "o0123456789ab", Key: "HELP-7", URL: "https://jira.example/browse/HELP-7"}
	// Clearing, reopening, a new description that keeps the marker.
	created, upd := contracttest.CheckRoundTrip(t, ctx, c, contracttest.RoundTrip{Project: "widgets", Type: TypeIssue, Fields: fields, Marker: marker,
		Update: connector.Fields{"assignee": nil, "labels": []string{}, "milestone": nil, "status": StatusOpen, "description": "Rewritten."}})
	got := created.Fields
	if got["title"] != "Printer on fire" || got["description"] != fields["description"] || got["status"] != StatusNotPlanned ||
		got["state"] != "closed" || got["stateReason"] != StatusNotPlanned || fmt.Sprint(got["labels"]) != "[bug hardware]" ||
		got["assignee"] != (connector.User{ID: "bob", Name: "bob"}) || fmt.Sprint(got["assignees"]) != "[bob]" ||
		got["milestone"] != "v2.0" || got["author"] != (connector.User{ID: "octo-admin", Name: "octo-admin"}) {
		t.Fatalf("created fields %#v", got)
	}
	if created.Type != TypeIssue || created.ID != "acme/widgets#1" || created.Key != created.ID || !strings.HasSuffix(created.URL, "/acme/widgets/issues/1") ||
		created.Marker != marker.Text() || !c.IndexesMarkers() {
		t.Fatalf("created %+v", created)
	}
	raw := e.Issues("acme/widgets")[0].Body
	if !strings.HasSuffix(raw, "\n\n<!-- lockstep:o0123456789ab:HELP-7 https://jira.example/browse/HELP-7 -->") || strings.Count(raw, "lockstep:") != 1 {
		t.Fatalf("body on GitHub %q", raw)
	}
	if fmt.Sprint(upd.Fields["labels"]) != "[]" || upd.Fields["status"] != StatusOpen || upd.Fields["stateReason"] != "reopened" || upd.Fields["description"] != "Rewritten." ||
		upd.Marker != marker.Text() {
		t.Fatalf("updated %+v (marker %q)", upd.Fields, upd.Marker)
	}
	if upd, err = c.Update(ctx, created.Ref, connector.Fields{"description": nil}, ""); err != nil || upd.Fields["description"] != nil || upd.Marker != marker.Text() {
		t.Fatalf("cleared description: %+v, %v", upd, err)
	}
	found, err := c.FindByMarker(ctx, "widgets", marker)
	if err != nil || len(found) != 1 || found[0].ID != created.ID {
		t.Fatalf("FindByMarker after the edits = %+v, %v", found, err)
	}
	refusals := []struct {
		fields connector.Fields
		text   string
	}{
		{connector.Fields{"nonsense": 1}, "nonsense"},
		{connector.Fields{"title": "  "}, "title"},
		{connector.Fields{"status": StatusDuplicate}, "not_planned"},
		{connector.Fields{"status": "finished"}, connector.Digest("finished")},
		{connector.Fields{"status": StatusOpen, "state": "closed"}, "disagree"},
		{connector.Fields{"assignee": connector.User{Email: "nobody@example.com"}}, connector.Digest("nobody@example.com")},
		{connector.Fields{"milestone": "v9"}, connector.Digest("v9")},
		{connector.Fields{"author": "bob"}, "read only"},
		{connector.Fields{"description": strings.Repeat("x", 70000)}, "too long"},
	}
	for _, r := range refusals {
		if _, err := c.Update(ctx, created.Ref, r.fields, ""); !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), r.text) {
			t.Errorf("update of %v: %.300v, want ErrInvalid naming %q", slices.Collect(maps.Keys(r.fields)), err, r.text)
		}
	}
	if _, err := c.Create(ctx, "widgets", TypePullRequest, connector.Fields{"title": "x"}, connector.Marker{}); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("creating a pull request: %v", err)
	}
	if _, err := c.Create(ctx, "widgets", TypeIssue, connector.Fields{"description": "no title"}, connector.Marker{}); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("creating without a title: %v", err)
	}
}

func TestStaleVersion(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	e := start(t, ghemu.Options{Now: clk.Now})
	c := open(t, e)
	ctx := context.Background()
	en, err := c.Create(ctx, "widgets", TypeIssue, connector.Fields{"title": "v1"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	// A person edits within the same second: updated_at does not move,
	// the version must.
	e.Edit("acme/widgets", 1, "v1 edited by a person", "", "")
	if _, err := c.Update(ctx, en.Ref, connector.Fields{"title": "v2"}, en.Version); !errors.Is(err, connector.ErrConflict) {
		t.Fatalf("stale version within one second: %v", err)
	}
	now, err := c.Get(ctx, en.Ref)
	if err != nil || now.UpdatedAt != en.UpdatedAt || now.Version == en.Version {
		t.Fatalf("after the edit: %+v, %v", now, err)
	}
	if _, err := c.Update(ctx, en.Ref, connector.Fields{"title": "v2"}, now.Version); err != nil {
		t.Fatal(err)
	}
}

// collect pages through Changes, checking the cursor ends.
func collect(t *testing.T, c *Conn, since time.Time) ([]connector.Entity, int) {
	t.Helper()
	pages := contracttest.Pages(t, context.Background(), c, "widgets", since, 1000)
	return contracttest.Entities(pages), len(pages)
}

func numbers(list []connector.Entity) []string {
	var out []string
	for _, e := range list {
		out = append(out, strings.TrimPrefix(e.ID, "acme/widgets#"))
	}
	return out
}

func TestChangesPaging(t *testing.T) {
	for _, exclusive := range []bool{false, true} {
		t.Run(fmt.Sprintf("since exclusive %v", exclusive), func(t *testing.T) {
			clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
			e := start(t, ghemu.Options{Now: clk.Now, MaxPerPage: 3, SinceExclusive: exclusive})
			c := open(t, e)
			var made []string
			for i := range 10 {
				clk.Add(500 * time.Millisecond) // two issues a second: pages end inside a second
				made = append(made, fmt.Sprint("acme/widgets#", e.Seed("acme/widgets", "bob", ghemu.Issue{Title: fmt.Sprint("issue ", i)})))
			}
			other := e.Seed("acme/gadgets", "bob", ghemu.Issue{Title: "other repository"})
			contracttest.CheckPaging(t, context.Background(), c, contracttest.Paging{Project: "widgets", Made: made,
				Elsewhere: fmt.Sprint("acme/gadgets#", other), MinPages: 4, From: 6, NotBefore: 1})
		})
	}
}

// TestChangesShift: an issue updated while the list is being paged moves
// to its end; on GitHub's numbered pages that shifts every later issue up
// one place, and counting on would skip one. No issue may be lost.
func TestChangesShift(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	e := start(t, ghemu.Options{Now: clk.Now, MaxPerPage: 3})
	c := open(t, e)
	ctx := context.Background()
	for i := range 9 {
		clk.Add(time.Minute)
		e.Seed("acme/widgets", "bob", ghemu.Issue{Title: fmt.Sprint("issue ", i)})
	}
	page, err := c.Changes(ctx, "widgets", time.Time{}, "")
	if err != nil || len(page.Entities) != 3 || page.Cursor == "" {
		t.Fatalf("first page %+v, %v", page, err)
	}
	clk.Add(time.Minute)
	e.Edit("acme/widgets", 1, "moved to the end", "", "")
	seen := map[string]bool{}
	for _, en := range page.Entities {
		seen[en.ID] = true
	}
	for cursor := page.Cursor; cursor != ""; {
		p, err := c.Changes(ctx, "widgets", time.Time{}, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range p.Entities {
			seen[en.ID] = true
		}
		cursor = p.Cursor
	}
	for i := 1; i <= 9; i++ {
		if !seen[fmt.Sprint("acme/widgets#", i)] {
			t.Fatalf("#%d lost while paging: saw %v", i, seen)
		}
	}
}

// TestChangesCrowdedSecond: more issues than a page share one second; a
// restarted query would list the same page forever, so the cursor counts
// pages within that second.
func TestChangesCrowdedSecond(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	e := start(t, ghemu.Options{Now: clk.Now, MaxPerPage: 4})
	c := open(t, e)
	var want []string
	for i := range 11 {
		want = append(want, fmt.Sprint(e.Seed("acme/widgets", "bob", ghemu.Issue{Title: fmt.Sprint("bulk ", i)})))
	}
	clk.Add(3 * time.Second)
	want = append(want, fmt.Sprint(e.Seed("acme/widgets", "bob", ghemu.Issue{Title: "later"})))
	all, _ := collect(t, c, time.Time{})
	got := numbers(all)
	slices.Sort(got)
	slices.Sort(want)
	if strings.Join(slices.Compact(got), ",") != strings.Join(want, ",") {
		t.Fatalf("changes %v, want %v", numbers(all), want)
	}
}

// TestIdlePollNotModified: an unchanged list is answered 304, which costs
// no rate limit; a change makes it a full answer again.
func TestIdlePollNotModified(t *testing.T) {
	e := start(t, ghemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	e.Seed("acme/widgets", "bob", ghemu.Issue{Title: "one"})
	since := time.Now().Add(-time.Hour)
	first, err := c.Changes(ctx, "widgets", since, "")
	if err != nil || len(first.Entities) != 1 {
		t.Fatalf("first poll %+v, %v", first, err)
	}
	before := e.Stats()
	for range 3 {
		again, err := c.Changes(ctx, "widgets", since, "")
		if err != nil || len(again.Entities) != 1 || again.Entities[0].Version != first.Entities[0].Version {
			t.Fatalf("idle poll %+v, %v", again, err)
		}
	}
	after := e.Stats()
	if after.NotModified-before.NotModified != 3 || after.CoreUsed != before.CoreUsed {
		t.Fatalf("idle polls: %d answered 304, %d charged", after.NotModified-before.NotModified, after.CoreUsed-before.CoreUsed)
	}
	e.Edit("acme/widgets", 1, "two", "", "")
	changed, err := c.Changes(ctx, "widgets", since, "")
	if err != nil || changed.Entities[0].Title != "two" || e.Stats().CoreUsed != after.CoreUsed+1 {
		t.Fatalf("poll after a change: %+v, %v, %+v", changed, err, e.Stats())
	}
}

// TestPrimaryLimit: the connector reads x-ratelimit-remaining and waits for
// x-ratelimit-reset instead of running into the 403; when others spent the
// budget, it waits out the 403 once, and never comes back early.
func TestPrimaryLimit(t *testing.T) {
	e := start(t, ghemu.Options{CoreLimit: 3, Minute: 20 * time.Millisecond}) // an hour is 1.2 s
	c := open(t, e)
	ctx := context.Background()
	for i := range 7 {
		if _, err := c.Changes(ctx, "widgets", time.Time{}, ""); err != nil {
			t.Fatalf("poll %d: %v", i, err)
		}
		e.Seed("acme/widgets", "bob", ghemu.Issue{Title: fmt.Sprint("change ", i)}) // no 304s
	}
	if st := e.Stats(); st.Primary != 0 || st.EarlyRetries != 0 || c.HTTPStats().Paused == 0 {
		t.Fatalf("the connector ran into the limit: %+v, %+v", st, c.HTTPStats())
	}
	// Another client of the same account spends what is left of the
	// budget, without running into the limit itself.
	spend := func() {
		for {
			req, _ := http.NewRequest(http.MethodGet, e.URL()+"/user", nil)
			req.Header.Set("Authorization", "Bearer "+adminToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("spending the budget: %s", resp.Status)
			}
			if resp.Header.Get("X-RateLimit-Remaining") == "0" {
				return
			}
		}
	}
	spend()
	before := e.Stats()
	if _, err := c.Changes(ctx, "widgets", time.Time{}, ""); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.Primary-before.Primary != 1 || st.EarlyRetries != 0 || c.HTTPStats().RateLimited == 0 {
		t.Fatalf("after a spent budget: %+v", st)
	}
}

// TestSecondaryLimit: a 403 or 429 naming the secondary limit is waited
// out, as retry-after says, or a minute when it says nothing ("Rate limits
// for the REST API"); the request then goes through.
func TestSecondaryLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    ghemu.Options
	}{
		{"403 with retry-after", ghemu.Options{}},
		{"429 with retry-after", ghemu.Options{SecondaryStatus: http.StatusTooManyRequests}},
		{"403 without retry-after", ghemu.Options{NoRetryAfter: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := tc.o
			o.ContentPerMinute, o.Minute = 2, 500*time.Millisecond
			e := start(t, o)
			// The connector's own pacing is set far above the emulator's
			// limit, so the emulator trips.
			c := open(t, e, "contentPerHour", 100000)
			c.pace = newPacer(time.Millisecond, 1000, 100000, time.Minute, time.Now)
			c.secondaryWait = o.Minute
			ctx := context.Background()
			for i := range 4 {
				if _, err := c.Create(ctx, "widgets", TypeIssue, connector.Fields{"title": fmt.Sprint("busy ", i)}, connector.Marker{}); err != nil {
					t.Fatalf("create %d: %v", i, err)
				}
			}
			st := e.Stats()
			if st.Secondary == 0 || c.HTTPStats().RateLimited == 0 || st.EarlyRetries != 0 || len(e.Issues("acme/widgets")) != 4 {
				t.Fatalf("stats %+v, connector %+v, issues %d", st, c.HTTPStats(), len(e.Issues("acme/widgets")))
			}
		})
	}
}

// TestPacingKeepsUnderSecondaryLimits: with the connector's pacing at the
// emulator's limits (both in a shortened minute), creating more than a
// minute's worth trips no secondary limit.
func TestPacingKeepsUnderSecondaryLimits(t *testing.T) {
	minute := 300 * time.Millisecond
	e := start(t, ghemu.Options{ContentPerMinute: 4, ContentPerHour: 1000, Minute: minute})
	c := open(t, e)
	c.pace = newPacer(time.Millisecond, 4, 1000, minute, time.Now)
	ctx := context.Background()
	en, err := c.Create(ctx, "widgets", TypeIssue, connector.Fields{"title": "paced"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 9 {
		if _, err := c.AddComment(ctx, en.Ref, connector.NewComment{Body: fmt.Sprint("comment ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if st := e.Stats(); st.Secondary != 0 || st.Created != 10 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFindByMarker(t *testing.T) {
	ctx := context.Background()
	marker := connector.Marker{System: "o0123456789ab", Key: "HELP-1", URL: "https://jira.example/browse/HELP-1"}
	t.Run("search index lagging", func(t *testing.T) {
		// The index has not seen the issue: the scan of recent issues
		// finds it.
		e := start(t, ghemu.Options{SearchLag: time.Hour})
		c := open(t, e)
		made, err := c.Create(ctx, "widgets", TypeIssue, connector.Fields{"title": "made just now"}, marker)
		if err != nil {
			t.Fatal(err)
		}
		found, err := c.FindByMarker(ctx, "widgets", marker)
		if err != nil || len(found) != 1 || found[0].ID != made.ID {
			t.Fatalf("FindByMarker = %+v, %v", found, err)
		}
		if st := e.Stats(); st.SearchUsed != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("older than the recent scan", func(t *testing.T) {
		e := start(t, ghemu.Options{})
		c := open(t, e)
		made, err := c.Create(ctx, "widgets", TypeIssue, connector.Fields{"title": "old"}, marker)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 120 {
			e.Seed("acme/widgets", "bob", ghemu.Issue{Title: fmt.Sprint("later ", i)})
		}
		// Near misses: a longer key, the same text outside a marker.
		e.Seed("acme/widgets", "bob", ghemu.Issue{Title: "near", Body: "<!-- lockstep:o0123456789ab:HELP-10 -->"})
		e.Seed("acme/widgets", "bob", ghemu.Issue{Title: "quote", Body: "we write lockstep:o0123456789ab:HELP-1 in bodies"})
		found, err := c.FindByMarker(ctx, "widgets", marker)
		if err != nil || len(found) != 1 || found[0].ID != made.ID {
			t.Fatalf("FindByMarker = %+v, %v", found, err)
		}
		none, err := c.FindByMarker(ctx, "widgets", connector.Marker{System: marker.System, Key: "HELP-404"})
		if err != nil || none == nil || len(none) != 0 {
			t.Fatalf("FindByMarker of nothing = %#v, %v", none, err)
		}
	})
}

func TestCommentsMarkersAndEdits(t *testing.T) {
	e := start(t, ghemu.Options{MaxPerPage: 2})
	c := open(t, e)
	ctx := context.Background()
	en, err := c.Create(ctx, "widgets", TypeIssue, connector.Fields{"title": "talk"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	// The engine may put the marker in the body as well as in Marker: it
	// is written once.
	body := "**Ann** wrote in HELP-1:\n\nSee `cfg`.\n\n<!-- lockstep:a:42 -->"
	added, err := c.AddComment(ctx, en.Ref, connector.NewComment{Body: body, Marker: "<!-- lockstep:a:42 -->"})
	if err != nil {
		t.Fatal(err)
	}
	want := "**Ann** wrote in HELP-1:\n\nSee `cfg`."
	if added.Body != want || added.Marker != "lockstep:a:42" {
		t.Fatalf("added %+v", added)
	}
	if raw := e.Issues("acme/widgets")[0].Comments[0]; strings.Count(raw, "lockstep:a:42") != 1 {
		t.Fatalf("the marker is not written once: %q", raw)
	}
	for i := range 4 {
		if _, err := c.AddComment(ctx, en.Ref, connector.NewComment{Body: fmt.Sprint("reply ", i), Marker: fmt.Sprint("lockstep:b:", i)}); err != nil {
			t.Fatal(err)
		}
	}
	e.Comment("acme/widgets", 1, "bob", "a person's comment")
	list, err := c.Comments(ctx, en.Ref)
	if err != nil || len(list) != 6 {
		t.Fatalf("comments across pages: %d, %v", len(list), err)
	}
	if list[0].Body != want || list[0].Marker != "lockstep:a:42" || list[4].Marker != "lockstep:b:3" ||
		list[5].Marker != "" || list[5].Body != "a person's comment" || list[5].Author.ID != "bob" || list[0].UpdatedAt.IsZero() {
		t.Fatalf("comments %+v", list)
	}
	// An edit keeps the marker, given or not.
	edited, err := c.UpdateComment(ctx, en.Ref, added.ID, connector.NewComment{Body: "edited"})
	if err != nil || edited.Body != "edited" || edited.Marker != "lockstep:a:42" {
		t.Fatalf("UpdateComment = %+v, %v", edited, err)
	}
	if err := c.DeleteComment(ctx, en.Ref, added.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteComment(ctx, en.Ref, added.ID); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if list, _ = c.Comments(ctx, en.Ref); len(list) != 5 {
		t.Fatalf("after the delete: %d comments", len(list))
	}
	if _, err := c.AddComment(ctx, en.Ref, connector.NewComment{Body: "  "}); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("empty comment: %v", err)
	}
}

func TestAttachmentNotices(t *testing.T) {
	ctx := context.Background()
	e := start(t, ghemu.Options{})
	c := open(t, e, "attachments", AttachComment)
	src := connector.Marker{System: "o0123456789ab", Key: "HELP-9", URL: "https://jira.example/browse/HELP-9"}
	en, err := c.Create(ctx, "widgets", TypeIssue, connector.Fields{"title": "has files"}, src)
	if err != nil {
		t.Fatal(err)
	}
	content := "log line\n"
	a, err := c.Upload(ctx, en.Ref, "crash [1].log", "text/plain", -1, strings.NewReader(content))
	if err != nil || a.Name != "crash [1].log" || a.Size != int64(len(content)) || !strings.HasPrefix(a.ID, noticePrefix) {
		t.Fatalf("Upload = %+v, %v", a, err)
	}
	raw := e.Issues("acme/widgets")[0].Comments[0]
	if !strings.Contains(raw, `crash \[1\].log`) || !strings.Contains(raw, "[HELP-9](https://jira.example/browse/HELP-9)") || !strings.Contains(raw, "9 bytes") {
		t.Fatalf("notice %q", raw)
	}
	list, err := c.Attachments(ctx, en.Ref)
	if err != nil || len(list) != 1 || list[0] != (connector.Attachment{ID: a.ID, Name: a.Name, Size: a.Size, ContentType: "text/plain", CreatedAt: list[0].CreatedAt}) {
		t.Fatalf("Attachments = %+v, %v", list, err)
	}
	if cms, err := c.Comments(ctx, en.Ref); err != nil || len(cms) != 0 {
		t.Fatalf("a notice must not be a comment: %+v, %v", cms, err)
	}
	if _, err := c.Download(ctx, en.Ref, a); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Download: %v", err)
	}
	if err := c.DeleteAttachment(ctx, en.Ref, a); err != nil {
		t.Fatal(err)
	}
	if list, _ = c.Attachments(ctx, en.Ref); len(list) != 0 {
		t.Fatalf("after the delete: %+v", list)
	}
	// An issue Lockstep did not create names no source.
	e.Seed("acme/widgets", "bob", ghemu.Issue{Title: "a person's"})
	if _, err := c.Upload(ctx, connector.Ref{ID: "acme/widgets#2"}, "a.txt", "", 1, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if raw := e.Issues("acme/widgets")[1].Comments[0]; !strings.Contains(raw, "the synced item in the other system") {
		t.Fatalf("notice %q", raw)
	}
	skip := open(t, e)
	if _, err := skip.Upload(ctx, en.Ref, "b.txt", "", 1, strings.NewReader("x")); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("skip mode: %v", err)
	}
	if list, err := skip.Attachments(ctx, en.Ref); err != nil || len(list) != 0 {
		t.Fatalf("skip mode lists %+v, %v", list, err)
	}
}

func TestLinks(t *testing.T) {
	e := start(t, ghemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	var refs []connector.Ref
	for i := range 3 {
		en, err := c.Create(ctx, "widgets", TypeIssue, connector.Fields{"title": fmt.Sprint("issue ", i)}, connector.Marker{})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, en.Ref)
	}
	a, b, x := refs[0], refs[1], refs[2]
	// a is b's parent (written from b's side); a blocks x (from a's).
	if err := c.AddLink(ctx, b, connector.Link{Type: LinkChildOf, Target: a}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddLink(ctx, a, connector.Link{Type: LinkBlocks, Target: x}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddLink(ctx, a, connector.Link{Type: LinkBlocks, Target: x}); err != nil {
		t.Fatalf("adding a link that exists: %v", err)
	}
	links := func(r connector.Ref) string {
		l, err := c.Links(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range l {
			out = append(out, x.Type+" "+x.Target.ID)
		}
		return strings.Join(out, "; ")
	}
	if got := links(a); got != "parent of acme/widgets#2; blocks acme/widgets#3" {
		t.Fatalf("links of a: %s", got)
	}
	if got := links(b); got != "child of acme/widgets#1" {
		t.Fatalf("links of b: %s", got)
	}
	if got := links(x); got != "blocked by acme/widgets#1" {
		t.Fatalf("links of x: %s", got)
	}
	if err := c.RemoveLink(ctx, a, connector.Link{Type: LinkParentOf, Target: b}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveLink(ctx, x, connector.Link{Type: LinkBlockedBy, Target: a}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveLink(ctx, x, connector.Link{Type: LinkBlockedBy, Target: a}); err != nil {
		t.Fatalf("removing a link already gone: %v", err)
	}
	if got := links(a) + links(b) + links(x); got != "" {
		t.Fatalf("links left: %s", got)
	}
	if err := c.AddLink(ctx, a, connector.Link{Type: "duplicates", Target: b}); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("unknown link type: %v", err)
	}
	if err := c.AddLink(ctx, a, connector.Link{Type: "remote", URL: "https://wiki.example/x"}); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("a URL link: %v", err)
	}
	if err := c.AddLink(ctx, a, connector.Link{Type: LinkParentOf, Target: a}); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("a link to itself: %v", err)
	}
}

func TestDelete(t *testing.T) {
	e := start(t, ghemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	en, err := c.Create(ctx, "widgets", TypeIssue, connector.Fields{"title": "doomed"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	writer := contracttest.Open(t, Open, config(t, e, writerToken), connector.Env{})
	if err := writer.Delete(ctx, en.Ref); !errors.Is(err, connector.ErrForbidden) || !strings.Contains(err.Error(), "DeleteIssue") {
		t.Fatalf("delete without admin: %v", err)
	}
	if err := c.Delete(ctx, en.Ref); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, en.Ref); !errors.Is(err, connector.ErrNotFound) || !strings.Contains(err.Error(), "deleted") {
		t.Fatalf("Get of a deleted issue: %v", err)
	}
	if err := c.Delete(ctx, en.Ref); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestPullRequests(t *testing.T) {
	e := start(t, ghemu.Options{})
	c := open(t, e)
	e.Seed("acme/widgets", "bob", ghemu.Issue{Title: "an issue"})
	e.Seed("acme/widgets", "bob", ghemu.Issue{Title: "a pull request", Pull: true})
	all, _ := collect(t, c, time.Time{})
	if len(all) != 2 || all[0].Type != TypeIssue || all[1].Type != TypePullRequest || !strings.Contains(all[1].URL, "/pull/2") {
		t.Fatalf("changes %+v", all)
	}
}

func TestWebhooks(t *testing.T) {
	e := start(t, ghemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	type delivery struct {
		h    http.Header
		body []byte
	}
	got := make(chan delivery, 10)
	hook := newHookServer(t, func(h http.Header, b []byte) { got <- delivery{h, b} })
	const hookSecret = "whsec-0123456789"
	id, err := c.RegisterWebhook(ctx, "widgets", hook, hookSecret)
	if err != nil || !strings.HasPrefix(id, "acme/widgets:") {
		t.Fatalf("RegisterWebhook = %q, %v", id, err)
	}
	if hooks := e.Hooks("acme/widgets"); len(hooks) != 1 || strings.Join(hooks[0].Events, ",") != "issues,issue_comment" {
		t.Fatalf("hooks %+v", hooks)
	}
	next := func() delivery {
		select {
		case d := <-got:
			return d
		case <-time.After(30 * time.Second):
			t.Fatal("no delivery")
		}
		return delivery{}
	}
	parse := func(d delivery, secret string) ([]connector.Ref, error) {
		req, _ := http.NewRequest(http.MethodPost, "/hook", nil)
		req.Header = d.h
		return c.ParseWebhook(req, d.body, secret)
	}
	ping := next()
	if refs, err := parse(ping, hookSecret); err != nil || len(refs) != 0 || ping.h.Get(EventHeader) != "ping" {
		t.Fatalf("ping: %+v, %v", refs, err)
	}
	en, err := c.Create(ctx, "widgets", TypeIssue, connector.Fields{"title": "hooked"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	opened := next()
	if refs, err := parse(opened, hookSecret); err != nil || len(refs) != 1 || refs[0].ID != en.ID {
		t.Fatalf("issues delivery: %+v, %v", refs, err)
	}
	if _, err := c.AddComment(ctx, en.Ref, connector.NewComment{Body: "hi"}); err != nil {
		t.Fatal(err)
	}
	commented := next()
	if refs, err := parse(commented, hookSecret); err != nil || len(refs) != 1 || refs[0].ID != en.ID || commented.h.Get(EventHeader) != "issue_comment" {
		t.Fatalf("issue_comment delivery: %+v, %v", refs, err)
	}
	if _, err := parse(opened, "another-secret"); !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("wrong secret: %v", err)
	}
	tampered := delivery{opened.h, []byte(strings.Replace(string(opened.body), `"number":1`, `"number":9`, 1))}
	if _, err := parse(tampered, hookSecret); !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("tampered body: %v", err)
	}
	unsigned := delivery{opened.h.Clone(), opened.body}
	unsigned.h.Del(SignatureHeader)
	if _, err := parse(unsigned, hookSecret); !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("unsigned: %v", err)
	}
	if err := c.UnregisterWebhook(ctx, id); err != nil {
		t.Fatal(err)
	}
	if len(e.Hooks("acme/widgets")) != 0 {
		t.Fatal("webhook still registered")
	}
	if err := c.UnregisterWebhook(ctx, id); err != nil {
		t.Fatalf("unregistering twice: %v", err)
	}
	writer := contracttest.Open(t, Open, config(t, e, writerToken), connector.Env{})
	if _, err := writer.RegisterWebhook(ctx, "widgets", hook, hookSecret); !errors.Is(err, connector.ErrNotFound) || !strings.Contains(err.Error(), "admin") {
		t.Fatalf("register without admin: %v", err)
	}
}

func TestNotFound(t *testing.T) {
	c := open(t, start(t, ghemu.Options{}))
	ctx := context.Background()
	if _, err := c.Get(ctx, connector.Ref{ID: "acme/widgets#404"}); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("Get of a missing issue: %v", err)
	}
	if _, err := c.Schema(ctx, "nope"); !errors.Is(err, connector.ErrNotFound) || !strings.Contains(err.Error(), "acme/nope") {
		t.Fatalf("unknown repository: %v", err)
	}
	if _, err := c.Get(ctx, connector.Ref{ID: "acme/widgets#x"}); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("a bad id: %v", err)
	}
	if _, err := c.Changes(ctx, "a/b/c", time.Time{}, ""); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("a bad repository name: %v", err)
	}
	if _, err := c.Changes(ctx, "widgets", time.Time{}, "v0;garbage"); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("a bad cursor: %v", err)
	}
	noRepo := contracttest.Open(t, Open, config(t, start(t, ghemu.Options{}), adminToken, "repository", ""), connector.Env{})
	if _, err := noRepo.Changes(ctx, "", time.Time{}, ""); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("no repository: %v", err)
	}
}

func TestRepositoryRefusals(t *testing.T) {
	e := start(t, ghemu.Options{Repos: []ghemu.Repo{{Owner: "acme", Name: "widgets"}, {Owner: "acme", Name: "old", Archived: true},
		{Owner: "acme", Name: "code", NoIssues: true}}})
	c := open(t, e)
	ctx := context.Background()
	if _, err := c.Schema(ctx, "old"); !errors.Is(err, connector.ErrForbidden) || !strings.Contains(err.Error(), "archived") {
		t.Fatalf("archived: %v", err)
	}
	if _, err := c.Schema(ctx, "code"); !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), "turned off") {
		t.Fatalf("issues off: %v", err)
	}
}
