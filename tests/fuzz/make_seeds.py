#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz (corpus/<name>/seed-*): run again
after changing it; the files are committed. Regression inputs found by
fuzzing are kept beside them as corpus/<name>/crash-* and stay."""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
shared = os.environ.get("DTR_SHARED_DIR", os.path.join(here, "..", "..", "..", "shared"))


def put(name, key, data):
    d = os.path.join(here, "corpus", name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + key), "wb") as f:
        f.write(data)


# ---- register: 6 header bytes (op, level, actor, target, flags, today) + body
CREATE, UPDATE, CLOSE, DELETE, MOVE = range(5)
DI, AE, AA = range(3)
SUPPORT, SYSTEM, K101, K101_147, LAESER, ADMIN = range(6)
ADR = ('{"vejNavn":"Nørregade","husNummer":"1","postNummer":"1165",'
       '"byNavn":"København K","kommuneKode":101}')


def cmd(op, level, actor, target, body, flags=0, today=0):
    return bytes([op, level, actor, target, flags, today]) + body.encode()


# the world: 0 G00001 dag 101, 1 G00002 unit, 2 G00003 alt, 3 G00004 unit,
# 4 G00005 dag 147 closing, 5 G00006 unit, 6 G00007 dagpleje, 7 G00008 deleted
reg = {
    "create-dag": cmd(CREATE, DI, SUPPORT, 9, '{"navn":"Ny","ejerformKode":1,"lovgrundlagKode":1,'
                      '"admKommuneKode":101}'),
    "create-tree": cmd(CREATE, DI, K101, 9, '{"navn":"Træ","ejerformKode":1,"lovgrundlagKode":1,'
                       '"admKommuneKode":101,"anvisningsenheder":[{"navn":"E","instType3":6011,'
                       '"adresse":' + ADR + ',"alternativeAdresser":[{"navn":"A","adresse":' + ADR +
                       '}]}]}'),
    "create-unit": cmd(CREATE, AE, K101, 9, '{"daginstitutionsNummer":"G00001","navn":"U",'
                       '"instType3":6012,"adresse":' + ADR + '}'),
    "create-alt": cmd(CREATE, AA, SUPPORT, 9, '{"anvisningsenhedsNummer":"G00002","navn":"Alt",'
                      '"adresse":' + ADR + '}'),
    "import": cmd(CREATE, DI, SYSTEM, 9, '{"nummer":"G40001","navn":"Imp","ejerformKode":1,'
                  '"lovgrundlagKode":1,"admKommuneKode":101}', flags=1),
    "patch-dag": cmd(UPDATE, DI, K101, 0, '{"navn":"Nyt navn","anvisningsenheder":[{"nummer":'
                     '"G00002","navn":"Nyt"}]}', flags=2 | (1 << 2)),
    "patch-unit": cmd(UPDATE, AE, SUPPORT, 1, '{"adresse":{"husNummer":"3B"},"email":"a@b.dk"}'),
    "patch-null": cmd(UPDATE, AE, SUPPORT, 1, '{"email":null,"telefonNummer":"12345678"}'),
    "close-dag": cmd(CLOSE, DI, SUPPORT, 0, '{"virkningTil":"2026-07-01"}'),
    "close-unit": cmd(CLOSE, AE, K101, 3, '{"virkningTil":"2026-06-15"}', today=0),
    "delete-alt": cmd(DELETE, AA, SUPPORT, 2, '{}'),
    "delete-dag": cmd(DELETE, DI, SUPPORT, 6, ''),
    "move-unit": cmd(MOVE, AE, SUPPORT, 1, '{"daginstitutionsNummer":"G00007"}'),
    "move-alt": cmd(MOVE, AA, SUPPORT, 2, '{"anvisningsenhedsNummer":"G00004"}'),
    "move-other-kommune": cmd(MOVE, AE, K101_147, 5, '{"daginstitutionsNummer":"G00001"}'),
    "sequence": cmd(CREATE, AE, SUPPORT, 9, '{"daginstitutionsNummer":"G00005","navn":"S",'
                    '"instType3":6011,"adresse":' + ADR + '}') + b"\xff" +
    cmd(CLOSE, DI, SUPPORT, 4, '{"virkningTil":"2026-08-01"}') + b"\xff" +
    cmd(MOVE, AE, SUPPORT, 8, '{"daginstitutionsNummer":"G00001"}') + b"\xff" +
    cmd(UPDATE, AE, SUPPORT, 8, '{"navn":"Flyttet"}', today=2),
}
for k, v in reg.items():
    put("register", k, v)

# ---- http: byte 0 = piece size (0: whole), then the bytes of the requests
H = "Host: t\r\n"
http = {
    "get": "GET /fixed HTTP/1.1\r\n" + H + "\r\n",
    "items": "GET /items/a%20b?q=%41+x&q=2 HTTP/1.1\r\n" + H + "X-Test: yes\r\nX-Request-Id: abc\r\n\r\n",
    "pipeline": ("GET /fixed HTTP/1.1\r\n" + H + "\r\n") * 3 +
    "GET /async HTTP/1.1\r\n" + H + "\r\nGET /items/z HTTP/1.1\r\n" + H + "\r\n",
    "post": "POST /echo HTTP/1.1\r\n" + H + "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":true}\n",
    "chunked": "POST /echo HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n"
    "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
    "small": "POST /small HTTP/1.1\r\n" + H + "Content-Length: 40\r\n\r\n" + "x" * 40,
    "expect": "POST /echo HTTP/1.1\r\n" + H + "Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    "deny": "POST /items/1 HTTP/1.1\r\n" + H + "X-Deny: 1\r\nContent-Length: 3\r\n\r\nabc",
    "stream": "GET /stream?kib=40 HTTP/1.1\r\n" + H + "\r\nGET /fixed HTTP/1.1\r\n" + H + "\r\n",
    "http10": "GET /fixed HTTP/1.0\r\n\r\n",
    "close": "GET /fixed HTTP/1.1\r\n" + H + "Connection: close\r\n\r\nGET /fixed HTTP/1.1\r\n\r\n",
    "methods": "DELETE /items/1 HTTP/1.1\r\n" + H + "\r\nPUT /fixed HTTP/1.1\r\n" + H +
    "Content-Length: 0\r\n\r\nOPTIONS /items/1/x HTTP/1.1\r\n" + H + "\r\nBREW /x HTTP/1.1\r\n\r\n",
    "fail": "GET /fail HTTP/1.1\r\n" + H + "\r\nGET /nowhere HTTP/1.1\r\n" + H + "\r\n",
    "bad": "GET /fixed HTTP/1.1\r\nHost t\r\n\r\n",
    "te-cl": "POST /echo HTTP/1.1\r\n" + H + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
}
for k, v in http.items():
    put("http", k, b"\x00" + v.encode())
    put("http", k + "-split1", b"\x01" + v.encode())
    put("http", k + "-split7", b"\x07" + v.encode())

# ---- csv: byte 0 = the file (0 daginstitution, 1 anvisningsenhed, 2 alternativadresse)
files = ["daginstitution.csv", "anvisningsenhed.csv", "alternativadresse.csv"]
for i, f in enumerate(files):
    p = os.path.join(shared, "data", "dtr-sample", f)
    if not os.path.exists(p):
        sys.exit("make_seeds: no sample at " + p)
    with open(p, "rb") as fh:
        lines = fh.read().split(b"\r\n")[:12]
    body = b"\r\n".join(lines) + b"\r\n"
    put("csv", f.split(".")[0], bytes([i]) + body)
    put("csv", f.split(".")[0] + "-lf", bytes([i]) + body.replace(b"\r\n", b"\n").lstrip(b"\xef\xbb\xbf"))
    quoted = lines[0] + b"\r\n" + b";".join(b'"' + x + b'"' for x in lines[1].split(b";")) + b"\r\n"
    put("csv", f.split(".")[0] + "-quoted", bytes([i]) + quoted)
put("csv", "broken-quote", b"\x00" + b"\xef\xbb\xbf" + b"daginstitutionsNummer;daginstitutionsNavn;"
    b"ejerformKode;ejerformKode_Tekst;lovgrundlagKode;lovgrundlagKode_Tekst;admKommuneKode;"
    b"admKommuneKode_Tekst;aktivitetsstatus\r\nG40001;\"Na\"vn;1;Kommunal;1;x;101;K;Aktiv\r\n"
    b"G40002;\"multi\nline\";1;Kommunal;1;x;101;K;Aktiv\r\n")

# ---- soap: byte 0 = service (bit 0: Eksport), Content-Type (bits 1-2: 1.1,
# 1.2, 1.1 with a SOAPAction for HelloWorld, none), bit 3 unknown client,
# bit 4 public_read off; then the body. The state: G00001 (daginstitution),
# G00002 (anvisningsenhed), G00003 (alternativ adresse), kommune 101.
SOAP_NS = "urn:dagtilbudsregister:soap:2"
ENV = {1: "http://schemas.xmlsoap.org/soap/envelope/", 2: "http://www.w3.org/2003/05/soap-envelope"}


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def envelope(op, inner="", v=1):
    return ('<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="%s"><s:Body>'
            '<%s xmlns="%s">%s</%s></s:Body></s:Envelope>' % (ENV[v], op, SOAP_NS, inner, op))


def el(name, value):
    return "" if value is None else "<%s>%s</%s>" % (name, value, name)


def xdoc(root, body):
    return '<%s xmlns="%s">%s</%s>' % (root, SOAP_NS, body, root)


def di(nummer=None, navn="Solsikken", version=None, units=""):
    return (el("daginstitutionsNummer", nummer) + el("daginstitutionsNavn", navn) +
            el("ejerformKode", 1) + el("lovgrundlagKode", 1) + el("admKommuneKode", 101) +
            el("version", version) + units)


def ae(nummer=None, parent="G00001", navn="Mælkebøtten", version=None):
    return (el("anvisningsenhedsNummer", nummer) + el("daginstitutionsNummer", parent) +
            el("dagtilbudsNavn", navn) + el("instType3", 6011) + el("kommuneKode", 101) +
            el("vejNavn", "Byvej") + el("husNummer", "7A") + el("postNummer", "2100") +
            el("byNavn", "København Ø") + el("cvrNummer", "10000017") + el("pNummer", "1000000005") +
            el("version", version))


def aa(nummer=None, parent="G00002", version=None):
    return (el("alternativAdresseNummer", nummer) + el("anvisningsenhedsNummer", parent) +
            el("dagtilbudsNavn", "Filial") + el("vejNavn", "Sidevej") + el("husNummer", "3") +
            el("postNummer", "2100") + el("byNavn", "København Ø") + el("kommuneKode", 101) +
            el("cvrNummer", "10000017") + el("pNummer", "1000000006") + el("version", version))


def imp(op, xml):
    return envelope(op, "<xmlData>%s</xmlData>" % esc(xml))


soap = {
    "hello": (0, envelope("HelloWorld")),
    "hello12": (2, envelope("HelloWorld", v=2)),
    "hello-action": (4, envelope("HelloWorld")),
    "schema": (0, envelope("GetXMLSchema")),
    "insert-di": (0, imp("InsertDaginstitution", xdoc("daginstitution", di(
        units="<anvisningsEnhed>%s</anvisningsEnhed>" % ae(parent=None))))),
    "insert-ae": (0, imp("InsertAnvisningsEnhed", xdoc("anvisningsEnhed", ae()))),
    "insert-aa": (0, imp("InsertAlternativAdresse", xdoc("alternativAdresse", aa()))),
    "update-di": (0, imp("UpdateDaginstitution", xdoc("daginstitution", di("G00001", "Ny", 1)))),
    "update-ae": (2, imp("UpdateAnvisningsEnhed", xdoc("anvisningsEnhed", ae("G00002", version=1)))),
    "update-aa": (0, imp("UpdateAlternativAdresse", xdoc("alternativAdresse", aa("G00003", version=1)))),
    "delete-aa": (0, imp("DeleteAlternativAdresse", xdoc("sletning", el("nummer", "G00003")))),
    "move-ae": (0, imp("MoveAnvisningsEnhed", xdoc("flytning", el("nummer", "G00002") +
                                                    el("nyForaelder", "G00001")))),
    "validate": (0, imp("ValidateXmlAgainstSchema", xdoc("anvisningsEnhed", ae()))),
    "bad-xmldata": (0, imp("InsertDaginstitution", "<daginstitution><x>")),
    "doctype": (0, '<!DOCTYPE x [<!ENTITY a "b">]>' + envelope("HelloWorld")),
    "unknown-client": (8, imp("InsertAnvisningsEnhed", xdoc("anvisningsEnhed", ae()))),
    "all": (1, envelope("GetAllDagtilbud")),
    "by-nummer": (1, envelope("GetDagtilbudByDagInstitutionsNummer",
                              "<DagInstitutionsNummer>G00001</DagInstitutionsNummer>")),
    "ae-by-nummer": (1, envelope("GetAnvisningsEnhederByNummer", "<enhedsNummer>G00002</enhedsNummer>")),
    "ae-by-navn": (1, envelope("GetAnvisningsEnhederByNavn", "<partOfName>sol</partOfName>")),
    "aa-all": (3, envelope("GetAllAlternativAdresser", v=2)),
    "kodetabel": (1, envelope("GetKodetabel", "<navn>ejerform</navn>")),
    "private": (17, envelope("GetAllDaginstitutioner")),
}
for k, (h, body) in soap.items():
    put("soap", k, bytes([h]) + body.encode())
