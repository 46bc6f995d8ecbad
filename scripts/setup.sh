#!/usr/bin/env bash
# Set-up shared by scripts/run.sh and scripts/test.sh (and usable alone). Idempotent:
#   1. installs the Debian packages sluice needs that are missing (apt-get, as root or via sudo;
#      nothing is installed, and no root is needed, when everything is already there);
#   2. configures and builds sluice into build/ (RelWithDebInfo);
#   3. with --tests: installs the npm packages of the end-to-end tests (tests/e2e, `npm ci`),
#      and chromium and redis-server (step 1) for the dashboard's browser test and the Redis
#      client's integration tests.
#
# Usage: scripts/setup.sh [--tests] [--no-build] [--target NAME]  (NAME: build only that target)
# Environment: SLUICE_BUILD_DIR (default build), SLUICE_JOBS (default: number of cores).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

want_tests=0
want_build=1
targets=()
while [ $# -gt 0 ]; do
  arg=$1
  shift
  case "$arg" in
    --tests) want_tests=1 ;;
    --no-build) want_build=0 ;;
    --target)
      [ $# -gt 0 ] || { echo "setup.sh: --target needs a name" >&2; exit 2; }
      targets+=(--target "$1")
      shift
      ;;
    -h | --help)
      sed -n '2,10s/^# \{0,1\}//p' "$0"
      exit 0
      ;;
    *)
      echo "setup.sh: unknown argument '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done

say() { printf 'setup: %s\n' "$*" >&2; }

# ---- 1. Debian packages (DESIGN §12) ------------------------------------------------------
packages=(
  build-essential cmake pkg-config
  libuv1-dev node-llhttp libluajit2-5.1-dev libssl-dev libyaml-cpp-dev prometheus-cpp-dev
  libsimdjson-dev libsqlite3-dev libhiredis-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  ca-certificates curl
)
# The dashboard's browser test (tests/e2e/dashboard.browser.mjs) drives Debian's chromium.
if [ "$want_tests" -eq 1 ]; then packages+=(chromium); fi
# The Redis client's integration tests (tests/support/redis_server.h) start a real redis-server.
if [ "$want_tests" -eq 1 ]; then packages+=(redis-server); fi

is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${packages[@]}"; do
  is_installed "$p" || missing+=("$p")
done
# Node.js and npm may come from elsewhere than Debian (e.g. a nodesource build whose npm is
# bundled with nodejs and not a dpkg package); Debian's npm would conflict with such a nodejs,
# so each is installed only when its command is absent.
command -v node >/dev/null 2>&1 || is_installed nodejs || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    cat >&2 <<EOF
setup: these Debian packages are missing and installing them needs root:
  ${missing[*]}
Run this script as root, or install sudo, or install them yourself:
  apt-get update && apt-get install -y ${missing[*]}
EOF
    exit 1
  fi
  say "installing missing Debian packages: ${missing[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# ---- 2. build -------------------------------------------------------------------------------
build_dir=${SLUICE_BUILD_DIR:-build}
jobs=${SLUICE_JOBS:-$(nproc)}
if [ "$want_build" -eq 1 ]; then
  say "building sluice in $build_dir (-j$jobs)"
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build "$build_dir" -j"$jobs" "${targets[@]}"
fi

# ---- 3. npm packages of the end-to-end tests --------------------------------------------------
if [ "$want_tests" -eq 1 ] && [ -f tests/e2e/package.json ]; then
  # npm keeps a copy of the lock it installed from in node_modules/.package-lock.json; when that
  # is newer than both manifests the install is current and `npm ci` (which starts over) is skipped.
  installed_lock=tests/e2e/node_modules/.package-lock.json
  if [ -f "$installed_lock" ] && [ "$installed_lock" -nt tests/e2e/package.json ] &&
    { [ ! -f tests/e2e/package-lock.json ] || [ "$installed_lock" -nt tests/e2e/package-lock.json ]; }; then
    say "tests/e2e npm packages are up to date"
  elif [ -f tests/e2e/package-lock.json ]; then
    say "installing tests/e2e npm packages (npm ci)"
    (cd tests/e2e && npm ci --no-audit --no-fund)
  else
    say "installing tests/e2e npm packages (npm install)"
    (cd tests/e2e && npm install --no-audit --no-fund)
  fi
fi
