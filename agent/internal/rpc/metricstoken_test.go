package rpc_test

import (
	"archive/zip"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// metricsCanary is a metrics token: it must never come back.
const metricsCanary = "metrics-canary-6b0e2f91d4c7a8"

// The metrics token over the API, as the desktop's settings page sets it:
// admin only; checked with a precise error at metricsToken that never
// quotes it; write-only (set / not set); kept across other changes;
// audited as [redacted]; it guards GET /metrics until cleared. No answer,
// event, log line or support package carries it.
func TestMetricsTokenOverTheAPI(t *testing.T) {
	ag, sessions := withRoles(t)
	admin := sessions["admin"]
	callOK(t, admin, protocol.EventsSubscribe, apitype.EventsSubscribeParams{})
	// answers keeps every answer's raw JSON, for the canary.
	var answers bytes.Buffer
	set := func(p map[string]any) (apitype.SettingsResult, *protocol.Error) {
		t.Helper()
		resp := admin.raw(protocol.SettingsSet.Name, p)
		answers.Write(resp.Result)
		if resp.Error != nil {
			answers.WriteString(resp.Error.Message)
			return apitype.SettingsResult{}, resp.Error
		}
		var r apitype.SettingsResult
		if err := json.Unmarshal(resp.Result, &r); err != nil {
			t.Fatal(err)
		}
		return r, nil
	}

	if _, e := call(sessions["operator"], protocol.SettingsSet, apitype.SettingsSetParams{}); kindOf(e) != protocol.KindForbidden {
		t.Fatalf("an operator sets settings: %v", e)
	}
	for _, c := range []struct{ token, says string }{
		{"short-canary", "needs at least 16 characters"},
		{"canary with spaces 0123456789", "must not contain spaces or control characters"},
		{"canary\t0123456789abcdef", "must not contain spaces or control characters"},
		{strings.Repeat("canary", 200), "is longer than 1024 bytes (it has 1200)"},
	} {
		_, e := set(map[string]any{"metricsToken": c.token})
		if !hasIssue(e, "metricsToken") || !strings.Contains(e.Message, c.says) || strings.Contains(e.Message, "canary") {
			t.Fatalf("metricsToken %.20q: %+v, want an invalid metricsToken that %s", c.token, e, c.says)
		}
	}

	metrics := func(token string) int {
		t.Helper()
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		req, _ := http.NewRequest("GET", "https://"+ag.addr+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers.Write(body)
		return resp.StatusCode
	}
	if code := metrics(metricsCanary); code != http.StatusNotFound {
		t.Fatalf("/metrics before a token is set: %d", code)
	}
	r, e := set(map[string]any{"metricsToken": metricsCanary})
	if e != nil || !r.Settings.MetricsToken.Set {
		t.Fatalf("set the token: %+v %v", r, e)
	}
	level := "debug"
	if r, e = set(map[string]any{"logLevel": level}); e != nil || !r.Settings.MetricsToken.Set {
		t.Fatalf("another setting's change: %+v %v", r, e)
	}
	if got := callOK(t, admin, protocol.SettingsGet, apitype.Empty{}); !got.Settings.MetricsToken.Set {
		t.Fatalf("settings.get: %+v", got)
	}
	if code := metrics(metricsCanary); code != http.StatusOK {
		t.Fatalf("/metrics with the token: %d", code)
	}
	if code := metrics(metricsCanary + "x"); code != http.StatusUnauthorized {
		t.Fatalf("/metrics with another token: %d", code)
	}

	// The audit says it was set and cleared, never what it was.
	if r, e = set(map[string]any{"metricsToken": ""}); e != nil || r.Settings.MetricsToken.Set {
		t.Fatalf("clear the token: %+v %v", r, e)
	}
	if code := metrics(metricsCanary); code != http.StatusNotFound {
		t.Fatalf("/metrics after the token was cleared: %d", code)
	}
	audit := callOK(t, admin, protocol.AuditList, apitype.AuditListParams{Action: "settings.set", Limit: 100})
	var diffs []string
	for _, rec := range audit.Records {
		diffs = append(diffs, string(rec.Diff))
	}
	all := strings.Join(diffs, "\n")
	if !strings.Contains(all, `{"field":"metricsToken","before":"(none)","after":"[redacted]"}`) ||
		!strings.Contains(all, `{"field":"metricsToken","before":"[redacted]","after":"(none)"}`) {
		t.Fatalf("the audit of the token's changes: %s", all)
	}

	// Set again, then everything the agent says is searched.
	set(map[string]any{"metricsToken": metricsCanary})
	pkg := downloadSupportPackage(t, admin)
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, []byte(metricsCanary)) {
			t.Fatalf("the support package's %s carries the metrics token", f.Name)
		}
	}
	logs := callOK(t, admin, protocol.LogsQuery, apitype.LogsQueryParams{MinLevel: "trace", Limit: 10000})
	if len(logs.Lines) == 0 {
		t.Fatal("no log lines: the search below would prove nothing")
	}
	for what, v := range map[string]any{"an answer": answers.String(), "the audit": audit, "the log": logs,
		"settings.get": callOK(t, admin, protocol.SettingsGet, apitype.Empty{})} {
		if b, _ := json.Marshal(v); strings.Contains(string(b), metricsCanary) {
			t.Fatalf("%s carries the metrics token", what)
		}
	}
	configChanged := 0
	agenttest.Eventually(t, "the ConfigChanged events of the settings", func() bool {
		for {
			select {
			case note := <-admin.notes:
				if strings.Contains(string(note.Params), metricsCanary) {
					t.Fatalf("an event carries the metrics token: %s", note.Params)
				}
				if strings.Contains(string(note.Params), `"ConfigChanged"`) && strings.Contains(string(note.Params), `"settings"`) {
					configChanged++
				}
				continue
			default:
			}
			return configChanged >= 4 // set, logLevel, clear, set
		}
	})
}

// downloadSupportPackage builds a support package and downloads it.
func downloadSupportPackage(t *testing.T, admin *client) []byte {
	t.Helper()
	job := callOK(t, admin, protocol.SupportCreate, apitype.Empty{})
	var st apitype.SupportStatusResult
	agenttest.Eventually(t, "the support package", func() bool {
		st = callOK(t, admin, protocol.SupportStatus, apitype.IDParams{ID: job.ID})
		return st.State != apitype.SupportRunning
	})
	if st.State != apitype.SupportReady {
		t.Fatalf("support package: %+v", st)
	}
	var buf bytes.Buffer
	for {
		chunk := callOK(t, admin, protocol.SupportDownload, apitype.SupportDownloadParams{ID: job.ID, Offset: int64(buf.Len()), Length: 512 << 10})
		buf.Write(chunk.Data)
		if chunk.EOF {
			return buf.Bytes()
		}
	}
}
