"""host_harness -- starting the real `dtr` binary for the host's integration
tests (test_cli, test_loader, test_lifecycle, test_ops). Standard library
only.

A Server writes a config into a fresh temporary directory, runs
`dtr serve --config ... --listen 127.0.0.1:0`, waits for the one line
"listening on http://HOST:PORT" on stdout, and collects stderr (the log) in
a file that tests can read or wait on. Every wait has a generous upper bound
so a hung server fails the test instead of hanging it; nothing asserts how
fast anything is.
"""

import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time

DTR_BIN = os.environ.get("DTR_BIN", "build/dtr")
TEST_PLUGIN_DIR = os.environ.get("DTR_TEST_PLUGIN_DIR", "build/tests/plugins")
SANITIZE = os.environ.get("DTR_SANITIZE", "0") not in ("0", "", "OFF", "FALSE", "false")

# Upper bounds only, deadlines for failing (never waited out by a passing
# test): generous, because sanitizer builds are slower and the suite must pass
# on a machine under load (tests/stress-suite.sh).
START_TIMEOUT = 120 if SANITIZE else 60
EXIT_TIMEOUT = 240 if SANITIZE else 120

LISTEN_LINE = re.compile(r"^listening on http://([^\s]+):(\d+)$")


def run_cli(args, cwd=None, timeout=EXIT_TIMEOUT):
    """Runs `dtr ARGS`; returns (exit code, stdout, stderr) as text."""
    p = subprocess.run([DTR_BIN] + list(args), cwd=cwd, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def base_config(**overrides):
    """A config for tests: port 0, the test plugins' directory, no plugins."""
    cfg = {
        "listen": "127.0.0.1:0",
        "plugin_dir": TEST_PLUGIN_DIR,
        "plugins": [],
    }
    cfg.update(overrides)
    return cfg


def wait_until(predicate, timeout=START_TIMEOUT, what="condition"):
    """Polls predicate until it returns a true value; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


class Server:
    """One `dtr serve` process on an ephemeral port."""

    def __init__(self, config, extra_args=(), start=True, preexec_fn=None):
        self.tmp = tempfile.mkdtemp(prefix="dtr-host-test-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.config_path = os.path.join(self.tmp, "dtr.json")
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        self.write_config(config)
        self.extra_args = list(extra_args)
        self.preexec_fn = preexec_fn  # runs in the child before exec (resource limits)
        self.proc = None
        self.port = None
        self.host = None
        if start:
            self.start()

    def write_config(self, config):
        """Replaces the config file (atomically, as an operator's editor
        would) with config: a dict, or a string written as it is."""
        text = config if isinstance(config, str) else json.dumps(config, indent=2)
        tmp = self.config_path + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config_path)

    def start(self):
        self._stderr = open(self.stderr_path, "w")
        args = [DTR_BIN, "serve", "--config", self.config_path, "--data", self.data_dir]
        self.proc = subprocess.Popen(args + self.extra_args, stdout=subprocess.PIPE,
                                     stderr=self._stderr, text=True,
                                     preexec_fn=self.preexec_fn)
        line = self._read_stdout_line(START_TIMEOUT)
        m = LISTEN_LINE.match(line.rstrip("\n"))
        if not m:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("no listening line; stdout %r, stderr:\n%s"
                                 % (line, self.stderr()))
        self.host, self.port = m.group(1), int(m.group(2))

    def _read_stdout_line(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        buf = b""
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                break
            chunk = os.read(fd, 1)
            if not chunk:
                break
            buf += chunk
        return buf.decode("utf-8", "replace")

    # ---- talking to it ----

    def connection(self, timeout=EXIT_TIMEOUT):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        """One request; returns (status, headers dict (lower-case names), body bytes)."""
        own = conn is None
        conn = conn or self.connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            if own:
                conn.close()

    def get_json(self, path, conn=None):
        status, headers, body = self.request("GET", path, conn=conn)
        return status, json.loads(body) if body else None

    def raw_socket(self):
        s = socket.create_connection((self.host, self.port), timeout=EXIT_TIMEOUT)
        return s

    # ---- signals, exit, log ----

    def signal(self, signum):
        self.proc.send_signal(signum)

    def wait(self, timeout=EXIT_TIMEOUT):
        """Waits for the process to exit; returns its exit code."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("dtr did not exit; stderr:\n" + self.stderr())

    def stop(self):
        """SIGTERM and wait: the exit code."""
        self.signal(signal.SIGTERM)
        return self.wait()

    def stderr(self):
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, needle, count=1, timeout=START_TIMEOUT):
        """Waits until needle appears at least count times in the log."""
        return wait_until(lambda: self.stderr().count(needle) >= count, timeout,
                          "%r in the log (x%d)" % (needle, count))

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if hasattr(self, "_stderr"):
            self._stderr.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def sanitizer_clean(stderr_text):
    """True when the log shows no sanitizer report."""
    return ("AddressSanitizer" not in stderr_text and "LeakSanitizer" not in stderr_text
            and "runtime error:" not in stderr_text)
