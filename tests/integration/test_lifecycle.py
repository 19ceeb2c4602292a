"""The serving process's lifecycle: SIGTERM/SIGINT drain (the request in
flight is answered, idle keep-alive connections are closed at once, new
connections refused, exit 0), the shutdown timeout, and SIGHUP reload (new
config served; old instance finishes its requests and is freed; a broken
config, a refusing plugin or a failing start keep the old config serving;
new limits applied)."""

import json
import os
import signal
import socket
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from host_harness import (EXIT_TIMEOUT, Server, base_config,  # noqa: E402
                          sanitizer_clean, wait_until)


def good_config(greeting="en", **extra):
    cfg = {"greeting": greeting, "slow_ms": 100}
    cfg.update(extra)
    return base_config(plugins=[{"name": "good", "config": cfg}])


class SlowRequest(threading.Thread):
    """GET /good/slow?ms=N on its own connection, in the background."""

    def __init__(self, srv, ms):
        super().__init__(daemon=True)
        self.srv, self.ms = srv, ms
        self.status = self.body = self.error = None

    def run(self):
        try:
            status, _, body = self.srv.request("GET", "/good/slow?ms=%d" % self.ms)
            self.status, self.body = status, json.loads(body)
        except Exception as e:  # the test looks at it
            self.error = e


def wait_slow_waiting(srv, n):
    wait_until(lambda: srv.get_json("/good/info")[1]["slow_waiting"] == n,
               what="%d slow request(s) in the plugin" % n)


class TestShutdown(unittest.TestCase):

    def test_sigterm_drains_request_in_flight(self):
        with Server(good_config("drain")) as srv:
            idle = srv.connection()
            status, _, _ = srv.request("GET", "/healthz", conn=idle)  # now idle keep-alive
            self.assertEqual(status, 200)
            slow = SlowRequest(srv, 3000)
            slow.start()
            wait_slow_waiting(srv, 1)

            srv.signal(signal.SIGTERM)
            # the idle connection is closed at once: EOF while the slow one still waits
            idle.sock.settimeout(EXIT_TIMEOUT)
            self.assertEqual(idle.sock.recv(1), b"")
            self.assertTrue(slow.is_alive(), "the slow answer came before the idle close")
            idle.close()
            # no new connections
            wait_until(lambda: _refused(srv), what="the listener to close")

            slow.join(EXIT_TIMEOUT)
            self.assertIsNone(slow.error)
            self.assertEqual(slow.status, 200)
            self.assertEqual(slow.body["greeting"], "drain")
            self.assertEqual(srv.wait(), 0)
            log = srv.stderr()
            self.assertIn("instance 1 stopping", log)
            self.assertIn("instance 1 freed", log)
            self.assertLess(log.index("instance 1 stopping"), log.index("instance 1 freed"))
            self.assertTrue(sanitizer_clean(log), log)

    def test_shutdown_timeout_cuts_what_is_left(self):
        cfg = good_config("cut")
        cfg["limits"] = {"shutdown_timeout_ms": 300}
        with Server(cfg) as srv:
            slow = SlowRequest(srv, 600000)
            slow.start()
            wait_slow_waiting(srv, 1)
            srv.signal(signal.SIGTERM)
            self.assertEqual(srv.wait(), 0)
            slow.join(EXIT_TIMEOUT)
            self.assertIsNone(slow.status)  # cut, never answered
            self.assertIsNotNone(slow.error)
            self.assertIn("instance 1 freed", srv.stderr())
            self.assertTrue(sanitizer_clean(srv.stderr()), srv.stderr())

    def test_sigint_is_a_clean_stop(self):
        with Server(good_config()) as srv:
            self.assertEqual(srv.get_json("/good/greeting")[0], 200)
            srv.signal(signal.SIGINT)
            self.assertEqual(srv.wait(), 0)


def _refused(srv):
    try:
        s = socket.create_connection((srv.host, srv.port), timeout=2)
    except OSError:
        return True
    s.close()
    return False


class TestReload(unittest.TestCase):

    def greeting(self, srv):
        status, body = srv.get_json("/good/greeting")
        self.assertEqual(status, 200)
        return body["greeting"], body["instance"]

    def reload(self, srv, config, outcome):
        """Writes config, sends SIGHUP and waits for the log to say outcome
        ("reloaded" or "reload refused") once more than before."""
        before = srv.stderr().count(outcome)
        srv.write_config(config)
        srv.signal(signal.SIGHUP)
        srv.wait_log(outcome, before + 1)

    def test_reload_swaps_config_and_keeps_old_on_errors(self):
        with Server(good_config("one")) as srv:
            self.assertEqual(self.greeting(srv), ("one", 1))

            # a request in flight on the old instance when the reload comes
            slow = SlowRequest(srv, 1500)
            slow.start()
            wait_slow_waiting(srv, 1)
            self.reload(srv, good_config("two"), "reloaded")
            self.assertEqual(self.greeting(srv), ("two", 2))
            slow.join(EXIT_TIMEOUT)
            self.assertEqual(slow.status, 200)
            self.assertEqual((slow.body["greeting"], slow.body["instance"]), ("one", 1))
            srv.wait_log("instance 1 freed")

            # broken JSON: the running config stays
            self.reload(srv, '{"plugins": [', "reload refused")
            self.assertEqual(self.greeting(srv), ("two", 2))
            # a key the host refuses
            bad = good_config("three")
            bad["limits"] = {"max_connections": 0}
            self.reload(srv, bad, "reload refused")
            self.assertIn("limits.max_connections", srv.stderr())
            # the plugin refuses its new config
            self.reload(srv, good_config(7), "reload refused")
            self.assertIn("refused its config: greeting: expected a string", srv.stderr())
            # another plugin fails to start: the good instance built for it is freed
            failing = good_config("four")
            failing["plugins"].append({"name": "start_fails"})
            self.reload(srv, failing, "reload refused")
            self.assertIn("failed to start: cannot reach the vendor", srv.stderr())
            self.assertEqual(self.greeting(srv), ("two", 2))
            srv.wait_log("freed without being started")

            status, _, body = srv.request("GET", "/metrics")
            text = body.decode()
            self.assertIn("dtr_reloads_total 1", text)
            self.assertIn("dtr_reload_failures_total 4", text)

            self.assertEqual(srv.stop(), 0)
            self.assertTrue(sanitizer_clean(srv.stderr()), srv.stderr())

    def test_reload_applies_limits_and_warns_on_listen(self):
        with Server(good_config("limits")) as srv:
            payload = b"x" * 200
            status, _, _ = srv.request("POST", "/good/work", body=payload)
            self.assertEqual(status, 200)
            cfg = good_config("limits")
            cfg["limits"] = {"max_body_bytes": 100}
            cfg["listen"] = "127.0.0.1:1"
            self.reload(srv, cfg, "reloaded")
            self.assertIn("a reload does not move the listener", srv.stderr())
            status, _, _ = srv.request("POST", "/good/work", body=payload)
            self.assertEqual(status, 413)
            # still on the same port
            self.assertEqual(srv.get_json("/healthz")[0], 200)
            self.assertEqual(srv.stop(), 0)

    def test_reload_adds_and_removes_plugins(self):
        with Server(base_config(plugins=[])) as srv:
            self.assertEqual(srv.request("GET", "/good/greeting")[0], 404)
            self.reload(srv, good_config("added"), "reloaded")
            self.assertEqual(self.greeting(srv), ("added", 1))
            self.reload(srv, base_config(plugins=[]), "reloaded")
            self.assertEqual(srv.request("GET", "/good/greeting")[0], 404)
            srv.wait_log("instance 1 freed")
            self.assertEqual(srv.stop(), 0)
            self.assertTrue(sanitizer_clean(srv.stderr()), srv.stderr())


if __name__ == "__main__":
    unittest.main()
