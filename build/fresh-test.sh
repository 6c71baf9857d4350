#!/usr/bin/env bash
# `make fresh-test`: the set-up on a really fresh machine. debootstrap makes
# a minimal Debian (this machine's release; FRESH_SUITE overrides) with
# nothing but make and git, the README's only prerequisites: no Go anywhere,
# no module or build cache, a new HOME. Into it goes a clone of this
# repository with the working tree's changes, and as root in that chroot:
#
#   1. `go` is not on PATH, and nothing under /usr/local/go or ~/go;
#   2. `make build-agent`: build/install-deps.sh installs Debian's golang-go,
#      fetches Go from the module proxy into GO_HOME, and the Makefile builds
#      the agent with it (checked with `go version` of the binary);
#   3. `lockstep-agent version` runs; `make demo` (headless, so the agent
#      alone) starts the demo agent; `install-deps.sh --go` again installs
#      nothing;
#   4. `make frontend-build`: install-deps installs Debian's nodejs and npm
#      and, where that node is too old for the frontend (Debian 12's 18),
#      a Node release from the npm registry into NODE_HOME; the UI builds.
#
# Root is needed (debootstrap, chroot, mounts), and the network (a Debian
# mirror and the Go module proxy). It takes minutes, so it is not part of
# `make test`. KEEP=1 leaves the chroot for a look.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. /etc/os-release
SUITE=${FRESH_SUITE:-${VERSION_CODENAME:-bookworm}}
MIRROR=${FRESH_MIRROR:-http://deb.debian.org/debian}

log() { printf 'fresh-test: %s\n' "$*" >&2; }
fail() {
	log "FAIL: $*"
	exit 1
}
[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot)"
"$ROOT/build/install-deps.sh" --debootstrap

work=$(mktemp -d /var/tmp/lockstep-fresh.XXXXXX)
chroot_dir="$work/root"
mounts=()
cleanup() {
	local m i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		m=${mounts[i]}
		umount -l "$m" 2>/dev/null || true
	done
	if [ -z "${KEEP:-}" ]; then
		rm -rf "$work"
	else
		log "kept $chroot_dir"
	fi
}
trap cleanup EXIT

log "debootstrap $SUITE (minbase + make, git) from $MIRROR"
debootstrap --variant=minbase --include=make,git "$SUITE" "$chroot_dir" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
	{ tail -20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
for m in proc dev dev/pts; do
	case "$m" in
	proc) mount -t proc proc "$chroot_dir/proc" ;;
	*) mount --bind "/$m" "$chroot_dir/$m" ;;
	esac
	mounts+=("$chroot_dir/$m")
done
cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf"
# CA certificates this host trusts beyond Debian's (a TLS-inspecting proxy's,
# a company CA) are what a site puts on every machine: without them no TLS
# gets out of this network. ca-certificates, once installed, takes them from
# /usr/local/share/ca-certificates.
mkdir -p "$chroot_dir/usr/local/share/ca-certificates"
n=0
for f in /etc/ssl/certs/*.pem; do
	[ -f "$f" ] && [ ! -L "$f" ] && [ "$(basename "$f")" != ssl-cert-snakeoil.pem ] || continue
	n=$((n + 1))
	cp "$f" "$chroot_dir/usr/local/share/ca-certificates/host-$n.crt"
done
[ "$n" -eq 0 ] || log "copied $n CA certificate(s) this host adds to Debian's"

# A clone (so git describe works), plus the working tree's uncommitted and
# untracked (not ignored) files, so what is tested is what is here.
src="$chroot_dir/root/lockstep"
git clone --quiet --no-hardlinks "$ROOT" "$src"
(cd "$ROOT" && git ls-files -z -c -o --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$src"

run() {
	chroot "$chroot_dir" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		${GOPROXY:+GOPROXY=$GOPROXY} /bin/bash -euo pipefail -c "cd /root/lockstep
$1"
}

log "the chroot has no Go"
run '! command -v go && [ ! -e /usr/local/go ] && [ ! -e /root/go ] && [ ! -e /root/.cache ]' ||
	fail "the chroot is not clean"

log "make build-agent (installs Go, then builds)"
run 'make --no-print-directory build-agent' >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; fail "make build-agent"; }
grep -q 'install-deps: go: installed go1' "$work/build.log" || { cat "$work/build.log" >&2; fail "install-deps did not install Go"; }

log "the agent was built with the installed Go and runs"
out=$(run 'GO_HOME=$(build/install-deps.sh --print-go-home); "$GO_HOME/bin/go" version build/bin/lockstep-agent; build/bin/lockstep-agent version; /usr/bin/go version')
log "$(tr '\n' ';' <<<"$out")"
grep -q 'build/bin/lockstep-agent: go1\.26\.' <<<"$out" || fail "the agent was not built by the installed Go: $out"
grep -q '^lockstep-agent ' <<<"$out" || fail "the agent does not run: $out"
grep -q '^go version go1\.19' <<<"$out" || log "note: Debian's golang-go here is not 1.19: $out"

port=$((20000 + RANDOM % 20000))
log "make demo, headless (the agent alone), until it prints its fingerprint"
out=$(run 'setsid make --no-print-directory demo DEMO_LISTEN=127.0.0.1:'"$port"' >/root/demo.log 2>&1 </dev/null & pid=$!
	for _ in $(seq 600); do
		grep -q "fingerprint:" /root/demo.log && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -TERM -- "-$pid" 2>/dev/null || true
	wait "$pid" || true
	cat /root/demo.log') || true
grep -q "fingerprint: " <<<"$out" || { printf '%s\n' "$out" >&2; fail "make demo did not start the demo agent"; }

log "install-deps --go again: nothing to install"
again=$(run 'build/install-deps.sh --go' 2>&1)
grep -q 'first on PATH in the Makefile\|go: go1\.' <<<"$again" || fail "second run: $again"
if grep -q 'downloading\|apt-get' <<<"$again"; then fail "the second run installed again: $again"; fi

log "make frontend-build (installs node and npm; a Node new enough when Debian's is not)"
run 'make --no-print-directory frontend-build' >"$work/frontend.log" 2>&1 || { tail -40 "$work/frontend.log" >&2; fail "make frontend-build"; }
[ -f "$src/frontend/dist/index.html" ] || fail "make frontend-build made no frontend/dist/index.html"
out=$(run '/usr/bin/node --version; NODE_HOME=$(build/install-deps.sh --print-node-home); [ ! -x "$NODE_HOME/bin/node" ] || "$NODE_HOME/bin/node" --version')
log "node: $(tr '\n' ';' <<<"$out")"
if grep -q '^v1[0-9]\.' <<<"$out"; then
	# Debian 12's own node (18) cannot run Vite 8: the build must have used
	# the Node install-deps fetched.
	grep -q 'install-deps: node: installed v2' "$work/frontend.log" || fail "Debian's node is too old and install-deps installed no other: $out"
fi

log "ok: a fresh $SUITE with make and git builds the agent and the frontend"
