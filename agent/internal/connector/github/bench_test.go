package github

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/github/ghemu"
	sbconn "github.com/lockstep-sync/lockstep/agent/internal/connector/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/events"
	"github.com/lockstep-sync/lockstep/agent/internal/mapping"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
)

// benchMinute is the length of a minute in the benchmark, for GitHub's
// limits and the connector's pacing alike: a hundredth of a real one, so
// the limits are GitHub's (80 creations a minute, 500 an hour, writes a
// second apart) at a hundred times the speed.
const benchMinute = 600 * time.Millisecond

// BenchmarkGitHubSync syncs a backlog of sandbox items into the GitHub
// emulator and back, through the real engine, and reports what GitHub is
// asked: requests per synced change each way, requests and rate-limit
// budget per idle poll (a 304 costs none; the first poll after a change
// asks a new query and costs one), and how many secondary rate limit
// answers the backlog met (goal 0: the connector paces its writes).
func BenchmarkGitHubSync(b *testing.B) {
	const n = 120 // more than GitHub allows in a minute (80 creations)
	ctx := context.Background()
	var perNew, perChangeIn, perChangeOut, budgetIn, idleRequests, idleBudget, firstIdleBudget, secondary float64
	for range b.N {
		sb, err := sandbox.New(sandbox.Options{Tokens: []sandbox.Token{{Value: "tok", User: "alice"}}, Users: sandbox.DemoUsers(),
			Projects: []sandbox.Project{{Key: "HELP", Name: "HELP", Types: []string{"incident"}}}, Seed: 11})
		if err != nil {
			b.Fatal(err)
		}
		hs := httptest.NewServer(sb.Handler())
		a, err := sbconn.Open(connector.Config{ID: "sys-HELP", Name: "HELP", Kind: "sandbox", URL: hs.URL,
			Settings: map[string]any{"project": "HELP"}, Secrets: map[string]secret.Secret{"token": secret.New("tok")}}, connector.Env{})
		if err != nil {
			b.Fatal(err)
		}
		emu := start(b, ghemu.Options{Minute: benchMinute})
		gh := contracttest.Open(b, Open, config(b, emu, adminToken), connector.Env{})
		gh.pace = newPacer(benchMinute/60, contentPerMinute, defaultContentPerHour, benchMinute, time.Now)
		key := make([]byte, 32)
		rand.Read(key)
		st, err := store.Create(store.Options{Dir: b.TempDir(), Key: key})
		if err != nil {
			b.Fatal(err)
		}
		eng := syncer.New(syncer.Deps{Store: st, Bus: events.New(100, nil), Log: zerolog.Nop(),
			Open: func(id string) (connector.Connector, error) {
				if id == "sys-HELP" {
					return a, nil
				}
				return gh, nil
			}})
		p, err := eng.Create(ctx, "bench", syncer.Process{Name: "bench",
			A: syncer.End{System: "sys-HELP", Project: "HELP"}, B: syncer.End{System: "sys-GH", Project: "widgets"},
			Types: []mapping.TypePair{{A: "incident", B: TypeIssue, Fields: []mapping.FieldPair{
				{A: "title", B: "title", Direction: mapping.Both}}}},
			Options: syncer.Options{CreateInA: true, CreateInB: true, Conflict: syncer.ConflictAWins}})
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			sb.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprint("item ", i), Status: "open", Priority: "low"})
		}
		run := func() {
			if _, err := eng.RunNow(ctx, p.ID); err != nil {
				b.Fatal(err)
			}
		}
		requests := func() int { return emu.Stats().Requests }
		before := requests()
		run()
		if got := len(emu.Issues("acme/widgets")); got != n {
			b.Fatalf("engine synced %d of %d", got, n)
		}
		perNew += float64(requests()-before) / n
		run() // settles the echoes of its own creates
		// The first idle poll asks since the watermark the last change
		// moved, a query GitHub has not answered before; from the next on,
		// the same query is answered 304.
		before, budget := requests(), emu.Stats().CoreUsed
		run()
		firstIdleBudget += float64(emu.Stats().CoreUsed - budget)
		before, budget = requests(), emu.Stats().CoreUsed
		run()
		idleRequests += float64(requests() - before)
		idleBudget += float64(emu.Stats().CoreUsed - budget)

		// Changes made on GitHub flow to the sandbox...
		for i := 1; i <= n; i++ {
			emu.Edit("acme/widgets", i, fmt.Sprint("edited on GitHub ", i), "", "")
		}
		before = requests()
		run()
		perChangeOut += float64(requests()-before) / n
		// ...and changes made in the sandbox reach GitHub.
		var items []sandbox.Item // all first: an edited item moves to the end of the list
		for q := (sandbox.Query{Project: "HELP", Limit: 100}); ; {
			page, err := sb.Store().ListItems(q)
			if err != nil {
				b.Fatal(err)
			}
			items = append(items, page.Items...)
			if q.Cursor = page.NextCursor; q.Cursor == "" {
				break
			}
		}
		for _, it := range items {
			title := it.Title + " (edited)"
			if _, err := sb.Store().UpdateItem(it.Key, sandbox.Patch{Title: &title}, 0); err != nil {
				b.Fatal(err)
			}
		}
		before, budget = requests(), emu.Stats().CoreUsed
		run()
		perChangeIn += float64(requests()-before) / n
		budgetIn += float64(emu.Stats().CoreUsed-budget) / n
		for _, is := range emu.Issues("acme/widgets") {
			if is.Title[len(is.Title)-len("(edited)"):] != "(edited)" {
				b.Fatalf("issue %d not updated: %q", is.Number, is.Title)
			}
		}
		secondary += float64(emu.Stats().Secondary)
		st.Close()
		hs.Close()
		sb.Close()
	}
	N := float64(b.N)
	b.ReportMetric(perNew/N, "github_requests/new_item")
	b.ReportMetric(perChangeIn/N, "github_requests/change_to_github")
	b.ReportMetric(budgetIn/N, "github_budget/change_to_github")
	b.ReportMetric(perChangeOut/N, "github_requests/change_from_github")
	b.ReportMetric(idleRequests/N, "github_requests/idle_poll")
	b.ReportMetric(idleBudget/N, "github_budget/idle_poll")
	b.ReportMetric(firstIdleBudget/N, "github_budget/first_idle_poll")
	b.ReportMetric(secondary/N, "github_secondary_limits")
}
