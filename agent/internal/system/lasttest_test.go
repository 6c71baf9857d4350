package system

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
	res, err := svc.TestDraft(context.Background(), apitype.SystemsTestParams{Kind: "sandbox", Name: "New", URL: &url,
		Settings: map[string]any{"project": "NOPE"}, Secrets: map[string]apitype.Secret{"token": goodToken}})
	if err != nil || res.OK || !strings.Contains(res.Problem, "Project NOPE was not found in New") {
		t.Fatalf("draft with a missing project: %+v %v", res, err)
	}
	if list, _ := svc.List(); len(list) != 0 {
		t.Fatalf("a draft test saved something: %+v", list)
	}
	if _, err := svc.TestDraft(context.Background(), apitype.SystemsTestParams{Kind: "sandbox", URL: &url}); err == nil || !strings.Contains(err.Error(), "secrets.token") {
		t.Fatalf("a draft without its required token: %v", err)
	}
	sys, err := svc.Create("admin", apitype.SystemsCreateParams{Name: "Support", Kind: "sandbox", URL: url,
		Settings: map[string]any{"project": "HELP"}, Secrets: map[string]apitype.Secret{"token": goodToken}})
	if err != nil {
		t.Fatal(err)
	}
	// Editing the project only: the stored token is used.
	res, err = svc.TestDraft(context.Background(), apitype.SystemsTestParams{ID: sys.ID, Settings: map[string]any{"project": "HELP"}})
	if err != nil || !res.OK {
		t.Fatalf("edit with the stored token: %+v %v", res, err)
	}
	if lt, _ := svc.LastTest(sys.ID); lt != nil {
		t.Fatal("a draft test was kept as the system's last test")
	}
}
