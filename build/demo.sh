#!/usr/bin/env bash
# make demo: runs `lockstep-agent demo` (an agent with two sandbox work
# systems and a sync process between them, plus a generator editing both
# sides), and the desktop app when there is a display and it was built.
# Ctrl-C stops everything.
set -euo pipefail
agent=$1 dir=$2 listen=$3 desktop=${4:-}

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
# Ctrl-C is how the demo is meant to end: stop everything and exit 0, so
# make does not report it as a failure ("Error 130").
stopped() {
	trap - INT TERM
	echo "demo: stopping" >&2
	cleanup
	exit 0
}
trap cleanup EXIT
trap stopped INT TERM

"$agent" demo --data-dir "$dir" --listen "$listen" &
pids+=($!)
if [ -n "${DISPLAY:-}" ] && [ -x "$desktop" ]; then
	# The desktop app opens once the agent listens (it connects at once).
	host=${listen%:*} port=${listen##*:}
	[ "$host" = "0.0.0.0" ] && host=127.0.0.1
	until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
		kill -0 "${pids[0]}" 2>/dev/null || exit 1 # the agent stopped: its error is above
		sleep 0.2
	done
	"$desktop" &
	pids+=($!)
fi
status=0
wait "${pids[0]}" || status=$?
exit "$status"
