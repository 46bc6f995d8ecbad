#!/usr/bin/env bash
# bench/dashboard_refresh.sh — what the admin dashboard's refreshes cost sluice (issue 15):
#
#   bench/dashboard_refresh.sh                      # ~3.5 minutes
#   RATES="1" DURATION=20 bench/dashboard_refresh.sh  # quicker, rougher
#
# Starts sluice (SLUICE_BIN, default build-bench/sluice, else build/sluice) on ephemeral ports
# with 50 agents (limits and budgets) and 20 providers (the built-in mock type, one model
# each), the spend ledger on and an admin_token; sends ROWS (1,000) chat completions spread over
# every agent and model so /status and /usage have content; then, after IDLE seconds of nothing
# (the baseline: health, ledger and timer threads), fetches exactly what one dashboard refresh
# fetches (refresh() in core/admin/dashboard/dashboard.html: /status, /status?format=report,
# /usage?by=model|agent|tool&since=24h, all five at once, with the token) RATE times a second
# for DURATION seconds, for each rate in RATES (1 = `/?refresh=1000`; 10 is a stress figure,
# faster than the page's 200 ms floor allows). For each it reports, per refresh and net of
# the idle baseline: sluice's CPU from /proc/PID/stat (utime+stime, 10 ms ticks) and per
# thread from /proc/PID/task/*/schedstat (ns) — the main thread runs the admin server's event
# loop, the workers are the threads that did the warm-up's requests — and the bytes fetched;
# and the page's own size (GET /, fetched once per page load).
#
# The refreshing client is a small node script (CLIENT=node, the default): the five fetches
# at once, as the page's Promise.all, over keep-alive connections kept from one refresh to the
# next as a browser keeps them (header bytes are counted from the parsed headers). CLIENT=curl
# runs one `curl --parallel` per refresh instead: five new connections each time, so an accept
# and a close per fetch that the page does not cause (an upper bound). Needs curl, and node 18+
# for the default client. Every process started here is stopped here, by its pid; every wait
# is bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -n ${SLUICE_BIN:-} ]]; then SLUICE=$SLUICE_BIN
elif [[ -x $ROOT/build-bench/sluice ]]; then SLUICE=$ROOT/build-bench/sluice
else SLUICE=$ROOT/build/sluice; fi
AGENTS=${AGENTS:-50}
PROVIDERS=${PROVIDERS:-20}
WORKERS=${WORKERS:-2}
ROWS=${ROWS:-1000}
IDLE=${IDLE:-30}
DURATION=${DURATION:-60}
RATES=${RATES:-"1 10"}
TOKEN=adm-bench-dashboard

log() { printf '[dashboard %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
[[ -x $SLUICE ]] || die "no sluice at $SLUICE (set SLUICE_BIN)"
command -v curl >/dev/null || die "needs curl"

RUN_DIR=$(mktemp -d /tmp/sluice-dashboard-bench.XXXXXX)
SLUICE_PID=
cleanup() {
  if [[ -n $SLUICE_PID ]]; then
    kill -TERM "$SLUICE_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SLUICE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SLUICE_PID" 2>/dev/null || true
    wait "$SLUICE_PID" 2>/dev/null || true
  fi
  [[ ${RUN_OK:-0} == 1 ]] && rm -rf "$RUN_DIR" || log "logs kept in $RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the config ---------------------------------------------------------------------------
cfg=$RUN_DIR/sluice.yaml
{
  echo "# written by bench/dashboard_refresh.sh"
  echo "listen: 127.0.0.1:0"
  echo "admin: 127.0.0.1:0"
  echo "admin_token: $TOKEN"
  echo "workers: $WORKERS"
  echo "providers:"
  for p in $(seq -w 1 "$PROVIDERS"); do
    echo "  p$p: {type: mock, mock: {mode: canned, reply: \"provider $p answers with a short canned reply\"}}"
  done
  echo "models:"
  for p in $(seq -w 1 "$PROVIDERS"); do
    echo "  m$p: {targets: [{provider: p$p, model: mock-$((10#$p % 2 ? 1 : 2))}]}"
  done
  echo "agents:"
  for a in $(seq -w 1 "$AGENTS"); do
    hash=$(printf %s "sk-bench-agent-$a" | sha256sum | cut -d' ' -f1)
    echo "  agent$a:"
    echo "    keys: [\"sha256:$hash\"]"
    echo "    limits: {rpm: 6000, tpm: 10000000, concurrent: 16}"
    echo "    budget: {usd: $((10#$a * 10)), per: day}"
  done
  cat <<EOF
filters:
  - auth: {modes: [api_key]}
  - rate_limit: {}
  - model_alias: {}
  - cost: {prices: {mock-1: {input: 0.15, output: 0.60}, mock-2: {input: 2.50, output: 10.00}}}
  - circuit_breaker: {}
state: {ledger: $RUN_DIR/ledger.db, flush_interval: 50ms}
access_log: {path: ""}
EOF
} >"$cfg"

"$SLUICE" run -c "$cfg" >"$RUN_DIR/sluice.out" 2>"$RUN_DIR/sluice.err" &
SLUICE_PID=$!
PORT= ADMIN_PORT=
for _ in $(seq 150); do
  PORT=$(grep -oP '(?<!admin )listening on 127\.0\.0\.1:\K[1-9][0-9]*' "$RUN_DIR/sluice.err" | head -1 || true)
  ADMIN_PORT=$(grep -oP 'admin listening on 127\.0\.0\.1:\K[1-9][0-9]*' "$RUN_DIR/sluice.err" | head -1 || true)
  [[ -n $PORT && -n $ADMIN_PORT ]] && break
  kill -0 "$SLUICE_PID" 2>/dev/null || die "sluice exited: $(tail -5 "$RUN_DIR/sluice.err")"
  sleep 0.1
done
[[ -n $PORT && -n $ADMIN_PORT ]] || die "sluice not listening after 15 s"
ADMIN=http://127.0.0.1:$ADMIN_PORT
log "sluice $SLUICE pid $SLUICE_PID: api :$PORT, admin :$ADMIN_PORT; $AGENTS agents, $PROVIDERS providers, $WORKERS workers"

# --- the warm-up: ROWS chat completions, every agent and every model ----------------------------
# Thread CPU before and after: the threads that do this work are the workers (and the ledger's).
snap() { # tid utime stime ns-on-cpu, one line per thread of sluice
  local t
  for t in /proc/"$SLUICE_PID"/task/*; do
    read -r ns _ <"$t/schedstat" || continue
    awk -v tid="${t##*/}" -v ns="$ns" '{ sub(/^.*\) /, ""); print tid, $12, $13, ns }' "$t/stat"
  done
}
proc_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/"$SLUICE_PID"/stat; }

snap >"$RUN_DIR/warm0"
{
  for i in $(seq 0 $((ROWS - 1))); do
    a=$(printf %02d $((i % AGENTS + 1)))
    m=$(printf %02d $((i % PROVIDERS + 1)))
    echo "url = \"http://127.0.0.1:$PORT/v1/chat/completions\""
    echo "header = \"Authorization: Bearer sk-bench-agent-$a\""
    echo 'header = "Content-Type: application/json"'
    echo "data = \"{\\\"model\\\": \\\"m$m\\\", \\\"max_tokens\\\": 64, \\\"messages\\\": [{\\\"role\\\": \\\"user\\\", \\\"content\\\": \\\"request $i from agent $a\\\"}]}\""
    echo 'output = "/dev/null"'
    echo 'write-out = "%{http_code} %{errormsg}\n"'
    echo 'silent'
    ((i + 1 < ROWS)) && echo next
  done
} >"$RUN_DIR/warmup.curl"
curl -s --no-progress-meter --max-time 120 --parallel --parallel-max 16 -K "$RUN_DIR/warmup.curl" >"$RUN_DIR/warmup.codes" || true
ok=$(grep -c '^200 ' "$RUN_DIR/warmup.codes" || true)
((ok == ROWS)) || die "warm-up: $ok of $ROWS answered 200 ($(sort "$RUN_DIR/warmup.codes" | uniq -c | tr '\n' ' '))"
sleep 1 # the ledger writes every 50 ms
snap >"$RUN_DIR/warm1"

# Rows in the 24h window, as /usage sees them.
usage_total=$(curl -s --max-time 5 -H "Authorization: Bearer $TOKEN" "$ADMIN/usage?by=model&since=24h" |
  grep -oP '"total":\{[^}]*"requests":\K[0-9]+' || echo '?')
log "warm-up: $ok requests answered; /usage counts $usage_total requests in 24h"

# --- the page, once ----------------------------------------------------------------------
read -r page_code page_bytes < <(curl -s --max-time 5 -o "$RUN_DIR/page.html" -w '%{http_code} %{size_download}\n' "$ADMIN/")
[[ $page_code == 200 ]] || die "GET / answered $page_code"
page_gz=$(gzip -9c "$RUN_DIR/page.html" | wc -c)

# --- one refresh: what refresh() in dashboard.html fetches, all at once -------------------------
URLS=(/status '/status?format=report' '/usage?by=model&since=24h' '/usage?by=agent&since=24h'
      '/usage?by=tool&since=24h')
refresh() {
  local args=() u
  for u in "${URLS[@]}"; do args+=(-o /dev/null "$ADMIN$u"); done
  curl -s --no-progress-meter --max-time 5 --parallel --parallel-immediate -H "Authorization: Bearer $TOKEN" \
    -w '%{http_code} %{size_download} %{size_header}\n' "${args[@]}" >>"$RUN_DIR/refresh.out" || true
}
# CLIENT=node (the default when node is there): one process, keep-alive connections reused from
# refresh to refresh as the browser's are (fetch, five at once); CLIENT=curl: a new curl and five
# new connections per refresh (an upper bound: each connection's accept and close on top).
CLIENT=${CLIENT:-$(command -v node >/dev/null && echo node || echo curl)}
cat >"$RUN_DIR/refresh.mjs" <<'EOF'
// argv: admin-url token rate seconds url...; prints "status body-bytes header-bytes" per fetch.
const [admin, token, rate, seconds, ...urls] = process.argv.slice(2);
const headers = { authorization: `Bearer ${token}` };
const n = Number(rate) * Number(seconds), t0 = performance.now(), out = [];
async function one(u) {
  const res = await fetch(admin + u, { headers, signal: AbortSignal.timeout(5000) });
  const body = await res.arrayBuffer();
  let h = `HTTP/1.1 ${res.status} ${res.statusText}\r\n\r\n`.length;
  for (const [k, v] of res.headers) h += k.length + v.length + 4;
  return `${res.status} ${body.byteLength} ${h}`;
}
for (let i = 0; i < n; i++) {
  const wait = t0 + (i * 1000) / Number(rate) - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  out.push(...(await Promise.all(urls.map((u) => one(u).catch((e) => `000 0 0 ${e.message}`)))));
}
const rest = t0 + Number(seconds) * 1000 - performance.now();
if (rest > 0) await new Promise((r) => setTimeout(r, rest));
console.log(out.join('\n'));
EOF
refresh
read -r -a sizes < <(awk '{ printf "%s ", $2 } END { print "" }' "$RUN_DIR/refresh.out")
! grep -qv '^200 ' "$RUN_DIR/refresh.out" || die "a refresh endpoint did not answer 200: $(cat "$RUN_DIR/refresh.out")"
: >"$RUN_DIR/refresh.out"

# Runs `refresh` RATE times a second for SECONDS seconds (rate 0: nothing, the baseline), and
# snapshots sluice's threads around it into $RUN_DIR/<name>.0/.1 and its ticks into .ticks.
window() {
  local name=$1 rate=$2 seconds=$3 i n t0 due now
  : >"$RUN_DIR/refresh.out"
  snap >"$RUN_DIR/$name.0"
  local ticks0; ticks0=$(proc_ticks)
  t0=${EPOCHREALTIME/./}
  if ((rate == 0)); then
    sleep "$seconds"
  elif [[ $CLIENT == node ]]; then
    timeout $((seconds + 30)) node "$RUN_DIR/refresh.mjs" "$ADMIN" "$TOKEN" "$rate" "$seconds" "${URLS[@]}" >>"$RUN_DIR/refresh.out"
  else
    n=$((rate * seconds))
    for ((i = 0; i < n; i++)); do
      due=$((t0 + i * 1000000 / rate))
      now=${EPOCHREALTIME/./}
      ((due > now)) && sleep "$(printf '%d.%06d' $(((due - now) / 1000000)) $(((due - now) % 1000000)))"
      refresh
    done
    now=${EPOCHREALTIME/./}
    local end=$((t0 + seconds * 1000000))
    ((end > now)) && sleep "$(printf '%d.%06d' $(((end - now) / 1000000)) $(((end - now) % 1000000)))"
  fi
  echo $((${EPOCHREALTIME/./} - t0)) >"$RUN_DIR/$name.us"
  echo $(($(proc_ticks) - ticks0)) >"$RUN_DIR/$name.ticks"
  snap >"$RUN_DIR/$name.1"
}

# Where a refresh's CPU goes: each endpoint fetched EACH (50) times over one keep-alive
# connection (one curl, sequential), the main thread's CPU per fetch.
EACH=${EACH:-50}
: >"$RUN_DIR/endpoints"
for u in "${URLS[@]}"; do
  args=()
  for ((i = 0; i < EACH; i++)); do args+=(-o /dev/null "$ADMIN$u"); done
  read -r ns0 _ <"/proc/$SLUICE_PID/task/$SLUICE_PID/schedstat"
  curl -s --max-time 30 -H "Authorization: Bearer $TOKEN" -w '%{http_code}\n' "${args[@]}" >"$RUN_DIR/endpoint.codes" || true
  read -r ns1 _ <"/proc/$SLUICE_PID/task/$SLUICE_PID/schedstat"
  [[ $(grep -c '^200$' "$RUN_DIR/endpoint.codes") == "$EACH" ]] || die "$u: not $EACH answers 200"
  echo "$u $(((ns1 - ns0) / EACH / 1000))" >>"$RUN_DIR/endpoints"
done

log "baseline: ${IDLE} s without refreshes"
window idle 0 "$IDLE"
for rate in $RATES; do
  log "${rate} refresh(es)/s for ${DURATION} s"
  window "rate$rate" "$rate" "$DURATION"
  cp "$RUN_DIR/refresh.out" "$RUN_DIR/rate$rate.refresh"
done

# --- the report ---------------------------------------------------------------------------
HZ=$(getconf CLK_TCK)
echo
echo "dashboard refresh cost — $("$SLUICE" --version 2>/dev/null | head -1 || echo 'sluice ?') ($SLUICE, tree $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "client: $CLIENT; config: $AGENTS agents (limits + budgets), $PROVIDERS providers (type mock), $WORKERS workers, ledger on with $usage_total rows in 24h"
awk -v b="$page_bytes" -v gz="$page_gz" \
  'BEGIN { printf "page (GET /, once per page load): %d bytes (%.1f KiB; %d bytes gzipped, not sent so)\n", b, b / 1024, gz }'
printf 'one refresh fetches: /status %s, report %s, usage by model %s, agent %s, tool %s bytes (bodies)\n' \
  "${sizes[@]}"
echo "main thread CPU per fetch, each endpoint alone ($EACH fetches over one keep-alive connection):"
awk '{ printf "  %-28s %6d µs\n", $1, $2 }' "$RUN_DIR/endpoints"
awk -v hz="$HZ" -v idle_us="$(cat "$RUN_DIR/idle.us")" -v idle_ticks="$(cat "$RUN_DIR/idle.ticks")" \
    -v pid="$SLUICE_PID" -v rates="$RATES" -v dir="$RUN_DIR" '
  function load(file, arr,   line, f) {
    while ((getline line < file) > 0) { split(line, f, " "); arr[f[1]] = f[4]; tk[file, f[1]] = f[2] + f[3] }
    close(file)
  }
  BEGIN {
    load(dir "/warm0", w0); load(dir "/warm1", w1); load(dir "/idle.0", i0); load(dir "/idle.1", i1)
    # Label the threads: the main thread runs the admin loop; the WORKERS threads that did most
    # of the warm-up are workers; the rest (ledger writer, health) are "other".
    for (t in w1) { warm[t] = (w1[t] - w0[t]) / 1e6; order[t] = warm[t] }
    for (t in w1) {
      role[t] = (t == pid) ? "main (admin loop)" : "other"
    }
    nworkers = 0
    while (1) {
      best = ""; bv = -1
      for (t in order) if (t != pid && role[t] == "other" && order[t] > bv && !(t in isw)) { best = t; bv = order[t] }
      if (best == "" || nworkers >= '"$WORKERS"') break
      isw[best] = 1; role[best] = "worker"; nworkers++
    }
    itotal = 0; for (t in i1) if (t in i0) itotal += (i1[t] - i0[t]) / 1e6
    printf "idle baseline: %.2f ms of CPU per second (all threads, schedstat), %.1f ticks per second (stat)\n", \
      itotal / (idle_us / 1e6), idle_ticks / (idle_us / 1e6)
    n = split(rates, R, " ")
    for (k = 1; k <= n; k++) {
      r = R[k]; name = "rate" r
      delete a0; delete a1
      load(dir "/" name ".0", a0); load(dir "/" name ".1", a1)
      getline us < (dir "/" name ".us"); getline ticks < (dir "/" name ".ticks")
      refreshes = 0; bytes = 0; hbytes = 0; bad = 0
      while ((getline line < (dir "/" name ".refresh")) > 0) {
        split(line, f, " "); bytes += f[2]; hbytes += f[3]; if (f[1] != "200") bad++; reqs++
      }
      refreshes = reqs / 5; reqs = 0
      scale = us / idle_us
      printf "\n%d refresh(es)/s: %d refreshes in %.1f s, %d non-200 answers\n", r, refreshes, us / 1e6, bad
      printf "  bytes per refresh: %.0f (bodies) + %.0f (headers) = %.1f KiB\n", bytes / refreshes, hbytes / refreshes, (bytes + hbytes) / refreshes / 1024
      net_ticks = ticks - idle_ticks * scale
      printf "  process CPU (/proc/PID/stat utime+stime): %d ticks in the window, %.1f idle-baseline ticks: %.2f ms per refresh (%.2f%% of a core)\n", \
        ticks, idle_ticks * scale, net_ticks * 1000 / hz / refreshes, net_ticks * 100 / hz / (us / 1e6)
      total = 0
      printf "  %-8s %-18s %12s %14s %14s %16s\n", "tid", "thread", "warm-up ms", "window ms", "idle-adj ms", "µs per refresh"
      for (t in a1) {
        if (!(t in a0)) continue
        d = (a1[t] - a0[t]) / 1e6; base = ((t in i1) && (t in i0)) ? (i1[t] - i0[t]) / 1e6 * scale : 0
        net = d - base; total += net
        printf "  %-8s %-18s %12.1f %14.2f %14.2f %16.1f\n", t, role[t], warm[t], d, net, net * 1000 / refreshes
        if (role[t] == "worker") wsum += net; else if (t == pid) msum += net
      }
      printf "  all threads (schedstat): %.1f µs per refresh; main %.1f, workers %.1f\n", total * 1000 / refreshes, msum * 1000 / refreshes, wsum * 1000 / refreshes
      wsum = 0; msum = 0
    }
  }'
RUN_OK=1
