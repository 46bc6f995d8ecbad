#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz (DESIGN §13) for a while, one after the other:
#   1. configures and builds build-fuzz/ with clang (-DSLUICE_FUZZ=ON: libFuzzer + ASan + UBSan);
#   2. for each target with a corpus in tests/fuzz/corpus/<name>: copies that corpus into a
#      temporary working corpus (the checked-in one is never written), runs fuzz_<name> on it
#      with its dictionary for the given time, crash/timeout/oom artifacts into the results dir;
#   3. prints per target: seconds fuzzed, executions (libFuzzer's final
#      stat::number_of_executed_units), working corpus size, and any artifact.
# Exits non-zero if any target crashed (or left an artifact). A crash input worth keeping goes
# into tests/fuzz/corpus/<name>/ as a regression input once the bug is fixed; ctest replays it.
#
# Usage: scripts/fuzz.sh [minutes per target, default 10; fractions allowed, e.g. 0.5]
# Environment:
#   SLUICE_FUZZ_SECONDS   seconds per target (overrides the minutes argument)
#   SLUICE_FUZZ_TARGETS   space-separated subset, e.g. "config_loader request_body"
#   SLUICE_FUZZ_RESULTS   results dir (default: build-fuzz/fuzz-results/<UTC time>)
#   SLUICE_FUZZ_KEEP=1    keep the working corpora (their paths are printed)
#   SLUICE_BUILD_LOCK     a lock file every build and fuzz run takes with flock, so a shared
#                         machine runs one CPU-heavy job at a time (default
#                         /tmp/sluice-build.lock; empty: no lock)
#   SLUICE_JOBS           build parallelism (default: number of cores)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

minutes=${1:-10}
if [[ -n ${SLUICE_FUZZ_SECONDS:-} ]]; then
  seconds=$SLUICE_FUZZ_SECONDS
else
  seconds=$(awk -v m="$minutes" 'BEGIN { s = int(m * 60 + 0.5); print (s > 0 ? s : 0) }')
fi
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds == 0)); then
  echo "fuzz.sh: need a positive time (got minutes='$minutes' seconds='$seconds')" >&2
  exit 2
fi
build_dir=build-fuzz
jobs=${SLUICE_JOBS:-$(nproc)}
lock_file=${SLUICE_BUILD_LOCK-/tmp/sluice-build.lock}
results=${SLUICE_FUZZ_RESULTS:-$build_dir/fuzz-results/$(date -u +%Y%m%dT%H%M%SZ)}

locked() {
  if [[ -n $lock_file ]] && command -v flock > /dev/null; then
    flock "$lock_file" "$@"
  else
    "$@"
  fi
}

if [[ -n ${SLUICE_FUZZ_TARGETS:-} ]]; then
  read -r -a targets <<< "$SLUICE_FUZZ_TARGETS"
else
  targets=()
  for dir in tests/fuzz/corpus/*/; do targets+=("$(basename "$dir")"); done
fi
for t in "${targets[@]}"; do
  if [[ ! -d tests/fuzz/corpus/$t ]]; then
    echo "fuzz.sh: no target '$t' (no tests/fuzz/corpus/$t)" >&2
    exit 2
  fi
done

# ---- build ------------------------------------------------------------------------------------
if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSLUICE_FUZZ=ON -DSLUICE_BUILD_BENCH=OFF > /dev/null
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "fuzz_$t"); done
locked cmake --build "$build_dir" -j "$jobs" "${build_targets[@]}"

# ---- run --------------------------------------------------------------------------------------
# Inputs longer than max_len are never generated; the SSE scanner needs room for several events.
max_len_of() {
  case $1 in
    sse_usage_scanner) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

mkdir -p "$results"
work_root=$(mktemp -d "${TMPDIR:-/tmp}/sluice-fuzz.XXXXXX")
if [[ -z ${SLUICE_FUZZ_KEEP:-} ]]; then trap 'rm -rf "$work_root"' EXIT; fi

summary=()
failed=0
for t in "${targets[@]}"; do
  binary=$build_dir/tests/fuzz/fuzz_$t
  corpus=$work_root/$t
  mkdir -p "$corpus" "$results/$t"
  cp -R "tests/fuzz/corpus/$t/." "$corpus/"
  args=(-max_total_time="$seconds" -print_final_stats=1 -max_len="$(max_len_of "$t")"
        -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$results/$t/")
  [[ -f tests/fuzz/$t.dict ]] && args+=(-dict="tests/fuzz/$t.dict")
  log=$results/$t/fuzz.log
  echo "== $t: ${seconds}s, log $log"
  start=$(date +%s)
  status=0
  locked "$binary" "${args[@]}" "$corpus" > "$log" 2>&1 || status=$?
  wall=$(($(date +%s) - start))  # includes waiting for the lock
  elapsed=$(awk '/^Done [0-9]+ runs in [0-9]+ second/ { s = $5 } END { print s }' "$log")
  elapsed=${elapsed:-$wall}
  execs=$(awk '/stat::number_of_executed_units:/ { n = $2 } END { print n ? n : "?" }' "$log")
  files=$(find "$corpus" -type f | wc -l)
  bytes=$(du -sk "$corpus" | cut -f1)
  artifacts=$(find "$results/$t" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | sort | tr '\n' ' ')
  line=$(printf '%-36s %6ss %12s execs %6s files %6s KiB' "$t" "$elapsed" "$execs" "$files" "$bytes")
  ((wall > elapsed + 5)) && line+="  (${wall}s with the lock wait)"
  if ((status != 0)) || [[ -n $artifacts ]]; then
    failed=1
    line+="  FAILED (exit $status) ${artifacts:-see $log}"
  fi
  summary+=("$line")
  [[ -n ${SLUICE_FUZZ_KEEP:-} ]] && echo "   working corpus kept: $corpus"
done

echo
echo "fuzz results ($results):"
printf '  %s\n' "${summary[@]}"
exit $failed
