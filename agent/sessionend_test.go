package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// auditRecords reads the whole audit trail through c.
func auditRecords(c *rpcClient) (raw []byte, recs []struct{ Action, Result, Actor string }) {
	var res struct {
		Records json.RawMessage `json:"records"`
	}
	c.call("audit.list", map[string]any{"limit": 1000}, &res)
	if err := json.Unmarshal(res.Records, &recs); err != nil {
		c.t.Fatalf("audit records: %v", err)
	}
	return res.Records, recs
}

func countRecords(recs []struct{ Action, Result, Actor string }, action, result string) int {
	n := 0
	for _, r := range recs {
		if r.Action == action && (result == "" || r.Result == result) {
			n++
		}
	}
	return n
}

// TestSessionEndsKeepTheAuditChain: with the real binary, a session evicted
// by a 26th login and one logged out are each recorded once, a restart
// records no session's end, no token or password reaches the audit trail
// or the log files, and `audit verify` finds the chain intact.
func TestSessionEndsKeepTheAuditChain(t *testing.T) {
	dir, addr := initWithPassword(t)
	stop := start(t, dir)
	login := func(c *rpcClient) string {
		t.Helper()
		var res struct{ Token string }
		c.call("session.login", map[string]string{"username": "admin", "password": cliPassword}, &res)
		if res.Token == "" {
			t.Fatal("a login without a token")
		}
		return res.Token
	}
	tokens := []string{login(dialAgent(t, addr))}
	w := dialAgent(t, addr)
	for range 25 { // 26 sessions: the first is evicted
		tokens = append(tokens, login(w))
	}
	w.call("session.logout", map[string]any{}, nil)
	r := dialAgent(t, addr)
	tokens = append(tokens, login(r))
	raw, recs := auditRecords(r)
	if n := countRecords(recs, "session.end", "evicted"); n != 1 {
		t.Fatalf("%d eviction records, want 1: %s", n, raw)
	}
	if n := countRecords(recs, "session.logout", "success"); n != 1 {
		t.Fatalf("%d logout records, want 1: %s", n, raw)
	}
	ends := countRecords(recs, "session.end", "")
	stop()

	// A restart ends no session: the ones left are stored, and resume.
	stop = start(t, dir)
	r = dialAgent(t, addr)
	r.call("session.resume", map[string]string{"token": tokens[len(tokens)-1]}, nil)
	raw, recs = auditRecords(r)
	if n := countRecords(recs, "session.end", ""); n != ends {
		t.Fatalf("%d session.end records after the restart, %d before: %s", n, ends, raw)
	}
	stop()

	texts := map[string][]byte{"the audit trail": raw}
	filepath.WalkDir(filepath.Join(dir, "logs"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			texts[path], _ = os.ReadFile(path)
		}
		return nil
	})
	if len(texts) < 2 {
		t.Fatal("no log files: the search below would prove little")
	}
	for what, b := range texts {
		for _, s := range append(tokens, cliPassword) {
			if strings.Contains(string(b), s) {
				t.Fatalf("%s carries a token or the password", what)
			}
		}
	}
	if out, errOut, code := agent(t, nil, "audit", "verify", "--data-dir", dir); code != 0 || !strings.Contains(out, "audit chain intact") {
		t.Fatalf("audit verify: %d %q %q", code, out, errOut)
	}
}
