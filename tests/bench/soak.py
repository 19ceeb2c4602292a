#!/usr/bin/env python3
"""soak -- a long mixed load against the real binary, run by hand (never by
ctest; tests/bench/soak.sh starts it): `dtr serve` with the rest and portal
plugins, and for the whole duration

  - writers: creates (with a unit), PATCHes, closes and moves through REST;
  - readers: GET of one record, lists, /v1/haendelser pages;
  - slow clients: a /v1/udtraek read 4 KiB at a time with pauses, and a
    request whose headers drip in a byte at a time (the header timeout cuts
    it off);
  - webhooks to two receivers, one of them flaky (a third of the attempts
    answer 500, some hang past the timeout), the other with a v1 secret.

Every interval (default a minute) one row: the process's RSS, open file
descriptors, the WAL's size, requests and their p99 latency over the
interval, webhooks delivered and parked, errors. All should stay flat: a
leak shows as a column that only grows. The table is printed again at the
end, with the first and last rows compared.

    DTR_BIN=build/dtr DTR_PLUGIN_DIR=build/plugins \\
        python3 tests/bench/soak.py [seconds (3600)] [interval seconds (60)]
"""

import base64
import os
import random
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("DTR_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))
sys.path.insert(0, os.path.join(os.environ["DTR_SOURCE_DIR"], "plugins", "portal", "tests"))
from portal_http import PortalServer, Receiver, anvisningsenhed, daginstitution  # noqa: E402


class Stats:
    """Latencies and counts of one interval; the sampler swaps it out."""

    def __init__(self):
        self.lock = threading.Lock()
        self.total_refused = {}
        self.reset()

    def reset(self):
        self.refused = {}  # "METHOD status kode" -> count, for the summary
        self.lat = []
        self.requests = 0
        self.errors = 0
        self.slow = 0

    def add(self, seconds, ok):
        with self.lock:
            self.lat.append(seconds)
            self.requests += 1
            if not ok:
                self.errors += 1

    def take(self):
        with self.lock:
            lat, n, e, slow = self.lat, self.requests, self.errors, self.slow
            for k, v in self.refused.items():
                self.total_refused[k] = self.total_refused.get(k, 0) + v
            self.reset()
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0.0
        return n, e, p99, slow


def timed(stats, srv, method, path, body, auth, conn, ok_statuses):
    t = time.monotonic()
    try:
        status, _, doc = srv.call(method, path, body, auth=auth, conn=conn)
    except OSError:
        stats.add(time.monotonic() - t, False)
        return None, None
    ok = status in ok_statuses
    stats.add(time.monotonic() - t, ok)
    if not ok:
        kode = ""
        if isinstance(doc, dict) and doc.get("fejl"):
            kode = doc["fejl"][0].get("kode", "")
        key = "%s %s %s" % (method, status, kode)
        with stats.lock:
            stats.refused[key] = stats.refused.get(key, 0) + 1
    return status, doc


def writer(srv, auth, stats, stop, numbers, rate):
    conn = srv.connection()
    rnd = random.Random(1)
    i = 0
    while not stop.is_set():
        i += 1
        due = time.monotonic() + 1.0 / rate
        kind = rnd.random()
        if kind < 0.5 or len(numbers["dag"]) < 4:
            body = daginstitution(navn="Soak %d" % i, units=[anvisningsenhed(navn="Enhed %d" % i)])
            status, doc = timed(stats, srv, "POST", "/v1/daginstitutioner", body, auth, conn,
                                (201,))
            if status == 201:
                numbers["dag"].append(doc["nummer"])
                numbers["unit"].extend(u["nummer"] for u in doc.get("anvisningsenheder", []))
        elif kind < 0.8:
            nummer = rnd.choice(numbers["dag"])
            timed(stats, srv, "PATCH", "/v1/daginstitutioner/" + nummer,
                  {"navn": "Soak %d ændret" % i}, auth, conn, (200, 409, 410))
        elif kind < 0.9 and len(numbers["unit"]) > 2:
            unit, dag = rnd.choice(numbers["unit"]), rnd.choice(numbers["dag"])
            timed(stats, srv, "POST", "/v1/anvisningsenheder/%s/flyt" % unit,
                  {"daginstitutionsNummer": dag}, auth, conn, (200, 409, 410, 422))
        else:
            unit = rnd.choice(numbers["unit"]) if numbers["unit"] else None
            if unit:
                timed(stats, srv, "POST", "/v1/anvisningsenheder/%s/nedlaeg" % unit,
                      {"virkningTil": "2030-01-01"}, auth, conn, (200, 409, 410, 422))
        wait = due - time.monotonic()
        if wait > 0:
            stop.wait(wait)


def reader(srv, auth, stats, stop, numbers, rate):
    conn = srv.connection()
    rnd = random.Random(2)
    while not stop.is_set():
        due = time.monotonic() + 1.0 / rate
        kind = rnd.random()
        if kind < 0.5 and numbers["dag"]:
            timed(stats, srv, "GET", "/v1/daginstitutioner/" + rnd.choice(numbers["dag"]), None,
                  auth, conn, (200,))
        elif kind < 0.8:
            timed(stats, srv, "GET", "/v1/daginstitutioner?limit=50", None, auth, conn, (200,))
        else:
            fra = rnd.randint(1, max(1, len(numbers["dag"]) * 2))
            timed(stats, srv, "GET", "/v1/haendelser?fra=%d&maxantal=200" % fra, None, auth, conn,
                  (200,))
        wait = due - time.monotonic()
        if wait > 0:
            stop.wait(wait)


def slow_clients(srv, auth, stats, stop):
    """One slow reader of /v1/udtraek and one dripping header at a time."""
    while not stop.is_set():
        try:
            s = socket.create_connection((srv.host, srv.port), timeout=30)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
            s.sendall(("GET /v1/udtraek HTTP/1.1\r\nHost: soak\r\nAuthorization: %s\r\n"
                       "Connection: close\r\n\r\n" % auth).encode())
            got = 0
            for _ in range(100):
                chunk = s.recv(4096)
                if not chunk or stop.is_set():
                    break
                got += len(chunk)
                stop.wait(0.05)
            s.close()
            d = socket.create_connection((srv.host, srv.port), timeout=30)
            for c in b"GET /v1/daginstitutioner HTTP/1.1\r\nX-Drip: ":
                d.send(bytes([c]))
                if stop.wait(0.2):
                    break
            d.close()
        except OSError:
            pass
        with stats.lock:
            stats.slow += 1


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 3600
    interval = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    rnd = random.Random(3)

    def flaky(n, wid, attempt):
        r = rnd.random()
        if r < 0.02:
            time.sleep(3)  # past the plugin's timeout: a failed attempt
        return 500 if r < 0.33 else 200

    bad, good = Receiver(flaky), Receiver()
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    srv = PortalServer({"webhooks": [{"url": bad.url}, {"url": good.url, "secret": secret}],
                        "retry_ms": [100, 500, 2000], "timeout_ms": 1000})
    stop = threading.Event()
    stats = Stats()
    try:
        auth = srv.add_client("soak", "support")
        # each writer its own client: one client's creates stay under the
        # default limits.creates_per_client_per_minute (600), so a refusal
        # in the table is a fault, not the bound doing its job
        auth2 = srv.add_client("soak-2", "support")
        numbers = {"dag": [], "unit": []}
        threads = [threading.Thread(target=writer, args=(srv, auth, stats, stop, numbers, 15)),
                   threading.Thread(target=writer, args=(srv, auth2, stats, stop, numbers, 15)),
                   threading.Thread(target=reader, args=(srv, auth, stats, stop, numbers, 40)),
                   threading.Thread(target=reader, args=(srv, auth, stats, stop, numbers, 40)),
                   threading.Thread(target=slow_clients, args=(srv, auth, stats, stop))]
        for t in threads:
            t.daemon = True
            t.start()
        wal = os.path.join(srv.data_dir, "dtr.sqlite-wal")
        head = "%6s %9s %5s %9s %8s %6s %9s %8s %7s %6s" % (
            "min", "rss_kib", "fds", "wal_kib", "requests", "errors", "p99_ms", "hooks_ok",
            "parked", "slow")
        rows = []
        print(head, flush=True)
        start = time.monotonic()
        k = 0
        while time.monotonic() - start < seconds and srv.proc.poll() is None:
            k += 1
            stop.wait(max(0.0, start + k * interval - time.monotonic()))
            n, errors, p99, slow = stats.take()
            fds = len(os.listdir("/proc/%d/fd" % srv.proc.pid))
            wal_kib = os.path.getsize(wal) // 1024 if os.path.exists(wal) else 0
            parked = sum(1 for h in bad.snapshot() if h.status != 200)
            row = "%6.1f %9d %5d %9d %8d %6d %9.2f %8d %7d %6d" % (
                (time.monotonic() - start) / 60, rss_kib(srv.proc.pid), fds, wal_kib, n, errors,
                p99, len(bad.delivered()) + len(good.delivered()), parked, slow)
            rows.append(row)
            print(row, flush=True)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        print("\nsoak: %d s, one row per %d s (parked = failed attempts at the flaky receiver)"
              % (seconds, interval))
        print(head)
        for r in rows:
            print(r)
        if stats.total_refused:
            print("errors: " + ", ".join("%s x%d" % kv for kv in sorted(stats.total_refused.items())))
        if rows:
            print("first: " + rows[0])
            print("last:  " + rows[-1])
        code = srv.stop()
        print("dtr exited %d" % code)
    finally:
        stop.set()
        srv.close()
        bad.close()
        good.close()


if __name__ == "__main__":
    main()
