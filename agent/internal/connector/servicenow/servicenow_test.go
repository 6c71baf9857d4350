package servicenow

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/servicenow/snemu"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

const (
	password     = "integration-password-0123456789"
	clientID     = "3f1a9c0e5b2d4e6f8a7b9c0d1e2f3a4b"
	clientSecret = "oauth-client-secret-9876543210"
)

func users() []snemu.User {
	return []snemu.User{
		{UserName: "lockstep.integration", Name: "Lockstep Integration", Email: "lockstep@example.com", Password: password,
			TimeZone: "Europe/Berlin", DateFormat: "dd.MM.yyyy"},
		{UserName: "beth.anglin", Name: "Beth Anglin", Email: "beth.anglin@example.com", Password: "beth-password-1234"},
		{UserName: "abel.tuter", Name: "Abel Tuter", Email: "abel.tuter@example.com"},
		{UserName: "admin", Name: "System Administrator", Email: "admin@example.com", Password: "admin-password-1234", Admin: true},
		{UserName: "reader", Name: "Rita Reader", Email: "rita@example.com", Password: "reader-password-1234", ReadOnly: true},
		{UserName: "nodict", Name: "Nora Nodict", Email: "nora@example.com", Password: "nodict-password-1234", NoDictionary: true},
	}
}

func start(t testing.TB, o snemu.Options) *snemu.Emu {
	t.Helper()
	if o.Users == nil {
		o.Users = users()
	}
	if o.Groups == nil {
		o.Groups = []string{"Service Desk", "Network", "Database"}
	}
	if o.Clients == nil {
		o.Clients = []snemu.Client{{ID: clientID, Secret: clientSecret, User: "lockstep.integration"}}
	}
	e := snemu.Start(o)
	t.Cleanup(e.Close)
	return e
}

func config(t testing.TB, e *snemu.Emu, settings ...any) connector.Config {
	return connector.Config{ID: contracttest.SystemID(t), Name: "ServiceNow", Kind: Kind, URL: e.URL(),
		Settings: contracttest.Settings(t, map[string]any{"auth": AuthBasic, "username": "lockstep.integration", "table": "incident"}, settings...),
		Secrets:  map[string]secret.Secret{"password": secret.New(password)}}
}

func open(t testing.TB, e *snemu.Emu, settings ...any) *Conn {
	t.Helper()
	return contracttest.Open(t, Open, config(t, e, settings...), connector.Env{})
}

func TestContract(t *testing.T) {
	for _, table := range []string{"incident", "problem", "sc_task"} {
		t.Run(table, func(t *testing.T) {
			t.Parallel()
			contracttest.RunContract(t, func(t *testing.T) (connector.Connector, string) {
				return open(t, start(t, snemu.Options{})), table
			})
		})
	}
}

func TestRegisteredAndValidate(t *testing.T) {
	spec, ok := connector.Lookup(Kind)
	if !ok || spec.Open == nil || spec.Test == nil {
		t.Fatalf("spec %+v", spec)
	}
	for _, name := range []string{"password", "clientSecret", "webhookSecret"} {
		if f, ok := spec.Field(name); !ok || !f.Secret {
			t.Fatalf("%s must be a secret field", name)
		}
	}
	e := start(t, snemu.Options{RateLimit: 5000})
	msg, err := spec.Test(context.Background(), config(t, e))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"lockstep.integration", "incident (Incident)", "5000 requests per hour"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("Test = %q, want %q in it", msg, want)
		}
	}
	if _, err := spec.Test(context.Background(), config(t, e, "table", "sys_user")); !errors.Is(err, connector.ErrInvalid) || !strings.Contains(err.Error(), "extend task") {
		t.Fatalf("a table that is no task: %v", err)
	}
	if _, err := spec.Test(context.Background(), config(t, e, "table", "nosuchtable")); !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("a table that does not exist: %v", err)
	}
	cfg := config(t, e, "username", "nodict")
	cfg.Secrets["password"] = secret.New("nodict-password-1234")
	if _, err := spec.Test(context.Background(), cfg); !errors.Is(err, connector.ErrForbidden) || !strings.Contains(err.Error(), "sys_dictionary") {
		t.Fatalf("an account that cannot read the dictionary: %v", err)
	}
}

func secretOf(s string) secret.Secret { return secret.New(s) }

func mustOpen(t testing.TB, cfg connector.Config) *Conn {
	t.Helper()
	return contracttest.Open(t, Open, cfg, connector.Env{})
}
