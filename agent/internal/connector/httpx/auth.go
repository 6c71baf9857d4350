package httpx

import (
	"net/http"

	"github.com/lockstep-sync/lockstep/agent/internal/secret"
)

// Auth sets credentials on an outgoing request. It runs at every attempt,
// reading the secret then, so a rotated secret takes effect on the next
// request without reopening the connector.
type Auth func(r *http.Request)

// Bearer sends "Authorization: Bearer <token>".
func Bearer(token func() secret.Secret) Auth {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token().Reveal()) }
}

// Header sends the secret in a header of the system's choosing, e.g.
// PRIVATE-TOKEN (GitLab) or X-Redmine-API-Key.
func Header(name string, token func() secret.Secret) Auth {
	return func(r *http.Request) { r.Header.Set(name, token().Reveal()) }
}

// Basic sends HTTP basic credentials.
func Basic(user string, password func() secret.Secret) Auth {
	return func(r *http.Request) { r.SetBasicAuth(user, password().Reveal()) }
}

// Static returns a getter for a secret that does not change.
func Static(s secret.Secret) func() secret.Secret { return func() secret.Secret { return s } }
