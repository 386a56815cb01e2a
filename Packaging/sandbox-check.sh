#!/usr/bin/env bash
# Runs the installed crsync under the sandbox of the installed crsync-backup.service, as user crsync,
# to show the hardening (MemoryDenyWriteExecute= above all) leaves crsync working:
#   1. a control: under MemoryDenyWriteExecute=yes, python3's request for a writable+executable
#      mapping must be refused, or the sandbox is not really applied here and the rest proves nothing;
#   2. `crsync version` under the whole sandbox;
#   3. with DEVSERVER (a crsync-devserver binary): sign-in and upload of a small folder under /home,
#      under the whole sandbox, against the dev server on loopback.
#   Packaging/sandbox-check.sh [DEVSERVER]
# Needs root and the crsync package installed. Where systemd is not PID 1 (containers, CI VMs) it
# starts a systemd user manager for root inside a private mount namespace instead; as root, that
# manager applies the same namespaces and seccomp filters. If it cannot, it says so and exits 0.
set -euo pipefail
unit=/lib/systemd/system/crsync-backup.service
devserver=${1:+$(realpath "$1")}

manager="" server="" cleanup_paths=()
cleanup() {
    set +e
    for pid in $server $manager; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    rm -rf "${cleanup_paths[@]}"
}
trap cleanup EXIT
fail() { echo "sandbox-check: FAILED: $*" >&2; exit 1; }
skip() { echo "sandbox-check: skipped: $*"; exit 0; }
[ "$(id -u)" -eq 0 ] || fail "run as root"
[ -x /usr/bin/crsync ] && [ -f "$unit" ] || fail "install the crsync package first"
command -v systemd-run >/dev/null || skip "systemd-run is not installed"

if [ -d /run/systemd/system ] && [ -z "${SANDBOX_CHECK_PRIVATE_MANAGER:-}" ]; then
    run=(systemd-run --quiet --wait --pipe --collect)
    drop='^$'
else
    if [ -z "${SANDBOX_CHECK_PRIVATE_MANAGER:-}" ]; then
        unshare --mount true 2>/dev/null || skip "systemd is not PID 1 and no private mount namespace can be made"
        SANDBOX_CHECK_PRIVATE_MANAGER=1 exec unshare --mount --propagation private "$0" "$@"
    fi
    # In this namespace only, a tmpfs /run/systemd with system/ in it lets `systemd --user` start.
    mount -t tmpfs -o mode=0755 tmpfs /run/systemd || skip "cannot mount in a private namespace"
    mkdir /run/systemd/system
    XDG_RUNTIME_DIR=$(mktemp -d); export XDG_RUNTIME_DIR
    cleanup_paths+=("$XDG_RUNTIME_DIR")
    /lib/systemd/systemd --user --log-target=kmsg --log-level=err &
    manager=$!
    for _ in $(seq 1 100); do [ -S "$XDG_RUNTIME_DIR/systemd/private" ] && break; sleep 0.1; done
    [ -S "$XDG_RUNTIME_DIR/systemd/private" ] || skip "a private systemd manager did not start"
    # systemd-run --user talks to the manager over the user bus, whose socket (dbus.socket) the manager
    # opens a moment after its own: wait for it too, or the first call fails "Failed to connect to bus".
    for _ in $(seq 1 100); do [ -S "$XDG_RUNTIME_DIR/bus" ] && break; sleep 0.1; done
    [ -S "$XDG_RUNTIME_DIR/bus" ] || skip "the private systemd manager has no user bus (install dbus-user-session)"
    # Sandboxes hide paths (ProtectKernelLogs= and others) by binding the empty nodes in
    # /run/systemd/inaccessible over them; PID 1 makes those at boot, and a manager running as root
    # looks for them there (226/NAMESPACE without). This manager made a set in its runtime folder.
    mkdir /run/systemd/inaccessible
    mount --bind "$XDG_RUNTIME_DIR/systemd/inaccessible" /run/systemd/inaccessible
    run=(systemd-run --user --quiet --wait --pipe --collect)
    # A user manager puts StateDirectory= under the home folder; /var/lib/crsync exists (postinst) and
    # ReadWritePaths= keeps it writable, which is what the system manager would give.
    drop='^StateDirectory'
fi

sandbox=(-p User=crsync -p Group=crsync)
while IFS= read -r line; do
    sandbox+=(-p "$line")
done < <(sed -n '/^# --- sandbox/,/^# --- end sandbox/p' "$unit" | grep -v '^#' | grep -Ev "$drop")
echo "sandbox of $unit: ${sandbox[*]}"

echo "== control: a writable+executable mapping under MemoryDenyWriteExecute=yes"
probe='
import mmap
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC); print("allowed")
except PermissionError:
    print("refused")'
if command -v python3 >/dev/null; then
    out=$("${run[@]}" -p MemoryDenyWriteExecute=yes /usr/bin/python3 -c "$probe" 2>&1) \
        || fail "the control did not run: $out"
    echo "$out"
    [ "$out" = refused ] || fail "MemoryDenyWriteExecute=yes is not enforced here, so this check proves nothing"
else
    echo "python3 is not installed: control skipped, so nothing shows the sandbox below is in force"
fi

echo "== crsync version, sandboxed"
out=$("${run[@]}" "${sandbox[@]}" /usr/bin/crsync version 2>&1) || fail "crsync version failed in the sandbox: $out"
echo "$out"
[[ "$out" == "crsync "* ]] || fail "expected \"crsync X.Y.Z\", got \"$out\""

if [ -n "$devserver" ]; then
    echo "== sign-in and upload of a folder under /home, sandboxed, against $devserver"
    scratch=$(mktemp -d)
    folder=$(mktemp -d -p /home crsync-sandbox-check.XXXXXX)
    state=$(mktemp -u -p /var/lib/crsync sandbox-check.XXXXXX)  # not the real sign-in
    cleanup_paths+=("$scratch" "$folder" "$state")
    echo hello >"$folder/a.txt"; mkdir "$folder/sub"; head -c 3000000 /dev/urandom >"$folder/sub/b.bin"
    chmod -R a+rX "$folder"
    password="sandbox-check-$RANDOM$RANDOM"
    CRSYNC_DEVSERVER_PASSWORD=$password "$devserver" --port 0 --data "$scratch/server" \
        --user check@example.com --chunk-size 1048576 >"$scratch/out" 2>"$scratch/log" &
    server=$!
    for _ in $(seq 1 100); do grep -q "listening on" "$scratch/out" 2>/dev/null && break; sleep 0.1; done
    url=$(sed -n 's/.*listening on //p' "$scratch/out")
    [ -n "$url" ] || fail "crsync-devserver did not start: $(cat "$scratch/log")"
    install -d -o crsync -g crsync -m 0700 "$state"
    "${run[@]}" "${sandbox[@]}" -p "Environment=CRSYNC_PASSWORD=$password" \
        /usr/bin/crsync login --server "$url" --email check@example.com --state-dir "$state" \
        || fail "crsync login failed in the sandbox"
    out=$("${run[@]}" "${sandbox[@]}" /usr/bin/crsync sync "$folder" cloudreve://my/SandboxCheck \
        --state-dir "$state" 2>&1) || fail "crsync sync failed in the sandbox: $out"
    echo "$out"
    grep -q '^2 uploaded' <<<"$out" || fail "expected 2 files uploaded"
fi
echo "sandbox-check: crsync runs under the sandbox of $unit"
