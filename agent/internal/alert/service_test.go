package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/audit"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/fault"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

const (
	smtpUser     = "lockstep"
	smtpPassword = "SMTP-PASSWORD-canary-91c2"
	urlToken     = "TOKEN-canary-b7e1"
)

type fixture struct {
	s     *Service
	bus   *events.Bus
	clock *agenttest.Clock
	st    *store.Store
	audit *audit.Log
	ctx   context.Context
}

// newFixture runs a service over a real, encrypted store. Its ticker is
// slowed to an hour: the test decides when channels are looked at
// (deliver) on its own clock.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, sealer := agenttest.SealedStore(t) // closed after the service stops: cleanups run last first
	clk := agenttest.NewClock(t0)
	bus := events.New(16384, clk.Now)
	log := audit.New(st, clk.Now)
	names := func(subject, id string) string {
		return map[string]string{"process/p1": "Helpdesk to Engineering"}[subject+"/"+id]
	}
	s, err := New(Options{Store: st, Sealer: sealer, Audit: log, Bus: bus, Log: zerolog.Nop(), Now: clk.Now, Names: names,
		Agent: Agent{InstanceID: "inst-1", Host: "sync01", Version: "1.2.3"}, Tick: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return &fixture{s: s, bus: bus, clock: clk, st: st, audit: log, ctx: ctx}
}

// step looks at every channel now and waits for the sends it started.
func (f *fixture) step() {
	f.s.deliver(f.ctx)
	f.s.inflight.Wait()
}

// waitPending waits until every channel holds n notices.
func (f *fixture) waitPending(t *testing.T, n int) {
	t.Helper()
	agenttest.Eventually(t, fmt.Sprintf("every channel to hold %d notices", n), func() bool {
		info := f.s.Info()
		ok := len(info.Channels) > 0
		for _, c := range info.Channels {
			ok = ok && c.Pending == n
		}
		return ok
	})
}

func (f *fixture) channel(t *testing.T, key string) apitype.NotificationChannel {
	t.Helper()
	for _, c := range f.s.Info().Channels {
		if c.Channel == key {
			return c
		}
	}
	t.Fatalf("no channel %s", key)
	return apitype.NotificationChannel{}
}

func ptr[T any](v T) *T { return &v }

// settings enables every event, email to the server and three webhooks
// (one per format) to the receiver, whose paths carry the token.
func settings(srv *smtpd, rcv *receiver) apitype.Notifications {
	n := apitype.Notifications{Enabled: true, Events: apitype.NotifyEvents, MinIntervalMinutes: 5}
	if srv != nil {
		n.Email = apitype.NotificationEmail{Enabled: true, Host: "127.0.0.1", Port: srv.Port, Security: apitype.SMTPStartTLS,
			AllowSelfSigned: true, Username: smtpUser, Password: ptr(smtpPassword), From: "lockstep@example.com",
			To: []string{"ops@example.com", "oncall@example.com"}}
	}
	if rcv != nil {
		for _, f := range []string{apitype.WebhookJSON, apitype.WebhookSlack, apitype.WebhookTeams} {
			n.Webhooks = append(n.Webhooks, apitype.NotificationWebhook{Name: "ops " + f, Format: f, Enabled: true,
				URL: ptr(rcv.URL + "/" + f + "/" + urlToken)})
		}
	}
	return n
}

func (f *fixture) publishOutage(n int) {
	since := f.clock.Now()
	f.bus.Publish(apitype.EventHealthChanged, apitype.HealthChanged{Kind: "system", ID: "s1", Name: "Jira prod", Previous: "ok",
		Health: apitype.Health{State: "failing", Cause: "unauthorized", Since: &since, Problem: "refused", Detail: "401 " + canary}})
	f.bus.Publish(apitype.EventHealthChanged, apitype.HealthChanged{Kind: "process", ID: "p1", Name: "Helpdesk to Engineering", Previous: "ok",
		Health: apitype.Health{State: "failing", Cause: "unauthorized", Since: &since, Detail: canary}})
	for i := range n {
		f.bus.Publish(apitype.EventPairFailed, map[string]any{"process": "p1", "side": "a", "entity": fmt.Sprint(i),
			"key": fmt.Sprintf("HELP-%d", i), "error": "field description: " + canary})
	}
}

// noSecrets fails if a message carries a secret or a field value.
func noSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range []string{canary, smtpPassword, urlToken} {
		if strings.Contains(text, s) {
			t.Errorf("%s contains %q:\n%s", what, s, text)
		}
	}
}

// TestOutageMakesOneMessagePerChannel: a system refusing its credentials
// fails a process and parks 300 pairs; each channel (a real SMTP server
// with STARTTLS and AUTH, and JSON, Slack and Teams webhooks) receives one
// message saying so, then nothing until the interval is over.
func TestOutageMakesOneMessagePerChannel(t *testing.T) {
	srv := startSMTPD(t, true, smtpUser, smtpPassword)
	rcv := startReceiver(t)
	f := newFixture(t)
	if _, err := f.s.Set("admin", settings(srv, rcv)); err != nil {
		t.Fatal(err)
	}
	f.publishOutage(300)
	f.waitPending(t, 302)

	f.step() // within the group wait: nothing yet
	if n := len(srv.Messages(t)) + len(rcv.Posts("/json/"+urlToken)); n != 0 {
		t.Fatalf("%d messages before the group wait was over", n)
	}
	f.clock.Add(DefaultGroupWait)
	f.step()

	mails := srv.Messages(t)
	if len(mails) != 1 {
		t.Fatalf("%d emails, want 1", len(mails))
	}
	mail := mails[0]
	for _, want := range []string{"X-Test-TLS: True", "X-Test-Login: " + smtpUser, "X-Test-Rcpt-To: ops@example.com,oncall@example.com",
		"X-Test-Mail-From: lockstep@example.com", "Subject: Lockstep on sync01: system \"Jira prod\" is failing (+2 more)\r\n"} {
		if !strings.Contains(mail, want) {
			t.Errorf("email lacks %q:\n%s", want, mail)
		}
	}
	body := strings.ReplaceAll(mail, "=\r\n", "") // undo quoted-printable soft breaks
	for _, want := range []string{`System "Jira prod" (s1) is failing (unauthorized)`, `Process "Helpdesk to Engineering" (p1) is failing (unauthorized)`,
		"300 pairs parked after permanent errors: HELP-0, HELP-1, HELP-2, HELP-3, HELP-4 and 295 more."} {
		if !strings.Contains(body, want) {
			t.Errorf("email lacks %q:\n%s", want, body)
		}
	}
	noSecrets(t, "the email", mail)

	for _, format := range []string{apitype.WebhookJSON, apitype.WebhookSlack, apitype.WebhookTeams} {
		posts := rcv.Posts("/" + format + "/" + urlToken)
		if len(posts) != 1 {
			t.Fatalf("%s webhook: %d posts, want 1", format, len(posts))
		}
		noSecrets(t, format+" webhook", posts[0])
		if !strings.Contains(posts[0], "300 pairs parked") {
			t.Errorf("%s webhook: %s", format, posts[0])
		}
	}
	var doc struct {
		Notices []jsonNotice `json:"notices"`
	}
	if err := json.Unmarshal([]byte(rcv.Posts("/json/" + urlToken)[0]), &doc); err != nil || len(doc.Notices) != 3 || doc.Notices[2].Count != 300 {
		t.Fatalf("json document: %v %+v", err, doc)
	}
	for _, c := range f.s.Info().Channels {
		if c.Pending != 0 || c.LastSentAt == nil || c.LastError != "" {
			t.Errorf("channel after sending: %+v", c)
		}
	}

	// More parked pairs within the interval wait for it.
	f.publishOutage(0) // still failing: health would not announce again, but a repeat must not add a message either
	for i := range 50 {
		f.bus.Publish(apitype.EventPairFailed, map[string]any{"process": "p1", "key": fmt.Sprintf("ENG-%d", i)})
	}
	f.waitPending(t, 52)
	f.clock.Add(time.Minute)
	f.step()
	if n := len(srv.Messages(t)); n != 1 {
		t.Fatalf("%d emails within the interval, want still 1", n)
	}
	f.clock.Add(4 * time.Minute)
	f.step()
	mails = srv.Messages(t)
	if len(mails) != 2 || !strings.Contains(strings.ReplaceAll(mails[1], "=\r\n", ""), "50 pairs parked") {
		t.Fatalf("second email (%d emails): %s", len(mails), mails[len(mails)-1])
	}
	if n := len(rcv.Posts("/slack/" + urlToken)); n != 2 {
		t.Fatalf("slack: %d posts, want 2", n)
	}
}

// TestFailedDeliveryIsRetried: a receiver answering 503 with Retry-After
// gets the same notices again once that time is over; the other channels
// are not held up, and the error names the host, never the URL's token.
func TestFailedDeliveryIsRetried(t *testing.T) {
	rcv := startReceiver(t)
	f := newFixture(t)
	if _, err := f.s.Set("admin", settings(nil, rcv)); err != nil {
		t.Fatal(err)
	}
	info := f.s.Info()
	jsonKey := "webhook:" + info.Settings.Webhooks[0].ID
	rcv.SetStatus("/json/"+urlToken, http.StatusServiceUnavailable)

	f.bus.Publish(apitype.EventPairFailed, map[string]any{"process": "p1", "key": "HELP-1"})
	f.waitPending(t, 1)
	f.clock.Add(DefaultGroupWait)
	f.step()
	c := f.channel(t, jsonKey)
	if c.Pending != 1 || c.LastSentAt != nil || !strings.Contains(c.LastError, "answered 503") || !strings.Contains(c.LastError, "127.0.0.1") {
		t.Fatalf("json channel after a 503: %+v", c)
	}
	noSecrets(t, "the delivery error", c.LastError)
	if n := len(rcv.Posts("/slack/" + urlToken)); n != 1 {
		t.Fatalf("slack was held up by json's failure: %d posts", n)
	}

	f.bus.Publish(apitype.EventPairFailed, map[string]any{"process": "p1", "key": "HELP-2"})
	agenttest.Eventually(t, "the second notice", func() bool { return f.channel(t, jsonKey).Pending == 2 })
	f.clock.Add(time.Minute) // Retry-After said 120 s
	f.step()
	if n := len(rcv.Posts("/json/" + urlToken)); n != 1 {
		t.Fatalf("retried before Retry-After: %d attempts", n)
	}
	rcv.SetStatus("/json/"+urlToken, 0)
	f.clock.Add(time.Minute)
	f.step()
	posts := rcv.Posts("/json/" + urlToken)
	if len(posts) != 2 || !strings.Contains(posts[1], "HELP-1") || !strings.Contains(posts[1], "HELP-2") {
		t.Fatalf("the retry must carry both notices: %q", posts)
	}
	if c := f.channel(t, jsonKey); c.Pending != 0 || c.LastError != "" || c.LastSentAt == nil {
		t.Fatalf("json channel after the retry: %+v", c)
	}
}

// TestSecretsAreWriteOnly: the SMTP password and the webhook URLs are
// sealed in the store, never read back, kept when a change leaves them
// out, and audited as [redacted].
func TestSecretsAreWriteOnly(t *testing.T) {
	rcv := startReceiver(t)
	f := newFixture(t)
	srv := &smtpd{Port: 2525}
	info, err := f.s.Set("admin", settings(srv, rcv))
	if err != nil {
		t.Fatal(err)
	}
	shown, _ := json.Marshal(info)
	noSecrets(t, "notifications.get", string(shown))
	if !info.Settings.Email.PasswordSet || info.Settings.Email.Password != nil || !info.Settings.Webhooks[0].URLSet ||
		info.Settings.Webhooks[0].Host != strings.TrimPrefix(rcv.URL, "http://") {
		t.Fatalf("view: %s", shown)
	}
	var raw []byte
	f.st.View(func(tx *store.Tx) error {
		raw, err = tx.GetRaw(keySettings)
		return err
	})
	if err != nil || len(raw) == 0 {
		t.Fatalf("stored settings: %v", err)
	}
	noSecrets(t, "the stored settings", string(raw))

	// A change without the secrets keeps them: a test still reaches the
	// receiver through the stored URL.
	p := info.Settings
	p.Email.Host = "smtp.example.com"
	p.Webhooks = p.Webhooks[:1]
	info, err = f.s.Set("admin", p)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Settings.Email.PasswordSet || !info.Settings.Webhooks[0].URLSet || len(info.Settings.Webhooks) != 1 {
		t.Fatalf("secrets lost: %+v", info.Settings)
	}
	res, err := f.s.Test(context.Background(), "admin", "webhook:"+info.Settings.Webhooks[0].ID)
	if err != nil || len(res.Results) != 1 || !res.Results[0].OK {
		t.Fatalf("test through the kept URL: %+v %v", res, err)
	}
	if posts := rcv.Posts("/json/" + urlToken); len(posts) != 1 || !strings.Contains(posts[0], "Test message, sent by admin") {
		t.Fatalf("test message: %q", posts)
	}

	p = info.Settings
	p.Email.Password = ptr("")
	if info, err = f.s.Set("admin", p); err != nil || info.Settings.Email.PasswordSet {
		t.Fatalf("clearing the password: %v %+v", err, info.Settings.Email)
	}

	recs, _, err := f.audit.List(audit.Filter{Action: "notifications.set"})
	if err != nil || len(recs) != 3 {
		t.Fatalf("audit: %d records, %v", len(recs), err)
	}
	all, _ := json.Marshal(recs)
	noSecrets(t, "the audit", string(all))
	if !strings.Contains(string(recs[len(recs)-1].Diff), `"field":"email.password"`) || !strings.Contains(string(all), audit.Redacted) {
		t.Fatalf("audit diffs: %s", all)
	}
}

func TestSettingsRefused(t *testing.T) {
	f := newFixture(t)
	good := settings(&smtpd{Port: 587}, nil)
	for _, tc := range []struct {
		field string
		edit  func(*apitype.Notifications)
	}{
		{"minIntervalMinutes", func(n *apitype.Notifications) { n.MinIntervalMinutes = 5000 }},
		{"events[1]", func(n *apitype.Notifications) { n.Events = []string{"parked", "everything"} }},
		{"email.security", func(n *apitype.Notifications) { n.Email.Security = "ssl3" }},
		{"email.security", func(n *apitype.Notifications) { n.Email.Security, n.Email.Host = "none", "smtp.example.com" }},
		{"email.host", func(n *apitype.Notifications) { n.Email.Host = "smtp example com" }},
		{"email.host", func(n *apitype.Notifications) { n.Email.Host = "" }},
		{"email.port", func(n *apitype.Notifications) { n.Email.Port = 70000 }},
		{"email.from", func(n *apitype.Notifications) { n.Email.From = "Lockstep <lockstep@example.com>" }},
		{"email.to[1]", func(n *apitype.Notifications) { n.Email.To = []string{"a@example.com", "not an address"} }},
		{"email.to[0]", func(n *apitype.Notifications) { n.Email.To = []string{"a@example.com\r\nBcc: x@example.com"} }},
		{"email.to", func(n *apitype.Notifications) { n.Email.To = nil }},
		{"email.username", func(n *apitype.Notifications) { n.Email.Username = "" }},
		{"email.password", func(n *apitype.Notifications) { n.Email.Password = ptr("short") }},
		{"webhooks[0].url", func(n *apitype.Notifications) {
			n.Webhooks = []apitype.NotificationWebhook{{Name: "a", URL: ptr("http://hooks.example.com/x")}}
		}},
		{"webhooks[0].url", func(n *apitype.Notifications) {
			n.Webhooks = []apitype.NotificationWebhook{{Name: "a", URL: ptr("https://user:pw@hooks.example.com/x")}}
		}},
		{"webhooks[0].url", func(n *apitype.Notifications) { n.Webhooks = []apitype.NotificationWebhook{{Name: "a"}} }},
		{"webhooks[0].name", func(n *apitype.Notifications) {
			n.Webhooks = []apitype.NotificationWebhook{{Name: "ops\u202e", URL: ptr("https://hooks.example.com/x")}}
		}},
		{"webhooks[0].format", func(n *apitype.Notifications) {
			n.Webhooks = []apitype.NotificationWebhook{{Name: "a", Format: "xml", URL: ptr("https://hooks.example.com/x")}}
		}},
		{"webhooks[0].id", func(n *apitype.Notifications) {
			n.Webhooks = []apitype.NotificationWebhook{{ID: "wh-nope", Name: "a"}}
		}},
	} {
		p := good
		p.Email.To = append([]string(nil), good.Email.To...)
		tc.edit(&p)
		_, err := f.s.Set("admin", p)
		var inv *fault.InvalidError
		if !errors.As(err, &inv) || inv.Field != tc.field {
			t.Errorf("%s: got %v, want an invalid %s", tc.field, err, tc.field)
		}
	}
	if recs, _, _ := f.audit.List(audit.Filter{Action: "notifications.set"}); len(recs) != 0 {
		t.Fatalf("a refused change was saved: %d audit records", len(recs))
	}
}

// TestTestMessage sends the test message through a real SMTP server, and
// shows what goes wrong in words that name no secret.
func TestTestMessage(t *testing.T) {
	srv := startSMTPD(t, true, smtpUser, smtpPassword)
	f := newFixture(t)
	if _, err := f.s.Test(context.Background(), "admin", ""); !errors.Is(err, ErrNoChannel) {
		t.Fatalf("test without channels: %v", err)
	}
	p := settings(srv, nil)
	p.Enabled = false // a test works before notifications are turned on
	p.Webhooks = []apitype.NotificationWebhook{{Name: "closed port", Enabled: true, URL: ptr("http://127.0.0.1:1/hook/" + urlToken)}}
	if _, err := f.s.Set("admin", p); err != nil {
		t.Fatal(err)
	}
	res, err := f.s.Test(context.Background(), "admin", "")
	if err != nil || len(res.Results) != 2 {
		t.Fatalf("test: %+v %v", res, err)
	}
	if r := res.Results[0]; !r.OK || r.Channel != "email" {
		t.Fatalf("email test: %+v", r)
	}
	if r := res.Results[1]; r.OK || !strings.Contains(r.Error, "post to 127.0.0.1:1") {
		t.Fatalf("webhook test: %+v", r)
	}
	noSecrets(t, "the webhook error", res.Results[1].Error)
	mails := srv.Messages(t)
	if len(mails) != 1 || !strings.Contains(mails[0], "Test message, sent by admin") {
		t.Fatalf("test email: %q", mails)
	}

	for _, tc := range []struct {
		name string
		edit func(*apitype.Notifications)
		want string
	}{
		{"wrong password", func(n *apitype.Notifications) { n.Email.Password = ptr("wrong-" + smtpPassword) }, "authenticate as lockstep"},
		{"certificate not trusted", func(n *apitype.Notifications) { n.Email.AllowSelfSigned = false; n.Email.Password = nil }, "certificate"},
		{"nobody listening", func(n *apitype.Notifications) { n.Email.Port = 1 }, "connect to 127.0.0.1:1"},
	} {
		q := p
		q.Webhooks = nil
		tc.edit(&q)
		if _, err := f.s.Set("admin", q); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		res, err := f.s.Test(context.Background(), "admin", "email")
		if err != nil || len(res.Results) != 1 || res.Results[0].OK || !strings.Contains(res.Results[0].Error, tc.want) {
			t.Fatalf("%s: %+v %v", tc.name, res, err)
		}
		noSecrets(t, tc.name, res.Results[0].Error)
	}
	if n := len(srv.Messages(t)); n != 1 {
		t.Fatalf("failed tests delivered mail: %d messages", n)
	}
	recs, _, _ := f.audit.List(audit.Filter{Action: "notifications.test"})
	if len(recs) != 4 || recs[0].Result == audit.Success {
		t.Fatalf("test audit: %+v", recs)
	}
}

// TestStartTLSIsRequired: a server that does not offer STARTTLS gets
// nothing, not even the envelope.
func TestStartTLSIsRequired(t *testing.T) {
	srv := startSMTPD(t, false, "", "")
	f := newFixture(t)
	p := settings(srv, nil)
	p.Email.Username, p.Email.Password = "", nil
	if _, err := f.s.Set("admin", p); err != nil {
		t.Fatal(err)
	}
	res, err := f.s.Test(context.Background(), "admin", "email")
	if err != nil || res.Results[0].OK || !strings.Contains(res.Results[0].Error, "does not offer STARTTLS") {
		t.Fatalf("%+v %v", res, err)
	}
	if n := len(srv.Messages(t)); n != 0 {
		t.Fatalf("%d messages went out without TLS", n)
	}
	// To a relay on this machine, no encryption is allowed when chosen.
	p.Email.Security = apitype.SMTPNone
	if _, err := f.s.Set("admin", p); err != nil {
		t.Fatal(err)
	}
	if res, err := f.s.Test(context.Background(), "admin", "email"); err != nil || !res.Results[0].OK {
		t.Fatalf("plain to localhost: %+v %v", res, err)
	}
	if mails := srv.Messages(t); len(mails) != 1 || !strings.Contains(mails[0], "X-Test-TLS: False") {
		t.Fatalf("plain delivery: %q", mails)
	}
}

// TestDisabledSendsNothing: notices are dropped while notifications are
// off, or for events not chosen.
func TestDisabledSendsNothing(t *testing.T) {
	rcv := startReceiver(t)
	f := newFixture(t)
	p := settings(nil, rcv)
	p.Events = []string{apitype.NotifyLicense}
	info, err := f.s.Set("admin", p)
	if err != nil {
		t.Fatal(err)
	}
	f.publishOutage(10)
	f.bus.Publish(apitype.EventLicenseChanged, map[string]any{"state": "expiring", "reason": "expiry_warning", "daysLeft": 30})
	f.waitPending(t, 1)
	p = info.Settings // the same webhooks, by id
	p.Enabled = false
	if _, err := f.s.Set("admin", p); err != nil {
		t.Fatal(err)
	}
	f.s.Notice(CrashNotice(t0, t0))
	f.clock.Add(time.Hour)
	f.step()
	if n := len(rcv.Posts("/json/" + urlToken)); n != 1 {
		t.Fatalf("%d posts; want the license notice queued before turning off", n)
	}
	if post := rcv.Posts("/json/" + urlToken)[0]; !strings.Contains(post, "expires in 30 days") || strings.Contains(post, "parked") {
		t.Fatalf("post: %s", post)
	}
}

func TestMarker(t *testing.T) {
	m := Marker{Path: filepath.Join(t.TempDir(), "agent.running")}
	if unclean, _, err := m.Begin(t0); err != nil || unclean {
		t.Fatalf("first start: %v %v", unclean, err)
	}
	// No End: the process died.
	unclean, since, err := m.Begin(t0.Add(time.Hour))
	if err != nil || !unclean || !since.Equal(t0) {
		t.Fatalf("after a crash: %v %v %v", unclean, since, err)
	}
	if err := m.End(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(m.Path); !os.IsNotExist(err) {
		t.Fatalf("marker left after a clean stop: %v", err)
	}
	if unclean, _, err := m.Begin(t0.Add(2 * time.Hour)); err != nil || unclean {
		t.Fatalf("after a clean stop: %v %v", unclean, err)
	}
}
