package jira

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
	"github.com/lockstep-sync/lockstep/agent/internal/connector/jira/jiraemu"
)

// TestRegisterWebhookKeepsSecret: the webhook's secret travels in the
// registration's body; an error answer quoting that body (in Jira's error
// JSON or as text) must not carry it into the error the engine logs.
func TestRegisterWebhookKeepsSecret(t *testing.T) {
	const canary = "whsec-CANARY-7f3a9c"
	e := start(t, jiraemu.Options{})
	for _, tc := range []struct {
		status int
		answer func(body string) string
		kind   error
	}{
		{http.StatusBadRequest, func(b string) string {
			return `{"errorMessages":["Invalid webhook: ` + strings.ReplaceAll(b, `"`, `\"`) + `"],"errors":{}}`
		}, connector.ErrInvalid},
		{http.StatusBadGateway, func(b string) string { return "upstream refused " + b }, connector.ErrUnavailable},
	} {
		emu := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/rest/webhooks/1.0/webhook" {
				http.NotFound(w, r)
				return
			}
			b, _ := io.ReadAll(r.Body)
			if !strings.Contains(string(b), canary) {
				t.Errorf("the registration did not send the secret: %s", b)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, tc.answer(string(b)))
		}))
		cfg := config(t, e, adminToken)
		cfg.URL = emu.URL
		c, err := Open(cfg, connector.Env{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		_, err = c.RegisterWebhook(ctx, "HELP", "https://agent.example/hook", canary)
		cancel()
		emu.Close()
		if err == nil {
			t.Fatalf("status %d: RegisterWebhook succeeded", tc.status)
		}
		// The client layer keeps the start of the answer in StatusError;
		// it must not be reachable with the secret in it.
		var se *httpx.StatusError
		if errors.As(err, &se) && (strings.Contains(se.Body, "CANARY") || strings.Contains(se.Message, "CANARY")) {
			t.Errorf("status %d: the error's details carry the secret: %+v", tc.status, se)
		}
		if strings.Contains(err.Error(), "CANARY") {
			t.Errorf("status %d: the error carries the secret: %v", tc.status, err)
		}
		if !errors.Is(err, tc.kind) {
			t.Errorf("status %d: error %v is not %v", tc.status, err, tc.kind)
		}
	}
}
