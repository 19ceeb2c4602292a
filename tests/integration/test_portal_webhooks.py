"""The portal plugin's webhooks over real HTTP against the real binary: the
rest plugin writes, the feed hands the hændelser to portal, and portal
POSTs them to receivers on loopback (http.server in a thread).

- a receiver that fails the first attempts: every event delivered once
  successfully, in order, with the same webhook-id on every attempt, and a
  signature that openssl verifies with `dtr version --keys`' public key;
- a receiver that always fails: the event is parked after the last try,
  listed by GET /v1/portal/webhooks (admin or support only), and POST
  /v1/portal/webhooks/replay (admin only) sends it again once the receiver
  works;
- a crash (SIGKILL) in the middle of delivery: after the restart every event
  still arrives, in order;
- a subscriber with a "secret" gets a v1 (HMAC-SHA256) signature beside v1a,
  which the official Standard Webhooks library (npm standardwebhooks, in
  plugins/portal/tests/node, installed with npm ci when missing) verifies.
"""

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "plugins", "portal", "tests"))
from portal_http import (PortalServer, Receiver, anvisningsenhed, daginstitution,  # noqa: E402
                         sanitizer_clean, verify_signature, wait_until)


class WebhookTest(unittest.TestCase):

    def setUp(self):
        self.receivers = []
        self.servers = []

    def tearDown(self):
        for srv in self.servers:
            srv.close()
        for r in self.receivers:
            r.close()

    def receiver(self, policy=None):
        r = Receiver(policy)
        self.receivers.append(r)
        return r

    def server(self, urls, **config):
        config = dict(config)
        config["webhooks"] = [u if isinstance(u, dict) else {"url": u} for u in urls]
        srv = PortalServer(config)
        self.servers.append(srv)
        return srv

    def stop_clean(self, srv):
        self.assertEqual(srv.stop(), 0, srv.stderr())
        self.assertTrue(sanitizer_clean(srv.stderr()), srv.stderr())

    def create_hierarchy(self, srv, auth, units=1, navn="Solsikken"):
        body = daginstitution(navn=navn, units=[anvisningsenhed(navn="%s %d" % (navn, i))
                                                for i in range(units)])
        status, _, doc = srv.call("POST", "/v1/daginstitutioner", body, auth=auth)
        self.assertEqual(status, 201, doc)
        return doc

    def test_retries_in_order_signed(self):
        # the first two attempts of every event fail: 500, then 503
        r = self.receiver(lambda n, wid, attempt: 500 if attempt == 1 else
                          503 if attempt == 2 else 200)
        srv = self.server([r.url], retry_ms=[100, 200])
        support = srv.add_client("support", "support")
        self.create_hierarchy(srv, support, units=2)  # 3 hændelser
        self.create_hierarchy(srv, support, units=0, navn="Mælkebøtten")  # 1 more
        delivered = r.wait_delivered(4)
        self.assertEqual([h.json["sekvensnummer"] for h in delivered], [1, 2, 3, 4])
        self.assertEqual([h.id for h in delivered], ["dtr-1", "dtr-2", "dtr-3", "dtr-4"])
        hits = r.snapshot()
        for wid in ("dtr-1", "dtr-2", "dtr-3", "dtr-4"):
            attempts = [h for h in hits if h.id == wid]
            self.assertEqual([h.status for h in attempts], [500, 503, 200], wid)
        # in order: no attempt of event n+1 before event n was delivered
        seen_ok = set()
        for h in hits:
            seq = h.json["sekvensnummer"]
            self.assertTrue(all(s in seen_ok for s in range(1, seq)), (seq, seen_ok))
            if h.status == 200:
                seen_ok.add(seq)
        first = delivered[0].json
        self.assertEqual(set(first), {"sekvensnummer", "operation", "entitet", "nummer"})
        self.assertEqual(first["operation"], "oprettet")
        self.assertEqual(first["entitet"], "daginstitution")
        self.assertEqual(delivered[3].json["entitet"], "daginstitution")
        self.assertEqual(delivered[1].json["entitet"], "anvisningsenhed")
        key = srv.public_key()
        for h in hits:
            self.assertTrue(h.content_type.startswith("application/json"), h.content_type)
            self.assertTrue(h.timestamp.isdigit())
            self.assertTrue(verify_signature(key, h), (h.id, h.timestamp, h.signature))
        forged = delivered[0]
        forged.body = forged.body.replace("oprettet", "slettet")
        self.assertFalse(verify_signature(key, forged))
        self.stop_clean(srv)

    def test_standard_webhooks_library_verifies_v1(self):
        node_dir = os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", "..")),
            "plugins", "portal", "tests", "node")
        if not shutil.which("node") or not shutil.which("npm"):
            self.skipTest("node and npm are not installed (scripts/deps)")
        if not os.path.isdir(os.path.join(node_dir, "node_modules", "standardwebhooks")):
            p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=node_dir,
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        signed, plain = self.receiver(), self.receiver()
        srv = self.server([{"url": signed.url, "secret": secret}, plain.url])
        support = srv.add_client("support", "support")
        self.create_hierarchy(srv, support, units=0)
        hit = signed.wait_delivered(1)[0]
        self.assertEqual([e.split(",")[0] for e in hit.signature.split(" ")], ["v1a", "v1"])
        self.assertTrue(verify_signature(srv.public_key(), hit))  # v1a still verifies
        self.assertEqual(plain.wait_delivered(1)[0].signature.split(",")[0], "v1a")
        self.assertNotIn(" ", plain.wait_delivered(1)[0].signature)

        def verify(secret, body):
            headers = {"webhook-id": hit.id, "webhook-timestamp": hit.timestamp,
                       "webhook-signature": hit.signature}
            p = subprocess.run(["node", os.path.join(node_dir, "verify.js")], capture_output=True,
                               text=True, timeout=60,
                               input=json.dumps({"secret": secret, "headers": headers,
                                                 "body": body}))
            return p.returncode, p.stdout.strip() + p.stderr.strip()

        code, out = verify(secret, hit.body)
        self.assertEqual(code, 0, out)
        self.assertEqual(json.loads(out), hit.json)
        code, out = verify(secret, hit.body.replace("oprettet", "slettet"))
        self.assertEqual(code, 1, out)
        other = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        self.assertEqual(verify(other, hit.body)[0], 1)
        self.stop_clean(srv)

    def test_secret_malformed_stops_the_start(self):
        for bad in ("s3cret", "whsec_", "whsec_%%%", "whsec_" + base64.b64encode(b"short").decode(),
                    42):
            config = {"webhooks": [{"url": "http://127.0.0.1:9/x", "secret": bad}]}
            with self.assertRaises(Exception) as ctx:
                srv = PortalServer(config)
                self.servers.append(srv)
            self.assertIn("webhooks[0].secret", str(ctx.exception))

    def test_dead_letter_listed_and_replayed(self):
        state = {"failing": True}
        r = self.receiver(lambda n, wid, attempt: 503 if state["failing"] else 204)
        srv = self.server([r.url], retry_ms=[50, 50])
        admin = srv.add_client("admin", "admin")
        support = srv.add_client("support", "support")
        laeser = srv.add_client("laeser", "laeser")
        self.create_hierarchy(srv, support, units=0)  # one hændelse: dtr-1

        def parked():
            status, _, doc = srv.call("GET", "/v1/portal/webhooks", auth=admin)
            self.assertEqual(status, 200, doc)
            sub = doc["subscribers"][0]
            return sub["parked"] if sub["parked"] and sub["inFlight"] is None else None

        entries = wait_until(parked, 60, "the event parked")
        self.assertEqual([e["id"] for e in entries], ["dtr-1"])
        self.assertEqual(entries[0]["attempts"], 3)
        self.assertEqual(len([h for h in r.snapshot() if h.id == "dtr-1"]), 3)

        # who may see and replay (public_read does not open the listing)
        self.assertEqual(srv.call("GET", "/v1/portal/webhooks")[0], 401)
        self.assertEqual(srv.call("GET", "/v1/portal/webhooks", auth=laeser)[0], 403)
        status, _, doc = srv.call("GET", "/v1/portal/webhooks", auth=support)
        self.assertEqual(status, 200)
        self.assertEqual(doc["subscribers"][0]["url"], r.url)
        self.assertEqual(doc["subscribers"][0]["position"], 1)
        self.assertEqual(srv.call("POST", "/v1/portal/webhooks/replay", {}, auth=support)[0], 403)
        self.assertEqual(srv.call("POST", "/v1/portal/webhooks/replay", {})[0], 401)

        state["failing"] = False
        status, _, doc = srv.call("POST", "/v1/portal/webhooks/replay", {"ids": ["dtr-1"]},
                                  auth=admin)
        self.assertEqual(status, 202, doc)
        self.assertEqual([q["id"] for q in doc["queued"]], ["dtr-1"])
        delivered = r.wait_delivered(1)
        self.assertEqual(delivered[0].id, "dtr-1")
        wait_until(lambda: parked() is None and not srv.call(
            "GET", "/v1/portal/webhooks", auth=admin)[2]["subscribers"][0]["parked"], 30,
            "the parked list empty")
        # the flow goes on
        self.create_hierarchy(srv, support, units=0, navn="Mælkebøtten")
        self.assertEqual(r.wait_delivered(2)[1].id, "dtr-2")
        self.stop_clean(srv)

    def test_crash_in_the_middle_of_delivery_loses_nothing(self):
        state = {"failing": False}

        def policy(n, wid, attempt):
            if wid in ("dtr-1", "dtr-2"):
                return 200
            return 500 if state["failing"] else 200

        state["failing"] = True
        r = self.receiver(policy)
        # dtr-3 must still be in its retries when the kill comes, however slow
        # this machine is: 30 retries, six seconds
        srv = self.server([r.url], retry_ms=[200] * 30)
        support = srv.add_client("support", "support")
        self.create_hierarchy(srv, support, units=2)  # dtr-1..3
        self.create_hierarchy(srv, support, units=1, navn="Mælkebøtten")  # dtr-4..5
        r.wait_delivered(2)
        wait_until(lambda: any(h.id == "dtr-3" for h in r.snapshot()), 30, "dtr-3 tried")
        srv.kill()  # a crash while dtr-3 is being retried and 4, 5 wait
        state["failing"] = False
        srv.start()
        # every event, not five hits: events delivered before the kill may
        # come again (at-least-once), and must not count for the others
        want = {"dtr-%d" % n for n in range(1, 6)}
        wait_until(lambda: want <= {h.id for h in r.delivered()}, 60, "dtr-1..5 delivered")
        ids = [h.id for h in r.delivered()]
        self.assertEqual(sorted(set(ids), key=lambda i: int(i[4:])),
                         ["dtr-1", "dtr-2", "dtr-3", "dtr-4", "dtr-5"])
        # in order: every event after its predecessor's first delivery
        firsts = [ids.index("dtr-%d" % n) for n in range(1, 6)]
        self.assertEqual(firsts, sorted(firsts))
        srv.signal(signal.SIGTERM)
        self.assertEqual(srv.wait(), 0, srv.stderr())
        self.assertTrue(sanitizer_clean(srv.stderr()), srv.stderr())


if __name__ == "__main__":
    unittest.main()
