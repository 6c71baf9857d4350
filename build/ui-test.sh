#!/usr/bin/env bash
# UI tests against a real agent: builds lockstep-agent (with the test
# license key) and the browser-test harness, starts `lockstep-agent demo` on
# a free loopback port and the harness in front of the built frontend,
# exports where they are, runs the Playwright spec, and cleans up.
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
#   CHROMIUM                     the browser to launch (when found)
# Needs frontend/dist (npm --prefix frontend run build).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -f frontend/dist/index.html ] || {
	echo "ui-test: frontend/dist is missing; run npm --prefix frontend run build" >&2
	exit 1
}

work=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "ui-test: building lockstep-agent and lockstep-harness" >&2
go build -tags licensetest -o "$work/lockstep-agent" ./agent
go build -o "$work/lockstep-harness" ./desktop/cmd/lockstep-harness

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=""
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 20000))
	if port_free "$p"; then
		port=$p
		break
	fi
done
[ -n "$port" ] || {
	echo "ui-test: no free port found" >&2
	exit 1
}

password="ui-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
printf '%s' "$password" >"$work/admin-password"
chmod 600 "$work/admin-password"

"$work/lockstep-agent" demo --data-dir "$work/agent" --listen "127.0.0.1:$port" \
	--admin-password-file "$work/admin-password" >"$work/agent.log" 2>&1 &
pids+=($!)
for i in $(seq 300); do
	port_free "$port" || break
	kill -0 "${pids[0]}" 2>/dev/null || {
		echo "ui-test: the agent exited:" >&2
		cat "$work/agent.log" >&2
		exit 1
	}
	sleep 0.1
	[ "$i" -lt 300 ] || {
		echo "ui-test: the agent never listened on $port" >&2
		cat "$work/agent.log" >&2
		exit 1
	}
done
fingerprint=$("$work/lockstep-agent" fingerprint --data-dir "$work/agent")

"$work/lockstep-harness" --listen 127.0.0.1:0 --dist frontend/dist \
	--downloads "$work/downloads" --profiles "$work/profiles.json" >"$work/harness.out" 2>"$work/harness.log" &
pids+=($!)
url=""
for _ in $(seq 100); do
	url=$(head -n1 "$work/harness.out" 2>/dev/null || true)
	[ -n "$url" ] && break
	kill -0 "${pids[1]}" 2>/dev/null || break
	sleep 0.1
done
[ -n "$url" ] || {
	echo "ui-test: the harness did not start:" >&2
	cat "$work/harness.log" >&2
	exit 1
}

export LOCKSTEP_HARNESS_URL=$url
export LOCKSTEP_AGENT_URL="wss://127.0.0.1:$port/v1/ws"
export LOCKSTEP_AGENT_ADDR="127.0.0.1:$port"
export LOCKSTEP_AGENT_FINGERPRINT=$fingerprint
export LOCKSTEP_ADMIN_USER=admin
export LOCKSTEP_ADMIN_PASSWORD=$password
export LOCKSTEP_HARNESS_DOWNLOADS="$work/downloads"
if [ -z "${CHROMIUM:-}" ]; then
	for c in chromium chromium-browser google-chrome; do
		if command -v "$c" >/dev/null; then
			CHROMIUM=$(command -v "$c")
			export CHROMIUM
			break
		fi
	done
fi
echo "ui-test: harness $LOCKSTEP_HARNESS_URL, agent $LOCKSTEP_AGENT_URL" >&2

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
	tail -n 40 "$work/agent.log" >&2
	echo "--- harness log" >&2
	cat "$work/harness.log" >&2
fi
exit "$status"
