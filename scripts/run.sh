#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs sluice in the foreground on
# conf/sluice.yaml (which works offline through the built-in `mock` provider).
# Run as root, or as a user with sudo (used only for apt-get, only if packages are missing).
#
# Usage: scripts/run.sh [extra sluice arguments]
# Environment: SLUICE_CONFIG (default conf/sluice.yaml), plus those of scripts/setup.sh.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Only the binary: the tests and benchmarks are built by scripts/test.sh when wanted.
scripts/setup.sh --target sluice
exec "${SLUICE_BUILD_DIR:-build}/sluice" run -c "${SLUICE_CONFIG:-conf/sluice.yaml}" "$@"
