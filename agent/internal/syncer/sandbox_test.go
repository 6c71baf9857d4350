package syncer_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest/rig"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
)

// neighbour spends the sandbox's request budget from another client, a
// request every pause, as a busy system's other users do.
func neighbour(ctx context.Context, url string, pause time.Duration) {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/users", nil)
		req.Header.Set("Authorization", "Bearer "+rig.Token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		time.Sleep(pause)
	}
}

// refuseFirst makes sure the engine meets a 429 from s, not merely shares s
// with a neighbour who does: until the engine's client has been refused,
// the budget is one request a second and a neighbour takes each token as
// soon as it refills. Then the knobs are set back and a neighbour spends
// the budget at an ordinary pace.
func refuseFirst(ctx context.Context, t *testing.T, s *rig.Sandbox, knobs sandbox.Knobs) {
	t.Helper()
	hogged := knobs
	hogged.RatePerSecond, hogged.Burst = 1, 1
	if err := s.Server.SetKnobs(hogged); err != nil {
		t.Fatal(err)
	}
	hog, stop := context.WithCancel(ctx)
	go neighbour(hog, s.URL, 10*time.Millisecond)
	go func() {
		for s.Conn.HTTPStats().RateLimited == 0 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		stop()
		if ctx.Err() == nil {
			s.Server.SetKnobs(knobs)
			neighbour(ctx, s.URL, 60*time.Millisecond)
		}
	}()
}

// TestConvergesThroughFaults syncs two real sandboxes answering 20% of
// requests with 503 and rate limiting the rest (429 with Retry-After),
// their budgets spent by neighbours too: everything converges, nothing is
// duplicated.
func TestConvergesThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("syncs over HTTP with injected faults")
	}
	knobs := sandbox.Knobs{ErrorRate: 0.2, RatePerSecond: 25, Burst: 5}
	a := rig.NewSandbox(t, "HELP", "incident", knobs)
	b := rig.NewSandbox(t, "ENG", "bug", knobs)
	eng := rig.NewEngine(t, rig.Systems{a.ID: a.Conn, b.ID: b.Conn})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	refuseFirst(ctx, t, a, knobs)
	refuseFirst(ctx, t, b, knobs)
	go eng.Serve(ctx)
	const n = 20
	for i := 0; i < n; i++ {
		a.Server.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprint("help ", i), Status: "open", Priority: "low"})
		b.Server.Store().CreateItem(sandbox.NewItem{Project: "ENG", Type: "bug", Title: fmt.Sprint("eng ", i), Status: "open", Priority: "high"})
	}
	p, err := eng.Processes().Create(ctx, "test", syncer.Process{Name: "faults",
		A: syncer.End{System: "sys-HELP", Project: "HELP"}, B: syncer.End{System: "sys-ENG", Project: "ENG"},
		Types: []mapping.TypePair{{A: "incident", B: "bug", Fields: []mapping.FieldPair{
			{A: "title", B: "title", Direction: mapping.Both}, {A: "status", B: "status", Direction: mapping.Both},
			{A: "priority", B: "priority", Direction: mapping.Both}}}},
		Options: syncer.Options{CreateInA: true, CreateInB: true, Comments: true, Conflict: syncer.ConflictAWins}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if _, err := eng.RunNow(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		errs, _ := eng.Views().Errors(p.ID)
		if len(errs) > 0 {
			eng.Retry(p.ID, "", "")
		}
		pairs, _, _ := eng.Views().Pairs(p.ID, "", "", 500)
		ca, cb := count(t, a.Server, "HELP"), count(t, b.Server, "ENG")
		if len(pairs) == 2*n && ca == 2*n && cb == 2*n {
			break
		}
		if ca > 2*n || cb > 2*n {
			t.Fatalf("duplicates: %d and %d items", ca, cb)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no convergence: %d pairs, %d and %d items", len(pairs), ca, cb)
		}
	}
	// The engine's own clients met both faults: 429s on each side (made
	// sure of above), and 5xx answers, seen as retries beyond the 429s (the
	// sandbox is in-process: no network failure causes one). The seeded
	// fifth of hundreds of requests leaves no run without them.
	ha, hb := a.Conn.HTTPStats(), b.Conn.HTTPStats()
	if ha.RateLimited == 0 || hb.RateLimited == 0 || ha.Retries+hb.Retries <= ha.RateLimited+hb.RateLimited {
		t.Fatalf("the engine met no 429 or no 5xx: the test proves nothing: %+v, %+v", ha, hb)
	}
	sa, sb := a.Server.Stats(), b.Server.Stats()
	t.Logf("requests %d+%d, injected faults %d+%d, rate limited %d+%d; engine's clients %+v, %+v", sa.Requests, sb.Requests,
		sa.InjectedFaults, sb.InjectedFaults, sa.RateLimited, sb.RateLimited, ha, hb)
}

func count(t testing.TB, s *sandbox.Server, project string) int {
	n := 0
	q := sandbox.Query{Project: project, Limit: 100}
	for {
		page, err := s.Store().ListItems(q)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Items)
		if page.NextCursor == "" {
			return n
		}
		q.Cursor = page.NextCursor
	}
}

// TestRequestsPerChange counts the API calls of each kind of run against
// two sandboxes, with comments synced: an idle poll is one request per
// side; a change to a synced item writes its peer without reading it
// again (the sandbox refuses a stale If-Match) and lists the comments of
// the changed side only; a comment's echo lists nothing again.
func TestRequestsPerChange(t *testing.T) {
	a := rig.NewSandbox(t, "HELP", "incident", sandbox.Knobs{})
	b := rig.NewSandbox(t, "ENG", "bug", sandbox.Knobs{})
	eng := rig.NewEngine(t, rig.Systems{a.ID: a.Conn, b.ID: b.Conn})
	ctx := context.Background()
	p, err := eng.Processes().Create(ctx, "test", syncer.Process{Name: "requests",
		A: syncer.End{System: "sys-HELP", Project: "HELP"}, B: syncer.End{System: "sys-ENG", Project: "ENG"},
		Types: []mapping.TypePair{{A: "incident", B: "bug", Fields: []mapping.FieldPair{
			{A: "title", B: "title", Direction: mapping.Both}, {A: "priority", B: "priority", Direction: mapping.Both}}}},
		Options: syncer.Options{CreateInA: true, CreateInB: true, Comments: true, Conflict: syncer.ConflictAWins}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	for i := range n {
		it, _ := a.Server.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprint("help ", i), Priority: "low"})
		if i == 0 {
			a.Server.Store().AddComment(it.Key, "alice", "first words")
		}
	}
	run := func(what string) map[string]int64 {
		t.Helper()
		a.Server.ResetStats()
		b.Server.ResetStats()
		r, err := eng.RunNow(ctx, p.ID)
		if err != nil || len(r.Errors) > 0 {
			t.Fatalf("%s: %v %+v", what, err, r.Errors)
		}
		got := map[string]int64{}
		for _, s := range []*rig.Sandbox{a, b} {
			for route, c := range s.Server.Stats().ByRoute {
				got[route] += c
			}
		}
		return got
	}
	total := func(m map[string]int64) (n int64) {
		for _, c := range m {
			n += c
		}
		return n
	}

	created := run("create")
	// The new peers cannot have comments yet: only the sources' are listed.
	if created["POST /api/items"] != n || created["GET /api/items/{id}/comments"] != n || created["POST /api/items/{id}/comments"] != 1 {
		t.Fatalf("create run: %v", created)
	}
	// The copied comment moved its item's version, and the sandbox's
	// answer said from which version to which: nothing else changed the
	// copy, so its comments are not listed again; the echo costs the polls.
	if echo := run("echo"); total(echo) != 2 || echo["GET /api/items"] != 2 {
		t.Fatalf("echo run: %v", echo)
	}
	if idle := run("idle"); total(idle) != 2 || idle["GET /api/items"] != 2 {
		t.Fatalf("idle run: %v", idle)
	}

	retitle(t, a.Server, "HELP")
	updated := run("update")
	if updated["GET /api/items/{id}"] != 0 || updated["PATCH /api/items/{id}"] != n ||
		updated["GET /api/items/{id}/comments"] != n || total(updated) != 3+2*n { // 2 polls, the target's schema
		t.Fatalf("update run: %v", updated)
	}
	// Both sides of one pair changed: the poll read both, still no Get,
	// and each side's change reaches the other.
	page, _ := b.Server.Store().ListItems(sandbox.Query{Project: "ENG", Limit: 1})
	peer := page.Items[0]
	high := "high"
	b.Server.Store().UpdateItem(peer.Key, sandbox.Patch{Priority: &high}, 0)
	var src sandbox.Item
	for _, rl := range mustRemoteLinks(t, b.Server, peer.Key) {
		key := strings.TrimPrefix(rl.GlobalID, "lockstep:sys-HELP:")
		if src, err = a.Server.Store().GetItem(key); err != nil {
			t.Fatal(err)
		}
	}
	title := "both sides moved"
	a.Server.Store().UpdateItem(src.Key, sandbox.Patch{Title: &title}, 0)
	both := run("both sides")
	if both["GET /api/items/{id}"] != 0 {
		t.Fatalf("both sides run read items one by one: %v", both)
	}
	gotA, _ := a.Server.Store().GetItem(src.Key)
	gotB, _ := b.Server.Store().GetItem(peer.Key)
	if gotA.Priority != "high" || gotB.Title != title {
		t.Fatalf("not merged: A %q %q, B %q %q", gotA.Title, gotA.Priority, gotB.Title, gotB.Priority)
	}
}

// TestBacklogInRounds: a backlog larger than a round is polled and worked
// in rounds within one run: everything is copied once, with its comments.
func TestBacklogInRounds(t *testing.T) {
	defer syncer.SetRoundItems(100)()
	bn := newBench(t, sandbox.Knobs{}, true)
	p := bn.proc
	p.Options.Comments = true
	if _, err := bn.eng.Processes().Update(context.Background(), "test", p); err != nil {
		t.Fatal(err)
	}
	const n = 250 // three pages of changes
	for i := range n {
		it, _ := bn.a.Server.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprint("item ", i), Status: "open", Priority: "low"})
		bn.a.Server.Store().AddComment(it.Key, "carol", fmt.Sprint("look at ", i))
	}
	r, err := bn.eng.RunNow(context.Background(), p.ID)
	if err != nil || len(r.Errors) > 0 {
		t.Fatalf("run: %v %+v", err, r.Errors)
	}
	if r.Counts.Created != n || r.Counts.Commented != n || count(t, bn.b.Server, "ENG") != n {
		t.Fatalf("one run over rounds of 100 created %d items and %d comments, ENG holds %d; want %d each",
			r.Counts.Created, r.Counts.Commented, count(t, bn.b.Server, "ENG"), n)
	}
	st := bn.b.Server.Stats()
	if st.ByRoute["POST /api/items"] != n {
		t.Fatalf("%d creates for %d items", st.ByRoute["POST /api/items"], n)
	}
	// Each round polls both sides: ENG's polls read the copies of the
	// rounds before.
	if polls := st.ByRoute["GET /api/items"]; polls < 3 {
		t.Fatalf("ENG was polled %d times: the backlog was not worked in rounds", polls)
	}
}

func mustRemoteLinks(t *testing.T, s *sandbox.Server, key string) []sandbox.RemoteLink {
	t.Helper()
	rls, err := s.Store().RemoteLinks(key)
	if err != nil || len(rls) == 0 {
		t.Fatalf("remote links of %s: %v %v", key, rls, err)
	}
	return rls
}
