#!/usr/bin/env python3
"""heavy_reads -- issue 11's two benchmarks, for one or more dtr builds side
by side on the same register (run by hand; standard library only).

  1. "heavy": 16 client processes loop on the heaviest public reads
     (hændelser pages of 10,000, navn searches, as-of lists, the udtræk)
     while a probe process measures GET /healthz and GET
     /v1/anvisningsenheder/{nr}; prints their p50/p99.
  2. "slow": 1,000 slow readers of /v1/udtraek (a few bytes read now and
     then) and 1,000 slowloris connections (a header byte now and then),
     with the same probe; prints the server's peak RSS and the probe's p99.

Usage:
  dtr generate --units 100000 GEN && dtr import --data DATA GEN
  tests/bench/heavy_reads.py --data DATA --build before=/tmp/old/build \\
      --build after=build [--seconds 20] [--clients 16] [--slow 1000]
      [--server-cpus 1 --client-cpus 0]

Each build runs on a copy of DATA (so each starts from the same register),
with its own plugins (BUILD/plugins) and default limits otherwise.
"""

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

NAVNE = ["sol", "børn", "ÆBLE", "skov", "vej", "hus", "ø", "lille", "stjerne", "have"]


def cpu_list(text):
    """ "1" or "0,2-3" -> a set of CPU numbers."""
    cpus = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


SERVER_CPUS = None  # --server-cpus: the server runs on these CPUs only


def start_server(build, data, tmp):
    cfg = {
        "listen": "127.0.0.1:0",
        "data_dir": data,
        "plugin_dir": os.path.join(build, "plugins"),
        "plugins": [{"name": "rest", "config": {}}],
    }
    path = os.path.join(tmp, "dtr.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    log = open(os.path.join(tmp, "stderr.log"), "w")
    pin = (lambda: os.sched_setaffinity(0, SERVER_CPUS)) if SERVER_CPUS else None
    p = subprocess.Popen([os.path.join(build, "dtr"), "serve", "--config", path], stdout=subprocess.PIPE,
                         stderr=log, text=True, preexec_fn=pin)
    line = p.stdout.readline()
    m = re.match(r"listening on http://([^:]+):(\d+)", line)
    if not m:
        p.kill()
        raise SystemExit("no listening line from %s: %r" % (build, line))
    return p, int(m.group(2))


def rss_kib(pid, key="VmHWM"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def numbers(port, n=200):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", "/v1/anvisningsenheder?limit=%d" % n)
    doc = json.loads(c.getresponse().read())
    c.close()
    return [r["nummer"] for r in doc["resultater"]]


def heavy_client(port, stop_at, seed, counts):
    rnd = random.Random(seed)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    done = 0
    while time.monotonic() < stop_at:
        k = rnd.randrange(4)
        if k == 0:
            target = "/v1/haendelser?fra=%d&maxantal=10000" % rnd.randrange(1, 150000)
        elif k == 1:
            target = "/v1/anvisningsenheder?navn=%s&limit=1000" % urllib.parse.quote(
                rnd.choice(NAVNE))
        elif k == 2:
            target = "/v1/daginstitutioner?virkningsdato=2025-%02d-01&limit=1000" % rnd.randrange(1, 13)
        else:
            target = "/v1/udtraek"
        try:
            c.request("GET", target)
            r = c.getresponse()
            while r.read(1 << 20):
                if time.monotonic() > stop_at:
                    break
            done += 1
        except Exception:
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    counts.put(done)


def probe(port, stop_at, nums, out):
    """Sequential GETs of /healthz and one anvisningsenhed, each timed."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    lat = {"healthz": [], "get": []}
    i = 0
    while time.monotonic() < stop_at:
        for name, target in (("healthz", "/healthz"), ("get", "/v1/anvisningsenheder/" + nums[i % len(nums)])):
            t0 = time.perf_counter()
            try:
                c.request("GET", target)
                c.getresponse().read()
            except Exception:
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            lat[name].append((time.perf_counter() - t0) * 1000)
        i += 1
        time.sleep(0.005)
    out.put(lat)


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def slow_clients(port, n_readers, n_loris, stop_at, out):
    """Slow udtræk readers (read 64 bytes per tick) and slowloris (one
    header byte per tick), all in one selector loop."""
    socks = []
    for i in range(n_readers + n_loris):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            continue
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        if i < n_readers:
            s.sendall(b"GET /v1/udtraek HTTP/1.1\r\nHost: b\r\n\r\n")
        else:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: b\r\n")
        s.setblocking(False)
        socks.append((s, i < n_readers))
    refused = 0
    while time.monotonic() < stop_at:
        for s, reader in socks:
            try:
                if reader:
                    got = s.recv(64)
                    if got.startswith(b"HTTP/1.1 503") or got.startswith(b"HTTP/1.1 429"):
                        refused += 1
                else:
                    s.send(b"X")
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                pass
        time.sleep(0.5)
    for s, _ in socks:
        s.close()
    out.put({"connected": len(socks), "refused_first_bytes": refused})


def run_heavy(name, port, pid, seconds, clients):
    nums = numbers(port)
    stop_at = time.monotonic() + seconds
    q, counts = mp.Queue(), mp.Queue()
    procs = [mp.Process(target=heavy_client, args=(port, stop_at, i, counts)) for i in range(clients)]
    pr = mp.Process(target=probe, args=(port, stop_at, nums, q))
    for p in procs + [pr]:
        p.start()
    lat = q.get()
    total = sum(counts.get() for _ in procs)
    for p in procs + [pr]:
        p.join()
    print("%-8s heavy: %d clients %ds: %d heavy reads; /healthz p50 %.1f ms p99 %.1f ms (n=%d); "
          "GET anvisningsenhed p50 %.1f ms p99 %.1f ms (n=%d); peak RSS %d MiB" %
          (name, clients, seconds, total, pct(lat["healthz"], 50), pct(lat["healthz"], 99),
           len(lat["healthz"]), pct(lat["get"], 50), pct(lat["get"], 99), len(lat["get"]),
           rss_kib(pid) // 1024), flush=True)


def run_slow(name, port, pid, seconds, n):
    nums = numbers(port)
    before = rss_kib(pid, "VmRSS")
    stop_at = time.monotonic() + seconds
    q, s = mp.Queue(), mp.Queue()
    sc = mp.Process(target=slow_clients, args=(port, n, n, stop_at, s))
    sc.start()
    time.sleep(min(5, seconds / 4))
    pr = mp.Process(target=probe, args=(port, stop_at, nums, q))
    pr.start()
    peak = 0
    while time.monotonic() < stop_at:
        peak = max(peak, rss_kib(pid, "VmRSS"))
        time.sleep(0.2)
    lat = q.get()
    st = s.get()
    sc.join()
    pr.join()
    print("%-8s slow: %d udtræk readers + %d slowloris (%d connected, %d refused at once): RSS "
          "%d MiB before, peak %d MiB during; /healthz p99 %.1f ms, GET anvisningsenhed p99 %.1f ms"
          % (name, n, n, st["connected"], st["refused_first_bytes"], before // 1024, peak // 1024,
             pct(lat["healthz"], 99), pct(lat["get"], 99)), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="an imported data directory (copied per build)")
    ap.add_argument("--build", action="append", required=True, help="NAME=BUILD_DIR")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--slow", type=int, default=1000)
    ap.add_argument("--only", choices=["heavy", "slow"])
    # as in production, where the clients are other machines: the server on
    # its own CPUs and the clients and probe on the others (e.g. 1 and 0)
    ap.add_argument("--server-cpus", help="CPUs of the server, e.g. 1")
    ap.add_argument("--client-cpus", help="CPUs of the clients and the probe, e.g. 0")
    args = ap.parse_args()
    global SERVER_CPUS
    if args.server_cpus:
        SERVER_CPUS = cpu_list(args.server_cpus)
    if args.client_cpus:
        os.sched_setaffinity(0, cpu_list(args.client_cpus))
    for spec in args.build:
        name, build = spec.split("=", 1)
        for bench in ("heavy", "slow"):
            if args.only and bench != args.only:
                continue
            tmp = tempfile.mkdtemp(prefix="dtr-heavy-")
            data = os.path.join(tmp, "data")
            shutil.copytree(args.data, data, ignore=shutil.ignore_patterns("dtr.lock"))
            p, port = start_server(os.path.abspath(build), data, tmp)
            try:
                if bench == "heavy":
                    run_heavy(name, port, p.pid, args.seconds, args.clients)
                else:
                    run_slow(name, port, p.pid, args.seconds, args.slow)
            finally:
                p.terminate()
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
