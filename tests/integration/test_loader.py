"""The plugin loader through the real binary: every refusal stops the start
(exit 1) with a message naming the plugin and the reason; the good test
plugin serves its routes with every host service (async answers from a
timer, the work queue, timers, the loop, data_dir, path/query/header
reading)."""

import base64
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from host_harness import (TEST_PLUGIN_DIR, Server, base_config, run_cli,  # noqa: E402
                          sanitizer_clean, wait_until)

ABI = None


def host_abi():
    global ABI
    if ABI is None:
        code, out, _ = run_cli(["version"])
        ABI = out.split("plugin ABI ")[1].rstrip(")\n")
    return ABI


class TestLoaderRefusals(unittest.TestCase):

    def refused(self, plugins, *needles):
        """Starts with plugins; expects exit 1 and each needle in the reason
        line on stderr (the last line)."""
        srv = Server(base_config(plugins=plugins), start=False)
        try:
            code, out, err = run_cli(["serve", "--config", srv.config_path, "--data",
                                      srv.data_dir])
            self.assertEqual(code, 1, "stdout %r stderr %r" % (out, err))
            self.assertEqual(out, "", "no listening line on a refused start")
            reason = [line for line in err.splitlines() if line.startswith("dtr serve: ")]
            self.assertEqual(len(reason), 1, err)
            for needle in needles:
                self.assertIn(needle, reason[0])
            self.assertTrue(sanitizer_clean(err), err)
            return reason[0]
        finally:
            srv.close()

    def test_missing_file(self):
        self.refused([{"name": "ghost"}], 'plugin "ghost"',
                     "cannot open %s/ghost.so: No such file or directory" % TEST_PLUGIN_DIR)

    def test_explicit_path_missing(self):
        self.refused([{"name": "good", "path": "/nonexistent/good.so"}], 'plugin "good"',
                     "/nonexistent/good.so")

    def test_no_symbol(self):
        self.refused([{"name": "no_symbol"}], 'plugin "no_symbol"',
                     'exports no "dtr_plugin_entry" symbol')

    def test_other_major(self):
        self.refused([{"name": "abi_major0"}], 'plugin "abi_major0"',
                     "built for plugin ABI 0.9, but this host has ABI %s" % host_abi())
        self.refused([{"name": "abi_major3"}], 'plugin "abi_major3"',
                     "built for plugin ABI 3.0, but this host has ABI %s" % host_abi())
        self.refused([{"name": "abi_major1"}], 'plugin "abi_major1"',
                     "a 1.x plugin must be moved over")

    def test_newer_minor(self):
        major, minor = host_abi().split(".")
        self.refused([{"name": "abi_minor_newer"}], 'plugin "abi_minor_newer"',
                     "built for plugin ABI %s.%d, newer than this host's ABI %s"
                     % (major, int(minor) + 1, host_abi()))

    def test_struct_too_small(self):
        self.refused([{"name": "struct_too_small"}], 'plugin "struct_too_small"',
                     "its descriptor is", "smaller than the")

    def test_name_mismatch(self):
        self.refused([{"name": "wrong_name"}], 'plugin "wrong_name"',
                     'calls itself "somebody_else"')

    def test_config_refused(self):
        self.refused([{"name": "refuses_config", "config": {"vendor_url": 42}}],
                     'plugin "refuses_config" refused its config: vendor_url: expected a string')
        self.refused([{"name": "refuses_config"}],
                     'plugin "refuses_config" refused its config: vendor_url: missing')

    def test_route_clash_names_both(self):
        self.refused([{"name": "good"}, {"name": "route_clash"}], 'plugin "route_clash"',
                     "GET /good/greeting", "'route_clash'", "'good'")

    def test_start_fails(self):
        self.refused([{"name": "good"}, {"name": "start_fails"}],
                     'plugin "start_fails" failed to start: cannot reach the vendor')

    def test_first_refusal_wins(self):
        self.refused([{"name": "good", "config": {"greeting": 1}}, {"name": "ghost"}],
                     'plugin "good" refused its config: greeting: expected a string')


class TestGoodPlugin(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(base_config(plugins=[
            {"name": "good", "config": {"greeting": "goddag", "slow_ms": 50, "tick_ms": 5}},
            {"name": "refuses_config", "config": {"vendor_url": "https://vendor.example"}},
        ]))

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.srv.stop()
            assert code == 0, "exit %d\n%s" % (code, cls.srv.stderr())
            assert sanitizer_clean(cls.srv.stderr()), cls.srv.stderr()
        finally:
            cls.srv.close()

    def test_greeting(self):
        status, body = self.srv.get_json("/good/greeting")
        self.assertEqual(status, 200)
        self.assertEqual(body, {"greeting": "goddag", "instance": 1})

    def test_async_answer_from_timer(self):
        status, body = self.srv.get_json("/good/slow?ms=30")
        self.assertEqual(status, 200)
        self.assertEqual(body["waited_ms"], 30)
        status, body = self.srv.get_json("/good/slow")
        self.assertEqual(body["waited_ms"], 50)

    def test_work_queue(self):
        payload = b"written on the work queue " * 100
        status, headers, body = self.srv.request("POST", "/good/work", body=payload,
                                                 headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 200, body)
        answer = json.loads(body)
        self.assertEqual(answer["bytes"], len(payload))
        h = 2166136261
        for b in payload:
            h = ((h ^ b) * 16777619) & 0xFFFFFFFF
        self.assertEqual(answer["fnv1a"], "%08x" % h)
        with open(os.path.join(self.srv.data_dir, "good", "last-work.bin"), "rb") as f:
            self.assertEqual(f.read(), payload)

    def test_info_loop_data_dir_timer(self):
        status, body = self.srv.get_json("/good/info")
        self.assertEqual(status, 200)
        self.assertEqual(body["data_dir"], os.path.realpath(self.srv.data_dir))
        self.assertTrue(body["has_loop"])
        self.assertEqual(body["host_abi"], host_abi())
        # the repeating timer runs
        wait_until(lambda: self.srv.get_json("/good/info")[1]["ticks"] > 2, what="ticks")

    def test_params_query_headers(self):
        status, _, body = self.srv.request("GET", "/good/items/G12345?q=s%C3%B8g+her",
                                           headers={"X-Test": "ja"})
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"id": "G12345", "q": "søg her", "x_test": "ja"})
        status, _, body = self.srv.request("GET", "/good/items/x")
        self.assertEqual(json.loads(body), {"id": "x", "q": None, "x_test": None})

    def test_signing_key(self):
        status, first = self.srv.get_json("/good/sign?msg=hej")
        self.assertEqual(status, 200)
        self.assertEqual(len(bytes.fromhex(first["signature"])), 64)
        # Ed25519 is deterministic: the same message, the same signature
        self.assertEqual(self.srv.get_json("/good/sign?msg=hej")[1], first)
        other = self.srv.get_json("/good/sign?msg=hej!")[1]
        self.assertNotEqual(other["signature"], first["signature"])
        # the key of the data directory, as `dtr version --keys` shows it
        code, out, err = run_cli(["version", "--keys", "--config", self.srv.config_path,
                                  "--data", self.srv.data_dir])
        self.assertEqual(code, 0, err)
        b64 = base64.b64encode(bytes.fromhex(first["public_key"])).decode()
        self.assertIn("signing-key: " + b64, out)
        mode = os.stat(os.path.join(self.srv.data_dir, "signing.key")).st_mode & 0o777
        self.assertEqual(mode, 0o600)

    def test_logger_tags_plugin(self):
        self.srv.wait_log("instance 1 started")
        line = [l for l in self.srv.stderr().splitlines() if "instance 1 started" in l][0]
        self.assertIn("good", line)


if __name__ == "__main__":
    unittest.main()
