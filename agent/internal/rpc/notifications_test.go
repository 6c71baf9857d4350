package rpc_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/app"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// hookReceiver records the bodies POSTed to it.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

// wait returns the bodies once there are n of them.
func (r *hookReceiver) wait(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	agenttest.Eventually(t, fmt.Sprintf("%d webhook posts", n), func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		got = append([]string(nil), r.bodies...)
		return len(got) >= n
	})
	return got
}

// TestNotificationsOverTheAPI: an administrator sets up a webhook (its URL
// write-only), sends a test message, and, after an agent that did not stop
// cleanly starts again, the webhook hears of it.
func TestNotificationsOverTheAPI(t *testing.T) {
	const token = "hook-token-canary-3e9a"
	rcv := newHookReceiver(t)
	ag := startAgent(t)
	admin := ag.session(t, "admin", adminPassword)
	hookURL := rcv.URL + "/hooks/" + token
	set := apitype.Notifications{Enabled: true, Events: apitype.NotifyEvents, MinIntervalMinutes: 5,
		Webhooks: []apitype.NotificationWebhook{{Name: "ops", Format: apitype.WebhookJSON, Enabled: true, URL: &hookURL}}}

	bad := set
	bad.Webhooks = []apitype.NotificationWebhook{{Name: "ops", Enabled: true, URL: &[]string{"ftp://x/" + token}[0]}}
	if _, e := call(admin, protocol.NotificationsSet, bad); kindOf(e) != protocol.KindInvalid || e.Data.Field != "webhooks[0].url" ||
		strings.Contains(e.Message, token) {
		t.Fatalf("a bad URL: %+v", e)
	}
	info := callOK(t, admin, protocol.NotificationsSet, set)
	got := callOK(t, admin, protocol.NotificationsGet, apitype.Empty{})
	for _, v := range []any{info, got} {
		raw, _ := json.Marshal(v)
		if strings.Contains(string(raw), token) {
			t.Fatalf("the URL's token is readable: %s", raw)
		}
	}
	if len(got.Settings.Webhooks) != 1 || !got.Settings.Webhooks[0].URLSet || len(got.Channels) != 1 {
		t.Fatalf("notifications.get: %+v", got)
	}

	res := callOK(t, admin, protocol.NotificationsTest, apitype.NotificationsTestParams{})
	if len(res.Results) != 1 || !res.Results[0].OK {
		t.Fatalf("notifications.test: %+v", res)
	}
	if body := rcv.wait(t, 1)[0]; !strings.Contains(body, `"kind":"test"`) || !strings.Contains(body, "sent by admin") {
		t.Fatalf("test message: %s", body)
	}
	audit := callOK(t, admin, protocol.AuditList, apitype.AuditListParams{})
	var actions []string
	for _, r := range audit.Records {
		actions = append(actions, r.Action)
		if strings.Contains(string(r.Diff), token) {
			t.Fatalf("the audit holds the URL: %s", r.Diff)
		}
	}
	if !strings.Contains(strings.Join(actions, ","), "notifications.test,notifications.set") {
		t.Fatalf("audit actions: %v", actions)
	}

	// A crash leaves the run marker behind; the next start notifies.
	ag.stop()
	marker := filepath.Join(ag.dir, "agent.running")
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("a clean stop left the run marker: %v", err)
	}
	started := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	os.WriteFile(marker, []byte(started.Format(time.RFC3339Nano)+"\n"), 0o600)
	runAgent(t, app.Options{DataDir: ag.dir, NotifyGroupWait: time.Millisecond})
	body := rcv.wait(t, 2)[1]
	if !strings.Contains(body, `"kind":"unclean_restart"`) || !strings.Contains(body, "the run started 2026-04-01 08:00 UTC did not stop cleanly") {
		t.Fatalf("crash notice: %s", body)
	}
}
