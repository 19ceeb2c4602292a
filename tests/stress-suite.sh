#!/usr/bin/env bash
# The whole suite, normal and sanitizer builds, several times in a row while
# stress-ng keeps the CPUs busy beside it: a test that synchronises by
# sleeping, or whose deadline is a hope, fails here.
#
#   tests/stress-suite.sh [ROUNDS] [CTEST ARGS...]   (default 5 rounds)
#
# STRESS_CPUS sets stress-ng's --cpu (default 4); JOBS ctest's -j (default 2).
# Builds first (scripts/build --sanitize). Prints one line per round and
# build, then a summary; exits non-zero when any round failed. The output of
# a failed round is kept in build/stress-suite/.
set -uo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
shift || true
cpus=${STRESS_CPUS:-4}
jobs=${JOBS:-2}
command -v stress-ng >/dev/null || { echo "stress-suite: stress-ng is not installed (scripts/deps)" >&2; exit 1; }
scripts/build --sanitize || exit 1
logs=build/stress-suite
mkdir -p "$logs"
stress-ng --cpu "$cpus" --timeout 0 --quiet &
stress=$!
trap 'kill "$stress" 2>/dev/null; wait "$stress" 2>/dev/null' EXIT
failed=0
for round in $(seq 1 "$rounds"); do
  for dir in build build-asan; do
    start=$(date +%s)
    log="$logs/round$round-$dir.log"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@" >"$log" 2>&1
    status=$?
    secs=$(( $(date +%s) - start ))
    summary=$(grep -E 'tests passed' "$log" | tail -1)
    if [ $status -eq 0 ]; then
      echo "round $round $dir: PASS (${secs}s) $summary"
      rm -f "$log"
    else
      failed=$((failed + 1))
      echo "round $round $dir: FAIL (${secs}s) $summary; log: $log"
      grep -E '^\s*[0-9]+ - ' "$log" | sed 's/^/    /'
    fi
  done
done
echo "stress-suite: $rounds rounds x 2 builds beside stress-ng --cpu $cpus: $failed failed"
[ $failed -eq 0 ]
