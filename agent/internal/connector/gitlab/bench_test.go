package gitlab

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/contracttest/syncbench"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/gitlab/gitlabemu"
)

// BenchmarkGitLabSync syncs a backlog of sandbox items into the GitLab
// emulator and back, through the real engine, under an authenticated API
// throttle the backlog overruns (40 requests a second, RateLimit-* on
// every answer as GitLab sends them), and reports what GitLab is asked:
// requests per synced change each way, per idle poll, and how many 429s
// the backlog met (few: the headers pause the client when the window's
// quota is spent, and only requests already in flight then meet a 429).
func BenchmarkGitLabSync(b *testing.B) {
	const n = 120
	var perNew, perChangeIn, perChangeOut, idle, refused float64
	for range b.N {
		emu := start(b, gitlabemu.Options{APILimit: 40, APIPeriod: time.Second})
		bn := syncbench.New(b, contracttest.Open(b, Open, config(b, emu, adminToken), connector.Env{}), "acme/helpdesk", "issue")
		bn.Seed(n)
		requests := func() int { return emu.Stats().Requests }
		before := requests()
		bn.Run()
		if got := len(emu.Issues(helpdesk)); got != n {
			b.Fatalf("engine synced %d of %d", got, n)
		}
		perNew += float64(requests()-before) / n
		bn.Run() // settles the echoes of its own creates
		before = requests()
		bn.Run()
		idle += float64(requests() - before)

		// Changes made in GitLab flow to the sandbox...
		for i := 1; i <= n; i++ {
			if err := emu.EditIssue(helpdesk, i, "bob", map[string]any{"title": fmt.Sprint("edited in GitLab ", i)}); err != nil {
				b.Fatal(err)
			}
		}
		before = requests()
		bn.Run()
		perChangeOut += float64(requests()-before) / n
		// ...and changes made in the sandbox reach GitLab.
		bn.RetitleAll(" (edited)")
		before = requests()
		bn.Run()
		perChangeIn += float64(requests()-before) / n
		for _, is := range emu.Issues(helpdesk) {
			if title, _ := is["title"].(string); !strings.HasSuffix(title, "(edited)") {
				b.Fatalf("issue %v not updated: %q", is["iid"], title)
			}
		}
		refused += float64(emu.Stats().RateLimited)
	}
	N := float64(b.N)
	b.ReportMetric(perNew/N, "gitlab_requests/new_item")
	b.ReportMetric(perChangeIn/N, "gitlab_requests/change_to_gitlab")
	b.ReportMetric(perChangeOut/N, "gitlab_requests/change_from_gitlab")
	b.ReportMetric(idle/N, "gitlab_requests/idle_poll")
	b.ReportMetric(refused/N, "gitlab_429s")
}
