#!/usr/bin/env python3
"""soap_bench -- the soap plugin's figures (run by hand; prints them):

1. Inserts per second over SOAP (InsertDaginstitution with two nested
   anvisningsenheder) against REST creates of the same records
   (POST /v1/daginstitutioner), 64 connections each, with wrk
   (goal: SOAP >= 0.8 x REST).
2. GetAllDagtilbud on a generated register of N units (default 100,000,
   `dtr generate` + `dtr import`): time to the last byte, bytes, and the
   server's peak RSS above idle (goal: flat, < 64 MiB above idle), SOAP 1.1.

    tests/bench/soap_bench.py [--units 100000] [--seconds 10] [--connections 64]

Expects build/dtr and build/plugins/{rest,soap}.so (scripts/build) and wrk.
The server and wrk share the machine: the figures are relative (SOAP vs REST
on the same box), not absolute.
"""

import argparse
import base64
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DTR = os.environ.get("DTR_BIN", os.path.join(ROOT, "build", "dtr"))
PLUGINS = os.environ.get("DTR_PLUGIN_DIR", os.path.join(ROOT, "build", "plugins"))
NS = "urn:dagtilbudsregister:soap:2"

UNIT = {"navn": "Stuen", "instType3": 6012,
        "adresse": {"vejNavn": "Byvej", "husNummer": "12", "postNummer": "2100",
                    "byNavn": "København Ø", "kommuneKode": 101},
        "cvrNummer": "10000009", "pNummer": "1000000001"}
REST_BODY = json.dumps({"navn": "Bench", "ejerformKode": 1, "lovgrundlagKode": 1,
                        "admKommuneKode": 101, "anvisningsenheder": [UNIT, UNIT]})
UNIT_XML = ("<anvisningsEnhed><dagtilbudsNavn>Stuen</dagtilbudsNavn><instType3>6012</instType3>"
            "<kommuneKode>101</kommuneKode><vejNavn>Byvej</vejNavn><husNummer>12</husNummer>"
            "<postNummer>2100</postNummer><byNavn>København Ø</byNavn>"
            "<cvrNummer>10000009</cvrNummer><pNummer>1000000001</pNummer></anvisningsEnhed>")
DOC = ("<daginstitution><daginstitutionsNavn>Bench</daginstitutionsNavn><ejerformKode>1"
       "</ejerformKode><lovgrundlagKode>1</lovgrundlagKode><admKommuneKode>101</admKommuneKode>"
       + UNIT_XML * 2 + "</daginstitution>")
SOAP_BODY = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
             '<InsertDaginstitution xmlns="%s"><xmlData><![CDATA[%s]]></xmlData>'
             '</InsertDaginstitution></s:Body></s:Envelope>' % (NS, DOC))

WRK_LUA = """
wrk.method = "POST"
wrk.body = %s
wrk.headers["Content-Type"] = %s
wrk.headers["Authorization"] = %s
%s
local bad = 0
response = function(status, headers, body)
  if status ~= %d or (body and string.find(body, "FEJL", 1, true)) then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("BAD %%d\\n", bad))
end
"""


def lua_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class Dtr:
    def __init__(self, data_dir, cfg):
        self.data_dir = data_dir
        self.cfg = cfg
        self.proc = None

    def cli(self, *args):
        p = subprocess.run([DTR] + list(args) + ["--config", self.cfg, "--data", self.data_dir],
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("dtr %s: %s %s" % (" ".join(args), p.stdout, p.stderr))
        return p.stdout

    def start(self):
        self.proc = subprocess.Popen([DTR, "serve", "--config", self.cfg, "--data", self.data_dir],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"http://([^:]+):(\d+)", line)
        if not m:
            sys.exit("dtr did not start: %r" % line)
        self.host, self.port = m.group(1), int(m.group(2))

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc = None

    def status(self, key):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0


def wrk(url, body, ctype, auth, expect, seconds, conns, extra=""):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_LUA % (lua_str(body), lua_str(ctype), lua_str(auth), extra, expect))
        script = f.name
    try:
        p = subprocess.run(["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, "-s", script, url],
                           capture_output=True, text=True)
    finally:
        os.unlink(script)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", p.stdout)
    lat = re.search(r"Latency\s+([\d.]+\w+)", p.stdout)
    bad = re.search(r"BAD (\d+)", p.stdout)
    if not rps:
        sys.exit("wrk: " + p.stdout + p.stderr)
    return float(rps.group(1)), lat.group(1) if lat else "?", int(bad.group(1)) if bad else -1


def insert_run(args, tmp, kind, run):
    """One wrk run of kind ("rest" or "soap") on a fresh server and data
    directory, so that both see the same register."""
    cfg = os.path.join(tmp, "dtr.json")
    d = Dtr(os.path.join(tmp, "ins-%s-%d" % (kind, run)), cfg)
    info = json.loads(d.cli("client", "add", "--name", "bench", "--role", "support"))
    auth = "Basic " + base64.b64encode(("%s:%s" % (info["clientId"], info["secret"])).encode()).decode()
    d.start()
    try:
        base = "http://%s:%d" % (d.host, d.port)
        if kind == "rest":
            call = (base + "/v1/daginstitutioner", REST_BODY, "application/json", auth, 201)
            extra = ""
        else:
            call = (base + "/soap/ImportService", SOAP_BODY, "text/xml; charset=utf-8", auth, 200)
            extra = 'wrk.headers["SOAPAction"] = "%s/InsertDaginstitution"' % NS
        wrk(*call, 1, 8, extra)  # warm up
        return wrk(*call, args.seconds, args.connections, extra)
    finally:
        d.stop()
        shutil.rmtree(d.data_dir, ignore_errors=True)


def bench_inserts(args, tmp):
    results = {"rest": [], "soap": []}
    for run in range(args.rounds):  # alternating, each on a fresh register
        for kind in ("rest", "soap"):
            results[kind].append(insert_run(args, tmp, kind, run))
    print("inserts, %d connections, %d s x %d rounds, a daginstitution with 2 units each "
          "(3 records):" % (args.connections, args.seconds, args.rounds))
    mean = {}
    for kind, label in (("rest", "REST POST /v1/daginstitutioner"),
                        ("soap", "SOAP InsertDaginstitution")):
        rs = results[kind]
        mean[kind] = sum(r[0] for r in rs) / len(rs)
        print("  %-32s %8.0f /s  (runs: %s; latency %s; refused %d)"
              % (label, mean[kind], ", ".join("%.0f" % r[0] for r in rs),
                 ", ".join(r[1] for r in rs), sum(r[2] for r in rs)))
    print("  %-32s %8.2f x   (goal >= 0.8)" % ("SOAP / REST", mean["soap"] / mean["rest"]))


def sample_rss(d, stop, peak):
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], d.status("VmRSS"))
        except (OSError, ValueError):
            return
        time.sleep(0.005)


def bench_getall(args, tmp):
    cfg = os.path.join(tmp, "dtr.json")
    d = Dtr(os.path.join(tmp, "big"), cfg)
    gen = os.path.join(tmp, "gen")
    t0 = time.monotonic()
    d.cli("generate", "--units", str(args.units), gen)
    d.cli("import", gen)
    print("generated and imported %d units in %.0f s" % (args.units, time.monotonic() - t0))
    shutil.rmtree(gen, ignore_errors=True)
    d.start()
    try:
        body = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
                '<GetAllDagtilbud xmlns="%s"/></s:Body></s:Envelope>' % NS).encode()
        # one small call first so that what start-up allocates is counted as idle
        c = http.client.HTTPConnection(d.host, d.port, timeout=600)
        c.request("POST", "/soap/EksportService", body=body.replace(b"GetAllDagtilbud",
                                                                   b"HelloWorld"),
                  headers={"Content-Type": "text/xml"})
        c.getresponse().read()
        time.sleep(0.5)
        idle = d.status("VmRSS")
        for run in range(2):
            peak = [idle]
            stop = threading.Event()
            t = threading.Thread(target=sample_rss, args=(d, stop, peak))
            t.start()
            start = time.monotonic()
            c.request("POST", "/soap/EksportService", body=body,
                      headers={"Content-Type": "text/xml"})
            r = c.getresponse()
            first = None
            n = 0
            while True:
                chunk = r.read(65536)
                if not chunk:
                    break
                if first is None:
                    first = time.monotonic() - start
                n += len(chunk)
            last = time.monotonic() - start
            stop.set()
            t.join()
            hwm = d.status("VmHWM")
            print("GetAllDagtilbud on %d units (run %d): status %d, %.1f MB, first byte %.3f s, "
                  "last byte %.2f s" % (args.units, run + 1, r.status, n / 1e6, first or 0, last))
            print("  RSS idle %.1f MiB, peak during the answer %.1f MiB (+%.1f MiB), VmHWM %.1f MiB"
                  % (idle / 1024, peak[0] / 1024, (peak[0] - idle) / 1024, hwm / 1024))
        c.close()
    finally:
        d.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--skip-inserts", action="store_true")
    ap.add_argument("--skip-getall", action="store_true")
    args = ap.parse_args()
    for tool in ("wrk",):
        if not shutil.which(tool):
            sys.exit("soap bench: %s is missing" % tool)
    tmp = tempfile.mkdtemp(prefix="dtr-soap-bench-")
    try:
        with open(os.path.join(tmp, "dtr.json"), "w") as f:
            json.dump({"listen": "127.0.0.1:0", "plugin_dir": PLUGINS,
                       "plugins": [{"name": "rest", "config": {}},
                                   {"name": "csv", "config": {}},
                                   {"name": "soap", "config": {}}]}, f)
        if not args.skip_inserts:
            bench_inserts(args, tmp)
        if not args.skip_getall:
            bench_getall(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
