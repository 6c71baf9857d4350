package rpc_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/app"
	"github.com/lockstep-sync/lockstep/shared/apitype"
	"github.com/lockstep-sync/lockstep/shared/protocol"
)

// sessionID is the id the agent names a session by in its audit records
// and logs: the first 16 hex digits of the SHA-256 of the token's bytes.
func sessionID(t *testing.T, token apitype.Secret) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token.Reveal())
	if err != nil {
		t.Fatalf("a token that is not base64url: %v", err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])[:16]
}

// sessionFacts is the diff of a session's audit records.
type sessionFacts struct {
	Session    string    `json:"session"`
	LoggedInAt time.Time `json:"loggedInAt"`
	LastUsedAt time.Time `json:"lastUsedAt"`
	EndedAt    time.Time `json:"endedAt"`
	By         string    `json:"by"`
}

// sessionRecords are the records of action that name session id, oldest
// first, read through r.
func sessionRecords(t *testing.T, r *client, action, id string) []apitype.AuditRecord {
	t.Helper()
	var out []apitype.AuditRecord
	for _, rec := range callOK(t, r, protocol.AuditList, apitype.AuditListParams{Action: action, Limit: 1000}).Records {
		var f sessionFacts
		if err := json.Unmarshal(rec.Diff, &f); err != nil {
			t.Fatalf("record %d (%s): diff %s: %v", rec.Seq, rec.Action, rec.Diff, err)
		}
		if f.Session == id {
			out = append([]apitype.AuditRecord{rec}, out...)
		}
	}
	return out
}

func factsOf(t *testing.T, rec apitype.AuditRecord) sessionFacts {
	t.Helper()
	var f sessionFacts
	if err := json.Unmarshal(rec.Diff, &f); err != nil {
		t.Fatalf("record %d: diff %s: %v", rec.Seq, rec.Diff, err)
	}
	return f
}

// loginOn dials, says hello and logs in, and returns the login's answer too.
func (ag *agent) loginOn(t *testing.T) (*client, apitype.LoginResult) {
	t.Helper()
	c, _, err := dial(t, ag.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.hello()
	return c, c.login("admin", adminPassword)
}

// checkNothingSecret fails if the audit trail, the agent's log (through
// logs.query) or its log files on disk carry a token or the password.
func checkNothingSecret(t *testing.T, ag *agent, r *client, tokens ...apitype.Secret) {
	t.Helper()
	canaries := []string{adminPassword}
	for _, tok := range tokens {
		canaries = append(canaries, tok.Reveal())
	}
	audit := callOK(t, r, protocol.AuditList, apitype.AuditListParams{Limit: 1000})
	logs := callOK(t, r, protocol.LogsQuery, apitype.LogsQueryParams{MinLevel: "trace", Limit: 10000})
	if len(audit.Records) == 0 || len(logs.Lines) == 0 {
		t.Fatal("no audit records or no log lines: the search below would prove nothing")
	}
	texts := map[string][]byte{}
	texts["the audit trail"], _ = json.Marshal(audit)
	texts["the log"], _ = json.Marshal(logs)
	filepath.WalkDir(filepath.Join(ag.dir, "logs"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			texts[path], _ = os.ReadFile(path)
		}
		return nil
	})
	for what, b := range texts {
		for _, c := range canaries {
			if c == "" || strings.Contains(string(b), c) {
				t.Fatalf("%s carries a token or the password", what)
			}
		}
	}
	if v := callOK(t, r, protocol.AuditVerify, apitype.Empty{}); !v.OK {
		t.Fatalf("the audit chain is broken: %+v", v)
	}
}

// TestTimedOutSessionIsAudited: a session whose connection is ended at its
// timeout (idle, or 12 h after its login) leaves one session.end record,
// whose result says which, naming the account and the session (never the
// token), written by the time the connection is told.
func TestTimedOutSessionIsAudited(t *testing.T) {
	cases := []struct {
		name string
		why  string
		// live moves the clock to a minute before the session's end.
		live func(t *testing.T, c *client, clock *fakeClock)
	}{
		{"idle", "timeout", func(t *testing.T, c *client, clock *fakeClock) {
			clock.Advance(10 * time.Minute)
			callOK(t, c, protocol.SessionWhoami, apitype.Empty{})
			clock.Advance(29 * time.Minute)
		}},
		{"absolute", "expired", func(t *testing.T, c *client, clock *fakeClock) {
			absolute := clock.Now().Add(12 * time.Hour)
			for clock.Now().Add(25 * time.Minute).Before(absolute.Add(-time.Minute)) {
				clock.Advance(25 * time.Minute)
				callOK(t, c, protocol.SessionWhoami, apitype.Empty{})
			}
			clock.Advance(absolute.Add(-time.Minute).Sub(clock.Now()))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ag, clock := clockedAgent(t)
			c, login := ag.loginOn(t)
			id := sessionID(t, login.Token)
			callOK(t, c, protocol.EventsSubscribe, apitype.EventsSubscribeParams{})
			tc.live(t, c, clock)
			for _, m := range c.flush() {
				if isSessionExpired(m) {
					t.Fatal("the session ended early")
				}
			}
			clock.Advance(2 * time.Minute)
			c.waitSessionExpired()

			r, rl := ag.loginOn(t)
			ends := sessionRecords(t, r, "session.end", id)
			if len(ends) != 1 {
				t.Fatalf("%d session.end records of the session, want 1: %+v", len(ends), ends)
			}
			e := ends[0]
			if e.Result != tc.why || e.Actor != "admin" || e.Target != "account:admin" {
				t.Fatalf("record %+v: want result %s, actor admin, target account:admin", e, tc.why)
			}
			if f := factsOf(t, e); f.EndedAt.After(e.Time) || f.LoggedInAt.IsZero() || f.By != "" {
				t.Fatalf("facts %+v of a record written at %v", f, e.Time)
			}
			if logins := sessionRecords(t, r, "session.login", id); len(logins) != 1 || logins[0].Result != "success" {
				t.Fatalf("the session's login records: %+v", logins)
			}
			// The ended session stays ended, once.
			if _, e := call(c, protocol.SessionWhoami, apitype.Empty{}); kindOf(e) != protocol.KindUnauthorized {
				t.Fatalf("a call after the session timed out: %v", e)
			}
			clock.Advance(time.Minute)
			if n := len(sessionRecords(t, r, "session.end", id)); n != 1 {
				t.Fatalf("%d session.end records after more time", n)
			}
			checkNothingSecret(t, ag, r, login.Token, rl.Token)
		})
	}
}

// TestEvictedSessionIsAuditedBeforeItIsTold: a 26th login ends the
// account's least recently used session; by the time that session's
// connection is told, the audit trail shows the login and the eviction
// (result evicted, naming the evicted session and the one that evicted it).
func TestEvictedSessionIsAuditedBeforeItIsTold(t *testing.T) {
	ag, clock := clockedAgent(t)
	oldest, first := ag.loginOn(t)
	clock.Advance(time.Minute)
	w, _ := ag.loginOn(t)
	tokens := []apitype.Secret{first.Token}
	var last apitype.LoginResult
	for range 24 { // w's sessions: 25 with oldest's, then a 26th
		last = w.login("admin", adminPassword)
		tokens = append(tokens, last.Token)
	}
	oldest.waitSessionExpired()
	// Read at once, on another connection: nothing is left to be written.
	r, rl := ag.loginOn(t)
	ends := sessionRecords(t, r, "session.end", sessionID(t, first.Token))
	if len(ends) != 1 {
		t.Fatalf("%d session.end records of the evicted session, want 1: %+v", len(ends), ends)
	}
	f := factsOf(t, ends[0])
	if ends[0].Result != "evicted" || ends[0].Actor != "admin" || f.By != sessionID(t, last.Token) {
		t.Fatalf("eviction record %+v %+v: want evicted by %s", ends[0], f, sessionID(t, last.Token))
	}
	logins := sessionRecords(t, r, "session.login", f.By)
	if len(logins) != 1 || logins[0].Seq > ends[0].Seq {
		t.Fatalf("the evicting login's records %+v, the eviction %d", logins, ends[0].Seq)
	}
	checkNothingSecret(t, ag, r, append(tokens, rl.Token)...)
}

// TestLoggedOutSessionIsAuditedOnce: a logout is recorded once, naming the
// session; its timeout coming round later records nothing.
func TestLoggedOutSessionIsAuditedOnce(t *testing.T) {
	ag, clock := clockedAgent(t)
	c, login := ag.loginOn(t)
	id := sessionID(t, login.Token)
	callOK(t, c, protocol.EventsSubscribe, apitype.EventsSubscribeParams{})
	clock.Advance(20 * time.Minute)
	callOK(t, c, protocol.SessionLogout, apitype.Empty{})
	clock.Advance(13 * time.Hour)
	for _, m := range c.flush() {
		t.Errorf("after its logout the connection was sent %s %s", m.Method, m.Params)
	}
	r, rl := ag.loginOn(t)
	if outs := sessionRecords(t, r, "session.logout", id); len(outs) != 1 || outs[0].Actor != "admin" {
		t.Fatalf("logout records %+v", outs)
	}
	if ends := sessionRecords(t, r, "session.end", id); len(ends) != 0 {
		t.Fatalf("a logged-out session was recorded as ended again: %+v", ends)
	}
	checkNothingSecret(t, ag, r, login.Token, rl.Token)
}

// TestRestartRecordsNoSessionEnd: sessions live in the store, so they
// survive the agent's restart: a restart records nothing for them, and a
// client resumes its session after it. A session that timed out while the
// agent was stopped is recorded once, by the first sweep after the start,
// as ended at its deadline, before the restart.
func TestRestartRecordsNoSessionEnd(t *testing.T) {
	first := startAgent(t)
	first.stop()
	clock := &fakeClock{}
	opts := app.Options{DataDir: first.dir, Now: clock.Now, AfterFunc: clock.AfterFunc}
	ag := runAgent(t, opts)
	kept, keptLogin := ag.loginOn(t)
	_, lapsedLogin := ag.loginOn(t)
	callOK(t, kept, protocol.EventsSubscribe, apitype.EventsSubscribeParams{})
	clock.Advance(20 * time.Minute)
	callOK(t, kept, protocol.SessionWhoami, apitype.Empty{}) // kept used, lapsed not
	beforeStop := clock.Now()
	ag.stop()

	clock.Advance(15 * time.Minute) // while stopped: lapsed's idle deadline passes, kept's not
	ag = runAgent(t, opts)
	c, _, err := dial(t, ag.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.hello()
	if _, e := call(c, protocol.SessionResume, apitype.ResumeParams{Token: keptLogin.Token}); e != nil {
		t.Fatalf("resume after the restart: %v", e)
	}
	lapsedID, keptID := sessionID(t, lapsedLogin.Token), sessionID(t, keptLogin.Token)
	var lapsed []apitype.AuditRecord
	agenttest.Eventually(t, "the first sweep to record the lapsed session's end", func() bool {
		lapsed = sessionRecords(t, c, "session.end", lapsedID)
		return len(lapsed) > 0
	})
	if len(lapsed) != 1 || lapsed[0].Result != "timeout" {
		t.Fatalf("the lapsed session's records %+v", lapsed)
	}
	if f := factsOf(t, lapsed[0]); !f.EndedAt.Equal(f.LastUsedAt.Add(30*time.Minute)) || !f.EndedAt.Before(beforeStop.Add(15*time.Minute)) || !lapsed[0].Time.After(beforeStop) {
		t.Fatalf("the lapsed session's end %+v, recorded at %v (agent stopped at %v)", f, lapsed[0].Time, beforeStop)
	}
	// Nothing else ended: the restart is no session's end.
	all := callOK(t, c, protocol.AuditList, apitype.AuditListParams{Action: "session.end", Limit: 1000}).Records
	if len(all) != 1 {
		t.Fatalf("session.end records after the restart: %+v", all)
	}
	// The resumed session ends at its own time, recorded once.
	clock.Advance(31 * time.Minute)
	c.waitSessionExpired()
	r, rl := ag.loginOn(t)
	if ends := sessionRecords(t, r, "session.end", keptID); len(ends) != 1 || ends[0].Result != "timeout" {
		t.Fatalf("the resumed session's end: %+v", ends)
	}
	checkNothingSecret(t, ag, r, keptLogin.Token, lapsedLogin.Token, rl.Token)
}
