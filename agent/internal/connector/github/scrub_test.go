package github

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// TestSecretsStayOut: the token and a webhook's secret never reach an
// error, even when the server quotes back what it was sent (the secret
// travels in the hook's body; the token in a header).
func TestSecretsStayOut(t *testing.T) {
	const token = "ghp_TOKENCANARY0123456789"
	const canary = "whsec-CANARY-5d1e"
	for _, tc := range []struct {
		status int
		answer func(r *http.Request, body string) string
		kind   error
	}{
		{http.StatusUnprocessableEntity, func(_ *http.Request, b string) string {
			return `{"message":"Validation Failed","errors":[{"resource":"Hook","code":"custom","message":"bad config ` + strings.ReplaceAll(b, `"`, `\"`) + `"}]}`
		}, connector.ErrInvalid},
		{http.StatusBadGateway, func(r *http.Request, b string) string {
			return "upstream refused " + b + " for " + r.Header.Get("Authorization")
		}, connector.ErrUnavailable},
		{http.StatusUnauthorized, func(r *http.Request, _ string) string {
			return `{"message":"Bad credentials ` + r.Header.Get("Authorization") + `"}`
		}, connector.ErrUnauthorized},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if !strings.Contains(string(b), canary) {
				t.Errorf("the registration did not send the secret: %s", b)
			}
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.answer(r, string(b)))
		}))
		c, err := Open(connector.Config{ID: "scrub", Name: "G", Kind: Kind, URL: srv.URL,
			Settings: map[string]any{"owner": "acme", "writesPerMinute": 60000},
			Secrets:  map[string]secret.Secret{"token": secret.New(token)}}, connector.Env{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		_, err = c.RegisterWebhook(ctx, "widgets", "https://agent.example/hook", canary)
		cancel()
		srv.Close()
		if err == nil || !errors.Is(err, tc.kind) {
			t.Fatalf("status %d: %v, want %v", tc.status, err, tc.kind)
		}
		for _, s := range []string{canary, "CANARY", token} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("status %d: the error carries a secret: %v", tc.status, err)
			}
			var se *httpx.StatusError
			if errors.As(err, &se) && (strings.Contains(se.Body, s) || strings.Contains(se.Message, s)) {
				t.Errorf("status %d: the error's details carry a secret: %+v", tc.status, se)
			}
		}
	}
}
