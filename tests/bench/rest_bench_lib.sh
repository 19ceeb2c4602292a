# rest_bench_lib.sh -- what the REST benchmarks share (sourced, not run):
# CPU pinning, ports, starting dtr with the rest plugin on a fresh data
# directory with a support client, loading the sample through the API, the
# wrk Lua scripts, and reading wrk's figures.
#
# Expects: here, root, build, dtr, wrk_args, sample set by the caller.

for tool in wrk nginx curl python3; do
    command -v "$tool" >/dev/null || { echo "rest bench: $tool is missing" >&2; exit 2; }
done
[ -x "$dtr" ] || { echo "rest bench: $dtr is missing (build the dtr target)" >&2; exit 2; }
[ -f "$build/plugins/rest.so" ] || { echo "rest bench: $build/plugins/rest.so is missing" >&2; exit 2; }
[ -f "$sample/daginstitution.csv" ] || { echo "rest bench: no sample in $sample" >&2; exit 2; }

server_cpu=${SERVER_CPU:-}
wrk_cpu=${WRK_CPU:-}
if [ -z "$server_cpu" ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    server_cpu=0
    wrk_cpu=1
fi
pin() { # pin CPU-LIST COMMAND...
    local cpu=$1; shift
    if [ -n "$cpu" ]; then taskset -c "$cpu" "$@"; else "$@"; fi
}
# Starts COMMAND in the background, pinned, as a process of its own whose
# pid is remembered for the cleanup (exec: no shell stays between).
spawn() { # spawn CPU-LIST COMMAND...
    local cpu=$1; shift
    if [ -n "$cpu" ]; then
        (exec taskset -c "$cpu" "$@") &
    else
        (exec "$@") &
    fi
    pids+=($!)
}

tmp="$(mktemp -d /tmp/dtr-rest-bench.XXXXXX)"
pids=()
cleanup() {
    for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

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
    echo "rest bench: nothing listens on port $1" >&2
    return 1
}

# Starts dtr with the rest plugin; sets dtr_port and auth (a support client).
start_dtr() {
    mkdir -p "$tmp/data"
    cat >"$tmp/dtr.json" <<EOF
{"listen": "127.0.0.1:0", "data_dir": "$tmp/data", "plugin_dir": "$build/plugins",
 "plugins": [{"name": "rest", "config": ${REST_CONFIG:-{\}}}],
 "limits": {"max_connections": 20000}}
EOF
    local out
    out=$("$dtr" client add --name bench --role support --config "$tmp/dtr.json" --data "$tmp/data")
    auth="Basic $(python3 -c 'import json,sys,base64; d=json.load(sys.stdin); print(base64.b64encode((d["clientId"]+":"+d["secret"]).encode()).decode())' <<<"$out")"
    spawn "$server_cpu" "$dtr" serve --config "$tmp/dtr.json" --data "$tmp/data" \
        >"$tmp/dtr.out" 2>"$tmp/dtr.log"
    for _ in $(seq 100); do
        grep -q "listening on" "$tmp/dtr.out" 2>/dev/null && break
        sleep 0.1
    done
    dtr_pid=${pids[-1]}
    dtr_port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/dtr.out" | head -1)
    [ -n "$dtr_port" ] || { echo "rest bench: dtr did not start:" >&2; cat "$tmp/dtr.log" >&2; exit 1; }
}

load_sample() { # load_sample [--www]
    python3 "$here/rest_load_sample.py" --url "http://127.0.0.1:$dtr_port" --auth "$auth" \
        --sample "$sample" --out "$tmp/sample" "$@"
}

# A wrk script: every request a GET of a random number of numbers.txt.
write_get_lua() {
    cat >"$1" <<EOF
local paths = {}
for line in io.lines("$tmp/sample/numbers.txt") do
    paths[#paths + 1] = "/v1/anvisningsenheder/" .. line
end
local seeded = false
request = function()
    if not seeded then math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16)); seeded = true end
    return wrk.format("GET", paths[math.random(#paths)])
end
EOF
}

# A wrk script: PERCENT of the requests PATCH a random number's
# telefonNummer (as the support client), the rest GET a random number.
write_mix_lua() { # write_mix_lua FILE PERCENT
    cat >"$1" <<EOF
local paths = {}
for line in io.lines("$tmp/sample/numbers.txt") do
    paths[#paths + 1] = "/v1/anvisningsenheder/" .. line
end
local seeded = false
local patch_headers = { ["Authorization"] = "$auth", ["Content-Type"] = "application/json" }
request = function()
    if not seeded then math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16)); seeded = true end
    local path = paths[math.random(#paths)]
    if math.random(100) <= $2 then
        local body = string.format('{"telefonNummer": "%08d"}', math.random(0, 99999999))
        return wrk.format("PATCH", path, patch_headers, body)
    end
    return wrk.format("GET", path)
end
EOF
}

# The CPU time (user + system, in clock ticks) a process has used so far.
cpu_ticks() { # cpu_ticks PID
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Runs wrk with a script against a base URL while measuring the server
# process's CPU time; prints "requests/s p50 p99 cpu-us/request" on stdout
# and wrk's report on stderr. The CPU time per request compares servers
# fairly even when wrk (one thread) is the bottleneck.
run_wrk() { # run_wrk SCRIPT URL SERVER-PID
    local out before after hz
    hz=$(getconf CLK_TCK)
    before=$(cpu_ticks "$3")
    out=$(pin "$wrk_cpu" wrk $wrk_args --latency -s "$1" "$2")
    after=$(cpu_ticks "$3")
    echo "$out" >&2
    if echo "$out" | grep -q "Non-2xx"; then
        echo "rest bench: wrk saw non-2xx answers" >&2
    fi
    echo "$out" | awk -v ticks=$((after - before)) -v hz="$hz" '
        /requests in/ { n = $1 }
        /^Requests\/sec:/ { rps = $2 }
        $1 == "50%" { p50 = $2 }
        $1 == "99%" { p99 = $2 }
        END { printf "%s %s %s %.1fus\n", rps, p50, p99, n ? ticks / hz * 1e6 / n : 0 }'
}
