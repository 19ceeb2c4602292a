#!/usr/bin/env bash
# Memory per idle keep-alive connection: starts dtr serve (testroutes), opens
# N connections (default 10000), sends one request on each and reads its
# answer, leaves them all open and idle, and prints the server's RSS growth
# per connection (goal: <= 4 KiB).
#
# Usage: tests/bench/idle_conns.sh [BUILD_DIR] [N]   (default: build 10000)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
n=${2:-10000}
dtr="$build/dtr"
plugins="$build/tests/plugins"
[ -x "$dtr" ] || { echo "idle_conns: $dtr is missing (build the dtr target)" >&2; exit 2; }

ulimit -n $((n + 1024)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((n + 100)) ]; then
    echo "idle_conns: ulimit -n is $(ulimit -n), too low for $n connections" >&2
    exit 2
fi

tmp="$(mktemp -d /tmp/dtr-idle.XXXXXX)"
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" INT TERM

mkdir -p "$tmp/data"
cat >"$tmp/dtr.json" <<EOF
{"listen": "127.0.0.1:0", "data_dir": "$tmp/data", "plugin_dir": "$plugins",
 "plugins": [{"name": "testroutes", "config": {}}],
 "limits": {"max_connections": $((n + 1000)), "idle_timeout_ms": 600000}}
EOF
"$dtr" serve --config "$tmp/dtr.json" --listen 127.0.0.1:0 >"$tmp/dtr.out" 2>"$tmp/dtr.log" &
pid=$!
for _ in $(seq 100); do
    grep -q "listening on" "$tmp/dtr.out" 2>/dev/null && break
    sleep 0.1
done
port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/dtr.out" | head -1)
[ -n "$port" ] || { echo "idle_conns: dtr did not start" >&2; cat "$tmp/dtr.log" >&2; exit 1; }

python3 - "$pid" "$port" "$n" <<'EOF'
import socket, sys, time

pid, port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
REQ = b"GET /test/fixed HTTP/1.1\r\nHost: bench\r\n\r\n"

def rss_kib():
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def one_request(s):
    s.sendall(REQ)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(rest) < length:
        rest += s.recv(4096)

# warm up: pools, the first buffers, the plugin's first answer
warm = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
for s in warm:
    one_request(s)
for s in warm:
    s.close()
time.sleep(0.5)
before = rss_kib()
conns = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    one_request(s)
    conns.append(s)
time.sleep(1.0)
after = rss_kib()
print("connections open and idle: %d" % n)
print("server RSS before: %d KiB, after: %d KiB" % (before, after))
print("RSS growth per idle keep-alive connection: %.2f KiB (goal <= 4 KiB)" % ((after - before) / n))
for s in conns:
    s.close()
EOF
