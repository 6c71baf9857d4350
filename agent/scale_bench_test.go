package main

// make bench-scale: one agent at scale, measured on the real binary. Every
// result is a ratio or a value measured in this one run (machines are
// shared and noisy); nothing here asserts a time. The benchmarks skip
// unless LOCKSTEP_BENCH_SCALE is set, so `go test -bench .` and make bench
// stay short.

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lockstep-sync/lockstep/agent/agenttest/rig"
	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/sandboxconn"
	"github.com/lockstep-sync/lockstep/agent/internal/paths"
	"github.com/lockstep-sync/lockstep/agent/internal/sandbox"
	"github.com/lockstep-sync/lockstep/agent/internal/secret"
	"github.com/lockstep-sync/lockstep/agent/internal/store"
	"github.com/lockstep-sync/lockstep/agent/internal/syncer"
)

// scaleToken is the sandboxes' token (the agent wants secrets of 8
// characters at least).
const scaleToken = "scale-token"

func scaleOn(b *testing.B) {
	if os.Getenv("LOCKSTEP_BENCH_SCALE") == "" {
		b.Skip("long: make bench-scale runs it (LOCKSTEP_BENCH_SCALE=1)")
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// scaleSandbox is one sandbox work system served over loopback; its
// webhooks reach the agent's self-signed TLS listener.
func scaleSandbox(b testing.TB, project, typ string, knobs sandbox.Knobs) (*sandbox.Server, string) {
	b.Helper()
	s, err := sandbox.New(sandbox.Options{Tokens: []sandbox.Token{{Value: scaleToken, User: "alice"}}, Users: sandbox.DemoUsers(),
		Projects: []sandbox.Project{{Key: project, Name: project, Types: []string{typ}}}, Knobs: knobs,
		WebhookClient: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	b.Cleanup(func() { hs.Close(); s.Close() })
	return s, hs.URL
}

// seedHelp makes n items in HELP, each with one comment (the comment right
// after its item, while the item is last in the update order: cheap).
func seedHelp(b testing.TB, s *sandbox.Server, n int) {
	b.Helper()
	for i := range n {
		it, err := s.Store().CreateItem(sandbox.NewItem{Project: "HELP", Type: "incident", Title: fmt.Sprintf("item %d", i), Status: "open", Priority: "low"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Store().AddComment(it.Key, "carol", fmt.Sprintf("first look at %d", i)); err != nil {
			b.Fatal(err)
		}
	}
}

// scaleAgent is a real agent process on its own data dir.
type scaleAgent struct {
	b         testing.TB
	dir, addr string
	cmd       *exec.Cmd
	c         *rpcClient
}

func newScaleAgent(b testing.TB) *scaleAgent {
	dir, addr := initChaosDir(b)
	a := &scaleAgent{b: b, dir: dir, addr: addr}
	// A benchmark that fails leaves no agent running on a removed data dir.
	b.Cleanup(func() {
		if a.cmd != nil {
			a.cmd.Process.Kill()
			a.cmd.Wait()
		}
	})
	return a
}

// start runs the agent and returns the time from its start to its first
// healthy /healthz answer.
func (a *scaleAgent) start() time.Duration {
	a.b.Helper()
	cl := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer cl.CloseIdleConnections()
	began := time.Now()
	a.cmd = exec.Command(agentBin, "run", "--data-dir", a.dir)
	if err := a.cmd.Start(); err != nil {
		a.b.Fatal(err)
	}
	for deadline := began.Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		resp, err := cl.Get("https://" + a.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				took := time.Since(began)
				a.connect()
				return took
			}
		}
	}
	a.b.Fatalf("the agent was not healthy within 2 minutes:\n%s", tailLines(readLog(a.dir), 20))
	return 0
}

// connect opens a logged-in admin connection. The agent closes one that
// answered no ping for a while: a benchmark that sleeps connects again.
func (a *scaleAgent) connect() {
	if a.c != nil {
		a.c.ws.Close()
	}
	a.c = dialAgent(a.b, a.addr)
	a.c.call("session.login", map[string]string{"username": "admin", "password": chaosPassword}, nil)
}

func (a *scaleAgent) stop() {
	a.b.Helper()
	if a.cmd == nil {
		return
	}
	a.c.ws.Close()
	a.cmd.Process.Signal(syscall.SIGTERM)
	a.cmd.Wait()
	a.cmd = nil
}

// proc reads a value (kB) of the agent's /proc/PID/status: VmRSS (all of
// its resident memory), VmHWM (VmRSS's peak), RssAnon (its own memory),
// RssFile (file pages mapped: the store's tables Badger reads through
// mmap; page cache the kernel takes back when memory is short).
func (a *scaleAgent) proc(field string) int { return procStatus(a.cmd.Process.Pid, field) }

func procStatus(pid int, field string) int {
	raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}

// samplePeak reads a /proc/PID/status value every 100 ms until the
// returned function is called, which stops and returns the largest.
// (VmHWM is the peak of the whole RSS only; RssAnon, the agent's own
// memory without the store's mapped file pages, has no peak of its own.)
func (a *scaleAgent) samplePeak(field string) func() int {
	stop, done := make(chan struct{}), make(chan int)
	pid := a.cmd.Process.Pid
	go func() {
		peak := 0
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
				peak = max(peak, procStatus(pid, field))
			}
		}
	}()
	return func() int { close(stop); return <-done }
}

// settle waits until the agent uses less than 2% of a core over two
// seconds (its store's compactions done), and returns how long that took.
func (a *scaleAgent) settle() time.Duration {
	a.b.Helper()
	began := time.Now()
	for before := a.cpu(); time.Since(began) < 10*time.Minute; {
		time.Sleep(2 * time.Second)
		now := a.cpu()
		if now-before < 40*time.Millisecond {
			break
		}
		before = now
	}
	return time.Since(began)
}

// cpu is the agent's user and system CPU time so far.
func (a *scaleAgent) cpu() time.Duration {
	user, sys := a.cpuTimes()
	return user + sys
}

// cpuTimes is the agent's user and system CPU time so far, apart: the
// system part (syncs, page faults, sockets) varied more between runs of
// one build than the user part.
func (a *scaleAgent) cpuTimes() (user, sys time.Duration) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", a.cmd.Process.Pid))
	if err != nil {
		a.b.Fatal(err)
	}
	f := strings.Fields(string(raw)[strings.LastIndexByte(string(raw), ')')+2:])
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime) * time.Second / 100, time.Duration(stime) * time.Second / 100 // USER_HZ
}

// storeBytes is what the closed store holds on disk: its tables and value
// logs (the write-ahead logs are folded into tables when it closes).
func (a *scaleAgent) storeBytes() int64 {
	var n int64
	filepath.Walk(filepath.Join(a.dir, "store"), func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && (strings.HasSuffix(fi.Name(), ".sst") || strings.HasSuffix(fi.Name(), ".vlog")) {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func (a *scaleAgent) system(name, url, project string) string {
	var res struct{ System struct{ ID string } }
	a.c.call("systems.create", map[string]any{"name": name, "kind": "sandbox", "url": url,
		"settings": map[string]any{"project": project}, "secrets": map[string]string{"token": scaleToken}}, &res)
	return res.System.ID
}

// process creates a process from HELP incidents to ENG bugs.
func (a *scaleAgent) process(name, sysA, sysB string, options, schedule map[string]any, active bool) string {
	var res struct{ Process struct{ ID string } }
	a.c.call("processes.create", map[string]any{"process": map[string]any{
		"name": name, "a": map[string]string{"system": sysA, "project": "HELP"}, "b": map[string]string{"system": sysB, "project": "ENG"},
		"types": []any{map[string]any{"a": "incident", "b": "bug", "fields": []any{
			map[string]any{"a": "title", "b": "title", "direction": "both"},
			map[string]any{"a": "status", "b": "status", "direction": "both"},
			map[string]any{"a": "priority", "b": "priority", "direction": "both"},
		}}},
		"options": options, "schedule": schedule, "active": active}}, &res)
	return res.Process.ID
}

type scaleRun struct {
	StartedAt time.Time         `json:"startedAt"`
	EndedAt   time.Time         `json:"endedAt"`
	Counts    syncer.Counts     `json:"counts"`
	Errors    []syncer.RunError `json:"errors"`
}

func (a *scaleAgent) runs(proc string, limit int) []scaleRun {
	var res struct{ Runs []scaleRun }
	a.c.call("runs.list", map[string]any{"process": proc, "limit": limit}, &res)
	return res.Runs
}

// waitRuns waits until proc has n finished runs.
func (a *scaleAgent) waitRuns(proc string, n int) {
	a.b.Helper()
	for deadline := time.Now().Add(5 * time.Minute); len(a.runs(proc, n)) < n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			a.b.Fatalf("%s has not run %d times:\n%s", proc, n, tailLines(readLog(a.dir), 20))
		}
	}
}

// waitRun waits for a finished run of proc that created something.
func (a *scaleAgent) waitCreatingRun(proc string, within time.Duration) scaleRun {
	a.b.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		for _, r := range a.runs(proc, 100) { // later runs (webhooks of its writes) must not hide it
			if !r.EndedAt.IsZero() && r.Counts.Created > 0 {
				return r
			}
		}
	}
	a.b.Fatalf("no run of %s ended within %v:\n%s", proc, within, tailLines(readLog(a.dir), 20))
	return scaleRun{}
}

// bareCopy copies HELP's items with their comments into ENG as a bare API
// client given the engine's parallelism does (rig.Bare).
func bareCopy(b testing.TB, helpURL, engURL string) {
	b.Helper()
	// System ids of their own: connectors of one id share what they
	// learnt of a system's rate limit, and each comparison has new
	// sandboxes.
	run := time.Now().UnixNano()
	open := func(id, url, project string) connector.Connector {
		c, err := sandboxconn.Open(connector.Config{ID: fmt.Sprintf("bare-%s-%d", id, run), Name: project, Kind: "sandbox", URL: url,
			Settings: map[string]any{"project": project}, Secrets: map[string]secret.Secret{"token": secret.New(scaleToken)}}, connector.Env{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		return c
	}
	if err := rig.NewBare(open("help", helpURL, "HELP"), open("eng", engURL, "ENG"), true).Sync(b.Context(), time.Time{}); err != nil {
		b.Fatal(err)
	}
}

// initialSync copies n HELP items with a comment each into ENG, with a
// real agent and with the bare client, against sandboxes with knobs (a
// latency, a request budget); it reports the throughput ratio, the
// requests of each, the agent's CPU time per item (user + system, and
// user alone) from the process's creation to its run's end (CPU time,
// unlike throughput, is little changed by other work on the machine), and
// for the main comparison (no suffix) the agent's peak RSS and store bytes
// per pair.
func initialSync(b *testing.B, n int, knobs sandbox.Knobs, suffix string) {
	help, helpURL := scaleSandbox(b, "HELP", "incident", knobs)
	eng, engURL := scaleSandbox(b, "ENG", "bug", knobs)
	seedHelp(b, help, n)
	a := newScaleAgent(b)
	a.start()
	defer a.stop()
	user0, sys0 := a.cpuTimes()
	p := a.process("initial", a.system("Helpdesk", helpURL, "HELP"), a.system("Engineering", engURL, "ENG"),
		map[string]any{"createInB": true, "comments": true, "conflict": "a_wins"}, map[string]any{"pollSeconds": 86400}, true)
	peakAnon := a.samplePeak("RssAnon")
	run := a.waitCreatingRun(p, 3*time.Hour)
	engine := run.EndedAt.Sub(run.StartedAt)
	user1, sys1 := a.cpuTimes()
	user, sys := user1-user0, sys1-sys0
	if got := countItems(b, eng, "ENG"); got != n || run.Counts.Created != n || run.Counts.Commented != n {
		b.Fatalf("the agent copied %d items (run: %d created, %d comments) of %d; errors %v", got, run.Counts.Created, run.Counts.Commented, n, run.Errors)
	}
	engineReq := help.Stats().Requests + eng.Stats().Requests
	hwm := a.proc("VmHWM")
	anon := peakAnon()
	a.stop()
	perPair := float64(a.storeBytes()) / float64(n)

	help2, help2URL := scaleSandbox(b, "HELP", "incident", knobs)
	eng2, eng2URL := scaleSandbox(b, "ENG", "bug", knobs)
	seedHelp(b, help2, n)
	start := time.Now()
	bareCopy(b, help2URL, eng2URL)
	bare := time.Since(start)
	if got := countItems(b, eng2, "ENG"); got != n {
		b.Fatalf("the bare client copied %d of %d", got, n)
	}
	bareReq := help2.Stats().Requests + eng2.Stats().Requests
	b.ReportMetric(bare.Seconds()/engine.Seconds(), "engine/bare_throughput"+suffix)
	b.ReportMetric(float64(n)/engine.Seconds(), "engine_items/s"+suffix)
	b.ReportMetric(float64(n)/bare.Seconds(), "bare_items/s"+suffix)
	b.ReportMetric(float64(engineReq)/float64(bareReq), "engine/bare_requests"+suffix)
	b.ReportMetric(ms(user+sys)/float64(n), "agent_cpu_ms/item"+suffix)
	b.ReportMetric(ms(user)/float64(n), "agent_user_cpu_ms/item"+suffix)
	if suffix == "" {
		b.ReportMetric(float64(hwm)/1024, "MB_peak_rss")
		b.ReportMetric(float64(anon)/1024, "MB_peak_rss_anon")
		b.ReportMetric(perPair, "store_bytes/pair")
	}
}

// BenchmarkScaleInitialSync: the initial sync of LOCKSTEP_SCALE_ITEMS
// (100,000) items with a comment each, against sandboxes answering at once
// with a request budget of LOCKSTEP_SCALE_BUDGET (200) requests a second
// each (429 with Retry-After beyond it), then of LOCKSTEP_SCALE_FREE_ITEMS
// (20,000) with no budget (what the engine's own work costs), then of
// LOCKSTEP_SCALE_LATENCY_ITEMS (2,000) answering after 20 ms (a system on
// the same network): each against a bare client with the engine's
// parallelism and the same sandboxes.
func BenchmarkScaleInitialSync(b *testing.B) {
	scaleOn(b)
	budget := float64(envInt("LOCKSTEP_SCALE_BUDGET", 200))
	for range b.N {
		initialSync(b, envInt("LOCKSTEP_SCALE_ITEMS", 100000), sandbox.Knobs{RatePerSecond: budget}, "")
		initialSync(b, envInt("LOCKSTEP_SCALE_FREE_ITEMS", 20000), sandbox.Knobs{}, "_unlimited")
		initialSync(b, envInt("LOCKSTEP_SCALE_LATENCY_ITEMS", 2000), sandbox.Knobs{Latency: 20 * time.Millisecond}, "_20ms")
	}
}

// quantile is the q-quantile of ds (nearest rank).
func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkScaleMillionPairs: a store of LOCKSTEP_SCALE_PAIRS (1,000,000)
// pairs over LOCKSTEP_SCALE_PROCESSES (100) processes, written by
// syncer.GeneratePairs as runs register them, opened by a real agent:
// start to healthy, pairs.list searches, an idle run of a process with its
// pairs against one with none, then every process polling every 60 s with
// nothing changing for LOCKSTEP_SCALE_WINDOW (180) seconds: requests per
// poll, the agent's CPU and its RSS.
func BenchmarkScaleMillionPairs(b *testing.B) {
	scaleOn(b)
	procs, total := envInt("LOCKSTEP_SCALE_PROCESSES", 100), envInt("LOCKSTEP_SCALE_PAIRS", 1000000)
	per := total / procs
	window := time.Duration(envInt("LOCKSTEP_SCALE_WINDOW", 180)) * time.Second
	for range b.N {
		help, helpURL := scaleSandbox(b, "HELP", "incident", sandbox.Knobs{})
		eng, engURL := scaleSandbox(b, "ENG", "bug", sandbox.Knobs{})
		a := newScaleAgent(b)
		a.start()
		sysA, sysB := a.system("Helpdesk", helpURL, "HELP"), a.system("Engineering", engURL, "ENG")
		opts := map[string]any{"createInB": true, "comments": true, "conflict": "a_wins"}
		sched := map[string]any{"pollSeconds": 60}
		ids := make([]string, procs)
		for i := range ids {
			ids[i] = a.process(fmt.Sprintf("process %03d", i), sysA, sysB, opts, sched, false)
		}
		empty := a.process("no pairs", sysA, sysB, opts, sched, false)
		a.stop()

		key, err := os.ReadFile(filepath.Join(a.dir, "master.key"))
		if err != nil {
			b.Fatal(err)
		}
		layout, _ := paths.New(a.dir)
		// The generator's writes need no sync each: the store is closed
		// (and so written out) before the agent opens it.
		st, err := store.Open(store.Options{Dir: layout.Store(), Key: key, NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		began := time.Now()
		for i, id := range ids {
			if err := syncer.GeneratePairs(st, id, fmt.Sprintf("H%03d", i), fmt.Sprintf("E%03d", i), "Printer on floor", per, began); err != nil {
				b.Fatal(err)
			}
		}
		generated := time.Since(began)
		b.Logf("%d pairs over %d processes generated in %v", procs*per, procs, generated.Round(time.Second))
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(generated.Seconds(), "s_generate")
		b.ReportMetric(float64(a.storeBytes())/float64(procs*per), "store_bytes/pair")

		healthy := a.start()
		b.ReportMetric(healthy.Seconds(), "s_start_to_healthy")
		b.Logf("healthy %v after its start", healthy.Round(time.Millisecond))
		// Opened, the store compacts the generated tables; an agent that
		// has run for a while is past that: searches are timed after.
		b.Logf("settled %v after healthy", a.settle().Round(time.Second))
		a.connect() // the agent closed the connection idle while it settled

		// pairs.list searches: by key and by title, in one process and in all.
		r := rand.New(rand.NewPCG(1, 2))
		var inProc, inAll []time.Duration
		for i := range 200 {
			p := r.IntN(procs)
			q := fmt.Sprintf("H%03d-%d", p, r.IntN(per))
			if i%2 == 1 {
				q = fmt.Sprintf("floor %d", r.IntN(per))
			}
			for _, proc := range []string{ids[p], ""} {
				t := time.Now()
				var res struct {
					Pairs []json.RawMessage
				}
				a.c.call("pairs.list", map[string]any{"process": proc, "query": q, "limit": 50}, &res)
				d := time.Since(t)
				if len(res.Pairs) == 0 {
					b.Fatalf("pairs.list %q in %q found nothing", q, proc)
				}
				if proc == "" {
					inAll = append(inAll, d)
				} else {
					inProc = append(inProc, d)
				}
			}
		}
		b.ReportMetric(ms(quantile(inProc, 0.5)), "ms_search_p50")
		b.ReportMetric(ms(quantile(inProc, 0.99)), "ms_search_p99")
		b.ReportMetric(ms(quantile(inAll, 0.99)), "ms_search_all_p99")
		var first []time.Duration
		for range 20 {
			t := time.Now()
			a.c.call("pairs.list", map[string]any{"limit": 100}, nil)
			first = append(first, time.Since(t))
		}
		b.ReportMetric(ms(quantile(first, 0.99)), "ms_first_page_p99")
		t := time.Now()
		a.c.call("processes.list", map[string]any{}, nil)
		b.ReportMetric(ms(time.Since(t)), "ms_processes_list")

		// An idle run of a process with its pairs, against one with none.
		// The median of 15 runs each: a run is a few milliseconds, and
		// the machine is shared.
		idle := func(proc string) time.Duration {
			a.c.call("processes.activate", map[string]any{"id": proc}, nil)
			var took []time.Duration
			for i := range 15 {
				if i > 0 { // the first runs at activation
					a.c.call("processes.run", map[string]any{"id": proc}, nil)
				}
				a.waitRuns(proc, i+1) // a run's record is written when it ends
				rs := a.runs(proc, 1)
				took = append(took, rs[0].EndedAt.Sub(rs[0].StartedAt))
			}
			a.c.call("processes.deactivate", map[string]any{"id": proc}, nil)
			return quantile(took, 0.5)
		}
		withPairs, without := idle(ids[0]), idle(empty)
		b.Logf("idle runs: %v with %d pairs, %v with none", withPairs, per, without)
		b.ReportMetric(ms(withPairs), "ms_idle_run_with_pairs")
		b.ReportMetric(withPairs.Seconds()/without.Seconds(), "idle_run_with/without_pairs")

		// Every process polling every 60 s, nothing changing.
		activated := time.Now()
		for _, id := range ids {
			a.c.call("processes.activate", map[string]any{"id": id}, nil)
		}
		for _, id := range ids {
			a.waitRuns(id, 1) // the activation runs end
		}
		// Each process polls 60 s after its activation, then every 60 s:
		// the window opens half way between two polls, so that no poll
		// is counted whose requests the window's end cut off (at load, the
		// last processes activated poll in the window's last milliseconds
		// and their requests arrive after it).
		if wait := time.Until(activated.Add(30 * time.Second)); wait > 0 {
			time.Sleep(wait)
		}
		req0 := help.Stats().Requests + eng.Stats().Requests
		cpu0, at0 := a.cpu(), time.Now()
		time.Sleep(window)
		req1 := help.Stats().Requests + eng.Stats().Requests
		cpu1, at1 := a.cpu(), time.Now()
		rss, anon, file := a.proc("VmRSS"), a.proc("RssAnon"), a.proc("RssFile")
		a.connect()
		polls := 0
		for _, id := range ids {
			for _, r := range a.runs(id, 50) {
				if !r.StartedAt.Before(at0) && r.StartedAt.Before(at1) {
					polls += 2 // one per side
				}
			}
		}
		minutes := at1.Sub(at0).Minutes()
		b.ReportMetric(float64(req1-req0)/minutes, "requests/min")
		b.ReportMetric(float64(polls)/minutes, "polls/min")
		b.ReportMetric(float64(req1-req0)/float64(max(1, polls)), "requests/poll")
		b.ReportMetric(100*(cpu1-cpu0).Seconds()/at1.Sub(at0).Seconds(), "cpu_%_of_a_core")
		b.ReportMetric(float64(rss)/1024, "MB_idle_rss")
		b.ReportMetric(float64(anon)/1024, "MB_idle_rss_anon")
		b.ReportMetric(float64(file)/1024, "MB_idle_rss_file")
		a.stop()
	}
}

// BenchmarkScaleEditToMirror: how long an edit in HELP takes to reach its
// copy in ENG, with the sandboxes' webhooks on, and with polling only
// (every 10 s: bounded by the interval plus one run).
func BenchmarkScaleEditToMirror(b *testing.B) {
	scaleOn(b)
	edits := envInt("LOCKSTEP_SCALE_EDITS", 50)
	for range b.N {
		help, helpURL := scaleSandbox(b, "HELP", "incident", sandbox.Knobs{})
		eng, engURL := scaleSandbox(b, "ENG", "bug", sandbox.Knobs{})
		seedHelp(b, help, 20)
		a := newScaleAgent(b)
		a.start()
		defer a.stop()
		a.c.call("settings.set", map[string]any{"publicUrl": "https://" + a.addr}, nil)
		sysA, sysB := a.system("Helpdesk", helpURL, "HELP"), a.system("Engineering", engURL, "ENG")
		opts := map[string]any{"createInB": true, "comments": true, "conflict": "a_wins"}
		p := a.process("mirror", sysA, sysB, opts, map[string]any{"pollSeconds": 3600, "webhooks": true}, true)
		a.waitCreatingRun(p, 5*time.Minute)
		copyOf := map[string]string{} // HELP key -> ENG key, by title
		byTitle := map[string]string{}
		for q := (sandbox.Query{Project: "ENG", Limit: 100}); ; {
			page, _ := eng.Store().ListItems(q)
			for _, it := range page.Items {
				byTitle[it.Title] = it.Key
			}
			if q.Cursor = page.NextCursor; q.Cursor == "" {
				break
			}
		}
		var keys []string
		for q := (sandbox.Query{Project: "HELP", Limit: 100}); ; {
			page, _ := help.Store().ListItems(q)
			for _, it := range page.Items {
				copyOf[it.Key] = byTitle[it.Title]
				keys = append(keys, it.Key)
			}
			if q.Cursor = page.NextCursor; q.Cursor == "" {
				break
			}
		}
		edit := func(i int, within time.Duration) time.Duration {
			k := keys[i%len(keys)]
			title := fmt.Sprintf("edit %d of %s", i, k)
			t := time.Now()
			if _, err := help.Store().UpdateItem(k, sandbox.Patch{Title: &title}, 0); err != nil {
				b.Fatal(err)
			}
			for deadline := t.Add(within); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
				if it, err := eng.Store().GetItem(copyOf[k]); err == nil && it.Title == title {
					return time.Since(t)
				}
			}
			b.Fatalf("edit %d did not reach its copy within %v", i, within)
			return 0
		}
		var hooked []time.Duration
		for i := range edits {
			hooked = append(hooked, edit(i, time.Minute))
		}
		b.ReportMetric(ms(quantile(hooked, 0.5)), "ms_webhook_p50")
		b.ReportMetric(ms(quantile(hooked, 0.99)), "ms_webhook_p99")
		a.connect() // idle while the edits went through: the agent closed it

		const poll = 10
		var got struct{ Process map[string]any }
		a.c.call("processes.get", map[string]any{"id": p}, &got)
		got.Process["schedule"] = map[string]any{"pollSeconds": poll, "webhooks": false}
		before := len(a.runs(p, 500))
		a.c.call("processes.update", map[string]any{"process": got.Process}, nil)
		a.waitRuns(p, before+1) // the restarted runner's first run
		var polled []time.Duration
		for i := range max(5, edits/5) {
			polled = append(polled, edit(edits+i, 2*time.Minute))
		}
		a.connect()
		var longest time.Duration
		for _, r := range a.runs(p, 50) {
			if !r.EndedAt.IsZero() {
				longest = max(longest, r.EndedAt.Sub(r.StartedAt))
			}
		}
		b.ReportMetric(ms(quantile(polled, 0.5)), "ms_polling_p50")
		b.ReportMetric(ms(slices.Max(polled)), "ms_polling_max")
		b.ReportMetric(ms(poll*time.Second+longest), "ms_polling_bound")
	}
}
