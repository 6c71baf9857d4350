package app

import (
	"net/http"
	"strings"
)

// metricsHandler guards /metrics with the bearer token an administrator
// set (settings.set metricsToken; sealed, write-only). Without a token the
// endpoint does not exist (404), so nothing is exposed by default; with
// one, it is served on the agent's own TLS listener, where Prometheus
// reaches it like any client (see README, "Metrics").
func (a *App) metricsHandler() http.Handler {
	serve := a.metrics.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.settings.MetricsTokenSet() {
			http.Error(w, "metrics are off: an administrator sets a metrics token to turn them on", http.StatusNotFound)
			return
		}
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || !a.settings.MetricsTokenValid(strings.TrimSpace(token)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="lockstep metrics"`)
			http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
			return
		}
		serve.ServeHTTP(w, r)
	})
}
