#!/usr/bin/env bash
# The gateway's HTTP layer against nginx and a bare libuv+llhttp loop, in one
# run, with the same wrk settings for all three:
#   - dtr serve with the testroutes plugin, GET /test/fixed (access log on,
#     written to a file);
#   - nginx-light, one worker, serving the same bytes from a file with the
#     same Content-Type (access log on, buffered, to a file);
#   - tests/bench/bare_loop.c, built here against /usr/share/llhttp.
# Prints requests/s of each and the ratios gateway/nginx and gateway/bare,
# and the server CPU time per request (steadier when the machine is shared).
#
# Usage: tests/bench/http_vs_nginx.sh [BUILD_DIR]   (default: build)
# Environment: WRK_ARGS (default "-t1 -c50 -d10s"), SERVER_CPU and WRK_CPU
# (taskset CPU lists; default 0 and 1 when there are two CPUs or more).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
dtr="$build/dtr"
plugins="$build/tests/plugins"
wrk_args=${WRK_ARGS:--t1 -c50 -d10s}

for tool in wrk nginx cc; do
    command -v "$tool" >/dev/null || { echo "http_vs_nginx: $tool is missing" >&2; exit 2; }
done
[ -x "$dtr" ] || { echo "http_vs_nginx: $dtr is missing (build the dtr target)" >&2; exit 2; }
[ -f "$plugins/testroutes.so" ] || { echo "http_vs_nginx: $plugins/testroutes.so is missing" >&2; exit 2; }

server_cpu=${SERVER_CPU:-}
wrk_cpu=${WRK_CPU:-}
if [ -z "$server_cpu" ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    server_cpu=0
    wrk_cpu=1
fi
pin() { # pin CPU-LIST COMMAND... (in a subshell: it becomes the command)
    local cpu=$1; shift
    if [ -n "$cpu" ]; then exec taskset -c "$cpu" "$@"; else exec "$@"; fi
}

tmp="$(mktemp -d /tmp/dtr-bench.XXXXXX)"
pids=()
cleanup() {
    for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # wait until 127.0.0.1:PORT answers
    for _ in $(seq 100); do
        if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "http_vs_nginx: nothing listens on port $1" >&2
    return 1
}

cpu_ticks() { # user+system clock ticks of a process (all its threads)
    sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# run_wrk URL PID -> "requests/s cpu-microseconds-per-request"; the CPU time
# the server spent per answer is steadier than requests/s on a busy machine.
run_wrk() {
    local out before after
    before=$(cpu_ticks "$2")
    out=$(pin "$wrk_cpu" wrk $wrk_args "$1")  # the $(...) subshell becomes wrk
    after=$(cpu_ticks "$2")
    echo "$out" >&2
    echo "$out" | awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" '
        /^Requests\/sec:/ {rps = $2}
        / requests in / {n = $1}
        END {printf "%s %.2f\n", rps, n ? t * 1e6 / hz / n : 0}'
}

body='{"status":"ok","service":"dtr","version":1}'

# --- the gateway ------------------------------------------------------------
mkdir -p "$tmp/data"
cat >"$tmp/dtr.json" <<EOF
{"listen": "127.0.0.1:0", "data_dir": "$tmp/data", "plugin_dir": "$plugins",
 "plugins": [{"name": "testroutes", "config": {}}],
 "limits": {"max_connections": 20000}}
EOF
pin "$server_cpu" "$dtr" serve --config "$tmp/dtr.json" --listen 127.0.0.1:0 \
    >"$tmp/dtr.out" 2>"$tmp/dtr.log" &
dtr_pid=$!
pids+=($dtr_pid)
for _ in $(seq 100); do
    grep -q "listening on" "$tmp/dtr.out" 2>/dev/null && break
    sleep 0.1
done
dtr_port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/dtr.out" | head -1)
[ -n "$dtr_port" ] || { echo "http_vs_nginx: dtr did not start:" >&2; cat "$tmp/dtr.log" >&2; exit 1; }
got=$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$dtr_port/test/fixed').read().decode())")
[ "$got" = "$body" ] || { echo "http_vs_nginx: unexpected body from dtr: $got" >&2; exit 1; }

# --- nginx -------------------------------------------------------------------
nginx_port=$(free_port)
mkdir -p "$tmp/www/test" "$tmp/nginx"
printf '%s' "$body" >"$tmp/www/test/fixed"
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
    access_log $tmp/nginx/access.log combined buffer=64k;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 60s;
    etag off;
    server {
        listen 127.0.0.1:$nginx_port;
        root $tmp/www;
    }
}
EOF
pin "$server_cpu" nginx -c "$tmp/nginx.conf" -e "$tmp/nginx/error.log" >/dev/null 2>&1 &
nginx_pid=$!
pids+=($nginx_pid)
wait_port "$nginx_port"

# --- the bare loop -------------------------------------------------------------
cc -O2 -I/usr/share/include/llhttp "$here/bare_loop.c" /usr/share/llhttp/llhttp.c \
    /usr/share/llhttp/api.c /usr/share/llhttp/http.c -luv -o "$tmp/bare_loop"
bare_port=$(free_port)
pin "$server_cpu" "$tmp/bare_loop" "$bare_port" >/dev/null 2>&1 &
bare_pid=$!
pids+=($bare_pid)
wait_port "$bare_port"

echo "== wrk $wrk_args (servers on CPU ${server_cpu:-any}, wrk on CPU ${wrk_cpu:-any})" >&2
echo "-- gateway (dtr + testroutes)" >&2
read -r gw gw_cpu < <(run_wrk "http://127.0.0.1:$dtr_port/test/fixed" "$dtr_pid")
echo "-- nginx (1 worker)" >&2
read -r ng ng_cpu < <(run_wrk "http://127.0.0.1:$nginx_port/test/fixed" "$nginx_pid")
echo "-- bare libuv+llhttp loop" >&2
read -r bare bare_cpu < <(run_wrk "http://127.0.0.1:$bare_port/test/fixed" "$bare_pid")

access_lines=$(grep -c '"source":"access"' "$tmp/dtr.log" || true)
printf '\n%-30s %12s %20s\n' "server" "requests/s" "server CPU us/request"
printf '%-30s %12s %20s\n' "gateway (dtr, /test/fixed)" "$gw" "$gw_cpu"
printf '%-30s %12s %20s\n' "nginx-light (1 worker)" "$ng" "$ng_cpu"
printf '%-30s %12s %20s\n' "bare libuv+llhttp loop" "$bare" "$bare_cpu"
awk -v gw="$gw" -v ng="$ng" -v bare="$bare" -v gc="$gw_cpu" -v nc="$ng_cpu" -v bc="$bare_cpu" 'BEGIN {
    printf "gateway/nginx  %.2f   (goal >= 1.0; by CPU per request %.2f)\n", gw / ng, nc / gc
    printf "gateway/bare   %.2f   (goal >= 0.8; by CPU per request %.2f)\n", gw / bare, bc / gc
}'
echo "gateway access log lines written: $access_lines"
