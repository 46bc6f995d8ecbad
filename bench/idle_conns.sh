#!/usr/bin/env bash
# bench/idle_conns.sh — what an idle keep-alive connection costs, sluice next to nginx:
#
#   bench/idle_conns.sh                 # N = 5000 and 10000, nginx and sluice-default
#   COUNTS="5000" CONTENDERS="sluice-default sluice-empty" bench/idle_conns.sh
#
# For each contender and each N: start it against bench_mock_upstream, warm it up (CONCURRENCY
# connections, one request each, closed), read VmRSS, open N connections and make one chat
# completion on each (at most CONCURRENCY in flight, so the upstream pool stays as small as in
# the warm-up), let it settle, read VmRSS again, then make a second request on every connection
# (they must all still work). Prints (after - before) / N in KiB per idle connection.
# sluice-default runs bench/configs/sluice-default.yaml.in as bench/run.sh fills it (the default
# chain of conf/sluice.yaml, access log and ledger on), sluice-empty (optional) runs
# configs/sluice-empty.yaml.in (no filters, no log, no ledger: what is left is the connections'),
# both with limits.max_connections and idle_timeout raised;
# nginx runs bench/nginx.conf.template with worker_connections raised. Both with 1 worker.
# Binaries come from BUILD_DIR (default build-bench; bench/run.sh builds them there).
# Every process started here is stopped here, by its pid.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
BUILD=${BUILD_DIR:-$ROOT/build-bench}
SLUICE=${SLUICE_BIN:-$BUILD/sluice}
MOCK=${MOCK_BIN:-$BUILD/bench/bench_mock_upstream}
COUNTS=${COUNTS:-"5000 10000"}
CONTENDERS=${CONTENDERS:-"nginx sluice-default"}
CONCURRENCY=${CONCURRENCY:-64}
SETTLE=${SETTLE:-1}  # seconds between the last answer and the second VmRSS reading
BASE_PORT=${BASE_PORT:-18200}
PORT_MOCK=$((BASE_PORT + 1))
PORT_PROXY=$((BASE_PORT + 10))
PORT_ADMIN=$((BASE_PORT + 11))

log() { printf '[idle %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -x $SLUICE ]] || die "no sluice at $SLUICE (bench/run.sh builds it; or set SLUICE_BIN)"
[[ -x $MOCK ]] || die "no bench_mock_upstream at $MOCK (or set MOCK_BIN)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# Every connection is a descriptor in the client and in the proxy (which inherits this limit).
max_count=0
for n in $COUNTS; do ((n > max_count)) && max_count=$n; done
ulimit -n $((max_count + 4096)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) >= max_count + 1024)) || die "ulimit -n is $(ulimit -n): too low for $max_count connections"

# shellcheck source=../scripts/lib/processes.sh
source "$ROOT/scripts/lib/processes.sh"
RUN_DIR=$(mktemp -d /tmp/sluice-idle.XXXXXX)
cleanup() {
  stop_started_pids
  [[ ${RUN_OK:-0} == 1 ]] && rm -rf "$RUN_DIR" || log "logs kept in $RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

# ---- configs -------------------------------------------------------------------------------
awk -v confdir="$ROOT/conf" -f "$BENCH/default_filters.awk" "$ROOT/conf/sluice.yaml" \
  >"$RUN_DIR/default-filters.yaml"
sed -e "s/@LISTEN_PORT@/$PORT_PROXY/; s/@ADMIN_PORT@/$PORT_ADMIN/; s/@UPSTREAM_PORT@/$PORT_MOCK/" \
  -e "s#@ACCESS_LOG@#$RUN_DIR/access.log#; s#@LEDGER@#$RUN_DIR/ledger.db#" \
  -e "/^@FILTERS@\$/{r $RUN_DIR/default-filters.yaml" -e 'd}' \
  "$BENCH/configs/sluice-default.yaml.in" >"$RUN_DIR/sluice-default.yaml"
# The default max_connections (10,000) would refuse the warm-up's leftovers at N = 10,000, and
# the run must not meet the idle timeout.
sed -e "s/@LISTEN_PORT@/$PORT_PROXY/; s/@ADMIN_PORT@/$PORT_ADMIN/; s/@UPSTREAM_PORT@/$PORT_MOCK/" \
  "$BENCH/configs/sluice-empty.yaml.in" >"$RUN_DIR/sluice-empty.yaml"
for f in "$RUN_DIR/sluice-default.yaml" "$RUN_DIR/sluice-empty.yaml"; do
  printf 'limits: {max_connections: %d, idle_timeout: 600s}\n' $((max_count * 2)) >>"$f"
  "$SLUICE" validate -c "$f" >"$RUN_DIR/validate.log" 2>&1 ||
    { cat "$RUN_DIR/validate.log" >&2; die "sluice config $f is not valid"; }
done
mkdir -p "$RUN_DIR/nginx"
sed -e "s#@PREFIX@#$RUN_DIR/nginx#g; s/@LISTEN_PORT@/$PORT_PROXY/; s/@UPSTREAM_PORT@/$PORT_MOCK/" \
  -e "s/worker_connections [0-9]*;/worker_connections $((max_count * 2 + 4096));/" \
  -e "s/worker_rlimit_nofile [0-9]*;/worker_rlimit_nofile $((max_count * 2 + 8192));/" \
  "$BENCH/nginx.conf.template" >"$RUN_DIR/nginx/nginx.conf"

# ---- contenders ------------------------------------------------------------------------------
# Starts one; sets STOP_PID (what is signalled) and WATCH_PID (whose VmRSS is read).
start_contender() {
  case $1 in
    nginx)
      "$NGINX" -p "$RUN_DIR/nginx" -c "$RUN_DIR/nginx/nginx.conf" -e "$RUN_DIR/nginx/error.log" \
        >>"$RUN_DIR/nginx.log" 2>&1 &
      STOP_PID=$!
      STARTED_PIDS+=("$STOP_PID")
      wait_port "$PORT_PROXY" || die "nginx did not start (see $RUN_DIR/nginx/error.log)"
      WATCH_PID=$(pgrep -P "$STOP_PID" | head -1)  # the one worker
      [[ -n $WATCH_PID ]] || die "nginx worker not found"
      ;;
    sluice-default | sluice-empty)
      "$SLUICE" -c "$RUN_DIR/$1.yaml" >>"$RUN_DIR/$1.log" 2>&1 &
      STOP_PID=$!
      STARTED_PIDS+=("$STOP_PID")
      WATCH_PID=$STOP_PID
      wait_port "$PORT_PROXY" || die "sluice did not start (see $RUN_DIR/$1.log)"
      ;;
    *) die "unknown contender $1" ;;
  esac
}

client() {
  python3 "$BENCH/idle_conns.py" --port "$PORT_PROXY" --concurrency "$CONCURRENCY" "$@"
}

"$MOCK" --listen "127.0.0.1:$PORT_MOCK" 2>"$RUN_DIR/mock.log" &
STARTED_PIDS+=($!)
wait_port "$PORT_MOCK" || die "mock upstream did not start"

log "load: $(cut -d' ' -f1-3 /proc/loadavg); counts: $COUNTS; contenders: $CONTENDERS"
printf '| contender | connections | RSS before (MiB) | RSS after (MiB) | KiB per idle connection | 1st requests ok | 2nd requests ok |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
for n in $COUNTS; do
  for contender in $CONTENDERS; do
    start_contender "$contender"
    # Warm-up: the upstream pool, lazily built state and the allocator's first arenas.
    echo quit | client --connections "$CONCURRENCY" >/dev/null
    sleep 0.5
    before=$(rss_kib "$WATCH_PID")
    coproc CLIENT { client --connections "$n"; }
    read -r word ok failed <&"${CLIENT[0]}"
    [[ $word == ready ]] || die "client: unexpected '$word'"
    sleep "$SETTLE"
    after=$(rss_kib "$WATCH_PID")
    echo again >&"${CLIENT[1]}"
    read -r word ok2 failed2 <&"${CLIENT[0]}"
    echo quit >&"${CLIENT[1]}"
    wait "$CLIENT_PID" 2>/dev/null || true
    stop_pid "$STOP_PID"
    awk -v c="$contender" -v n="$n" -v b="$before" -v a="$after" -v ok="$ok" -v ok2="$ok2" \
      'BEGIN { printf "| %s | %d | %.1f | %.1f | %.2f | %d | %d |\n", c, n, b / 1024, a / 1024, (a - b) / n, ok, ok2 }'
    ((failed == 0 && failed2 == 0)) || log "warning: $contender: $failed + $failed2 requests failed"
  done
done
RUN_OK=1
