#!/usr/bin/env bash
# UI tests against real agents: builds lockstep-agent (with the test
# license key) and the browser-test harness, starts `lockstep-agent demo`, a
# second, empty agent, a sandbox work system of the spec's own
# (`lockstep-agent sandbox serve`) and the harness in front of the built
# frontend, each on a loopback port the kernel picks, exports where they are,
# runs the Playwright spec, and cleans up.
#
# Usage: build/ui-test.sh [COMMAND...]   (default: npm --prefix frontend run e2e)
#        build/ui-test.sh --serve        start everything, print the env, wait for Ctrl-C
#
# The spec reads:
#   LOCKSTEP_HARNESS_URL         http://127.0.0.1:PORT/ (open this page)
#   LOCKSTEP_AGENT_URL           wss://127.0.0.1:PORT/v1/ws
#   LOCKSTEP_AGENT_ADDR          127.0.0.1:PORT (what an administrator types)
#   LOCKSTEP_AGENT_FINGERPRINT   what `lockstep-agent fingerprint` prints
#   LOCKSTEP_ADMIN_USER          admin
#   LOCKSTEP_ADMIN_PASSWORD      the admin's password
#   LOCKSTEP_HARNESS_DOWNLOADS   where save dialogs write
#   LOCKSTEP_SANDBOX_URL         http://127.0.0.1:PORT, a sandbox with projects HELP and ENG
#   LOCKSTEP_SANDBOX_TOKEN       its API token
#   LOCKSTEP_AGENT_BIN, _DATA, _PASSWORD_FILE, _PIDFILE
#                                how to kill the agent and start it again
#   LOCKSTEP_AGENT2_URL, _ADDR, _FINGERPRINT
#                                a second agent (`init` and `run`, no processes,
#                                the same admin and password), for the fleet view
#   CHROMIUM                     the browser to launch (when found)
# Needs frontend/dist (npm --prefix frontend run build).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -f frontend/dist/index.html ] || {
	echo "ui-test: frontend/dist is missing; run npm --prefix frontend run build" >&2
	exit 1
}
if [ -n "$(find frontend/src frontend/index.html -newer frontend/dist/index.html -print -quit 2>/dev/null)" ]; then
	echo "ui-test: warning: frontend/dist is older than frontend/src, so the spec tests the UI as last built; make ui-test rebuilds it" >&2
fi

work=$(mktemp -d)
pids=()
cleanup() {
	local p
	# The journey may have restarted the agent: its pid is in agent.pid.
	if [ -s "$work/agent.pid" ]; then pids+=("$(cat "$work/agent.pid")"); fi
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	# A restarted agent is not this shell's child: wait (30 s at most) for
	# it to let go of its data dir before removing it.
	for p in "${pids[@]}"; do
		for _ in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "ui-test: building lockstep-agent and lockstep-harness" >&2
go build -tags licensetest -o "$work/lockstep-agent" ./agent
go build -o "$work/lockstep-harness" ./desktop/cmd/lockstep-harness

# Every server listens on port 0 and reports the port the kernel gave it, so
# no port is picked here and lost to another program before it is bound.

# wait_for PID FILE PATTERN WHAT: wait (up to 30 s) until FILE has a line
# matching PATTERN while PID runs; print that line.
wait_for() {
	local pid=$1 file=$2 pattern=$3 what=$4 line i
	for i in $(seq 300); do
		line=$(grep -m1 -e "$pattern" "$file" 2>/dev/null || true)
		if [ -n "$line" ]; then
			printf '%s\n' "$line"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || {
			echo "ui-test: $what exited" >&2
			return 1
		}
		sleep 0.1
	done
	echo "ui-test: $what did not start within 30 s" >&2
	return 1
}

# loopback ADDR WHAT LINE: stop unless ADDR, read from LINE, is a loopback
# address with a port.
loopback() {
	case "$1" in
	127.0.0.1:[1-9]*) ;;
	*)
		echo "ui-test: cannot read $2's address from: $3" >&2
		exit 1
		;;
	esac
}

password="ui-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
printf '%s' "$password" >"$work/admin-password"
chmod 600 "$work/admin-password"

"$work/lockstep-agent" demo --data-dir "$work/agent" --listen 127.0.0.1:0 \
	--admin-password-file "$work/admin-password" >"$work/agent.out" 2>&1 &
pids+=($!)
echo "$!" >"$work/agent.pid"
# The demo's banner names the address the agent is bound to; it is printed
# once the listener is up.
started=$(wait_for "${pids[-1]}" "$work/agent.out" '^  agent: *wss://' "the agent") || {
	cat "$work/agent.out" >&2
	tail -n 40 "$work/agent/logs/agent.log" >&2 2>/dev/null || true
	exit 1
}
addr=$(printf '%s' "$started" | sed -n 's|^  agent: *wss://\([^/]*\)/v1/ws$|\1|p')
loopback "$addr" "the agent" "$started"

# A sandbox of the journey's own, for the systems it creates: the demo's
# sandboxes keep their tokens to themselves. Seeded with the projects HELP
# and ENG; the spec adds what else it needs through its REST API.
sandbox_token="sb-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
"$work/lockstep-agent" sandbox serve --listen 127.0.0.1:0 --data "$work/e2e-sandbox.json" \
	--token "$sandbox_token" >"$work/sandbox.out" 2>"$work/sandbox.log" &
pids+=($!)
serving=$(wait_for "${pids[-1]}" "$work/sandbox.out" '^Sandbox serving ' "the sandbox") || {
	cat "$work/sandbox.out" "$work/sandbox.log" >&2
	exit 1
}
sandbox_url=$(printf '%s' "$serving" | sed -n 's/^Sandbox serving \(http:\/\/[^ ]*\).*/\1/p')
[ -n "$sandbox_url" ] || {
	echo "ui-test: cannot read the sandbox's address from: $serving" >&2
	exit 1
}

fingerprint=$("$work/lockstep-agent" fingerprint --data-dir "$work/agent")

# A second agent, empty, for the fleet view and copying between agents. The
# "agent started" line of its log file names the address it is bound to
# (`run` prints nothing to stdout).
"$work/lockstep-agent" init --data-dir "$work/agent2" --listen 127.0.0.1:0 \
	--admin-password-file "$work/admin-password" >"$work/agent2-init.out" 2>&1 || {
	cat "$work/agent2-init.out" >&2
	exit 1
}
"$work/lockstep-agent" run --data-dir "$work/agent2" >"$work/agent2.out" 2>&1 &
pids+=($!)
started2=$(wait_for "${pids[-1]}" "$work/agent2/logs/agent.log" '"message":"agent started"' "the second agent") || {
	cat "$work/agent2.out" >&2
	tail -n 20 "$work/agent2/logs/agent.log" >&2 2>/dev/null || true
	exit 1
}
addr2=$(printf '%s' "$started2" | sed -n 's/.*"listen":"\(127\.0\.0\.1:[0-9]*\)".*/\1/p')
loopback "$addr2" "the second agent" "$started2"
fingerprint2=$("$work/lockstep-agent" fingerprint --data-dir "$work/agent2")

"$work/lockstep-harness" --listen 127.0.0.1:0 --dist frontend/dist \
	--downloads "$work/downloads" --profiles "$work/profiles.json" >"$work/harness.out" 2>"$work/harness.log" &
pids+=($!)
url=$(wait_for "${pids[-1]}" "$work/harness.out" '^http' "the harness") || {
	cat "$work/harness.log" >&2
	exit 1
}

export LOCKSTEP_HARNESS_URL=$url
export LOCKSTEP_AGENT_URL="wss://$addr/v1/ws"
export LOCKSTEP_AGENT_ADDR=$addr
export LOCKSTEP_AGENT_FINGERPRINT=$fingerprint
export LOCKSTEP_ADMIN_USER=admin
export LOCKSTEP_ADMIN_PASSWORD=$password
export LOCKSTEP_HARNESS_DOWNLOADS="$work/downloads"
export LOCKSTEP_SANDBOX_URL=$sandbox_url
export LOCKSTEP_SANDBOX_TOKEN=$sandbox_token
# What the journey needs to kill the agent and start it again on the same
# address and data (the offline check); it keeps the new pid in the file.
export LOCKSTEP_AGENT_BIN="$work/lockstep-agent"
export LOCKSTEP_AGENT_DATA="$work/agent"
export LOCKSTEP_AGENT_PASSWORD_FILE="$work/admin-password"
export LOCKSTEP_AGENT_PIDFILE="$work/agent.pid"
export LOCKSTEP_AGENT2_URL="wss://$addr2/v1/ws"
export LOCKSTEP_AGENT2_ADDR=$addr2
export LOCKSTEP_AGENT2_FINGERPRINT=$fingerprint2
if [ -z "${CHROMIUM:-}" ]; then
	for c in chromium chromium-browser google-chrome; do
		if command -v "$c" >/dev/null; then
			CHROMIUM=$(command -v "$c")
			export CHROMIUM
			break
		fi
	done
fi
echo "ui-test: harness $LOCKSTEP_HARNESS_URL, agents $LOCKSTEP_AGENT_URL and $LOCKSTEP_AGENT2_URL" >&2

if [ "${1:-}" = "--serve" ]; then
	env | grep -E '^(LOCKSTEP_|CHROMIUM=)' | sort
	echo "ui-test: serving; Ctrl-C stops" >&2
	wait "${pids[0]}"
	exit
fi
status=0
if [ $# -gt 0 ]; then
	"$@" || status=$?
else
	npm --prefix frontend run e2e || status=$?
fi
if [ "$status" -ne 0 ]; then
	echo "--- agent log (tail)" >&2
	tail -n 40 "$work/agent/logs/agent.log" >&2 || true
	echo "--- second agent log (tail)" >&2
	tail -n 20 "$work/agent2/logs/agent.log" >&2 || true
	echo "--- sandbox log (tail)" >&2
	tail -n 20 "$work/sandbox.log" >&2 || true
	echo "--- harness log" >&2
	cat "$work/harness.log" >&2
fi
exit "$status"
