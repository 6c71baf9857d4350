package github

import (
	"fmt"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest/syncbench"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/github/ghemu"
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
	var perNew, perChangeIn, perChangeOut, budgetIn, idleRequests, idleBudget, firstIdleBudget, secondary float64
	for range b.N {
		emu := start(b, ghemu.Options{Minute: benchMinute})
		gh := contracttest.Open(b, Open, config(b, emu, adminToken), connector.Env{})
		gh.pace = newPacer(benchMinute/60, contentPerMinute, defaultContentPerHour, benchMinute, time.Now)
		bn := syncbench.New(b, gh, "widgets", TypeIssue)
		bn.Seed(n)
		requests := func() int { return emu.Stats().Requests }
		before := requests()
		bn.Run()
		if got := len(emu.Issues("acme/widgets")); got != n {
			b.Fatalf("engine synced %d of %d", got, n)
		}
		perNew += float64(requests()-before) / n
		bn.Run() // settles the echoes of its own creates
		// The first idle poll asks since the watermark the last change
		// moved, a query GitHub has not answered before; from the next on,
		// the same query is answered 304.
		before, budget := requests(), emu.Stats().CoreUsed
		bn.Run()
		firstIdleBudget += float64(emu.Stats().CoreUsed - budget)
		before, budget = requests(), emu.Stats().CoreUsed
		bn.Run()
		idleRequests += float64(requests() - before)
		idleBudget += float64(emu.Stats().CoreUsed - budget)

		// Changes made on GitHub flow to the sandbox...
		for i := 1; i <= n; i++ {
			emu.Edit("acme/widgets", i, fmt.Sprint("edited on GitHub ", i), "", "")
		}
		before = requests()
		bn.Run()
		perChangeOut += float64(requests()-before) / n
		// ...and changes made in the sandbox reach GitHub.
		bn.RetitleAll(" (edited)")
		before, budget = requests(), emu.Stats().CoreUsed
		bn.Run()
		perChangeIn += float64(requests()-before) / n
		budgetIn += float64(emu.Stats().CoreUsed-budget) / n
		for _, is := range emu.Issues("acme/widgets") {
			if is.Title[len(is.Title)-len("(edited)"):] != "(edited)" {
				b.Fatalf("issue %d not updated: %q", is.Number, is.Title)
			}
		}
		secondary += float64(emu.Stats().Secondary)
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
