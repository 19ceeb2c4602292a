"""The plugin SDK end to end, as a vendor meets it: `cmake --install` of this
build into a temporary prefix (bin/dtr, the plugins, include/dtr/plugin.h,
lib/pkgconfig/dtr-plugin.pc, etc/dtr/dtr.json), the example adapter
examples/pladsen configured and built OUT OF TREE against that prefix with
nothing but PKG_CONFIG_PATH, and the installed dtr serving it (the
installed config, plus a plugin entry with "path") over real HTTP: a nested
create, transactions, dry runs that change nothing, the register's errors
in the vendor's field names, 401 without credentials. Standard library
only."""

import base64
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import host_harness  # noqa: E402
from host_harness import Server, run_cli, sanitizer_clean  # noqa: E402

SOURCE_DIR = os.environ.get("DTR_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))
BUILD_DIR = os.environ.get("DTR_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
EXAMPLE = os.path.join(SOURCE_DIR, "examples", "pladsen")

CVR = "74467334"  # valid (modulus 11), from the sample
PNR = "1482983425"


def run(args, env=None):
    p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    if p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(args), p.returncode,
                                                          p.stdout, p.stderr))
    return p.stdout


def header_abi():
    with open(os.path.join(SOURCE_DIR, "include", "dtr", "plugin.h")) as f:
        text = f.read()
    major = re.search(r"^#define DTR_ABI_MAJOR (\d+)", text, re.M).group(1)
    minor = re.search(r"^#define DTR_ABI_MINOR (\d+)", text, re.M).group(1)
    return "%s.%s" % (major, minor)


def stue(navn="Solsikken Børnehave", type_=6011, kommune=101, **kw):
    s = {"navn": navn, "type": type_, "cvr": CVR, "pnr": PNR,
         "adresse": {"vej": "Rømersgade", "husnr": "27", "postnr": "1362",
                     "by": "København K", "kommune": kommune}}
    s.update(kw)
    return s


def institution(navn="Solsikken", kommune=101, ejerform=1, lovgrundlag=1, **kw):
    i = {"navn": navn, "ejerform": ejerform, "lovgrundlag": lovgrundlag, "kommune": kommune}
    i.update(kw)
    return i


class SdkTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="dtr-sdk-test-")
        cls.srv = None
        try:
            cls._install_and_build()
            cls._serve()
        except BaseException:
            cls._cleanup()
            raise

    @classmethod
    def _install_and_build(cls):
        cls.prefix = os.path.join(cls.tmp, "sdk")
        run(["cmake", "--install", BUILD_DIR, "--prefix", cls.prefix])
        pcs = glob.glob(os.path.join(cls.prefix, "**", "pkgconfig", "dtr-plugin.pc"),
                        recursive=True)
        assert len(pcs) == 1, pcs
        cls.pc_file = pcs[0]
        cls.env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]))
        cls.env.pop("PKG_CONFIG_LIBDIR", None)
        # The example knows nothing of this repository: only pkg-config.
        cflags = "-Werror"
        if host_harness.SANITIZE:
            cflags += " -fsanitize=address,undefined -fno-omit-frame-pointer"
        cls.example_build = os.path.join(cls.tmp, "pladsen-build")
        run(["cmake", "-S", EXAMPLE, "-B", cls.example_build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
             "-DCMAKE_C_FLAGS=" + cflags], env=cls.env)
        run(["cmake", "--build", cls.example_build], env=cls.env)
        cls.so = os.path.join(cls.example_build, "pladsen.so")
        assert os.path.isfile(cls.so), "the example built no pladsen.so"

    @classmethod
    def _serve(cls):
        # The installed dtr with the installed config (its plugin_dir points
        # into the prefix), plus the adapter by path.
        host_harness.DTR_BIN = os.path.join(cls.prefix, "bin", "dtr")
        with open(os.path.join(cls.prefix, "etc", "dtr", "dtr.json")) as f:
            cfg = json.load(f)
        cfg["listen"] = "127.0.0.1:0"
        cfg["plugins"].append({"name": "pladsen", "path": cls.so, "config": {}})
        cls.srv = Server(cfg)
        cls.support = cls.add_client("support", "support")
        cls.k101 = cls.add_client("kommune 101", "kommune", "101")

    @classmethod
    def add_client(cls, name, role, kommuner=None):
        args = ["client", "add", "--name", name, "--role", role]
        if kommuner:
            args += ["--kommune", kommuner]
        code, out, err = run_cli(args + ["--config", cls.srv.config_path,
                                         "--data", cls.srv.data_dir])
        assert code == 0, (out, err)
        info = json.loads(out)
        return "Basic " + base64.b64encode(
            ("%s:%s" % (info["clientId"], info["secret"])).encode()).decode()

    @classmethod
    def _cleanup(cls):
        if cls.srv:
            cls.srv.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.srv.stop()
            log = cls.srv.stderr()
            assert code == 0, log
            assert sanitizer_clean(log), log
        finally:
            cls._cleanup()

    # ---- helpers ----

    def call(self, method, path, body=None, auth="support", headers=None):
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if auth:
            h["Authorization"] = getattr(self, auth) if auth in ("support", "k101") else auth
        status, rh, raw = self.srv.request(method, path, body=data, headers=h)
        return status, rh, json.loads(raw) if raw else None

    def seq(self):
        status, _, doc = self.call("GET", "/v1/haendelser/seneste", auth=None)
        self.assertEqual(status, 200, doc)
        return doc["sekvensnummer"]

    def refused(self, status, method, path, body, auth="support"):
        """A request that must be refused and change nothing: its fejl."""
        before = self.seq()
        st, _, doc = self.call(method, path, body, auth=auth)
        self.assertEqual(st, status, doc)
        self.assertEqual(doc["resultat"], "afvist", doc)
        self.assertEqual(self.seq(), before, "a refused request changed the register")
        return {(f["kode"], f["felt"]) for f in doc["fejl"]}

    def create(self, inst=None, stuer=None):
        body = {"institution": inst or institution(), "stuer": stuer or [stue()]}
        st, h, doc = self.call("POST", "/pladsen/v1/institutioner", body)
        self.assertEqual(st, 201, doc)
        return h, doc

    # ---- the installed SDK ----

    def test_installed_layout(self):
        pc = lambda *a: run(["pkg-config"] + list(a) + ["dtr-plugin"], env=self.env).strip()
        self.assertEqual(pc("--variable=abi_version"), header_abi())
        plugindir = pc("--variable=plugindir")
        libdir = os.path.dirname(os.path.dirname(self.pc_file))  # <prefix>/<libdir>
        self.assertEqual(os.path.realpath(plugindir),
                         os.path.realpath(os.path.join(libdir, "dtr", "plugins")))
        self.assertIn("-I" + os.path.join(self.prefix, "include"), pc("--cflags"))
        self.assertIn("-ljansson", pc("--libs"))
        self.assertTrue(os.path.isfile(os.path.join(self.prefix, "include", "dtr", "plugin.h")))
        for name in ("rest", "csv"):
            self.assertTrue(os.path.isfile(os.path.join(plugindir, name + ".so")), name)
        self.assertFalse(os.path.exists(os.path.join(plugindir, "good.so")),
                         "test plugins are not part of the SDK")
        # the adapter exports one symbol, the descriptor
        nm = run(["nm", "-D", "--defined-only", self.so])
        exported = [line.split()[-1] for line in nm.splitlines() if line.strip()]
        exported = [s for s in exported if not s.startswith("__odr_asan")]  # ASan's own
        self.assertEqual(exported, ["dtr_plugin_entry"], nm)
        # and its own install rule puts it where the installed dtr looks
        run(["cmake", "--install", self.example_build], env=self.env)
        self.assertTrue(os.path.isfile(os.path.join(plugindir, "pladsen.so")))

    # ---- over HTTP ----

    def test_credentials_needed(self):
        body = {"institution": institution(), "stuer": [stue()]}
        before = self.seq()
        for auth in (None, "Basic " + base64.b64encode(b"nobody:wrong").decode()):
            st, h, doc = self.call("POST", "/pladsen/v1/institutioner", body, auth=auth)
            self.assertEqual(st, 401, doc)
            self.assertEqual(h.get("www-authenticate"), 'Basic realm="dtr"')
            self.assertEqual(doc["fejl"][0]["kode"], "IKKE_AUTENTIFICERET")
            st, _, _ = self.call("GET", "/pladsen/v1/institutioner/G00001", auth=auth)
            self.assertEqual(st, 401)
        self.assertEqual(self.seq(), before)

    def test_nested_create_and_read_back(self):
        ekstra = {"navn": "Solsikken, legepladsen",
                  "adresse": {"vej": "Rømersgade", "husnr": "29", "postnr": "1362",
                              "by": "København K", "kommune": 101}}
        stuer = [stue("Solsikken Vuggestue", 6010), stue("Solsikken Børnehave", 6011,
                                                        ekstraAdresser=[ekstra])]
        before = self.seq()
        h, doc = self.create(institution("Solsikken"), stuer)
        self.assertEqual(doc["resultat"], "oprettet")
        nummer = doc["nummer"]
        self.assertRegex(nummer, r"^[A-Z][0-9]{5}$")
        self.assertEqual(h["location"], "/pladsen/v1/institutioner/" + nummer)
        self.assertEqual(self.seq(), before + 4)  # one hændelse per record
        # the vendor's shape back, numbers issued at every level
        st, _, got = self.call("GET", "/pladsen/v1/institutioner/" + nummer)
        self.assertEqual(st, 200, got)
        self.assertEqual(got["institution"]["navn"], "Solsikken")
        self.assertEqual(got["institution"]["kommune"], 101)
        self.assertEqual([s["type"] for s in got["stuer"]], [6010, 6011])
        self.assertEqual(got["stuer"][1]["adresse"]["postnr"], "1362")
        self.assertEqual(got["stuer"][1]["ekstraAdresser"][0]["adresse"]["husnr"], "29")
        self.assertEqual(got["institution"], doc["institution"])
        # the same records in the register's own names (REST)
        st, _, reg = self.call("GET", "/v1/daginstitutioner/" + nummer, auth=None)
        self.assertEqual(st, 200)
        self.assertEqual([a["nummer"] for a in reg["anvisningsenheder"]],
                         [s["nummer"] for s in got["stuer"]])
        self.assertEqual(reg["anvisningsenheder"][1]["alternativeAdresser"][0]["navn"],
                         "Solsikken, legepladsen")
        # an anvisningsenhed's number is not an institution
        st, _, doc = self.call("GET", "/pladsen/v1/institutioner/" + got["stuer"][0]["nummer"])
        self.assertEqual((st, doc["fejl"][0]["felt"]), (404, "nummer"))

    def test_dry_run_changes_nothing(self):
        before = self.seq()
        body = {"institution": institution("Kontrol"), "stuer": [stue()]}
        st, _, doc = self.call("POST", "/pladsen/v1/institutioner?kontroller=true", body)
        self.assertEqual(st, 200, doc)
        self.assertEqual(doc["resultat"], "kontrolleret")
        self.assertEqual(doc["institution"]["navn"], "Kontrol")
        self.assertEqual(self.seq(), before)
        st, _, _ = self.call("GET", "/pladsen/v1/institutioner/" + doc["nummer"])
        self.assertEqual(st, 404)
        # a dry run is refused exactly as the real thing would be
        bad = {"institution": institution("x" * 133), "stuer": [stue()]}
        self.assertIn(("FOR_LANG", "institution.navn"),
                      self.refused(422, "POST", "/pladsen/v1/institutioner?kontroller=true", bad))

    def test_errors_in_the_vendors_field_names(self):
        path = "/pladsen/v1/institutioner"
        fejl = self.refused(422, "POST", path, {"institution": institution("x" * 133),
                                                "stuer": [stue()]})
        self.assertIn(("FOR_LANG", "institution.navn"), fejl)
        bad = stue()
        bad["adresse"]["postnr"] = "12"
        fejl = self.refused(422, "POST", path, {"institution": institution(), "stuer": [stue(), bad]})
        self.assertIn("stuer[1].adresse.postnr", {f for _, f in fejl}, fejl)
        # a key Pladsen does not have never reaches the register
        fejl = self.refused(422, "POST", path, {"institution": institution(farve="gul"),
                                                "stuer": [stue()]})
        self.assertEqual(fejl, {("UKENDT_FELT", "institution.farve")})
        # cross-validation: a vuggestue under § 21 (dagpleje)
        fejl = self.refused(422, "POST", path, {"institution": institution(lovgrundlag=5),
                                                "stuer": [stue(type_=6010)]})
        self.assertIn(("KRYDSVALIDERING", "stuer[0].type"), fejl)
        # authorization: a kommune writes only in its own scope
        fejl = self.refused(403, "POST", path, {"institution": institution(kommune=147),
                                                "stuer": [stue(kommune=147)]}, auth="k101")
        self.assertIn("IKKE_TILLADT", {k for k, _ in fejl})

    def test_transaction_of_stuer_all_or_nothing(self):
        _, doc = self.create(institution("Mælkebøtten"))
        nummer = doc["nummer"]
        path = "/pladsen/v1/institutioner/%s/stuer" % nummer
        bad = stue("Mælkebøtten Klub", 9999)
        fejl = self.refused(422, "POST", path, {"stuer": [stue("Mælkebøtten Vuggestue", 6010), bad]})
        self.assertIn(("UKENDT_KODE", "stuer[1].type"), fejl)
        fejl = self.refused(422, "POST", "/pladsen/v1/institutioner/G99999/stuer",
                            {"stuer": [stue()]})
        self.assertEqual(fejl, {("FORAELDER_FINDES_IKKE", "nummer")})
        before = self.seq()
        st, _, got = self.call("POST", path, {"stuer": [stue("Mælkebøtten Vuggestue", 6010),
                                                        stue("Mælkebøtten Stor", 6014)]})
        self.assertEqual(st, 200, got)
        self.assertEqual(got["resultat"], "gennemfoert")
        self.assertEqual([s["institution"] for s in got["stuer"]], [nummer, nummer])
        self.assertEqual(self.seq(), before + 2)
        st, _, inst = self.call("GET", "/pladsen/v1/institutioner/" + nummer)
        self.assertEqual(len(inst["stuer"]), 3)

    def test_omlaegning_create_move_close(self):
        _, old = self.create(institution("Gamle Hus"), [stue("Gamle Hus A"), stue("Gamle Hus B")])
        stuer = [s["nummer"] for s in old["stuer"]]
        body = {"nyInstitution": institution("Nye Hus"), "flytStuer": stuer,
                "lukGammel": {"nummer": old["nummer"], "dato": "2099-12-31"}}
        # a dry run first: the answer, and nothing written
        before = self.seq()
        st, _, doc = self.call("POST", "/pladsen/v1/omlaegninger?kontroller=true", body)
        self.assertEqual(st, 200, doc)
        self.assertEqual((doc["resultat"], doc["flyttet"]), ("kontrolleret", stuer))
        self.assertEqual(self.seq(), before)
        # a failing step refuses the whole, named in the vendor's terms
        wrong = dict(body, lukGammel={"nummer": old["nummer"], "dato": "31-12-2099"})
        fejl = self.refused(422, "POST", "/pladsen/v1/omlaegninger", wrong)
        self.assertIn("lukGammel.dato", {f for _, f in fejl}, fejl)
        # the real thing: create, two moves to "$1", close: four hændelser
        st, _, doc = self.call("POST", "/pladsen/v1/omlaegninger", body)
        self.assertEqual(st, 200, doc)
        self.assertEqual(doc["resultat"], "gennemfoert")
        self.assertEqual((doc["flyttet"], doc["lukket"]), (stuer, old["nummer"]))
        self.assertEqual(self.seq(), before + 4)
        st, _, ny = self.call("GET", "/pladsen/v1/institutioner/" + doc["nummer"])
        self.assertEqual([s["nummer"] for s in ny["stuer"]], stuer)
        st, _, gammel = self.call("GET", "/pladsen/v1/institutioner/" + old["nummer"])
        self.assertEqual((gammel["stuer"], gammel["institution"]["slutdato"]), ([], "2099-12-31"))

    def test_idempotency_key(self):
        body = {"institution": institution("Igen"), "stuer": [stue()]}
        headers = {"Idempotency-Key": "pladsen-test-1"}
        st1, _, one = self.call("POST", "/pladsen/v1/institutioner", body, headers=headers)
        before = self.seq()
        st2, _, two = self.call("POST", "/pladsen/v1/institutioner", body, headers=headers)
        self.assertEqual((st1, st2), (201, 201), two)
        self.assertEqual(one["nummer"], two["nummer"])
        self.assertEqual(self.seq(), before)


if __name__ == "__main__":
    unittest.main()
