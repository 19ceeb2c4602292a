#!/usr/bin/env bash
# The consumer plugins' long lists over HTTP, on a generated register: the
# server's memory while it answers
#   GET /v1/unilogin/institutioner                  (JSON)
#   GET /v1/statistik/enheder?dato=D                (JSON, and CSV with Accept: text/csv)
#   GET /v1/statistik/optaelling?dato=D             (a small answer; the count's memory)
# each fetched twice with curl at full speed from a freshly started server,
# then the unilogin list once more by a slow client (curl --limit-rate),
# again from a fresh server. For every fetch it prints the
# wall time, the answer's size, and the server's peak RSS growth during the
# request: /proc/PID/clear_refs is written with 5 before the request, which
# resets VmHWM to the current RSS, and VmHWM after the request minus VmRSS
# before it is the growth. (When clear_refs cannot be written it samples
# VmRSS every 10 ms instead and says so.)
#
# Nothing is asserted: it prints figures. Run it against two builds to
# compare them (e.g. the previous commit built from `git archive` into a
# directory of its own).
#
# Usage: tests/bench/consumer_streams.sh [BUILD_DIR] [UNITS]   (default: build 200000)
# Environment: WORK (default: a fresh directory under /tmp, removed at the end
# unless KEEP=1; a WORK that already holds gen-data/ is served as it is, so
# one register can be measured by several builds), SEED (default 1), RATE
# (the slow client's curl --limit-rate, default 20M), DATO (default
# 2025-10-01).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
units=${2:-200000}
seed=${SEED:-1}
rate=${RATE:-8M}
dato=${DATO:-2025-10-01}
dtr="$build/dtr"
for f in "$dtr" "$build/plugins/csv.so" "$build/plugins/unilogin.so" "$build/plugins/statistik.so"; do
    [ -e "$f" ] || { echo "consumer_streams: $f is missing (build it first)" >&2; exit 2; }
done
command -v curl >/dev/null || { echo "consumer_streams: curl is missing" >&2; exit 2; }

work=${WORK:-$(mktemp -d /tmp/dtr-stream-bench.XXXXXX)}
mkdir -p "$work"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    [ "${KEEP:-0}" = 1 ] || [ -n "${WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

config="$work/dtr.json"
cat >"$config" <<EOF
{"listen": "127.0.0.1:0", "public_read": true, "plugin_dir": "$build/plugins",
 "plugins": [{"name": "csv", "config": {}}, {"name": "unilogin", "config": {}},
             {"name": "statistik", "config": {}}]}
EOF

echo "consumer_streams: $dtr, $(nproc) CPUs, work in $work"
if [ ! -d "$work/gen-data" ]; then
    t0=$(date +%s%N)
    "$dtr" generate --units "$units" --seed "$seed" --config "$config" "$work/gen" >/dev/null
    "$dtr" import --config "$config" --data "$work/gen-data" "$work/gen" >"$work/import.log" 2>&1 || {
        echo "consumer_streams: import failed:" >&2; tail -5 "$work/import.log" >&2; exit 1; }
    printf 'register: %s units generated and imported in %.1f s\n' "$units" \
        "$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {print (b - a) / 1e9}')"
else
    echo "register: the one already in $work/gen-data"
fi

# Starts a fresh server on the register (every figure is taken in a process
# of its own, so that memory one request kept does not hide the next's).
serve() {
    : >"$work/serve.out"
    "$dtr" serve --config "$config" --data "$work/gen-data" >"$work/serve.out" 2>>"$work/serve.log" &
    pid=$!
    for _ in $(seq 300); do
        grep -q "listening on" "$work/serve.out" 2>/dev/null && break
        sleep 0.1
    done
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.out" | head -1)
    [ -n "$port" ] || { echo "consumer_streams: dtr did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
    base="http://127.0.0.1:$port"
}

stop() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
}

kib() { awk '/^'"$1"':/ {print $2}' "/proc/$pid/status"; }

# fetch LABEL CURL-ARGS... URL: one request, one line of figures.
fetch() {
    local label=$1; shift
    local before peak sampler="" how="VmHWM"
    before=$(kib VmRSS)
    if ! { echo 5 >"/proc/$pid/clear_refs"; } 2>/dev/null; then
        how="sampled"
        echo "$before" >"$work/peak"
        (peak=$before; while kill -0 "$pid" 2>/dev/null; do
             r=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
             if [ "${r:-0}" -gt "$peak" ]; then peak=$r; echo "$peak" >"$work/peak"; fi
             sleep 0.01
         done) &
        sampler=$!
    fi
    local out code size secs
    out=$(curl -sS -o "$work/body" -w '%{http_code} %{size_download} %{time_total}' "$@")
    if [ -n "$sampler" ]; then
        sleep 0.05
        kill "$sampler" 2>/dev/null || true
        wait "$sampler" 2>/dev/null || true
        peak=$(cat "$work/peak")
    else
        peak=$(kib VmHWM)
    fi
    read -r code size secs <<<"$out"
    printf '%-34s %s %7.1f MiB %7.2f s  peak RSS growth %7.1f MiB (%s; RSS before %.1f MiB)\n' \
        "$label" "$code" "$(awk -v b="$size" 'BEGIN {print b / 1048576}')" "$secs" \
        "$(awk -v p="$peak" -v b="$before" 'BEGIN {print (p - b) / 1024}')" "$how" \
        "$(awk -v b="$before" 'BEGIN {print b / 1024}')"
}

# measure LABEL PATH [CURL-ARGS...]: a fresh server, the request twice, then
# the server's RSS.
measure() {
    local label=$1 path=$2; shift 2
    serve
    fetch "$label #1" "$@" "$base$path"
    fetch "$label #2" "$@" "$base$path"
    printf '%-34s server RSS after both: %.1f MiB\n' "" "$(awk -v k="$(kib VmRSS)" 'BEGIN {print k / 1024}')"
    stop
}

measure "unilogin/institutioner" /v1/unilogin/institutioner
measure "statistik/enheder JSON" "/v1/statistik/enheder?dato=$dato"
measure "statistik/enheder CSV" "/v1/statistik/enheder?dato=$dato" -H 'Accept: text/csv'
measure "statistik/optaelling" "/v1/statistik/optaelling?dato=$dato"
serve
fetch "unilogin/institutioner slow $rate/s" --limit-rate "$rate" "$base/v1/unilogin/institutioner"
stop
