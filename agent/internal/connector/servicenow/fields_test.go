package servicenow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/servicenow/snemu"
)

func fieldTypes(s connector.Schema) map[string]connector.FieldSchema {
	out := map[string]connector.FieldSchema{}
	for _, f := range s.Fields {
		out[f.Name] = f
	}
	return out
}

func TestSchemaPerTable(t *testing.T) {
	e := start(t, snemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	inc, err := c.Schema(ctx, "incident")
	if err != nil {
		t.Fatal(err)
	}
	f := fieldTypes(inc)
	want := map[string]string{"title": connector.TypeString, "description": connector.TypeText, "status": connector.TypeEnum,
		"priority": connector.TypeEnum, "assignee": connector.TypeUser, "impact": connector.TypeEnum, "urgency": connector.TypeEnum,
		"assignment_group": connector.TypeString, "caller_id": connector.TypeUser, "category": connector.TypeEnum,
		"due_date": connector.TypeDateTime, "active": connector.TypeBool, "close_notes": connector.TypeText, "close_code": connector.TypeEnum,
		"reassignment_count": connector.TypeNumber, "opened_at": connector.TypeDateTime, "opened_by": connector.TypeUser}
	for name, typ := range want {
		if f[name].Type != typ {
			t.Errorf("incident field %s is %q, want %q", name, f[name].Type, typ)
		}
	}
	for _, hidden := range []string{"correlation_id", "correlation_display", "comments", "work_notes", "number", "sys_updated_on", "parent", "problem_id"} {
		if _, ok := f[hidden]; ok {
			t.Errorf("incident lists %s as a field", hidden)
		}
	}
	if got := strings.Join(f["status"].Values, ","); got != "New,In Progress,On Hold,Resolved,Closed,Canceled" {
		t.Errorf("incident states %s", got)
	}
	if !f["reassignment_count"].ReadOnly {
		t.Error("reassignment_count is read-only in the dictionary")
	}
	if !slices.Equal(inc.EntityTypes, []string{"incident"}) || !slices.Equal(inc.LinkTypes, []string{"parent", "parent_incident", "problem_id"}) {
		t.Fatalf("types %v, link types %v", inc.EntityTypes, inc.LinkTypes)
	}
	// Each table has its own choice lists; sc_task has none of its own
	// for state and shows task's.
	prb, err := c.Schema(ctx, "problem")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fieldTypes(prb)["status"].Values, ","); got != "New,Assess,Root Cause Analysis,Fix in Progress,Resolved,Closed" {
		t.Errorf("problem states %s", got)
	}
	if fieldTypes(prb)["cause_notes"].Type != connector.TypeText {
		t.Errorf("problem cause_notes (HTML) is %+v", fieldTypes(prb)["cause_notes"])
	}
	sct, err := c.Schema(ctx, "sc_task")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fieldTypes(sct)["status"].Values, ","); got != "Pending,Open,Work in Progress,Closed Complete,Closed Incomplete,Closed Skipped" {
		t.Errorf("sc_task states (inherited from task) %s", got)
	}
	// A choice an administrator adds shows once the dictionary is read again.
	e.AddChoice("incident", "category", "security", "Security")
	c2 := open(t, e)
	inc2, err := c2.Schema(ctx, "incident")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(fieldTypes(inc2)["category"].Values, "Security") {
		t.Errorf("added choice missing: %v", fieldTypes(inc2)["category"].Values)
	}
}

func TestFieldsRoundTrip(t *testing.T) {
	e := start(t, snemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	fields := connector.Fields{
		"title":            "Email server down\nsince 9:00",
		"description":      "Users cannot send mail.\n\n- Outlook\n- phones",
		"status":           "In Progress",
		"impact":           "1 - High",
		"urgency":          "2 - Medium",
		"assignee":         connector.User{Email: "BETH.ANGLIN@example.com"},
		"caller_id":        connector.User{Name: "Abel Tuter"},
		"assignment_group": "Network",
		"category":         "network",
		"due_date":         "2026-03-01T17:30:00+01:00",
	}
	beth := e.UserID("beth.anglin")
	// What the instance stored, before the update clears it.
	stored := func(created connector.Entity) {
		rec := e.Record(strings.TrimPrefix(created.ID, "incident:"))
		if rec["assigned_to"] != beth || rec["state"] != "2" || rec["assignment_group"] != e.GroupID("Network") || rec["due_date"] != "2026-03-01 16:30:00" {
			t.Fatalf("stored %v", rec)
		}
		if rec["correlation_id"] != "lockstep:osrc:HELP-7" || rec["correlation_display"] != "HELP-7" || created.Marker != "lockstep:osrc:HELP-7" {
			t.Fatalf("marker fields %q %q, entity marker %q", rec["correlation_id"], rec["correlation_display"], created.Marker)
		}
	}
	created, upd := contracttest.CheckRoundTrip(t, ctx, c, contracttest.RoundTrip{Project: "incident", Type: "incident", Fields: fields,
		Marker: connector.Marker{System: "osrc", Key: "HELP-7"}, Created: stored,
		Update: connector.Fields{"assignee": nil, "assignment_group": nil, "due_date": nil, "description": ""}})
	got := created.Fields
	if created.Title != "Email server down since 9:00" || !strings.HasPrefix(created.Key, "INC") || created.Type != "incident" {
		t.Fatalf("created %+v", created)
	}
	checks := map[string]any{"status": "In Progress", "impact": "1 - High", "urgency": "2 - Medium", "priority": "2 - High",
		"assignment_group": "Network", "category": "Network", "due_date": "2026-03-01T16:30:00Z", "description": fields["description"]}
	for k, v := range checks {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if u, _ := got["assignee"].(connector.User); u.ID != beth || u.Name != "Beth Anglin" || u.Email != "beth.anglin@example.com" {
		t.Errorf("assignee %+v", got["assignee"])
	}
	if upd.Fields["description"] != nil {
		t.Errorf("description not cleared: %#v", upd.Fields["description"])
	}
	if upd.Version != "1" || created.Version != "0" {
		t.Fatalf("versions %s -> %s", created.Version, upd.Version)
	}
}

func TestWritesRefusedBeforeTheyReachTheInstance(t *testing.T) {
	e := start(t, snemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	created, err := c.Create(ctx, "incident", "incident", connector.Fields{"title": "x"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	before := e.Stats().Requests
	for _, tc := range []struct {
		fields connector.Fields
		want   string
	}{
		// The API would store any choice value; the connector checks.
		{connector.Fields{"status": "Exploded"}, "value " + connector.Digest("Exploded") + " is not one of its choices (New, In Progress"},
		{connector.Fields{"nonsense": 1}, `"nonsense" is not a field`},
		{connector.Fields{"reassignment_count": 3.0}, "read-only"},
		{connector.Fields{"impact": 2.0}, "must be one of its choices"},
		{connector.Fields{"due_date": "next tuesday"}, "not a date and time"},
		{connector.Fields{"active": "maybe"}, "true or false"},
	} {
		_, err := c.Update(ctx, created.Ref, tc.fields, "")
		if !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.fields, err, tc.want)
		}
	}
	if n := e.Stats().Requests - before; n != 0 {
		t.Fatalf("refused writes sent %d requests", n)
	}
	for _, tc := range []struct {
		fields connector.Fields
		want   string
	}{
		{connector.Fields{"assignee": connector.User{Email: "nobody@example.com"}}, "no ServiceNow user matches"},
		{connector.Fields{"assignment_group": "Nonexistent team"}, "no sys_user_group record has the name " + connector.Digest("Nonexistent team")},
	} {
		if _, err := c.Update(ctx, created.Ref, tc.fields, ""); !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.fields, err, tc.want)
		}
	}
}

func TestDerivedAndPolicedValues(t *testing.T) {
	e := start(t, snemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	created, err := c.Create(ctx, "incident", "incident", connector.Fields{"title": "Printer jam"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	// An incident's priority follows impact and urgency (a data lookup):
	// the write is applied, then reported as not kept.
	_, err = c.Update(ctx, created.Ref, connector.Fields{"priority": "1 - Critical"}, "")
	if !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), `priority: wrote "1 - Critical" (1), it holds "5 - Planning" (5)`) {
		t.Fatalf("derived priority: %v", err)
	}
	// Resolving needs a resolution code and notes (a data policy): a 403
	// that is a rejected value, not a missing permission.
	_, err = c.Update(ctx, created.Ref, connector.Fields{"status": "Resolved"}, "")
	if !errors.Is(err, connector.ErrInvalid) || errors.Is(err, connector.ErrForbidden) || !strings.Contains(err.Error(), "Data Policy Exception") {
		t.Fatalf("data policy: %v", err)
	}
	upd, err := c.Update(ctx, created.Ref, connector.Fields{"status": "Resolved", "close_code": "Solution provided", "close_notes": "Cleared the jam."}, "")
	if err != nil || upd.Fields["status"] != "Resolved" {
		t.Fatalf("resolve with the policy's fields: %+v, %v", upd.Fields, err)
	}
}

func TestStaleVersion(t *testing.T) {
	e := start(t, snemu.Options{})
	// A person edits the record while the connector writes: between its
	// version check and its write.
	var sneak atomic.Pointer[string]
	env := connector.Env{HTTP: &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		if id := sneak.Load(); id != nil && r.Method == http.MethodPatch {
			sneak.Store(nil)
			if err := e.Update(*id, "beth.anglin", map[string]string{"urgency": "1"}); err != nil {
				t.Error(err)
			}
		}
		return http.DefaultTransport.RoundTrip(r)
	})}}
	c := contractOpen(t, e, env)
	ctx := context.Background()
	created, err := c.Create(ctx, "incident", "", connector.Fields{"title": "Slow VPN"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	upd, err := c.Update(ctx, created.Ref, connector.Fields{"title": "Slow VPN in Berlin"}, created.Version)
	if err != nil {
		t.Fatal(err)
	}
	// A stale version itself is the contract's (contracttest); ServiceNow's
	// own case is a change between the connector's check and its write.
	id := strings.TrimPrefix(created.ID, "incident:")
	sneak.Store(&id)
	_, err = c.Update(ctx, created.Ref, connector.Fields{"title": "Slow VPN in Berlin and Rome"}, upd.Version)
	if !errors.Is(err, connector.ErrConflict) || !strings.Contains(err.Error(), "between the check") {
		t.Fatalf("a change between check and write: %v", err)
	}
	// Reading again shows both changes: nothing was lost unseen.
	got, err := c.Get(ctx, created.Ref)
	if err != nil || got.Title != "Slow VPN in Berlin and Rome" || got.Fields["urgency"] != "1 - High" {
		t.Fatalf("after the conflict: %+v, %v", got.Fields, err)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func contractOpen(t testing.TB, e *snemu.Emu, env connector.Env, settings ...any) *Conn {
	t.Helper()
	c, err := Open(config(t, e, settings...), env)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDelete(t *testing.T) {
	e := start(t, snemu.Options{})
	ctx := context.Background()
	c := open(t, e)
	created, err := c.Create(ctx, "incident", "", connector.Fields{"title": "Delete me"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, created.Ref); !errors.Is(err, connector.ErrForbidden) {
		t.Fatalf("an itil account deletes an incident: %v", err)
	}
	cfg := config(t, e, "username", "admin")
	cfg.Secrets["password"] = secretOf("admin-password-1234")
	admin := mustOpen(t, cfg)
	if err := admin.Delete(ctx, created.Ref); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, created.Ref); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("Get after delete: %v", err)
	}
}

// TestErrorsNeverQuoteValues: an error about a value names the field and
// the value's digest, never the value (errors are stored and logged, and
// the privacy statement allows ids, keys and titles only).
func TestErrorsNeverQuoteValues(t *testing.T) {
	e := start(t, snemu.Options{})
	c := open(t, e)
	ctx := context.Background()
	created, err := c.Create(ctx, "incident", "", connector.Fields{"title": "privacy"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	const canary = "canary-7f3a-value"
	for _, fields := range []connector.Fields{
		{"status": canary}, {"reassignment_count": "not a number " + canary}, {"due_date": canary}, {"opened_at": canary},
		{"assignee": connector.User{Email: canary + "@example.com", Name: canary}}, {"assignment_group": canary},
		{"caller_id": canary + "@example.com"}, // an email (an id would be named: ids may be)
	} {
		_, err := c.Update(ctx, created.Ref, fields, "")
		if err == nil || strings.Contains(err.Error(), canary) {
			t.Errorf("%v: %v", fields, err)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/hook", nil)
	r.Header.Set(SecretHeader, "x")
	hook := mustOpen(t, func() connector.Config {
		cfg := config(t, e)
		cfg.Secrets["webhookSecret"] = secretOf("x")
		return cfg
	}())
	if _, err := hook.ParseWebhook(r, []byte(`{"table":"`+canary+`","sys_id":"`+canary+`"}`), ""); err == nil || strings.Contains(err.Error(), canary) {
		t.Errorf("webhook: %v", err)
	}
}
