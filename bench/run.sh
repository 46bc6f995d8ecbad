#!/usr/bin/env bash
# bench/run.sh — the whole benchmark suite in one command (bench/README.md explains the output):
#
#   bench/run.sh            # ~6 minutes: builds what is missing, runs every scenario, reports
#   bench/run.sh --quick    # a ~1 minute smoke run (1 round, short windows): numbers are rough
#
# Contenders, all proxying to the same bench_mock_upstream: direct (no proxy), nginx proxy_pass
# (1 worker, upstream keep-alive), sluice with an empty chain, sluice with the default chain of
# conf/sluice.yaml (+ in main only: the default chain with the access log off). Scenarios,
# interleaved round by round so drift hits every contender alike:
#   main    non-stream chat completions: wrk (closed loop, throughput), c=1 (closed loop; also
#           with the proxy moved onto the load generator's core), and a fixed rate (open loop,
#           no coordinated omission)
#   stream  SSE streams of STREAM_CHUNKS events STREAM_CHUNK_DELAY_MS apart, at a fixed rate,
#           plus the same rate without streaming (so CPU per streamed event can be read off)
#   c1000   1,000 connections of long streams (20 ms to the first byte, then 10 events 50 ms
#           apart, ~910 streams in flight): all must complete; TTFB p99, peak RSS
#   tools   (only when asked: SCENARIOS="tools" or "main stream c1000 tools") sluice-tools — the
#           default chain, log and ledger on, 1,000 http tools of which the agent may use 100 —
#           serving tools/list (/mcp and GET /v1/tools) and calling an http tool on the mock
#           (/mcp tools/call and POST /v1/tools/{name}), against `direct`, the client calling
#           the same tool endpoint itself (tools_scenario.sh):
#             SCENARIOS=tools bench/run.sh
# Optional contenders (CONTENDERS / MAIN_EXTRA_CONTENDERS): the default chain without its access
# log, ledger or Lua filters, sluice-default-norotate (no log rotation, no ledger retention),
# sluice-default-redis (the default chain with state.redis: a
# redis-server is started on the load generator's CPU), and sluice-anthropic — the default chain with its models on a
# `type: anthropic` provider (the plugin libsluice_anthropic.so), every answer translated from
# Anthropic's Messages shape, which the mock speaks on /messages:
#   CONTENDERS="sluice-default sluice-anthropic" MAIN_EXTRA_CONTENDERS="" bench/run.sh
# The proxy runs on CPU 0 (taskset); the mock, wrk and bench_loadgen on CPU 1 (as root: SCHED_RR,
# see PRIORITY). CPU time is utime+stime of the proxy process from /proc/PID/stat; memory is
# VmRSS/VmHWM of /proc/PID/status.
# Every load is bounded in time; every process started here is stopped here, by its pid.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
BUILD=${BUILD_DIR:-$ROOT/build-bench}
RESULTS=${RESULTS_DIR:-$BENCH/results}

# ---- knobs (environment overrides) -----------------------------------------------------------
ROUNDS=${ROUNDS:-3}                # rounds of the main scenario
STREAM_ROUNDS=${STREAM_ROUNDS:-2}
C1000_ROUNDS=${C1000_ROUNDS:-2}
DURATION=${DURATION:-2.5}          # seconds per measured window
WRK_DURATION=${WRK_DURATION:-3}    # seconds per wrk run (whole seconds)
WARMUP=${WARMUP:-0.5}              # seconds before each loadgen window (not recorded)
RATE=${RATE:-5000}                 # main fixed rate, requests/s (well under every contender's max)
RATE_CONNECTIONS=${RATE_CONNECTIONS:-32}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
STREAM_RATE=${STREAM_RATE:-500}
STREAM_CONNECTIONS=${STREAM_CONNECTIONS:-64}
STREAM_CHUNKS=${STREAM_CHUNKS:-20}
STREAM_CHUNK_DELAY_MS=${STREAM_CHUNK_DELAY_MS:-1}
C1000_CONNECTIONS=${C1000_CONNECTIONS:-1000}
C1000_RATE=${C1000_RATE:-1900}     # ~480 ms streams at 1,900/s: ~910 in flight on 1,000 connections
C1000_DELAY_MS=${C1000_DELAY_MS:-20}
C1000_CHUNKS=${C1000_CHUNKS:-10}
C1000_CHUNK_DELAY_MS=${C1000_CHUNK_DELAY_MS:-50}
C1000_DURATION=${C1000_DURATION:-4}
CONTENDERS=${CONTENDERS:-"direct nginx sluice-empty sluice-default"}
SCENARIOS=${SCENARIOS:-"main stream c1000"}  # + tools (opt-in)
TOOLS_CONTENDERS=${TOOLS_CONTENDERS:-"direct sluice-tools"}
TOOLS_ROUNDS=${TOOLS_ROUNDS:-$ROUNDS}
TOOLS_CONNECTIONS=${TOOLS_CONNECTIONS:-8}  # closed loop: requests/s and CPU per request
# Only in the main scenario: the default chain with the access log off, to show what the log costs.
MAIN_EXTRA_CONTENDERS=${MAIN_EXTRA_CONTENDERS-"sluice-default-nolog"}  # "" for none
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
BASE_PORT=${BASE_PORT:-18100}
MICRO=${MICRO:-1}                  # 0 skips the Google Benchmark micro-benchmarks
PRIORITY=${PRIORITY:-rt}           # rt: the bench's processes run SCHED_RR (chrt -r 10; root only),
                                   # so other work on a shared machine cannot delay their wake-ups;
                                   # nice: nice -20; normal: as started
WAIT_QUIET=${WAIT_QUIET:-0}        # > 0: wait up to this many seconds for the 1-minute load
                                   # average to fall below 1.0 before measuring (shared machines)
BUILD_WITH=${BUILD_WITH:-}         # a command run as `$BUILD_WITH BUILD_DIR TARGET...` instead of
                                   # cmake --build (a shared machine's serialized build wrapper)

if [[ ${1:-} == --quick ]]; then
  ROUNDS=1 STREAM_ROUNDS=1 C1000_ROUNDS=1 TOOLS_ROUNDS=1 DURATION=1 WRK_DURATION=1 C1000_DURATION=2 MICRO=0
elif [[ -n ${1:-} ]]; then
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
fi

AUTH="Bearer sk-sluice-demo"
MAIN_BODY='{"model":"fast","messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":16}'
# The client asks for the usage chunk (stream_options.include_usage), so every contender sends
# all STREAM_CHUNKS + 2 events: without it sluice takes the usage chunk out of what the client
# sees (DESIGN §8) and the stream would look one event short next to nginx's.
STREAM_BODY='{"model":"fast","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":16}'

PORT_MOCK_MAIN=$((BASE_PORT + 1))
PORT_MOCK_STREAM=$((BASE_PORT + 2))
PORT_MOCK_C1000=$((BASE_PORT + 3))
PORT_PROXY=$((BASE_PORT + 10))
PORT_ADMIN=$((BASE_PORT + 11))
PORT_REDIS=$((BASE_PORT + 12))  # only for sluice-default-redis

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# shellcheck source=bench/tools_scenario.sh
source "$BENCH/tools_scenario.sh"
wants_scenario() { [[ " $SCENARIOS " == *" $1 "* ]]; }
die() { log "error: $*"; exit 1; }

# ---- tools ---------------------------------------------------------------------------------
ensure_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
  command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
  command -v python3 >/dev/null || missing+=(python3)
  command -v taskset >/dev/null || missing+=(util-linux)
  command -v curl >/dev/null || missing+=(curl)
  command -v cmake >/dev/null || missing+=(cmake)
  if ((${#missing[@]})); then
    log "installing: ${missing[*]}"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

build() {
  if [[ ! -f $BUILD/CMakeCache.txt ]]; then
    log "configuring $BUILD (Release, SLUICE_BUILD_BENCH=ON)"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_BENCH=ON \
      -DSLUICE_BUILD_TESTS=OFF >/dev/null
  fi
  local type
  type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
  [[ $type == Release ]] || log "warning: $BUILD is a '$type' build, not Release"
  local targets=(sluice bench_mock_upstream bench_loadgen)
  ((MICRO)) && targets+=(bench_micro)
  # The anthropic plugin for sluice-anthropic, when this tree has it (else it must already be in
  # $BUILD/plugins/, where sluice looks for it).
  if wants_contender sluice-anthropic && [[ -f $ROOT/plugins/anthropic/CMakeLists.txt ]]; then
    targets+=(sluice_anthropic)
  fi
  log "building ${targets[*]}"
  if [[ -n $BUILD_WITH ]]; then
    $BUILD_WITH "$BUILD" "${targets[@]}" >"$RUN_DIR/build.log" 2>&1
  else
    cmake --build "$BUILD" --target "${targets[@]}" -j2 >"$RUN_DIR/build.log" 2>&1
  fi || { tail -30 "$RUN_DIR/build.log" >&2; die "build failed (log above)"; }
  if wants_contender sluice-anthropic && [[ ! -f $BUILD/plugins/libsluice_anthropic.so ]]; then
    die "sluice-anthropic needs $BUILD/plugins/libsluice_anthropic.so (the anthropic plugin)"
  fi
  SLUICE=$BUILD/sluice
  MOCK=$BUILD/bench/bench_mock_upstream
  LOADGEN=$BUILD/bench/bench_loadgen
  MICROBIN=$BUILD/bench/bench_micro
}

# Whether a contender runs in any scenario.
wants_contender() { [[ " $CONTENDERS $MAIN_EXTRA_CONTENDERS " == *" $1 "* ]]; }

# ---- processes (each tracked by pid; stopped by pid) ---------------------------------------
# shellcheck source=../scripts/lib/processes.sh
source "$ROOT/scripts/lib/processes.sh"

cleanup() {
  stop_started_pids
  if [[ ${KEEP_RUN_DIR:-0} == 0 && -n ${RUN_DIR:-} && ${RUN_OK:-0} == 1 ]]; then
    rm -rf "$RUN_DIR"
  elif [[ -n ${RUN_DIR:-} ]]; then
    log "logs kept in $RUN_DIR"
  fi
}

cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
mem_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

start_mocks() {
  local spec name port args
  for spec in "main $PORT_MOCK_MAIN --chunks $STREAM_CHUNKS" \
    "stream $PORT_MOCK_STREAM --chunks $STREAM_CHUNKS --chunk-delay-ms $STREAM_CHUNK_DELAY_MS" \
    "c1000 $PORT_MOCK_C1000 --delay-ms $C1000_DELAY_MS --chunks $C1000_CHUNKS --chunk-delay-ms $C1000_CHUNK_DELAY_MS"; do
    read -r name port args <<<"$spec"
    # shellcheck disable=SC2086
    "${ON_LOAD_CPU[@]}" "$MOCK" --listen "127.0.0.1:$port" $args 2>"$RUN_DIR/mock-$name.log" &
    STARTED_PIDS+=($!)
    eval "MOCK_PID_$name=$!"
    wait_port "$port" || die "mock upstream ($name) did not start (see $RUN_DIR/mock-$name.log)"
  done
}

# The Redis that sluice-default-redis shares its limits through (state.redis), on the load
# generator's CPU like the mock: another service, so its CPU is not sluice's.
start_redis() {
  wants_contender sluice-default-redis || return 0
  command -v redis-server >/dev/null || die "sluice-default-redis needs redis-server (apt-get install redis-server)"
  port_free "$PORT_REDIS" || die "port $PORT_REDIS is taken (set BASE_PORT)"
  "${ON_LOAD_CPU[@]}" redis-server --port "$PORT_REDIS" --bind 127.0.0.1 --save "" \
    --appendonly no --dir "$RUN_DIR" >"$RUN_DIR/redis.log" 2>&1 &
  STARTED_PIDS+=($!)
  wait_port "$PORT_REDIS" || die "redis-server did not start (see $RUN_DIR/redis.log)"
}

upstream_port() {
  case $1 in main | tools) echo "$PORT_MOCK_MAIN" ;; stream) echo "$PORT_MOCK_STREAM" ;; c1000) echo "$PORT_MOCK_C1000" ;; esac
}

# The `filters:` block of conf/sluice.yaml (the default chain; a cost filter added after
# model_alias if it has none: see default_filters.awk).
default_filters() {
  awk -v confdir="$ROOT/conf" -f "$BENCH/default_filters.awk" "$ROOT/conf/sluice.yaml"
}

render_configs() {
  local scenario up dir filters
  filters=$(default_filters)
  [[ -n $filters ]] || die "no filters: block found in conf/sluice.yaml"
  printf '%s\n' "$filters" >"$RUN_DIR/default-filters.yaml"
  for scenario in main stream c1000; do
    up=$(upstream_port "$scenario")
    sed -e "s/@LISTEN_PORT@/$PORT_PROXY/; s/@ADMIN_PORT@/$PORT_ADMIN/; s/@UPSTREAM_PORT@/$up/" \
      "$BENCH/configs/sluice-empty.yaml.in" >"$RUN_DIR/sluice-empty-$scenario.yaml"
    sed -e "s/@LISTEN_PORT@/$PORT_PROXY/; s/@ADMIN_PORT@/$PORT_ADMIN/; s/@UPSTREAM_PORT@/$up/" \
      -e "s#@ACCESS_LOG@#$RUN_DIR/access-$scenario.log#" \
      -e "s#@LEDGER@#$RUN_DIR/ledger-$scenario.db#" \
      -e "/^@FILTERS@\$/{r $RUN_DIR/default-filters.yaml" -e 'd}' \
      "$BENCH/configs/sluice-default.yaml.in" >"$RUN_DIR/sluice-default-$scenario.yaml"
    # Optional contender: the default chain with the spend ledger off.
    sed -e 's#^state: .*#state: {ledger: ""}#' \
      "$RUN_DIR/sluice-default-$scenario.yaml" >"$RUN_DIR/sluice-default-noledger-$scenario.yaml"
    # Optional contender: the default chain with its limits and budget shared through Redis
    # (state.redis, docs/fleet.md) — a sidecar of a fleet of one.
    sed -e "s#^state: {\(.*\)}#state: {\1, redis: {url: \"redis://127.0.0.1:$PORT_REDIS/0\", key_prefix: \"bench-$scenario:\"}}#" \
      "$RUN_DIR/sluice-default-$scenario.yaml" >"$RUN_DIR/sluice-default-redis-$scenario.yaml"
    # Optional contender: the default chain without log rotation (max_size 0) and without
    # ledger retention (forever) — what the default chain did before they existed.
    sed -e 's#^access_log: {\(.*\)}#access_log: {\1, max_size: 0}#' \
      -e 's#^state: {\(.*\)}#state: {\1, retention: forever}#' \
      "$RUN_DIR/sluice-default-$scenario.yaml" >"$RUN_DIR/sluice-default-norotate-$scenario.yaml"
    # Optional contender (CONTENDERS=... sluice-default-nolog): the default chain, access log off.
    sed -e 's#^access_log: .*#access_log: {path: "", format: json}#' \
      "$RUN_DIR/sluice-default-$scenario.yaml" >"$RUN_DIR/sluice-default-nolog-$scenario.yaml"
    # Optional Lua contenders: the default chain without its Lua filters (sluice-default-nolua),
    # and that with one no-op Lua filter after auth (sluice-default-lua-noop): the Lua host's
    # own cost next to what conf/sluice.yaml's Lua policy (keyword_guard) costs.
    sed -e '/^ *- lua:/d' "$RUN_DIR/sluice-default-$scenario.yaml" \
      >"$RUN_DIR/sluice-default-nolua-$scenario.yaml"
    sed -e "s#^\( *- auth:.*\)\$#\1\n  - lua: {file: $BENCH/lua/noop.lua}#" \
      "$RUN_DIR/sluice-default-nolua-$scenario.yaml" >"$RUN_DIR/sluice-default-lua-noop-$scenario.yaml"
    # Optional (it needs the anthropic plugin): the default chain, log and ledger with its models
    # on a `type: anthropic` provider — every answer translated (configs/sluice-anthropic.yaml.in).
    if wants_contender sluice-anthropic; then
      sed -e "s/@LISTEN_PORT@/$PORT_PROXY/; s/@ADMIN_PORT@/$PORT_ADMIN/; s/@UPSTREAM_PORT@/$up/" \
        -e "s#@ACCESS_LOG@#$RUN_DIR/access-anthropic-$scenario.log#" \
        -e "s#@LEDGER@#$RUN_DIR/ledger-anthropic-$scenario.db#" \
        -e "/^@FILTERS@\$/{r $RUN_DIR/default-filters.yaml" -e 'd}' \
        "$BENCH/configs/sluice-anthropic.yaml.in" >"$RUN_DIR/sluice-anthropic-$scenario.yaml"
    fi
    dir=$RUN_DIR/nginx-$scenario
    mkdir -p "$dir"
    sed -e "s#@PREFIX@#$dir#g; s/@LISTEN_PORT@/$PORT_PROXY/; s/@UPSTREAM_PORT@/$up/" \
      "$BENCH/nginx.conf.template" >"$dir/nginx.conf"
    chmod 755 "$RUN_DIR" "$dir"
  done
  # The tools scenario: sluice-default (log and ledger on) + 1,000 http tools on the main mock's
  # /tools/, 100 of them allowed to the agent (tools_config.py).
  if wants_scenario tools; then
    sed -e "s#@LEDGER@#$RUN_DIR/ledger-tools.db#; s#@ACCESS_LOG@#$RUN_DIR/access-tools.log#" \
      -e "s/@LISTEN_PORT@/$PORT_PROXY/; s/@ADMIN_PORT@/$PORT_ADMIN/; s/@UPSTREAM_PORT@/$PORT_MOCK_MAIN/" \
      -e "/^@FILTERS@\$/{r $RUN_DIR/default-filters.yaml" -e 'd}' \
      "$BENCH/configs/sluice-default.yaml.in" >"$RUN_DIR/sluice-default-tools.yaml"
    tools_render "$RUN_DIR/sluice-default-tools.yaml" "$RUN_DIR/sluice-tools-tools.yaml" \
      "http://127.0.0.1:$PORT_MOCK_MAIN"
  fi
  local f
  for f in "$RUN_DIR"/sluice-*.yaml; do
    "$SLUICE" validate -c "$f" >"$RUN_DIR/validate.log" 2>&1 ||
      { cat "$RUN_DIR/validate.log" >&2; die "bench config $f is not valid"; }
  done
}

# Starts a contender for a scenario. Sets TARGET_PORT, WATCH_PID (the process whose CPU and
# memory are measured), STOP_PID (what stop_contender signals) and IDLE_RSS_KIB.
start_contender() {
  local contender=$1 scenario=$2
  STOP_PID=""
  case $contender in
    direct)
      TARGET_PORT=$(upstream_port "$scenario")
      eval "WATCH_PID=\$MOCK_PID_$scenario"
      ;;
    nginx)
      port_free "$PORT_PROXY" || die "port $PORT_PROXY is taken"
      local dir=$RUN_DIR/nginx-$scenario
      "${ON_PROXY_CPU[@]}" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
        >>"$RUN_DIR/nginx.log" 2>&1 &
      STOP_PID=$!
      STARTED_PIDS+=("$STOP_PID")
      TARGET_PORT=$PORT_PROXY
      wait_port "$PORT_PROXY" || die "nginx did not start (see $dir/error.log)"
      WATCH_PID=$(pgrep -P "$STOP_PID" | head -1)  # the one worker (the master only supervises)
      [[ -n $WATCH_PID ]] || die "nginx worker not found"
      ;;
    sluice-*)
      port_free "$PORT_PROXY" || die "port $PORT_PROXY is taken"
      "${ON_PROXY_CPU[@]}" "$SLUICE" -c "$RUN_DIR/$contender-$scenario.yaml" \
        >>"$RUN_DIR/$contender.log" 2>&1 &
      STOP_PID=$!
      STARTED_PIDS+=("$STOP_PID")
      WATCH_PID=$STOP_PID
      TARGET_PORT=$PORT_PROXY
      wait_port "$PORT_PROXY" || die "sluice did not start (see $RUN_DIR/$contender.log)"
      ;;
    *) die "unknown contender $contender" ;;
  esac
  sleep 0.3
  IDLE_RSS_KIB=$(mem_kib "$WATCH_PID" VmRSS)
}

# For sluice with the spend ledger on: the rows it wrote and the rows it dropped (queue full:
# the writer did not keep up) during the cell — a cell that dropped rows measured less work
# than sluice owes, and the report says so.
ledger_record() {
  [[ $CONTENDER == sluice-* ]] || return 0
  local metrics written dropped
  metrics=$(curl -s --max-time 5 "http://127.0.0.1:$PORT_ADMIN/metrics") || return 0
  written=$(awk -F' ' '/^sluice_ledger_rows_total\{result="written"\}/ { print int($2) }' <<<"$metrics")
  dropped=$(awk -F' ' '/^sluice_ledger_rows_total\{result="dropped"\}/ { print int($2) }' <<<"$metrics")
  [[ -n $written ]] || return 0  # ledger off
  emit "{\"scenario\":\"$SCENARIO\",\"contender\":\"$CONTENDER\",\"round\":$ROUND,\"phase\":\"ledger\",\"written\":${written:-0},\"dropped\":${dropped:-0}}"
}

stop_contender() {
  ledger_record
  [[ -n $STOP_PID ]] && stop_pid "$STOP_PID"
  STOP_PID=""
  if [[ $1 != direct ]]; then
    local i
    for ((i = 0; i < 100; i++)); do port_free "$PORT_PROXY" && break; sleep 0.05; done
  fi
}

emit() { printf '%s\n' "$1" >>"$RAW"; }

# loadgen PHASE_LABEL ARGS... — runs bench_loadgen on the load CPU, records its JSON.
loadgen() {
  local phase=$1
  shift
  local out
  out=$(timeout 120 "${ON_LOAD_CPU[@]}" "$LOADGEN" --target "127.0.0.1:$TARGET_PORT" \
    --header "Authorization: $AUTH" --watch-pid "$WATCH_PID" --label "$CONTENDER" "$@") ||
    { log "bench_loadgen failed ($SCENARIO/$CONTENDER/$phase): $out"; out='{"error":"loadgen failed"}'; }
  emit "{\"scenario\":\"$SCENARIO\",\"contender\":\"$CONTENDER\",\"round\":$ROUND,\"phase\":\"$phase\",\"data\":$out}"
}

wrk_phase() {
  local before after out line
  before=$(cpu_ticks "$WATCH_PID")
  out=$(BENCH_BODY=$MAIN_BODY BENCH_AUTH=$AUTH timeout 60 "${ON_LOAD_CPU[@]}" wrk -t1 \
    -c"$WRK_CONNECTIONS" -d"${WRK_DURATION}s" -s "$BENCH/wrk_post.lua" \
    "http://127.0.0.1:$TARGET_PORT/v1/chat/completions" 2>&1) || true
  after=$(cpu_ticks "$WATCH_PID")
  line=$(sed -n 's/^WRK_JSON //p' <<<"$out")
  [[ -n $line ]] || { log "wrk failed ($CONTENDER): $out"; line='{"error":"wrk failed"}'; }
  emit "{\"scenario\":\"$SCENARIO\",\"contender\":\"$CONTENDER\",\"round\":$ROUND,\"phase\":\"wrk\",\"cpu_ticks\":$((after - before)),\"clk_tck\":$CLK_TCK,\"data\":$line}"
}

memory_record() {
  emit "{\"scenario\":\"$SCENARIO\",\"contender\":\"$CONTENDER\",\"round\":$ROUND,\"phase\":\"memory\",\"idle_rss_kib\":${IDLE_RSS_KIB:-0},\"hwm_kib\":$(mem_kib "$WATCH_PID" VmHWM),\"rss_kib\":$(mem_kib "$WATCH_PID" VmRSS)}"
}

# Moves every thread of the measured process to CPU $1 (taskset -a -p).
pin_watched() { taskset -a -p -c "$1" "$WATCH_PID" >/dev/null; }

cell_main() {
  start_contender "$CONTENDER" main
  loadgen c1 --body "$MAIN_BODY" --connections 1 --rate 0 --warmup "$WARMUP" --duration "$DURATION"
  # The same on ONE core (proxy moved next to the mock and the load generator): no cross-CPU
  # wake-ups, which cost ~30 us each in a VM and are 4 per proxied request at c=1.
  pin_watched "$LOAD_CPU"
  loadgen c1_onecpu --body "$MAIN_BODY" --connections 1 --rate 0 --warmup "$WARMUP" --duration "$DURATION"
  [[ $CONTENDER == direct ]] || pin_watched "$PROXY_CPU"
  loadgen rate --body "$MAIN_BODY" --connections "$RATE_CONNECTIONS" --rate "$RATE" \
    --warmup "$WARMUP" --duration "$DURATION"
  wrk_phase
  memory_record
  stop_contender "$CONTENDER"
}

cell_stream() {
  start_contender "$CONTENDER" stream
  loadgen stream_c1 --body "$STREAM_BODY" --sse --expect-events $((STREAM_CHUNKS + 2)) \
    --connections 1 --rate 0 --warmup "$WARMUP" --duration "$DURATION"
  loadgen stream_rate --body "$STREAM_BODY" --sse --expect-events $((STREAM_CHUNKS + 2)) \
    --connections "$STREAM_CONNECTIONS" --rate "$STREAM_RATE" --warmup "$WARMUP" --duration "$DURATION"
  loadgen nonstream_rate --body "$MAIN_BODY" --connections "$STREAM_CONNECTIONS" \
    --rate "$STREAM_RATE" --warmup "$WARMUP" --duration "$DURATION"
  memory_record
  stop_contender "$CONTENDER"
}

cell_c1000() {
  start_contender "$CONTENDER" c1000
  curl -s --max-time 5 "http://127.0.0.1:$PORT_MOCK_C1000/__stats?reset" >/dev/null || true
  loadgen c1000 --body "$STREAM_BODY" --sse --expect-events $((C1000_CHUNKS + 2)) \
    --connections "$C1000_CONNECTIONS" --rate "$C1000_RATE" --warmup 1.5 \
    --duration "$C1000_DURATION" --drain 5
  local upstream
  upstream=$(curl -s --max-time 5 "http://127.0.0.1:$PORT_MOCK_C1000/__stats" || true)
  emit "{\"scenario\":\"$SCENARIO\",\"contender\":\"$CONTENDER\",\"round\":$ROUND,\"phase\":\"upstream\",\"data\":${upstream:-null}}"
  memory_record
  stop_contender "$CONTENDER"
}

# tools_phase KIND MODE — one bench_loadgen run of a tools request (tools_scenario.sh), recorded
# as phase KIND/MODE: c1 (1 connection, closed loop), c1_onecpu (the same with the proxy on the
# load generator's core) or sat (TOOLS_CONNECTIONS connections, closed loop). Calls also read
# the CPU of the tool's endpoint (the mock), so the whole path's CPU is known.
tools_phase() {
  local kind=$1 mode=$2 connections=1 upstream=()
  [[ $mode == sat ]] && connections=$TOOLS_CONNECTIONS
  [[ $kind == call-* && $CONTENDER != direct ]] && upstream=(--watch-upstream-pid "$MOCK_PID_main")
  tools_request_args "$kind" "$TOOLS_SESSION"
  loadgen "$kind/$mode" "${TOOLS_ARGS_OUT[@]}" "${upstream[@]}" --connections "$connections" \
    --rate 0 --warmup "$WARMUP" --duration "$DURATION"
}

cell_tools() {
  start_contender "$CONTENDER" tools
  local kinds=(call-direct) kind mode
  TOOLS_SESSION=""
  if [[ $CONTENDER != direct ]]; then
    kinds=(list-mcp list-rest call-mcp call-rest)
    TOOLS_SESSION=$(tools_mcp_session "127.0.0.1:$TARGET_PORT" "$AUTH")
    [[ -n $TOOLS_SESSION ]] || die "$CONTENDER: MCP initialize gave no session"
    tools_probe "127.0.0.1:$TARGET_PORT" "$AUTH" "$TOOLS_SESSION" || die "$CONTENDER: tools probe failed"
  fi
  for kind in "${kinds[@]}"; do
    for mode in c1 c1_onecpu sat; do
      [[ $mode == c1_onecpu && $kind == list-* ]] && continue
      if [[ $mode == c1_onecpu ]]; then
        pin_watched "$LOAD_CPU"
        tools_phase "$kind" "$mode"
        [[ $CONTENDER == direct ]] || pin_watched "$PROXY_CPU"
      else
        tools_phase "$kind" "$mode"
      fi
    done
  done
  memory_record
  stop_contender "$CONTENDER"
}

# Rotates the contender list ($2) by the round number ($1), so no contender always goes first.
rotated() {
  local -a list=($2)
  local n=${#list[@]} i
  for ((i = 0; i < n; i++)); do printf '%s ' "${list[$(((i + $1) % n))]}"; done
}

machine_json() {
  local cpu kernel nginx_version sluice_version commit
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  kernel=$(uname -r)
  nginx_version=$("$NGINX" -v 2>&1 | sed 's#.*/##')
  sluice_version=$("$SLUICE" version 2>/dev/null | head -1)
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  printf '{"date":"%s","nproc":%s,"cpu_model":"%s","kernel":"%s","nginx":"%s","sluice":"%s","commit":"%s","loadavg_start":"%s","loadavg_end":"%s"}' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$cpu" "$kernel" "$nginx_version" \
    "$sluice_version" "$commit" "$LOADAVG_START" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

settings_json() {
  printf '{"rounds":%s,"stream_rounds":%s,"c1000_rounds":%s,"duration_s":%s,"warmup_s":%s,"rate":%s,"rate_connections":%s,"wrk_connections":%s,"stream_rate":%s,"stream_connections":%s,"stream_chunks":%s,"stream_chunk_delay_ms":%s,"c1000_connections":%s,"c1000_rate":%s,"c1000_delay_ms":%s,"c1000_chunks":%s,"c1000_chunk_delay_ms":%s,"c1000_duration_s":%s,"wrk_duration_s":%s,"proxy_cpu":%s,"load_cpu":%s,"priority":"%s","contenders":"%s","main_contenders":"%s","scenarios":"%s","tools_contenders":"%s","tools_rounds":%s,"tools_connections":%s,"tool_called":"%s","tools_allowed":%s}' \
    "$ROUNDS" "$STREAM_ROUNDS" "$C1000_ROUNDS" "$DURATION" "$WARMUP" "$RATE" "$RATE_CONNECTIONS" \
    "$WRK_CONNECTIONS" "$STREAM_RATE" "$STREAM_CONNECTIONS" "$STREAM_CHUNKS" \
    "$STREAM_CHUNK_DELAY_MS" "$C1000_CONNECTIONS" "$C1000_RATE" "$C1000_DELAY_MS" "$C1000_CHUNKS" \
    "$C1000_CHUNK_DELAY_MS" "$C1000_DURATION" "$WRK_DURATION" "$PROXY_CPU" "$LOAD_CPU" "$PRIORITY" "$CONTENDERS" "$CONTENDERS $MAIN_EXTRA_CONTENDERS" \
    "$SCENARIOS" "$TOOLS_CONTENDERS" "$TOOLS_ROUNDS" "$TOOLS_CONNECTIONS" "$TOOL_CALLED" "$TOOLS_ALLOWED"
}

main() {
  RUN_DIR=$(mktemp -d /tmp/sluice-bench.XXXXXX)
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  RAW=$RUN_DIR/raw.jsonl
  : >"$RAW"
  mkdir -p "$RESULTS"
  ensure_tools
  build
  (($(nproc) >= 2)) || log "warning: fewer than 2 CPUs; proxy and load generators share a core"
  ulimit -n 16384 2>/dev/null || log "warning: could not raise the open-file limit (c1000 needs ~3,000)"
  CLK_TCK=$(getconf CLK_TCK)
  ON_PROXY_CPU=(taskset -c "$PROXY_CPU")
  ON_LOAD_CPU=(taskset -c "$LOAD_CPU")
  if [[ $PRIORITY != normal && $(id -u) -ne 0 ]]; then
    log "not root: PRIORITY=$PRIORITY needs root; running at normal priority"
    PRIORITY=normal
  fi
  case $PRIORITY in
    rt) ON_PROXY_CPU=(chrt -r 10 "${ON_PROXY_CPU[@]}") ON_LOAD_CPU=(chrt -r 10 "${ON_LOAD_CPU[@]}") ;;
    nice) ON_PROXY_CPU=(nice -n -20 "${ON_PROXY_CPU[@]}") ON_LOAD_CPU=(nice -n -20 "${ON_LOAD_CPU[@]}") ;;
    normal) ;;
    *) die "PRIORITY must be rt, nice or normal" ;;
  esac
  local waited=0
  while ((waited < WAIT_QUIET)) && awk '{ exit !($1 >= 1.0) }' /proc/loadavg; do
    ((waited % 60 == 0)) && log "waiting for a quiet machine (load average $(cut -d' ' -f1 /proc/loadavg))"
    sleep 5
    waited=$((waited + 5))
  done
  LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
  if awk '{ exit !($1 > 1.0) }' /proc/loadavg; then
    log "warning: load average is $LOADAVG_START: something else is busy; results will be noisy"
  fi
  for p in $PORT_MOCK_MAIN $PORT_MOCK_STREAM $PORT_MOCK_C1000 $PORT_PROXY $PORT_ADMIN; do
    port_free "$p" || die "port $p is taken (set BASE_PORT)"
  done
  start_mocks
  start_redis
  MOCK_PID_tools=$MOCK_PID_main
  render_configs

  local started=$SECONDS
  local rounds=0 scenario n
  for scenario in $SCENARIOS; do
    case $scenario in
      main) n=$ROUNDS ;; stream) n=$STREAM_ROUNDS ;; c1000) n=$C1000_ROUNDS ;; tools) n=$TOOLS_ROUNDS ;;
      *) die "unknown scenario $scenario (main, stream, c1000, tools)" ;;
    esac
    ((n > rounds)) && rounds=$n
  done
  for ((ROUND = 1; ROUND <= rounds; ROUND++)); do
    for SCENARIO in $SCENARIOS; do
      case $SCENARIO in
        main) ((ROUND <= ROUNDS)) || continue ;;
        stream) ((ROUND <= STREAM_ROUNDS)) || continue ;;
        c1000) ((ROUND <= C1000_ROUNDS)) || continue ;;
        tools) ((ROUND <= TOOLS_ROUNDS)) || continue ;;
      esac
      local contenders=$CONTENDERS
      [[ $SCENARIO == main ]] && contenders="$CONTENDERS $MAIN_EXTRA_CONTENDERS"
      [[ $SCENARIO == tools ]] && contenders=$TOOLS_CONTENDERS
      for CONTENDER in $(rotated "$ROUND" "$contenders"); do
        log "round $ROUND/$rounds  $SCENARIO  $CONTENDER"
        "cell_$SCENARIO"
      done
    done
  done
  log "load phases took $((SECONDS - started)) s"

  local micro_json=$RUN_DIR/micro.json
  if ((MICRO)); then
    log "micro-benchmarks (bench_micro, CPU $PROXY_CPU)"
    "${ON_PROXY_CPU[@]}" "$MICROBIN" --benchmark_min_time=0.2 --benchmark_format=json \
      >"$micro_json" 2>"$RUN_DIR/micro.log" || { log "bench_micro failed"; echo '{}' >"$micro_json"; }
  else
    echo '{}' >"$micro_json"
  fi

  machine_json >"$RUN_DIR/machine.json"
  settings_json >"$RUN_DIR/settings.json"
  python3 "$BENCH/report.py" --raw "$RAW" --machine "$RUN_DIR/machine.json" \
    --settings "$RUN_DIR/settings.json" --micro "$micro_json" --out "$RESULTS/latest.json" \
    --plot-dir "$RUN_DIR" --png "$RESULTS/latency.png" --gnuplot-script "$BENCH/latency.gp"
  RUN_OK=1
}

main "$@"
