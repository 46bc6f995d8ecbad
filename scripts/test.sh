#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this):
#   1. scripts/setup.sh --tests: missing Debian packages, build/ (RelWithDebInfo), e2e npm packages;
#   2. ctest on build/: unit, integration and e2e (the official OpenAI SDK as a client);
#   3. a second build, build-asan/, of sluice with AddressSanitizer + UndefinedBehaviorSanitizer
#      (SLUICE_SANITIZE=ON): the integration tests of build/ run again against it. With
#      SLUICE_ASAN_UNIT=1 the unit tests are built and run under the sanitizers too. Skipped
#      with SLUICE_SKIP_ASAN=1.
# Ends with one line "N passed, N failed" summed over both runs; exits non-zero if any test
# failed or did not run.
#
# Usage: scripts/test.sh [extra ctest arguments, added to both runs, e.g. -E slow]
# Environment: SLUICE_SKIP_ASAN=1, SLUICE_ASAN_UNIT=1, SLUICE_JOBS (default: number of cores), SLUICE_BUILD_DIR.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs=${SLUICE_JOBS:-$(nproc)}
build_dir=${SLUICE_BUILD_DIR:-build}
asan_dir=build-asan
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-test.XXXXXX")
trap 'rm -rf "$log_dir"' EXIT

say() { printf 'test: %s\n' "$*" >&2; }
started=$SECONDS

scripts/setup.sh --tests

total_passed=0
total_failed=0

# run_ctest NAME BUILD_DIR [ctest args...]: runs ctest, adds its counts to the totals. ctest's
# summary is "NN% tests passed, F tests failed out of T"; a run without that line (a crash, no
# test found) counts as one failure so it can never look green.
run_ctest() {
  local name=$1 dir=$2
  shift 2
  local log="$log_dir/$name.log"
  say "ctest ($name) in $dir"
  set +e
  ctest --test-dir "$dir" --output-on-failure --no-tests=error --timeout 300 -j"$jobs" "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local summary
  summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
  if [ -z "$summary" ]; then
    say "ctest ($name) gave no summary (exit $rc): counted as 1 failure"
    total_failed=$((total_failed + 1))
    return
  fi
  local failed total
  failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")
  total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$summary")
  total_passed=$((total_passed + total - failed))
  total_failed=$((total_failed + failed))
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    say "ctest ($name) exited $rc with no failed test: counted as 1 failure"
    total_failed=$((total_failed + 1))
  fi
}

# ---- all tests on the normal build ---------------------------------------------------------------
run_ctest main "$build_dir" "$@"

# ---- unit + integration under ASan + UBSan -----------------------------------------------------
if [ "${SLUICE_SKIP_ASAN:-0}" != "1" ]; then
  say "building $asan_dir (ASan + UBSan, -j$jobs)"
  # Built for a short compile, asserts on: under ASan + UBSan instrumentation -O1 -g compiles
  # five times slower than -O0 -g1 (line tables: reports still name file and line), and the
  # integration tests, which mostly wait on timers, run about as fast against either.
  cmake -S . -B "$asan_dir" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g1 -O0" \
    -DCMAKE_CXX_FLAGS_DEBUG="-g1 -O0" -DSLUICE_SANITIZE=ON -DSLUICE_BUILD_BENCH=OFF \
    -DSLUICE_FUZZ=OFF
  # What the sanitizers watch is sluice itself: the sanitized binary is driven by the
  # integration tests of the main build (plain clients; SLUICE_TEST_SLUICE_BINARY points them
  # at it), which reach every part of the request path. The unit tests under the sanitizers too
  # (SLUICE_ASAN_UNIT=1) cost another few minutes of compiling on 2 cores, which CI's
  # 20-minute budget does not have room for, so they are opt-in.
  # The shipped plugins (anthropic, memory) are found next to the binary: built there too.
  asan_targets=(sluice sluice_anthropic sluice_memory)
  if [ "${SLUICE_ASAN_UNIT:-0}" = "1" ]; then
    asan_targets+=(unit_tests unit_anthropic_tests unit_memory_tests)
  fi
  cmake --build "$asan_dir" -j"$jobs" --target "${asan_targets[@]}"

  # LeakSanitizer stops the world with ptrace-like machinery that some sandboxes forbid; there it
  # aborts every process with "LeakSanitizer has encountered a fatal error". Probe once with a
  # leak-free program and turn leak detection off (saying so) only where it cannot work.
  detect_leaks=1
  probe="$log_dir/lsan_probe"
  if printf 'int main(void) { return 0; }\n' | cc -x c -fsanitize=address -o "$probe" - 2>/dev/null &&
    ! ASAN_OPTIONS=detect_leaks=1 "$probe" >/dev/null 2>&1; then
    say "LeakSanitizer does not work on this machine (ptrace restricted?): leak detection off"
    detect_leaks=0
  fi
  export ASAN_OPTIONS="detect_leaks=$detect_leaks"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  if [ "${SLUICE_ASAN_UNIT:-0}" = "1" ]; then
    run_ctest asan-unit "$asan_dir" -R '^unit\.' "$@"
  fi
  export SLUICE_TEST_SLUICE_BINARY="$PWD/$asan_dir/sluice"
  run_ctest asan-integration "$build_dir" -R '^integration\.' "$@"
  unset SLUICE_TEST_SLUICE_BINARY
fi

elapsed=$((SECONDS - started))
# CPU time of everything this script ran (builds and tests): compare it with the wall time to see
# how much a busy machine slowed the run.
cpu=$(times | tail -n 1)
say "done in $((elapsed / 60))m$((elapsed % 60))s wall; children's CPU user/sys: $cpu"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
