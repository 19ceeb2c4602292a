"""The core's own routes: GET /healthz, /readyz and /metrics (API.md), with
and without plugins."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from host_harness import Server, base_config, sanitizer_clean  # noqa: E402


class TestOps(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(base_config(plugins=[{"name": "good"}]))

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.srv.stop()
            assert code == 0, cls.srv.stderr()
            assert sanitizer_clean(cls.srv.stderr()), cls.srv.stderr()
        finally:
            cls.srv.close()

    def test_healthz(self):
        status, headers, body = self.srv.request("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("application/json"))
        self.assertEqual(json.loads(body), {"status": "ok"})
        status, headers, body = self.srv.request("HEAD", "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")

    def test_readyz(self):
        status, headers, body = self.srv.request("GET", "/readyz")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"status": "ready"})

    def test_metrics(self):
        self.srv.request("GET", "/good/greeting")
        status, headers, body = self.srv.request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain"), headers)
        text = body.decode()
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                samples[name] = float(value)
        self.assertGreaterEqual(samples["dtr_process_uptime_seconds"], 0)
        self.assertGreater(samples["dtr_process_start_time_seconds"], 1.6e9)
        self.assertEqual(samples["dtr_plugins_running"], 1)
        self.assertEqual(samples["dtr_reloads_total"], 0)
        self.assertIn("# TYPE dtr_process_uptime_seconds gauge", text)
        # the open connections gauge counts at least the one asking
        conn = [v for k, v in samples.items() if "connections" in k and "total" not in k]
        self.assertTrue(conn and max(conn) >= 1, text)
        # requests by route: the greeting above
        self.assertIn("/good/greeting", text)

    def test_only_get(self):
        status, _, _ = self.srv.request("POST", "/healthz", body=b"{}")
        self.assertEqual(status, 405)


class TestOpsWithoutPlugins(unittest.TestCase):

    def test_ready_with_no_plugins(self):
        with Server(base_config(plugins=[])) as srv:
            self.assertEqual(srv.get_json("/readyz"), (200, {"status": "ready"}))
            self.assertEqual(srv.get_json("/healthz"), (200, {"status": "ok"}))
            self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    unittest.main()
