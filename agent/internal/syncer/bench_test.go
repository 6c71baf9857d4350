package syncer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest"
	"github.com/lockstep-sync/lockstep/agent/agenttest/rig"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
)

type bench struct {
	a, b *rig.Sandbox
	eng  *syncer.Engine
	proc syncer.Process
	st   *store.Store
}

func newBench(t testing.TB, knobs sandbox.Knobs, encrypted bool) *bench {
	t.Helper()
	a := rig.NewSandbox(t, "HELP", "incident", knobs)
	b := rig.NewSandbox(t, "ENG", "bug", knobs)
	var st *store.Store
	eng := rig.NewEngine(t, rig.Systems{a.ID: a.Conn, b.ID: b.Conn}, func(d *syncer.Deps) {
		if !encrypted { // the same store without encryption, to measure what it costs
			d.Store = agenttest.StoreAt(t, t.TempDir(), nil)
		}
		st = d.Store
	})
	p, err := eng.Processes().Create(context.Background(), "bench", syncer.Process{Name: "bench",
		A: syncer.End{System: "sys-HELP", Project: "HELP"}, B: syncer.End{System: "sys-ENG", Project: "ENG"},
		Types: []mapping.TypePair{{A: "incident", B: "bug", Fields: []mapping.FieldPair{
			{A: "title", B: "title", Direction: mapping.Both}, {A: "status", B: "status", Direction: mapping.Both},
			{A: "priority", B: "priority", Direction: mapping.Both}}}},
		Options: syncer.Options{CreateInA: true, CreateInB: true, Conflict: syncer.ConflictAWins}})
	if err != nil {
		t.Fatal(err)
	}
	return &bench{a: a, b: b, eng: eng, proc: p, st: st}
}

func (bn *bench) seed(n int) {
	for i := 0; i < n; i++ {
		bn.a.Server.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprint("item ", i), Status: "open", Priority: "low"})
	}
}

func requests(sides ...*rig.Sandbox) int64 {
	var n int64
	for _, s := range sides {
		n += s.Server.Stats().Requests
	}
	return n
}

// retitle changes the title of every item of a sandbox project, as its
// users would, and returns a time before the first change. Every item is
// listed first: an edit moves its item to the end of the list, so editing
// while paging would meet the edited items again and never end.
func retitle(t testing.TB, s *sandbox.Server, project string) time.Time {
	t.Helper()
	since := time.Now().Add(-time.Millisecond)
	var items []sandbox.Item
	for q := (sandbox.Query{Project: project, Limit: 100}); ; {
		page, err := s.Store().ListItems(q)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, page.Items...)
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			break
		}
	}
	for _, it := range items {
		title := it.Title + " (edited)"
		if _, err := s.Store().UpdateItem(it.Key, sandbox.Patch{Title: &title}, 0); err != nil {
			t.Fatal(err)
		}
	}
	return since
}

// versus is one comparison of the engine with a bare client.
type versus struct {
	engine, bare                  time.Duration // new items
	engineUpd, bareUpd            time.Duration // a change to each
	perChange, perUpdate, perIdle float64       // the engine's requests
}

// versusBare syncs n new items, then a change to each of them, with the
// engine and with a bare client given the engine's parallelism, each
// against its own pair of sandboxes answering after latency.
func versusBare(b *testing.B, n int, latency time.Duration) versus {
	ctx := context.Background()
	var v versus
	bn := newBench(b, sandbox.Knobs{Latency: latency}, true)
	bn.seed(n)
	before := requests(bn.a, bn.b)
	start := time.Now()
	if _, err := bn.eng.RunNow(ctx, bn.proc.ID); err != nil {
		b.Fatal(err)
	}
	v.engine = time.Since(start)
	if got := count(b, bn.b.Server, "ENG"); got != n {
		b.Fatalf("engine synced %d of %d", got, n)
	}
	v.perChange = float64(requests(bn.a, bn.b)-before) / float64(n)
	bn.eng.RunNow(ctx, bn.proc.ID) // settles the echoes of its own creates
	before = requests(bn.a, bn.b)
	bn.eng.RunNow(ctx, bn.proc.ID)
	v.perIdle = float64(requests(bn.a, bn.b)-before) / 2 // per system side

	retitle(b, bn.a.Server, "HELP")
	before = requests(bn.a, bn.b)
	start = time.Now()
	if _, err := bn.eng.RunNow(ctx, bn.proc.ID); err != nil {
		b.Fatal(err)
	}
	v.engineUpd = time.Since(start)
	v.perUpdate = float64(requests(bn.a, bn.b)-before) / float64(n)

	other := newBench(b, sandbox.Knobs{Latency: latency}, true)
	other.seed(n)
	br := rig.NewBare(other.a.Conn, other.b.Conn, false)
	start = time.Now()
	if err := br.Sync(ctx, time.Time{}); err != nil {
		b.Fatal(err)
	}
	v.bare = time.Since(start)
	since := retitle(b, other.a.Server, "HELP")
	start = time.Now()
	if err := br.Sync(ctx, since); err != nil {
		b.Fatal(err)
	}
	v.bareUpd = time.Since(start)
	return v
}

// BenchmarkSyncVersusBare syncs new items, then a change to each of them,
// with the engine and with a bare client making only the calls the changes
// need with the same parallelism, in the same run: against sandboxes
// answering at once (where the engine's own costs show) and after 5 ms.
// It reports the engine's throughput as a fraction of the bare client's,
// requests per synced change, and requests per idle poll.
func BenchmarkSyncVersusBare(b *testing.B) {
	var fast, slow versus
	for i := 0; i < b.N; i++ {
		v := versusBare(b, 1000, 0)
		fast.engine, fast.bare = fast.engine+v.engine, fast.bare+v.bare
		fast.engineUpd, fast.bareUpd = fast.engineUpd+v.engineUpd, fast.bareUpd+v.bareUpd
		v = versusBare(b, 100, 5*time.Millisecond)
		slow.engine, slow.bare = slow.engine+v.engine, slow.bare+v.bare
		slow.engineUpd, slow.bareUpd = slow.engineUpd+v.engineUpd, slow.bareUpd+v.bareUpd
		slow.perChange += v.perChange
		slow.perUpdate += v.perUpdate
		slow.perIdle += v.perIdle
	}
	b.ReportMetric(float64(slow.bare)/float64(slow.engine), "engine/bare_throughput")
	b.ReportMetric(float64(slow.bareUpd)/float64(slow.engineUpd), "engine/bare_update_throughput")
	b.ReportMetric(float64(fast.bare)/float64(fast.engine), "engine/bare_throughput_0ms")
	b.ReportMetric(float64(fast.bareUpd)/float64(fast.engineUpd), "engine/bare_update_throughput_0ms")
	b.ReportMetric(slow.perChange/float64(b.N), "requests/change")
	b.ReportMetric(slow.perUpdate/float64(b.N), "requests/update")
	b.ReportMetric(slow.perIdle/float64(b.N), "requests/idle_poll_side")
}

// BenchmarkBudgetUse syncs a backlog against a sandbox allowing 20 requests
// a second and reports the share of that budget the engine used, and how
// many requests were refused with 429 (goal: none in steady state).
func BenchmarkBudgetUse(b *testing.B) {
	const rate = 20.0
	var used, refused float64
	for i := 0; i < b.N; i++ {
		bn := newBench(b, sandbox.Knobs{RatePerSecond: rate, Burst: 5}, true)
		bn.seed(60)
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		start := time.Now()
		bn.eng.RunNow(ctx, bn.proc.ID)
		elapsed := time.Since(start).Seconds()
		cancel()
		sa, sb := bn.a.Server.Stats(), bn.b.Server.Stats()
		// Each system has its own budget; the busier one is the bottleneck.
		busier := max(sa.Requests-sa.RateLimited, sb.Requests-sb.RateLimited)
		used += float64(busier) / (rate*elapsed + 5)
		refused += float64(sa.RateLimited + sb.RateLimited)
	}
	b.ReportMetric(used/float64(b.N), "budget_used")
	b.ReportMetric(refused/float64(b.N), "429s")
}
