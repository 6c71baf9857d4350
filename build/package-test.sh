#!/usr/bin/env bash
# The agent's packages, installed for real. As root (CI runs it as root),
# on a Debian or Ubuntu machine, through the same `make package-linux` and
# `make package-windows` a release uses:
#
#   1. builds two releases (1.0.1 and 1.0.2) with a license key made for
#      the test embedded through LICENSE_KEYS;
#   2. dpkg -i 1.0.1: checks files, owners, modes, the lockstep user,
#      /var/lib/lockstep (0700, lockstep) and `lockstep-agent version`;
#   3. initialises the data dir as the lockstep user and imports a license
#      signed with the embedded key (which only a release build accepts);
#   4. dpkg -i 1.0.2 (an upgrade): the master key and the store are byte for
#      byte what they were, and the new binary opens them;
#   5. dpkg --remove keeps the data; dpkg --purge deletes it;
#   6. the .rpm's files, modes, owners and scripts (rpm -qp), and the
#      Windows installer: makensis builds it, it carries the very agent
#      binary, and its script registers the service through the agent.
#
# systemd is not PID 1 here (as in most CI containers and image builds): the
# maintainer scripts must succeed without it, which this also checks.
#
# Without root it says so and skips, unless CI is set. It refuses to touch a
# machine where lockstep-agent is installed or /var/lib/lockstep exists.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
GO=${GO:-go}
DATA=/var/lib/lockstep

log() { printf 'package-test: %s\n' "$*" >&2; }
fail() {
	log "FAIL: $*"
	exit 1
}
skip() {
	if [ -n "${CI:-}" ]; then
		fail "$* (CI is set, so this is a failure, not a skip)"
	fi
	log "SKIPPED: $*"
	exit 0
}

[ "$(id -u)" -eq 0 ] || skip "needs root (dpkg -i); run it as root or in CI"
command -v dpkg >/dev/null 2>&1 || skip "needs dpkg (Debian or Ubuntu)"

# One run at a time on a machine: the test installs a system package.
exec 9>/run/lock/lockstep-package-test.lock
flock 9

if dpkg-query -W -f='${Status}' lockstep-agent 2>/dev/null | grep -q 'installed\|config-files'; then
	skip "lockstep-agent is installed on this machine; the test would replace and purge it"
fi
[ ! -e "$DATA" ] || skip "$DATA exists on this machine; the test would purge it"

"$ROOT/build/install-deps.sh" --package-tools

tmp=$(mktemp -d)
installed=0
cleanup() {
	if [ "$installed" = 1 ]; then
		dpkg --purge lockstep-agent >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
# The lockstep user reads the password and license files under $tmp/pub.
chmod 0711 "$tmp"
mkdir -m 0755 "$tmp/pub"

# expect_stat PATH MODE OWNER GROUP
expect_stat() {
	local got
	got=$(stat -c '%a %U %G' "$1") || fail "$1 is missing"
	[ "$got" = "$2 $3 $4" ] || fail "$1 is '$got', want '$2 $3 $4'"
}

# fingerprint lists every file of the data dir with its owner, mode and hash.
fingerprint() {
	(cd "$DATA" && find . -type f -printf '%p %U %m\n' | sort | while read -r f u m; do
		printf '%s %s %s %s\n' "$f" "$u" "$m" "$(sha256sum <"$f" | cut -d' ' -f1)"
	done)
}

as_lockstep() { runuser -u lockstep -- "$@"; }

cd "$ROOT"
log "making a license key for the test builds"
pub=$("$GO" run ./agent/tools/licensegen keygen -out "$tmp/keys" -kid pkgtest-1 2>/dev/null)

for v in 1.0.1 1.0.2; do
	log "make package-linux VERSION=$v"
	make --no-print-directory package-linux VERSION=$v LICENSE_KEYS="$pub" PKG_OUT="$tmp/$v" GO="$GO" >"$tmp/build-$v.log" 2>&1 ||
		{ cat "$tmp/build-$v.log" >&2; fail "make package-linux VERSION=$v"; }
done
deb1=$(ls "$tmp"/1.0.1/lockstep-agent_1.0.1-1_*.deb)
deb2=$(ls "$tmp"/1.0.2/lockstep-agent_1.0.2-1_*.deb)
rpm2=$(ls "$tmp"/1.0.2/lockstep-agent-1.0.2-1.*.rpm)

log "dpkg -i $(basename "$deb1")"
installed=1
dpkg -i "$deb1" >"$tmp/dpkg1.log" 2>&1 || { cat "$tmp/dpkg1.log" >&2; fail "dpkg -i 1.0.1"; }
grep -q "runuser -u lockstep -- lockstep-agent init" "$tmp/dpkg1.log" || fail "postinst printed no first-start instructions"

expect_stat /usr/bin/lockstep-agent 755 root root
expect_stat /lib/systemd/system/lockstep-agent.service 644 root root
expect_stat "$DATA" 700 lockstep lockstep
unit=/lib/systemd/system/lockstep-agent.service
grep -qx 'User=lockstep' "$unit" || fail "the unit does not run as lockstep"
grep -qx 'ExecStart=/usr/bin/lockstep-agent run --data-dir /var/lib/lockstep' "$unit" || fail "the unit's ExecStart is wrong"
cmp -s "$unit" build/systemd/lockstep-agent.service || fail "the installed unit differs from build/systemd/lockstep-agent.service"
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd lockstep) || fail "no lockstep user"
[ "$uid" -lt 1000 ] || fail "lockstep is not a system user (uid $uid)"
[ "$shell" = /usr/sbin/nologin ] || fail "lockstep's shell is $shell"
[ "$home" = "$DATA" ] || fail "lockstep's home is $home"
getent group lockstep >/dev/null || fail "no lockstep group"
if dpkg -L lockstep-agent | grep -qx "$DATA"; then fail "dpkg owns $DATA (only a purge may remove it)"; fi
out=$(lockstep-agent version)
grep -qx 'lockstep-agent 1.0.1' <<<"$out" || fail "version says: $out"
grep -qx 'license keys: pkgtest-1' <<<"$out" || fail "the release build does not list its license key: $out"

log "init as lockstep and import a license signed with the embedded key"
printf 'Package-test-password-1\n' >"$tmp/pub/password"
chmod 0644 "$tmp/pub/password"
as_lockstep lockstep-agent init --data-dir "$DATA" --admin-password-file "$tmp/pub/password" >/dev/null
"$GO" run ./agent/tools/licensegen issue -key "$tmp/keys/pkgtest-1.key" -customer "Package Test Ltd" \
	-systems jira -max-users 5 -o "$tmp/pub/test.lic" 2>/dev/null
chmod 0644 "$tmp/pub/test.lic"
out=$(as_lockstep lockstep-agent license import "$tmp/pub/test.lic" --data-dir "$DATA") || fail "license import: $out"
grep -q "Package Test Ltd" <<<"$out" || fail "license import: $out"
expect_stat "$DATA/master.key" 600 lockstep lockstep
before=$(fingerprint)
grep -q '^./master.key ' <<<"$before" || fail "no master key in the data dir"
grep -q '^./store/' <<<"$before" || fail "no store in the data dir"

log "upgrade: dpkg -i $(basename "$deb2")"
dpkg -i "$deb2" >"$tmp/dpkg2.log" 2>&1 || { cat "$tmp/dpkg2.log" >&2; fail "dpkg -i 1.0.2"; }
[ "$(dpkg-query -W -f='${Version}' lockstep-agent)" = 1.0.2-1 ] || fail "dpkg does not have 1.0.2-1 installed"
grep -qx 'lockstep-agent 1.0.2' <<<"$(lockstep-agent version)" || fail "the binary was not upgraded"
after=$(fingerprint)
[ "$before" = "$after" ] || fail "the upgrade changed the data dir: $(diff <(echo "$before") <(echo "$after"))"
expect_stat "$DATA" 700 lockstep lockstep
out=$(as_lockstep lockstep-agent license show --data-dir "$DATA") || fail "1.0.2 cannot open the store: $out"
grep -q "Package Test Ltd" <<<"$out" || fail "the license did not survive the upgrade: $out"
key_sum=$(sha256sum <"$DATA/master.key")

log "dpkg --remove keeps the data, dpkg --purge deletes it"
dpkg --remove lockstep-agent >"$tmp/dpkg3.log" 2>&1 || { cat "$tmp/dpkg3.log" >&2; fail "dpkg --remove"; }
[ ! -e /usr/bin/lockstep-agent ] || fail "remove left the binary"
[ "$(sha256sum <"$DATA/master.key")" = "$key_sum" ] || fail "remove changed the master key"
[ -d "$DATA/store" ] || fail "remove deleted the store"
dpkg --purge lockstep-agent >"$tmp/dpkg4.log" 2>&1 || { cat "$tmp/dpkg4.log" >&2; fail "dpkg --purge"; }
installed=0
[ ! -e "$DATA" ] || fail "purge left $DATA"
if dpkg-query -W lockstep-agent >/dev/null 2>&1; then fail "dpkg still knows lockstep-agent after purge"; fi

log "rpm -qp $(basename "$rpm2")"
files=$(rpm -qp --nosignature --qf '[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILENAMES}\n]' "$rpm2")
for want in '-rwxr-xr-x root root /usr/bin/lockstep-agent' \
	'-rw-r--r-- root root /usr/lib/systemd/system/lockstep-agent.service' \
	'drwx------ lockstep lockstep /var/lib/lockstep'; do
	grep -qxF -- "$want" <<<"$files" || fail "the rpm lacks '$want'; it has: $files"
done
scripts=$(rpm -qp --nosignature --scripts "$rpm2")
for want in 'preinstall scriptlet' 'useradd --system' 'postuninstall scriptlet' 'try-restart'; do
	grep -qF -- "$want" <<<"$scripts" || fail "the rpm's scripts lack '$want'"
done
[ "$(rpm -qp --nosignature --qf '%{VERSION}-%{RELEASE}' "$rpm2")" = 1.0.2-1 ] || fail "the rpm's version is wrong"

log "make package-windows: the agent's NSIS installer"
make --no-print-directory package-windows VERSION=1.0.2 PKG_OUT="$tmp/win" GO="$GO" >"$tmp/win.log" 2>&1 ||
	{ cat "$tmp/win.log" >&2; fail "make package-windows"; }
setup="$tmp/win/lockstep-agent-1.0.2-setup.exe"
[ -s "$setup" ] || fail "no installer at $setup: $(cat "$tmp/win.log")"
mkdir "$tmp/unpacked"
7z x -y -o"$tmp/unpacked" "$setup" >/dev/null || fail "7z cannot read the installer"
cmp -s "$tmp/unpacked/lockstep-agent.exe" "$tmp/win/windows-amd64/lockstep-agent.exe" ||
	fail "the installer does not carry the agent binary built for it"
nsi=build/windows/agent/installer.nsi
for want in "service install'" "service stop'" "service start'" "service uninstall'" "service status'" \
	"RequestExecutionLevel admin"; do
	grep -qF -- "$want" "$nsi" || fail "$nsi lacks $want"
done

log "ok: deb installed, upgraded (data kept), removed, purged; rpm and Windows installer built and inspected"
