#!/usr/bin/env bash
# A bounded soak of sluice on loopback (docs/operations.md, "Soak test"):
#   1. builds sluice, sluice_mock_provider and bench_loadgen in build/ (scripts/setup.sh);
#   2. starts two mock providers (a, b) and sluice (1 worker) on a generated config: the default
#      chain of conf/sluice.yaml, access log and spend ledger to files, one model (a then b);
#   3. measures capacity (closed loop, 32 connections, 5 s), then for MINUTES windows of 60 s
#      sends plain chat completions at half that rate (open loop) that must all succeed, while
#      soak_faults.py sends a few fault requests per second (reset, 5xx, 429, hang, cut, client
#      aborts, cut streams) that may fail but must end within their bound, the config is
#      reloaded every 10 s and sluice's RSS is sampled every 5 s;
#   4. stops sluice with SIGTERM and prints a report.
# Exits non-zero when a target is missed: a failed must-succeed request, a fault request that
# did not end within its bound, a crash or a non-zero exit after the drain, RSS beyond ±10% of
# its value after the first window, or ledger rows != requests counted by sluice.
#
# Usage: scripts/soak.sh [MINUTES]   (default 30; one 60 s window per minute, the first = warm-up)
# Environment: SLUICE_BUILD_DIR (default build), SOAK_SKIP_BUILD=1 (use what build/ has),
#   SOAK_KEEP=1 (keep the run directory; it is always kept when a target is missed),
#   SOAK_RATE=N (requests/s of the load instead of half the capacity; e.g. when the disk is small:
#   every request costs ~650 bytes of access log and ledger, checked before the load starts).
# On a shared machine run it under the build lock: flock /tmp/sluice-build.lock scripts/soak.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

minutes=${1:-30}
if ! [[ $minutes =~ ^[1-9][0-9]*$ ]]; then
  sed -n '16,21s/^# \{0,1\}//p' "$0" >&2
  exit 2
fi

WINDOW_S=60
CAPACITY_S=5
FAULT_RATE=4        # fault requests per second
RELOAD_EVERY_S=10
RSS_EVERY_S=5
RSS_TOLERANCE_PCT=10
KEY=sk-soak-agent
MODEL=fast
BODY='{"model":"fast","messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":16}'

say() { printf '[soak %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# ---- 1. build -------------------------------------------------------------------------------
build_dir=${SLUICE_BUILD_DIR:-build}
if [[ ${SOAK_SKIP_BUILD:-0} != 1 ]]; then
  say "building sluice, sluice_mock_provider, bench_loadgen in $build_dir"
  scripts/setup.sh --target sluice --target sluice_mock_provider --target bench_loadgen >&2
fi
SLUICE=$ROOT/$build_dir/sluice
MOCK=$ROOT/$build_dir/tests/sluice_mock_provider
LOADGEN=$ROOT/$build_dir/bench/bench_loadgen
for bin in "$SLUICE" "$MOCK" "$LOADGEN"; do
  [[ -x $bin ]] || die "missing $bin (build it, or unset SOAK_SKIP_BUILD)"
done
command -v python3 >/dev/null || die "python3 is needed (fault driver, report)"
command -v curl >/dev/null || die "curl is needed (reloads, metrics)"

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-soak.XXXXXX")
say "run directory $RUN_DIR"

# ---- processes: each tracked by pid, stopped by pid -----------------------------------------
# shellcheck source=lib/processes.sh
source "$ROOT/scripts/lib/processes.sh"
SLUICE_PID=
RUN_OK=0

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  stop_started_pids
  if [[ $RUN_OK == 1 && ${SOAK_KEEP:-0} != 1 ]]; then
    rm -rf "$RUN_DIR"
  else
    say "logs kept in $RUN_DIR"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port: bound to port 0 by the kernel, then released. sluice gets two of these
# (its config names fixed ports); the mocks bind port 0 themselves.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_mock NAME: starts a mock provider on an ephemeral port; sets MOCK_PORT.
start_mock() {
  local name=$1 out=$RUN_DIR/mock-$1.out i
  "$MOCK" --port 0 >"$out" 2>"$RUN_DIR/mock-$name.err" &
  STARTED_PIDS+=($!)
  for ((i = 0; i < 400; i++)); do
    MOCK_PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out")
    [[ -n $MOCK_PORT ]] && return 0
    sleep 0.025
  done
  die "mock provider $name did not start (see $RUN_DIR/mock-$name.err)"
}

# ---- 2. mocks, config, sluice ---------------------------------------------------------------
start_mock a
PORT_A=$MOCK_PORT
start_mock b
PORT_B=$MOCK_PORT
PORT_PROXY=$(free_port)
PORT_ADMIN=$(free_port)
[[ $PORT_PROXY != "$PORT_ADMIN" ]] || PORT_ADMIN=$(free_port)
ADMIN=http://127.0.0.1:$PORT_ADMIN

# The default chain, verbatim from conf/sluice.yaml (its Lua policy's relative file: made
# absolute, since this config lives in the run directory): the same awk bench/run.sh uses.
filters=$(awk -v confdir="$ROOT/conf" -f bench/default_filters.awk conf/sluice.yaml)
[[ -n $filters ]] || die "no filters: block found in conf/sluice.yaml"

CONFIG=$RUN_DIR/sluice.yaml
# write_config N: the config, with N (the reload counter) in its last line, so every reload
# reads bytes that differ from the last ones (a real change, not a re-read).
write_config() {
  cat >"$CONFIG.tmp" <<EOF
# scripts/soak.sh: the users' shape on loopback. The default chain of conf/sluice.yaml, two
# providers (the test mock, which fails on command per request via x-mock-behavior), one
# model trying a then b, an agent whose limits and budget are never reached.
listen: 127.0.0.1:$PORT_PROXY
admin: 127.0.0.1:$PORT_ADMIN
workers: 1

providers:
  a: {type: openai, base_url: "http://127.0.0.1:$PORT_A/v1"}
  b: {type: openai, base_url: "http://127.0.0.1:$PORT_B/v1"}

models:
  $MODEL:
    strategy: priority
    targets:
      - {provider: a, model: mock-fast}
      - {provider: b, model: mock-fast}

agents:
  soak:
    keys: ["$KEY"]
    models: [$MODEL]
    limits: {rpm: 1000000000, tpm: 1000000000000, concurrent: 100000}
    budget: {usd: 1000000000, per: day}

$filters

access_log: {path: "$RUN_DIR/access.log", format: json}
state: {ledger: "$RUN_DIR/ledger.db"}
# reload $1
EOF
  # Renamed into place: the file watch never reads a half-written file.
  mv "$CONFIG.tmp" "$CONFIG"
}
write_config 0

"$SLUICE" -c "$CONFIG" >"$RUN_DIR/sluice.out" 2>"$RUN_DIR/sluice.err" &
SLUICE_PID=$!
STARTED_PIDS+=("$SLUICE_PID")
if ! wait_port "$PORT_PROXY" 10 || ! wait_port "$PORT_ADMIN" 10; then
  die "sluice did not start (see $RUN_DIR/sluice.err)"
fi
say "sluice pid $SLUICE_PID on :$PORT_PROXY (admin :$PORT_ADMIN), mocks a :$PORT_A b :$PORT_B"

# A request that must succeed before any load: the config and chain work end to end.
curl -sf -o /dev/null --max-time 10 "http://127.0.0.1:$PORT_PROXY/v1/chat/completions" \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$BODY" ||
  die "a first chat completion through sluice failed (see $RUN_DIR/sluice.err)"

loadgen() {
  "$LOADGEN" --target "127.0.0.1:$PORT_PROXY" --path /v1/chat/completions --body "$BODY" \
    --header "Authorization: Bearer $KEY" "$@"
}

# ---- 3. capacity, then the soak -------------------------------------------------------------
say "measuring capacity (closed loop, 32 connections, ${CAPACITY_S} s)"
loadgen --connections 32 --rate 0 --warmup 1 --duration "$CAPACITY_S" --label capacity \
  >"$RUN_DIR/capacity.json"
capacity=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["rps"]))' \
  "$RUN_DIR/capacity.json")
rate=${SOAK_RATE:-$((capacity / 2))}
((rate > 0)) || die "capacity measured as $capacity requests/s (see $RUN_DIR/capacity.json)"
say "capacity $capacity requests/s; soak at $rate requests/s for $minutes window(s) of ${WINDOW_S} s"

total_s=$((minutes * WINDOW_S))
# Every request is an access log line (~450 bytes) and a ledger row (~175 bytes): at tens of
# thousands of requests a second that is gigabytes per 10 minutes, so check the disk first.
need_mib=$((rate * total_s * 650 / 1048576 + 64))
avail_mib=$(df -Pm "$RUN_DIR" | awk 'NR == 2 { print $4 }')
say "access log + ledger will take about $need_mib MiB in $RUN_DIR ($avail_mib MiB free)"
((need_mib < avail_mib * 8 / 10)) ||
  die "not enough disk: set TMPDIR to a larger file system, or SOAK_RATE to a lower rate"

# RSS sampler: "seconds,window,rss_kib" every RSS_EVERY_S; the window is read from a file the
# main loop updates, so each sample knows which window it fell in.
echo 1 >"$RUN_DIR/window"
echo "t_s,window,rss_kib" >"$RUN_DIR/rss.csv"
(
  # The sleep is waited for in the background so a TERM to this loop also ends it at once.
  nap=
  trap '[[ -z $nap ]] || kill "$nap" 2>/dev/null; exit 0' TERM
  t0=$SECONDS
  while kill -0 "$SLUICE_PID" 2>/dev/null; do
    rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$SLUICE_PID/status" 2>/dev/null) || break
    echo "$((SECONDS - t0)),$(cat "$RUN_DIR/window"),$rss" >>"$RUN_DIR/rss.csv"
    sleep "$RSS_EVERY_S" &
    nap=$!
    wait "$nap"
  done
) &
RSS_PID=$!
STARTED_PIDS+=("$RSS_PID")

# Reloader: every RELOAD_EVERY_S, a new counter in the file and POST /reload, whose answer says
# whether the reload was accepted. (The file watch also sees the change; a reload of bytes
# already tried is skipped, see docs/operations.md.)
(
  nap=
  trap '[[ -z $nap ]] || kill "$nap" 2>/dev/null; exit 0' TERM
  n=0
  while true; do
    sleep "$RELOAD_EVERY_S" &
    nap=$!
    wait "$nap"
    n=$((n + 1))
    write_config "$n"
    code=$(curl -s -o "$RUN_DIR/reload.last" -w '%{http_code}' --max-time 10 -X POST "$ADMIN/reload") || code=000
    echo "$n $code $(tr -d '\n' <"$RUN_DIR/reload.last" 2>/dev/null)" >>"$RUN_DIR/reloads.log"
  done
) &
RELOAD_PID=$!
STARTED_PIDS+=("$RELOAD_PID")

python3 scripts/soak_faults.py --target "127.0.0.1:$PORT_PROXY" --key "$KEY" --model "$MODEL" \
  --seconds "$total_s" --rate "$FAULT_RATE" --out "$RUN_DIR/faults.json" \
  2>"$RUN_DIR/faults.err" &
FAULTS_PID=$!
STARTED_PIDS+=("$FAULTS_PID")

for ((w = 1; w <= minutes; w++)); do
  echo "$w" >"$RUN_DIR/window"
  kill -0 "$SLUICE_PID" 2>/dev/null || { say "sluice is gone in window $w"; break; }
  loadgen --connections 32 --rate "$rate" --warmup 0 --duration "$WINDOW_S" --drain 10 \
    --label "window-$w" >"$RUN_DIR/window-$w.json" || true
  say "window $w/$minutes: $(tr -d '\n' <"$RUN_DIR/window-$w.json" | head -c 240)"
done

# The fault driver stops on its own after total_s (plus its bound for the last requests).
wait "$FAULTS_PID" || say "fault driver exited with $? (see $RUN_DIR/faults.err)"
forget_pid "$FAULTS_PID"
kill -TERM "$RELOAD_PID" 2>/dev/null || true
wait "$RELOAD_PID" 2>/dev/null || true
forget_pid "$RELOAD_PID"

# ---- 4. stop sluice, report -------------------------------------------------------------------
alive_at_end=0
kill -0 "$SLUICE_PID" 2>/dev/null && alive_at_end=1
if ((alive_at_end)); then
  # Requests the chain counted: read when nothing is in flight any more (a client-aborted
  # request finishes when sluice has let go of its upstream attempt).
  for ((i = 0; i < 100; i++)); do
    curl -s --max-time 5 "$ADMIN/metrics" >"$RUN_DIR/metrics.txt" || true
    awk '$1 == "sluice_active_requests" && $2 + 0 == 0 { found = 1 } END { exit !found }' \
      "$RUN_DIR/metrics.txt" && break
    sleep 0.1
  done
  curl -s --max-time 5 "$ADMIN/status" >"$RUN_DIR/status.json" || true
fi
kill -TERM "$SLUICE_PID" 2>/dev/null || true
exit_status=
for ((i = 0; i < 700; i++)); do   # 35 s: drain_timeout (30 s) and a margin
  kill -0 "$SLUICE_PID" 2>/dev/null || break
  sleep 0.05
done
if kill -0 "$SLUICE_PID" 2>/dev/null; then
  say "sluice still running 35 s after SIGTERM: SIGKILL"
  kill -KILL "$SLUICE_PID" 2>/dev/null || true
fi
set +e
wait "$SLUICE_PID"
exit_status=$?
set -e
forget_pid "$SLUICE_PID"
kill -TERM "$RSS_PID" 2>/dev/null || true
wait "$RSS_PID" 2>/dev/null || true
forget_pid "$RSS_PID"

set +e
python3 - "$RUN_DIR" "$minutes" "$capacity" "$rate" "$alive_at_end" "$exit_status" \
  "$RSS_TOLERANCE_PCT" <<'PY'
import csv, glob, json, os, sqlite3, sys

run_dir, minutes, capacity, rate, alive, exit_status, tol = sys.argv[1:8]
minutes, alive, exit_status, tol = int(minutes), int(alive), int(exit_status), float(tol)
missed = []

print(f"\n=== sluice soak: {minutes} window(s) of 60 s, capacity {capacity} req/s, load {rate} req/s ===")
print("\nmust-succeed load (non-stream chat completions, open loop):")
print(f"  {'window':>6} {'sent':>9} {'ok':>9} {'failed':>7} {'p50 ms':>8} {'p99 ms':>8}")
failed_total = sent_total = 0
for w in range(1, minutes + 1):
    path = os.path.join(run_dir, f"window-{w}.json")
    try:
        r = json.load(open(path))
    except (OSError, ValueError):
        print(f"  {w:>6} (no result)")
        missed.append(f"window {w} has no load result")
        continue
    if "error" in r:
        print(f"  {w:>6} error: {r['error']}")
        missed.append(f"window {w}: {r['error']}")
        continue
    e = r["errors"]
    failed = e["connect"] + e["lost"] + e["non_2xx"] + e["short_stream"] + e["incomplete"]
    ok = r["recorded"]
    failed_total += failed
    sent_total += ok + failed
    lat = r["latency_us"]
    print(f"  {w:>6} {ok + failed:>9} {ok:>9} {failed:>7} {lat['p50'] / 1000:>8.2f} {lat['p99'] / 1000:>8.2f}")
print(f"  failed requests that should have succeeded: {failed_total} of {sent_total}")
if failed_total:
    missed.append(f"{failed_total} must-succeed requests failed")

print("\nfault requests (x-mock-behavior; may fail, must end within their bound):")
try:
    faults = json.load(open(os.path.join(run_dir, "faults.json")))
except (OSError, ValueError):
    faults = None
    missed.append("the fault driver wrote no result")
    print("  (no result: see faults.err)")
if faults:
    for kind, r in faults.items():
        ended = sum(r["ended"].values())
        unended = r["sent"] - ended
        how = ", ".join(f"{k} {v}" for k, v in sorted(r["ended"].items()))
        print(f"  {kind:<20} sent {r['sent']:>5}  longest {r['max_s']:.2f} s  ended: {how}"
              + (f", NOT ENDED {unended}" if unended else ""))
        over = r["ended"].get("OVER_BOUND", 0) + unended
        if over:
            missed.append(f"{over} '{kind}' fault requests did not end within their bound")

done = failed_reloads = 0
try:
    for line in open(os.path.join(run_dir, "reloads.log")):
        parts = line.split(" ", 2)
        if parts[1] == "200" and '"ok":true' in parts[2].replace(" ", ""):
            done += 1
        else:
            failed_reloads += 1
except OSError:
    pass
print(f"\nreloads (every 10 s, POST /reload after a change): {done} done, {failed_reloads} failed")
if failed_reloads:
    missed.append(f"{failed_reloads} reloads failed")

rows = list(csv.DictReader(open(os.path.join(run_dir, "rss.csv"))))
print("\nRSS of sluice (VmRSS every 5 s, rss.csv):")
warm = [int(r["rss_kib"]) for r in rows if r["window"] == "1" and r["rss_kib"]]
after = [int(r["rss_kib"]) for r in rows if r["window"] != "1" and r["rss_kib"]]
if warm and after:
    base = warm[-1]
    lo, hi = min(after), max(after)
    pct = lambda v: (v - base) * 100.0 / base
    print(f"  after warm-up (end of window 1): {base / 1024:.1f} MiB")
    print(f"  afterwards: min {lo / 1024:.1f} MiB ({pct(lo):+.1f}%), max {hi / 1024:.1f} MiB ({pct(hi):+.1f}%)")
    if abs(pct(lo)) > tol or abs(pct(hi)) > tol:
        missed.append(f"RSS moved beyond ±{tol:.0f}% of its post-warm-up value")
elif warm:
    print(f"  end of window 1: {warm[-1] / 1024:.1f} MiB (one window only: nothing to compare)")
else:
    print("  no samples")
    missed.append("no RSS samples")

print("\ncrashes:")
print(f"  sluice alive at the end: {'yes' if alive else 'NO'}; exit status after SIGTERM: {exit_status}")
if not alive:
    missed.append("sluice died during the soak")
if exit_status != 0:
    missed.append(f"sluice exited {exit_status} after SIGTERM (0 expected after the drain)")

print("\nspend ledger vs requests that reached the chain:")
requests = None
try:
    requests = 0
    for line in open(os.path.join(run_dir, "metrics.txt")):
        if line.startswith("sluice_requests_total{") or line.startswith("sluice_requests_total "):
            requests += int(float(line.rsplit(" ", 1)[1]))
except OSError:
    requests = None
ledger = None
try:
    db = sqlite3.connect(f"file:{os.path.join(run_dir, 'ledger.db')}?mode=ro", uri=True)
    ledger = db.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
except Exception as ex:  # report, do not crash the report
    print(f"  cannot read the ledger: {ex}")
print(f"  ledger rows: {ledger}; sum of sluice_requests_total at the end: {requests}")
if ledger is not None and ledger == requests:
    print("  equal: every request that reached the chain (faults, client aborts and the capacity")
    print("  run included) has its row")
elif ledger is not None and requests is not None:
    # Why they can differ: rows the writer dropped or failed to write (counted by sluice), or
    # requests still in flight when /metrics was read (they get a row when they finish).
    writer = {}
    try:
        for line in open(os.path.join(run_dir, "metrics.txt")):
            if line.startswith("sluice_ledger_rows_total{"):
                result = line.split('result="', 1)[1].split('"', 1)[0]
                writer[result] = int(float(line.rsplit(" ", 1)[1]))
            elif line.startswith("sluice_active_requests "):
                writer["in flight at the read"] = int(float(line.rsplit(" ", 1)[1]))
    except (OSError, IndexError, ValueError):
        pass
    print(f"  DIFFERENT by {ledger - requests:+d}; sluice's own counts: "
          + (", ".join(f"{k} {v}" for k, v in writer.items()) or "none"))
if ledger is None or requests is None or ledger != requests:
    missed.append(f"ledger rows ({ledger}) != requests counted ({requests})")

print("\nresult: " + ("PASS" if not missed else "FAIL"))
for m in missed:
    print(f"  missed: {m}")
sys.exit(1 if missed else 0)
PY
report_status=$?
set -e
((report_status == 0)) && RUN_OK=1
exit "$report_status"
