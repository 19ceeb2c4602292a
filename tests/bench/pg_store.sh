#!/usr/bin/env bash
# The store on PostgreSQL against SQLite, over HTTP (issue 15's benchmark):
#   1. durable creates/s at 64 submitters (wrk -c64, each request a POST of
#      a new daginstitution by one of 64 support clients):
#        one instance on SQLite, one on PostgreSQL, two on PostgreSQL behind
#        nginx (upstream, round robin, keepalive);
#   2. GET /v1/daginstitutioner/{nummer} of the numbers just created, on
#      SQLite and on PostgreSQL, with the rest plugin's answer cache
#      (default) and without it (cache_bytes 0).
# PostgreSQL is a throwaway cluster (scripts/pg-cluster --durable: fsync on,
# as in production) on this machine, so it shares the CPUs with dtr and wrk.
# Prints one table; ratios against one instance on SQLite.
#
# Usage: tests/bench/pg_store.sh [BUILD_DIR]   (default: build)
# Environment: DURATION (seconds per run, default 10).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
dtr="$build/dtr"
duration=${DURATION:-10}
for tool in wrk nginx curl python3 psql; do
    command -v "$tool" >/dev/null || { echo "pg_store: $tool is missing" >&2; exit 2; }
done
[ -x "$dtr" ] || { echo "pg_store: $dtr is missing (build the dtr target)" >&2; exit 2; }

tmp="$(mktemp -d /tmp/dtr-pg-bench.XXXXXX)"
pids=()
cleanup() {
    for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
    "$root/scripts/pg-cluster" stop "$tmp/pg" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

chmod 755 "$tmp" # the cluster runs as the postgres user when this runs as root
admin=$("$root/scripts/pg-cluster" start "$tmp/pg" --durable)

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# config NAME STORE-JSON REST-JSON: writes $tmp/NAME.json
config() {
    mkdir -p "$tmp/$1"
    cat >"$tmp/$1.json" <<EOF
{"listen": "127.0.0.1:0", "data_dir": "$tmp/$1", "plugin_dir": "$build/plugins",
 "public_read": true, "store": $2,
 "plugins": [{"name": "rest", "config": $3}],
 "limits": {"max_connections": 20000, "creates_per_client_per_minute": 0}}
EOF
}

# start NAME: dtr serve on $tmp/NAME.json; sets port
start() {
    ("$dtr" serve --config "$tmp/$1.json" --data "$tmp/$1" >"$tmp/$1.out" 2>"$tmp/$1.log") &
    pids+=($!)
    port=""
    for _ in $(seq 200); do
        port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/$1.out" | head -1)
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { echo "pg_store: dtr $1 did not start:" >&2; cat "$tmp/$1.log" >&2; exit 1; }
}

stop_all() {
    for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
    pids=()
}

# clients NAME: 64 support clients; writes $tmp/NAME.auth (one header value a line)
clients() {
    : >"$tmp/$1.auth"
    for i in $(seq 64); do
        "$dtr" client add --name "bench $i" --role support --config "$tmp/$1.json" \
            --data "$tmp/$1" |
            python3 -c 'import json,sys,base64; d=json.load(sys.stdin); print("Basic " + base64.b64encode((d["clientId"]+":"+d["secret"]).encode()).decode())' \
                >>"$tmp/$1.auth"
    done
}

# creates.lua: each connection its own client; every request a new daginstitution
write_create_lua() {
    cat >"$tmp/create.lua" <<EOF
local auths = {}
for line in io.lines("$1") do auths[#auths + 1] = line end
local n = 0
local id = 0
init = function(args)
    math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
    id = math.random(1, 1000000)
end
request = function()
    n = n + 1
    local auth = auths[(id + n) % #auths + 1]
    local body = string.format('{"navn": "Bench %d-%d", "ejerformKode": 1, "lovgrundlagKode": 1, "admKommuneKode": 101}', id, n)
    return wrk.format("POST", "/v1/daginstitutioner",
        { ["Authorization"] = auth, ["Content-Type"] = "application/json" }, body)
end
EOF
}

write_get_lua() { # write_get_lua NUMBERS-FILE
    cat >"$tmp/get.lua" <<EOF
local paths = {}
for line in io.lines("$1") do paths[#paths + 1] = "/v1/daginstitutioner/" .. line end
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
EOF
}

# wrk_rate SCRIPT URL: "requests/s non2xx"
wrk_rate() {
    local out
    out=$(wrk -t2 -c64 -d"${duration}s" --latency -s "$1" "$2")
    echo "$out" >&2
    echo "$out" | awk '/^Requests\/sec:/ { r = $2 } /Non-2xx/ { bad = $NF }
        $1 == "99%" { p99 = $2 } END { printf "%s %s %s\n", r, p99, bad ? bad : 0 }'
}

numbers_of() { # numbers_of NAME PORT: writes $tmp/NAME.numbers (up to 5000 numbers)
    python3 - "$2" >"$tmp/$1.numbers" <<'EOF'
import json, sys, urllib.request
port = sys.argv[1]
url, out = "http://127.0.0.1:%s/v1/daginstitutioner?limit=1000" % port, []
while url and len(out) < 5000:
    doc = json.load(urllib.request.urlopen(url))
    out += [r["nummer"] for r in doc["resultater"]]
    nxt = doc.get("naeste")
    url = ("http://127.0.0.1:%s/v1/daginstitutioner?limit=1000&efter=%s" % (port, nxt)) if nxt else None
print("\n".join(out))
EOF
}

declare -A rate p99 bad
pgdb() { # pgdb NAME: a fresh database; prints its dsn
    psql "$admin" -qc "CREATE DATABASE $1" >/dev/null
    echo "$admin dbname=$1"
}

# ---- 1. creates ---------------------------------------------------------------
config lite '{"driver": "sqlite"}' '{}'
clients lite
write_create_lua "$tmp/lite.auth"
start lite
echo "== creates: one instance on SQLite" >&2
read -r rate[c1s] p99[c1s] bad[c1s] < <(wrk_rate "$tmp/create.lua" "http://127.0.0.1:$port")
numbers_of lite "$port"
stop_all

dsn=$(pgdb one)
config pg1 "{\"driver\": \"postgresql\", \"dsn\": \"$dsn\"}" '{}'
clients pg1
write_create_lua "$tmp/pg1.auth"
start pg1
echo "== creates: one instance on PostgreSQL" >&2
read -r rate[c1p] p99[c1p] bad[c1p] < <(wrk_rate "$tmp/create.lua" "http://127.0.0.1:$port")
numbers_of pg1 "$port"
stop_all

dsn=$(pgdb two)
config pg2a "{\"driver\": \"postgresql\", \"dsn\": \"$dsn\"}" '{}'
config pg2b "{\"driver\": \"postgresql\", \"dsn\": \"$dsn\"}" '{}'
clients pg2a
cp "$tmp/pg2a/server.key" "$tmp/pg2b/"
write_create_lua "$tmp/pg2a.auth"
start pg2a; port_a=$port
start pg2b; port_b=$port
nginx_port=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx;
    proxy_temp_path $tmp/nginx;
    upstream dtr { server 127.0.0.1:$port_a; server 127.0.0.1:$port_b; keepalive 64; }
    server {
        listen 127.0.0.1:$nginx_port;
        location / { proxy_pass http://dtr; proxy_http_version 1.1;
                     proxy_set_header Connection ""; }
    }
}
EOF
(exec nginx -c "$tmp/nginx.conf" -g "daemon off;") &
pids+=($!)
for _ in $(seq 100); do curl -s "http://127.0.0.1:$nginx_port/healthz" >/dev/null && break; sleep 0.05; done
echo "== creates: two instances on PostgreSQL behind nginx" >&2
read -r rate[c2p] p99[c2p] bad[c2p] < <(wrk_rate "$tmp/create.lua" "http://127.0.0.1:$nginx_port")
stop_all

# ---- 2. GET by number ----------------------------------------------------------
get_run() { # get_run KEY NAME REST-JSON
    local name=$2
    sed -i "s|\"config\": [^]]*}]|\"config\": $3}]|" "$tmp/$name.json"
    start "$name"
    write_get_lua "$tmp/$name.numbers"
    echo "== GET by number: $1" >&2
    read -r rate[$1] p99[$1] bad[$1] < <(wrk_rate "$tmp/get.lua" "http://127.0.0.1:$port")
    stop_all
}
get_run gsc lite '{}'
get_run gsn lite '{"cache_bytes": 0}'
get_run gpc pg1 '{}'
get_run gpn pg1 '{"cache_bytes": 0}'

ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
printf '\n%-52s %12s %10s %8s %8s\n' "run (wrk -t2 -c64, ${duration}s)" "requests/s" "p99" "non-2xx" "ratio"
row() { printf '%-52s %12s %10s %8s %8s\n' "$1" "${rate[$2]}" "${p99[$2]}" "${bad[$2]}" "$(ratio "${rate[$2]}" "${rate[$3]}")"; }
row "creates: 1 instance, SQLite" c1s c1s
row "creates: 1 instance, PostgreSQL" c1p c1s
row "creates: 2 instances, PostgreSQL, behind nginx" c2p c1s
row "GET by number: SQLite, answer cache" gsc gsc
row "GET by number: SQLite, no cache" gsn gsc
row "GET by number: PostgreSQL, answer cache" gpc gsc
row "GET by number: PostgreSQL, no cache" gpn gsc
