package servicenow

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/servicenow/snemu"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/rs/zerolog"
)

func oauthConfig(t testing.TB, e *snemu.Emu, settings ...any) connector.Config {
	cfg := config(t, e, append([]any{"auth", AuthOAuth, "username", "", "clientId", clientID}, settings...)...)
	cfg.Secrets = map[string]secret.Secret{"clientSecret": secret.New(clientSecret)}
	return cfg
}

func TestOpenRefusesIncompleteCredentials(t *testing.T) {
	base := map[string]any{"auth": AuthBasic, "username": "u"}
	for _, tc := range []struct {
		name     string
		settings map[string]any
		secrets  map[string]secret.Secret
		want     error
	}{
		{"basic without password", base, nil, connector.ErrUnauthorized},
		{"basic without user", map[string]any{"auth": AuthBasic}, map[string]secret.Secret{"password": secret.New("x")}, connector.ErrUnauthorized},
		{"oauth without secret", map[string]any{"auth": AuthOAuth, "clientId": "c"}, nil, connector.ErrUnauthorized},
		{"oauth with a user but no password", map[string]any{"auth": AuthOAuth, "clientId": "c", "username": "u"},
			map[string]secret.Secret{"clientSecret": secret.New("s")}, connector.ErrUnauthorized},
		{"unknown auth", map[string]any{"auth": "kerberos"}, nil, connector.ErrInvalid},
		{"bad table", map[string]any{"auth": AuthBasic, "username": "u", "table": "inc ident"}, map[string]secret.Secret{"password": secret.New("x")}, connector.ErrInvalid},
		{"bad journal", map[string]any{"auth": AuthBasic, "username": "u", "writeJournal": "both"}, map[string]secret.Secret{"password": secret.New("x")}, connector.ErrInvalid},
	} {
		_, err := Open(connector.Config{Name: tc.name, URL: "https://dev.service-now.com", Settings: tc.settings, Secrets: tc.secrets}, connector.Env{})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestAuthFailuresNeverLeakSecrets(t *testing.T) {
	e := start(t, snemu.Options{ClientCredentials: true})
	const wrong = "wrong-password-canary-4c1d"
	var logs bytes.Buffer
	env := connector.Env{Log: zerolog.New(&logs).Level(zerolog.DebugLevel)}
	cfg := config(t, e)
	cfg.Secrets["password"] = secret.New(wrong)
	c, err := Open(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	_, berr := c.Validate(context.Background())
	if !errors.Is(berr, connector.ErrUnauthorized) || !strings.Contains(berr.Error(), "User Not Authenticated") {
		t.Fatalf("wrong password: %v", berr)
	}
	const wrongSecret = "wrong-client-secret-canary-77e1"
	ocfg := oauthConfig(t, e)
	ocfg.Secrets["clientSecret"] = secret.New(wrongSecret)
	oc, err := Open(ocfg, env)
	if err != nil {
		t.Fatal(err)
	}
	_, oerr := oc.Validate(context.Background())
	if !errors.Is(oerr, connector.ErrUnauthorized) || !strings.Contains(oerr.Error(), "access_denied") {
		t.Fatalf("wrong client secret: %v", oerr)
	}
	for _, s := range []string{wrong, wrongSecret} {
		if strings.Contains(berr.Error(), s) || strings.Contains(oerr.Error(), s) || strings.Contains(logs.String(), s) {
			t.Fatalf("a secret leaked: %v / %v\n%s", berr, oerr, logs.String())
		}
	}
}

// TestTokenEndpointQuotingSecretsBack: a token endpoint (or a proxy in
// front of it) that quotes the request in its refusal must not carry the
// client secret or password into the error.
func TestTokenEndpointQuotingSecretsBack(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"server_error","error_description":"access_denied for ` + string(body) + `"}`))
	}))
	defer srv.Close()
	const sec, pw = "client-secret-canary-5a5a", "password-canary-6b6b"
	c, err := Open(connector.Config{Name: "quote", URL: srv.URL, Settings: map[string]any{"auth": AuthOAuth, "clientId": "id", "username": "u"},
		Secrets: map[string]secret.Secret{"clientSecret": secret.New(sec), "password": secret.New(pw)}}, connector.Env{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Validate(context.Background())
	if !errors.Is(err, connector.ErrUnauthorized) || strings.Contains(err.Error(), sec) || strings.Contains(err.Error(), pw) {
		t.Fatalf("%v", err)
	}
}

func TestOAuthClientCredentials(t *testing.T) {
	clk := agenttest.NewClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	e := start(t, snemu.Options{ClientCredentials: true, Now: clk.Now, TokenTTL: 30 * time.Minute})
	c, err := Open(oauthConfig(t, e), connector.Env{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	msg, err := c.Validate(ctx)
	if err != nil || !strings.Contains(msg, "OAuth client "+clientID) {
		t.Fatalf("Validate = %q, %v", msg, err)
	}
	created, err := c.Create(ctx, "incident", "", connector.Fields{"title": "OAuth"}, connector.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	if created.Fields["opened_by"].(connector.User).ID != e.UserID("lockstep.integration") {
		t.Fatalf("the token does not act as the application user: %+v", created.Fields["opened_by"])
	}
	if n := e.Stats().Tokens; n != 1 {
		t.Fatalf("%d tokens for one session", n)
	}
	// The token runs out: a new one is asked for before it does.
	clk.Add(29*time.Minute + 30*time.Second)
	if _, err := c.Get(ctx, created.Ref); err != nil {
		t.Fatal(err)
	}
	if n := e.Stats().Tokens; n != 2 {
		t.Fatalf("%d tokens after the first neared its end, want 2", n)
	}
	// The instance revokes tokens early: one 401, one new token, success.
	e.ExpireTokens()
	if _, err := c.Get(ctx, created.Ref); err != nil {
		t.Fatal(err)
	}
	if n := e.Stats().Tokens; n != 3 {
		t.Fatalf("%d tokens after a revocation, want 3", n)
	}
}

func TestOAuthGrants(t *testing.T) {
	// Client credentials off (the property's default before it is set).
	e := start(t, snemu.Options{})
	c := mustOpen(t, oauthConfig(t, e))
	_, err := c.Validate(context.Background())
	if !errors.Is(err, connector.ErrUnauthorized) || !strings.Contains(err.Error(), "grant_type.enabled") {
		t.Fatalf("client credentials disabled: %v", err)
	}
	// The password grant works on any instance.
	cfg := oauthConfig(t, e, "username", "lockstep.integration")
	cfg.Secrets["password"] = secret.New(password)
	msg, err := mustOpen(t, cfg).Validate(context.Background())
	if err != nil || !strings.Contains(msg, "as user lockstep.integration") {
		t.Fatalf("password grant: %q, %v", msg, err)
	}
}

func TestReadOnlyAccount(t *testing.T) {
	e := start(t, snemu.Options{})
	cfg := config(t, e, "username", "reader")
	cfg.Secrets["password"] = secret.New("reader-password-1234")
	c := mustOpen(t, cfg)
	_, err := c.Create(context.Background(), "incident", "", connector.Fields{"title": "x"}, connector.Marker{})
	if !errors.Is(err, connector.ErrForbidden) || !strings.Contains(err.Error(), "ACL Exception") {
		t.Fatalf("a read-only account creates: %v", err)
	}
}
