package alert

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/shared/apitype"
)

var t0 = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

// canary stands for a field value or a secret in an error text: it must
// never reach a message.
const canary = "CANARY-field-value-7d3f"

func event(t *testing.T, typ string, data any) events.Event {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return events.Event{Seq: 1, Time: t0, Type: typ, Data: raw}
}

func TestFromEvent(t *testing.T) {
	since := t0.Add(-time.Hour)
	for _, tc := range []struct {
		name string
		ev   events.Event
		want *Notice
	}{
		{"parked pair, its error text dropped",
			event(t, apitype.EventPairFailed, map[string]any{"process": "p1", "side": "a", "entity": "101", "key": "HELP-7", "pair": "pr1",
				"error": "field summary: value " + canary + " is too long"}),
			&Notice{Kind: KindParked, Subject: "process", ID: "p1", Key: "HELP-7", At: t0}},
		{"parked pair without a key uses the entity id",
			event(t, apitype.EventPairFailed, map[string]any{"process": "p1", "entity": "101"}),
			&Notice{Kind: KindParked, Subject: "process", ID: "p1", Key: "101", At: t0}},
		{"a key with control characters is flattened",
			event(t, apitype.EventPairFailed, map[string]any{"process": "p1", "key": "A\r\nSubject: x\u202e"}),
			&Notice{Kind: KindParked, Subject: "process", ID: "p1", Key: "A  Subject: x", At: t0}},
		{"system starts failing: cause kept, problem and detail dropped",
			event(t, apitype.EventHealthChanged, apitype.HealthChanged{Kind: "system", ID: "s1", Name: "Jira prod", Previous: "ok",
				Health: apitype.Health{State: "failing", Cause: "unauthorized", Since: &since, Problem: "refused " + canary, Detail: canary}}),
			&Notice{Kind: KindFailing, Subject: "system", ID: "s1", Name: "Jira prod", Cause: "unauthorized", Since: since, At: t0}},
		{"a new process failing at once",
			event(t, apitype.EventHealthChanged, apitype.HealthChanged{Kind: "process", ID: "p2", Name: "Sync", Previous: "",
				Health: apitype.Health{State: "failing", Cause: "unavailable"}}),
			&Notice{Kind: KindFailing, Subject: "process", ID: "p2", Name: "Sync", Cause: "unavailable", At: t0}},
		{"recovered",
			event(t, apitype.EventHealthChanged, apitype.HealthChanged{Kind: "process", ID: "p2", Name: "Sync", Previous: "failing",
				Health: apitype.Health{State: "ok"}}),
			&Notice{Kind: KindRecovered, Subject: "process", ID: "p2", Name: "Sync", At: t0}},
		{"a system saved despite its failing test: the administrator knew",
			event(t, apitype.EventHealthChanged, apitype.HealthChanged{Kind: "system", ID: "s1", Name: "Jira prod", Previous: "", Acknowledged: true,
				Health: apitype.Health{State: "failing", Cause: "test", Acknowledged: true}}), nil},
		{"the end of a failure saved anyway",
			event(t, apitype.EventHealthChanged, apitype.HealthChanged{Kind: "system", ID: "s1", Name: "Jira prod", Previous: "failing", Acknowledged: true,
				Health: apitype.Health{State: "ok"}}), nil},
		{"a failing process deactivated has not recovered",
			event(t, apitype.EventHealthChanged, apitype.HealthChanged{Kind: "process", ID: "p2", Name: "Sync", Previous: "failing",
				Health: apitype.Health{State: "inactive"}}), nil},
		{"still failing with another problem: no new notice",
			event(t, apitype.EventHealthChanged, apitype.HealthChanged{Kind: "process", ID: "p2", Previous: "failing",
				Health: apitype.Health{State: "failing", Cause: "forbidden"}}), nil},
		{"degraded (parked pairs are notified one by one)",
			event(t, apitype.EventHealthChanged, apitype.HealthChanged{Kind: "process", ID: "p2", Previous: "ok",
				Health: apitype.Health{State: "degraded"}}), nil},
		{"license expiry warning",
			event(t, apitype.EventLicenseChanged, map[string]any{"state": "expiring", "reason": "expiry_warning", "daysLeft": 7, "message": "ACME " + canary}),
			&Notice{Kind: KindLicense, Subject: "license", Cause: "expiry_warning", DaysLeft: 7, At: t0}},
		{"license over its user limit",
			event(t, apitype.EventLicenseChanged, map[string]any{"state": "valid", "reason": "users_over_limit"}),
			&Notice{Kind: KindLicense, Subject: "license", Cause: "users_over_limit", At: t0}},
		{"license expired",
			event(t, apitype.EventLicenseChanged, map[string]any{"state": "expired", "reason": "state"}),
			&Notice{Kind: KindLicense, Subject: "license", Cause: "expired", At: t0}},
		{"a license import is the administrator's own doing",
			event(t, apitype.EventLicenseChanged, map[string]any{"state": "valid", "reason": "imported"}), nil},
		{"a license becoming valid", event(t, apitype.EventLicenseChanged, map[string]any{"state": "valid", "reason": "state"}), nil},
		{"other events", event(t, apitype.EventRunFinished, map[string]any{"process": "p1", "errors": 3}), nil},
		{"malformed data", events.Event{Type: apitype.EventPairFailed, Data: []byte(`[1,2]`)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := FromEvent(tc.ev)
			if tc.want == nil {
				if ok {
					t.Fatalf("got a notice %+v, want none", got)
				}
				return
			}
			if !ok || fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", *tc.want) {
				t.Fatalf("got %+v (%v)\nwant %+v", got, ok, *tc.want)
			}
		})
	}
}

func TestBatchIsBounded(t *testing.T) {
	b := newBatch()
	for i := range 10000 {
		b.add(Notice{Kind: KindParked, Subject: "process", ID: "p1", Key: fmt.Sprintf("HELP-%d", i), At: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	for i := range 120 {
		b.add(Notice{Kind: KindFailing, Subject: "process", ID: fmt.Sprintf("q%d", i), Cause: "unavailable", At: t0})
	}
	if b.total != 10120 || len(b.groups) != maxGroups || b.omitted != 10120-10000-(maxGroups-1) {
		t.Fatalf("total %d, groups %d, omitted %d", b.total, len(b.groups), b.omitted)
	}
	g := b.groups[Notice{Kind: KindParked, Subject: "process", ID: "p1"}.group()]
	if g.Count != 10000 || len(g.Keys) != maxKeys || g.Keys[0] != "HELP-0" || !g.LastAt.Equal(t0.Add(9999*time.Millisecond)) {
		t.Fatalf("parked group: %+v", g)
	}
	m := render(b, Agent{Host: "h1", InstanceID: "i1", Version: "1.0"}, t0, nil)
	if len(m.Lines) != maxGroups || !strings.Contains(m.Text(), fmt.Sprintf("and %d more notices", b.omitted)) {
		t.Fatalf("message: %d lines\n%s", len(m.Lines), m.Text())
	}
	if !strings.Contains(m.Text(), "10000 pairs parked after permanent errors: HELP-0, HELP-1, HELP-2, HELP-3, HELP-4 and 9995 more.") {
		t.Fatalf("message:\n%s", m.Text())
	}
}

func TestMergeKeepsEverything(t *testing.T) {
	a, b := newBatch(), newBatch()
	a.add(Notice{Kind: KindParked, Subject: "process", ID: "p1", Key: "K-1", At: t0.Add(time.Minute)})
	b.add(Notice{Kind: KindParked, Subject: "process", ID: "p1", Key: "K-2", At: t0})
	b.add(Notice{Kind: KindCrash, Subject: "agent", At: t0.Add(2 * time.Minute)})
	a.merge(b)
	g := a.groups[Notice{Kind: KindParked, Subject: "process", ID: "p1"}.group()]
	if a.total != 3 || len(a.groups) != 2 || g.Count != 2 || !a.oldest.Equal(t0) || !g.FirstAt.Equal(t0) || len(g.Keys) != 2 {
		t.Fatalf("merged: total %d groups %d oldest %v group %+v", a.total, len(a.groups), a.oldest, g)
	}
	if s := a.sorted(); s[0].Notice.Kind != KindCrash {
		t.Fatalf("a crash is listed first: %+v", s)
	}
}

func TestDue(t *testing.T) {
	p := Pacing{GroupWait: 30 * time.Second, MinInterval: 5 * time.Minute}
	one := newBatch()
	one.add(Notice{Kind: KindCrash, Subject: "agent", At: t0})
	for _, tc := range []struct {
		name              string
		now               time.Time
		pending           *batch
		lastSent, retryAt time.Time
		want              bool
	}{
		{"nothing pending", t0.Add(time.Hour), newBatch(), time.Time{}, time.Time{}, false},
		{"waiting for more", t0.Add(29 * time.Second), one, time.Time{}, time.Time{}, false},
		{"waited enough", t0.Add(30 * time.Second), one, time.Time{}, time.Time{}, true},
		{"too soon after the last message", t0.Add(time.Minute), one, t0.Add(-3*time.Minute - 59*time.Second), time.Time{}, false},
		{"interval over", t0.Add(time.Minute), one, t0.Add(-4*time.Minute - time.Second), time.Time{}, true},
		{"backing off after a failure", t0.Add(time.Minute), one, time.Time{}, t0.Add(2 * time.Minute), false},
		{"backoff over", t0.Add(2 * time.Minute), one, time.Time{}, t0.Add(2 * time.Minute), true},
	} {
		if got := due(tc.now, tc.pending, tc.lastSent, tc.retryAt, p); got != tc.want {
			t.Errorf("%s: due %v, want %v", tc.name, got, tc.want)
		}
	}
	for failures, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 7: 30 * time.Minute, 50: 30 * time.Minute} {
		if got := backoff(failures); got != want {
			t.Errorf("backoff(%d) = %v, want %v", failures, got, want)
		}
	}
}

func TestMessageFormats(t *testing.T) {
	b := newBatch()
	since := t0.Add(-90 * time.Minute)
	b.add(Notice{Kind: KindParked, Subject: "process", ID: "p1", Key: "HELP-1", At: t0})
	b.add(Notice{Kind: KindParked, Subject: "process", ID: "p1", Key: "HELP-2", At: t0})
	b.add(Notice{Kind: KindFailing, Subject: "system", ID: "s1", Name: "Jira <prod> & co", Cause: "unauthorized", Since: since, At: t0})
	b.add(Notice{Kind: KindLicense, Subject: "license", Cause: "expiry_warning", DaysLeft: 7, At: t0})
	b.add(Notice{Kind: KindCrash, Subject: "agent", Since: since, At: t0})
	b.add(Notice{Kind: KindRecovered, Subject: "process", ID: "p2", At: t0})
	names := func(subject, id string) string {
		if subject == "process" && id == "p1" {
			return "Helpdesk \u21c4 Engineering"
		}
		return ""
	}
	m := render(b, Agent{InstanceID: "inst-1", Host: "sync01", Version: "1.2.3"}, t0, names)
	wantLines := []string{
		"The agent restarted after an unclean shutdown: the run started 2026-05-04 08:30 UTC did not stop cleanly (a crash, a kill or a power loss).",
		`System "Jira <prod> & co" (s1) is failing (unauthorized) since 2026-05-04 08:30 UTC.`,
		"The license expires in 7 days.",
		`Process "Helpdesk ⇄ Engineering" (p1): 2 pairs parked after permanent errors: HELP-1, HELP-2.`,
		"Process p2 works again.",
	}
	if strings.Join(m.Lines, "\n") != strings.Join(wantLines, "\n") {
		t.Fatalf("lines:\n%s", strings.Join(m.Lines, "\n"))
	}
	if m.Summary != "Lockstep on sync01: the agent restarted after an unclean shutdown (+4 more)" {
		t.Fatalf("summary %q", m.Summary)
	}
	if !strings.Contains(m.Text(), "Agent sync01 (instance inst-1, version 1.2.3)") {
		t.Fatalf("text:\n%s", m.Text())
	}

	var slack map[string]string
	if err := json.Unmarshal(m.Slack(), &slack); err != nil || len(slack) != 1 {
		t.Fatalf("slack body %s: %v", m.Slack(), err)
	}
	if !strings.Contains(slack["text"], `System "Jira &lt;prod&gt; &amp; co" (s1)`) || strings.Contains(slack["text"], "<prod>") {
		t.Fatalf("slack text is not escaped: %s", slack["text"])
	}

	var teams struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type    string `json:"type"`
				Version string `json:"version"`
				Body    []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(m.Teams(), &teams); err != nil {
		t.Fatal(err)
	}
	card := teams.Attachments[0]
	if teams.Type != "message" || card.ContentType != "application/vnd.microsoft.card.adaptive" || card.Content.Type != "AdaptiveCard" ||
		len(card.Content.Body) != 2+len(wantLines) || card.Content.Body[0].Text != m.Summary || card.Content.Body[3].Text != "- "+wantLines[2] {
		t.Fatalf("teams card: %s", m.Teams())
	}

	var doc struct {
		Schema  int               `json:"schema"`
		Agent   map[string]string `json:"agent"`
		Notices []jsonNotice      `json:"notices"`
	}
	if err := json.Unmarshal(m.JSON(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != 1 || doc.Agent["instanceId"] != "inst-1" || len(doc.Notices) != 5 {
		t.Fatalf("json: %s", m.JSON())
	}
	parked := doc.Notices[3]
	if parked.Kind != KindParked || parked.ID != "p1" || parked.Count != 2 || strings.Join(parked.Keys, ",") != "HELP-1,HELP-2" || parked.Name == "" {
		t.Fatalf("json parked notice: %+v", parked)
	}
	if failing := doc.Notices[1]; failing.Cause != "unauthorized" || failing.Since == nil || *failing.Since != "2026-05-04T08:30:00Z" {
		t.Fatalf("json failing notice: %+v", failing)
	}
}

func TestEmailBytes(t *testing.T) {
	b := newBatch()
	b.add(Notice{Kind: KindFailing, Subject: "process", ID: "p1", Name: "Überweisung sync", Cause: "unavailable", At: t0})
	m := render(b, Agent{Host: "sync01"}, t0, nil)
	raw := string(emailBytes(emailConfig{From: "lockstep@example.com", To: []string{"a@example.com", "b@example.com"}}, "sync01", m))
	for _, want := range []string{"From: lockstep@example.com\r\n", "To: a@example.com, b@example.com\r\n",
		"Subject: =?utf-8?q?Lockstep_on_sync01:_process_\"=C3=9Cberweisung_sync\"_is_failing?=\r\n",
		"Content-Transfer-Encoding: quoted-printable\r\n", "Auto-Submitted: auto-generated\r\n", "@sync01>\r\n",
		"Date: Mon, 04 May 2026 10:00:00 +0000\r\n"} {
		if !strings.Contains(raw, want) {
			t.Errorf("message lacks %q:\n%s", want, raw)
		}
	}
}

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"HELP-1":                 "HELP-1",
		"a\x00b\tc\nd":           "a b c d",
		"evil\u202etxt.exe":      "evil txt.exe",
		"line\u2028sep":          "line sep",
		strings.Repeat("x", 200): strings.Repeat("x", maxText) + "…",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}
