"""uni_http -- what the integration tests of the consumer plugins share
(tests/integration/test_unilogin*.py, test_statistik*.py): a `dtr serve`
with the rest, unilogin and statistik plugins, clients made with the real
CLI (`dtr client add`), JSON requests with credentials, the unilogin export
files, today's date in Copenhagen, and an Ed25519 verifier (RFC 8032,
section 5.1.7) so that the files' signatures are checked against the key
`dtr version --keys` prints. Standard library only.

It builds on tests/integration/host_harness.py (the process, the port, the
log).
"""

import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("DTR_SOURCE_DIR",
                            os.path.abspath(os.path.join(HERE, "..", "..", "..")))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))

from host_harness import (Server, run_cli, sanitizer_clean,  # noqa: E402,F401
                          wait_until, START_TIMEOUT)

PLUGIN_DIR = os.environ.get("DTR_PLUGIN_DIR", "build/plugins")

# Valid CVR-numre (modulus 11) and P-numre.
CVR = "10000009"
CVR2 = "10000017"

FILE_NAME = re.compile(r"^unilogin-(\d+)-(\d+)\.json$")


def copenhagen_today():
    """Today's date in Europe/Copenhagen (the register's calendar)."""
    try:
        from zoneinfo import ZoneInfo
        return datetime.datetime.now(ZoneInfo("Europe/Copenhagen")).date()
    except Exception:  # no tz database: the EU rule by hand
        now = datetime.datetime.now(datetime.timezone.utc)

        def last_sunday(month):
            d = datetime.datetime(now.year, month, 31, 1, tzinfo=datetime.timezone.utc)
            return d - datetime.timedelta(days=(d.weekday() + 1) % 7)
        summer = last_sunday(3) <= now < last_sunday(10)
        return (now + datetime.timedelta(hours=2 if summer else 1)).date()


def consumer_config(unilogin=None, statistik=None, public_read=True, **extra):
    cfg = {
        "listen": "127.0.0.1:0",
        "public_read": public_read,
        "plugin_dir": PLUGIN_DIR,
        "plugins": [{"name": "rest", "config": {}},
                    {"name": "unilogin", "config": unilogin or {}},
                    {"name": "statistik", "config": statistik or {}}],
    }
    cfg.update(extra)
    return cfg


class ConsumerServer(Server):
    """`dtr serve` with rest, unilogin and statistik, and JSON helpers."""

    def __init__(self, unilogin=None, statistik=None, public_read=True, **extra):
        try:
            super().__init__(consumer_config(unilogin, statistik, public_read, **extra))
        except AssertionError as e:
            # until the host serves the register, the feed and signing, the
            # plugins refuse to start: nothing to test yet
            if "lacks the register functions" in str(e) or "the host lacks" in str(e):
                self.close()
                raise unittest.SkipTest("the host does not serve the register and the feed yet")
            raise

    def restart(self):
        """Starts the process again after it exited (a fresh log file)."""
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if hasattr(self, "_stderr"):
            self._stderr.close()
        self.start()

    def add_client(self, name, role):
        """Creates a client with the CLI; returns its Authorization header value."""
        code, out, err = run_cli(["client", "add", "--name", name, "--role", role,
                                  "--config", self.config_path, "--data", self.data_dir])
        if code != 0:
            raise AssertionError("dtr client add failed (%d): %s %s" % (code, out, err))
        info = json.loads(out)
        token = base64.b64encode(("%s:%s" % (info["clientId"], info["secret"])).encode())
        return "Basic " + token.decode()

    def call(self, method, path, body=None, auth=None, headers=None):
        """One request; returns (status, headers with lower-case names, JSON or bytes)."""
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if auth:
            h["Authorization"] = auth
        status, rh, raw = self.request(method, path, body=data, headers=h)
        if raw and "json" in rh.get("content-type", ""):
            return status, rh, json.loads(raw)
        return status, rh, raw

    def ok(self, method, path, body=None, auth=None, status=None):
        st, _, doc = self.call(method, path, body, auth)
        want = status or (201 if method == "POST" and not path.endswith(
            ("/nedlaeg", "/flyt")) else 204 if method == "DELETE" else 200)
        if st != want:
            raise AssertionError("%s %s: %d %s" % (method, path, st, doc))
        return doc

    def seq(self):
        return self.ok("GET", "/v1/haendelser/seneste")["sekvensnummer"]

    def signing_key(self):
        """The 32-byte public key `dtr version --keys` prints for this data directory."""
        code, out, err = run_cli(["version", "--keys", "--config", self.config_path,
                                  "--data", self.data_dir])
        assert code == 0, err
        line = [ln for ln in out.splitlines() if ln.startswith("signing-key: ")][0]
        return base64.b64decode(line.split(": ", 1)[1])

    # ---- the unilogin export ----

    def export_dir(self):
        return os.path.join(self.data_dir, "export", "unilogin")

    def export_files(self):
        """[(fra, til, path)] of the .json files, by fra. Fails on a .json
        without its .sig."""
        d = self.export_dir()
        if not os.path.isdir(d):
            return []
        files = []
        for name in os.listdir(d):
            m = FILE_NAME.match(name)
            if not m:
                continue
            path = os.path.join(d, name)
            assert os.path.exists(path + ".sig"), name + " has no .sig"
            files.append((int(m.group(1)), int(m.group(2)), path))
        return sorted(files)

    def wait_files_until(self, seq, timeout=START_TIMEOUT):
        """Waits until a file's til reaches seq; returns the files."""
        return wait_until(lambda: [f for f in self.export_files() if f[1] >= seq]
                          and self.export_files(), timeout, "unilogin files up to %d" % seq)

    def read_verified(self, path, public_key):
        """The change set of one file after checking its signature."""
        with open(path, "rb") as f:
            body = f.read()
        with open(path + ".sig", "rb") as f:
            sig = base64.b64decode(f.read(), validate=True)
        assert len(sig) == 64, path
        assert ed25519_verify(public_key, body, sig), "bad signature on " + path
        return json.loads(body)


# ---- a generated register, a client that leaves ----

def load_generated(srv, units, seed=7):
    """Stops srv, loads a register of `units` generated units into its data
    directory (`dtr generate`, `dtr import`) and starts it again."""
    assert srv.stop() == 0, srv.stderr()
    work = tempfile.mkdtemp(prefix="dtr-gen-")
    try:
        gen = os.path.join(work, "gen")
        args = ["--config", srv.config_path]
        code, out, err = run_cli(["generate", "--units", str(units), "--seed", str(seed)] + args
                                 + [gen])
        assert code == 0, "generate: %s %s" % (out, err)
        code, out, err = run_cli(["import"] + args + ["--data", srv.data_dir, gen])
        assert code == 0, "import: %s %s" % (out, err)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    srv.restart()


def read_a_little_and_leave(srv, path, headers="", nbytes=200):
    """Sends a GET for path on a connection with a small receive buffer,
    reads about nbytes of the answer and closes the connection (the server
    sees a client that went away mid-stream). Returns what was read."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect((srv.host, srv.port))
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: test\r\n%s\r\n" % (path, headers)).encode())
        got = b""
        while len(got) < nbytes:
            chunk = s.recv(nbytes - len(got))
            if not chunk:
                break
            got += chunk
        # a reset, not an orderly close, so the server's next write fails
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        return got
    finally:
        s.close()


def left_mid_stream(srv, path, count):
    """Waits until the access log shows `count` requests for path that the
    client left before the end (status 499); returns their bytes sent."""
    def left():
        sent = []
        for line in srv.stderr().splitlines():
            if '"source":"access"' not in line:
                continue
            entry = json.loads(line)
            if entry.get("path") == path and entry.get("status") == 499:
                sent.append(entry.get("bytes", 0))
        return sent if len(sent) >= count else None
    return wait_until(left, what="%d clients leaving %s in the log" % (count, path))


# ---- records ----

def adresse(kommune=101):
    return {"vejNavn": "Rømersgade", "husNummer": "27", "postNummer": "1362",
            "byNavn": "København K", "kommuneKode": kommune}


def daginstitution(kommune=101, ejerform=1, lovgrundlag=1, navn="Solsikken", units=None, **kw):
    d = {"navn": navn, "ejerformKode": ejerform, "lovgrundlagKode": lovgrundlag,
         "admKommuneKode": kommune}
    if units is not None:
        d["anvisningsenheder"] = units
    d.update(kw)
    return d


def anvisningsenhed(parent=None, kommune=101, inst=6011, navn="Solsikken Børnehave", cvr=CVR,
                    pnr="1000000001", **kw):
    a = {"navn": navn, "instType3": inst, "adresse": adresse(kommune)}
    if cvr:
        a["cvrNummer"] = cvr
    if pnr:
        a["pNummer"] = pnr
    if parent:
        a["daginstitutionsNummer"] = parent
    a.update(kw)
    return a


def alternativ_adresse(parent, navn="Skovgruppen", cvr=CVR, pnr="1000000009", kommune=101):
    a = {"anvisningsenhedsNummer": parent, "navn": navn, "adresse": adresse(kommune)}
    if cvr:
        a["cvrNummer"] = cvr
    if pnr:
        a["pNummer"] = pnr
    return a


def problem_codes(doc):
    return [f["kode"] for f in doc.get("fejl", [])] if isinstance(doc, dict) else []


# ---- Ed25519 verification (RFC 8032, 5.1.7), written for these tests ----

_P = 2 ** 255 - 19
_L = 2 ** 252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _add(a, b):
    """Adds two points in extended coordinates (X, Y, Z, T) on the twisted
    Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 (a unified formula: doubles too)."""
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % _P
    bb = (y1 + x1) * (y2 + x2) % _P
    cc = t1 * 2 * _D * t2 % _P
    dd = z1 * 2 * z2 % _P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(k, point):
    result = (0, 1, 1, 0)
    while k:
        if k & 1:
            result = _add(result, point)
        point = _add(point, point)
        k >>= 1
    return result


def _decode(s):
    """The point whose 32-byte encoding is s, or None."""
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


def _same(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


_BY = 4 * pow(5, _P - 2, _P) % _P
_B = _decode(_BY.to_bytes(32, "little"))


def ed25519_verify(public_key, message, signature):
    """True when signature is public_key's Ed25519 signature of message."""
    if len(signature) != 64:
        return False
    a = _decode(public_key)
    r = _decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(),
                       "little") % _L
    return _same(_mul(s, _B), _add(r, _mul(h, a)))
