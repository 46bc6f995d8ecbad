#!/usr/bin/env bash
# bench/profile.sh — where the CPU of one proxied request goes, in a way that does not depend on
# what else the machine is doing: user-space instructions per request, counted by callgrind
# (valgrind), for nginx and sluice under the same short closed-loop load, plus each contender's
# top functions by inclusive cost per request.
#
#   bench/profile.sh                          # nginx, sluice-empty, sluice-default
#   bench/profile.sh sluice-default           # just one
# Other contenders: sluice-default-nolog (access log off), sluice-default-nocost (no cost filter
# and no budget: what pricing, budgets and the token/cost metrics add), sluice-default-ledger
# (the spend ledger on, in the run's temp dir: what enqueueing a row costs the worker),
# sluice-default-nolua (conf/sluice.yaml's chain without its Lua filters), sluice-default-lua-noop
# (that + a Lua filter whose on_request does nothing: the Lua host's own cost) and
# sluice-default-keyword-guard (that + plugins/lua/keyword_guard.lua reading the body).
#   SECONDS_OF_LOAD=10 bench/profile.sh       # longer load (default 8 s; valgrind is ~50x slower)
#   STREAM=1 bench/profile.sh                 # SSE streams of STREAM_CHUNKS content events (default
#                                             # 20) + a usage event + [DONE], not JSON answers;
#                                             # writes results/profile-stream.txt
#
# Use it for before/after numbers of a hot-path change when bench/run.sh's CPU figures are
# too noisy (shared machine). It counts instructions in user space only (the event loop of
# sluice's worker thread, nginx's event loop): the kernel's share of a request (~2/3 of it on
# loopback) and the time an instruction takes are not in it. Outputs go to bench/results/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
BUILD=${BUILD_DIR:-$ROOT/build-bench}
RESULTS=${RESULTS_DIR:-$BENCH/results}
SECONDS_OF_LOAD=${SECONDS_OF_LOAD:-8}
BASE_PORT=${BASE_PORT:-18500}
CONTENDERS=${*:-"nginx sluice-empty sluice-default"}
TOP=${TOP:-25}
STREAM=${STREAM:-0}
STREAM_CHUNKS=${STREAM_CHUNKS:-20}

log() { printf '[profile %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null || {
  log "installing valgrind"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get install -y -qq --no-install-recommends valgrind >/dev/null
}
[[ -f $BUILD/CMakeCache.txt ]] || cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DSLUICE_BUILD_BENCH=ON -DSLUICE_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target sluice bench_mock_upstream bench_loadgen -j2 >/dev/null
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

RUN_DIR=$(mktemp -d /tmp/sluice-profile.XXXXXX)
chmod 755 "$RUN_DIR"
declare -a PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

wait_port() {
  local i
  for ((i = 0; i < 400; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
mock_requests() {
  curl -s --max-time 5 "http://127.0.0.1:$PORT_MOCK/__stats" | sed 's/.*"requests":\([0-9]*\).*/\1/'
}

PORT_MOCK=$((BASE_PORT + 1))
PORT_PROXY=$((BASE_PORT + 10))
PORT_ADMIN=$((BASE_PORT + 11))
BODY='{"model":"fast","messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":16}'
SUMMARY_NAME=profile.txt
if [[ $STREAM == 1 ]]; then
  # The client does not ask for include_usage, so sluice asks the provider for it and strips
  # the usage-only chunk from what it forwards (the whole usage path of a stream).
  BODY='{"model":"fast","stream":true,"messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":16}'
  SUMMARY_NAME=profile-stream.txt
fi

taskset -c 1 "$BUILD/bench/bench_mock_upstream" --listen "127.0.0.1:$PORT_MOCK" \
  --chunks "$STREAM_CHUNKS" 2>/dev/null &
PIDS+=($!)
wait_port "$PORT_MOCK" || die "mock did not start"

# Configs: the same templates as run.sh (filters of conf/sluice.yaml for the default chain).
awk -v confdir="$ROOT/conf" -f "$BENCH/default_filters.awk" "$ROOT/conf/sluice.yaml" \
  >"$RUN_DIR/default-filters.yaml"
subst=(-e "s/@LISTEN_PORT@/$PORT_PROXY/; s/@ADMIN_PORT@/$PORT_ADMIN/; s/@UPSTREAM_PORT@/$PORT_MOCK/")
sed "${subst[@]}" "$BENCH/configs/sluice-empty.yaml.in" >"$RUN_DIR/sluice-empty.yaml"
sed "${subst[@]}" -e "s#@ACCESS_LOG@#$RUN_DIR/access.log#" -e 's#@LEDGER@##' \
  -e "/^@FILTERS@\$/{r $RUN_DIR/default-filters.yaml" -e 'd}' \
  "$BENCH/configs/sluice-default.yaml.in" >"$RUN_DIR/sluice-default.yaml"
sed 's#^access_log: .*#access_log: {path: "", format: json}#' "$RUN_DIR/sluice-default.yaml" \
  >"$RUN_DIR/sluice-default-nolog.yaml"
sed -e '/^ *- cost:/d' -e '/^ *budget:/d' "$RUN_DIR/sluice-default.yaml" \
  >"$RUN_DIR/sluice-default-nocost.yaml"
sed "s#^state: .*#state: {ledger: \"$RUN_DIR/ledger.db\"}#" "$RUN_DIR/sluice-default.yaml" \
  >"$RUN_DIR/sluice-default-ledger.yaml"
# Lua: the default chain without its Lua filters, then with one no-op Lua filter, then with
# keyword_guard (reads the body; words that never match) — each right after auth.
sed '/^ *- lua:/d' "$RUN_DIR/sluice-default.yaml" >"$RUN_DIR/sluice-default-nolua.yaml"
sed "s#^\( *- auth:.*\)\$#\1\n  - lua: {file: $BENCH/lua/noop.lua}#" "$RUN_DIR/sluice-default-nolua.yaml" \
  >"$RUN_DIR/sluice-default-lua-noop.yaml"
sed "s#^\( *- auth:.*\)\$#\1\n  - lua: {file: $ROOT/plugins/lua/keyword_guard.lua, config: {words: [forbidden-alpha, forbidden-beta, forbidden-gamma]}}#" \
  "$RUN_DIR/sluice-default-nolua.yaml" >"$RUN_DIR/sluice-default-keyword-guard.yaml"
mkdir -p "$RUN_DIR/nginx"
# One process (master_process off) so callgrind sees the worker's event loop in its own output.
sed -e "s#@PREFIX@#$RUN_DIR/nginx#g; s/@LISTEN_PORT@/$PORT_PROXY/; s/@UPSTREAM_PORT@/$PORT_MOCK/" \
  -e 's/^daemon off;/daemon off;\nmaster_process off;/' "$BENCH/nginx.conf.template" >"$RUN_DIR/nginx/nginx.conf"

mkdir -p "$RESULTS"
SUMMARY=$RESULTS/$SUMMARY_NAME
{
  echo "bench/profile.sh — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "sluice $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown); closed loop, 4 connections, ${SECONDS_OF_LOAD} s under callgrind"
  [[ $STREAM == 1 ]] && echo "streams: $STREAM_CHUNKS content events, a usage event and [DONE] per request"
  echo "instructions per request = inclusive Ir of the event loop / requests the mock answered"
} >"$SUMMARY"

for contender in $CONTENDERS; do
  out=$RUN_DIR/callgrind.$contender
  case $contender in
    nginx)
      loop_fn=ngx_process_events_and_timers
      valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no \
        "$NGINX" -p "$RUN_DIR/nginx" -c "$RUN_DIR/nginx/nginx.conf" -e "$RUN_DIR/nginx/error.log" \
        >"$RUN_DIR/$contender.log" 2>&1 &
      ;;
    sluice-*)
      [[ -f $RUN_DIR/$contender.yaml ]] || die "unknown contender $contender"
      loop_fn='sluice::server::Worker::run()'
      valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no \
        "$BUILD/sluice" -c "$RUN_DIR/$contender.yaml" >"$RUN_DIR/$contender.log" 2>&1 &
      ;;
    *) die "unknown contender $contender (nginx, sluice-empty, sluice-default, sluice-default-nolog, sluice-default-nocost, sluice-default-ledger, sluice-default-nolua, sluice-default-lua-noop, sluice-default-keyword-guard)" ;;
  esac
  pid=$!
  PIDS+=("$pid")
  wait_port "$PORT_PROXY" || die "$contender did not start under valgrind (see $RUN_DIR/$contender.log)"
  before=$(mock_requests)
  log "$contender: ${SECONDS_OF_LOAD} s of load under callgrind"
  timeout 120 taskset -c 1 "$BUILD/bench/bench_loadgen" --target "127.0.0.1:$PORT_PROXY" \
    --header "Authorization: Bearer sk-sluice-demo" --body "$BODY" --connections 4 --rate 0 \
    --warmup 1 --duration "$SECONDS_OF_LOAD" >/dev/null
  requests=$(($(mock_requests) - before))
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  [[ -s $out ]] || die "no callgrind output for $contender"
  ((requests > 0)) || die "$contender answered no requests"
  callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null |
    sed -n 's/^ *\([0-9,]*\) ([ 0-9.]*%)  \(.*\)$/\1\t\2/p' | tr -d ',' >"$RUN_DIR/$contender.incl"
  loop_ir=$(awk -F'\t' -v fn="$loop_fn" 'index($2, fn) { print $1; exit }' "$RUN_DIR/$contender.incl")
  [[ -n $loop_ir ]] || die "event loop function $loop_fn not found in the profile"
  {
    echo
    printf '%s: %d requests, %d user-space instructions per request\n' "$contender" "$requests" \
      $((loop_ir / requests))
    echo "  instr/req  function (inclusive; file names from the symbols)"
    awk -F'\t' -v n="$requests" -v loop="$loop_ir" -v top="$TOP" '
      $1 <= loop && $2 !~ /^\?\?\?:0x/ && $2 !~ /(below main)|start_thread|_M_run|uv_run|PROGRAM TOTALS/ {
        if (count++ < top) printf "  %9.0f  %s\n", $1 / n, substr($2, 1, 150)
      }' "$RUN_DIR/$contender.incl"
    echo "  instr/req  function (self cost: the instructions in the function itself)"
    callgrind_annotate --threshold=100 "$out" 2>/dev/null |
      sed -n 's/^ *\([0-9,]*\) ([ 0-9.]*%)  \(.*\)$/\1\t\2/p' | tr -d ',' |
      awk -F'\t' -v n="$requests" -v top="$TOP" '$2 !~ /PROGRAM TOTALS|dl-lookup|dl-reloc|rtld/ {
        if (count++ < top) printf "  %9.0f  %s\n", $1 / n, substr($2, 1, 150) }'
  } >>"$SUMMARY"
done
cat "$SUMMARY"
log "wrote $SUMMARY (callgrind outputs in $RUN_DIR)"
