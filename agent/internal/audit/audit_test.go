package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
)

func openLog(t *testing.T) (*Log, *store.Store) {
	t.Helper()
	st := agenttest.Store(t)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return New(st, func() time.Time { clock = clock.Add(time.Minute); return clock }), st
}

func fill(t *testing.T, l *Log, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		actor := "alice"
		if i%2 == 1 {
			actor = "bob"
		}
		if _, err := l.Append(Entry{Actor: actor, Action: "systems.update", Target: "system:s1", Result: Success,
			Diff: Diff(map[string]any{"name": "a", "token": "old"}, map[string]any{"name": "b", "token": "new"}, "token")}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendListVerify(t *testing.T) {
	l, _ := openLog(t)
	fill(t, l, 25)
	recs, next, err := l.List(Filter{Limit: 10})
	if err != nil || len(recs) != 10 || recs[0].Seq != 25 || next != 16 {
		t.Fatalf("page 1: %d records, first %d, next %d, %v", len(recs), recs[0].Seq, next, err)
	}
	recs, next, _ = l.List(Filter{Limit: 10, Before: next})
	if recs[0].Seq != 15 {
		t.Fatalf("page 2 starts at %d", recs[0].Seq)
	}
	bobs, _, _ := l.List(Filter{Actor: "bob", Limit: 100})
	if len(bobs) != 12 {
		t.Fatalf("bob has %d records", len(bobs))
	}
	if strings.Contains(string(recs[0].Diff), "old") || strings.Contains(string(recs[0].Diff), "new") {
		t.Fatalf("diff leaks a secret: %s", recs[0].Diff)
	}
	v, err := l.Verify()
	if err != nil || !v.OK || v.Records != 25 {
		t.Fatalf("verify: %+v %v", v, err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	cases := map[string]func(*testing.T, *store.Store){
		"modified record": func(t *testing.T, st *store.Store) {
			var r Record
			st.Get(key(7), &r)
			r.Actor = "mallory"
			st.Put(key(7), r)
		},
		"modified and rehashed record": func(t *testing.T, st *store.Store) {
			var r Record
			st.Get(key(7), &r)
			r.Result = Failure
			r.Hash = hashOf(r)
			st.Put(key(7), r)
		},
		"deleted record":      func(t *testing.T, st *store.Store) { st.Delete(key(7)) },
		"deleted last record": func(t *testing.T, st *store.Store) { st.Delete(key(10)) },
		"garbage record": func(t *testing.T, st *store.Store) {
			st.Update(func(tx *store.Tx) error { return tx.SetRaw(key(7), []byte("{")) })
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			l, st := openLog(t)
			fill(t, l, 10)
			tamper(t, st)
			v, err := l.Verify()
			if err != nil {
				t.Fatal(err)
			}
			if v.OK || v.BrokenAt == 0 || v.Problem == "" {
				t.Fatalf("tampering not detected: %+v", v)
			}
			if name != "deleted last record" && v.BrokenAt != 7 && v.BrokenAt != 8 {
				t.Fatalf("broken at %d, want 7 or 8", v.BrokenAt)
			}
		})
	}
}

func TestDiffRedactsSecrets(t *testing.T) {
	d := Diff(map[string]any{"url": "https://a", "token": "s3cret", "port": 1},
		map[string]any{"url": "https://b", "token": "n3w", "port": 1.0}, "token")
	b, _ := json.Marshal(d)
	if strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "n3w") {
		t.Fatalf("secret in diff: %s", b)
	}
	if len(d) != 2 || d[0].Field != "token" || d[1].Field != "url" {
		t.Fatalf("diff = %s", b)
	}
}

// TestListClampsToTheMaximum: a limit above the maximum gets the maximum,
// never the small default page (which a caller would take for the whole
// list).
func TestListClampsToTheMaximum(t *testing.T) {
	l, st := openLog(t)
	if err := st.Update(func(tx *store.Tx) error {
		for i := 0; i < MaxListLimit+1; i++ {
			if _, err := l.AppendTx(tx, Entry{Actor: "alice", Action: "systems.update", Target: "system:s1", Result: Success}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	recs, next, err := l.List(Filter{Limit: 5 * MaxListLimit})
	if err != nil || len(recs) != MaxListLimit || next == 0 {
		t.Fatalf("limit above the maximum: %d records, next %d, %v; want %d and a cursor", len(recs), next, err, MaxListLimit)
	}
}
