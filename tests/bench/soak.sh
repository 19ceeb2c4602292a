#!/usr/bin/env bash
# A soak, run by hand (never by ctest): mixed reads, writes, slow clients and
# webhook deliveries to a flaky receiver against build/dtr for a while
# (default one hour), with RSS, open descriptors, WAL size and p99 latency
# sampled every minute and printed as a table (tests/bench/soak.py).
#
#   tests/bench/soak.sh [SECONDS (3600)] [INTERVAL (60)]
#
# Builds first. Use build-asan with DTR_BUILD=build-asan (slower; leaks are
# reported by ASan at the end instead of showing as growth).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${DTR_BUILD:-build}
if [ "$build" = build-asan ]; then scripts/build --sanitize; else scripts/build; fi
export DTR_BIN=$PWD/$build/dtr DTR_PLUGIN_DIR=$PWD/$build/plugins DTR_SOURCE_DIR=$PWD
exec python3 tests/bench/soak.py "${1:-3600}" "${2:-60}"
