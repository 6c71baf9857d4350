package servicenow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// OAuth: the instance's token endpoint, /oauth_token.do, takes a form
// (application/x-www-form-urlencoded; JSON is refused) with grant_type
// client_credentials (client_id, client_secret: the token acts as the
// registry entry's OAuth Application User; Washington DC and later, with
// glide.oauth.inbound.client.credential.grant_type.enabled) or password
// (the client and a user's username and password). The answer holds
// access_token and expires_in (seconds, 1800 by default).

// refreshEarly renews a token this long before it expires.
const refreshEarly = time.Minute

type tokenSource struct {
	http *httpx.Client // no Auth of its own: credentials ride in the form
	form url.Values
	now  func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

func newTokenSource(base httpx.Options, clientID string, clientSecret secret.Secret, user string, password secret.Secret) (*tokenSource, error) {
	o := base
	o.Auth = nil
	o.Secrets = []secret.Secret{clientSecret, password}
	client, err := httpx.New(o)
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {clientSecret.Reveal()}}
	if user != "" {
		form.Set("grant_type", "password")
		form.Set("username", user)
		form.Set("password", password.Reveal())
	}
	now := base.Now
	if now == nil {
		now = time.Now
	}
	return &tokenSource{http: client, form: form, now: now}, nil
}

// auth sets the current token on a request (httpx calls it per attempt).
func (t *tokenSource) auth(r *http.Request) {
	t.mu.Lock()
	tok := t.token
	t.mu.Unlock()
	r.Header.Set("Authorization", "Bearer "+tok)
}

// get returns a token valid for a while yet, asking for one if needed.
func (t *tokenSource) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && t.now().Add(refreshEarly).Before(t.expires) {
		return t.token, nil
	}
	body := t.form.Encode()
	r := httpx.Request{Method: http.MethodPost, Path: "/oauth_token.do", Idempotent: true,
		Header:        http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}},
		GetBody:       func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil },
		ContentLength: int64(len(body))}
	resp, err := t.http.Do(ctx, r)
	if err != nil {
		var se *httpx.StatusError
		if errors.As(err, &se) && (se.Status == http.StatusUnauthorized || se.Status == http.StatusBadRequest) {
			return "", fmt.Errorf("get an OAuth token: the instance refused the client (HTTP %d %s): check the client id and secret, "+
				"that the registry entry has an OAuth application user, and, for client credentials, that "+
				"glide.oauth.inbound.client.credential.grant_type.enabled is true: %w", se.Status, se.Body, connector.ErrUnauthorized)
		}
		return "", fmt.Errorf("get an OAuth token: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := httpx.DecodeJSON(r, resp, &out); err != nil {
		return "", fmt.Errorf("get an OAuth token: %w", err)
	}
	if out.AccessToken == "" {
		return "", fmt.Errorf("get an OAuth token: the answer holds no access_token: %w", connector.ErrUnavailable)
	}
	secs := 1800
	var n json.Number
	if json.Unmarshal(out.ExpiresIn, &n) == nil {
		if v, err := n.Int64(); err == nil && v > 0 {
			secs = int(v)
		}
	} else {
		var s string
		if json.Unmarshal(out.ExpiresIn, &s) == nil {
			fmt.Sscan(s, &secs)
		}
	}
	t.token, t.expires = out.AccessToken, t.now().Add(time.Duration(secs)*time.Second)
	return t.token, nil
}

// invalidate drops tok if it is still the current token, so the next get
// asks for a new one.
func (t *tokenSource) invalidate(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == tok {
		t.token = ""
	}
}
