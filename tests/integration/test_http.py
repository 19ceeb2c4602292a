#!/usr/bin/env python3
"""The HTTP server of the real binary, over real sockets.

Starts `$DTR_BIN serve` with the testroutes plugin ($DTR_TEST_PLUGIN_DIR) and
short limits, and checks the behaviour list of the HTTP layer: keep-alive,
pipelining with an asynchronous answer in the middle, HEAD, 100-continue,
chunked bodies, the refusals (400, 404, 405, 408, 413, 429, 431, 503), the
send timeout, request ids, the access log, /metrics and the graceful stop on
SIGTERM. Python standard library only.
"""
import base64
import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import time
import unittest

DTR_BIN = os.environ.get("DTR_BIN", "build/dtr")
PLUGIN_DIR = os.environ.get("DTR_TEST_PLUGIN_DIR", "build/tests/plugins")
SANITIZED = os.environ.get("DTR_SANITIZE", "0") in ("1", "ON", "TRUE", "true")
SLOW = 3 if SANITIZED else 1  # timing slack under ASan

LIMITS = {
    "max_header_bytes": 4096,
    "max_body_bytes": 65536,
    "header_timeout_ms": 300,
    "body_timeout_ms": 300,
    "send_timeout_ms": 500,
    "idle_timeout_ms": 5000,
    "shutdown_timeout_ms": 3000,
    "max_connections": 1000,
    "requests_per_second_per_client": 0,
}


class Server:
    """One `dtr serve` process with the testroutes plugin."""

    def __init__(self, **limits):
        self.tmp = tempfile.TemporaryDirectory(prefix="dtr-http-")
        cfg = {
            "listen": "127.0.0.1:0",
            "data_dir": os.path.join(self.tmp.name, "data"),
            "plugin_dir": PLUGIN_DIR,
            "plugins": [{"name": "testroutes", "config": {}}],
            "limits": dict(LIMITS, **limits),
        }
        self.cfg_path = os.path.join(self.tmp.name, "dtr.json")
        with open(self.cfg_path, "w") as f:
            json.dump(cfg, f)
        self.err_path = os.path.join(self.tmp.name, "stderr.log")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(
            [DTR_BIN, "serve", "--config", self.cfg_path, "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.port = None
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("the server did not report its port; stderr:\n" + self.log())

    def connect(self, rcvbuf=0):
        return Conn(self.port, rcvbuf)

    def log(self):
        self.err.flush()
        with open(self.err_path) as f:
            return f.read()

    def wait_log(self, text, count=1, timeout=30):
        """Waits until the server's log has count lines containing text (the
        event a test goes on after, never a pause); fails after timeout."""
        deadline = time.monotonic() + timeout
        while self.log().count(text) < count:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("no log line with %r; log:\n%s" % (text, self.log()))
            time.sleep(0.02)

    def stop(self):
        """SIGTERM; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc.stdout.close()
        self.err.close()
        return code

    def close(self):
        self.stop()
        self.tmp.cleanup()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> list of values
        self.body = body

    def header(self, name):
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def json(self):
        return json.loads(self.body.decode())


class Conn:
    """A client connection with a buffered reader (answers may arrive
    together when requests are pipelined)."""

    def __init__(self, port, rcvbuf=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(10 * SLOW)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self, head=False):
        status_line = self._line().decode()
        m = re.match(r"HTTP/1\.1 (\d{3}) ", status_line)
        if not m:
            raise AssertionError("bad status line %r" % status_line)
        status = int(m.group(1))
        headers = {}
        while True:
            line = self._line().decode("latin-1")
            if not line:
                break
            name, value = line.split(":", 1)
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        resp = Response(status, headers, b"")
        if head or status in (100, 204, 304):
            return resp
        if resp.header("content-length") is not None:
            resp.body = self._exact(int(resp.header("content-length")))
        elif resp.header("transfer-encoding") == "chunked":
            body = []
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    self._line()
                    break
                body.append(self._exact(size))
                self._line()
            resp.body = b"".join(body)
        else:
            chunks = [self.buf]
            self.buf = b""
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            resp.body = b"".join(chunks)
        return resp

    def request(self, method, path, headers=None, body=b"", head=False):
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: test"]
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        if body:
            lines.append("Content-Length: %d" % len(body))
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return self.response(head=head or method == "HEAD")

    def closed_by_server(self):
        """True when the server ends the connection (EOF or reset) while we
        wait; bytes already buffered do not count."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def wait_queued(sock, n, timeout=30):
    """Waits until at least n bytes the client has not read wait in its
    socket: the server wrote ahead of a client that does not read."""
    deadline = time.monotonic() + timeout
    buf = bytearray(4)
    while True:
        fcntl.ioctl(sock.fileno(), termios.FIONREAD, buf)
        if int.from_bytes(buf, sys.byteorder) >= n:
            return
        if time.monotonic() > deadline:
            raise AssertionError("the server sent nothing ahead")
        time.sleep(0.01)


def problem(resp):
    assert resp.header("content-type") == "application/problem+json", resp.headers
    doc = resp.json()
    assert doc["status"] == resp.status, doc
    for key in ("type", "title", "detail", "fejl"):
        assert key in doc, doc
    return doc["fejl"][0]["kode"]


class HttpTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.tmp.cleanup()
        assert code == 0, "exit status %s" % code

    def conn(self, **kw):
        c = self.server.connect(**kw)
        self.addCleanup(c.close)
        return c

    def test_keepalive_and_ids(self):
        c = self.conn()
        for _ in range(3):
            r = c.request("GET", "/test/fixed")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("content-type"), "application/json")
            self.assertEqual(json.loads(r.body)["status"], "ok")
            self.assertIsNotNone(r.header("date"))
            self.assertRegex(r.header("x-request-id"), r"^[0-9a-f]{16}$")
        r = c.request("GET", "/test/fixed", {"X-Request-Id": "trace-42"})
        self.assertEqual(r.header("x-request-id"), "trace-42")

    def test_pipelining_in_order(self):
        c = self.conn()
        c.send("GET /test/fixed HTTP/1.1\r\nHost: t\r\n\r\n"
               "GET /test/async?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n"
               "GET /test/items/5?q=x HTTP/1.1\r\nHost: t\r\n\r\n")
        self.assertEqual(json.loads(c.response().body)["status"], "ok")
        self.assertEqual(c.response().body, b"async\n")
        item = c.response().json()
        self.assertEqual((item["id"], item["q"]), ("5", "x"))

    def test_request_api(self):
        c = self.conn()
        r = c.request("GET", "/test/items/a%20b?q=%C3%A6+%26", {"X-Test": "one"})
        item = r.json()
        self.assertEqual(item["id"], "a b")
        self.assertEqual(item["q"], "æ &")
        self.assertEqual(item["x_test"], "one")
        self.assertEqual(item["path"], "/test/items/a b")
        self.assertEqual(item["request_id"], r.header("x-request-id"))

    def test_head(self):
        c = self.conn()
        get = c.request("GET", "/test/fixed")
        head = c.request("HEAD", "/test/fixed")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.header("content-length"), get.header("content-length"))
        self.assertEqual(c.request("GET", "/test/fixed").status, 200)  # no stray body bytes

    def test_expect_continue_and_bodies(self):
        c = self.conn()
        c.send("POST /test/echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
               "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        self.assertEqual(c.response().status, 100)
        c.send("hello")
        r = c.response()
        self.assertEqual((r.status, r.body, r.header("content-type")), (200, b"hello", "text/plain"))
        c.send("POST /test/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
               "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
        self.assertEqual(c.response().body, b"abcdefg")

    def test_413(self):
        c = self.conn()
        c.send("POST /test/small HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n"
               "Expect: 100-continue\r\n\r\n")
        r = c.response()
        self.assertEqual((r.status, problem(r)), (413, "FOR_STOR"))
        self.assertTrue(c.closed_by_server())
        # the body is sent anyway: the answer is still readable
        c = self.conn()
        c.send(b"POST /test/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 300000\r\n\r\n" +
               b"x" * 300000)
        r = c.response()
        self.assertEqual((r.status, problem(r)), (413, "FOR_STOR"))
        c = self.conn()
        c.send("POST /test/small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
               "40\r\n" + "y" * 64 + "\r\n1\r\nz\r\n0\r\n\r\n")
        r = c.response()
        self.assertEqual((r.status, problem(r)), (413, "FOR_STOR"))

    def test_431_and_400(self):
        c = self.conn()
        r = c.request("GET", "/test/fixed", {"X-Big": "b" * 5000})
        self.assertEqual((r.status, problem(r)), (431, "FOR_STORE_HOVEDER"))
        self.assertTrue(c.closed_by_server())
        c = self.conn()
        c.send("NOT HTTP AT ALL\r\n\r\n")
        r = c.response()
        self.assertEqual((r.status, problem(r)), (400, "UGYLDIG_FORESPOERGSEL"))
        self.assertEqual(r.header("connection"), "close")
        self.assertTrue(c.closed_by_server())

    def test_404_405(self):
        c = self.conn()
        r = c.request("GET", "/test/nothing")
        self.assertEqual((r.status, problem(r)), (404, "FINDES_IKKE"))
        r = c.request("POST", "/test/fixed", body=b"{}")
        self.assertEqual((r.status, problem(r)), (405, "FINDES_IKKE"))
        self.assertEqual(r.header("allow"), "GET, HEAD")
        self.assertEqual(c.request("GET", "/test/fixed").status, 200)

    def test_408_slowloris(self):
        c = self.conn()
        c.send("GET /test/fixed HTTP/1.1\r\nHost: t\r\n")
        r = c.response()
        self.assertEqual((r.status, problem(r)), (408, "TIMEOUT"))
        # a client that keeps dripping is cut off
        c = self.conn()
        c.send("GET /test/fixed HTTP/1.1\r\nX-Drip: ")
        cut = False
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline and not cut:
            try:
                c.sock.send(b"a")
                time.sleep(0.05)
            except OSError:
                cut = True
        self.assertTrue(cut)

    def test_http10_and_connection_close(self):
        c = self.conn()
        c.send("GET /test/fixed HTTP/1.0\r\n\r\n")
        r = c.response()
        self.assertEqual((r.status, r.header("connection")), (200, "close"))
        self.assertTrue(c.closed_by_server())
        c = self.conn()
        r = c.request("GET", "/test/fixed", {"Connection": "close"})
        self.assertEqual(r.header("connection"), "close")
        self.assertTrue(c.closed_by_server())

    def test_stream_and_slow_reader(self):
        c = self.conn(rcvbuf=16384)
        c.send("GET /test/stream?kib=4096 HTTP/1.1\r\nHost: t\r\n\r\n")
        # not reading while the server fills the socket (below the send timeout)
        wait_queued(c.sock, 8192)
        r = c.response()
        self.assertEqual(r.header("transfer-encoding"), "chunked")
        self.assertEqual(len(r.body), 4096 * 1024)
        self.assertEqual(c.request("GET", "/test/fixed").status, 200)

    def test_send_timeout(self):
        before = self.server.log().count("stopped reading for")
        c = self.conn(rcvbuf=8192)
        c.send("GET /test/stream?kib=4000000 HTTP/1.1\r\nHost: t\r\n\r\n")
        # the server gives up on a client that does not read, and says so
        self.server.wait_log("stopped reading for", count=before + 1)
        total = 0
        try:
            while True:
                chunk = c.sock.recv(1 << 20)
                if not chunk:
                    break
                total += len(chunk)
        except ConnectionResetError:
            pass
        self.assertLess(total, 1 << 30)

    def test_abort_then_serve(self):
        c = self.conn()
        c.send("GET /test/async?ms=5000 HTTP/1.1\r\nHost: t\r\nX-Request-Id: abort-1\r\n\r\n")
        self.server.wait_log("async abort-1 waits")
        c.close()
        self.server.wait_log("async abort-1 aborted")  # the plugin heard of it
        self.assertEqual(self.conn().request("GET", "/test/fixed").status, 200)

    def test_access_log_and_metrics(self):
        c = self.conn()
        c.request("GET", "/test/items/7?q=1", {"X-Request-Id": "log-check-1"})
        m = c.request("GET", "/metrics")
        self.assertEqual(m.status, 200)
        self.assertIn(b'route="/test/items/{id}"', m.body)
        self.assertIn(b"dtr_http_request_duration_seconds_bucket", m.body)
        line = None
        deadline = time.monotonic() + 30  # a deadline for failing, not a pause
        while time.monotonic() < deadline and line is None:
            for text in self.server.log().splitlines():
                if '"log-check-1"' in text:
                    line = json.loads(text)
            time.sleep(0.05)
        self.assertIsNotNone(line, "no access log line")
        self.assertEqual(line["method"], "GET")
        self.assertEqual(line["path"], "/test/items/7")
        self.assertEqual(line["status"], 200)
        for key in ("time", "bytes", "duration_ms", "request_id"):
            self.assertIn(key, line)

    def test_access_log_writes_utf8(self):
        """A path with æ is logged as UTF-8, not as \\u00XX escapes of its
        bytes; a byte that is no UTF-8 becomes U+FFFD and the line stays JSON."""
        c = self.conn()
        c.request("GET", "/test/items/%C3%A6bler%C3%B8", {"X-Request-Id": "log-utf8-1"})
        c.request("GET", "/test/items/a%FFb", {"X-Request-Id": "log-utf8-2"})
        lines = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(lines) < 2:
            for text in self.server.log().splitlines():
                for rid in ("log-utf8-1", "log-utf8-2"):
                    if '"%s"' % rid in text:
                        lines[rid] = text
            time.sleep(0.05)
        self.assertEqual(len(lines), 2, lines)
        self.assertIn('"path":"/test/items/æblerø"', lines["log-utf8-1"])
        self.assertNotIn("\\u00", lines["log-utf8-1"])
        self.assertEqual(json.loads(lines["log-utf8-2"])["path"], "/test/items/a\ufffdb")


class LimitsTest(unittest.TestCase):
    """Limits that need a server of their own."""

    def test_max_connections(self):
        s = Server(max_connections=3)
        try:
            held = [s.connect() for _ in range(3)]
            for h in held:
                self.assertEqual(h.request("GET", "/test/fixed").status, 200)
            extra = s.connect()
            extra.send("GET /test/fixed HTTP/1.1\r\nHost: t\r\n\r\n")
            r = extra.response()
            self.assertEqual((r.status, problem(r)), (503, "IKKE_KLAR"))
            self.assertIsNotNone(r.header("retry-after"))
            self.assertTrue(extra.closed_by_server())
            extra.close()
            self.assertEqual(held[0].request("GET", "/test/fixed").status, 200)
            for h in held:
                h.close()
        finally:
            self.assertEqual(s.stop(), 0)
            s.tmp.cleanup()

    def test_rate_limit(self):
        s = Server(requests_per_second_per_client=5)
        try:
            c = s.connect()
            c.send("GET /test/fixed HTTP/1.1\r\nHost: t\r\n\r\n" * 20)
            statuses = []
            for _ in range(20):
                r = c.response()
                statuses.append(r.status)
                if r.status == 429:
                    self.assertEqual(problem(r), "FOR_MANGE")
                    self.assertGreaterEqual(int(r.header("retry-after")), 1)
            self.assertGreaterEqual(statuses.count(200), 5)
            self.assertGreaterEqual(statuses.count(429), 1)
            c.close()
        finally:
            self.assertEqual(s.stop(), 0)
            s.tmp.cleanup()

    def test_rate_limit_per_client(self):
        """With credentials the bucket is the client's, not the address's:
        two clients behind one address each get their own rate."""
        s = Server(requests_per_second_per_client=5)
        try:
            def run(user, n):
                auth = base64.b64encode(user.encode() + b":secret").decode()
                c = s.connect()
                c.send(("GET /test/fixed HTTP/1.1\r\nHost: t\r\nAuthorization: Basic %s\r\n\r\n"
                        % auth) * n)
                statuses = [c.response().status for _ in range(n)]
                c.close()
                return statuses
            self.assertEqual(run("klient-a", 5), [200] * 5)
            self.assertEqual(run("klient-b", 5), [200] * 5)
            # the same client on another connection shares its bucket
            self.assertIn(429, run("klient-a", 5))
        finally:
            self.assertEqual(s.stop(), 0)
            s.tmp.cleanup()

    def test_sigterm_finishes_requests_in_flight(self):
        s = Server()
        try:
            idle = s.connect()
            self.assertEqual(idle.request("GET", "/test/fixed").status, 200)
            busy = s.connect()
            busy.send("GET /test/async?ms=800 HTTP/1.1\r\nHost: t\r\n"
                      "X-Request-Id: sigterm-busy\r\n\r\n")
            s.wait_log("async sigterm-busy waits")  # in flight when the signal comes
            s.proc.send_signal(signal.SIGTERM)
            self.assertTrue(idle.closed_by_server())
            r = busy.response()
            self.assertEqual((r.status, r.body), (200, b"async\n"))
            self.assertEqual(r.header("connection"), "close")
            self.assertEqual(s.proc.wait(timeout=30), 0)
            idle.close()
            busy.close()
        finally:
            s.stop()
            s.tmp.cleanup()


if __name__ == "__main__":
    if not os.path.exists(DTR_BIN):
        print("test_http: %s does not exist (build the dtr target)" % DTR_BIN, file=sys.stderr)
        sys.exit(1)
    unittest.main(verbosity=2)
