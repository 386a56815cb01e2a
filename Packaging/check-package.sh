#!/usr/bin/env bash
# What CI runs for the package: builds the .deb (unless one is given) and checks what is in it; as root
# on Debian it also installs it, runs the binary, verifies the installed units, and purges it again,
# leaving the machine as it found it. Exits non-zero naming the step that failed.
#   Packaging/check-package.sh [DEB]
set -euo pipefail
packaging=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

step="setup"
fail() { echo "check-package: FAILED at \"$step\": $*" >&2; exit 1; }
begin() { step=$1; echo; echo "== $step"; }

work=$(mktemp -d)
installed_here=no
packages_before="$work/packages-before"
installed_packages() { dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort; }
cleanup() {
    if [ "$installed_here" = yes ]; then
        echo "== cleanup: purging crsync after a failure"
        dpkg --purge crsync >/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

begin "the two system units share one sandbox"
sandbox() { sed -n '/^# --- sandbox/,/^# --- end sandbox/p' "$1"; }
[ -n "$(sandbox "$packaging/crsync.service")" ] || fail "no '# --- sandbox' block in crsync.service"
diff <(sandbox "$packaging/crsync.service") <(sandbox "$packaging/crsync-backup.service") \
    || fail "the sandbox blocks of crsync.service and crsync-backup.service differ (diff above)"
echo "identical"

if [ $# -ge 1 ]; then
    deb=$(realpath "$1")
    [ -f "$deb" ] || fail "$1 does not exist"
else
    begin "build the package"
    "$packaging/build-deb.sh" "$work/out" || fail "Packaging/build-deb.sh failed"
    deb=$(ls "$work"/out/crsync_*.deb)
fi

begin "package metadata (dpkg-deb --info)"
dpkg-deb --info "$deb" || fail "dpkg-deb cannot read $deb"
version=$(dpkg-deb --field "$deb" Version)

begin "package contents (dpkg-deb --contents)"
dpkg-deb --contents "$deb" | tee "$work/contents" || fail "dpkg-deb cannot list $deb"
for path in usr/bin/crsync \
        lib/systemd/system/crsync.service lib/systemd/system/crsync-backup.service \
        lib/systemd/system/crsync-backup.timer usr/lib/systemd/user/crsync.service \
        usr/share/doc/crsync/copyright usr/share/doc/crsync/config.example.toml; do
    grep -q " \./$path\$" "$work/contents" || fail "$path is missing from the package"
done
! grep -q 'crsync-devserver' "$work/contents" || fail "crsync-devserver must not be packaged"
! grep -q ' \./etc/' "$work/contents" || fail "the package must not ship files under /etc (postinst makes /etc/crsync)"

begin "the packed binary needs only system libraries"
dpkg-deb -x "$deb" "$work/unpacked"
env -u LD_LIBRARY_PATH ldd "$work/unpacked/usr/bin/crsync" | tee "$work/ldd"
! grep -q 'not found' "$work/ldd" || fail "a library the binary needs is not installed"
! grep -Eq 'libswift|libFoundation|libdispatch|libBlocksRuntime|/opt/swift' "$work/ldd" \
    || fail "the binary still loads Swift's own libraries; it must be built with --static-swift-stdlib"

if [ "$(id -u)" -ne 0 ] || [ ! -f /etc/debian_version ]; then
    echo
    echo "== not root on Debian: skipping the install, unit and purge checks"
    exit 0
fi

begin "install (apt-get install ./$(basename "$deb"))"
! dpkg -s crsync >/dev/null 2>&1 || fail "crsync is already installed here; the check would remove it"
! getent passwd crsync >/dev/null || fail "a user \"crsync\" exists already; purging would delete it"
installed_packages >"$packages_before"
installed_here=yes
# apt pulls in whatever of Depends is missing; those are purged again at the end.
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb" \
    || fail "apt-get could not install $deb"

begin "crsync version"
out=$(/usr/bin/crsync version) || fail "/usr/bin/crsync version exited $?"
echo "$out"
[[ "$out" == "crsync "* ]] || fail "expected \"crsync X.Y.Z\", got \"$out\""
[ "$out" = "crsync $version" ] || fail "the binary says \"$out\" but the package is version $version"

begin "what postinst set up"
getent passwd crsync || fail "postinst did not create the user crsync"
[ "$(stat -c '%U:%G %a' /var/lib/crsync)" = "crsync:crsync 700" ] \
    || fail "/var/lib/crsync is $(stat -c '%U:%G %a' /var/lib/crsync), expected crsync:crsync 700"
[ "$(stat -c '%U:%G %a' /etc/crsync)" = "root:root 755" ] || fail "/etc/crsync is not root:root 755"
[ ! -e /etc/crsync/config.toml ] || fail "/etc/crsync/config.toml must not come from the package"
echo "user crsync, /var/lib/crsync (crsync:crsync 700), /etc/crsync (root:root 755, empty)"

begin "systemd-analyze verify"
if command -v systemd-analyze >/dev/null; then
    # verify checks unit files offline, so it works without systemd as PID 1 (a container, a CI VM).
    # Lines about a missing manager, bus or runtime folder are the environment's: shown, not counted.
    # Every other line -- an unknown key, a bad value, a missing ExecStart binary -- fails the check,
    # although systemd-analyze itself only warns about most of them and exits 0.
    export XDG_RUNTIME_DIR="$work/runtime"
    install -d -m 0700 "$XDG_RUNTIME_DIR"
    environment_noise='not been booted with systemd|Failed to connect to bus|Host is down|Failed to lookup RuntimeDirectory|Failed to initialize manager'
    verify() {
        local rc=0
        systemd-analyze "$@" >"$work/verify.log" 2>&1 || rc=$?
        cat "$work/verify.log"
        local real
        real=$(grep -Ev "$environment_noise" "$work/verify.log" || true)
        [ -z "$real" ] || fail "systemd-analyze $* reported the problems above"
        if [ "$rc" -ne 0 ] && ! grep -Eq "$environment_noise" "$work/verify.log"; then
            fail "systemd-analyze $* exited $rc"
        fi
        echo "ok: systemd-analyze $*"
    }
    verify verify /lib/systemd/system/crsync.service /lib/systemd/system/crsync-backup.service \
        /lib/systemd/system/crsync-backup.timer
    verify --user verify /usr/lib/systemd/user/crsync.service
else
    echo "systemd-analyze is not installed: skipped"
fi

begin "crsync runs inside the units' sandbox"
"$packaging/sandbox-check.sh" || fail "Packaging/sandbox-check.sh failed"

begin "enable, then purge (dpkg --purge crsync)"
# Enabling works on links alone, so prerm's clean-up of them is checked even without systemd running.
systemctl enable crsync.service crsync-backup.timer 2>&1 || fail "systemctl enable failed"
dpkg --purge crsync || fail "dpkg --purge crsync failed"
installed_here=no
left=()
for path in /usr/bin/crsync /lib/systemd/system/crsync.service /usr/lib/systemd/user/crsync.service \
        /var/lib/crsync /etc/crsync /usr/share/doc/crsync \
        /etc/systemd/system/multi-user.target.wants/crsync.service \
        /etc/systemd/system/timers.target.wants/crsync-backup.timer; do
    [ ! -e "$path" ] && [ ! -L "$path" ] || left+=("$path")
done
[ ${#left[@]} -eq 0 ] || fail "left behind after purge: ${left[*]}"
! getent passwd crsync >/dev/null || fail "the user crsync is still there after purge"
! getent group crsync >/dev/null || fail "the group crsync is still there after purge"
pulled_in=$(comm -13 "$packages_before" <(installed_packages))
if [ -n "$pulled_in" ]; then
    echo "purging what apt installed for crsync: $(echo $pulled_in)"
    DEBIAN_FRONTEND=noninteractive apt-get purge -y $pulled_in >/dev/null || fail "could not purge $pulled_in"
fi
echo "nothing left behind"

echo
echo "check-package: all checks passed for $(basename "$deb")"
