package rpc_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// An administrator fixes a failing system's token in the edit form: the
// form's test of the draft passes, then the same connection is saved. The
// system reads reachable at once, with the time of that test, and the
// process that failed because of it runs now, not at its next poll an hour
// later. A draft that differs from what is saved does not count, and a
// plain test of the saved system that passes does the same as a kept draft.
// No answer, event, audit record or log line carries the token.
func TestFixedSystemReadsReachableAndItsProcessRunsNow(t *testing.T) {
	ag := startAgent(t)
	admin := ag.session(t, "admin", adminPassword)
	callOK(t, admin, protocol.EventsSubscribe, apitype.EventsSubscribeParams{})
	url := startSandbox(t)
	const wrong = "wrong-token-0f3a9c11d2"
	help := createSandboxSystem(t, admin, "Helpdesk", url, canary)
	eng := callOK(t, admin, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: "Engineering", Kind: "sandbox", URL: url,
		Settings: map[string]any{"project": "ENG"}, Secrets: map[string]apitype.Secret{"token": canary}}).System.ID
	var created apitype.ProcessResult
	resp := admin.raw(protocol.ProcessesCreate.Name, map[string]any{"process": map[string]any{
		"name": "Helpdesk to Engineering", "a": map[string]string{"system": help, "project": "HELP"},
		"b": map[string]string{"system": eng, "project": "ENG"},
		"types": []any{map[string]any{"a": "incident", "b": "bug", "fields": []any{
			map[string]any{"a": "title", "b": "title", "direction": "both"}}}},
		// An hour between polls: a run within the test is one the fix started.
		"options": map[string]any{"createInB": true}, "schedule": map[string]any{"pollSeconds": 3600},
	}})
	if resp.Error != nil {
		t.Fatalf("processes.create: %v", resp.Error)
	}
	json.Unmarshal(resp.Result, &created)
	proc := created.Process.ID
	// Someone saves a wrong token; the process starts and fails.
	callOK(t, admin, protocol.SystemsUpdate, apitype.SystemsUpdateParams{ID: eng, Secrets: map[string]apitype.Secret{"token": wrong}})
	callOK(t, admin, protocol.ProcessesActivate, apitype.IDParams{ID: proc})

	systemNamed := func(id string) apitype.System {
		t.Helper()
		for _, s := range callOK(t, admin, protocol.SystemsList, apitype.Empty{}).Systems {
			if s.ID == id {
				return s
			}
		}
		t.Fatalf("system %s is not listed", id)
		return apitype.System{}
	}
	processHealth := func() apitype.Health {
		t.Helper()
		for _, p := range callOK(t, admin, protocol.ProcessesList, apitype.Empty{}).Processes {
			if p.Process.ID == proc && p.Health != nil {
				return *p.Health
			}
		}
		return apitype.Health{}
	}
	runs := func() []apitype.Run {
		t.Helper()
		return callOK(t, admin, protocol.RunsList, apitype.RunsListParams{Process: proc}).Runs
	}
	// failed waits for the process to fail because of Engineering's token
	// and returns how many runs it has made.
	failed := func() int {
		t.Helper()
		agenttest.Eventually(t, "the process to fail because of Engineering", func() bool {
			h := processHealth()
			return h.State == apitype.HealthFailing && h.System == eng && h.Cause == "unauthorized"
		})
		if h := systemNamed(eng).Health; h == nil || h.State != apitype.HealthFailing {
			t.Fatalf("Engineering's health with a wrong token: %+v", h)
		}
		return len(runs())
	}
	// ranAgain waits for a run after the first n to end well.
	ranAgain := func(n int, trigger string) {
		t.Helper()
		agenttest.Eventually(t, "a new run that works", func() bool {
			rs := runs()
			return len(rs) > n && !rs[0].EndedAt.IsZero() && len(rs[0].Errors) == 0 && processHealth().State == apitype.HealthOK
		})
		if rs := runs(); rs[len(rs)-n-1].Trigger != trigger {
			t.Fatalf("the run after the fix was started by %q, want %q", rs[len(rs)-n-1].Trigger, trigger)
		}
	}

	n := failed()
	// The form tests its draft (the new token), then saves it.
	test := callOK(t, admin, protocol.SystemsTest, apitype.SystemsTestParams{ID: eng, Settings: map[string]any{"project": "ENG"},
		Secrets: map[string]apitype.Secret{"token": canary}})
	if !test.OK {
		t.Fatalf("the draft with the right token: %+v", test)
	}
	saved := callOK(t, admin, protocol.SystemsUpdate, apitype.SystemsUpdateParams{ID: eng, Settings: map[string]any{"project": "ENG"},
		Secrets: map[string]apitype.Secret{"token": canary}})
	if lt := saved.System.LastTest; lt == nil || !lt.OK || !lt.At.Equal(test.At) {
		t.Fatalf("the update's answer does not carry the draft's test as the last test: %+v", lt)
	}
	// Checked at the test, or at the end of the run it started, if that
	// was quick.
	s := systemNamed(eng)
	if s.Health == nil || s.Health.State != apitype.HealthOK || s.Health.CheckedAt == nil || s.Health.CheckedAt.Before(test.At) {
		t.Fatalf("Engineering right after its fix: %+v", s.Health)
	}
	if s.LastTest == nil || !s.LastTest.OK || s.LastTest.Actor != "admin" {
		t.Fatalf("Engineering's last test after its fix: %+v", s.LastTest)
	}
	ranAgain(n, "test")

	// Broken again, and fixed without a test (an update saved as it is):
	// nothing says it works until it is tested.
	callOK(t, admin, protocol.SystemsUpdate, apitype.SystemsUpdateParams{ID: eng, Secrets: map[string]apitype.Secret{"token": wrong}})
	callOK(t, admin, protocol.ProcessesRun, apitype.IDParams{ID: proc})
	n = failed()
	// A draft tested with the right token and another project, saved with
	// its own project: what was saved was not tested.
	if r := callOK(t, admin, protocol.SystemsTest, apitype.SystemsTestParams{ID: eng, Settings: map[string]any{"project": "HELP"},
		Secrets: map[string]apitype.Secret{"token": canary}}); !r.OK {
		t.Fatalf("the draft on HELP: %+v", r)
	}
	saved = callOK(t, admin, protocol.SystemsUpdate, apitype.SystemsUpdateParams{ID: eng, Secrets: map[string]apitype.Secret{"token": canary}})
	if saved.System.LastTest != nil {
		t.Fatalf("a test of another connection was kept: %+v", saved.System.LastTest)
	}
	if s := systemNamed(eng); s.LastTest != nil || s.Health == nil || s.Health.State != apitype.HealthFailing {
		t.Fatalf("Engineering saved with an untested connection: %+v %+v", s.Health, s.LastTest)
	}
	if len(runs()) != n {
		t.Fatal("an untested save started a run")
	}
	// The administrator tests the saved system: it passes, so it is
	// reachable and its process runs now.
	test = callOK(t, admin, protocol.SystemsTest, apitype.SystemsTestParams{ID: eng})
	if !test.OK {
		t.Fatalf("the saved system's test: %+v", test)
	}
	if s := systemNamed(eng); s.Health == nil || s.Health.State != apitype.HealthOK || s.Health.CheckedAt == nil || s.Health.CheckedAt.Before(test.At) {
		t.Fatalf("Engineering after a passing test: %+v", s.Health)
	}
	ranAgain(n, "test")

	// The token is nowhere: not in an answer, an event, the audit or the log.
	assertNoCanary(t, "systems.list", callOK(t, admin, protocol.SystemsList, apitype.Empty{}))
	assertNoCanary(t, "processes.list", callOK(t, admin, protocol.ProcessesList, apitype.Empty{}))
	assertNoCanary(t, "runs.list", runs())
	assertNoCanary(t, "audit.list", callOK(t, admin, protocol.AuditList, apitype.AuditListParams{Limit: 1000}))
	assertNoCanary(t, "logs.query", callOK(t, admin, protocol.LogsQuery, apitype.LogsQueryParams{MinLevel: "trace", Limit: 10000}))
	// The events so far, and the one saying Engineering works again
	// (the watch may announce it after the runs are listed).
	var seen []string
	agenttest.Eventually(t, "HealthChanged: Engineering ok", func() bool {
		for {
			select {
			case note := <-admin.notes:
				seen = append(seen, string(note.Params))
				continue
			default:
			}
			break
		}
		for _, ev := range seen {
			if strings.Contains(ev, `"HealthChanged"`) && strings.Contains(ev, `"id":"`+eng+`"`) && strings.Contains(ev, `"state":"ok"`) {
				return true
			}
		}
		return false
	})
	for _, ev := range seen {
		if strings.Contains(ev, canary) {
			t.Fatalf("an event carries the token: %s", ev)
		}
	}
}
