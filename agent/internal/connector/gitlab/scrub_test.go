package gitlab

import (
	"bytes"
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
	"github.com/rs/zerolog"
)

// TestSecretsStayOut: a server that quotes back everything it got (the
// access token in PRIVATE-TOKEN, the webhook token in the hook's body) in
// its error answers: neither reaches an error's text, its details, or the
// connector's log.
func TestSecretsStayOut(t *testing.T) {
	const token, hookToken = "glpat-CANARY-token-4e1d", "whsec-CANARY-hook-9b2c"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		quoted := strings.ReplaceAll(r.Header.Get("Private-Token")+" "+string(b), `"`, `\"`)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v4/projects/3" {
			_, _ = io.WriteString(w, `{"id":3,"path_with_namespace":"g/p","web_url":"http://x/g/p"}`)
			return
		}
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = io.WriteString(w, `{"message":{"url":["`+quoted+` is blocked"]}}`)
	}))
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	c, err := Open(connector.Config{ID: "sys-scrub", Name: "GitLab", Kind: Kind, URL: srv.URL,
		Secrets: map[string]secret.Secret{"token": secret.New(token)}}, connector.Env{Log: zerolog.New(&logs).Level(zerolog.DebugLevel)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = c.RegisterWebhook(ctx, "3", "https://agent.example/hook", hookToken)
	if !errors.Is(err, connector.ErrInvalid) {
		t.Fatalf("RegisterWebhook: %v", err)
	}
	_, err2 := c.Create(ctx, "3", "issue", connector.Fields{"title": "t"}, connector.Marker{})
	for _, e := range []error{err, err2} {
		if e == nil || strings.Contains(e.Error(), "CANARY") {
			t.Errorf("the error carries a secret: %v", e)
		}
		var se *httpx.StatusError
		if errors.As(e, &se) && (strings.Contains(se.Body, "CANARY") || strings.Contains(se.Message, "CANARY")) {
			t.Errorf("the error's details carry a secret: %+v", se)
		}
	}
	if strings.Contains(logs.String(), "CANARY") || logs.Len() == 0 {
		t.Errorf("the log carries a secret (or nothing at all): %s", logs.String())
	}
}
