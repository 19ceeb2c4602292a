"""GET /v1/openapi.json describes everything the server serves, with the
five plugins of config/dtr.json (rest, csv, unilogin, portal, statistik):

(a) every method and path of API.md's Resources table and Consumer plugins
    section is in the document (read from ../shared/docs/API.md; its
    shorthand rows are expanded by hand below, and a new shorthand row fails
    the test until it is expanded too);
(b) every path and method in the document is served: a request to it
    (placeholders filled with a real value from the parameter's enum or a
    dummy number) is never refused by the router (404 "no such resource" or
    405), and what it answers is a status the document lists for it;
(c) every $ref resolves inside the document;
(d) the document is JSON with openapi "3.1.0", every operation has a unique
    operationId, declares its path parameters, and answers success with a
    schema of its shape; reads are open (public_read) but the portal's
    webhooks, writes need basicAuth.
"""

import json
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from host_harness import Server, sanitizer_clean  # noqa: E402

SOURCE_DIR = os.environ.get("DTR_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))
SHARED_DIR = os.environ.get("DTR_SHARED_DIR", os.path.join(SOURCE_DIR, "..", "shared"))
API_MD = os.path.join(SHARED_DIR, "docs", "API.md")
PLUGIN_DIR = os.environ.get("DTR_PLUGIN_DIR", "build/plugins")

PLUGINS = ["rest", "csv", "unilogin", "portal", "statistik"]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# The rows of API.md's Resources table that name several methods at once,
# written out: the methods of the collection (create, list), of one record
# (get, change, delete) and of its action routes.
SHORTHAND = {
    "POST, GET, PATCH, DELETE `/v1/anvisningsenheder[/{nummer}]`, `.../nedlaeg`": [
        ("POST", "/v1/anvisningsenheder"),
        ("GET", "/v1/anvisningsenheder"),
        ("GET", "/v1/anvisningsenheder/{nummer}"),
        ("PATCH", "/v1/anvisningsenheder/{nummer}"),
        ("DELETE", "/v1/anvisningsenheder/{nummer}"),
        ("POST", "/v1/anvisningsenheder/{nummer}/nedlaeg"),
    ],
    "POST, GET, PATCH, DELETE `/v1/alternative-adresser[/{nummer}]`, `.../nedlaeg`, `.../flyt`": [
        ("POST", "/v1/alternative-adresser"),
        ("GET", "/v1/alternative-adresser"),
        ("GET", "/v1/alternative-adresser/{nummer}"),
        ("PATCH", "/v1/alternative-adresser/{nummer}"),
        ("DELETE", "/v1/alternative-adresser/{nummer}"),
        ("POST", "/v1/alternative-adresser/{nummer}/nedlaeg"),
        ("POST", "/v1/alternative-adresser/{nummer}/flyt"),
    ],
}

ROUTE_IN_TEXT = re.compile(r"\b(GET|POST|PATCH|DELETE|PUT) `(/[^`]*)`")


def expand_braces(path):
    """/v1/{a,b}/x -> [/v1/a/x, /v1/b/x]; a {name} without a comma is a
    placeholder and stays."""
    m = re.search(r"\{([^{}]*,[^{}]*)\}", path)
    if not m:
        return [path]
    out = []
    for alt in m.group(1).split(","):
        out += expand_braces(path[:m.start()] + alt + path[m.end():])
    return out


def routes_of_api_md(text):
    """The (METHOD, path) pairs API.md promises, paths concrete or with
    {placeholders}, queries dropped."""
    routes = []
    resources = text.split("## Resources", 1)[1].split("\n## ", 1)[0]
    for line in resources.splitlines():
        if not line.startswith("| ") or line.startswith("| method") or line.startswith("|---"):
            continue
        cell = line.split(" | ", 1)[0][2:].strip()
        methods = cell.split("`", 1)[0]
        if "," in methods:
            if cell not in SHORTHAND:
                raise AssertionError("API.md has a new shorthand row; expand it in SHORTHAND: "
                                     + cell)
            routes += SHORTHAND[cell]
            continue
        m = ROUTE_IN_TEXT.search(cell)
        if not m:
            raise AssertionError("cannot read the Resources row: " + line)
        for path in expand_braces(m.group(2).split("?", 1)[0]):
            routes.append((m.group(1), path))
    consumers = text.split("## Consumer plugins", 1)[1].split("\n## ", 1)[0]
    for m in ROUTE_IN_TEXT.finditer(consumers):
        routes.append((m.group(1), m.group(2).split("?", 1)[0]))
    return routes


def template_matches(template, path):
    """Whether a document path (/v1/eksport/{fil}) serves path (concrete or
    with {placeholders} in the same places)."""
    t, p = template.split("/"), path.split("/")
    if len(t) != len(p):
        return False
    for ts, ps in zip(t, p):
        if ts == ps:
            continue
        if not (ts.startswith("{") and ts.endswith("}")):
            return False
        if ps.startswith("{") and not ps.endswith("}"):
            return False
    return True


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def resolve(doc, ref):
    """The target of a local $ref, or None."""
    if not ref.startswith("#/"):
        return None
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


class OpenApiCompleteTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server({
            "listen": "127.0.0.1:0",
            "public_read": True,
            "plugin_dir": PLUGIN_DIR,
            "plugins": [{"name": n, "config": {}} for n in PLUGINS],
        })
        status, headers, body = cls.srv.request("GET", "/v1/openapi.json")
        assert status == 200, (status, body)
        assert headers.get("content-type", "").startswith("application/json"), headers
        cls.doc = json.loads(body)

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.srv.stop()
            log = cls.srv.stderr()
            assert code == 0, log
            assert sanitizer_clean(log), log
            assert "description was refused" not in log, log
            assert "not described" not in log, log
        finally:
            cls.srv.close()

    def test_a_every_route_of_api_md_is_described(self):
        with open(API_MD, encoding="utf-8") as f:
            promised = routes_of_api_md(f.read())
        self.assertGreater(len(promised), 40)
        for method, path in promised:
            found = [(t, item[method.lower()]) for t, item in self.doc["paths"].items()
                     if method.lower() in item and template_matches(t, path)]
            self.assertTrue(found, "API.md's %s %s is not in openapi.json" % (method, path))
            # a concrete segment the template names with an enum must be in it
            template, op = found[0]
            for ts, ps in zip(template.split("/"), path.split("/")):
                if ts.startswith("{") and not ps.startswith("{"):
                    params = [p for p in op.get("parameters", [])
                              if p.get("in") == "path" and p.get("name") == ts[1:-1]]
                    enum = params[0].get("schema", {}).get("enum") if params else None
                    if enum is not None:
                        self.assertIn(ps, enum, "%s %s: %s" % (method, path, template))

    def fill(self, path, op):
        """A request target for op: placeholders filled, required query
        parameters given."""
        params = {p["name"]: p for p in op.get("parameters", [])}

        def value(name):
            schema = params.get(name, {}).get("schema", {})
            if schema.get("enum"):
                return schema["enum"][0]
            if name == "nummer" or schema.get("$ref", "").endswith("/Nummer"):
                return "G00001"
            return "1"

        target = re.sub(r"\{([^}]+)\}", lambda m: value(m.group(1)), path)
        query = []
        for p in op.get("parameters", []):
            if p.get("in") == "query" and p.get("required"):
                query.append("%s=%s" % (p["name"], "0" if p["schema"].get("type") == "integer"
                                        else "x"))
        return target + ("?" + "&".join(query) if query else "")

    def test_b_every_described_route_is_served(self):
        for path, method, op in operations(self.doc):
            target = self.fill(path, op)
            body = None
            headers = {}
            if method in ("post", "put", "patch"):
                body = b"{}"
                headers["Content-Type"] = "application/json"
            status, _, raw = self.srv.request(method.upper(), target, body=body, headers=headers)
            what = "%s %s (%s)" % (method.upper(), path, target)
            self.assertNotEqual(status, 405, what + ": the router has no such method")
            if status == 404:
                problem = json.loads(raw)
                self.assertNotEqual(problem.get("detail"), "no such resource",
                                    what + ": the router has no such route")
            self.assertIn(str(status), op["responses"],
                          "%s answered %d, which the document does not list" % (what, status))

    def test_b_the_router_refusals_are_recognised(self):
        # the check above can fail: an unknown path and method are refused so
        status, _, raw = self.srv.request("GET", "/v1/no-such-thing")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(raw).get("detail"), "no such resource")
        status, _, _ = self.srv.request("PUT", "/v1/unilogin/institutioner")
        self.assertEqual(status, 405)

    def test_c_every_ref_resolves(self):
        all_refs = list(refs(self.doc))
        self.assertIn("#/components/responses/E503", all_refs)
        for ref in all_refs:
            self.assertIsNotNone(resolve(self.doc, ref), "dangling $ref " + ref)

    def test_d_valid_document(self):
        self.assertEqual(self.doc["openapi"], "3.1.0")
        self.assertIn("title", self.doc["info"])
        ids = {}
        for path, method, op in operations(self.doc):
            what = "%s %s" % (method.upper(), path)
            self.assertIn(method, METHODS, what)
            oid = op.get("operationId")
            self.assertTrue(oid, what + " has no operationId")
            self.assertNotIn(oid, ids, "%s repeats the operationId of %s" % (what, ids.get(oid)))
            ids[oid] = what
            for key in ("summary", "tags", "responses", "security"):
                self.assertIn(key, op, "%s has no %s" % (what, key))
            # every {placeholder} is a required path parameter
            declared = {p["name"] for p in op.get("parameters", [])
                        if p.get("in") == "path" and p.get("required") is True}
            for name in re.findall(r"\{([^}]+)\}", path):
                self.assertIn(name, declared, "%s does not declare {%s}" % (what, name))
            # success has a schema of the answer's shape (not a bare object)
            success = [s for s in op["responses"] if s.startswith("2")]
            self.assertTrue(success, what + " has no success answer")
            for s in success:
                for media, content in op["responses"][s].get("content", {}).items():
                    schema = content.get("schema", {})
                    if "json" in media:
                        self.assertTrue({"$ref", "properties", "items"} & set(schema),
                                        "%s %s %s: no shape in %s" % (what, s, media, schema))
            # who may call it: reads under /v1 are open with public_read
            # (but the portal's webhooks); writes always need a client
            open_to_all = {} in op["security"]
            if path.startswith("/v1/portal/webhooks") or method != "get":
                self.assertFalse(open_to_all, what + " must need credentials")
                self.assertIn({"basicAuth": []}, op["security"], what)
            else:
                self.assertTrue(open_to_all, what + " is open with public_read")
        self.assertGreaterEqual(len(ids), 43)


if __name__ == "__main__":
    unittest.main()
