#!/usr/bin/env python3
"""portal_webhook_lag -- end-to-end webhook lag against the real binary, run
by hand (never by ctest): a steady write load through the REST API (creates
of daginstitutioner, one connection, paced) on a `dtr serve` with the rest
and portal plugins, and a webhook receiver on loopback. The lag of a write is
the time from its 201 answer (the change is committed by then) to the moment
its webhook arrived; p50/p90/p99/max are printed. Goal: p99 < 50 ms.

    DTR_BIN=build/dtr DTR_PLUGIN_DIR=build/plugins \\
        python3 tests/bench/portal_webhook_lag.py [writes/s (100)] [seconds (10)]

plugins/portal/bench/bench_portal_lag.c measures the same path without the
HTTP front end (through the store's writer directly).
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("DTR_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))
sys.path.insert(0, os.path.join(os.environ["DTR_SOURCE_DIR"], "plugins", "portal", "tests"))
from portal_http import PortalServer, Receiver, daginstitution  # noqa: E402


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p / 100))]


def main():
    rate = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    receiver = Receiver()
    srv = PortalServer({"webhooks": [{"url": receiver.url}]})
    try:
        auth = srv.add_client("bench", "support")
        conn = srv.connection()
        answered = {}  # nummer -> monotonic time of the 201
        interval = 1.0 / rate
        start = time.monotonic()
        for i in range(rate * seconds):
            due = start + i * interval
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            status, _, doc = srv.call("POST", "/v1/daginstitutioner",
                                      daginstitution(navn="Bench %d" % i), auth=auth, conn=conn)
            if status != 201:
                raise SystemExit("write %d failed: %s %s" % (i, status, doc))
            answered[doc["nummer"]] = time.monotonic()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            got = {h.json["nummer"]: h.received for h in receiver.delivered()}
            if all(n in got for n in answered):
                break
            time.sleep(0.05)
        lags = sorted(max(0.0, got[n] - t) * 1000 for n, t in answered.items() if n in got)
        missing = len(answered) - len(lags)
        print("webhook lag over %d writes at %d/s: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, "
              "max %.2f ms%s" % (len(lags), rate, percentile(lags, 50), percentile(lags, 90),
                                 percentile(lags, 99), lags[-1],
                                 ", %d never arrived" % missing if missing else ""))
        conn.close()
        srv.stop()
    finally:
        srv.close()
        receiver.close()


if __name__ == "__main__":
    main()
