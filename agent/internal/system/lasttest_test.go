package system

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

const goodToken = "sandbox-good-token-7c1e"

// fakeSandbox answers the two requests of the sandbox's connection test as
// the sandbox does: 401 for a wrong token, 404 for a missing project.
func fakeSandbox(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+goodToken {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"message":"invalid token"}}`))
			return
		}
		switch r.URL.Path {
		case "/api/myself":
			json.NewEncoder(w).Encode(map[string]any{"name": "Lockstep bot"})
		case "/api/projects/HELP":
			json.NewEncoder(w).Encode(map[string]any{"key": "HELP", "name": "Helpdesk"})
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":{"message":"no such project"}}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A failing credential's test is kept (with when and the problem in
// words), listed after a reload, and forgotten when the credentials change;
// replacing the token is audited as "replaced", never with its value.
func TestLastTestKeptAndTokenReplacedAudited(t *testing.T) {
	svc, log, _ := newService(t)
	url := fakeSandbox(t)
	sys, err := svc.Create("admin", apitype.SystemsCreateParams{Name: "Support", Kind: "sandbox", URL: url,
		Settings: map[string]any{"project": "HELP"}, Secrets: map[string]apitype.Secret{"token": canary}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Test(context.Background(), "ops", sys.ID)
	if err != nil || res.OK || !strings.Contains(res.Problem, "Support refused the credentials") || res.Action == "" || res.At.IsZero() {
		t.Fatalf("test with a wrong token: %+v %v", res, err)
	}
	if strings.Contains(res.Message+res.Problem+res.Action, canary) {
		t.Fatal("the test result carries the token")
	}
	list, _ := svc.List()
	if len(list) != 1 || list[0].LastTest == nil || list[0].LastTest.OK || list[0].LastTest.Actor != "ops" || list[0].LastTest.Problem != res.Problem {
		t.Fatalf("the last test is not listed: %+v", list)
	}

	if _, err := svc.Update("admin", apitype.SystemsUpdateParams{ID: sys.ID, Secrets: map[string]apitype.Secret{"token": goodToken}}); err != nil {
		t.Fatal(err)
	}
	if lt, err := svc.LastTest(sys.ID); err != nil || lt != nil {
		t.Fatalf("a test of the old token is still kept: %+v %v", lt, err)
	}
	recs, _, err := log.List(audit.Filter{Action: "systems.update"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("audit: %+v %v", recs, err)
	}
	diff := string(recs[0].Diff)
	if diff != `[{"field":"token","after":"replaced"}]` || strings.Contains(diff, goodToken) {
		t.Fatalf("the token's replacement is audited as %s", diff)
	}

	res, err = svc.Test(context.Background(), "ops", sys.ID)
	if err != nil || !res.OK || !strings.Contains(res.Message, "project HELP") {
		t.Fatalf("test with the right token: %+v %v", res, err)
	}
	if lt, _ := svc.LastTest(sys.ID); lt == nil || !lt.OK {
		t.Fatalf("the good test is not kept: %+v", lt)
	}
	// A rename does not touch the connection: the test stays.
	name := "Support desk"
	svc.Update("admin", apitype.SystemsUpdateParams{ID: sys.ID, Name: &name})
	if lt, _ := svc.LastTest(sys.ID); lt == nil {
		t.Fatal("a rename forgot the last test")
	}
	svc.Delete("admin", sys.ID)
	if lt, _ := svc.LastTest(sys.ID); lt != nil {
		t.Fatal("a deleted system's test is kept")
	}
}

// A form can be tested before it is saved: nothing is stored, the saved
// system's secrets fill what the draft leaves out, and a missing project
// says so in words.
func TestTestDraft(t *testing.T) {
	svc, _, _ := newService(t)
	url := fakeSandbox(t)
	res, err := svc.TestDraft(context.Background(), "admin", apitype.SystemsTestParams{Kind: "sandbox", Name: "New", URL: &url,
		Settings: map[string]any{"project": "NOPE"}, Secrets: map[string]apitype.Secret{"token": goodToken}})
	if err != nil || res.OK || !strings.Contains(res.Problem, "Project NOPE was not found in New") {
		t.Fatalf("draft with a missing project: %+v %v", res, err)
	}
	if list, _ := svc.List(); len(list) != 0 {
		t.Fatalf("a draft test saved something: %+v", list)
	}
	if _, err := svc.TestDraft(context.Background(), "admin", apitype.SystemsTestParams{Kind: "sandbox", URL: &url}); err == nil || !strings.Contains(err.Error(), "secrets.token") {
		t.Fatalf("a draft without its required token: %v", err)
	}
	sys, err := svc.Create("admin", apitype.SystemsCreateParams{Name: "Support", Kind: "sandbox", URL: url,
		Settings: map[string]any{"project": "HELP"}, Secrets: map[string]apitype.Secret{"token": goodToken}})
	if err != nil {
		t.Fatal(err)
	}
	// Editing the project only: the stored token is used.
	res, err = svc.TestDraft(context.Background(), "admin", apitype.SystemsTestParams{ID: sys.ID, Settings: map[string]any{"project": "HELP"}})
	if err != nil || !res.OK {
		t.Fatalf("edit with the stored token: %+v %v", res, err)
	}
	if lt, _ := svc.LastTest(sys.ID); lt != nil {
		t.Fatal("a draft test was kept as the system's last test")
	}
}

// A draft's test counts for the save of exactly that connection: kept as
// the last test (with its time and who ran it) and told to OnTested. A
// save of something else (another project than tested, a test too old, a
// newer draft of another connection) forgets the test as before, and a
// draft counts once.
func TestDraftTestKeptWhenSavedAsTested(t *testing.T) {
	svc, _, _ := newService(t)
	clock := agenttest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	svc.now = clock.Now
	var told []apitype.SystemTest
	svc.OnTested(func(id string, tt apitype.SystemTest) { told = append(told, tt) })
	url := fakeSandbox(t)
	draft := func(id, project, token string) apitype.SystemsTestResult {
		t.Helper()
		p := apitype.SystemsTestParams{ID: id, Settings: map[string]any{"project": project}, Secrets: map[string]apitype.Secret{"token": apitype.Secret(token)}}
		if id == "" {
			p.Kind, p.URL = "sandbox", &url
		}
		res, err := svc.TestDraft(context.Background(), "ann", p)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	update := func(id, project, token string) apitype.System {
		t.Helper()
		clock.Add(time.Minute)
		s, err := svc.Update("admin", apitype.SystemsUpdateParams{ID: id, Settings: map[string]any{"project": project}, Secrets: map[string]apitype.Secret{"token": apitype.Secret(token)}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	// A new system's tested form, then created as it was.
	res := draft("", "HELP", goodToken)
	sys, err := svc.Create("admin", apitype.SystemsCreateParams{Name: "Support", Kind: "sandbox", URL: url,
		Settings: map[string]any{"project": "HELP"}, Secrets: map[string]apitype.Secret{"token": goodToken}})
	if err != nil {
		t.Fatal(err)
	}
	if lt, _ := svc.LastTest(sys.ID); lt == nil || !lt.OK || !lt.At.Equal(res.At) || lt.Actor != "ann" || sys.LastTest == nil || len(told) != 1 {
		t.Fatalf("the created system's last test: %+v (answer %+v, told %d)", lt, sys.LastTest, len(told))
	}
	// Broken by an untested save: the test is forgotten.
	if s := update(sys.ID, "HELP", canary); s.LastTest != nil {
		t.Fatalf("an untested token kept the last test: %+v", s.LastTest)
	}
	// Fixed: the form's draft passes, the same is saved.
	clock.Add(time.Minute)
	res = draft(sys.ID, "HELP", goodToken)
	s := update(sys.ID, "HELP", goodToken)
	if lt, _ := svc.LastTest(sys.ID); lt == nil || !lt.OK || !lt.At.Equal(res.At) || s.LastTest == nil || !s.LastTest.At.Equal(res.At) || len(told) != 2 || !told[1].OK {
		t.Fatalf("the fixed system's last test: %+v (answer %+v, told %d)", lt, s.LastTest, len(told))
	}
	// The same save again: the draft counted once, the test stays.
	if s := update(sys.ID, "HELP", goodToken); s.LastTest != nil || len(told) != 2 {
		t.Fatalf("a draft counted twice, or a re-saved token kept its test: %+v (told %d)", s.LastTest, len(told))
	}

	// Tested with one project, saved with another.
	draft(sys.ID, "NOPE", goodToken)
	if s := update(sys.ID, "HELP", goodToken); s.LastTest != nil {
		t.Fatalf("a test of another project was kept: %+v", s.LastTest)
	}
	// Two drafts, the first of what is saved: the latest counts.
	draft(sys.ID, "HELP", goodToken)
	draft(sys.ID, "NOPE", goodToken)
	if s := update(sys.ID, "HELP", goodToken); s.LastTest != nil {
		t.Fatalf("an earlier draft counted after a later one: %+v", s.LastTest)
	}
	// Tested long before the save.
	draft(sys.ID, "HELP", goodToken)
	clock.Add(draftTTL)
	if s := update(sys.ID, "HELP", goodToken); s.LastTest != nil {
		t.Fatalf("a stale draft test was kept: %+v", s.LastTest)
	}
	// A failed draft saved anyway is kept too: it is what is known. Saved
	// by another account than the one that saw it fail, it is not marked
	// saved anyway (acknowledged): its failure is news to be told.
	res = draft(sys.ID, "HELP", canary)
	if s := update(sys.ID, "HELP", canary); s.LastTest == nil || s.LastTest.OK || s.LastTest.Problem != res.Problem || s.LastTest.SavedAnyway || len(told) != 3 || told[2].OK {
		t.Fatalf("a failed draft saved anyway: %+v (told %d)", s.LastTest, len(told))
	}
	// A plain test of the saved system is newer than a draft of the same
	// connection before it: a rename keeps the plain test.
	draft(sys.ID, "HELP", canary)
	clock.Add(time.Minute)
	if _, err := svc.Test(context.Background(), "ops", sys.ID); err != nil {
		t.Fatal(err)
	}
	name := "Support desk"
	if s, err := svc.Update("admin", apitype.SystemsUpdateParams{ID: sys.ID, Name: &name}); err != nil || s.LastTest == nil || s.LastTest.Actor != "ops" {
		t.Fatalf("an older draft replaced a newer test: %+v %v", s.LastTest, err)
	}
}
