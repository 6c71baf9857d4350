package gitlab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/gitlab/gitlabemu"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

const (
	adminToken   = "glpat-ada-0123456789abcdef"
	readToken    = "glpat-rita-read-only-9876"
	expiredToken = "glpat-carl-expired-5555"
	helpdesk     = 42
	engineering  = 43
)

func users() []gitlabemu.User {
	return []gitlabemu.User{
		{ID: 1, Username: "ada", Name: "Ada Admin", Email: "ada@example.com", Token: adminToken},
		{ID: 2, Username: "bob", Name: "Bob Builder", Email: "bob@example.com"},
		{ID: 3, Username: "rita", Name: "Rita Reader", Email: "rita@example.com", Token: readToken, Scopes: []string{"read_api"}},
		{ID: 4, Username: "eve", Name: "Eve Outsider", Email: "eve@example.com"},
		{ID: 5, Username: "carl", Name: "Carl Lapsed", Token: expiredToken, Expired: true},
	}
}

func projects() []gitlabemu.Project {
	return []gitlabemu.Project{
		{ID: helpdesk, Path: "acme/helpdesk", Name: "Helpdesk", Milestones: []string{"v1.0", "v2.0"}, Labels: []string{"bug"},
			Members: map[string]int{"ada": gitlabemu.Owner, "bob": gitlabemu.Developer, "rita": gitlabemu.Reporter}},
		{ID: engineering, Path: "acme/platform/engineering", Name: "Engineering",
			Members: map[string]int{"ada": gitlabemu.Maintainer, "bob": gitlabemu.Developer}},
	}
}

func start(t testing.TB, o gitlabemu.Options) *gitlabemu.Emu {
	t.Helper()
	if o.Users == nil {
		o.Users = users()
	}
	if o.Projects == nil {
		o.Projects = projects()
	}
	e := gitlabemu.Start(o)
	t.Cleanup(e.Close)
	return e
}

func config(t testing.TB, e *gitlabemu.Emu, token string) connector.Config {
	return connector.Config{ID: contracttest.SystemID(t), Name: "GitLab", Kind: Kind, URL: e.URL(),
		Settings: map[string]any{}, Secrets: map[string]secret.Secret{"token": secret.New(token)}}
}

func open(t *testing.T, e *gitlabemu.Emu) *Conn {
	t.Helper()
	return contracttest.Open(t, Open, config(t, e, adminToken), connector.Env{})
}

var tiers = []struct {
	name    string
	premium bool
}{{"free", false}, {"premium", true}}

func TestContract(t *testing.T) {
	for _, tier := range tiers {
		t.Run(tier.name, func(t *testing.T) {
			t.Parallel()
			contracttest.RunContract(t, func(t *testing.T) (connector.Connector, string) {
				return open(t, start(t, gitlabemu.Options{Premium: tier.premium})), "acme/helpdesk"
			})
		})
	}
}

func TestRegistered(t *testing.T) {
	spec, ok := connector.Lookup(Kind)
	if !ok || spec.Open == nil || spec.Test == nil || spec.Title != "GitLab" {
		t.Fatalf("spec %+v", spec)
	}
	if f, ok := spec.Field("token"); !ok || !f.Secret || !f.Required {
		t.Fatalf("token must be a required secret field: %+v", f)
	}
	for _, name := range []string{"project", "allowSelfSigned", "requestsPerMinute"} {
		if _, ok := spec.Field(name); !ok {
			t.Errorf("no %s setting", name)
		}
	}
	e := start(t, gitlabemu.Options{})
	msg, err := spec.Test(context.Background(), config(t, e, adminToken))
	if err != nil || !strings.Contains(msg, "@ada") || !strings.Contains(msg, "17.5.0") {
		t.Fatalf("Test = %q, %v", msg, err)
	}
	old := start(t, gitlabemu.Options{Version: "16.11.3-ee"})
	if msg, err := spec.Test(context.Background(), config(t, old, adminToken)); err != nil || !strings.Contains(msg, "17.4 or later") {
		t.Fatalf("an old GitLab is not named as such: %q, %v", msg, err)
	}
}

func TestAuthFailures(t *testing.T) {
	e := start(t, gitlabemu.Options{})
	ctx := context.Background()
	const wrong = "glpat-wrong-abcdefghijkl"
	for _, tc := range []struct {
		token, says string
		kind        error
	}{
		{wrong, "401 Unauthorized", connector.ErrUnauthorized},
		{expiredToken, "Token has expired", connector.ErrUnauthorized},
		{readToken, "needs the api scope", connector.ErrForbidden},
	} {
		c := contracttest.Open(t, Open, config(t, e, tc.token), connector.Env{})
		_, err := c.Validate(ctx)
		if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), tc.token) {
			t.Errorf("token %s: %v, want %v saying %q", tc.token, err, tc.kind, tc.says)
		}
	}
	// A read_api token reads, and its writes are refused with GitLab's
	// insufficient_scope.
	rc := contracttest.Open(t, Open, config(t, e, readToken), connector.Env{})
	if _, err := rc.Changes(ctx, "acme/helpdesk", time.Time{}, ""); err != nil {
		t.Fatalf("read with read_api: %v", err)
	}
	_, err := rc.Create(ctx, "acme/helpdesk", "issue", connector.Fields{"title": "nope"}, connector.Marker{})
	if !errors.Is(err, connector.ErrForbidden) || !strings.Contains(err.Error(), "insufficient_scope") {
		t.Fatalf("write with read_api: %v", err)
	}
	// Not a member: the project does not exist for this token.
	if _, err := open(t, e).Schema(ctx, "acme/secret"); !errors.Is(err, connector.ErrNotFound) || !strings.Contains(err.Error(), "Project Not Found") {
		t.Fatalf("unknown project: %v", err)
	}
	if _, err := Open(connector.Config{Name: "no token", URL: e.URL()}, connector.Env{}); !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("no token: %v", err)
	}
}

// TestProjectByPathOrID: a project is named by its numeric id or its path
// (sent URL-encoded, slashes and all), and the system's default serves a
// call that names none.
func TestProjectByPathOrID(t *testing.T) {
	e := start(t, gitlabemu.Options{})
	cfg := config(t, e, adminToken)
	cfg.Settings["project"] = "acme/platform/engineering"
	c := contracttest.Open(t, Open, cfg, connector.Env{})
	ctx := context.Background()
	made, err := c.Create(ctx, "", "issue", connector.Fields{"title": "by default"}, connector.Marker{})
	if err != nil || made.ID != "43:1" || made.Key != "acme/platform/engineering#1" {
		t.Fatalf("create in the default project: %+v, %v", made, err)
	}
	for _, project := range []string{"43", "acme/platform/engineering"} {
		page, err := c.Changes(ctx, project, time.Time{}, "")
		if err != nil || len(page.Entities) != 1 || page.Entities[0].ID != made.ID {
			t.Fatalf("changes of %s: %+v, %v", project, page, err)
		}
	}
	got, err := c.Get(ctx, connector.Ref{Key: made.Key})
	if err != nil || got.ID != made.ID {
		t.Fatalf("get by key: %+v, %v", got, err)
	}
	for _, bad := range []connector.Ref{{ID: "43"}, {ID: "x:1"}, {ID: "43:0"}} {
		if _, err := c.Get(ctx, bad); !errors.Is(err, connector.ErrNotFound) {
			t.Errorf("Get(%+v): %v, want ErrNotFound (no issue has that id)", bad, err)
		}
	}
	if _, err := c.Get(ctx, connector.Ref{Key: "no-hash"}); !errors.Is(err, connector.ErrInvalid) {
		t.Errorf("Get of a key that is no reference: %v, want ErrInvalid", err)
	}
}

func TestFieldsRoundTrip(t *testing.T) {
	for _, tier := range tiers {
		t.Run(tier.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, gitlabemu.Options{Premium: tier.premium})
			c := open(t, e)
			ctx := context.Background()
			if _, err := e.CreateIssue(helpdesk, "bob", map[string]any{"title": "first, so the tier shows"}); err != nil {
				t.Fatal(err)
			}
			schema, err := c.Schema(ctx, "acme/helpdesk")
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"title": connector.TypeString, "description": connector.TypeText, "status": connector.TypeEnum,
				"labels": connector.TypeLabels, "assignee": connector.TypeUser, "assignees": connector.TypeLabels,
				"milestone": connector.TypeEnum, "dueDate": connector.TypeDate, "confidential": connector.TypeBool}
			if tier.premium {
				want["weight"] = connector.TypeNumber
			}
			for _, f := range schema.Fields {
				if want[f.Name] != f.Type {
					t.Errorf("field %s is %s, want %q", f.Name, f.Type, want[f.Name])
				}
				delete(want, f.Name)
				if f.Name == "milestone" && strings.Join(f.Values, ",") != "v1.0,v2.0" {
					t.Errorf("milestones %v", f.Values)
				}
			}
			if len(want) > 0 {
				t.Fatalf("schema lacks %v", want)
			}
			wantLinks := "relates_to"
			if tier.premium {
				wantLinks = "relates_to,blocks,is_blocked_by"
			}
			if strings.Join(schema.LinkTypes, ",") != wantLinks || strings.Join(schema.EntityTypes, ",") != "issue,incident" {
				t.Fatalf("link types %v, types %v", schema.LinkTypes, schema.EntityTypes)
			}
			if len(schema.Users) != 3 || !slices.Contains(schema.Extra["labels"], any("bug")) {
				t.Fatalf("users %+v, labels %v", schema.Users, schema.Extra["labels"])
			}
			fields := connector.Fields{
				"title": "Printer on fire", "description": "It **burns**.\n\n- smoke\n- flames",
				"status": "closed", "labels": []string{"hardware", "urgent"}, "assignee": connector.User{Name: "Bob Builder"},
				"milestone": "v2.0", "dueDate": "2026-03-01", "confidential": true,
			}
			if tier.premium {
				fields["weight"] = 3.0
			}
			// Clearing, relabelling and reopening in one edit.
			made, upd := contracttest.CheckRoundTrip(t, ctx, c, contracttest.RoundTrip{Project: "acme/helpdesk", Type: "incident", Fields: fields,
				Marker: connector.Marker{System: "o1234567890ab", Key: "HELP-7"},
				Update: connector.Fields{"assignee": nil, "labels": []string{"triaged"}, "milestone": nil, "status": "opened", "description": "", "dueDate": nil}})
			if made.Type != "incident" || made.Marker != "lockstep:o1234567890ab:HELP-7" || !strings.HasSuffix(made.URL, "/acme/helpdesk/-/issues/2") {
				t.Fatalf("created %+v", made)
			}
			got := made.Fields
			if u, _ := got["assignee"].(connector.User); u.ID != "bob" || u.Name != "Bob Builder" {
				t.Fatalf("assignee %+v", got["assignee"])
			}
			for k, v := range fields {
				if k != "assignee" && fmt.Sprint(got[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %#v, want %#v", k, got[k], v)
				}
			}
			if fmt.Sprint(got["assignees"]) != "[bob]" {
				t.Errorf("assignees %v", got["assignees"])
			}
			f := upd.Fields
			if fmt.Sprint(f["labels"]) != "[triaged]" || f["status"] != "opened" || f["description"] != nil || upd.Marker != made.Marker {
				t.Fatalf("updated %+v (marker %q)", f, upd.Marker)
			}
			for _, bad := range []connector.Fields{
				{"milestone": "v9"}, {"assignee": connector.User{Name: "Eve Outsider"}},
				{"status": "resolved"}, {"labels": []string{"a,b"}}, {"title": ""}, {"dueDate": "tomorrow"},
			} {
				if _, err := c.Update(ctx, made.Ref, bad, ""); !errors.Is(err, connector.ErrInvalid) {
					t.Errorf("Update(%v): %v, want ErrInvalid", bad, err)
				}
			}
			_, err = c.Update(ctx, made.Ref, connector.Fields{"weight": 2.0}, "")
			if tier.premium && err != nil || !tier.premium && (!errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), "Premium")) {
				t.Fatalf("weight on %s: %v", tier.name, err)
			}
		})
	}
}

func TestStaleVersion(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	e := start(t, gitlabemu.Options{Now: clk.Now})
	c := open(t, e)
	ctx := context.Background()
	made, err := c.Create(ctx, "42", "issue", connector.Fields{"title": "v1"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	// Bob's edit comes within the same millisecond: updated_at, which
	// GitLab shows to the millisecond, does not move, the version does.
	if err := e.EditIssue(helpdesk, 1, "bob", map[string]any{"title": "bob's"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Update(ctx, made.Ref, connector.Fields{"title": "v2"}, made.Version); !errors.Is(err, connector.ErrConflict) {
		t.Fatalf("stale version: %v", err)
	}
	got, _ := c.Get(ctx, made.Ref)
	if got.Title != "bob's" || !got.UpdatedAt.Equal(made.UpdatedAt) {
		t.Fatalf("a stale write went through (%q), or the clock moved (%v)", got.Title, got.UpdatedAt)
	}
}

// TestErrorsQuoteNoValues: a refused write names the field and the value's
// digest, never the value (errors are stored and logged; the privacy
// statement allows ids, keys and titles only).
func TestErrorsQuoteNoValues(t *testing.T) {
	c := open(t, start(t, gitlabemu.Options{Premium: true}))
	ctx := context.Background()
	made, err := c.Create(ctx, "acme/helpdesk", "issue", connector.Fields{"title": "t"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	const canary = "CANARY-9f3e"
	for _, f := range []connector.Fields{
		{"status": "closed " + canary}, {"labels": []string{"a," + canary}}, {"milestone": canary},
		{"assignee": connector.User{Email: canary + "@example.com", Name: canary}}, {"dueDate": canary}, {"weight": canary},
	} {
		_, err := c.Update(ctx, made.Ref, f, "")
		if !errors.Is(err, connector.ErrInvalid) || strings.Contains(err.Error(), canary) || !strings.Contains(err.Error(), "sha256:") {
			t.Errorf("Update(%v): %v, want ErrInvalid naming a digest, not the value", f, err)
		}
	}
}
