package syncer_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
)

type bench struct {
	a, b sandboxSide
	eng  *syncer.Engine
	proc syncer.Process
	st   *store.Store
}

func newBench(t testing.TB, knobs sandbox.Knobs, encrypted bool) *bench {
	t.Helper()
	a := newSandboxSide(t, "HELP", "incident", knobs)
	b := newSandboxSide(t, "ENG", "bug", knobs)
	var key []byte
	if encrypted {
		key = make([]byte, 32)
		rand.Read(key)
	}
	st, err := store.Create(store.Options{Dir: t.TempDir(), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng := syncer.New(syncer.Deps{Store: st, Bus: events.New(100, nil), Log: zerolog.Nop(),
		Open: func(id string) (connector.Connector, error) {
			if id == "sys-HELP" {
				return a.conn, nil
			}
			return b.conn, nil
		}})
	p, err := eng.Create(context.Background(), "bench", syncer.Process{Name: "bench",
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
		bn.a.srv.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprint("item ", i), Status: "open", Priority: "low"})
	}
}

func requests(sides ...sandboxSide) int64 {
	var n int64
	for _, s := range sides {
		n += s.srv.Stats().Requests
	}
	return n
}

// bare makes only the API calls n changes need: read each page of
// changes since a time, and create each new item in the other system or
// write the changed title to the peer it created before.
type bare struct {
	from, to connector.Connector
	peers    map[string]connector.Ref // source key -> peer
}

func (br *bare) sync(ctx context.Context, since time.Time, n int) error {
	cursor := ""
	done := 0
	for done < n {
		page, err := br.from.Changes(ctx, "HELP", since, cursor)
		if err != nil {
			return err
		}
		for _, e := range page.Entities {
			if peer, ok := br.peers[e.Key]; ok {
				if _, err := br.to.Update(ctx, peer, connector.Fields{"title": e.Title}, ""); err != nil {
					return err
				}
			} else {
				created, err := br.to.Create(ctx, "ENG", "bug", connector.Fields{"title": e.Title, "status": e.Fields["status"], "priority": e.Fields["priority"]},
					connector.Marker{System: "bare", Key: e.Key})
				if err != nil {
					return err
				}
				br.peers[e.Key] = created.Ref
			}
			done++
		}
		if page.Cursor == "" {
			break
		}
		cursor = page.Cursor
	}
	return nil
}

// retitle changes the title of every item of a sandbox project, as its
// users would, and returns a time before the first change.
func retitle(t testing.TB, s *sandbox.Server, project string) time.Time {
	t.Helper()
	since := time.Now().Add(-time.Millisecond)
	q := sandbox.Query{Project: project, Limit: 100}
	for {
		page, err := s.Store().ListItems(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			title := it.Title + " (edited)"
			if _, err := s.Store().UpdateItem(it.Key, sandbox.Patch{Title: &title}, 0); err != nil {
				t.Fatal(err)
			}
		}
		if page.NextCursor == "" {
			return since
		}
		q.Cursor = page.NextCursor
	}
}

// BenchmarkSyncVersusBare syncs 100 new items, then a change to each of
// them, with the engine and with a bare client making only the calls the
// changes need, in the same run, and reports the engine's throughput as a
// fraction of the bare client's, requests per synced change, and requests
// per idle poll.
func BenchmarkSyncVersusBare(b *testing.B) {
	const n = 100
	ctx := context.Background()
	var engineTime, bareTime, engineUpd, bareUpd time.Duration
	var perChange, perUpdate, perIdle float64
	for i := 0; i < b.N; i++ {
		bn := newBench(b, sandbox.Knobs{Latency: 5 * time.Millisecond}, true)
		bn.seed(n)
		before := requests(bn.a, bn.b)
		start := time.Now()
		if _, err := bn.eng.RunNow(ctx, bn.proc.ID); err != nil {
			b.Fatal(err)
		}
		engineTime += time.Since(start)
		if got := count(b, bn.b.srv, "ENG"); got != n {
			b.Fatalf("engine synced %d of %d", got, n)
		}
		perChange += float64(requests(bn.a, bn.b)-before) / n
		bn.eng.RunNow(ctx, bn.proc.ID) // settles the echoes of its own creates
		before = requests(bn.a, bn.b)
		bn.eng.RunNow(ctx, bn.proc.ID)
		perIdle += float64(requests(bn.a, bn.b)-before) / 2 // per system side

		retitle(b, bn.a.srv, "HELP")
		before = requests(bn.a, bn.b)
		start = time.Now()
		if _, err := bn.eng.RunNow(ctx, bn.proc.ID); err != nil {
			b.Fatal(err)
		}
		engineUpd += time.Since(start)
		perUpdate += float64(requests(bn.a, bn.b)-before) / n

		other := newBench(b, sandbox.Knobs{Latency: 5 * time.Millisecond}, true)
		other.seed(n)
		br := &bare{from: other.a.conn, to: other.b.conn, peers: map[string]connector.Ref{}}
		start = time.Now()
		if err := br.sync(ctx, time.Time{}, n); err != nil {
			b.Fatal(err)
		}
		bareTime += time.Since(start)
		since := retitle(b, other.a.srv, "HELP")
		start = time.Now()
		if err := br.sync(ctx, since, n); err != nil {
			b.Fatal(err)
		}
		bareUpd += time.Since(start)
	}
	b.ReportMetric(float64(bareTime)/float64(engineTime), "engine/bare_throughput")
	b.ReportMetric(float64(bareUpd)/float64(engineUpd), "engine/bare_update_throughput")
	b.ReportMetric(perChange/float64(b.N), "requests/change")
	b.ReportMetric(perUpdate/float64(b.N), "requests/update")
	b.ReportMetric(perIdle/float64(b.N), "requests/idle_poll_side")
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
		sa, sb := bn.a.srv.Stats(), bn.b.srv.Stats()
		// Each system has its own budget; the busier one is the bottleneck.
		busier := max(sa.Requests-sa.RateLimited, sb.Requests-sb.RateLimited)
		used += float64(busier) / (rate*elapsed + 5)
		refused += float64(sa.RateLimited + sb.RateLimited)
	}
	b.ReportMetric(used/float64(b.N), "budget_used")
	b.ReportMetric(refused/float64(b.N), "429s")
}
