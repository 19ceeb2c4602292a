"""rest_http -- what the REST plugin's integration tests share
(tests/integration/test_rest*.py): a server with the rest plugin, clients
made with the real CLI (`dtr client add`), JSON requests with credentials,
and builders of valid records. Standard library only.

It builds on tests/integration/host_harness.py (the process, the port, the
log); the test files put both folders on sys.path.
"""

import base64
import http.client
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("DTR_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..", "..")))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))

from host_harness import Server, run_cli, sanitizer_clean  # noqa: E402,F401

PLUGIN_DIR = os.environ.get("DTR_PLUGIN_DIR", "build/plugins")

# A valid CVR-nummer (modulus 11) and P-nummer from the sample.
CVR = "74467334"
PNR = "1482983425"


def rest_config(public_read=True, rest=None, **extra):
    cfg = {
        "listen": "127.0.0.1:0",
        "public_read": public_read,
        "plugin_dir": PLUGIN_DIR,
        "plugins": [{"name": "rest", "config": rest or {}}],
    }
    cfg.update(extra)
    return cfg


class RestServer(Server):
    """A `dtr serve` with the rest plugin, and helpers to talk JSON to it."""

    def __init__(self, public_read=True, rest=None, start=True, **extra):
        super().__init__(rest_config(public_read, rest, **extra), start=start)

    # ---- clients ----

    def add_client(self, name, role, kommuner=None):
        """Creates a client with the CLI; returns its Authorization header value."""
        args = ["client", "add", "--name", name, "--role", role]
        if kommuner:
            args += ["--kommune", ",".join(str(k) for k in kommuner)]
        args += ["--config", self.config_path, "--data", self.data_dir]
        code, out, err = run_cli(args)
        if code != 0:
            raise AssertionError("dtr client add failed (%d): %s %s" % (code, out, err))
        info = json.loads(out)
        token = base64.b64encode(("%s:%s" % (info["clientId"], info["secret"])).encode()).decode()
        return "Basic " + token

    # ---- requests ----

    def call(self, method, path, body=None, auth=None, headers=None, ctype="application/json",
             conn=None):
        """One request. body: a dict/list (sent as JSON), bytes/str (sent as is) or None.
        Returns (status, headers with lower-case names, parsed JSON or raw bytes)."""
        h = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body).encode()
            if isinstance(data, str):
                data = data.encode()
            if ctype and "Content-Type" not in h:
                h["Content-Type"] = ctype
        if auth:
            h["Authorization"] = auth
        status, rh, raw = self.request(method, path, body=data, headers=h, conn=conn)
        ct = rh.get("content-type", "")
        if raw and ("json" in ct):
            return status, rh, json.loads(raw)
        return status, rh, raw

    def seq(self):
        """The newest sekvensnummer (the hændelser count: they are gapless)."""
        status, _, doc = self.call("GET", "/v1/haendelser/seneste", auth=self.reader_auth)
        assert status == 200, doc
        return doc["sekvensnummer"]

    reader_auth = None  # set by tests that turn public_read off


def adresse(kommune=101, **kw):
    a = {"vejNavn": "Rømersgade", "husNummer": "27", "postNummer": "1362",
         "byNavn": "København K", "kommuneKode": kommune}
    a.update(kw)
    return a


def daginstitution(kommune=101, ejerform=1, lovgrundlag=1, navn="Solsikken", units=None):
    d = {"navn": navn, "ejerformKode": ejerform, "lovgrundlagKode": lovgrundlag,
         "admKommuneKode": kommune}
    if units is not None:
        d["anvisningsenheder"] = units
    return d


def anvisningsenhed(parent=None, kommune=101, inst=6011, navn="Solsikken Børnehave", **kw):
    a = {"navn": navn, "instType3": inst, "adresse": adresse(kommune), "cvrNummer": CVR,
         "pNummer": PNR}
    if parent:
        a["daginstitutionsNummer"] = parent
    a.update(kw)
    return a


def alternativ_adresse(parent, kommune=101, navn="Solsikken, legepladsen"):
    return {"anvisningsenhedsNummer": parent, "navn": navn, "adresse": adresse(kommune)}


def problem_codes(doc):
    """The fejl codes of a problem document."""
    return [f["kode"] for f in doc.get("fejl", [])] if isinstance(doc, dict) else []


def raw_connection(srv):
    return http.client.HTTPConnection(srv.host, srv.port, timeout=60)
