"""The authorization matrix over real HTTP (DOMAIN.md, Who may do what): each
role -- kommune in scope, kommune out of scope, kommune with both kommuner,
support, laeser, admin, no client -- against each write operation (create,
update, close, delete, move, with both ends of a move) on public and private
(ejerform 3) dagtilbud, inside and outside the scope. Every refused write
must leave the register untouched: the hændelser count (gapless, one per
changed record) is the same after it as before."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.environ.get("DTR_SOURCE_DIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")), "plugins", "rest", "tests"))
from rest_http import (RestServer, alternativ_adresse, anvisningsenhed,  # noqa: E402
                       daginstitution, problem_codes, sanitizer_clean)

PUBLIC = dict(ejerform=1, lovgrundlag=1)
PRIVATE = dict(ejerform=3, lovgrundlag=4)


class Fixture:
    """A daginstitution with one anvisningsenhed with one alternativ adresse,
    made by support."""

    def __init__(self, srv, auth, kommune, private=False, units=True):
        kind = PRIVATE if private else PUBLIC
        body = daginstitution(kommune, navn="Matrix %d%s" % (kommune, " privat" if private else ""),
                              units=[anvisningsenhed(kommune=kommune)] if units else None, **kind)
        st, _, doc = srv.call("POST", "/v1/daginstitutioner", body, auth=auth)
        assert st == 201, doc
        self.di = doc["nummer"]
        self.ae = doc["anvisningsenheder"][0]["nummer"] if units else None
        self.aa = None
        if units:
            st, _, aa = srv.call("POST", "/v1/alternative-adresser",
                                 alternativ_adresse(self.ae, kommune), auth=auth)
            assert st == 201, aa
            self.aa = aa["nummer"]


# Each operation: (name, kommuner it touches, touches a private dagtilbud,
# the status when authorized if not success, a function(srv, support) ->
# (method, path, body)). Fixtures are made fresh for every attempt.
def op_create_di(kommune, private):
    def make(srv, sup):
        return "POST", "/v1/daginstitutioner", daginstitution(
            kommune, units=[anvisningsenhed(kommune=kommune)], **(PRIVATE if private else PUBLIC))
    return make


def op_create_ae(kommune, private):
    def make(srv, sup):
        f = Fixture(srv, sup, kommune, private, units=False)
        return "POST", "/v1/anvisningsenheder", anvisningsenhed(f.di, kommune)
    return make


def op_create_aa(kommune, private):
    def make(srv, sup):
        f = Fixture(srv, sup, kommune, private)
        return "POST", "/v1/alternative-adresser", alternativ_adresse(f.ae, kommune)
    return make


def op_update_di(kommune, private, change):
    def make(srv, sup):
        f = Fixture(srv, sup, kommune, private)
        return "PATCH", "/v1/daginstitutioner/" + f.di, change
    return make


def op_update_ae(kommune, private):
    def make(srv, sup):
        f = Fixture(srv, sup, kommune, private)
        return "PATCH", "/v1/anvisningsenheder/" + f.ae, {"navn": "Omdøbt"}
    return make


def op_update_aa(kommune, private):
    def make(srv, sup):
        f = Fixture(srv, sup, kommune, private)
        return "PATCH", "/v1/alternative-adresser/" + f.aa, {"navn": "Omdøbt"}
    return make


def op_close_ae(kommune, private):
    def make(srv, sup):
        f = Fixture(srv, sup, kommune, private)
        st, _, _ = srv.call("DELETE", "/v1/alternative-adresser/" + f.aa, auth=sup)
        assert st == 204
        return "POST", "/v1/anvisningsenheder/%s/nedlaeg" % f.ae, {"virkningTil": "2030-06-30"}
    return make


def op_close_di(kommune, private):
    def make(srv, sup):
        f = Fixture(srv, sup, kommune, private, units=False)
        return "POST", "/v1/daginstitutioner/%s/nedlaeg" % f.di, {"virkningTil": "2030-06-30"}
    return make


def op_delete_aa(kommune, private):
    def make(srv, sup):
        f = Fixture(srv, sup, kommune, private)
        return "DELETE", "/v1/alternative-adresser/" + f.aa, None
    return make


def op_delete_di(kommune, private):
    def make(srv, sup):
        f = Fixture(srv, sup, kommune, private, units=False)
        return "DELETE", "/v1/daginstitutioner/" + f.di, None
    return make


def op_move_ae(src_kommune, src_private, dst_kommune, dst_private):
    def make(srv, sup):
        a = Fixture(srv, sup, src_kommune, src_private)
        b = Fixture(srv, sup, dst_kommune, dst_private, units=False)
        return "POST", "/v1/anvisningsenheder/%s/flyt" % a.ae, {"daginstitutionsNummer": b.di}
    return make


def op_move_aa(kommune, private):
    def make(srv, sup):
        a = Fixture(srv, sup, kommune, private)
        st, _, ae2 = srv.call("POST", "/v1/anvisningsenheder", anvisningsenhed(a.di, kommune),
                              auth=sup)
        assert st == 201, ae2
        return ("POST", "/v1/alternative-adresser/%s/flyt" % a.aa,
                {"anvisningsenhedsNummer": ae2["nummer"]})
    return make


OPERATIONS = [
    ("create daginstitution 101", {101}, False, None, op_create_di(101, False)),
    ("create private daginstitution 101", {101}, True, None, op_create_di(101, True)),
    ("create daginstitution 147", {147}, False, None, op_create_di(147, False)),
    ("create anvisningsenhed 101", {101}, False, None, op_create_ae(101, False)),
    ("create anvisningsenhed under private 101", {101}, True, None, op_create_ae(101, True)),
    ("create alternativ adresse 101", {101}, False, None, op_create_aa(101, False)),
    ("update daginstitution 101", {101}, False, None,
     op_update_di(101, False, {"navn": "Omdøbt"})),
    ("update private daginstitution 101", {101}, True, None,
     op_update_di(101, True, {"navn": "Omdøbt"})),
    ("update daginstitution 101 into private", {101}, True, None,
     op_update_di(101, False, {"ejerformKode": 3, "lovgrundlagKode": 4})),
    ("update daginstitution 101 out to 147", {101, 147}, False, None,
     op_update_di(101, False, {"admKommuneKode": 147})),
    ("update anvisningsenhed 147", {147}, False, None, op_update_ae(147, False)),
    ("update alternativ adresse of private 101", {101}, True, None, op_update_aa(101, True)),
    ("close anvisningsenhed 101", {101}, False, None, op_close_ae(101, False)),
    ("close private daginstitution 101", {101}, True, None, op_close_di(101, True)),
    ("delete alternativ adresse 101", {101}, False, None, op_delete_aa(101, False)),
    ("delete daginstitution 147", {147}, False, None, op_delete_di(147, False)),
    ("delete private daginstitution 101", {101}, True, None, op_delete_di(101, True)),
    ("move anvisningsenhed 101 -> 101", {101}, False, None, op_move_ae(101, False, 101, False)),
    ("move anvisningsenhed 101 -> 147", {101, 147}, False, 409,
     op_move_ae(101, False, 147, False)),
    ("move anvisningsenhed 147 -> 101", {101, 147}, False, 409,
     op_move_ae(147, False, 101, False)),
    ("move anvisningsenhed 101 -> private 101", {101}, True, None,
     op_move_ae(101, False, 101, True)),
    ("move anvisningsenhed private 101 -> 101", {101}, True, None,
     op_move_ae(101, True, 101, False)),
    ("move alternativ adresse within 101", {101}, False, None, op_move_aa(101, False)),
]


class RestAuthzTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = RestServer()
        srv = cls.srv
        cls.support = srv.add_client("support", "support")
        cls.roles = [
            ("kommune 101", srv.add_client("k101", "kommune", [101]), {101}),
            ("kommune 147", srv.add_client("k147", "kommune", [147]), {147}),
            ("kommune 101+147", srv.add_client("kboth", "kommune", [101, 147]), {101, 147}),
            ("support", cls.support, None),
            ("laeser", srv.add_client("laeser", "laeser"), set()),
            ("admin", srv.add_client("admin", "admin"), set()),
            ("no client", None, set()),
        ]

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.srv.stop()
            assert code == 0, cls.srv.stderr()
            assert sanitizer_clean(cls.srv.stderr()), cls.srv.stderr()
        finally:
            cls.srv.close()

    @staticmethod
    def expected(role, auth, scope, touches, private, when_allowed):
        if auth is None:
            return 401
        if scope is None:  # support
            return when_allowed or 0
        if not scope or private or not touches <= scope:
            return 403
        return when_allowed or 0

    def test_matrix(self):
        srv = self.srv
        refused = allowed = 0
        for role, auth, scope in self.roles:
            for name, touches, private, when_allowed, make in OPERATIONS:
                with self.subTest(role=role, operation=name):
                    method, path, body = make(srv, self.support)
                    want = self.expected(role, auth, scope, touches, private, when_allowed)
                    before = srv.seq()
                    st, _, doc = srv.call(method, path, body, auth=auth)
                    after = srv.seq()
                    if want == 0:
                        self.assertIn(st, (200, 201, 204), doc)
                        self.assertGreater(after, before)
                        allowed += 1
                    else:
                        self.assertEqual(st, want, doc)
                        self.assertEqual(after, before, "refused write changed the register")
                        kode = {401: "IKKE_AUTENTIFICERET", 403: "IKKE_TILLADT",
                                409: "FLYT_PAA_TVAERS"}[want]
                        self.assertIn(kode, problem_codes(doc))
                        refused += 1
        self.assertGreater(allowed, 20)
        self.assertGreater(refused, 80)

    def test_reads_need_a_client_when_public_read_is_off(self):
        srv = RestServer(public_read=False)
        try:
            laeser = srv.add_client("laeser", "laeser")
            kommune = srv.add_client("k", "kommune", [101])
            for path in ("/v1/daginstitutioner", "/v1/haendelser/seneste", "/v1/udtraek",
                         "/v1/kodetabeller/kommuner", "/v1/openapi.json"):
                st, h, doc = srv.call("GET", path)
                self.assertEqual(st, 401, path)
                self.assertEqual(h["www-authenticate"], 'Basic realm="dtr"')
                for auth in (laeser, kommune):
                    st, _, doc = srv.call("GET", path, auth=auth)
                    self.assertEqual(st, 200, (path, doc))
            st, _, _ = srv.call("GET", "/v1/daginstitutioner", auth="Basic eDp5")
            self.assertEqual(st, 401)
            self.assertEqual(srv.stop(), 0)
            self.assertTrue(sanitizer_clean(srv.stderr()), srv.stderr())
        finally:
            srv.close()


if __name__ == "__main__":
    unittest.main()
