"""Plugin ABI 2.0 over real HTTP (issue 10): a plugin cannot act as a client
it was not given (tests/plugins/impostor.c); a request handle used after its
answer ended is caught, not delivered to another client; a plugin may finish
a command for a retained identity after its request went away; the REST
plugin's transactions (POST /v1/transaktioner) commit all or nothing; a dry
run (?kontroller=true) answers as a real write would and changes nothing,
not even the next number; every command in the audit log names a client
that exists (`dtr audit verify`)."""

import datetime
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "plugins", "rest", "tests"))
from rest_http import (PLUGIN_DIR, RestServer, anvisningsenhed, daginstitution,  # noqa: E402
                       problem_codes, run_cli, sanitizer_clean)
from host_harness import wait_until  # noqa: E402

TEST_PLUGIN_DIR = os.environ.get("DTR_TEST_PLUGIN_DIR", "build/tests/plugins")


def verify_audit(srv):
    code, out, err = run_cli(["audit", "verify", "--config", srv.config_path,
                              "--data", srv.data_dir])
    return code, out + err


class Abi2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = RestServer(start=False)
        cls.support = cls.srv.add_client("Support", "support")
        cls.kommune = cls.srv.add_client("Kbh", "kommune", [101])
        # the impostor acts as the support client when nobody's request asks
        code, out, _ = run_cli(["client", "list", "--config", cls.srv.config_path,
                                "--data", cls.srv.data_dir])
        assert code == 0
        support_id = [c for c in json.loads(out) if c["name"] == "Support"][0]["clientId"]
        cfg = {"listen": "127.0.0.1:0", "public_read": True, "plugin_dir": PLUGIN_DIR,
               "plugins": [{"name": "rest", "config": {}},
                           {"name": "impostor", "client": support_id,
                            "path": os.path.join(TEST_PLUGIN_DIR, "impostor.so")}]}
        cls.srv.write_config(cfg)
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()
        assert sanitizer_clean(cls.srv.stderr()), cls.srv.stderr()

    def next_number_probe(self):
        """The number the next create would get, learned by a dry run."""
        st, _, doc = self.srv.call("POST", "/v1/daginstitutioner?kontroller=true",
                                   daginstitution(101), auth=self.support)
        self.assertEqual(st, 201, doc)
        return doc["nummer"]

    # ---- identities ----

    def test_made_up_identity_is_refused(self):
        before = self.srv.seq()
        for route in ("/impostor/forged", "/impostor/none"):
            st, _, doc = self.srv.call("POST", route, "{}")
            self.assertEqual(st, 200, doc)
            self.assertEqual(doc["submit"], "declined", (route, doc))
        self.srv.wait_log("command refused: a made-up or released identity")
        self.assertEqual(self.srv.seq(), before)  # nothing was written
        code, out = verify_audit(self.srv)
        self.assertEqual(code, 0, out)

    def test_configured_identity_acts(self):
        st, _, doc = self.srv.call("POST", "/impostor/configured", "{}")
        self.assertEqual(st, 200, doc)
        self.assertEqual((doc["status"], doc["http"]), (0, 0), doc)
        st, _, rec = self.srv.call("GET", "/v1/daginstitutioner/" + doc["nummer"])
        self.assertEqual(st, 200)
        self.assertEqual(rec["ejerformKode"], 3)
        code, out = verify_audit(self.srv)
        self.assertEqual(code, 0, out)

    def test_identity_kept_past_its_request_is_refused(self):
        before = self.srv.seq()
        st, _, body = self.srv.call("POST", "/impostor/keep-identity", "{}", auth=self.support)
        self.assertEqual(st, 200, body)
        st, _, doc = self.srv.call("POST", "/impostor/use-kept", "{}")
        self.assertEqual((st, doc["submit"]), (200, "declined"), doc)
        self.assertEqual(self.srv.seq(), before)

    def test_retained_identity_outlives_its_request(self):
        st, _, body = self.srv.call("POST", "/impostor/retained", "{}", auth=self.support)
        self.assertEqual(st, 202, body)
        line = self.srv.wait_log("retained create 0 G")
        self.assertTrue(line)

    def test_spent_request_handle_is_caught(self):
        conn = self.srv.connection()
        st, _, body = self.srv.request("GET", "/impostor/keep", conn=conn)
        self.assertEqual((st, body), (200, b"kept"))
        # the same connection: with pooled request objects the next request
        # would reuse the kept one's memory
        st, _, body = self.srv.request("GET", "/impostor/reuse", headers={"X-Probe": "secret"},
                                       conn=conn)
        self.assertEqual((st, body), (200, b"fresh (none)"))
        self.srv.wait_log("on a request whose answer had already ended", count=2)
        st, _, body = self.srv.request("GET", "/impostor/keep", conn=conn)
        self.assertEqual(st, 200)  # the connection is in order
        conn.close()

    def test_command_outlives_a_client_that_left(self):
        # the client sends a create and goes away before the answer; the
        # command still completes, and its answer is retrievable by its key
        import socket
        before = self.srv.seq()
        body = json.dumps(daginstitution(101, navn="Forladt")).encode()
        sock = socket.create_connection((self.srv.host, self.srv.port))
        sock.sendall(b"POST /v1/daginstitutioner HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: " + self.kommune.encode() + b"\r\n"
                     b"Content-Type: application/json\r\nIdempotency-Key: forladt-1\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        sock.close()
        # the command completes without its client...
        wait_until(lambda: self.srv.seq() == before + 1, what="the abandoned create's commit")
        # ...and the same key gets its answer, not a second record
        st, h, doc = self.srv.call("POST", "/v1/daginstitutioner", body, auth=self.kommune,
                                   headers={"Idempotency-Key": "forladt-1"})
        self.assertEqual(st, 201, doc)
        self.assertEqual(doc["navn"], "Forladt")
        self.assertEqual(h.get("idempotent-replayed"), "true")
        self.assertEqual(self.srv.seq(), before + 1)  # created once

    # ---- dry runs ----

    def test_dry_run_create_changes_nothing(self):
        before = self.srv.seq()
        st, h, doc = self.srv.call("POST", "/v1/daginstitutioner?kontroller=true",
                                   daginstitution(101, units=[anvisningsenhed(kommune=101)]),
                                   auth=self.kommune)
        self.assertEqual(st, 201, doc)
        self.assertEqual(h.get("kontrolleret"), "true")
        would_be = doc["nummer"]
        self.assertEqual(self.srv.seq(), before)
        st, _, _ = self.srv.call("GET", "/v1/daginstitutioner/" + would_be)
        self.assertEqual(st, 404)
        # no number burnt: the real create gets the number the dry run showed
        st, h, real = self.srv.call("POST", "/v1/daginstitutioner",
                                    daginstitution(101, units=[anvisningsenhed(kommune=101)]),
                                    auth=self.kommune)
        self.assertEqual(st, 201, real)
        self.assertEqual(real["nummer"], would_be)
        self.assertIsNone(h.get("kontrolleret"))
        self.assertEqual(self.srv.seq(), before + 2)

    def test_dry_run_refuses_as_the_real_write(self):
        bad = daginstitution(101, ejerform=4, lovgrundlag=1)  # udliciteret needs lovgrundlag 3
        dry = self.srv.call("POST", "/v1/daginstitutioner?kontroller=true", bad,
                            auth=self.kommune)
        real = self.srv.call("POST", "/v1/daginstitutioner", bad, auth=self.kommune)
        self.assertEqual(dry[0], 422)
        self.assertEqual((dry[0], problem_codes(dry[2])), (real[0], problem_codes(real[2])))
        # authorization is checked too: a private dagtilbud is support's
        st, _, doc = self.srv.call("POST", "/v1/daginstitutioner?kontroller=true",
                                   daginstitution(101, ejerform=3, lovgrundlag=4),
                                   auth=self.kommune)
        self.assertEqual(st, 403, doc)
        st, _, doc = self.srv.call("POST", "/v1/daginstitutioner?kontroller=ja",
                                   daginstitution(101), auth=self.kommune)
        self.assertEqual((st, problem_codes(doc)), (400, ["UGYLDIG_PARAMETER"]))

    def test_dry_run_if_match(self):
        st, h, di = self.srv.call("POST", "/v1/daginstitutioner", daginstitution(101),
                                  auth=self.kommune)
        self.assertEqual(st, 201)
        st, _, doc = self.srv.call("PATCH", "/v1/daginstitutioner/%s?kontroller=true" % di["nummer"],
                                   {"navn": "Nyt navn"}, auth=self.kommune,
                                   headers={"If-Match": '"9"'})
        self.assertEqual((st, problem_codes(doc)), (412, ["VERSIONSKONFLIKT"]))
        st, _, doc = self.srv.call("PATCH", "/v1/daginstitutioner/%s?kontroller=true" % di["nummer"],
                                   {"navn": "Nyt navn"}, auth=self.kommune,
                                   headers={"If-Match": '"1"'})
        self.assertEqual((st, doc["navn"], doc["version"]), (200, "Nyt navn", 2))
        st, _, now = self.srv.call("GET", "/v1/daginstitutioner/" + di["nummer"])
        self.assertEqual((now["navn"], now["version"]), (di["navn"], 1))

    # ---- transactions ----

    def test_transaction_commits_all(self):
        st, _, old = self.srv.call("POST", "/v1/daginstitutioner",
                                   daginstitution(101, units=[anvisningsenhed(kommune=101)]),
                                   auth=self.kommune)
        self.assertEqual(st, 201)
        unit = old["anvisningsenheder"][0]["nummer"]
        before = self.srv.seq()
        steps = [
            {"metode": "POST", "sti": "/v1/daginstitutioner", "krop": daginstitution(101)},
            {"metode": "POST", "sti": "/v1/anvisningsenheder",
             "krop": anvisningsenhed("$1", kommune=101, navn="Ny stue")},
            {"metode": "POST", "sti": "/v1/anvisningsenheder/%s/flyt" % unit,
             "krop": {"daginstitutionsNummer": "$1"}},
            {"metode": "POST", "sti": "/v1/daginstitutioner/%s/nedlaeg" % old["nummer"],
             "krop": {"virkningTil": (datetime.date.today() + datetime.timedelta(days=30)).isoformat()},
             "ifMatch": 1},
        ]
        st, _, doc = self.srv.call("POST", "/v1/transaktioner", {"trin": steps},
                                   auth=self.kommune)
        self.assertEqual(st, 200, doc)
        self.assertEqual([t["status"] for t in doc["trin"]], [201, 201, 200, 200])
        new_di = doc["trin"][0]["nummer"]
        self.assertEqual(doc["trin"][1]["data"]["daginstitutionsNummer"], new_di)
        self.assertEqual(doc["trin"][2]["data"]["daginstitutionsNummer"], new_di)
        # one hændelse per changed record, in the steps' order
        st, _, events = self.srv.call("GET", "/v1/haendelser?fra=%d" % (before + 1))
        self.assertEqual([(e["operation"], e["nummer"]) for e in events],
                         [("oprettet", new_di), ("oprettet", doc["trin"][1]["nummer"]),
                          ("flyttet", unit), ("aendret", old["nummer"])])
        code, out = verify_audit(self.srv)
        self.assertEqual(code, 0, out)

    def test_transaction_refusal_names_the_step_and_writes_nothing(self):
        before = self.srv.seq()
        probe = self.next_number_probe()
        steps = [
            {"metode": "POST", "sti": "/v1/daginstitutioner", "krop": daginstitution(101)},
            {"metode": "POST", "sti": "/v1/anvisningsenheder",
             "krop": anvisningsenhed("$1", kommune=101, inst=6013)},  # dagpleje under § 19
        ]
        st, _, doc = self.srv.call("POST", "/v1/transaktioner", {"trin": steps},
                                   auth=self.kommune)
        self.assertEqual(st, 422, doc)
        self.assertEqual(doc["trin"], 2)
        self.assertIn("KRYDSVALIDERING", problem_codes(doc))
        self.assertTrue(doc["detail"].startswith("trin 2: "), doc)
        self.assertEqual(self.srv.seq(), before)
        self.assertEqual(self.next_number_probe(), probe)  # no number burnt
        # a kommune cannot reach out of scope inside a transaction either
        steps = [{"metode": "POST", "sti": "/v1/daginstitutioner", "krop": daginstitution(101)},
                 {"metode": "POST", "sti": "/v1/daginstitutioner", "krop": daginstitution(147)}]
        st, _, doc = self.srv.call("POST", "/v1/transaktioner", {"trin": steps},
                                   auth=self.kommune)
        self.assertEqual((st, doc["trin"]), (403, 2), doc)
        self.assertEqual(self.srv.seq(), before)

    def test_transaction_dry_run_and_idempotency(self):
        before = self.srv.seq()
        body = {"trin": [{"metode": "POST", "sti": "/v1/daginstitutioner",
                          "krop": daginstitution(101)},
                         {"metode": "PATCH", "sti": "/v1/daginstitutioner/$1",
                          "krop": {"navn": "Omdøbt i samme transaktion"}}]}
        st, h, doc = self.srv.call("POST", "/v1/transaktioner?kontroller=true", body,
                                   auth=self.kommune)
        self.assertEqual(st, 200, doc)
        self.assertTrue(doc["kontrolleret"])
        self.assertEqual(doc["trin"][1]["data"]["navn"], "Omdøbt i samme transaktion")
        self.assertEqual(self.srv.seq(), before)
        key = {"Idempotency-Key": "txn-%d" % before}
        first = self.srv.call("POST", "/v1/transaktioner", body, auth=self.kommune, headers=key)
        again = self.srv.call("POST", "/v1/transaktioner", body, auth=self.kommune, headers=key)
        self.assertEqual(first[0], 200, first[2])
        self.assertEqual(again[2]["trin"], first[2]["trin"])
        self.assertEqual(self.srv.seq(), before + 2)  # once
        other = dict(body, trin=body["trin"][:1])
        st, _, doc = self.srv.call("POST", "/v1/transaktioner", other, auth=self.kommune,
                                   headers=key)
        self.assertEqual((st, problem_codes(doc)), (422, ["IDEMPOTENS_KONFLIKT"]))

    def test_transaction_bad_input(self):
        before = self.srv.seq()
        cases = [
            ({"trin": []}, "trin"),
            ({"trin": [{"metode": "GET", "sti": "/v1/daginstitutioner"}]}, "trin[1].sti"),
            ({"trin": [{"metode": "POST", "sti": "/v1/daginstitutioner/$1/nedlaeg",
                        "krop": {}}]}, "trin[1].sti"),  # $1 names no earlier step
            ({"trin": [{"metode": "DELETE", "sti": "/v1/daginstitutioner/G00001",
                        "krop": {}}]}, "trin[1].krop"),
            ({"trin": [{"metode": "POST", "sti": "/v1/daginstitutioner", "krop": {},
                        "x": 1}]}, "trin[1].*"),
            ({"trin": [{"metode": "POST", "sti": "/v1/daginstitutioner",
                        "krop": daginstitution(101)}] * 101}, "trin"),
        ]
        for body, felt in cases:
            st, _, doc = self.srv.call("POST", "/v1/transaktioner", body, auth=self.kommune)
            self.assertEqual(st, 400, (body, doc))
            self.assertEqual(doc["fejl"][0]["felt"], felt, doc)
        st, _, doc = self.srv.call("POST", "/v1/transaktioner", {"trin": cases[0][0]["trin"]})
        self.assertEqual(st, 401)
        self.assertEqual(self.srv.seq(), before)


if __name__ == "__main__":
    unittest.main()
