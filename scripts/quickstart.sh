#!/usr/bin/env bash
# One command for a newcomer on a fresh Debian machine: installs what is missing, builds crsync, and
# syncs a folder. Without CRSYNC_SERVER it starts a local crsync-devserver and syncs an example folder
# into it; with CRSYNC_SERVER=https://your.cloud and CRSYNC_EMAIL it signs in there (password prompt).
#   scripts/quickstart.sh [LOCAL_DIR] [cloudreve://my/REMOTE]
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)

need=()
for pkg in libcurl4-openssl-dev libsqlite3-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq "${need[@]}"
fi
command -v swift >/dev/null || { echo "Swift 6 is needed: see https://www.swift.org/install/linux/" >&2; exit 2; }

echo "== building (the first build takes a few minutes)"
swift build --product crsync
swift build --product crsync-devserver
bin=$(swift build --show-bin-path)

demo="$here/demo"
state="$demo/state"
local_dir="${1:-$demo/example}"
remote="${2:-cloudreve://my/Example}"
mkdir -p "$demo"

if [ -z "${CRSYNC_SERVER:-}" ]; then
  if [ -z "${1:-}" ]; then
    mkdir -p "$local_dir/notes/2026" "$local_dir/photos"
    echo "Hello from crsync" > "$local_dir/hello.txt"
    date > "$local_dir/notes/2026/today.txt"
    head -c 3000000 /dev/urandom > "$local_dir/photos/random.bin"
    echo "café" > "$local_dir/notes/naïve name #1.txt"
  fi
  export CRSYNC_DEVSERVER_PASSWORD="demo-password-$RANDOM$RANDOM"
  "$bin/crsync-devserver" --port 0 --data "$demo/server" --user demo@example.com --chunk-size 1048576 \
    >"$demo/devserver.out" 2>"$demo/devserver.log" &
  server_pid=$!
  trap 'kill $server_pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do grep -q "listening on" "$demo/devserver.out" 2>/dev/null && break; sleep 0.1; done
  server_url=$(sed -n 's/.*listening on //p' "$demo/devserver.out" | head -1)
  [ -n "$server_url" ] || { echo "crsync-devserver did not start; see $demo/devserver.log" >&2; exit 1; }
  echo "== crsync-devserver running at $server_url (data in $demo/server)"
  CRSYNC_PASSWORD="$CRSYNC_DEVSERVER_PASSWORD" "$bin/crsync" login --server "$server_url" --email demo@example.com --state-dir "$state"
else
  "$bin/crsync" login --server "$CRSYNC_SERVER" --email "${CRSYNC_EMAIL:?set CRSYNC_EMAIL too}" --state-dir "$state"
fi

echo "== crsync sync $local_dir $remote"
status=0
"$bin/crsync" sync "$local_dir" "$remote" --state-dir "$state" || status=$?
echo "== a second pass sends nothing that is already there:"
"$bin/crsync" sync "$local_dir" "$remote" --state-dir "$state" || status=$?
cat <<MSG

Where to look:
  binaries          $bin/crsync, $bin/crsync-devserver
  journal + sign-in $state   (journal.sqlite; credentials.json is mode 0600)
MSG
[ -z "${CRSYNC_SERVER:-}" ] && echo "  server's storage  $demo/server   (the dev server stops when this script ends)"
exit $status
