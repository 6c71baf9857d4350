#!/usr/bin/env bash
# Starts a demo agent in a data dir kept between runs (make demo), prints how
# to connect, and launches the desktop app when there is a display. Ctrl-C
# stops everything.
set -euo pipefail
agent=$1 dir=$2 listen=$3 desktop=${4:-}

if [ ! -f "$dir/agent.json" ]; then
	"$agent" init --data-dir "$dir" --listen "$listen"
fi
fp=$("$agent" fingerprint --data-dir "$dir")
cat <<MSG

Lockstep demo agent
  data dir:    $dir
  URL:         wss://$listen/v1/ws   (health: https://$listen/healthz)
  fingerprint: $fp
  Compare the fingerprint with: $agent fingerprint --data-dir $dir
  Stop with Ctrl-C.

MSG
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM
"$agent" run --data-dir "$dir" --listen "$listen" &
pids+=($!)
if [ -n "${DISPLAY:-}" ] && [ -x "$desktop" ]; then
	"$desktop" &
	pids+=($!)
fi
wait "${pids[0]}"
