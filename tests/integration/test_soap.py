"""The soap plugin over real HTTP against the real binary (API.md, "SOAP
compatibility"):

- the npm `soap` client (plugins/soap/tests/node, installed with `npm ci`
  when node_modules is missing) reads our WSDLs and runs every operation of
  both services, refusals and faults included; what its Insert stored reads
  back through GetAnvisningsEnhederByNummer and through REST field for
  field;
- hand-written SOAP 1.1 and 1.2 envelopes, and one for each fault;
- hostile XML: XXE (a file and the network), billion laughs (the server's
  memory does not move), a DOCTYPE inside xmlData, nesting too deep, a body
  over the limit, invalid UTF-8, each harmless and answered.

Standard library only (besides node for the client test)."""

import base64
import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("DTR_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))
sys.path.insert(0, HERE)

from host_harness import Server, run_cli, sanitizer_clean  # noqa: E402

PLUGIN_DIR = os.environ.get("DTR_PLUGIN_DIR", "build/plugins")
NODE_DIR = os.path.join(SOURCE_DIR, "plugins", "soap", "tests", "node")

NS = "urn:dagtilbudsregister:soap:2"
S11 = "http://schemas.xmlsoap.org/soap/envelope/"
S12 = "http://www.w3.org/2003/05/soap-envelope"
CT11 = "text/xml; charset=utf-8"
CT12 = "application/soap+xml; charset=utf-8"


def envelope(inner, v=11):
    ns = S11 if v == 11 else S12
    return ('<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="%s"><s:Body>%s'
            '</s:Body></s:Envelope>' % (ns, inner)).encode()


def op(name, params=""):
    return '<%s xmlns="%s">%s</%s>' % (name, NS, params, name)


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xmldata(doc):
    return "<xmlData>%s</xmlData>" % xml_escape(doc)


DI_DOC = ('<daginstitution xmlns="%s"><daginstitutionsNavn>Mælkebøtten</daginstitutionsNavn>'
          '<ejerformKode>1</ejerformKode><lovgrundlagKode>1</lovgrundlagKode>'
          '<admKommuneKode>101</admKommuneKode>%s</daginstitution>')
AE_DOC = ('<anvisningsEnhed><dagtilbudsNavn>Stuen</dagtilbudsNavn><instType3>6012</instType3>'
          '<kommuneKode>101</kommuneKode><vejNavn>Ågade</vejNavn><husNummer>4</husNummer>'
          '<postNummer>2200</postNummer><byNavn>København N</byNavn>'
          '<email>a@b.dk</email><cvrNummer>10000009</cvrNummer><pNummer>1000000002</pNummer>'
          '<geoBredde>55.69</geoBredde><geoLaengde>12.55</geoLaengde><etage>st</etage>'
          '</anvisningsEnhed>')


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class SoapServer(Server):
    def __init__(self, public_read=True, plugins=("rest", "soap"), start=True):
        super().__init__({"listen": "127.0.0.1:0", "public_read": public_read,
                          "plugin_dir": PLUGIN_DIR,
                          "plugins": [{"name": n, "config": {}} for n in plugins]}, start=start)

    def add_client(self, name, role, kommune=None):
        args = ["client", "add", "--name", name, "--role", role]
        if kommune:
            args += ["--kommune", kommune]
        code, out, err = run_cli(args + ["--config", self.config_path, "--data", self.data_dir])
        assert code == 0, err
        info = json.loads(out)
        return "%s:%s" % (info["clientId"], info["secret"])

    def soap(self, service, body, v=11, auth=None, headers=None, action=None):
        h = {"Content-Type": CT11 if v == 11 else CT12}
        if auth:
            h["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        if action is not None:
            h["SOAPAction"] = action
        h.update(headers or {})
        return self.request("POST", "/soap/" + service, body=body, headers=h)


def fault_of(body, v=11):
    """(code, [(kode, felt)]) of a fault answer."""
    root = ET.fromstring(body)
    ns = S11 if v == 11 else S12
    fault = root.find("{%s}Body/{%s}Fault" % (ns, ns))
    assert fault is not None, body
    if v == 11:
        code = fault.findtext("faultcode")
    else:
        code = fault.findtext("{%s}Code/{%s}Value" % (ns, ns))
    fejl = [(f.findtext("{%s}kode" % NS), f.findtext("{%s}felt" % NS))
            for f in fault.iter("{%s}fejl" % NS)]
    return code, fejl


def result_of(body, name, v=11):
    ns = S11 if v == 11 else S12
    root = ET.fromstring(body)
    return root.find("{%s}Body/{%s}%sResponse/{%s}%sResult" % (ns, NS, name, NS, name))


def svar_of(body, name, v=11):
    text = result_of(body, name, v).text
    svar = ET.fromstring(text)
    return (svar.findtext("{%s}status" % NS), svar.findtext("{%s}nummer" % NS),
            [(f.findtext("{%s}kode" % NS), f.findtext("{%s}felt" % NS))
             for f in svar.iter("{%s}fejl" % NS)])


class SoapTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = SoapServer()
        cls.support = cls.srv.add_client("leverandoer", "support")
        cls.kommune = cls.srv.add_client("kbh", "kommune", "101")

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.srv.stop()
            assert code == 0, cls.srv.stderr()
            assert sanitizer_clean(cls.srv.stderr()), cls.srv.stderr()
        finally:
            cls.srv.close()

    # ---- the real client ----

    def test_node_soap_client(self):
        if not shutil.which("node") or not shutil.which("npm"):
            self.skipTest("node/npm are not installed")
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "soap")):
            p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                               capture_output=True, text=True, timeout=240)
            self.assertEqual(p.returncode, 0, "npm ci: " + p.stdout + p.stderr)
        env = dict(os.environ, DTR_URL="http://%s:%d" % (self.srv.host, self.srv.port),
                   SUPPORT=self.support, KOMMUNE=self.kommune)
        p = subprocess.run(["node", "client_test.js"], cwd=NODE_DIR, env=env,
                           capture_output=True, text=True, timeout=240)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("all 35 checks passed", p.stdout)

    # ---- hand-written envelopes ----

    def test_soap11_and_12_by_hand(self):
        st, h, body = self.srv.soap("ImportService", envelope(op("HelloWorld")), 11,
                                    auth=self.support, action='"%s/HelloWorld"' % NS)
        self.assertEqual(st, 200, body)
        self.assertTrue(h["content-type"].startswith("text/xml"))
        self.assertRegex(result_of(body, "HelloWorld").text, r"^Hello \d{4}-")
        st, h, body = self.srv.soap("ImportService", envelope(op("HelloWorld"), 12), 12,
                                    auth=self.support)
        self.assertEqual(st, 200, body)
        self.assertTrue(h["content-type"].startswith("application/soap+xml"))
        # an Insert and its read, by hand, in each version
        doc = DI_DOC % (NS, AE_DOC)
        st, _, body = self.srv.soap("ImportService", envelope(op("InsertDaginstitution",
                                                                  xmldata(doc)), 12), 12,
                                    auth=self.support)
        status, nummer, fejl = svar_of(body, "InsertDaginstitution", 12)
        self.assertEqual((status, fejl), ("OK", []), body)
        for v in (11, 12):
            st, _, body = self.srv.soap("EksportService", envelope(op(
                "GetDagtilbudByDagInstitutionsNummer",
                "<DagInstitutionsNummer>%s</DagInstitutionsNummer>" % nummer), v), v)
            self.assertEqual(st, 200, body)
            res = result_of(body, "GetDagtilbudByDagInstitutionsNummer", v)
            d = res.find("{%s}daginstitution" % NS)
            self.assertEqual(d.findtext("{%s}daginstitutionsNavn" % NS), "Mælkebøtten")
            self.assertEqual(d.findtext("{%s}lovgrundlagKode_Tekst" % NS),
                             "Dagtilbudsloven § 19, stk. 2")
            u = d.find("{%s}anvisningsEnhed" % NS)
            self.assertEqual(u.findtext("{%s}instType3_Tekst" % NS), "Aldersintegreret (0-5 år)")
            self.assertEqual(u.findtext("{%s}etage" % NS), "st")
        # xmlData without a namespace is read as ours (as the real service takes it)
        bare = DI_DOC.replace(' xmlns="%s"', "") % ""
        st, _, body = self.srv.soap("ImportService", envelope(op("ValidateXmlAgainstSchema",
                                                                  xmldata(bare))), 11,
                                    auth=self.support)
        self.assertEqual(svar_of(body, "ValidateXmlAgainstSchema")[0], "OK", body)

    def test_wsdl_and_xsd(self):
        for svc in ("ImportService", "EksportService"):
            st, h, body = self.srv.request("GET", "/soap/%s?wsdl" % svc)
            self.assertEqual(st, 200)
            root = ET.fromstring(body)
            w = "http://schemas.xmlsoap.org/wsdl/"
            ops = {o.get("name") for o in root.iter("{%s}operation" % w)}
            self.assertIn("HelloWorld", ops)
            addrs = [a.get("location") for a in root.iter()
                     if a.tag.endswith("}address")]
            self.assertEqual(addrs, ["http://%s:%d/soap/%s" % (self.srv.host, self.srv.port,
                                                               svc)] * 2)
        st, _, xsd = self.srv.request("GET", "/soap/dagtilbud.xsd")
        self.assertEqual(st, 200)
        st, _, body = self.srv.soap("ImportService", envelope(op("GetXMLSchema")),
                                    auth=self.support)
        self.assertEqual(result_of(body, "GetXMLSchema").text.encode(), xsd)
        # the code lists are enumerations with the register's texts
        self.assertIn(b'<xs:enumeration value="6013">', xsd)
        self.assertEqual(xsd.count(b"<xs:enumeration value=") - 3 - 2 - 4,
                         4 + 10 + 98 + 8)  # ejerform, lovgrundlag, kommuner, typer
        self.assertIn('Frederiksberg'.encode(), xsd)

    # ---- faults ----

    def assert_fault(self, service, body, v, status, code, kode, auth="support", **kw):
        st, h, answer = self.srv.soap(service, body, v,
                                      auth=self.support if auth == "support" else auth, **kw)
        self.assertEqual(st, status, answer)
        got_code, fejl = fault_of(answer, v)
        self.assertEqual(got_code, code, answer)
        self.assertIn(kode, [k for k, _ in fejl], answer)
        return h, fejl

    def test_faults_each_kind(self):
        for v, st, code in ((11, 500, "soap:Client"), (12, 400, "env:Sender")):
            with self.subTest(v=v):
                self.assert_fault("ImportService", b"<nej", v, st, code, "UGYLDIG_FORESPOERGSEL")
                self.assert_fault("ImportService", b"<a/>", v, st, code, "UGYLDIG_FORESPOERGSEL")
                other = 12 if v == 11 else 11
                self.assert_fault("EksportService", envelope(op("HelloWorld"), other), v, st, code,
                                  "UGYLDIG_FORESPOERGSEL")
                _, fejl = self.assert_fault("EksportService", envelope(op("Slet"), v), v, st,
                                            code, "UKENDT_FELT")
                self.assertEqual(fejl[0][1], "/Envelope/Body/Slet")
                # an ImportService operation at the EksportService
                self.assert_fault("EksportService", envelope(op("GetXMLSchema"), v), v, st, code,
                                  "UKENDT_FELT")
                _, fejl = self.assert_fault(
                    "EksportService",
                    envelope(op("GetDagtilbudByAdmKommuneNummer",
                                "<AdmkommuneNummer>tre</AdmkommuneNummer>"), v), v, st, code,
                    "FORKERT_TYPE")
                self.assertEqual(fejl, [("FORKERT_TYPE", "/Envelope/Body/"
                                         "GetDagtilbudByAdmKommuneNummer/AdmkommuneNummer")])
                self.assert_fault("EksportService", envelope(op("GetAllDagtilbud", "<x/>"), v),
                                  v, st, code, "UKENDT_FELT")
                self.assert_fault("EksportService", envelope(op("GetAnvisningsEnhederByNummer"),
                                                             v), v, st, code, "MANGLER_FELT")
                self.assert_fault("EksportService", envelope(op("HelloWorld") + op("HelloWorld"),
                                                             v), v, st, code,
                                  "UGYLDIG_FORESPOERGSEL")
                ns = S11 if v == 11 else S12
                must = ('<s:Envelope xmlns:s="%s"><s:Header><x:Sikkerhed xmlns:x="urn:x" '
                        's:mustUnderstand="1"/></s:Header><s:Body>%s</s:Body></s:Envelope>'
                        % (ns, op("HelloWorld"))).encode()
                self.assert_fault("EksportService", must, v, st, code, "UKENDT_FELT")
        self.assert_fault("EksportService", envelope(op("HelloWorld")), 11, 500, "soap:Client",
                          "UGYLDIG_FORESPOERGSEL", action='"%s/GetAllDagtilbud"' % NS)

    def test_auth_and_media_type(self):
        # 401 before the body is looked at: garbage with no or wrong credentials
        for auth in (None, self.support.split(":")[0] + ":forkert"):
            st, h, body = self.srv.soap("ImportService", b"\xff\xfe not xml", 11, auth=auth)
            self.assertEqual(st, 401)
            self.assertEqual(h["www-authenticate"], 'Basic realm="dtr"')
            self.assertEqual(fault_of(body)[1][0][0], "IKKE_AUTENTIFICERET")
        st, _, body = self.srv.request("POST", "/soap/ImportService", body=b"{}",
                                       headers={"Content-Type": "application/json",
                                                "Authorization": "Basic " + base64.b64encode(
                                                    self.support.encode()).decode()})
        self.assertEqual(st, 415)
        self.assertEqual(fault_of(body)[1][0][0], "UGYLDIG_MEDIETYPE")
        # a laeser may read but not write: IKKE_TILLADT in an ImportSvar
        laeser = self.srv.add_client("laeser", "laeser")
        st, _, body = self.srv.soap("ImportService", envelope(op(
            "InsertDaginstitution", xmldata(DI_DOC % (NS, "")))), auth=laeser)
        self.assertEqual(svar_of(body, "InsertDaginstitution")[2], [("IKKE_TILLADT", "/daginstitution")])

    def test_refusals_are_importsvar_fejl(self):
        bad = DI_DOC % (NS, AE_DOC.replace("<postNummer>2200", "<postNummer>22")
                        .replace("<instType3>6012", "<instType3>6099"))
        st, _, body = self.srv.soap("ImportService", envelope(op("InsertDaginstitution",
                                                                  xmldata(bad))),
                                    auth=self.support)
        self.assertEqual(st, 200, body)
        status, nummer, fejl = svar_of(body, "InsertDaginstitution")
        self.assertEqual(status, "FEJL")
        self.assertIsNone(nummer)
        self.assertEqual(sorted(fejl), [
            ("UGYLDIGT_FORMAT", "/daginstitution/anvisningsEnhed[1]/postNummer"),
            ("UKENDT_KODE", "/daginstitution/anvisningsEnhed[1]/instType3")])
        # broken xmlData is FEJL too (a vendor's mistake, not an attack)
        st, _, body = self.srv.soap("ImportService", envelope(op("InsertDaginstitution",
                                                                  xmldata("<daginstitution>"))),
                                    auth=self.support)
        self.assertEqual(svar_of(body, "InsertDaginstitution")[2][0],
                         ("UGYLDIGT_FORMAT", "xmlData"))
        # a document of another kind than the operation takes
        st, _, body = self.srv.soap("ImportService", envelope(op(
            "InsertAnvisningsEnhed", xmldata(DI_DOC % (NS, "")))), auth=self.support)
        self.assertEqual(svar_of(body, "InsertAnvisningsEnhed")[2], [("UGYLDIGT_FORMAT", "/")])
        # an Update without the number
        st, _, body = self.srv.soap("ImportService", envelope(op(
            "UpdateDaginstitution", xmldata(DI_DOC % (NS, "")))), auth=self.support)
        self.assertEqual(svar_of(body, "UpdateDaginstitution")[2],
                         [("MANGLER_FELT", "/daginstitution/daginstitutionsNummer")])
        # an unknown number
        st, _, body = self.srv.soap("ImportService", envelope(op(
            "DeleteAnvisningsEnhed", xmldata('<sletning xmlns="%s"><nummer>Z99998</nummer>'
                                             '</sletning>' % NS))), auth=self.support)
        self.assertEqual(svar_of(body, "DeleteAnvisningsEnhed")[2][0][0], "FINDES_IKKE")

    def test_validate_is_a_dry_run(self):
        """ValidateXmlAgainstSchema: the XSD and every register check, nothing
        written, no number burnt."""
        def validate(doc, auth=self.support):
            st, _, body = self.srv.soap("ImportService", envelope(op(
                "ValidateXmlAgainstSchema", xmldata(doc))), auth=auth)
            self.assertEqual(st, 200, body)
            return svar_of(body, "ValidateXmlAgainstSchema")
        klub = DI_DOC % (NS, AE_DOC.replace("<instType3>6012", "<instType3>6021"))
        self.assertEqual(validate(klub)[2],
                         [("KRYDSVALIDERING", "/daginstitution/anvisningsEnhed[1]/instType3")])
        udenfor = (DI_DOC % (NS, "")).replace("<admKommuneKode>101", "<admKommuneKode>147")
        self.assertEqual(validate(udenfor, self.kommune)[2], [("IKKE_TILLADT", "/daginstitution")])
        status, would_be, fejl = validate(DI_DOC % (NS, AE_DOC))
        self.assertEqual((status, fejl), ("OK", []))
        seq = self.srv.get_json("/v1/haendelser/seneste")[1]["sekvensnummer"]
        status, would_be2, _ = validate(DI_DOC % (NS, ""))
        self.assertEqual(would_be2, would_be)  # nothing was burnt
        self.assertEqual(self.srv.get_json("/v1/haendelser/seneste")[1]["sekvensnummer"], seq)
        st, _, body = self.srv.soap("ImportService", envelope(op(
            "InsertDaginstitution", xmldata(DI_DOC % (NS, "")))), auth=self.support)
        self.assertEqual(svar_of(body, "InsertDaginstitution")[:2], ("OK", would_be))
        # an Update and a Delete of a record validated against what is stored
        upd = ('<daginstitution xmlns="%s"><daginstitutionsNummer>%s</daginstitutionsNummer>'
               '<daginstitutionsNavn>Ny</daginstitutionsNavn><ejerformKode>1</ejerformKode>'
               '<lovgrundlagKode>5</lovgrundlagKode><admKommuneKode>101</admKommuneKode>'
               '<version>9</version></daginstitution>' % (NS, would_be))
        self.assertEqual([k for k, _ in validate(upd)[2]], ["VERSIONSKONFLIKT"])
        sletning = ('<sletning xmlns="%s"><nummer>%s</nummer><virkningTil>2019-01-01'
                    '</virkningTil></sletning>' % (NS, would_be))
        self.assertEqual([k for k, _ in validate(sletning)[2]], ["UGYLDIG_DATO"])
        st, doc = self.srv.get_json("/v1/daginstitutioner/" + would_be)
        self.assertEqual((doc["navn"], doc["version"], doc["virkningTil"]),
                         ("Mælkebøtten", 1, None))

    # ---- hostile XML ----

    def test_xxe_file_and_network(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        try:
            for doctype in ('<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
                            '<!DOCTYPE e [<!ENTITY x SYSTEM "http://127.0.0.1:%d/x">]>' % port,
                            '<!DOCTYPE e SYSTEM "http://127.0.0.1:%d/e.dtd">' % port,
                            '<!DOCTYPE e [<!ENTITY %% p SYSTEM "http://127.0.0.1:%d/p"> %%p;]>'
                            % port):
                body = ('<?xml version="1.0"?>%s<s:Envelope xmlns:s="%s"><s:Body>'
                        '<GetDaginstitutionByNavn xmlns="%s"><partOfName>&x;</partOfName>'
                        '</GetDaginstitutionByNavn></s:Body></s:Envelope>'
                        % (doctype, S11, NS)).encode()
                for v in (11, 12):
                    st, _, answer = self.srv.soap("EksportService", body, v)
                    self.assertEqual(st, 500 if v == 11 else 400, answer)
                    self.assertNotIn(b"root:", answer)
                    self.assertEqual(fault_of(answer, v)[1][0][0], "UGYLDIG_FORESPOERGSEL")
                # inside xmlData too: a fault, not an ImportSvar
                inner = '%s<daginstitution><daginstitutionsNavn>&x;</daginstitutionsNavn>' \
                        '</daginstitution>' % doctype
                st, _, answer = self.srv.soap("ImportService", envelope(op(
                    "InsertDaginstitution", xmldata(inner))), auth=self.support)
                self.assertEqual(st, 500, answer)
                self.assertEqual(fault_of(answer)[1], [("UGYLDIG_FORESPOERGSEL", "xmlData")])
            with self.assertRaises(socket.timeout):
                listener.accept()  # nobody called
        finally:
            listener.close()

    def test_billion_laughs_memory_does_not_move(self):
        lol = ['<!ENTITY lol0 "lollollollollollollollollollol">']
        for i in range(1, 10):
            lol.append('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1)) * 10))
        body = ('<?xml version="1.0"?><!DOCTYPE lolz [%s]><s:Envelope xmlns:s="%s"><s:Body>'
                '<GetDaginstitutionByNavn xmlns="%s"><partOfName>&lol9;</partOfName>'
                '</GetDaginstitutionByNavn></s:Body></s:Envelope>'
                % ("".join(lol), S11, NS)).encode()
        conn = self.srv.connection()
        try:
            for _ in range(20):  # warm up
                self.srv.request("POST", "/soap/EksportService", body=body,
                                 headers={"Content-Type": CT11}, conn=conn)
            before = vm_rss_kib(self.srv.proc.pid)
            for _ in range(300):
                st, _, answer = self.srv.request("POST", "/soap/EksportService", body=body,
                                                 headers={"Content-Type": CT11}, conn=conn)
                self.assertEqual(st, 500)
            after = vm_rss_kib(self.srv.proc.pid)
        finally:
            conn.close()
        self.assertEqual(fault_of(answer)[1][0][0], "UGYLDIG_FORESPOERGSEL")
        self.assertLess(after - before, 4096, "RSS grew from %d to %d KiB" % (before, after))

    def test_depth_size_utf8(self):
        deep = "<a>" * 40 + "x" + "</a>" * 40
        body = envelope(op("GetDaginstitutionByNavn", "<partOfName>%s</partOfName>" % deep))
        h, fejl = self.assert_fault("EksportService", body, 11, 500, "soap:Client",
                                    "UGYLDIG_FORESPOERGSEL", auth=None)
        st, _, answer = self.srv.soap("ImportService", envelope(op(
            "InsertDaginstitution", xmldata(deep))), auth=self.support)
        self.assertEqual(fault_of(answer)[1], [("UGYLDIG_FORESPOERGSEL", "xmlData")])
        big = envelope(op("GetDaginstitutionByNavn", "<partOfName>%s</partOfName>"
                          % ("x" * (2 << 20))))
        st, _, _ = self.srv.soap("EksportService", big, 11)
        self.assertEqual(st, 413)
        for raw in (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\x00"):
            body = envelope(op("GetDaginstitutionByNavn", "<partOfName>X</partOfName>"))
            body = body.replace(b">X<", b">" + raw + b"<")
            self.assert_fault("EksportService", body, 12, 400, "env:Sender",
                              "UGYLDIG_FORESPOERGSEL", auth=None)
        utf16 = envelope(op("HelloWorld")).decode().replace("UTF-8", "UTF-16").encode("utf-16")
        self.assert_fault("EksportService", utf16, 11, 500, "soap:Client",
                          "UGYLDIG_FORESPOERGSEL", auth=None)
        # still answering
        st, _, body = self.srv.soap("EksportService", envelope(op("HelloWorld")), 11)
        self.assertEqual(st, 200)


class SoapPrivateTest(unittest.TestCase):
    """public_read off: the WSDL, the XSD and the EksportService need a client."""

    def test_reads_need_a_client(self):
        with SoapServer(public_read=False) as srv:
            laeser = srv.add_client("l", "laeser")
            st, h, _ = srv.request("GET", "/soap/EksportService?wsdl")
            self.assertEqual(st, 401)
            st, h, body = srv.soap("EksportService", envelope(op("HelloWorld")), 11)
            self.assertEqual((st, h.get("www-authenticate")), (401, 'Basic realm="dtr"'))
            st, _, body = srv.soap("EksportService", envelope(op("GetAllDagtilbud")), 11,
                                   auth=laeser)
            self.assertEqual(st, 200, body)
            self.assertEqual(srv.stop(), 0)


SHARED_DIR = os.environ.get("DTR_SHARED_DIR", os.path.join(SOURCE_DIR, "..", "shared"))
SAMPLE_DIR = os.path.join(SHARED_DIR, "data", "dtr-sample")


@unittest.skipUnless(os.path.isfile(os.path.join(SAMPLE_DIR, "daginstitution.csv")),
                     "the sample register is not here")
class SoapSampleTest(unittest.TestCase):
    """The whole sample: the EksportService's lists stream (chunked) and carry,
    element for column, the values of the CSV export."""

    @classmethod
    def setUpClass(cls):
        cls.srv = SoapServer(plugins=("rest", "csv", "soap"), start=False)
        code, out, err = run_cli(["import", SAMPLE_DIR, "--config", cls.srv.config_path,
                                  "--data", cls.srv.data_dir])
        assert code == 0, out + err
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            assert cls.srv.stop() == 0, cls.srv.stderr()
            assert sanitizer_clean(cls.srv.stderr()), cls.srv.stderr()
        finally:
            cls.srv.close()

    def csv_rows(self, name):
        st, _, body = self.srv.request("GET", "/v1/eksport/" + name)
        self.assertEqual(st, 200)
        return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""),
                                   delimiter=";"))

    def test_lists_equal_the_csv_export(self):
        for op_name, el, csv_name in (("GetAllDaginstitutioner", "daginstitution",
                                       "daginstitution.csv"),
                                      ("GetAllAnvisningsEnheder", "anvisningsEnhed",
                                       "anvisningsenhed.csv")):
            st, h, body = self.srv.soap("EksportService", envelope(op(op_name)), 11)
            self.assertEqual(st, 200, body[:300])
            self.assertEqual(h.get("transfer-encoding"), "chunked")
            records = list(result_of(body, op_name).iter("{%s}%s" % (NS, el)))
            rows = self.csv_rows(csv_name)
            self.assertEqual(len(records), len(rows))
            self.assertGreater(len(rows), 2000)
            by_nummer = {r[next(iter(r))]: r for r in rows}
            for rec in records:
                got = {c.tag.split("}")[1]: c.text or "" for c in rec}
                row = by_nummer[got[next(iter(got))]]
                for col, value in row.items():
                    if col.startswith("geo") and value:
                        self.assertAlmostEqual(float(got[col]), float(value), places=5)
                    else:
                        self.assertEqual(got.get(col, ""), value, "%s %s" % (col, row))
        # three levels nested, every unit once
        st, _, body = self.srv.soap("EksportService", envelope(op("GetAllDagtilbud"), 12), 12)
        res = result_of(body, "GetAllDagtilbud", 12)
        self.assertEqual(len(res.findall("{%s}daginstitution" % NS)),
                         len(self.csv_rows("daginstitution.csv")))
        self.assertEqual(len(list(res.iter("{%s}anvisningsEnhed" % NS))),
                         len(self.csv_rows("anvisningsenhed.csv")))


if __name__ == "__main__":
    unittest.main()
