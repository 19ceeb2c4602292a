#!/usr/bin/env bash
# A read/write mix against the gateway: 95% GET /v1/anvisningsenheder/{nummer}
# of random numbers of the register's sample, 5% PATCH of a random number's
# telefonNummer by a support client (each PATCH is a committed, fsync'ed
# change: the writer's group commit carries them). Prints throughput and
# latency p50/p99 of the whole mix.
#
# Usage: tests/bench/rest_mix.sh [BUILD_DIR]   (default: build)
# Environment: WRK_ARGS (default "-t1 -c50 -d10s"), WRITE_PERCENT (default 5),
# REST_CONFIG (the rest plugin's config, default {}),
# SERVER_CPU and WRK_CPU (taskset CPU lists), SAMPLE.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
dtr="$build/dtr"
wrk_args=${WRK_ARGS:--t1 -c50 -d10s}
sample=${SAMPLE:-$root/../shared/data/dtr-sample}
percent=${WRITE_PERCENT:-5}

source "$here/rest_bench_lib.sh"

start_dtr
load_sample
seq_before=$(curl -sS "http://127.0.0.1:$dtr_port/v1/haendelser/seneste" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sekvensnummer"])')

write_mix_lua "$tmp/mix.lua" "$percent"
echo "== wrk $wrk_args, $((100 - percent))% GET / $percent% PATCH over $(wc -l <"$tmp/sample/numbers.txt") numbers" >&2
run_wrk "$tmp/mix.lua" "http://127.0.0.1:$dtr_port" "$dtr_pid" >"$tmp/mix.txt"
seq_after=$(curl -sS "http://127.0.0.1:$dtr_port/v1/haendelser/seneste" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sekvensnummer"])')

printf '\n%-34s %12s %10s %10s %14s\n' "mix" "requests/s" "p50" "p99" "CPU/request"
printf '%-34s %12s %10s %10s %14s\n' "$((100 - percent))% GET / $percent% PATCH" $(cat "$tmp/mix.txt")
echo "committed changes during the run: $((seq_after - seq_before))"
