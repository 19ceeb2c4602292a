#!/usr/bin/env python3
"""rest_load_sample -- loads the register's sample (dtr-sample/*.csv) into a
running server through the REST API, the way a client system would: one
POST /v1/daginstitutioner per daginstitution with its anvisningsenheder
nested (and POST /v1/alternative-adresser for any alternative adresser),
from several threads so that the writer's group commit is used.

The register issues its own numbers, so the sample's numbers are mapped to
the issued ones. Writes the issued anvisningsenhed numbers, one a line, to
OUT/numbers.txt, and with --www also each anvisningsenhed's GET answer to
OUT/www/v1/anvisningsenheder/<nummer> (the exact bytes, for nginx to serve).

Used by tests/bench/rest_get_vs_nginx.sh and rest_mix.sh; run by hand.
Standard library only.
"""

import argparse
import csv
import http.client
import json
import os
import queue
import sys
import threading
import time
import urllib.parse


def read_rows(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def text(row, key):
    v = (row.get(key) or "").strip()
    return v or None


def number(row, key, kind=int):
    v = text(row, key)
    return kind(v) if v is not None else None


def adresse(row):
    a = {"vejNavn": text(row, "vejNavn"), "husNummer": text(row, "husNummer"),
         "postNummer": text(row, "postNummer"), "byNavn": text(row, "byNavn"),
         "kommuneKode": number(row, "kommuneKode")}
    for key in ("supplerendeBynavn",):
        if text(row, key):
            a[key] = text(row, key)
    for key in ("geoBredde", "geoLaengde"):
        if text(row, key):
            a[key] = number(row, key, float)
    return a


def unit(row):
    u = {"navn": text(row, "dagtilbudsNavn"), "instType3": number(row, "instType3"),
         "adresse": adresse(row)}
    for key in ("email", "telefonNummer", "cvrNummer", "pNummer"):
        if text(row, key):
            u[key] = text(row, key)
    return u


class Client:
    def __init__(self, url, auth):
        p = urllib.parse.urlparse(url)
        self.host, self.port = p.hostname, p.port or 80
        self.auth = auth
        self.local = threading.local()

    def conn(self):
        c = getattr(self.local, "c", None)
        if c is None:
            c = self.local.c = http.client.HTTPConnection(self.host, self.port, timeout=120)
        return c

    def call(self, method, path, body=None):
        headers = {"Authorization": self.auth}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(3):
            try:
                c = self.conn()
                c.request(method, path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                return r.status, raw
            except (ConnectionError, http.client.HTTPException):
                self.local.c = None
                if attempt == 2:
                    raise


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--auth", required=True, help="the Authorization header value")
    ap.add_argument("--sample", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--www", action="store_true")
    args = ap.parse_args()

    dis = read_rows(os.path.join(args.sample, "daginstitution.csv"))
    aes = read_rows(os.path.join(args.sample, "anvisningsenhed.csv"))
    aas = read_rows(os.path.join(args.sample, "alternativadresse.csv"))
    units_of = {}
    for row in aes:
        units_of.setdefault(row["daginstitutionsNummer"], []).append(row)
    client = Client(args.url, args.auth)
    issued_ae = {}  # sample number -> issued number
    lock = threading.Lock()
    stats = {"created": 0, "refused": 0, "units": 0, "units_refused": 0}
    refusals = []
    work = queue.Queue()
    for row in dis:
        work.put(row)

    def create_di(row):
        units = units_of.get(row["daginstitutionsNummer"], [])
        body = {"navn": text(row, "daginstitutionsNavn"),
                "ejerformKode": number(row, "ejerformKode"),
                "lovgrundlagKode": number(row, "lovgrundlagKode"),
                "admKommuneKode": number(row, "admKommuneKode"),
                "anvisningsenheder": [unit(u) for u in units]}
        st, raw = client.call("POST", "/v1/daginstitutioner", body)
        if st == 201:
            doc = json.loads(raw)
            with lock:
                stats["created"] += 1
                stats["units"] += len(units)
                for u, made in zip(units, doc["anvisningsenheder"]):
                    issued_ae[u["anvisningsenhedsNummer"]] = made["nummer"]
            return
        # refused as a whole: the daginstitution alone, then each unit
        body.pop("anvisningsenheder")
        st, raw = client.call("POST", "/v1/daginstitutioner", body)
        if st != 201:
            with lock:
                stats["refused"] += 1
                stats["units_refused"] += len(units)
                refusals.append((row["daginstitutionsNummer"], raw[:300]))
            return
        parent = json.loads(raw)["nummer"]
        with lock:
            stats["created"] += 1
        for u in units:
            b = unit(u)
            b["daginstitutionsNummer"] = parent
            st, raw = client.call("POST", "/v1/anvisningsenheder", b)
            with lock:
                if st == 201:
                    stats["units"] += 1
                    issued_ae[u["anvisningsenhedsNummer"]] = json.loads(raw)["nummer"]
                else:
                    stats["units_refused"] += 1
                    refusals.append((u["anvisningsenhedsNummer"], raw[:300]))

    def worker():
        while True:
            try:
                row = work.get_nowait()
            except queue.Empty:
                return
            create_di(row)

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for row in aas:
        parent = issued_ae.get(row["anvisningsenhedsNummer"])
        if parent:
            b = {"anvisningsenhedsNummer": parent, "navn": text(row, "dagtilbudsNavn"),
                 "adresse": adresse(row)}
            client.call("POST", "/v1/alternative-adresser", b)
    took = time.monotonic() - t0
    print("loaded %d daginstitutioner (%d refused), %d anvisningsenheder (%d refused) in %.1f s "
          "(%.0f records/s)" % (stats["created"], stats["refused"], stats["units"],
                                stats["units_refused"], took,
                                (stats["created"] + stats["units"]) / took), file=sys.stderr)
    for who, why in refusals[:5]:
        print("  refused %s: %s" % (who, why.decode("utf-8", "replace")), file=sys.stderr)

    os.makedirs(args.out, exist_ok=True)
    numbers = sorted(issued_ae.values())
    with open(os.path.join(args.out, "numbers.txt"), "w") as f:
        f.write("\n".join(numbers) + "\n")
    if args.www:
        www = os.path.join(args.out, "www", "v1", "anvisningsenheder")
        os.makedirs(www, exist_ok=True)
        for n in numbers:
            st, raw = client.call("GET", "/v1/anvisningsenheder/" + n)
            if st != 200:
                sys.exit("GET %s: %d" % (n, st))
            with open(os.path.join(www, n), "wb") as f:
                f.write(raw)


if __name__ == "__main__":
    main()
