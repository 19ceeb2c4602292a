#!/usr/bin/env bash
# GET /v1/anvisningsenheder/{nummer} over random numbers of the register's
# sample, the gateway (dtr + the rest plugin, reading the store) against
# nginx-light (one worker) serving the same JSON bytes from files, in one
# run with the same wrk settings and the same Lua script picking a random
# number for every request.
#
# The sample is loaded through the API (tests/bench/rest_load_sample.py), so
# the register issues the numbers; the nginx files are the gateway's own GET
# answers, byte for byte.
#
# Prints requests/s and latency percentiles of both, and the ratio
# (goal: gateway/nginx >= 1.0 with p99 <= 5 ms at 50 connections).
#
# Usage: tests/bench/rest_get_vs_nginx.sh [BUILD_DIR]   (default: build)
# Environment: WRK_ARGS (default "-t1 -c50 -d10s"), REST_CONFIG (the rest
# plugin's config, default {}; '{"cache_bytes": 0}' turns its cache off), SERVER_CPU and WRK_CPU
# (taskset CPU lists; default 0 and 1 when there are two CPUs or more),
# SAMPLE (default ../shared/data/dtr-sample).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
dtr="$build/dtr"
wrk_args=${WRK_ARGS:--t1 -c50 -d10s}
sample=${SAMPLE:-$root/../shared/data/dtr-sample}

source "$here/rest_bench_lib.sh"

start_dtr
load_sample --www

nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
$( [ "$(id -u)" = 0 ] && echo "user root;" )
events { worker_connections 20000; }
http {
    types { }
    default_type application/json;
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
    open_file_cache max=20000 inactive=60s;
    server {
        listen 127.0.0.1:$nginx_port;
        root $tmp/sample/www;
    }
}
EOF
spawn "$server_cpu" nginx -c "$tmp/nginx.conf" -e "$tmp/nginx/error.log"
nginx_pid=${pids[-1]}
wait_port "$nginx_port"

# the same bytes from both
n=$(head -1 "$tmp/sample/numbers.txt")
a=$(curl -sS "http://127.0.0.1:$dtr_port/v1/anvisningsenheder/$n")
b=$(curl -sS "http://127.0.0.1:$nginx_port/v1/anvisningsenheder/$n")
[ "$a" = "$b" ] || { echo "rest_get_vs_nginx: the answers differ:\n$a\n$b" >&2; exit 1; }

write_get_lua "$tmp/get.lua"
echo "== wrk $wrk_args, $(wc -l <"$tmp/sample/numbers.txt") numbers (servers on CPU ${server_cpu:-any}, wrk on CPU ${wrk_cpu:-any})" >&2
echo "-- gateway (dtr + rest)" >&2
run_wrk "$tmp/get.lua" "http://127.0.0.1:$dtr_port" "$dtr_pid" >"$tmp/gw.txt"
echo "-- nginx (1 worker)" >&2
run_wrk "$tmp/get.lua" "http://127.0.0.1:$nginx_port" "$nginx_pid" >"$tmp/ng.txt"

printf '\n%-28s %12s %10s %10s %14s\n' "server" "requests/s" "p50" "p99" "CPU/request"
printf '%-28s %12s %10s %10s %14s\n' "gateway (dtr + rest)" $(cat "$tmp/gw.txt")
printf '%-28s %12s %10s %10s %14s\n' "nginx-light (1 worker)" $(cat "$tmp/ng.txt")
awk -v gw="$(cut -d' ' -f1 "$tmp/gw.txt")" -v ng="$(cut -d' ' -f1 "$tmp/ng.txt")" \
    'BEGIN { printf "gateway/nginx  %.2f   (goal >= 1.0, p99 <= 5 ms)\n", gw / ng }'
