package system

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

const canary = "CANARY-redmine-key-5b1f0c"

func newService(t *testing.T) (*Service, *audit.Log, *events.Bus) {
	t.Helper()
	st, sealer := agenttest.SealedStore(t)
	log := audit.New(st, nil)
	bus := events.New(100, nil)
	return New(st, sealer, log, bus, nil), log, bus
}

func TestCreateValidation(t *testing.T) {
	svc, _, _ := newService(t)
	ok := apitype.SystemsCreateParams{Name: "Engineering", Kind: "redmine", URL: "https://redmine.example/", Secrets: map[string]apitype.Secret{"apiKey": canary}}
	cases := []struct {
		name  string
		edit  func(p *apitype.SystemsCreateParams)
		field string
	}{
		{"unknown kind", func(p *apitype.SystemsCreateParams) { p.Kind = "bugzilla" }, "kind"},
		{"no name", func(p *apitype.SystemsCreateParams) { p.Name = "  " }, "name"},
		{"ftp url", func(p *apitype.SystemsCreateParams) { p.URL = "ftp://x" }, "url"},
		{"url with credentials", func(p *apitype.SystemsCreateParams) { p.URL = "https://u:p@x" }, "url"},
		{"unknown setting", func(p *apitype.SystemsCreateParams) { p.Settings = map[string]any{"colour": "red"} }, "settings.colour"},
		{"secret as setting", func(p *apitype.SystemsCreateParams) { p.Settings = map[string]any{"apiKey": "x"} }, "settings.apiKey"},
		{"wrong type", func(p *apitype.SystemsCreateParams) { p.Settings = map[string]any{"allowSelfSigned": "yes"} }, "settings.allowSelfSigned"},
		{"unknown secret", func(p *apitype.SystemsCreateParams) { p.Secrets = map[string]apitype.Secret{"pin": "1"} }, "secrets.pin"},
		{"missing required secret", func(p *apitype.SystemsCreateParams) { p.Secrets = nil }, "secrets.apiKey"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			tc.edit(&p)
			_, err := svc.Create("admin", p)
			var inv *fault.InvalidError
			if !errors.As(err, &inv) || inv.Field != tc.field {
				t.Fatalf("error %v, want invalid field %s", err, tc.field)
			}
			if strings.Contains(err.Error(), canary) {
				t.Fatal("error contains the secret")
			}
		})
	}
	sys, err := svc.Create("admin", ok)
	if err != nil {
		t.Fatal(err)
	}
	if sys.URL != "https://redmine.example" || !sys.Secrets["apiKey"].Set || sys.Settings["allowSelfSigned"] != false {
		t.Fatalf("created %+v", sys)
	}
	p := ok
	p.Name = "engineering"
	if _, err := svc.Create("admin", p); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate name: %v", err)
	}
}

func TestSecretsWriteOnlyKeepClearShred(t *testing.T) {
	svc, log, bus := newService(t)
	sub, _, _ := bus.Subscribe(nil, nil, 100)
	sys, err := svc.Create("admin", apitype.SystemsCreateParams{Name: "Jira", Kind: "jira", URL: "https://jira.example",
		Settings: map[string]any{"deployment": "cloud", "email": "bot@example.com"},
		Secrets:  map[string]apitype.Secret{"apiToken": canary}})
	if err != nil {
		t.Fatal(err)
	}
	name := "Jira Cloud"
	up, err := svc.Update("admin", apitype.SystemsUpdateParams{ID: sys.ID, Name: &name})
	if err != nil || !up.Secrets["apiToken"].Set {
		t.Fatalf("omitted secret must be kept: %+v %v", up, err)
	}
	cfg, _ := svc.Config(sys.ID)
	if cfg.Secrets["apiToken"].Reveal() != canary {
		t.Fatal("secret not kept")
	}
	up, err = svc.Update("admin", apitype.SystemsUpdateParams{ID: sys.ID, Secrets: map[string]apitype.Secret{"apiToken": ""}})
	if err != nil || up.Secrets["apiToken"].Set {
		t.Fatalf("\"\" must clear: %+v %v", up, err)
	}
	svc.Update("admin", apitype.SystemsUpdateParams{ID: sys.ID, Secrets: map[string]apitype.Secret{"apiToken": canary + "2"}})
	rec, _ := svc.Get(sys.ID)
	sealed := rec.Secrets["apiToken"]
	if err := svc.Delete("admin", sys.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.sealer.Open(scope(sys.ID), "system", sys.ID, "apiToken", sealed); !errors.Is(err, secret.ErrNoDataKey) {
		t.Fatalf("secret still opens after delete: %v", err)
	}
	recs, _, _ := log.List(audit.Filter{Limit: 100})
	if len(recs) != 5 {
		t.Fatalf("%d audit records, want 5", len(recs))
	}
	for _, r := range recs {
		if strings.Contains(string(r.Diff), canary) {
			t.Fatalf("audit diff has the secret: %s", r.Diff)
		}
	}
	if !strings.Contains(string(recs[1].Diff), `"field":"secrets.apiToken"`) {
		t.Fatalf("secret change not in the diff: %s", recs[1].Diff)
	}
	if v, _ := log.Verify(); !v.OK {
		t.Fatalf("chain broken: %+v", v)
	}
	if n := len(sub.C()); n != 5 {
		t.Fatalf("%d ConfigChanged events, want 5", n)
	}
}

func TestTestNeverNeedsReachabilityToCreate(t *testing.T) {
	svc, _, _ := newService(t)
	// Port 1 on loopback refuses connections: creation must still succeed. (A
	// kind without a connector, so the generic reachability probe tests it.)
	t.Cleanup(connector.Override(connector.Spec{Kind: "later", Title: "Later", Fields: append([]apitype.KindField{
		{Name: "token", Label: "Token", Type: apitype.FieldSecret, Secret: true, Required: true},
	}, connector.ConnectionFields()...)}))
	sys, err := svc.Create("admin", apitype.SystemsCreateParams{Name: "Later", Kind: "later", URL: "https://127.0.0.1:1", Secrets: map[string]apitype.Secret{"token": canary}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Test(context.Background(), "admin", sys.ID)
	if err != nil || res.OK || strings.Contains(res.Message, canary) {
		t.Fatalf("test of an unreachable system: %+v %v", res, err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	u, s := srv.URL, map[string]any{"allowSelfSigned": true}
	svc.Update("admin", apitype.SystemsUpdateParams{ID: sys.ID, URL: &u, Settings: s})
	start := time.Now()
	res, err = svc.Test(context.Background(), "admin", sys.ID)
	if err != nil || !res.OK || res.LatencyMs > time.Since(start).Milliseconds() {
		t.Fatalf("test of a reachable system: %+v %v", res, err)
	}
}

// The composition root releases a system's open connector through OnChange:
// it must hear of every update and delete, and of nothing else.
func TestOnChangeHearsUpdatesAndDeletes(t *testing.T) {
	svc, _, _ := newService(t)
	var heard []string
	svc.OnChange(func(id string) { heard = append(heard, id) })
	sys, err := svc.Create("admin", apitype.SystemsCreateParams{Name: "Engineering", Kind: "redmine", URL: "https://redmine.example/",
		Secrets: map[string]apitype.Secret{"apiKey": canary}})
	if err != nil {
		t.Fatal(err)
	}
	if len(heard) != 0 {
		t.Fatalf("a create was heard: %v", heard)
	}
	u := "https://redmine2.example/"
	if _, err := svc.Update("admin", apitype.SystemsUpdateParams{ID: sys.ID, URL: &u}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Update("admin", apitype.SystemsUpdateParams{ID: "missing", URL: &u}); err == nil {
		t.Fatal("updated a missing system")
	}
	if err := svc.Delete("admin", sys.ID); err != nil {
		t.Fatal(err)
	}
	if want := []string{sys.ID, sys.ID}; !slices.Equal(heard, want) {
		t.Fatalf("heard %v, want %v (the update, then the delete)", heard, want)
	}
}
