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
# sluice-anthropic is sluice-default with its models on a `type: anthropic` provider (the plugin
# libsluice_anthropic.so, in plugins/ next to the sluice binary): every answer is translated.
#   SECONDS_OF_LOAD=10 bench/profile.sh       # longer load (default 8 s; valgrind is ~50x slower)
#   STREAM=1 bench/profile.sh                 # SSE streams of STREAM_CHUNKS content events (default
#                                             # 20) + a usage event + [DONE], not JSON answers;
#                                             # writes results/profile-stream.txt
#   bench/profile.sh sluice-default sluice-anthropic
#                                             # translated vs passed through: JSON answers, streams
#                                             # of STREAM_CHUNKS and of STREAM_CHUNKS_LONG (default
#                                             # 2x) content events, per content event, the ratios;
#                                             # writes results/profile-translation.txt
#   SCENARIOS="json stream" PER_EVENT=1 bench/profile.sh ...   # choose the passes yourself
#   TOOLS=1 bench/profile.sh                  # tools: sluice-tools (the default chain, access log
#                                             # and ledger on, 1,000 http tools, 100 allowed to the
#                                             # agent) serving tools/list over /mcp, GET /v1/tools,
#                                             # tools/call and POST /v1/tools/{name} of an http tool
#                                             # on the mock; writes results/profile-tools.txt
#   BUILD_WITH=/path/to/wrapper bench/profile.sh   # build with `wrapper BUILD_DIR TARGET...`
#                                             # instead of cmake --build (a shared machine's lock)
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
TOOLS=${TOOLS:-0}
if [[ $TOOLS == 1 ]]; then
  CONTENDERS=${*:-sluice-tools}
else
  CONTENDERS=${*:-"nginx sluice-empty sluice-default"}
fi
TOP=${TOP:-25}
STREAM=${STREAM:-0}
STREAM_CHUNKS=${STREAM_CHUNKS:-20}
STREAM_CHUNKS_LONG=${STREAM_CHUNKS_LONG:-$((2 * STREAM_CHUNKS))}
TRANSLATED=0
[[ " $CONTENDERS " == *" sluice-anthropic "* ]] && TRANSLATED=1
# Passes: json (non-stream answers), stream (STREAM_CHUNKS content events) and, with PER_EVENT=1,
# stream-long (STREAM_CHUNKS_LONG): the difference of the two stream passes, divided by the
# difference in content events, is what one more content event costs, start-up and ending of
# the stream cancelled out.
# TOOLS=1: tools-list-mcp, tools-list-rest, tools-call-mcp, tools-call-rest (tools_scenario.sh).
if [[ -z ${SCENARIOS:-} ]]; then
  if [[ $TOOLS == 1 ]]; then
    SCENARIOS="tools-list-mcp tools-list-rest tools-call-mcp tools-call-rest"
  elif [[ $STREAM == 1 ]]; then
    SCENARIOS=stream
  elif ((TRANSLATED)); then
    SCENARIOS="json stream"
  else
    SCENARIOS=json
  fi
fi
PER_EVENT=${PER_EVENT:-$TRANSLATED}
PASSES=$SCENARIOS
[[ $PER_EVENT == 1 && " $SCENARIOS " == *" stream "* ]] && PASSES="$PASSES stream-long"
((STREAM_CHUNKS_LONG > STREAM_CHUNKS)) || { echo "STREAM_CHUNKS_LONG must exceed STREAM_CHUNKS" >&2; exit 2; }

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
targets=(sluice bench_mock_upstream bench_loadgen)
# The anthropic plugin, when this tree has it (else it must already be in $BUILD/plugins/).
((TRANSLATED)) && [[ -f $ROOT/plugins/anthropic/CMakeLists.txt ]] && targets+=(sluice_anthropic)
if [[ -n ${BUILD_WITH:-} ]]; then
  $BUILD_WITH "$BUILD" "${targets[@]}" >/dev/null
else
  cmake --build "$BUILD" "${targets[@]/#/--target=}" -j2 >/dev/null
fi
if ((TRANSLATED)) && [[ ! -f $BUILD/plugins/libsluice_anthropic.so ]]; then
  die "sluice-anthropic needs $BUILD/plugins/libsluice_anthropic.so (the anthropic plugin)"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

RUN_DIR=$(mktemp -d /tmp/sluice-profile.XXXXXX)
chmod 755 "$RUN_DIR"
# shellcheck source=../scripts/lib/processes.sh
source "$ROOT/scripts/lib/processes.sh"
trap stop_started_pids EXIT
# callgrind_annotate's function lines as "Ir<TAB>function". A plugin runs from a private copy
# ($TMPDIR/sluice-plugins.<pid>/<hash>.so), named alike in every run so that runs compare.
annotate_lines() {
  sed -n 's/^ *\([0-9,]*\) ([ 0-9.]*%)  \(.*\)$/\1\t\2/p' | tr -d ',' |
    sed -E 's#/[^] ]*/sluice-plugins\.[0-9]+/[^] ]+\.so#<plugin copy>#'
}
# Requests the mock of a pass answered so far.
mock_requests() {
  curl -s --max-time 5 "http://127.0.0.1:$1/__stats" | sed 's/.*"requests":\([0-9]*\).*/\1/'
}

PORT_MOCK=$((BASE_PORT + 1))       # json and stream passes: STREAM_CHUNKS content events
PORT_MOCK_LONG=$((BASE_PORT + 2))  # stream-long: STREAM_CHUNKS_LONG
PORT_PROXY=$((BASE_PORT + 10))
PORT_ADMIN=$((BASE_PORT + 11))
JSON_BODY='{"model":"fast","messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":16}'
# The client does not ask for include_usage, so sluice asks the provider for it and strips
# the usage-only chunk from what it forwards (the whole usage path of a stream). A translated
# stream gets its usage from Anthropic's message_start and message_delta, and no usage chunk
# goes to the client either.
STREAM_BODY='{"model":"fast","stream":true,"messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":16}'
# shellcheck source=bench/tools_scenario.sh
source "$BENCH/tools_scenario.sh"
if [[ -z ${SUMMARY_NAME:-} ]]; then
  SUMMARY_NAME=profile.txt
  [[ $SCENARIOS == tools-* ]] && SUMMARY_NAME=profile-tools.txt
  [[ $SCENARIOS == stream ]] && SUMMARY_NAME=profile-stream.txt
  ((TRANSLATED)) && SUMMARY_NAME=profile-translation.txt
fi

taskset -c 1 "$BUILD/bench/bench_mock_upstream" --listen "127.0.0.1:$PORT_MOCK" \
  --chunks "$STREAM_CHUNKS" 2>/dev/null &
STARTED_PIDS+=($!)
wait_port "$PORT_MOCK" 20 || die "mock did not start"
if [[ " $PASSES " == *" stream-long "* ]]; then
  taskset -c 1 "$BUILD/bench/bench_mock_upstream" --listen "127.0.0.1:$PORT_MOCK_LONG" \
    --chunks "$STREAM_CHUNKS_LONG" 2>/dev/null &
  STARTED_PIDS+=($!)
  wait_port "$PORT_MOCK_LONG" 20 || die "mock (long streams) did not start"
fi

# Configs: the same templates as run.sh (filters of conf/sluice.yaml for the default chain),
# one set per mock: $RUN_DIR/<contender>.yaml and long/<contender>.yaml.
awk -v confdir="$ROOT/conf" -f "$BENCH/default_filters.awk" "$ROOT/conf/sluice.yaml" \
  >"$RUN_DIR/default-filters.yaml"
render_configs() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  local subst=(-e "s/@LISTEN_PORT@/$PORT_PROXY/; s/@ADMIN_PORT@/$PORT_ADMIN/; s/@UPSTREAM_PORT@/$port/")
  sed "${subst[@]}" "$BENCH/configs/sluice-empty.yaml.in" >"$dir/sluice-empty.yaml"
  sed "${subst[@]}" -e "s#@ACCESS_LOG@#$RUN_DIR/access.log#" -e 's#@LEDGER@##' \
    -e "/^@FILTERS@\$/{r $RUN_DIR/default-filters.yaml" -e 'd}' \
    "$BENCH/configs/sluice-default.yaml.in" >"$dir/sluice-default.yaml"
  # Translated: the same chain, log and ledger, its provider `type: anthropic`.
  sed "${subst[@]}" -e "s#@ACCESS_LOG@#$RUN_DIR/access.log#" -e 's#@LEDGER@##' \
    -e "/^@FILTERS@\$/{r $RUN_DIR/default-filters.yaml" -e 'd}' \
    "$BENCH/configs/sluice-anthropic.yaml.in" >"$dir/sluice-anthropic.yaml"
  sed 's#^access_log: .*#access_log: {path: "", format: json}#' "$dir/sluice-default.yaml" \
    >"$dir/sluice-default-nolog.yaml"
  sed -e '/^ *- cost:/d' -e '/^ *budget:/d' "$dir/sluice-default.yaml" \
    >"$dir/sluice-default-nocost.yaml"
  sed "s#^state: .*#state: {ledger: \"$dir/ledger.db\"}#" "$dir/sluice-default.yaml" \
    >"$dir/sluice-default-ledger.yaml"
  # Lua: the default chain without its Lua filters, then with one no-op Lua filter, then with
  # keyword_guard (reads the body; words that never match) — each right after auth.
  sed '/^ *- lua:/d' "$dir/sluice-default.yaml" >"$dir/sluice-default-nolua.yaml"
  sed "s#^\( *- auth:.*\)\$#\1\n  - lua: {file: $BENCH/lua/noop.lua}#" "$dir/sluice-default-nolua.yaml" \
    >"$dir/sluice-default-lua-noop.yaml"
  sed "s#^\( *- auth:.*\)\$#\1\n  - lua: {file: $ROOT/plugins/lua/keyword_guard.lua, config: {words: [forbidden-alpha, forbidden-beta, forbidden-gamma]}}#" \
    "$dir/sluice-default-nolua.yaml" >"$dir/sluice-default-keyword-guard.yaml"
  # Tools: the default chain with the ledger on (as users run it) and 1,000 http tools on the
  # mock's /tools/, 100 allowed to the agent (tools_config.py).
  if [[ " $CONTENDERS " == *" sluice-tools "* ]]; then
    sed "s#^state: .*#state: {ledger: \"$dir/ledger-tools.db\"}#" "$dir/sluice-default.yaml" \
      >"$dir/sluice-default-ledger-on.yaml"
    tools_render "$dir/sluice-default-ledger-on.yaml" "$dir/sluice-tools.yaml" "http://127.0.0.1:$port"
  fi
}
render_configs "$RUN_DIR" "$PORT_MOCK"
render_configs "$RUN_DIR/long" "$PORT_MOCK_LONG"
# Tools: one request of each kind checked (the lists have the agent's 100 tools, the calls the
# tool's result) on sluice without valgrind, before anything is counted.
if [[ " $CONTENDERS " == *" sluice-tools "* && $PASSES == *tools-* ]]; then
  "$BUILD/sluice" -c "$RUN_DIR/sluice-tools.yaml" >"$RUN_DIR/tools-probe.log" 2>&1 &
  probe_pid=$!
  STARTED_PIDS+=("$probe_pid")
  wait_port "$PORT_PROXY" 20 || die "sluice-tools did not start (see $RUN_DIR/tools-probe.log)"
  session=$(tools_mcp_session "127.0.0.1:$PORT_PROXY" "Bearer sk-sluice-demo")
  [[ -n $session ]] || die "sluice-tools: MCP initialize gave no session"
  tools_probe "127.0.0.1:$PORT_PROXY" "Bearer sk-sluice-demo" "$session" || die "sluice-tools: tools probe failed"
  kill -TERM "$probe_pid"
  wait "$probe_pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT_PROXY") 2>/dev/null || break; sleep 0.05; done
fi
# One process (master_process off) so callgrind sees the worker's event loop in its own output.
for set in "$RUN_DIR:$PORT_MOCK" "$RUN_DIR/long:$PORT_MOCK_LONG"; do
  mkdir -p "${set%:*}/nginx"
  sed -e "s#@PREFIX@#${set%:*}/nginx#g; s/@LISTEN_PORT@/$PORT_PROXY/; s/@UPSTREAM_PORT@/${set#*:}/" \
    -e 's/^daemon off;/daemon off;\nmaster_process off;/' "$BENCH/nginx.conf.template" \
    >"${set%:*}/nginx/nginx.conf"
done

mkdir -p "$RESULTS"
SUMMARY=$RESULTS/$SUMMARY_NAME
{
  echo "bench/profile.sh — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "sluice $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown); closed loop, 4 connections, ${SECONDS_OF_LOAD} s under callgrind"
  [[ " $PASSES " == *" stream"* ]] && echo "streams: $STREAM_CHUNKS content events (stream-long: $STREAM_CHUNKS_LONG), then a usage event and [DONE] (OpenAI), or content_block_stop, message_delta, message_stop (Anthropic), per request"
  if [[ $PASSES == tools-* ]]; then
    echo "instructions per request = inclusive Ir of the event loop (less the MCP session's creation) / requests answered to the load generator"
  else
    echo "instructions per request = inclusive Ir of the event loop / requests the mock answered"
  fi
} >"$SUMMARY"

declare -A IR=()    # [pass/contender] = instructions per request
declare -A REQS=()  # [pass/contender] = requests the mock answered
for pass in $PASSES; do
  set_dir=$RUN_DIR mock_port=$PORT_MOCK body=$JSON_BODY label="" sse=() tools_kind=""
  case $pass in
    json) ;;
    tools-list-mcp | tools-list-rest | tools-call-mcp | tools-call-rest) tools_kind=${pass#tools-} ;;
    stream) body=$STREAM_BODY sse=(--sse) ;;
    stream-long) body=$STREAM_BODY sse=(--sse) set_dir=$RUN_DIR/long mock_port=$PORT_MOCK_LONG ;;
    *) die "unknown scenario $pass (json, stream, tools-list-mcp, tools-list-rest, tools-call-mcp, tools-call-rest)" ;;
  esac
  # Section titles name the pass when there is more than one.
  [[ $PASSES == *" "* ]] && label=" [$pass]"
  for contender in $CONTENDERS; do
    out=$RUN_DIR/callgrind.$pass.$contender
    # Only the event loop is counted (--toggle-collect): start-up, config loading and other
    # threads (the spend ledger's SQLite) are in no figure, not even in the self-cost lists.
    case $contender in
      nginx)
        loop_fn=ngx_process_events_and_timers
        valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no \
          --toggle-collect="$loop_fn" \
          "$NGINX" -p "$set_dir/nginx" -c "$set_dir/nginx/nginx.conf" -e "$set_dir/nginx/error.log" \
          >"$RUN_DIR/$pass.$contender.log" 2>&1 &
        ;;
      sluice-*)
        [[ -f $set_dir/$contender.yaml ]] || die "unknown contender $contender"
        loop_fn='sluice::server::Worker::run()'
        valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no \
          --toggle-collect="$loop_fn" \
          "$BUILD/sluice" -c "$set_dir/$contender.yaml" >"$RUN_DIR/$pass.$contender.log" 2>&1 &
        ;;
      *) die "unknown contender $contender (nginx, sluice-empty, sluice-default, sluice-tools, sluice-default-nolog, sluice-default-nocost, sluice-default-ledger, sluice-default-nolua, sluice-default-lua-noop, sluice-default-keyword-guard, sluice-anthropic)" ;;
    esac
    pid=$!
    STARTED_PIDS+=("$pid")
    wait_port "$PORT_PROXY" 20 || die "$contender did not start under valgrind (see $RUN_DIR/$pass.$contender.log)"
    request=(--body "$body" "${sse[@]}")
    if [[ -n $tools_kind ]]; then
      # MCP: in a session, as SDK clients are (the answers were checked before: tools_probe).
      session=""
      if [[ $tools_kind == *-mcp ]]; then
        session=$(tools_mcp_session "127.0.0.1:$PORT_PROXY" "Bearer sk-sluice-demo")
        [[ -n $session ]] || die "$contender: no MCP session (see $RUN_DIR/$pass.$contender.log)"
      fi
      tools_request_args "$tools_kind" "$session"
      request=("${TOOLS_ARGS_OUT[@]}")
    fi
    before=$(mock_requests "$mock_port")
    log "$contender$label: ${SECONDS_OF_LOAD} s of load under callgrind"
    timeout 120 taskset -c 1 "$BUILD/bench/bench_loadgen" --target "127.0.0.1:$PORT_PROXY" \
      --header "Authorization: Bearer sk-sluice-demo" "${request[@]}" --connections 4 \
      --rate 0 --warmup 1 --duration "$SECONDS_OF_LOAD" >"$RUN_DIR/$pass.$contender.loadgen.json"
    requests=$(($(mock_requests "$mock_port") - before))
    # A list never reaches the mock: count what the load generator got answered (all of it:
    # the warm-up is in the profile too).
    [[ -n $tools_kind ]] &&
      requests=$(sed -n 's/.*"responses_total":\([0-9]*\).*/\1/p' "$RUN_DIR/$pass.$contender.loadgen.json")
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    [[ -s $out ]] || die "no callgrind output for $contender"
    ((requests > 0)) || die "$contender answered no requests"
    # Failed answers cost less than good ones: a run with any is not a measurement.
    bad=$(sed -n 's/.*"non_2xx":\([0-9]*\).*/\1/p' "$RUN_DIR/$pass.$contender.loadgen.json")
    [[ ${bad:-1} == 0 ]] || die "$contender$label: ${bad:-?} answers were not 2xx (see $RUN_DIR/$pass.$contender.*)"
    bad=$(sed -n 's/.*"non_2xx_total":\([0-9]*\).*/\1/p' "$RUN_DIR/$pass.$contender.loadgen.json")
    [[ ${bad:-0} == 0 ]] || die "$contender$label: $bad answers were not 2xx (see $RUN_DIR/$pass.$contender.*)"
    callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null | annotate_lines \
      >"$RUN_DIR/$pass.$contender.incl"
    loop_ir=$(awk -F'\t' -v fn="$loop_fn" 'index($2, fn) { print $1; exit }' "$RUN_DIR/$pass.$contender.incl")
    [[ -n $loop_ir ]] || die "event loop function $loop_fn not found in the profile"
    # The MCP session's creation (initialize, before the load) is no part of a request: its
    # first id seeds OpenSSL's DRBG, ~3M instructions once per process.
    if [[ -n $tools_kind ]]; then
      create_ir=$(awk -F'\t' 'index($2, "sluice::mcp::McpSessionTable::create") { print $1; exit }' \
        "$RUN_DIR/$pass.$contender.incl")
      loop_ir=$((loop_ir - ${create_ir:-0}))
    fi
    IR[$pass/$contender]=$((loop_ir / requests))
    REQS[$pass/$contender]=$requests
    {
      echo
      events=""
      ((${#sse[@]})) && events=$(sed -n 's/.*"sse_events_per_response":\([0-9.]*\).*/\1/p' \
        "$RUN_DIR/$pass.$contender.loadgen.json" | awk '{ printf "%g", $1 }')
      printf '%s%s: %d requests, %d user-space instructions per request%s\n' "$contender" "$label" \
        "$requests" $((loop_ir / requests)) "${events:+ ($events SSE events per answer to the client)}"
      echo "  instr/req  function (inclusive; file names from the symbols)"
      awk -F'\t' -v n="$requests" -v loop="$loop_ir" -v top="$TOP" '
        $1 <= loop && $2 !~ /^\?\?\?:0x/ && $2 !~ /(below main)|start_thread|clone\.S|_M_run|uv_run|PROGRAM TOTALS/ {
          if (count++ < top) printf "  %9.0f  %s\n", $1 / n, substr($2, 1, 150)
        }' "$RUN_DIR/$pass.$contender.incl"
      echo "  instr/req  function (self cost: the instructions in the function itself)"
      callgrind_annotate --threshold=100 "$out" 2>/dev/null | annotate_lines |
        tee "$RUN_DIR/$pass.$contender.self" | awk -F'\t' -v n="$requests" -v top="$TOP" '$2 !~ /PROGRAM TOTALS|dl-lookup|dl-reloc|rtld/ {
          if (count++ < top) printf "  %9.0f  %s\n", $1 / n, substr($2, 1, 150) }'
    } >>"$SUMMARY"
  done
done

# Tools: instructions per request of each pass, side by side.
if [[ $PASSES == tools-* ]]; then
  {
    echo
    echo "summary: user-space instructions per request"
    for contender in $CONTENDERS; do
      for pass in $PASSES; do
        printf '  %-16s %-16s %10s  (%s requests)\n' "$contender" "$pass" "${IR[$pass/$contender]:--}" \
          "${REQS[$pass/$contender]:--}"
      done
    done
  } >>"$SUMMARY"
# The figures side by side: per request in each pass, per content event, and translated
# (sluice-anthropic) over passed through (sluice-default).
elif [[ $PASSES == *" "* ]]; then
  n_long=$((STREAM_CHUNKS_LONG - STREAM_CHUNKS))
  {
    echo
    echo "summary: user-space instructions per request"
    printf '  %-30s %10s %12s %12s %14s %14s\n' contender json "stream($STREAM_CHUNKS)" \
      "stream($STREAM_CHUNKS_LONG)" "per event (a)" "per event (b)"
    for contender in $CONTENDERS; do
      j=${IR[json/$contender]:-} st=${IR[stream/$contender]:-} sl=${IR[stream-long/$contender]:-}
      a="" b=""
      [[ -n $st && -n $sl ]] && a=$(((sl - st) / n_long))
      [[ -n $st && -n $j ]] && b=$(((st - j) / STREAM_CHUNKS))
      printf '  %-30s %10s %12s %12s %14s %14s\n' "$contender" "${j:--}" "${st:--}" "${sl:--}" \
        "${a:--}" "${b:--}"
    done
    echo "  per event (a) = (stream($STREAM_CHUNKS_LONG) - stream($STREAM_CHUNKS)) / $n_long: what one more content event costs"
    echo "  per event (b) = (stream($STREAM_CHUNKS) - json) / $STREAM_CHUNKS: also carries the stream's own start and end"
    # Where one more content event goes: each function's cost per request in the long streams
    # minus that in the short ones, over the extra events — inclusive (without the callers that
    # hold nearly all of it: the event loop, the read callbacks), then self.
    for contender in $CONTENDERS; do
      [[ -n ${IR[stream/$contender]:-} && -n ${IR[stream-long/$contender]:-} ]] || continue
      total=$(((${IR[stream-long/$contender]} - ${IR[stream/$contender]}) / n_long))
      for kind in incl self; do
        echo
        echo "$contender: instructions per extra content event, by function ($kind; of $total)"
        awk -F'\t' -v n1="${REQS[stream/$contender]}" -v n2="${REQS[stream-long/$contender]}" \
          -v k="$n_long" -v total="$total" -v kind="$kind" '
          FNR == 1 { file++ }
          file == 1 { short[$2] += $1 / n1; next }
          { long[$2] += $1 / n2 }
          END {
            for (f in long) {
              d = (long[f] - short[f]) / k
              if (d < 30 || f ~ /^\?\?\?:0x|PROGRAM TOTALS|clone\.S/) continue
              if (kind == "incl" && d > 0.9 * total) continue
              printf "  %9.0f  %s\n", d, substr(f, 1, 150)
            }
          }' "$RUN_DIR/stream.$contender.$kind" "$RUN_DIR/stream-long.$contender.$kind" |
          sort -k1,1nr | head -n "$TOP"
      done
    done
    t=sluice-anthropic p=sluice-default
    if [[ -n ${IR[json/$t]:-}${IR[stream/$t]:-} && " $CONTENDERS " == *" $p "* ]]; then
      echo
      echo "translated / passed through ($t / $p):"
      ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
      for pass in $PASSES; do
        [[ -n ${IR[$pass/$t]:-} && -n ${IR[$pass/$p]:-} ]] || continue
        printf '  %-12s %s (%d vs %d instructions per request)\n' "$pass" \
          "$(ratio "${IR[$pass/$t]}" "${IR[$pass/$p]}")" "${IR[$pass/$t]}" "${IR[$pass/$p]}"
      done
      if [[ -n ${IR[stream-long/$t]:-} && -n ${IR[stream-long/$p]:-} ]]; then
        at=$(((${IR[stream-long/$t]} - ${IR[stream/$t]}) / n_long))
        ap=$(((${IR[stream-long/$p]} - ${IR[stream/$p]}) / n_long))
        printf '  %-12s %s (%d vs %d instructions per content event)\n' "per event" \
          "$(ratio "$at" "$ap")" "$at" "$ap"
      fi
    fi
  } >>"$SUMMARY"
fi
cat "$SUMMARY"
log "wrote $SUMMARY (callgrind outputs in $RUN_DIR)"
