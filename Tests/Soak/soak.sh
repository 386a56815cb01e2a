#!/usr/bin/env bash
# The soak: while `crsync run` keeps a changing tree uploaded, crsync is SIGKILLed at random and restarted,
# crsync-devserver is restarted now and then (sessions and locks lost, files kept), and about 10 % of the
# requests with a body are cut mid-body by a fault proxy between the two. Then faults and workload stop,
# crsync is given time to settle, and the checks run: the server's tree equals the disk byte for byte
# (every file downloaded and hashed), no upload placeholder, one current version per file, the journal
# passes `PRAGMA integrity_check` and holds exactly the files on disk, each synced. Prints the faults
# injected and what was re-sent; exits 1 on any failed check, naming it (and the crsync log lines of each
# failing path).
#
#   Tests/Soak/soak.sh [--minutes N] [--seed S] [--emulate 4.18] [--chunk-size BYTES] [--workers N]
#                      [--settle SECONDS] [--keep]
#
# Loopback only (random free ports on 127.0.0.1). Bounded: N minutes of faults and workload, then at most
# --settle seconds of settling, then the check. Every process it starts is stopped on exit, Ctrl-C or
# failure. The binaries come from `swift build --show-bin-path` (build first), or $CRSYNC_BIN_DIR.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

minutes=3
seed=$(( (RANDOM << 15) | RANDOM ))
emulate=4.18
chunk_size=65536
workers=3
settle=240
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --emulate) emulate="$2"; shift 2 ;;
    --chunk-size) chunk_size="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --settle) settle="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "soak: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$minutes" in ''|*[!0-9.]*) echo "soak: --minutes takes a number" >&2; exit 2 ;; esac

bin="${CRSYNC_BIN_DIR:-$(cd "$repo" && swift build --show-bin-path)}"
for b in crsync crsync-devserver; do
  [ -x "$bin/$b" ] || { echo "soak: $bin/$b is missing: run 'swift build' first (or set CRSYNC_BIN_DIR)" >&2; exit 2; }
done
command -v python3 >/dev/null || { echo "soak: python3 is needed (Debian package python3)" >&2; exit 2; }

scratch="$(mktemp -d "${TMPDIR:-/tmp}/crsync-soak.XXXXXX")"
root="$scratch/tree"
state="$scratch/state"
data="$scratch/server-data"
mkdir -p "$root" "$state" "$data"
email="soak@example.com"
remote="soak"
# A throwaway password for this run's server: passed through the environment and stdin only, never argv.
password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"

RANDOM=$seed
server_pid="" proxy_pid="" crsync_pid="" workload_pid=""
kills=0 server_restarts=0 unexpected_exits=0 crsync_runs=0
result=1

log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

stop_pid() {  # stop_pid PID SIGNAL: signal one process we started and wait for it, at most 10 s, then SIGKILL
  local pid="$1" sig="$2" i
  [ -n "$pid" ] || return 0
  kill -"$sig" "$pid" 2>/dev/null || return 0
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_pid "$workload_pid" TERM
  stop_pid "$crsync_pid" KILL
  stop_pid "$proxy_pid" TERM
  stop_pid "$server_pid" TERM
  if [ "$result" -eq 0 ] && [ "$keep" -eq 0 ]; then
    rm -rf "$scratch"
  else
    echo "soak: scratch kept in $scratch (crsync logs: crsync-run-*.log; server: server-*.log)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'echo "soak: interrupted"; exit 130' INT TERM

now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }
rand_ms() { echo $(( $1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1) )); }  # uniform in [$1, $2] ms

server_port=0
start_server() {
  local n=$((server_restarts))
  CRSYNC_DEVSERVER_PASSWORD="$password" "$bin/crsync-devserver" --host 127.0.0.1 --port "$server_port" \
    --data "$data" --user "$email" --emulate "$emulate" --chunk-size "$chunk_size" \
    >"$scratch/server-$n.out" 2>"$scratch/server-$n.log" &
  server_pid=$!
  local i line=""
  for i in $(seq 1 200); do
    line="$(grep -m1 'listening on ' "$scratch/server-$n.out" 2>/dev/null || true)"
    [ -n "$line" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$line" ]; then
    echo "soak: crsync-devserver did not start:"; tail -5 "$scratch/server-$n.log"; exit 1
  fi
  server_url="${line##*listening on }"
  server_port="${server_url##*:}"
}

snapshot_server_stats() {  # the dev server's counters reset at restart: keep each run's
  python3 "$here/check.py" stats --server "$server_url" >>"$scratch/server-stats.jsonl" 2>/dev/null \
    || log "could not read /__dev/stats before restart $server_restarts (figures will be short)"
}

start_crsync() {
  crsync_runs=$((crsync_runs + 1))
  "$bin/crsync" run --config "$scratch/config.toml" --state-dir "$state" \
    >"$scratch/crsync-run-$crsync_runs.log" 2>&1 &
  crsync_pid=$!
}

# 1. Server, fault proxy (faults off), sign-in through the proxy, configuration.
start_server
python3 "$here/faultproxy.py" --upstream-port "$server_port" --rate 0.1 --seed "$seed" \
  --stats "$scratch/proxy-stats.json" --port-file "$scratch/proxy-port" 2>"$scratch/proxy.log" &
proxy_pid=$!
for i in $(seq 1 100); do [ -s "$scratch/proxy-port" ] && break; sleep 0.05; done
[ -s "$scratch/proxy-port" ] || { echo "soak: the fault proxy did not start:"; cat "$scratch/proxy.log"; exit 1; }
proxy_url="http://127.0.0.1:$(cat "$scratch/proxy-port")"

printf '%s\n' "$password" | "$bin/crsync" login --server "$proxy_url" --email "$email" --password-stdin \
  --state-dir "$state" >"$scratch/login.log" 2>&1 || { echo "soak: crsync login failed:"; cat "$scratch/login.log"; exit 1; }

cat >"$scratch/config.toml" <<EOF
[server]
url = "$proxy_url"
email = "$email"

[upload]
workers = $workers
chunk_concurrency = 2
quiet_seconds = 1
max_delay = "20s"
rescan_interval = "1m"

[[sync]]
local = "$root"
remote = "cloudreve://my/$remote"
deletes = "trash"
EOF

log "seed $seed (rerun with --seed $seed), $minutes min, Cloudreve $emulate emulation, chunk size $chunk_size, $workers workers"
log "server $server_url, fault proxy $proxy_url, scratch $scratch"

# 2. Workload and faults for N minutes.
duration_ms=$(python3 -c "print(int(float('$minutes') * 60000))")
python3 "$here/workload.py" --root "$root" --seconds "$(( duration_ms / 1000 ))" --seed "$seed" \
  --stats "$scratch/workload-stats.json" 2>"$scratch/workload.log" &
workload_pid=$!
start_crsync
kill -USR1 "$proxy_pid"

start=$(now_ms)
end=$(( start + duration_ms ))
next_kill=$(( start + $(rand_ms 1000 10000) ))
next_restart=$(( start + $(rand_ms 15000 45000) ))
while [ "$(now_ms)" -lt "$end" ]; do
  sleep 0.2
  now=$(now_ms)
  if ! kill -0 "$crsync_pid" 2>/dev/null; then
    code=0; wait "$crsync_pid" || code=$?
    unexpected_exits=$((unexpected_exits + 1))
    log "crsync exited by itself with status $code (run $crsync_runs): $(tail -1 "$scratch/crsync-run-$crsync_runs.log")"
    echo "run $crsync_runs exit $code" >>"$scratch/unexpected-exits"
    start_crsync
  fi
  if [ "$now" -ge "$next_kill" ]; then
    kill -KILL "$crsync_pid" 2>/dev/null || true
    wait "$crsync_pid" 2>/dev/null || true
    kills=$((kills + 1))
    sleep "0.$(( RANDOM % 10 ))"
    start_crsync
    next_kill=$(( $(now_ms) + $(rand_ms 1000 10000) ))
  fi
  if [ "$now" -ge "$next_restart" ]; then
    snapshot_server_stats
    stop_pid "$server_pid" TERM
    server_restarts=$((server_restarts + 1))
    sleep "0.$(( RANDOM % 10 ))"
    start_server
    next_restart=$(( $(now_ms) + $(rand_ms 15000 45000) ))
  fi
done

# 3. Faults off, workload stopped (it stops by itself at the same deadline; wait for its last write).
kill -USR2 "$proxy_pid"
wait "$workload_pid" || { echo "soak: the workload failed:"; tail -20 "$scratch/workload.log"; exit 1; }
workload_pid=""
log "faults and workload stopped: $kills kills, $server_restarts server restarts, $unexpected_exits exits by itself; settling (at most ${settle}s)"

# 4. Settle: crsync runs undisturbed until the server equals the disk, or --settle seconds pass.
settle_start=$(now_ms)
settled=0
while [ $(( $(now_ms) - settle_start )) -lt $(( settle * 1000 )) ]; do
  if ! kill -0 "$crsync_pid" 2>/dev/null; then
    code=0; wait "$crsync_pid" || code=$?
    unexpected_exits=$((unexpected_exits + 1))
    log "crsync exited by itself with status $code while settling (run $crsync_runs): $(tail -1 "$scratch/crsync-run-$crsync_runs.log")"
    echo "run $crsync_runs exit $code (settling)" >>"$scratch/unexpected-exits"
    start_crsync
  fi
  if CRSYNC_DEVSERVER_PASSWORD="$password" python3 "$here/check.py" compare --server "$server_url" --email "$email" \
       --local "$root" --remote "$remote" --journal "$state/journal.sqlite" --quiet >"$scratch/settle-last.txt" 2>&1; then
    settled=1
    break
  fi
  sleep 3
done
settle_seconds=$(( ($(now_ms) - settle_start) / 1000 ))
if [ "$settled" -eq 1 ]; then
  log "settled after ${settle_seconds}s"
else
  log "not settled after ${settle_seconds}s: $(tail -1 "$scratch/settle-last.txt")"
fi

# 5. crsync stopped as a user would (SIGTERM), then the checks on a still tree.
stop_pid "$crsync_pid" TERM
crsync_pid=""
snapshot_server_stats
echo "kills=$kills" >"$scratch/counters"
echo "server_restarts=$server_restarts" >>"$scratch/counters"
echo "unexpected_exits=$unexpected_exits" >>"$scratch/counters"
stop_pid "$proxy_pid" TERM   # writes its final counters
proxy_pid=""

failed=()
if ! CRSYNC_DEVSERVER_PASSWORD="$password" python3 "$here/check.py" compare --server "$server_url" --email "$email" \
     --local "$root" --remote "$remote" --journal "$state/journal.sqlite" --logs "$scratch" >"$scratch/check.txt" 2>&1; then
  failed+=("the server does not equal the disk, or a placeholder, version or journal check failed")
fi
cat "$scratch/check.txt"
python3 "$here/check.py" report --scratch "$scratch"

# The soak must have injected its faults, or it proved nothing (the floor is per minute: 3 minutes need
# 10 kills, 2 server restarts and 30 cuts).
read -r min_kills min_restarts min_cuts < <(python3 -c "m=float('$minutes'); print(int(m*10/3), int(m*2/3), int(m*10))")
cuts=$(python3 -c "import json; print(json.load(open('$scratch/proxy-stats.json'))['cuts'])")
[ "$kills" -ge "$min_kills" ] || failed+=("only $kills SIGKILLs (at least $min_kills expected)")
[ "$server_restarts" -ge "$min_restarts" ] || failed+=("only $server_restarts server restarts (at least $min_restarts expected)")
[ "$cuts" -ge "$min_cuts" ] || failed+=("only $cuts cut connections (at least $min_cuts expected)")
if [ "$unexpected_exits" -gt 0 ]; then
  failed+=("crsync exited by itself $unexpected_exits times: $(paste -sd, "$scratch/unexpected-exits")")
fi

if [ ${#failed[@]} -eq 0 ]; then
  log "PASS (seed $seed)"
  result=0
  exit 0
fi
for f in "${failed[@]}"; do echo "soak: FAIL: $f"; done
echo "soak: rerun with --seed $seed (timing still varies)"
exit 1
