package jira

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/jira/jiraemu"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

const (
	adminToken = "cloud-api-token-0123456789"
	readToken  = "read-only-token-9876543210"
)

func users() []jiraemu.User {
	return []jiraemu.User{
		{AccountID: "5b10a2844c20165700ede21g", Name: "admin", DisplayName: "Ada Admin", Email: "ada@example.com",
			Token: adminToken, TimeZone: "Europe/Berlin"},
		{AccountID: "5b10ac8d82e05b22cc7d4ef5", Name: "bob", DisplayName: "Bob Builder", Email: "bob@example.com", HideEmail: true},
		{AccountID: "61a0b0c1d2e3f40069a1b2c3", Name: "reader", DisplayName: "Rita Reader", Email: "rita@example.com",
			Token: readToken, ReadOnly: true},
	}
}

func start(t *testing.T, o jiraemu.Options) *jiraemu.Emu {
	t.Helper()
	if o.Users == nil {
		o.Users = users()
	}
	if o.Projects == nil {
		o.Projects = []jiraemu.Project{{Key: "HELP", Name: "Help Desk"}, {Key: "ENG", Name: "Engineering"}}
	}
	e := jiraemu.Start(o)
	t.Cleanup(e.Close)
	return e
}

func config(t *testing.T, e *jiraemu.Emu, token string) connector.Config {
	cfg := connector.Config{ID: contracttest.SystemID(t), Name: "Jira", Kind: Kind, URL: e.URL(),
		Settings: map[string]any{}, Secrets: map[string]secret.Secret{}}
	if e.Cloud() {
		email := "ada@example.com"
		if token == readToken {
			email = "rita@example.com"
		}
		cfg.Settings["deployment"], cfg.Settings["email"] = Cloud, email
		cfg.Secrets["apiToken"] = secret.New(token)
	} else {
		cfg.Settings["deployment"] = Server
		cfg.Secrets["personalAccessToken"] = secret.New(token)
	}
	return cfg
}

func open(t *testing.T, e *jiraemu.Emu) *Conn {
	t.Helper()
	return contracttest.Open(t, Open, config(t, e, adminToken), connector.Env{})
}

var deployments = []string{jiraemu.Cloud, jiraemu.Server}

func TestContract(t *testing.T) {
	for _, d := range deployments {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			contracttest.RunContract(t, func(t *testing.T) (connector.Connector, string) {
				return open(t, start(t, jiraemu.Options{Deployment: d})), "HELP"
			})
		})
	}
}

func TestRegistered(t *testing.T) {
	spec, ok := connector.Lookup(Kind)
	if !ok || spec.Open == nil || spec.Test == nil {
		t.Fatalf("spec %+v", spec)
	}
	for _, name := range []string{"apiToken", "personalAccessToken"} {
		if f, ok := spec.Field(name); !ok || !f.Secret {
			t.Fatalf("%s must be a secret field", name)
		}
	}
	e := start(t, jiraemu.Options{})
	msg, err := spec.Test(context.Background(), config(t, e, adminToken))
	if err != nil || !strings.Contains(msg, "Ada Admin") || !strings.Contains(msg, "Europe/Berlin") {
		t.Fatalf("Test = %q, %v", msg, err)
	}
	if _, err := spec.Test(context.Background(), config(t, e, readToken)); !errors.Is(err, connector.ErrForbidden) || !strings.Contains(err.Error(), "CREATE_ISSUES") {
		t.Fatalf("read-only account: %v", err)
	}
}

func TestAuthFailure(t *testing.T) {
	for _, d := range deployments {
		t.Run(d, func(t *testing.T) {
			e := start(t, jiraemu.Options{Deployment: d})
			const wrong = "wrong-token-abcdefgh"
			c, err := Open(config(t, e, wrong), connector.Env{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Validate(context.Background())
			if !errors.Is(err, connector.ErrUnauthorized) || strings.Contains(err.Error(), wrong) {
				t.Fatalf("wrong token: %v", err)
			}
			if !strings.Contains(err.Error(), "not authenticated") {
				t.Fatalf("the system's message is lost: %v", err)
			}
		})
	}
	cases := []connector.Config{
		{Name: "no token", URL: "https://jira.example", Settings: map[string]any{"deployment": Cloud, "email": "a@example.com"}},
		{Name: "no email", URL: "https://jira.example", Settings: map[string]any{"deployment": Cloud}, Secrets: map[string]secret.Secret{"apiToken": secret.New("x")}},
		{Name: "no pat", URL: "https://jira.example", Settings: map[string]any{"deployment": Server}, Secrets: map[string]secret.Secret{"apiToken": secret.New("x")}},
	}
	for _, cfg := range cases {
		if _, err := Open(cfg, connector.Env{}); !errors.Is(err, connector.ErrUnauthorized) {
			t.Errorf("%s: %v", cfg.Name, err)
		}
	}
	bad := connector.Config{Name: "bad", URL: "https://jira.example", Settings: map[string]any{"deployment": "mainframe"}}
	if _, err := Open(bad, connector.Env{}); !errors.Is(err, connector.ErrInvalid) {
		t.Errorf("unknown deployment: %v", err)
	}
}

func TestFieldsRoundTrip(t *testing.T) {
	for _, d := range deployments {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			e := start(t, jiraemu.Options{Deployment: d})
			c := open(t, e)
			ctx := context.Background()
			schema, err := c.Schema(ctx, "ENG")
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"title": connector.TypeString, "description": connector.TypeText, "status": connector.TypeEnum,
				"priority": connector.TypeEnum, "assignee": connector.TypeUser, "labels": connector.TypeLabels, "dueDate": connector.TypeDate,
				"cf:Story Points": connector.TypeNumber, "cf:Severity": connector.TypeEnum, "cf:Customer": connector.TypeString,
				"cf:Root Cause": connector.TypeText, "cf:Platforms": connector.TypeLabels, "cf:Target Date": connector.TypeDate}
			for _, f := range schema.Fields {
				if typ, ok := want[f.Name]; ok && typ == f.Type {
					delete(want, f.Name)
				}
				if f.Name == "cf:Severity" && strings.Join(f.Values, ",") != "S1,S2,S3" {
					t.Errorf("severity values %v", f.Values)
				}
				if f.Name == "status" && !slices.Contains(f.Values, "In Review") {
					t.Errorf("status values %v", f.Values)
				}
			}
			if len(want) > 0 {
				t.Fatalf("schema lacks %v: %+v", want, schema.Fields)
			}
			if strings.Join(schema.EntityTypes, ",") != "Bug,Task,Story" || schema.LinkTypes[0] != "blocks" || !slices.Contains(schema.LinkTypes, "is blocked by") {
				t.Fatalf("types %v, link types %v", schema.EntityTypes, schema.LinkTypes)
			}
			if len(schema.Users) != 3 {
				t.Fatalf("users %+v", schema.Users)
			}
			bob := connector.User{Name: "Bob Builder"}
			fields := connector.Fields{
				"title": "Printer on fire", "description": "It **burns**.\n\n- smoke\n- flames",
				"status": "In Progress", "priority": "High", "assignee": bob, "labels": []string{"hardware", "urgent"},
				"dueDate": "2026-03-01", "cf:Story Points": 5.0, "cf:Severity": "S1", "cf:Customer": "ACME",
				"cf:Root Cause": "Toner *dust*", "cf:Platforms": []string{"Linux", "Windows"}, "cf:Target Date": "2026-04-01",
			}
			// Clearing, relabelling and a status two transitions away; the
			// marker label survives the relabelling.
			created, upd := contracttest.CheckRoundTrip(t, ctx, c, contracttest.RoundTrip{Project: "ENG", Type: "Bug", Fields: fields,
				Marker: connector.Marker{System: "gh", Key: "o/r#1"},
				Update: connector.Fields{"assignee": nil, "labels": []string{"triaged"}, "cf:Severity": nil, "status": "In Review", "description": ""}})
			got := created.Fields
			u, _ := got["assignee"].(connector.User)
			wantID := "5b10ac8d82e05b22cc7d4ef5"
			if d == jiraemu.Server {
				wantID = "bob"
			}
			if u.ID != wantID || u.Name != "Bob Builder" {
				t.Fatalf("assignee %+v", got["assignee"])
			}
			if d == jiraemu.Cloud && u.Email != "" {
				t.Fatalf("a hidden email leaked: %+v", u)
			}
			for k, v := range fields {
				if k == "assignee" {
					continue
				}
				if fmt.Sprint(got[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %#v, want %#v", k, got[k], v)
				}
			}
			if created.Type != "Bug" || !strings.HasPrefix(created.Key, "ENG-") || created.URL != e.URL()+"/browse/"+created.Key {
				t.Fatalf("created %+v", created)
			}
			if fmt.Sprint(upd.Fields["labels"]) != "[triaged]" || upd.Fields["status"] != "In Review" || upd.Fields["description"] != nil {
				t.Fatalf("updated %+v", upd.Fields)
			}
			if _, err := c.Update(ctx, created.Ref, connector.Fields{"cf:Severity": "S9"}, ""); !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), connector.Digest("S9")) || strings.Contains(err.Error(), "S9") {
				t.Fatalf("bad option: %v", err)
			}
			if _, err := c.Update(ctx, created.Ref, connector.Fields{"assignee": connector.User{Email: "nobody@example.com"}}, ""); !errors.Is(err, connector.ErrInvalid) {
				t.Fatalf("unknown user: %v", err)
			}
		})
	}
}

func TestMissingTransition(t *testing.T) {
	for _, d := range deployments {
		t.Run(d, func(t *testing.T) {
			c := open(t, start(t, jiraemu.Options{Deployment: d}))
			ctx := context.Background()
			e, err := c.Create(ctx, "HELP", "Task", connector.Fields{"title": "Needs review first"}, connector.Marker{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Update(ctx, e.Ref, connector.Fields{"status": "Done"}, "")
			if !errors.Is(err, connector.ErrInvalid) {
				t.Fatalf("To Do -> Done: %v, want ErrInvalid", err)
			}
			for _, want := range []string{`"To Do"`, connector.Digest("Done"), "reachable", "In Progress"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %s", err, want)
				}
			}
			got, err := c.Get(ctx, e.Ref)
			if err != nil || got.Fields["status"] != "To Do" {
				t.Fatalf("status after the refused move: %v, %v", got.Fields["status"], err)
			}
		})
	}
}

func TestChangesPaging(t *testing.T) {
	for _, d := range deployments {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
			e := start(t, jiraemu.Options{Deployment: d, MaxResults: 3, Now: clk.Now})
			c := open(t, e)
			ctx := context.Background()
			var ids []string
			for i := range 10 {
				// Two issues per minute, so pages end inside a minute.
				clk.Add(30 * time.Second)
				en, err := c.Create(ctx, "HELP", "Task", connector.Fields{"title": fmt.Sprintf("issue %d", i)}, connector.Marker{})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, en.ID)
			}
			other, err := c.Create(ctx, "ENG", "Task", connector.Fields{"title": "other project"}, connector.Marker{})
			if err != nil {
				t.Fatal(err)
			}
			// From the 7th issue's time: the minute overlap may repeat
			// earlier ones, never miss later ones.
			contracttest.CheckPaging(t, ctx, c, contracttest.Paging{Project: "HELP", Made: ids, Elsewhere: other.ID, MinPages: 4, From: 6, NotBefore: 1})
		})
	}
}

// TestChangesServerShift: an issue updated while a Server search is being
// paged moves to the end, shifting startAt; no other issue may be lost.
func TestChangesServerShift(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	e := start(t, jiraemu.Options{Deployment: jiraemu.Server, MaxResults: 3, Now: clk.Now})
	c := open(t, e)
	ctx := context.Background()
	var keys []string
	for i := range 9 {
		clk.Add(time.Minute)
		en, err := c.Create(ctx, "HELP", "Task", connector.Fields{"title": fmt.Sprintf("issue %d", i)}, connector.Marker{})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, en.Key)
	}
	page, err := c.Changes(ctx, "HELP", time.Time{}, "")
	if err != nil || len(page.Entities) != 3 {
		t.Fatalf("first page %+v, %v", page, err)
	}
	clk.Add(time.Minute)
	if _, err := c.Update(ctx, connector.Ref{Key: keys[0]}, connector.Fields{"title": "moved"}, ""); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, en := range page.Entities {
		seen[en.Key] = true
	}
	for cursor := page.Cursor; cursor != ""; {
		p, err := c.Changes(ctx, "HELP", time.Time{}, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range p.Entities {
			seen[en.Key] = true
		}
		cursor = p.Cursor
	}
	for _, k := range keys {
		if !seen[k] {
			t.Fatalf("%s lost while paging: saw %v", k, seen)
		}
	}
}

func TestRateLimit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		o      jiraemu.Options
		reason string
	}{
		{"burst", jiraemu.Options{Burst: 2}, "jira-burst-based"},
		{"per-issue writes", jiraemu.Options{IssueWrites: 2}, "jira-per-issue-on-write"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, tc.o)
			c := open(t, e)
			ctx := context.Background()
			var en connector.Entity
			var err error
			for range 3 { // the first creates pass the burst budget per endpoint
				if en, err = c.Create(ctx, "HELP", "Task", connector.Fields{"title": "busy"}, connector.Marker{}); err == nil {
					break
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if _, err := c.AddComment(ctx, en.Ref, connector.NewComment{Body: fmt.Sprintf("comment %d", i)}); err != nil {
					t.Fatalf("comment %d: %v", i, err)
				}
			}
			st := e.Stats()
			if st.RateLimited == 0 || c.HTTPStats().RateLimited == 0 {
				t.Fatalf("no 429 was answered: %+v, %+v", st, c.HTTPStats())
			}
			if st.EarlyRetries != 0 {
				t.Fatalf("the connector retried before Retry-After elapsed: %+v", st)
			}
			list, err := c.Comments(ctx, en.Ref)
			if err != nil || len(list) != 3 {
				t.Fatalf("comments %+v, %v", list, err)
			}
		})
	}
}

func TestCommentsAndConversion(t *testing.T) {
	for _, d := range deployments {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			c := open(t, start(t, jiraemu.Options{Deployment: d, MaxResults: 2}))
			ctx := context.Background()
			en, err := c.Create(ctx, "HELP", "Task", connector.Fields{"title": "talk"}, connector.Marker{})
			if err != nil {
				t.Fatal(err)
			}
			marker := "lockstep:a:42"
			body := "**Ann** wrote in X-1:\n\nSee `cfg` and [docs](https://docs.example)."
			added, err := c.AddComment(ctx, en.Ref, connector.NewComment{Body: body, Marker: marker})
			if err != nil {
				t.Fatal(err)
			}
			if added.Body != body || added.Marker != marker {
				t.Fatalf("added body %q marker %q, want %q and %q", added.Body, added.Marker, body, marker)
			}
			for i := range 4 {
				if _, err := c.AddComment(ctx, en.Ref, connector.NewComment{Body: fmt.Sprintf("reply %d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			list, err := c.Comments(ctx, en.Ref)
			if err != nil || len(list) != 5 {
				t.Fatalf("comments across pages: %d, %v", len(list), err)
			}
			if list[0].Body != body || list[0].Marker != marker || list[0].Author.Name != "Ada Admin" || list[4].Body != "reply 3" || list[4].Marker != "" {
				t.Fatalf("comments %+v", list)
			}
		})
	}
}

func TestAttachmentsAndLinks(t *testing.T) {
	for _, d := range deployments {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			c := open(t, start(t, jiraemu.Options{Deployment: d}))
			ctx := context.Background()
			a, err := c.Create(ctx, "HELP", "Task", connector.Fields{"title": "a"}, connector.Marker{System: "s", Key: "A-1", URL: "https://src.example/A-1"})
			if err != nil {
				t.Fatal(err)
			}
			b, err := c.Create(ctx, "HELP", "Task", connector.Fields{"title": "b"}, connector.Marker{})
			if err != nil {
				t.Fatal(err)
			}
			// An upload that cannot seek, of unknown size.
			content := strings.Repeat("log line\n", 1000)
			att, err := c.Upload(ctx, a.Ref, `crash "1".log`, "text/plain", -1, io.MultiReader(strings.NewReader(content)))
			if err != nil || att.Size != int64(len(content)) || att.Name != `crash "1".log` {
				t.Fatalf("Upload = %+v, %v", att, err)
			}
			rc, err := c.Download(ctx, a.Ref, att)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if string(got) != content {
				t.Fatalf("downloaded %d bytes", len(got))
			}
			// Direction: a "is blocked by" b reads as b "blocks" a.
			if err := c.AddLink(ctx, a.Ref, connector.Link{Type: "is blocked by", Target: b.Ref}); err != nil {
				t.Fatal(err)
			}
			if err := c.AddLink(ctx, a.Ref, connector.Link{Type: RemoteLinkType, URL: "https://wiki.example/page", Target: connector.Ref{Key: "Runbook"}}); err != nil {
				t.Fatal(err)
			}
			la, err := c.Links(ctx, a.Ref)
			if err != nil {
				t.Fatal(err)
			}
			lb, err := c.Links(ctx, b.Ref)
			if err != nil {
				t.Fatal(err)
			}
			if len(la) != 2 || la[0].Type != "is blocked by" || la[0].Target.ID != b.ID || la[1].URL != "https://wiki.example/page" || la[1].Target.Key != "Runbook" {
				t.Fatalf("links of a (the marker's remote link must not show): %+v", la)
			}
			if len(lb) != 1 || lb[0].Type != "blocks" || lb[0].Target.ID != a.ID {
				t.Fatalf("links of b %+v", lb)
			}
			if err := c.RemoveLink(ctx, a.Ref, la[1]); err != nil {
				t.Fatal(err)
			}
			if err := c.RemoveLink(ctx, b.Ref, lb[0]); err != nil {
				t.Fatal(err)
			}
			if la, err = c.Links(ctx, a.Ref); err != nil || len(la) != 0 {
				t.Fatalf("links after removal %+v, %v", la, err)
			}
			if err := c.RemoveLink(ctx, b.Ref, lb[0]); err != nil {
				t.Fatalf("removing a link already gone: %v", err)
			}
			if err := c.AddLink(ctx, a.Ref, connector.Link{Type: "haunts", Target: b.Ref}); !errors.Is(err, connector.ErrInvalid) {
				t.Fatalf("unknown link type: %v", err)
			}
		})
	}
}

func TestWebhooks(t *testing.T) {
	for _, d := range deployments {
		t.Run(d, func(t *testing.T) {
			e := start(t, jiraemu.Options{Deployment: d})
			c := open(t, e)
			ctx := context.Background()
			type delivery struct {
				h    http.Header
				body []byte
			}
			got := make(chan delivery, 10)
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got <- delivery{r.Header.Clone(), b}
			}))
			t.Cleanup(hook.Close)
			const hookSecret = "whsec-0123456789"
			id, err := c.RegisterWebhook(ctx, "HELP", hook.URL, hookSecret)
			if err != nil || id == "" {
				t.Fatalf("RegisterWebhook = %q, %v", id, err)
			}
			en, err := c.Create(ctx, "HELP", "Task", connector.Fields{"title": "hooked"}, connector.Marker{})
			if err != nil {
				t.Fatal(err)
			}
			var dl delivery
			select {
			case dl = <-got:
			case <-time.After(30 * time.Second):
				t.Fatal("no delivery")
			}
			req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(dl.body))
			req.Header = dl.h
			refs, err := c.ParseWebhook(req, dl.body, hookSecret)
			if err != nil || len(refs) != 1 || refs[0].ID != en.ID || refs[0].Key != en.Key {
				t.Fatalf("ParseWebhook = %+v, %v", refs, err)
			}
			if _, err := c.ParseWebhook(req, dl.body, "another-secret"); !errors.Is(err, connector.ErrUnauthorized) {
				t.Fatalf("wrong secret: %v", err)
			}
			tampered := bytes.Replace(dl.body, []byte(en.Key), []byte("HELP-999"), 1)
			if _, err := c.ParseWebhook(req, tampered, hookSecret); !errors.Is(err, connector.ErrUnauthorized) {
				t.Fatalf("tampered body: %v", err)
			}
			req.Header.Del(SignatureHeader)
			if _, err := c.ParseWebhook(req, dl.body, hookSecret); !errors.Is(err, connector.ErrUnauthorized) {
				t.Fatalf("unsigned: %v", err)
			}
			// An event about no issue is fine and names none.
			body := []byte(`{"webhookEvent":"project_updated","timestamp":1}`)
			req.Header.Set(SignatureHeader, jiraemu.Sign(body, hookSecret))
			if refs, err := c.ParseWebhook(req, body, hookSecret); err != nil || len(refs) != 0 {
				t.Fatalf("project event: %+v, %v", refs, err)
			}
			if err := c.UnregisterWebhook(ctx, id); err != nil {
				t.Fatal(err)
			}
			if len(e.Webhooks()) != 0 {
				t.Fatal("webhook still registered")
			}
			if err := c.UnregisterWebhook(ctx, id); err != nil {
				t.Fatalf("unregistering twice: %v", err)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	c := open(t, start(t, jiraemu.Options{}))
	_, err := c.Get(context.Background(), connector.Ref{Key: "HELP-404"})
	if !errors.Is(err, connector.ErrNotFound) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Get of a missing issue: %v", err)
	}
	if _, err := c.Schema(context.Background(), "NOPE"); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("unknown project: %v", err)
	}
	if _, err := c.Changes(context.Background(), "", time.Time{}, ""); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("no project: %v", err)
	}
}
