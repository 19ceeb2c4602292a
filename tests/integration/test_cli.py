"""The command line of API.md: dtr version, dtr --help, usage errors (exit
2), refused operations (exit 1), --config/--data anywhere after the command,
and the one "listening on" line of dtr serve."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from host_harness import (DTR_BIN, Server, base_config, run_cli,  # noqa: E402
                          sanitizer_clean)


def one_line(text):
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) == 1


class TestCli(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dtr-cli-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write_config(self, cfg, name="dtr.json"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(cfg if isinstance(cfg, str) else json.dumps(cfg))
        return path

    # ---- version and help ----

    def test_version(self):
        code, out, err = run_cli(["version"])
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"^dtr \d+\.\d+\.\d+ \(plugin ABI \d+\.\d+\)\n$")
        # the common flags are accepted by every command
        code, out2, err = run_cli(["version", "--config", "/nonexistent", "--data", self.tmp])
        self.assertEqual(code, 0, err)
        self.assertEqual(out, out2)

    def test_help(self):
        code, out, err = run_cli(["--help"])
        self.assertEqual(code, 0)
        self.assertIn("usage: dtr", out)
        self.assertIn("serve", out)
        self.assertIn("version", out)
        self.assertIn("--config FILE", out)
        # commands not in this build are not offered
        for missing in ("import", "export", "generate", "client", "audit", "check"):
            listed = re.search(r"^\s+%s\s" % missing, out, re.M)
            if listed:
                code, _, _ = run_cli([missing, "--help"])
                self.assertEqual(code, 0, "%s is listed but does not run" % missing)

    def test_version_keys(self):
        data = os.path.join(self.tmp, "keys")
        path = self.write_config(base_config())
        code, out, err = run_cli(["version", "--keys", "--config", path, "--data", data])
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^dtr \d+\.\d+\.\d+ ")
        self.assertRegex(lines[1], r"^signing-key: [A-Za-z0-9+/]{43}=$")
        # the same key next time: it lives in the data directory
        code, out2, err = run_cli(["version", "--data", data, "--config", path, "--keys"])
        self.assertEqual(out2, out)

    def test_client_and_audit_commands_are_wired(self):
        data = os.path.join(self.tmp, "clients")
        path = self.write_config(base_config())
        common = ["--config", path, "--data", data]
        code, out, err = run_cli(["client", "add", "--name", "Tester", "--role", "laeser"] + common)
        self.assertEqual(code, 0, err)
        added = json.loads(out)
        code, out, err = run_cli(["client"] + common + ["list"])
        self.assertEqual(code, 0, err)
        self.assertEqual([c["clientId"] for c in json.loads(out)], [added["clientId"]])
        code, out, err = run_cli(["audit", "verify"] + common)
        self.assertEqual(code, 0, err)
        self.assertTrue(json.loads(out)["ok"])
        self.check_usage(["client"], "missing argument")
        self.check_usage(["audit", "check"] + common, 'unknown action "check"')

    def test_command_help(self):
        code, out, _ = run_cli(["serve", "--help"])
        self.assertEqual(code, 0)
        self.assertIn("usage: dtr serve [--listen HOST:PORT]", out)

    # ---- bad usage: exit 2, one line on stderr ----

    def check_usage(self, args, needle):
        code, out, err = run_cli(args)
        self.assertEqual(code, 2, "%s: exit %d, stderr %r" % (args, code, err))
        self.assertTrue(one_line(err), "%s: stderr %r" % (args, err))
        self.assertIn(needle, err)
        self.assertEqual(out, "")

    def test_no_command(self):
        code, out, err = run_cli([])
        self.assertEqual(code, 2)
        self.assertIn("usage: dtr", err)

    def test_unknown_command(self):
        self.check_usage(["frobnicate"], 'unknown command "frobnicate"')

    def test_unknown_flag(self):
        self.check_usage(["serve", "--bogus"], 'unknown option "--bogus"')
        self.check_usage(["version", "--keys-please"], 'unknown option "--keys-please"')

    def test_missing_value(self):
        self.check_usage(["serve", "--listen"], "--listen needs a value")
        self.check_usage(["serve", "--config"], "--config needs a value")
        self.check_usage(["serve", "--data="], "--data needs a value")

    def test_bad_listen_flag(self):
        self.check_usage(["serve", "--listen", "nowhere"], "--listen: expected HOST:PORT")

    def test_unexpected_argument(self):
        self.check_usage(["version", "extra"], 'unexpected argument "extra"')

    # ---- refused: exit 1, the reason on stderr ----

    def test_missing_config_file(self):
        code, _, err = run_cli(["serve", "--config", os.path.join(self.tmp, "none.json")])
        self.assertEqual(code, 1)
        self.assertTrue(one_line(err), err)
        self.assertIn("cannot read", err)

    def test_bad_config_names_the_key(self):
        cases = [
            ({"limits": {"max_body_bytes": -1}},
             "config: limits.max_body_bytes: expected a positive integer"),
            ({"limits": {"max_connections": 0}},
             "config: limits.max_connections: expected a positive integer"),
            ({"public_read": "yes"}, "config: public_read: expected true or false"),
            ({"plugins": [{"name": "good", "conf": {}}]}, "config: plugins[0].conf: unknown key"),
            ({"listen": "127.0.0.1:0", "extra": 1}, "config: extra: unknown key"),
        ]
        for cfg, want in cases:
            path = self.write_config(cfg)
            code, _, err = run_cli(["serve", "--config", path, "--data", self.tmp])
            self.assertEqual(code, 1, err)
            self.assertTrue(one_line(err), err)
            self.assertEqual(err.strip(), "dtr serve: " + want)

    def test_store_config_errors_are_refused_at_start(self):
        cases = [
            ({"driver": "postgresql"},
             "config: store.dsn: required by the postgresql driver (a libpq connection string)"),
            ({"driver": "sqlite", "dsn": "host=db"},
             "config: store.dsn: only the postgresql driver takes a dsn"),
            ({"driver": "oracle"},
             'config: store.driver: unknown driver "oracle" (this build has "sqlite" and '
             '"postgresql")'),
        ]
        data = os.path.join(self.tmp, "var")
        for store, want in cases:
            path = self.write_config({"listen": "127.0.0.1:0", "store": store})
            for words in (["serve"], ["client", "list"], ["check"]):
                code, _, err = run_cli(words + ["--config", path, "--data", data])
                self.assertEqual(code, 1, (words, err))
                self.assertIn(want, err, words)
                self.assertFalse(os.path.exists(os.path.join(data, "dtr.sqlite")), words)

    def test_unreachable_postgresql_is_refused_without_its_password(self):
        """A database that cannot be reached stops the start with libpq's
        reason; the password in the dsn is never printed."""
        data = os.path.join(self.tmp, "var")
        dsn = "host=127.0.0.1 port=1 dbname=dtr user=dtr password=hemmelig connect_timeout=5"
        path = self.write_config({"listen": "127.0.0.1:0",
                                  "store": {"driver": "postgresql", "dsn": dsn}})
        for words in (["serve"], ["client", "list"], ["check"]):
            code, _, err = run_cli(words + ["--config", path, "--data", data])
            self.assertEqual(code, 1, (words, err))
            self.assertIn("postgresql", err, words)
            self.assertNotIn("hemmelig", err, words)
            self.assertFalse(os.path.exists(os.path.join(data, "dtr.sqlite")), words)

    def test_syntax_error(self):
        path = self.write_config('{"listen": "127.0.0.1:0",\n "plugins": [}\n')
        code, _, err = run_cli(["serve", "--config", path])
        self.assertEqual(code, 1)
        self.assertIn(path + ":2:", err)

    def test_cannot_bind(self):
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        try:
            path = self.write_config(base_config())
            code, out, err = run_cli(["serve", "--config", path, "--data", self.tmp,
                                      "--listen", "127.0.0.1:%d" % port])
            self.assertEqual(code, 1, err)
            self.assertEqual(out, "")
            self.assertIn("dtr serve: cannot listen on 127.0.0.1:%d" % port, err)
            self.assertTrue(sanitizer_clean(err), err)
        finally:
            holder.close()

    # ---- serve: the line, flags anywhere, the data directory ----

    def test_serve_prints_listening_line_and_creates_data_dir(self):
        with Server(base_config()) as srv:
            self.assertEqual(srv.host, "127.0.0.1")
            self.assertGreater(srv.port, 0)
            self.assertTrue(os.path.isdir(srv.data_dir))
            status, _, _ = srv.request("GET", "/healthz")
            self.assertEqual(status, 200)
            self.assertEqual(srv.stop(), 0)

    def test_flags_anywhere_and_equals_form(self):
        data = os.path.join(self.tmp, "deep", "er", "data")
        path = self.write_config(base_config(listen="127.0.0.1:1"))
        # flags before and after each other, --flag=value form, listen overriding the config
        proc = subprocess.Popen(
            [DTR_BIN, "serve", "--data=" + data, "--listen", "127.0.0.1:0", "--config=" + path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        try:
            line = proc.stdout.readline()
            self.assertRegex(line, r"^listening on http://127\.0\.0\.1:\d+\n$")
            self.assertTrue(os.path.isdir(data))
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=60), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()

    def test_relative_data_dir_is_relative_to_cwd(self):
        work = os.path.join(self.tmp, "cwd")
        os.mkdir(work)
        path = self.write_config(base_config(data_dir="rel/data"))
        proc = subprocess.Popen(
            [DTR_BIN, "serve", "--config", path], cwd=work,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        try:
            line = proc.stdout.readline()
            self.assertTrue(line.startswith("listening on "), line)
            self.assertTrue(os.path.isdir(os.path.join(work, "rel", "data")))
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=60), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()

    def test_repo_config_runs_as_it_is(self):
        """config/dtr.json, with only plugin_dir pointed at this build's plugins
        (the repo's "build/plugins" is relative to a checkout built in build/)."""
        src = os.environ.get("DTR_SOURCE_DIR", ".")
        with open(os.path.join(src, "config", "dtr.json")) as f:
            cfg = json.load(f)
        cfg["plugin_dir"] = os.environ.get("DTR_PLUGIN_DIR", cfg.get("plugin_dir"))
        path = self.write_config(cfg)
        proc = subprocess.Popen(
            [DTR_BIN, "serve", "--config", path, "--listen", "127.0.0.1:0", "--data",
             os.path.join(self.tmp, "var")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            self.assertRegex(line, r"^listening on http://127\.0\.0\.1:\d+\n$")
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=60), 0)
            self.assertTrue(sanitizer_clean(proc.stderr.read()))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()

    def test_one_server_per_data_dir(self):
        with Server(base_config()) as srv:
            code, out, err = run_cli(["serve", "--config", srv.config_path, "--data",
                                      srv.data_dir])
            self.assertEqual(code, 1, err)
            self.assertEqual(out, "")
            self.assertIn("is in use by another dtr", err)
            self.assertTrue(sanitizer_clean(err), err)
            self.assertEqual(srv.get_json("/healthz")[0], 200)
            self.assertEqual(srv.stop(), 0)

    def test_data_dir_that_is_a_file(self):
        blocker = os.path.join(self.tmp, "file")
        open(blocker, "w").close()
        path = self.write_config(base_config())
        code, _, err = run_cli(["serve", "--config", path, "--data", blocker + "/sub"])
        self.assertEqual(code, 1)
        self.assertIn("data directory", err)


if __name__ == "__main__":
    unittest.main()
