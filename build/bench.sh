#!/usr/bin/env bash
# make bench: runs the benchmarks and prints every goal as a ratio or a value
# measured in this one run (machines are shared and noisy: compare within a
# run, never against a fixed time).
set -euo pipefail
agent=$1
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "== go benchmarks"
go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-1s}" \
	./agent/internal/store ./agent/internal/logging | tee "$out"
go test -run '^$' -bench . -benchtime 1x ./agent/internal/syncer | tee -a "$out"
go test -run '^$' -bench BenchmarkGitHubSync -benchtime 1x ./agent/internal/connector/github | tee -a "$out"
go test -run '^$' -bench BenchmarkServiceNowSync -benchtime 1x ./agent/internal/connector/servicenow | tee -a "$out"
go test -run '^$' -bench BenchmarkGitLabSync -benchtime 1x ./agent/internal/connector/gitlab | tee -a "$out"
# A real agent idle, then under 300 idle connections and 50 password guessers.
go test -run '^$' -bench BenchmarkLoginFlood -benchtime 1x ./agent/internal/rpc | tee -a "$out"

# ns_per_op NAME: the ns/op of the benchmark line whose name starts with NAME.
ns_per_op() { awk -v n="$1" 'index($1, n) == 1 { for (i = 1; i <= NF; i++) if ($(i+1) == "ns/op") { print $i; exit } }' "$out"; }
metric() { awk -v n="$1" -v u="$2" 'index($1, n) == 1 { for (i = 1; i <= NF; i++) if ($(i+1) == u) { print $i; exit } }' "$out"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo
echo "== goals"
printf '%-58s %8s  %s\n' "store put: encrypted / plain" "$(ratio "$(ns_per_op BenchmarkStore/put/encrypted)" "$(ns_per_op BenchmarkStore/put/plain)")x" "(goal <= 1.15x)"
printf '%-58s %8s  %s\n' "store get: encrypted / plain" "$(ratio "$(ns_per_op BenchmarkStore/get/encrypted)" "$(ns_per_op BenchmarkStore/get/plain)")x" "(goal <= 1.15x)"
printf '%-58s %8s  %s\n' "log line, all three sinks / bare zerolog" "$(ratio "$(ns_per_op BenchmarkAllSinks)" "$(ns_per_op BenchmarkBareZerolog)")x" "(goal <= 2x)"
printf '%-58s %8s  %s\n' "log line, all three sinks: allocs/op" "$(metric BenchmarkAllSinks allocs/op)" "(goal 0)"
printf '%-58s %8s  %s\n' "logging with a stalled subscriber / none" "$(ratio "$(ns_per_op BenchmarkStalledSubscriber)" "$(ns_per_op BenchmarkNoSubscriber)")x" "(goal <= 1.1x)"
printf '%-58s %8s  %s\n' "log lines/s delivered to one subscriber" "$(metric BenchmarkTapDelivery lines/s)" "(goal >= 20000)"
printf '%-58s %8s  %s\n' "sync throughput: engine / bare API client (5 ms latency)" "$(metric BenchmarkSyncVersusBare engine/bare_throughput)x" "(goal >= 0.8x)"
printf '%-58s %8s  %s\n' "sync of changed items: engine / bare API client" "$(metric BenchmarkSyncVersusBare engine/bare_update_throughput)x" "(goal >= 0.8x)"
printf '%-58s %8s  %s\n' "sync throughput: engine / bare API client (0 ms latency)" "$(metric BenchmarkSyncVersusBare engine/bare_throughput_0ms)x" "(bare: the engine's parallelism)"
printf '%-58s %8s  %s\n' "sync of changed items: engine / bare (0 ms latency)" "$(metric BenchmarkSyncVersusBare engine/bare_update_throughput_0ms)x" "(durable commits dominate)"
printf '%-58s %8s  %s\n' "API requests per synced change (new item)" "$(metric BenchmarkSyncVersusBare requests/change)" "(bare: 1 + paging)"
printf '%-58s %8s  %s\n' "API requests per synced change (changed item)" "$(metric BenchmarkSyncVersusBare requests/update)" "(bare: 1 + paging)"
printf '%-58s %8s  %s\n' "API requests per idle poll and system side" "$(metric BenchmarkSyncVersusBare requests/idle_poll_side)" "(goal 1)"
printf '%-58s %8s  %s\n' "store after a year of idle 60 s polls, retention / none" "$(metric BenchmarkYearOfIdlePolls store_retention/none)x" "(goal <= 0.1x: bounded)"
printf '%-58s %8s  %s\n' "idle poll with retention / without (last month of a year)" "$(metric BenchmarkYearOfIdlePolls poll_time_retention/none)x" "(goal <= 1.5x: pruning is cheap)"
printf '%-58s %8s  %s\n' "idle poll with retention: last month / first month" "$(metric BenchmarkYearOfIdlePolls poll_time_last/first_month)x" "(goal <= 1.5x: no slower with age)"
printf '%-58s %8s  %s\n' "store after a year of idle polls, default retention" "$(metric BenchmarkYearOfIdlePolls MB_store_retention) MB" "($(metric BenchmarkYearOfIdlePolls runs_kept_retention) runs kept)"
printf '%-58s %8s  %s\n' "store after a year of idle polls, no retention" "$(metric BenchmarkYearOfIdlePolls MB_store_none) MB" "($(metric BenchmarkYearOfIdlePolls runs_kept_none) runs kept)"
printf '%-58s %8s  %s\n' "request budget used with a backlog" "$(metric BenchmarkBudgetUse budget_used)" "(goal >= 0.8)"
printf '%-58s %8s  %s\n' "429 responses with a backlog" "$(metric BenchmarkBudgetUse 429s)" "(goal 0)"
printf '%-58s %8s  %s\n' "github: API requests per synced change (new item)" "$(metric BenchmarkGitHubSync github_requests/new_item)" "(bare: 1 + paging)"
printf '%-58s %8s  %s\n' "github: API requests per change synced to GitHub" "$(metric BenchmarkGitHubSync github_requests/change_to_github)" "(read, check, write)"
printf '%-58s %8s  %s\n' "github: rate-limit budget per change synced to GitHub" "$(metric BenchmarkGitHubSync github_budget/change_to_github)" "(the check is a free 304)"
printf '%-58s %8s  %s\n' "github: API requests per change synced from GitHub" "$(metric BenchmarkGitHubSync github_requests/change_from_github)" "(paging only)"
printf '%-58s %8s  %s\n' "github: API requests per idle poll" "$(metric BenchmarkGitHubSync github_requests/idle_poll)" "(a 304 a page; a burst fills 2)"
printf '%-58s %8s  %s\n' "github: rate-limit budget per idle poll" "$(metric BenchmarkGitHubSync github_budget/idle_poll)" "(goal 0: a 304)"
printf '%-58s %8s  %s\n' "github: secondary rate limits met with a backlog" "$(metric BenchmarkGitHubSync github_secondary_limits)" "(goal 0)"
printf '%-58s %8s  %s\n' "servicenow: API requests per synced change (new incident)" "$(metric BenchmarkServiceNowSync servicenow_requests/new_incident)" "(paging only)"
printf '%-58s %8s  %s\n' "servicenow: API requests per changed incident synced" "$(metric BenchmarkServiceNowSync servicenow_requests/changed_incident)" "(paging + attachment look)"
printf '%-58s %8s  %s\n' "servicenow: API requests per change written to ServiceNow" "$(metric BenchmarkServiceNowSync servicenow_requests/written_change)" "(read, check, write)"
printf '%-58s %8s  %s\n' "servicenow: API requests per idle poll" "$(metric BenchmarkServiceNowSync servicenow_requests/idle_poll)" "(changes + new attachments)"
printf '%-58s %8s  %s\n' "gitlab: API requests per synced change (new item)" "$(metric BenchmarkGitLabSync gitlab_requests/new_item)" "(bare: 1 + paging)"
printf '%-58s %8s  %s\n' "gitlab: API requests per change synced to GitLab" "$(metric BenchmarkGitLabSync gitlab_requests/change_to_gitlab)" "(read, check, write)"
printf '%-58s %8s  %s\n' "gitlab: API requests per change synced from GitLab" "$(metric BenchmarkGitLabSync gitlab_requests/change_from_gitlab)" "(paging only)"
printf '%-58s %8s  %s\n' "gitlab: API requests per idle poll" "$(metric BenchmarkGitLabSync gitlab_requests/idle_poll)" "(goal 1)"
printf '%-58s %8s  %s\n' "gitlab: 429s with a backlog over the API throttle" "$(metric BenchmarkGitLabSync gitlab_429s)" "(few: in flight at a window's end)"
printf '%-58s %8s  %s\n' "admin call under a login flood / idle agent (medians)" "$(metric BenchmarkLoginFlood call_loaded/unloaded)x" "(goal <= 3x)"
printf '%-58s %8s  %s\n' "admin login under a login flood / idle agent (medians)" "$(metric BenchmarkLoginFlood login_loaded/unloaded)x" "(goal <= 3x)"

echo
echo "== idle RSS of lockstep-agent run after ${IDLE_SECONDS:=30} s"
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$agent" init --data-dir "$dir/data" --listen "127.0.0.1:$port" >/dev/null
"$agent" run --data-dir "$dir/data" 2>/dev/null &
pid=$!
sleep "$IDLE_SECONDS"
rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
kill -TERM "$pid"
wait "$pid" || true
rm -rf "$dir"
printf '%-58s %8s  %s\n' "idle RSS" "$((rss_kb / 1024)) MB" "(goal < 40 MB)"
