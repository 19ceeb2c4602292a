"""portal_http -- what the portal plugin's integration tests and benchmark
share (tests/integration/test_portal*.py, tests/bench/portal_webhook_lag.py):
a `dtr serve` with the rest and portal plugins, a webhook receiver on
loopback (http.server in a thread) with a policy per request, and the
Standard Webhooks signature check with `openssl pkeyutl -verify -rawin`.
Standard library only (and the openssl command line).
"""

import base64
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("DTR_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..", "..")))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "plugins", "rest", "tests"))

from host_harness import run_cli, sanitizer_clean, wait_until  # noqa: E402,F401
from rest_http import (RestServer, adresse, alternativ_adresse, anvisningsenhed,  # noqa: E402,F401
                       daginstitution)

PLUGIN_DIR = os.environ.get("DTR_PLUGIN_DIR", "build/plugins")

# The DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 key bytes follow.
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


class PortalServer(RestServer):
    """`dtr serve` with rest (for writes) and portal configured as given."""

    def __init__(self, portal_config, public_read=True, start=True):
        self.portal_config = portal_config
        cfg = {
            "listen": "127.0.0.1:0",
            "public_read": public_read,
            "plugin_dir": PLUGIN_DIR,
            "plugins": [{"name": "rest", "config": {}},
                        {"name": "portal", "config": portal_config}],
        }
        # RestServer.__init__ would write its own config: go to Server directly.
        super(RestServer, self).__init__(cfg, start=False)
        if start:
            self.start()

    def start(self):
        """Starts the server; skips the calling test while the host does not
        yet lend plugins the register, the feed and the signing key (ABI 1.1
        and 1.2 on the host's side are being wired in parallel)."""
        try:
            super().start()
        except AssertionError as e:
            text = str(e)
            if "lacks the register functions" in text or "the host does not provide" in text:
                self.close()
                raise unittest.SkipTest("the host does not lend plugins the register, feed and "
                                        "signing key yet: " + text.strip().splitlines()[-1])
            raise

    def public_key(self):
        """The server's Ed25519 public key (32 bytes) from `dtr version --keys`."""
        code, out, err = run_cli(["version", "--keys", "--config", self.config_path,
                                  "--data", self.data_dir])
        assert code == 0, err
        for line in out.splitlines():
            if line.startswith("signing-key: "):
                key = base64.b64decode(line[len("signing-key: "):].strip())
                assert len(key) == 32, line
                return key
        raise AssertionError("no signing-key line in %r" % out)

    def kill(self):
        """Ends the process at once (a crash), leaving the data directory."""
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self._stderr.close()


class Hit:
    """One request the receiver got."""

    def __init__(self, headers, body, status):
        self.id = headers.get("webhook-id")
        self.timestamp = headers.get("webhook-timestamp")
        self.signature = headers.get("webhook-signature")
        self.content_type = headers.get("content-type")
        self.body = body
        self.json = json.loads(body) if body else None
        self.status = status
        self.received = time.monotonic()


class Receiver:
    """A webhook receiver on 127.0.0.1. policy(hit_number, id, attempts_of_this_id) returns
    the status to answer; the default answers 200 to everything."""

    def __init__(self, policy=None):
        self.policy = policy or (lambda n, wid, attempt: 200)
        self.hits = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    wid = headers.get("webhook-id")
                    attempt = 1 + sum(1 for h in receiver.hits if h.id == wid)
                    status = receiver.policy(len(receiver.hits), wid, attempt)
                    receiver.hits.append(Hit(headers, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                # dtr gives up on an attempt past its timeout and closes the
                # connection: expected of a flaky receiver, not worth a trace
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def snapshot(self):
        with self.lock:
            return list(self.hits)

    def delivered(self):
        """The hits answered 2xx, in the order they came."""
        return [h for h in self.snapshot() if 200 <= h.status < 300]

    def wait_delivered(self, n, timeout=60):
        return wait_until(lambda: len(self.delivered()) >= n and self.delivered(), timeout,
                          "%d webhooks delivered (have %d)" % (n, len(self.delivered())))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def verify_signature(public_key, hit):
    """True when hit's webhook-signature is a valid Ed25519 signature of
    '<webhook-id>.<webhook-timestamp>.<body>' by public_key (openssl)."""
    entries = [e for e in hit.signature.split(" ") if e.startswith("v1a,")]
    if len(entries) != 1:
        return False
    sig_b64 = entries[0][len("v1a,"):]
    with tempfile.TemporaryDirectory(prefix="dtr-portal-sig-") as tmp:
        pem = os.path.join(tmp, "pub.pem")
        msg = os.path.join(tmp, "msg")
        sig = os.path.join(tmp, "sig")
        der = base64.b64encode(ED25519_SPKI_PREFIX + public_key).decode()
        with open(pem, "w") as f:
            f.write("-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" % der)
        with open(msg, "wb") as f:
            f.write(("%s.%s.%s" % (hit.id, hit.timestamp, hit.body)).encode())
        with open(sig, "wb") as f:
            f.write(base64.b64decode(sig_b64))
        p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin",
                            "-in", msg, "-sigfile", sig], capture_output=True)
        return p.returncode == 0
