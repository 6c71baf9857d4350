#!/usr/bin/env bash
# Installs what building and testing Lockstep needs on Debian/Ubuntu, and only
# what is missing, so CI and developers can run it before every build.
#
# Usage: build/install-deps.sh MODE...
#   --go               Go >= 1.26: the one on PATH, else Go GO_TOOLCHAIN_VERSION
#                      installed into GO_HOME (see below), bootstrapped with
#                      Debian's golang-go from the Go module proxy
#   --frontend         node + npm (apt if missing); when that node is older than
#                      the frontend needs (Debian 12's is 18), Node NODE_VERSION
#                      into NODE_HOME from the npm registry (see below); then
#                      npm ci in frontend/ when node_modules is missing or
#                      package-lock.json changed
#   --desktop          C toolchain, GTK 3 and WebKitGTK dev packages (4.0, else 4.1)
#   --browser          Debian's chromium (headless UI tests)
#   --xvfb             xvfb, xauth, x11-utils, imagemagick (window smoke test + screenshot)
#   --nsis             makensis (Windows installer built by the Wails CLI)
#   --wails-cli        Wails CLI v2.9.2 into $(go env GOPATH)/bin/wails
#   --package-tools    makensis, rpm and 7z (build/package-test.sh inspects the
#                      .rpm and the Windows installer with them)
#   --prometheus       Debian's prometheus (the metrics test scrapes a real agent
#                      with it); its own service is left stopped, tests start one
#   --debootstrap      debootstrap (build/fresh-test.sh)
#   --smtp             Debian's python3-aiosmtpd: the real SMTP server the
#                      notification tests start on loopback
#   --print-go-home    print GO_HOME (the Makefile puts GO_HOME/bin first on PATH)
#   --print-node-home  print NODE_HOME (the Makefile puts NODE_HOME/bin first on PATH)
#   --print-webkit-tag print the Go build tag for the installed WebKitGTK
#                      ("" for 4.0, "webkit2_41" for 4.1-only systems)
#   --all              every install mode above
# Works as root (CI) or through sudo. apt-get update runs at most once per call,
# and only when something has to be installed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WAILS_VERSION=v2.9.2
# Wails v2.9.2 pins x/tools v0.17, which does not compile with Go >= 1.26;
# x/mod >= v0.25 lets the CLI parse the `ignore` directive in our go.mod.
XTOOLS_VERSION=v0.26.0
XMOD_VERSION=v0.25.0
GO_MIN_MINOR=26
# The Go release installed when none >= 1.$GO_MIN_MINOR is on PATH, and where:
# one per user, shared by every clone. LOCKSTEP_GO_HOME overrides the place.
GO_TOOLCHAIN_VERSION=1.26.8
GO_HOME=${LOCKSTEP_GO_HOME:-${XDG_DATA_HOME:-${HOME:-/root}/.local/share}/lockstep/go$GO_TOOLCHAIN_VERSION}
# Like the Makefile: a Go installed into GO_HOME comes first, so that the
# modes below (--wails-cli) use it.
case ":$PATH:" in
*":$GO_HOME/bin:"*) ;;
*) PATH="$GO_HOME/bin:$PATH" ;;
esac

# The Node release installed when the node on PATH is older than the
# frontend's engines field allows (Vite 8: ^20.19.0 || >=22.12.0), and where.
# It comes from the npm registry (reachable wherever npm ci is), as the
# node-linux-ARCH package the Node project publishes there, checked against
# the integrity pinned here. LOCKSTEP_NODE_HOME overrides the place.
NODE_VERSION=22.23.5
NODE_INTEGRITY_x64=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
NODE_INTEGRITY_arm64=sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg==
NODE_HOME=${LOCKSTEP_NODE_HOME:-${XDG_DATA_HOME:-${HOME:-/root}/.local/share}/lockstep/node$NODE_VERSION}
case ":$PATH:" in
*":$NODE_HOME/bin:"*) ;;
*) PATH="$NODE_HOME/bin:$PATH" ;;
esac
# That Node trusts only the CAs built into it, where Debian's trusts the
# system's: a site's own CA (a TLS-inspecting proxy's, added to the system
# store) must count for it too, as the Makefile also says.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
	export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

log() { printf 'install-deps: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

SUDO=""
need_root() {
	[ "$(id -u)" -eq 0 ] && return 0
	command -v sudo >/dev/null 2>&1 || die "not root and sudo is missing; run as root"
	SUDO=sudo
}

apt_get() {
	# sudo drops the environment, so pass DEBIAN_FRONTEND through env.
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 "$@"
}

APT_UPDATED=0
apt_update_once() {
	[ "$APT_UPDATED" -eq 1 ] && return 0
	need_root
	log "apt-get update"
	apt_get update -qq
	APT_UPDATED=1
}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# has_candidate PKG: true if the apt lists offer PKG (call apt_update_once first).
has_candidate() {
	local c
	c=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
	[ -n "$c" ] && [ "$c" != "(none)" ]
}

apt_install() {
	local missing=() p
	for p in "$@"; do
		installed "$p" || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		log "apt: already installed: $*"
		return 0
	fi
	command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: ${missing[*]}"
	apt_update_once
	log "apt: installing ${missing[*]}"
	apt_get install -y -qq --no-install-recommends "${missing[@]}"
}

# go_ok GO prints GO's version and succeeds if it is >= 1.$GO_MIN_MINOR.
# GOTOOLCHAIN=local: report the toolchain itself, never download another.
go_ok() {
	local v minor
	v=$(cd / && GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null) || return 1
	printf '%s\n' "$v"
	case "$v" in
	go1.*)
		minor=${v#go1.}
		minor=${minor%%[!0-9]*}
		[ -n "$minor" ] && [ "$minor" -ge "$GO_MIN_MINOR" ]
		;;
	devel*) ;; # a source build of tip is newer than any release
	*) return 1 ;;
	esac
}

do_go() {
	local go v
	if go=$(command -v go) && v=$(go_ok "$go"); then
		log "go: $v ($go)"
		return 0
	fi
	if [ -x "$GO_HOME/bin/go" ] && v=$(go_ok "$GO_HOME/bin/go"); then
		log "go: $v ($GO_HOME, first on PATH in the Makefile)"
		return 0
	fi
	install_go
}

# install_go puts Go $GO_TOOLCHAIN_VERSION into GO_HOME. Any go can fetch it:
# the Go module proxy serves every release as the module golang.org/toolchain
# (what `GOTOOLCHAIN=go1.x.y` downloads), checked against the Go checksum
# database like any module. Debian's golang-go (1.19 in Debian 12) is too
# old to switch toolchains itself, but `go mod download` of that module works.
install_go() {
	local boot v goos goarch mod tmp dir
	boot=$(command -v go || true)
	if [ -z "$boot" ] || ! "$boot" version >/dev/null 2>&1; then
		log "go: none on PATH; Debian's golang-go bootstraps Go $GO_TOOLCHAIN_VERSION"
		apt_install golang-go ca-certificates
		boot=$(command -v go) || die "golang-go is installed but go is not on PATH"
	else
		log "go: $("$boot" version) is too old; using it to fetch Go $GO_TOOLCHAIN_VERSION"
	fi
	goos=$(cd / && "$boot" env GOOS)
	goarch=$(cd / && "$boot" env GOARCH)
	mod="golang.org/toolchain@v0.0.1-go$GO_TOOLCHAIN_VERSION.$goos-$goarch"
	tmp=$(mktemp -d)
	log "go: downloading $mod from ${GOPROXY:-the Go module proxy}"
	# A throwaway module cache, and no GOFLAGS the caller's setup may carry.
	if ! (cd "$tmp" && env GOFLAGS= GO111MODULE=on GOTOOLCHAIN=local GOPATH="$tmp/gopath" \
		GOMODCACHE="$tmp/mod" "$boot" mod download "$mod"); then
		chmod -R u+w "$tmp" && rm -rf "$tmp"
		die "downloading $mod failed (GOPROXY=${GOPROXY:-default}); install Go >= 1.$GO_MIN_MINOR from https://go.dev/dl/ instead"
	fi
	dir="$tmp/mod/golang.org/toolchain@${mod#*@}"
	[ -x "$dir/bin/go" ] || [ -f "$dir/bin/go" ] || die "$mod has no bin/go"
	mkdir -p "$(dirname "$GO_HOME")"
	rm -rf "$GO_HOME.partial"
	cp -R "$dir" "$GO_HOME.partial"
	chmod -R u+w,go-w "$GO_HOME.partial"
	chmod -R u+w "$tmp" && rm -rf "$tmp"
	# Module zips keep no file modes and cannot hold nested go.mod files (the
	# toolchain stores them as _go.mod): undo both, as the go command does
	# when it switches to a downloaded toolchain.
	find "$GO_HOME.partial/pkg/tool" "$GO_HOME.partial/bin" -type f -exec chmod 0755 {} +
	find "$GO_HOME.partial/lib" -type f -name 'go_?*_?*_exec' -exec chmod 0755 {} +
	find "$GO_HOME.partial" -type f -name _go.mod -execdir cp _go.mod go.mod \;
	rm -rf "$GO_HOME"
	mv "$GO_HOME.partial" "$GO_HOME"
	v=$(go_ok "$GO_HOME/bin/go") || die "the Go installed in $GO_HOME does not run"
	log "go: installed $v into $GO_HOME (the Makefile puts $GO_HOME/bin first on PATH)"
}

# node_ok NODE: NODE runs and is a release the frontend's engines field
# accepts (^20.19.0 || >=22.12.0).
node_ok() {
	"$1" -e '
		const [a, b] = process.versions.node.split(".").map(Number);
		process.exit((a === 20 && b >= 19) || (a === 22 && b >= 12) || a === 21 || a >= 23 ? 0 : 1);
	' 2>/dev/null
}

# install_node puts Node NODE_VERSION into NODE_HOME: the node-linux-ARCH
# package from the npm registry, fetched with npm pack (the older node and
# its npm do that much) and checked against the pinned integrity before use.
# It runs in a subshell so that its trap removes what it fetched however it
# ends (an integrity refused, npm pack failed).
install_node() (
	local arch want tmp tgz got
	case "$(uname -m)" in
	x86_64) arch=x64 ;;
	aarch64) arch=arm64 ;;
	*) die "node $(node --version) is too old and no Node build is pinned for $(uname -m); install Node >= 20.19" ;;
	esac
	want=NODE_INTEGRITY_$arch
	want=${!want}
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp" "$NODE_HOME.partial"' EXIT
	log "node: fetching node-linux-$arch@$NODE_VERSION from the npm registry"
	(cd "$tmp" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null) ||
		die "npm pack node-linux-$arch@$NODE_VERSION failed"
	tgz=$(ls "$tmp"/*.tgz)
	got="sha512-$(openssl dgst -sha512 -binary "$tgz" 2>/dev/null | base64 -w0)"
	[ "$got" = "$want" ] || die "node-linux-$arch@$NODE_VERSION: integrity $got, want $want"
	mkdir -p "$tmp/x" && tar -xzf "$tgz" -C "$tmp/x"
	mkdir -p "$(dirname "$NODE_HOME")"
	rm -rf "$NODE_HOME.partial"
	mkdir -p "$NODE_HOME.partial/bin"
	install -m 0755 "$tmp/x/package/bin/node" "$NODE_HOME.partial/bin/node"
	rm -rf "$tmp" "$NODE_HOME"
	mv "$NODE_HOME.partial" "$NODE_HOME"
	node_ok "$NODE_HOME/bin/node" || die "the node installed in $NODE_HOME does not run"
	log "node: installed $("$NODE_HOME/bin/node" --version) into $NODE_HOME (the Makefile puts $NODE_HOME/bin first on PATH)"
)

do_frontend() {
	command -v node >/dev/null 2>&1 || apt_install nodejs
	# NodeSource's nodejs ships npm; Debian's needs the separate package.
	command -v npm >/dev/null 2>&1 || apt_install npm
	# Debian 12's own nodejs is 18: too old for Vite 8. NODE_HOME/bin is
	# first on PATH, so the node installed there is the one used after.
	if ! node_ok node; then
		command -v openssl >/dev/null 2>&1 || apt_install openssl
		install_node || exit 1 # it said why
		hash -r # the shell remembers where it found the old node
	fi
	log "node $(node --version), npm $(npm --version)"

	local dir="$ROOT/frontend" stamp sum
	stamp="$dir/node_modules/.lockstep-lock.sha256"
	sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
	if [ -d "$dir/node_modules" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
		log "frontend: node_modules up to date"
		return 0
	fi
	log "frontend: npm ci"
	(cd "$dir" && npm ci --no-audit --no-fund)
	# The stamp lives in node_modules so that deleting the folder also resets it.
	printf '%s\n' "$sum" >"$stamp"
}

# webkit_tag prints the Go build tag for whichever WebKitGTK dev files exist.
webkit_tag() {
	if command -v pkg-config >/dev/null 2>&1; then
		pkg-config --exists webkit2gtk-4.0 && return 0
		pkg-config --exists webkit2gtk-4.1 && echo webkit2_41 && return 0
	fi
	installed libwebkit2gtk-4.0-dev && return 0
	installed libwebkit2gtk-4.1-dev && echo webkit2_41 && return 0
	return 1
}

do_desktop() {
	apt_install build-essential pkg-config libgtk-3-dev
	if ! installed libwebkit2gtk-4.0-dev && ! installed libwebkit2gtk-4.1-dev; then
		# Wails' default is 4.0; Debian 13 and Ubuntu 24.04 only have 4.1.
		apt_update_once
		if has_candidate libwebkit2gtk-4.0-dev; then
			apt_install libwebkit2gtk-4.0-dev
		else
			apt_install libwebkit2gtk-4.1-dev
		fi
	else
		log "apt: WebKitGTK dev package already installed"
	fi
	local tag
	tag=$(webkit_tag) || die "WebKitGTK dev files not found after install"
	log "desktop: webkit build tag: ${tag:-(none, WebKitGTK 4.0)}"
}

do_wails_cli() {
	command -v go >/dev/null 2>&1 || die "go not found; run --go first"
	local bin
	bin="$(go env GOPATH)/bin/wails"
	if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "^$WAILS_VERSION"; then
		log "wails: $bin is $WAILS_VERSION"
		return 0
	fi
	log "wails: building $WAILS_VERSION into $bin"
	local tmp
	tmp=$(mktemp -d)
	# A throwaway module, so the x/tools and x/mod pins never reach our go.mod.
	(
		cd "$tmp"
		go mod init wailscli >/dev/null 2>&1
		go get "github.com/wailsapp/wails/v2/cmd/wails@$WAILS_VERSION" \
			"golang.org/x/tools@$XTOOLS_VERSION" "golang.org/x/mod@$XMOD_VERSION"
		go build -o "$bin" github.com/wailsapp/wails/v2/cmd/wails
	) || {
		rm -rf "$tmp"
		die "building the Wails CLI failed"
	}
	rm -rf "$tmp"
	"$bin" version >/dev/null
}

# do_prometheus installs the server binary only. The package's postinst
# starts a prometheus service where systemd runs; a test needs none (it
# starts its own on a free loopback port), so an instance started by the
# install is stopped again rather than left listening on :9090.
do_prometheus() {
	if command -v prometheus >/dev/null 2>&1; then
		log "prometheus: $(command -v prometheus)"
		return 0
	fi
	local fresh=1
	installed prometheus && fresh=0
	apt_install prometheus
	if [ "$fresh" -eq 1 ] && command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
		need_root
		$SUDO systemctl disable --now prometheus >/dev/null 2>&1 || log "prometheus: could not stop the packaged service"
	fi
	command -v prometheus >/dev/null 2>&1 || die "prometheus not found after install"
}

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

[ $# -gt 0 ] || {
	usage >&2
	exit 2
}
modes=()
for arg in "$@"; do
	case "$arg" in
	--all) modes+=(--go --frontend --desktop --browser --xvfb --nsis --wails-cli --package-tools --prometheus --smtp) ;;
	--go | --frontend | --desktop | --browser | --xvfb | --nsis | --wails-cli | --package-tools | --prometheus | --debootstrap | --smtp | --print-webkit-tag | --print-go-home | --print-node-home) modes+=("$arg") ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		die "unknown mode $arg"
		;;
	esac
done

for m in "${modes[@]}"; do
	case "$m" in
	--go) do_go ;;
	--frontend) do_frontend ;;
	--desktop) do_desktop ;;
	--browser) apt_install chromium ;;
	--xvfb) apt_install xvfb xauth x11-utils imagemagick ;;
	--nsis) apt_install nsis ;;
	--wails-cli) do_wails_cli ;;
	--package-tools) apt_install nsis rpm p7zip-full ;;
	--prometheus) do_prometheus ;;
	--debootstrap) apt_install debootstrap ;;
	--smtp) apt_install python3-aiosmtpd ;;
	--print-go-home) printf '%s\n' "$GO_HOME" ;;
	--print-node-home) printf '%s\n' "$NODE_HOME" ;;
	--print-webkit-tag)
		tag=$(webkit_tag) || die "no WebKitGTK dev files found; run $0 --desktop"
		printf '%s\n' "$tag"
		;;
	esac
done
