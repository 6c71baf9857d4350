#!/usr/bin/env bash
# Smoke test of the real desktop window: starts the built app under Xvfb,
# waits until the UI reports it loaded, screenshots the window and checks
# the picture is not blank. The screenshot is kept as an artifact.
#
# Usage: build/smoke-desktop.sh BINARY [SCREENSHOT.png]
# Needs: xvfb-run, xwininfo (x11-utils), import/convert (imagemagick);
# build/install-deps.sh --xvfb installs them.
set -euo pipefail

bin=${1:?usage: $0 BINARY [SCREENSHOT.png]}
shot=${2:-build/artifacts/desktop-smoke.png}
# A UI that rendered has text, borders and anti-aliasing: hundreds of
# colours. A blank or failed webview is one or two.
MIN_COLOURS=${MIN_COLOURS:-32}
WAIT_SECONDS=${WAIT_SECONDS:-60}

for tool in xvfb-run xwininfo import convert; do
	command -v "$tool" >/dev/null || {
		echo "smoke-desktop: $tool missing; run build/install-deps.sh --xvfb" >&2
		exit 1
	}
done
[ -x "$bin" ] || {
	echo "smoke-desktop: $bin is not an executable; run make build-desktop" >&2
	exit 1
}
mkdir -p "$(dirname "$shot")"
shot=$(cd "$(dirname "$shot")" && pwd)/$(basename "$shot")
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Everything below runs inside the X server's lifetime. The app gets its own
# HOME and config dir, so the smoke test never reads or writes the user's
# saved profiles.
cat >"$work/inside.sh" <<'INSIDE'
set -euo pipefail
bin=$1 shot=$2 work=$3 min=$4 wait=$5
export HOME=$work/home XDG_CONFIG_HOME=$work/config XDG_CACHE_HOME=$work/cache XDG_DATA_HOME=$work/data
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_DATA_HOME"
"$bin" >"$work/app.log" 2>&1 &
app=$!
stop() { kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; }
trap stop EXIT
fail() {
	echo "smoke-desktop: $*" >&2
	echo "--- app output" >&2
	cat "$work/app.log" >&2
	exit 1
}
colours=0
for ((i = 0; i < wait * 2; i++)); do
	kill -0 "$app" 2>/dev/null || fail "the app exited"
	# import by name fails on GTK's windows here; the id works.
	wid=$(xwininfo -name Lockstep 2>/dev/null | awk '/Window id:/ {print $4}' || true)
	if grep -q "UI loaded" "$work/app.log" && [ -n "$wid" ]; then
		# The page may still be painting right after DOM ready: retry the
		# picture until it has content or the wait runs out.
		import -window "$wid" "$shot" 2>/dev/null || true
		if [ -s "$shot" ]; then
			colours=$(convert "$shot" -format %k info:)
			[ "$colours" -ge "$min" ] && break
		fi
	fi
	sleep 0.5
done
grep -q "UI loaded" "$work/app.log" || fail "the UI never reported it loaded within ${wait}s"
[ -s "$shot" ] || fail "no screenshot of the Lockstep window"
[ "$colours" -ge "$min" ] || fail "the window looks blank: $colours colours (want >= $min); see $shot"
import -window root "${shot%.png}-screen.png" 2>/dev/null || true
geometry=$(xwininfo -name Lockstep | awk '/Width:/ {w=$2} /Height:/ {h=$2} END {print w "x" h}')
echo "smoke-desktop: window $geometry, $colours colours, screenshot $shot"
INSIDE

xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
	bash "$work/inside.sh" "$bin" "$shot" "$work" "$MIN_COLOURS" "$WAIT_SECONDS"
