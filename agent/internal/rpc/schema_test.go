package rpc_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// canary is the sandbox token: it must never appear in an answer, an
// error or the agent's log.
const canary = "canary-5e1f0c2d-token"

// startSandbox serves a real sandbox work system with the demo projects,
// accepting the canary token.
func startSandbox(t *testing.T) string {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Tokens: []sandbox.Token{{Value: canary, User: "alice"}},
		Users: sandbox.DemoUsers(), Projects: sandbox.DemoProjects(), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { hs.Close(); sb.Close() })
	return hs.URL
}

func createSandboxSystem(t *testing.T, admin *client, name, url, token string) string {
	t.Helper()
	res := callOK(t, admin, protocol.SystemsCreate, apitype.SystemsCreateParams{Name: name, Kind: "sandbox", URL: url,
		Settings: map[string]any{"project": "HELP"}, Secrets: map[string]apitype.Secret{"token": apitype.Secret(token)}})
	return res.System.ID
}

func fieldNamed(fields []apitype.SchemaField, name string) (apitype.SchemaField, bool) {
	for _, f := range fields {
		if f.Name == name {
			return f, true
		}
	}
	return apitype.SchemaField{}, false
}

// assertNoCanary fails when the canary is in any of the JSON values.
func assertNoCanary(t *testing.T, what string, vs ...any) {
	t.Helper()
	for _, v := range vs {
		b, _ := json.Marshal(v)
		if strings.Contains(string(b), canary) {
			t.Fatalf("%s carries the system's secret: %s", what, b)
		}
	}
}

func TestSystemsSchemaReadsTheSandbox(t *testing.T) {
	_, sessions := withRoles(t)
	url := startSandbox(t)
	id := createSandboxSystem(t, sessions["admin"], "Helpdesk", url, canary)

	for _, role := range []string{"viewer", "operator", "admin"} {
		t.Run(role, func(t *testing.T) {
			// The project given wins over the system's default (HELP).
			res := callOK(t, sessions[role], protocol.SystemsSchema, apitype.SystemsSchemaParams{ID: id, Project: "ENG"})
			assertNoCanary(t, "the answer", res)
			if res.System != id || res.Project != "ENG" {
				t.Fatalf("answer names %q/%q, want %q/ENG", res.System, res.Project, id)
			}
			if !slices.Equal(res.EntityTypes, []string{"bug", "story", "task"}) {
				t.Fatalf("entity types %v", res.EntityTypes)
			}
			if !slices.Contains(res.LinkTypes, "blocks") {
				t.Fatalf("link types %v", res.LinkTypes)
			}
			comp, ok := fieldNamed(res.Fields, "cf.component")
			if !ok || comp.Type != apitype.SchemaTypeEnum || comp.Label != "Component" || !slices.Equal(comp.Values, []string{"api", "ui", "database", "infra"}) {
				t.Fatalf("custom enum field: %+v (found %v)", comp, ok)
			}
			title, _ := fieldNamed(res.Fields, "title")
			if !title.Required || title.Type != apitype.SchemaTypeString {
				t.Fatalf("title: %+v", title)
			}
			if _, ok := fieldNamed(res.Fields, "cf.impact"); ok {
				t.Fatal("a HELP field in the ENG schema")
			}
			// Users carry emails: operators and admins only.
			if role == "viewer" {
				if len(res.Users) != 0 || !res.UsersOmitted {
					t.Fatalf("viewer got users %+v (omitted %v)", res.Users, res.UsersOmitted)
				}
			} else {
				if res.UsersOmitted || len(res.Users) != 4 || res.Users[0].Email == "" {
					t.Fatalf("%s got users %+v (omitted %v)", role, res.Users, res.UsersOmitted)
				}
			}
		})
	}
	// Without a project, the system's own (HELP) is described.
	res := callOK(t, sessions["viewer"], protocol.SystemsSchema, apitype.SystemsSchemaParams{ID: id})
	if _, ok := fieldNamed(res.Fields, "cf.impact"); !ok || !slices.Contains(res.EntityTypes, "incident") {
		t.Fatalf("default project schema: %+v", res)
	}

	lines := callOK(t, sessions["admin"], protocol.LogsQuery, apitype.LogsQueryParams{Text: canary, MinLevel: "trace", Limit: 100})
	if len(lines.Lines) != 0 {
		t.Fatalf("the secret is in the agent log: %+v", lines.Lines)
	}
}

func TestSystemsSchemaErrors(t *testing.T) {
	ag := startAgent(t)
	admin := ag.session(t, "admin", adminPassword)
	url := startSandbox(t)

	// A port nothing listens on: the system is unreachable.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + ln.Addr().String()
	ln.Close()

	// A server that echoes the credentials it was sent, as some do in
	// their error pages.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "bad token " + r.Header.Get("Authorization")})
	}))
	t.Cleanup(echo.Close)

	good := createSandboxSystem(t, admin, "Helpdesk", url, canary)
	wrongToken := createSandboxSystem(t, admin, "Wrong token", url, canary+"-revoked")
	unreachable := createSandboxSystem(t, admin, "Gone", deadURL, canary)
	echoing := createSandboxSystem(t, admin, "Echo", echo.URL, canary)

	cases := []struct {
		name    string
		params  apitype.SystemsSchemaParams
		kind    protocol.Kind
		field   string
		mention string
	}{
		{"no id", apitype.SystemsSchemaParams{}, protocol.KindInvalid, "id", ""},
		{"unknown system", apitype.SystemsSchemaParams{ID: "nosuchsystem"}, protocol.KindNotFound, "", "nosuchsystem"},
		{"unknown project", apitype.SystemsSchemaParams{ID: good, Project: "NOPE"}, protocol.KindInvalid, "project", "Helpdesk"},
		{"project too long", apitype.SystemsSchemaParams{ID: good, Project: strings.Repeat("P", 300)}, protocol.KindInvalid, "project", ""},
		{"credentials refused", apitype.SystemsSchemaParams{ID: wrongToken}, protocol.KindUnavailable, "", "Wrong token"},
		{"unreachable", apitype.SystemsSchemaParams{ID: unreachable}, protocol.KindUnavailable, "", "Gone"},
		{"server echoes the token", apitype.SystemsSchemaParams{ID: echoing}, protocol.KindUnavailable, "", "Echo"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := admin.raw(protocol.SystemsSchema.Name, tc.params)
			assertNoCanary(t, "the answer", resp.Result, resp.Error)
			if resp.Error != nil {
				t.Logf("%s: %s", resp.Error.ErrorKind(), resp.Error.Message)
			}
			if kindOf(resp.Error) != tc.kind {
				t.Fatalf("error %+v, want kind %s", resp.Error, tc.kind)
			}
			if tc.field != "" && (resp.Error.Data == nil || resp.Error.Data.Field != tc.field) {
				t.Fatalf("error %+v does not name field %s", resp.Error.Data, tc.field)
			}
			if !strings.Contains(resp.Error.Message, tc.mention) {
				t.Fatalf("message %q does not name %q", resp.Error.Message, tc.mention)
			}
		})
	}
	lines := callOK(t, admin, protocol.LogsQuery, apitype.LogsQueryParams{Text: canary, MinLevel: "trace", Limit: 100})
	if len(lines.Lines) != 0 {
		t.Fatalf("the secret is in the agent log: %+v", lines.Lines)
	}
}
