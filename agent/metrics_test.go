package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
)

// Canaries: a secret (the systems' API token) and a field value (item
// titles). Neither may appear in any metric, label or value.
const (
	metricsSecretCanary = "CANARY-metrics-secret-7c1d2e"
	metricsFieldCanary  = "CANARY-field-value-41b9"
	metricsToken        = "prometheus-scrape-token-0123456789abcdef"
)

// prometheusBinary finds Debian's prometheus (build/install-deps.sh
// --prometheus); where it is required (make test, CI) a missing one fails.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err == nil {
		return bin
	}
	if os.Getenv("LOCKSTEP_REQUIRE_PROMETHEUS") != "" || os.Getenv("CI") != "" {
		t.Fatalf("prometheus is not installed (build/install-deps.sh --prometheus): %v", err)
	}
	t.Skip("prometheus is not installed; build/install-deps.sh --prometheus installs it")
	return ""
}

// TestPrometheusScrapesTheAgent runs a real agent syncing two sandboxes
// and a real Prometheus on loopback that scrapes it with the bearer token
// an administrator set, then asks Prometheus, through its HTTP API, for
// the series the agent promises: per process, per system and for itself.
func TestPrometheusScrapesTheAgent(t *testing.T) {
	promBin := prometheusBinary(t)
	mk := func(p sandbox.Project) string {
		s, err := sandbox.New(sandbox.Options{Tokens: []sandbox.Token{{Value: metricsSecretCanary, User: "alice"}},
			Users: sandbox.DemoUsers(), Projects: []sandbox.Project{p}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if p.Key == "HELP" {
				s.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprintf("%s %d", metricsFieldCanary, i), Status: "open", Priority: "low"})
			}
		}
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(func() { srv.Close(); s.Close() })
		return srv.URL
	}
	helpURL := mk(sandbox.Project{Key: "HELP", Name: "Helpdesk", Types: []string{"incident"}})
	engURL := mk(sandbox.Project{Key: "ENG", Name: "Engineering", Types: []string{"bug"}})

	const pw = "metrics admin password"
	dir := filepath.Join(t.TempDir(), "data")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte(pw), 0o600)
	addr := agenttest.FreeAddr(t)
	if out, code := runAgent(t, "init", "--data-dir", dir, "--listen", addr, "--admin-password-file", pwFile); code != 0 {
		t.Fatalf("init: %s", out)
	}
	stop := start(t, dir)
	defer stop()
	c := dialAgent(t, addr)
	c.call("session.login", map[string]string{"username": "admin", "password": pw}, nil)
	var a, b struct{ System struct{ ID string } }
	c.call("systems.create", map[string]any{"name": "Helpdesk", "kind": "sandbox", "url": helpURL,
		"settings": map[string]any{"project": "HELP"}, "secrets": map[string]string{"token": metricsSecretCanary}}, &a)
	c.call("systems.create", map[string]any{"name": "Engineering", "kind": "sandbox", "url": engURL,
		"settings": map[string]any{"project": "ENG"}, "secrets": map[string]string{"token": metricsSecretCanary}}, &b)
	var proc struct{ Process struct{ ID string } }
	c.call("processes.create", map[string]any{"process": map[string]any{
		"name": "Helpdesk to Engineering", "a": map[string]string{"system": a.System.ID, "project": "HELP"},
		"b": map[string]string{"system": b.System.ID, "project": "ENG"},
		"types": []any{map[string]any{"a": "incident", "b": "bug", "fields": []any{
			map[string]any{"a": "title", "b": "title", "direction": "both"}}}},
		"options": map[string]any{"createInB": true}, "schedule": map[string]any{"pollSeconds": 5}, "active": true,
	}}, &proc)

	// Without a token /metrics does not exist; with one it needs it.
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(token string) (int, string) {
		req, _ := http.NewRequest("GET", "https://"+addr+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, _ := get(metricsToken); code != http.StatusNotFound {
		t.Fatalf("/metrics before a token is set: %d, want 404", code)
	}
	if err := c.try("settings.set", map[string]any{"metricsToken": "short"}, nil); err == nil || !strings.Contains(err.Error(), "16 characters") {
		t.Fatalf("a short metrics token: %v", err)
	}
	var set struct {
		Settings struct {
			MetricsToken struct{ Set bool } `json:"metricsToken"`
		}
	}
	c.call("settings.set", map[string]any{"metricsToken": metricsToken}, &set)
	if !set.Settings.MetricsToken.Set {
		t.Fatal("settings do not say a metrics token is set")
	}
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Fatalf("/metrics without the token: %d, want 401", code)
	}
	if code, _ := get(metricsToken + "x"); code != http.StatusUnauthorized {
		t.Fatalf("/metrics with a wrong token: %d, want 401", code)
	}

	// A real Prometheus on loopback scrapes the agent every second.
	work := t.TempDir()
	tokenFile := filepath.Join(work, "token")
	os.WriteFile(tokenFile, []byte(metricsToken), 0o600)
	promAddr := agenttest.FreeAddr(t)
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: lockstep
    scheme: https
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: %s
    tls_config:
      ca_file: %s
    static_configs:
      - targets: ['%s']
`, tokenFile, filepath.Join(dir, "tls", "agent.crt"), addr)
	cfgFile := filepath.Join(work, "prometheus.yml")
	os.WriteFile(cfgFile, []byte(cfg), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	prom := exec.CommandContext(ctx, promBin, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(work, "tsdb"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	var promLog strings.Builder
	prom.Stdout, prom.Stderr = &promLog, &promLog
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); prom.Wait() }()

	query := func(q string) ([]promSample, error) {
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var out struct {
			Status string
			Error  string
			Data   struct{ Result []promSample }
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return nil, err
		}
		if out.Status != "success" {
			return nil, fmt.Errorf("query %s: %s", q, out.Error)
		}
		return out.Data.Result, nil
	}
	// waitSeries polls Prometheus until q returns a series whose value
	// satisfies ok; the bound only catches a hang.
	waitSeries := func(q string, ok func(float64) bool) promSample {
		t.Helper()
		deadline := time.Now().Add(3 * time.Minute)
		var last []promSample
		var lastErr error
		for time.Now().Before(deadline) {
			last, lastErr = query(q)
			for _, s := range last {
				if v, err := s.value(); err == nil && ok(v) {
					return s
				}
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Fatalf("Prometheus never answered %s as expected: %+v %v\nprometheus log:\n%s", q, last, lastErr, tailLines(promLog.String(), 20))
		return promSample{}
	}
	atLeast := func(n float64) func(float64) bool { return func(v float64) bool { return v >= n } }

	pid, sysA := proc.Process.ID, a.System.ID
	waitSeries(`up{job="lockstep"}`, func(v float64) bool { return v == 1 })
	waitSeries(fmt.Sprintf(`lockstep_sync_runs_total{process=%q}`, pid), atLeast(1))
	waitSeries(fmt.Sprintf(`lockstep_sync_changes_total{process=%q,kind="created"}`, pid), atLeast(3))
	waitSeries(fmt.Sprintf(`lockstep_sync_errors_total{process=%q}`, pid), atLeast(0))
	waitSeries(fmt.Sprintf(`lockstep_sync_run_duration_seconds_count{process=%q}`, pid), atLeast(1))
	waitSeries(fmt.Sprintf(`lockstep_sync_queue_depth{process=%q}`, pid), atLeast(0))
	waitSeries(fmt.Sprintf(`lockstep_sync_parked_items{process=%q}`, pid), atLeast(0))
	waitSeries(fmt.Sprintf(`lockstep_process_info{process=%q,name="Helpdesk to Engineering"}`, pid), atLeast(1))
	waitSeries(fmt.Sprintf(`sum(lockstep_system_requests_total{system=%q,code="200"})`, sysA), atLeast(1))
	waitSeries(fmt.Sprintf(`lockstep_system_info{system=%q,name="Helpdesk"}`, sysA), atLeast(1))
	waitSeries(`lockstep_sessions`, atLeast(1))
	waitSeries(`lockstep_connections{state="logged_in"}`, atLeast(1))
	waitSeries(`lockstep_log_subscribers`, atLeast(0))
	waitSeries(`sum(lockstep_store_size_bytes)`, atLeast(0))

	// No label of any series the agent exposed holds a secret, a field
	// value or the scrape token; nor does the exposition itself.
	resp, err := http.Get("http://" + promAddr + "/api/v1/series?match[]=" + url.QueryEscape(`{job="lockstep"}`))
	if err != nil {
		t.Fatal(err)
	}
	series, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_, exposition := get(metricsToken)
	for _, text := range []string{string(series), exposition} {
		for _, canary := range []string{metricsSecretCanary, metricsFieldCanary, metricsToken, "CANARY"} {
			if strings.Contains(text, canary) {
				t.Fatalf("%q appears in the metrics", canary)
			}
		}
	}
	if !strings.Contains(string(series), "lockstep_sync_runs_total") {
		t.Fatalf("the series listing lacks the agent's metrics: %.500s", series)
	}
}

// promSample is one series of an instant query: labels and [time, "value"].
type promSample struct {
	Metric map[string]string
	Value  []any
}

func (s promSample) value() (float64, error) {
	if len(s.Value) != 2 {
		return 0, fmt.Errorf("no value")
	}
	str, _ := s.Value[1].(string)
	return strconv.ParseFloat(str, 64)
}
