"""TLS in front of dtr: config/nginx-tls.conf, run for real on loopback with
a self-signed certificate (docs/tls.md). Skips, saying why, where nginx or
openssl is not installed (scripts/deps installs both)."""

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import base64

sys.path.insert(0, os.path.dirname(__file__))
import host_harness as hh  # noqa: E402

SOURCE_DIR = os.environ.get("DTR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
PLUGIN_DIR = os.environ.get("DTR_PLUGIN_DIR", "build/plugins")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
OPENSSL = shutil.which("openssl")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proxy_config(template, upstream_port, tls_port, plain_port, cert, key, tmp):
    """The shipped config with only its REPLACE-marked lines changed."""
    out = []
    for line in template.splitlines():
        if "REPLACE-UPSTREAM" in line:
            line = "        server 127.0.0.1:%d;" % upstream_port
        elif "REPLACE-LISTEN" in line:
            line = "        listen 127.0.0.1:%d ssl;" % tls_port
        elif "REPLACE-PLAIN" in line:
            line = "        listen 127.0.0.1:%d;" % plain_port
        elif "REPLACE-CERT" in line:
            line = "        ssl_certificate %s;" % cert
        elif "REPLACE-KEY" in line:
            line = "        ssl_certificate_key %s;" % key
        elif "REPLACE-NAME" in line:
            line = "        server_name localhost;"
        out.append(line)
    text = "\n".join(out) + "\n"
    # nginx as a test user: its own pid, logs and temp paths, in the foreground.
    text = text.replace("worker_processes auto;",
                        "worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\n"
                        "error_log %s/error.log;" % (tmp, tmp))
    text = text.replace("http {", "http {\n    access_log off;\n"
                        "    client_body_temp_path %s/body;\n    proxy_temp_path %s/proxy;\n"
                        "    fastcgi_temp_path %s/fcgi;\n    uwsgi_temp_path %s/uwsgi;\n"
                        "    scgi_temp_path %s/scgi;" % (tmp, tmp, tmp, tmp, tmp), 1)
    return text


@unittest.skipIf(NGINX is None or OPENSSL is None, "nginx and openssl are needed (scripts/deps installs them)")
class TlsProxy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dtr-tls-")
        cls.cert = os.path.join(cls.tmp, "cert.pem")
        cls.key = os.path.join(cls.tmp, "key.pem")
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                        "-keyout", cls.key, "-out", cls.cert],
                       check=True, capture_output=True)
        cfg = hh.base_config(plugin_dir=PLUGIN_DIR, plugins=[{"name": "rest", "config": {}}])
        cls.server = hh.Server(cfg)
        rc, out, err = hh.run_cli(["client", "add", "--name", "tls", "--role", "support",
                                   "--data", cls.server.data_dir, "--config", cls.server.config_path])
        assert rc == 0, err
        c = json.loads(out)
        cls.auth = "Basic " + base64.b64encode(
            ("%s:%s" % (c["clientId"], c["secret"])).encode()).decode()
        cls.tls_port, plain = free_port(), free_port()
        with open(os.path.join(SOURCE_DIR, "config", "nginx-tls.conf")) as f:
            template = f.read()
        conf = os.path.join(cls.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(proxy_config(template, cls.server.port, cls.tls_port, plain, cls.cert, cls.key,
                                 cls.tmp))
        cls.nginx = subprocess.Popen([NGINX, "-c", conf, "-p", cls.tmp],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.tls_port), timeout=1).close()
                break
            except OSError:
                if cls.nginx.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("nginx did not start: " +
                                         cls.nginx.stderr.read().decode(errors="replace"))
                time.sleep(0.05)
        cls.ctx = ssl.create_default_context(cafile=cls.cert)

    @classmethod
    def tearDownClass(cls):
        cls.nginx.terminate()
        cls.nginx.wait(timeout=10)
        cls.server.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def https(self, method, path, body=None, headers=None):
        conn = http.client.HTTPSConnection("localhost", self.tls_port, context=self.ctx, timeout=20)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, r.headers, data

    def test_read_through_tls(self):
        status, headers, body = self.https("GET", "/v1/kodetabeller/ejerformer")
        self.assertEqual(status, 200)
        self.assertIn({"kode": 3, "tekst": "Privat"}, json.loads(body))
        self.assertTrue(headers.get("X-Request-Id"))

    def test_authenticated_write_through_tls(self):
        doc = {"navn": "Over TLS", "ejerformKode": 1, "lovgrundlagKode": 1, "admKommuneKode": 101}
        status, headers, body = self.https(
            "POST", "/v1/daginstitutioner", json.dumps(doc).encode(),
            {"Content-Type": "application/json", "Authorization": self.auth})
        self.assertEqual(status, 201, body)
        nummer = json.loads(body)["nummer"]
        self.assertTrue(re.match(r"^[A-Z][0-9]{5}$", nummer))
        status, _, body = self.https("GET", "/v1/daginstitutioner/" + nummer)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["navn"], "Over TLS")

    def test_refusal_passes_unchanged(self):
        status, headers, body = self.https(
            "POST", "/v1/daginstitutioner", b"{}", {"Content-Type": "application/json"})
        self.assertEqual(status, 401)
        self.assertEqual(headers.get("WWW-Authenticate"), 'Basic realm="dtr"')
        self.assertEqual(json.loads(body)["fejl"][0]["kode"], "IKKE_AUTENTIFICERET")

    def test_certificate_is_checked(self):
        # A client that does not trust the self-signed certificate is refused:
        # the proxy really speaks TLS.
        conn = http.client.HTTPSConnection("localhost", self.tls_port,
                                           context=ssl.create_default_context(), timeout=20)
        with self.assertRaises(ssl.SSLError):
            conn.request("GET", "/healthz")
            conn.getresponse()
        conn.close()


if __name__ == "__main__":
    unittest.main()
