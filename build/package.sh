#!/usr/bin/env bash
# Packages a built agent binary (the Makefile builds it with the release
# ldflags, see `make package-linux` and `make package-windows`).
#
#   build/package.sh linux BINARY GOARCH VERSION OUTDIR    .deb and .rpm (nfpm)
#   build/package.sh windows EXE VERSION OUTDIR             NSIS installer (makensis)
#   build/package.sh pkg-version VERSION                    print the package version
#
# nfpm runs as `go run` of its module at a pinned version (checked against
# the Go checksum database), so nothing but Go is needed. makensis comes from
# Debian's nsis package (build/install-deps.sh --nsis).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NFPM_VERSION=v2.48.0
GO=${GO:-go}

die() {
	printf 'package: error: %s\n' "$*" >&2
	exit 1
}

# pkg_version turns the build's version into one that dpkg and rpm both
# accept and order: v1.2.3 -> 1.2.3; git describe's 1.2.3-4-gabc1234 ->
# 1.2.3+4.gabc1234 (rpm forbids "-" in a version); an untagged commit ->
# 0.0.0+git<commits>.<id>, so later commits still sort higher.
pkg_version() {
	local v=${1#v}
	if [[ $v =~ ^[0-9]+\.[0-9]+([.+~-][0-9A-Za-z.+~-]*)?$ ]]; then
		printf '%s\n' "${v//-/+}" | sed 's/+g\([0-9a-f]\)/.g\1/; s/+dirty$/.dirty/'
		return
	fi
	local n=0
	n=$(git -C "$ROOT" rev-list --count HEAD 2>/dev/null) || n=0
	v=$(printf '%s' "$1" | tr -c 'A-Za-z0-9.' '.')
	printf '0.0.0+git%s.%s\n' "$n" "$v"
}

# version_quad is the four numbers Windows version resources need.
version_quad() {
	local v=${1#v} a b c
	IFS=. read -r a b c _ <<<"${v%%[!0-9.]*}"
	printf '%d.%d.%d.0\n' "${a:-0}" "${b:-0}" "${c:-0}"
}

linux() {
	[ $# -eq 4 ] || die "usage: package.sh linux BINARY GOARCH VERSION OUTDIR"
	local bin=$1 arch=$2 version=$3 out=$4 pv f
	[ -x "$bin" ] || die "$bin is not an executable"
	pv=$(pkg_version "$version")
	mkdir -p "$out"
	# nfpm reads paths relative to the repository root.
	cd "$ROOT"
	for f in deb rpm; do
		PKG_AGENT=$(realpath "$bin") PKG_ARCH=$arch PKG_VERSION=$pv \
			"$GO" run "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION" package \
			--config build/package/nfpm.yaml --packager "$f" --target "$out/" >&2
	done
	ls "$out"/lockstep-agent*"$pv"*.{deb,rpm}
}

windows() {
	[ $# -eq 3 ] || die "usage: package.sh windows EXE VERSION OUTDIR"
	local exe=$1 version=$2 out=$3 file
	[ -f "$exe" ] || die "$exe does not exist"
	command -v makensis >/dev/null 2>&1 || die "makensis is not installed (build/install-deps.sh --nsis)"
	mkdir -p "$out"
	file="$(realpath "$out")/lockstep-agent-$(pkg_version "$version")-setup.exe"
	# -V2: warnings and errors only; -WX: a warning fails the build.
	makensis -V2 -WX -DVERSION="$version" -DVERSION_QUAD="$(version_quad "$version")" \
		-DAGENT_EXE="$(realpath "$exe")" -DOUTFILE="$file" "$ROOT/build/windows/agent/installer.nsi" >&2
	printf '%s\n' "$file"
}

[ $# -ge 1 ] || die "usage: package.sh linux|windows|pkg-version ..."
cmd=$1
shift
case "$cmd" in
linux) linux "$@" ;;
windows) windows "$@" ;;
pkg-version) pkg_version "$@" ;;
*) die "unknown command $cmd" ;;
esac
