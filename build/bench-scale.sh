#!/usr/bin/env bash
# make bench-scale: one agent at scale, on the real binary, every goal as a
# ratio or a value measured in this one run (machines are shared and noisy:
# compare within a run, never against a fixed time). Long: one to two hours
# at the goals' sizes, the defaults. Smaller sizes, for a quicker look:
#   LOCKSTEP_SCALE_ITEMS (100000)        initial sync with a request budget
#   LOCKSTEP_SCALE_BUDGET (200)          that budget, requests a second per system
#   LOCKSTEP_SCALE_FREE_ITEMS (20000)    initial sync with no budget
#   LOCKSTEP_SCALE_LATENCY_ITEMS (2000)  initial sync at 20 ms latency
#   LOCKSTEP_SCALE_PAIRS (1000000)       pairs in the generated store
#   LOCKSTEP_SCALE_PROCESSES (100)       processes they are spread over
#   LOCKSTEP_SCALE_WINDOW (180)          seconds of idle polling measured
#   LOCKSTEP_SCALE_EDITS (50)            edits timed to their mirror
# Arguments name the benchmarks to run (default: all three), e.g.
#   build/bench-scale.sh BenchmarkScaleMillionPairs
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "== scale benchmarks (one at a time, niced)"
# One that fails does not stop the others; the script fails at the end.
failed=0
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(BenchmarkScaleInitialSync BenchmarkScaleMillionPairs BenchmarkScaleEditToMirror)
for b in "${benches[@]}"; do
	LOCKSTEP_BENCH_SCALE=1 nice go test -tags licensetest -run '^$' -bench "^$b\$" -benchtime 1x -timeout 6h -v ./agent | tee -a "$out" || failed=1
done

metric() { awk -v n="$1" -v u="$2" 'index($1, n) == 1 { for (i = 1; i <= NF; i++) if ($(i+1) == u) { print $i; exit } }' "$out"; }
row() { printf '%-64s %16s  %s\n' "$1" "$2" "$3"; }
I=BenchmarkScaleInitialSync
P=BenchmarkScaleMillionPairs
E=BenchmarkScaleEditToMirror

echo
echo "== goals: one agent at scale"
row "initial sync, ${LOCKSTEP_SCALE_ITEMS:-100000} items + a comment each, 0 ms," "" ""
row "  budget ${LOCKSTEP_SCALE_BUDGET:-200} req/s per system: engine / bare" "$(metric $I engine/bare_throughput)x" "(goal >= 0.9x; bare: same parallelism and budget)"
row "  items/s: engine, bare" "$(metric $I engine_items/s) / $(metric $I bare_items/s)" ""
row "  requests: engine / bare" "$(metric $I engine/bare_requests)x" ""
row "  agent CPU per item: user + system / user" "$(metric $I agent_cpu_ms/item) / $(metric $I agent_user_cpu_ms/item) ms" "(no budget: $(metric $I agent_cpu_ms/item_unlimited) / $(metric $I agent_user_cpu_ms/item_unlimited) ms)"
row "  agent peak RSS (all / its own memory)" "$(metric $I MB_peak_rss) / $(metric $I MB_peak_rss_anon) MB" "(goal <= 256 MB)"
row "  store bytes per pair" "$(metric $I store_bytes/pair)" ""
row "initial sync, ${LOCKSTEP_SCALE_FREE_ITEMS:-20000} items, no budget: engine / bare" "$(metric $I engine/bare_throughput_unlimited)x" "(the engine's own work: $(metric $I engine_items/s_unlimited) / $(metric $I bare_items/s_unlimited) items/s)"
row "initial sync, ${LOCKSTEP_SCALE_LATENCY_ITEMS:-2000} items, 20 ms latency: engine / bare" "$(metric $I engine/bare_throughput_20ms)x" "(requests $(metric $I engine/bare_requests_20ms)x)"
row "${LOCKSTEP_SCALE_PAIRS:-1000000} pairs over ${LOCKSTEP_SCALE_PROCESSES:-100} processes (generated in $(metric $P s_generate) s)" "" ""
row "  store bytes per pair" "$(metric $P store_bytes/pair)" ""
row "  agent start to healthy" "$(metric $P s_start_to_healthy) s" "(goal <= 5 s)"
row "  pairs.list search in a process, p50 / p99" "$(metric $P ms_search_p50) / $(metric $P ms_search_p99) ms" "(goal p99 <= 50 ms)"
row "  pairs.list search in all processes, p99" "$(metric $P ms_search_all_p99) ms" ""
row "  pairs.list first page of all, p99" "$(metric $P ms_first_page_p99) ms" ""
row "  processes.list" "$(metric $P ms_processes_list) ms" ""
row "  idle run: with its pairs / with none (medians)" "$(metric $P idle_run_with/without_pairs)x" "(goal ~1x: no work per pair; $(metric $P ms_idle_run_with_pairs) ms)"
row "  every process polling every 60 s: requests per poll" "$(metric $P requests/poll)" "(goal 1: requests/min = polls/min)"
row "    requests/min, polls/min" "$(metric $P requests/min) / $(metric $P polls/min)" ""
row "    agent CPU" "$(metric $P cpu_%_of_a_core) % of a core" "(goal <= 2%)"
row "    agent idle RSS (all / its own / store pages mapped)" "$(metric $P MB_idle_rss) / $(metric $P MB_idle_rss_anon) / $(metric $P MB_idle_rss_file) MB" "(goal <= 100 MB)"
row "edit to mirror with webhooks, p50 / p99" "$(metric $E ms_webhook_p50) / $(metric $E ms_webhook_p99) ms" "(goal <= 1000 / 3000 ms)"
row "edit to mirror, polling every 10 s: p50 / max" "$(metric $E ms_polling_p50) / $(metric $E ms_polling_max) ms" "(bound: interval + longest run = $(metric $E ms_polling_bound) ms)"
exit "$failed"
