/*
 * test_soap_xml.c -- the soap plugin's pure parts without a host: the XSD
 * and WSDLs built from the tables (and compiled by libxml2), the guarded
 * parser against hostile input, schema errors as fejl with element paths,
 * xmlData -> register commands (Insert nested, Update's whole-record rule,
 * Delete, Move), register paths -> element paths, and the export's record
 * writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>

#include "soap.h"

/* A few codes of each list, with the register's texts. */
static const char *fake_code_text(dtr_plugin *self, const char *list, int kode)
{
    (void)self;
    if (strcmp(list, "ejerform") == 0) {
        static const char *t[] = {NULL, "Kommunal", "Selvejende", "Privat", "Udliciteret"};
        return kode >= 1 && kode <= 4 ? t[kode] : NULL;
    }
    if (strcmp(list, "lovgrundlag") == 0) return kode >= 1 && kode <= 10 ? "Dagtilbudsloven" : NULL;
    if (strcmp(list, "kommune") == 0)
        return kode == 101 ? "København" : kode == 147 ? "Frederiksberg" : NULL;
    if (strcmp(list, "institutionstype") == 0)
        return kode == 6011 ? "Børnehave (3-5 år)" : kode == 6010 ? "Vuggestue (0-2 år)" : NULL;
    return NULL;
}

static char *xsd;
static size_t xsd_len;
static xmlSchemaPtr schema;

static int setup(void **state)
{
    (void)state;
    xsd = soap_xsd_build(fake_code_text, NULL, &xsd_len);
    if (!xsd) return -1;
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewMemParserCtxt(xsd, (int)xsd_len);
    schema = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
    return schema ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    xmlSchemaFree(schema);
    free(xsd);
    return 0;
}

static xmlDocPtr parse_ok(const char *text)
{
    soap_parse_err err;
    char why[256];
    xmlDocPtr doc = soap_xml_parse(text, strlen(text), &err, why, sizeof why);
    if (!doc) fail_msg("parse failed (%d): %s", err, why);
    return doc;
}

static soap_parse_err parse_err(const char *text, size_t len)
{
    soap_parse_err err;
    char why[256];
    xmlDocPtr doc = soap_xml_parse(text, len, &err, why, sizeof why);
    if (doc) xmlFreeDoc(doc);
    return doc ? SP_OK : err;
}

/* ---- the schema and the WSDLs --------------------------------------------------------- */

static void test_xsd_enumerates_the_code_lists(void **state)
{
    (void)state;
    assert_non_null(strstr(xsd, "<xs:enumeration value=\"147\">"));
    assert_non_null(strstr(xsd, "<xs:documentation>Frederiksberg</xs:documentation>"));
    assert_null(strstr(xsd, "<xs:enumeration value=\"999\">"));
    assert_non_null(strstr(xsd, "<xs:pattern value=\"[A-Z][0-9]{5}\"/>"));
    assert_non_null(strstr(xsd, "<xs:maxLength value=\"132\"/>"));
}

static void test_wsdl_names_every_operation(void **state)
{
    (void)state;
    for (int s = 0; s < 2; s++) {
        size_t len;
        char *wsdl = soap_wsdl_build((soap_service)s, xsd, "http://h:1", &len);
        assert_non_null(wsdl);
        xmlDocPtr doc = parse_ok(wsdl);
        for (const soap_op *op = soap_ops; op->name; op++) {
            char needle[128];
            snprintf(needle, sizeof needle, "<wsdl:operation name=\"%s\">", op->name);
            if (op->service == (soap_service)s)
                assert_non_null(strstr(wsdl, needle));
            else if (!soap_op_find((soap_service)s, op->name))
                assert_null(strstr(wsdl, needle));
        }
        char addr[96];
        snprintf(addr, sizeof addr, "location=\"http://h:1/soap/%s\"",
                 soap_service_name((soap_service)s));
        assert_non_null(strstr(wsdl, addr));
        xmlFreeDoc(doc);
        free(wsdl);
    }
}

/* ---- hostile input ---------------------------------------------------------------------- */

static void test_parser_refuses_doctype_and_entities(void **state)
{
    (void)state;
    const char *xxe = "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM "
                      "\"file:///etc/passwd\">]><a>&x;</a>";
    assert_int_equal(parse_err(xxe, strlen(xxe)), SP_DOCTYPE);
    const char *laughs = "<!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">"
                         "]><l>&b;</l>";
    assert_int_equal(parse_err(laughs, strlen(laughs)), SP_DOCTYPE);
    const char *external = "<!DOCTYPE a SYSTEM \"http://127.0.0.1:9/a.dtd\"><a/>";
    assert_int_equal(parse_err(external, strlen(external)), SP_DOCTYPE);
    const char *undeclared = "<a>&x;</a>";
    assert_int_equal(parse_err(undeclared, strlen(undeclared)), SP_SYNTAX);
    xmlDocPtr doc = parse_ok("<a>&lt;&amp;&#229;</a>");
    xmlChar *t = xmlNodeGetContent(xmlDocGetRootElement(doc));
    assert_string_equal((const char *)t, "<&\xc3\xa5");
    xmlFree(t);
    xmlFreeDoc(doc);
}

static void test_parser_bounds_depth_and_utf8(void **state)
{
    (void)state;
    char deep[1024] = "";
    for (int i = 0; i < SOAP_MAX_DEPTH + 1; i++)
        strcat(deep, "<a>");
    for (int i = 0; i < SOAP_MAX_DEPTH + 1; i++)
        strcat(deep, "</a>");
    assert_int_equal(parse_err(deep, strlen(deep)), SP_DEPTH);
    char ok[1024] = "";
    for (int i = 0; i < SOAP_MAX_DEPTH; i++)
        strcat(ok, "<a>");
    for (int i = 0; i < SOAP_MAX_DEPTH; i++)
        strcat(ok, "</a>");
    assert_int_equal(parse_err(ok, strlen(ok)), SP_OK);
    assert_int_equal(parse_err("<a>\xff</a>", 8), SP_UTF8);
    assert_int_equal(parse_err("<a>\xc0\xaf</a>", 9), SP_UTF8);      /* overlong */
    assert_int_equal(parse_err("<a>\xed\xa0\x80</a>", 10), SP_UTF8); /* surrogate */
    assert_int_equal(parse_err("<a>\0</a>", 8), SP_UTF8);
    /* a declared encoding does not make Latin-1 bytes acceptable */
    const char *latin = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe6</a>";
    assert_int_equal(parse_err(latin, strlen(latin)), SP_UTF8);
}

/* A text cut to its buffer inside a character (found by fuzz_soap: a
 * parse error quoting a long namespace of æøå) stays UTF-8, as the answer
 * that carries it must be. */
static void test_texts_cut_inside_a_character_stay_utf8(void **state)
{
    (void)state;
    char text[600] = "";
    for (int i = 0; i < 200; i++)
        strcat(text, "æ"); /* 2 bytes each: every cut at an even length splits one */
    soap_fejlliste f = {0};
    soap_fejl_add(&f, "UGYLDIGT_FORMAT", text, "%s", text);
    assert_int_equal(f.n, 1);
    assert_true(strlen(f.items[0].tekst) > 200);
    assert_true(soap_utf8_valid((const unsigned char *)f.items[0].tekst, strlen(f.items[0].tekst)));
    assert_true(soap_utf8_valid((const unsigned char *)f.items[0].felt, strlen(f.items[0].felt)));
    soap_fejl_clear(&f);
    /* the parser's own message, quoting the input, cut the same way */
    char doc[1200] = "<s:a xmlns:s=\"http://x/&gt;";
    for (int i = 0; i < 300; i++)
        strcat(doc, "ø");
    strcat(doc, "&x/\"></s:a>");
    soap_parse_err err;
    char why[256];
    for (size_t whylen = 60; whylen < sizeof why; whylen++) {
        assert_null(soap_xml_parse(doc, strlen(doc), &err, why, whylen));
        assert_true(soap_utf8_valid((const unsigned char *)why, strlen(why)));
    }
    char cut[] = "ab\xc3";
    soap_utf8_cut(cut);
    assert_string_equal(cut, "ab");
}

/* ---- schema errors as fejl --------------------------------------------------------------- */

static void validate(const char *text, soap_fejlliste *f)
{
    xmlDocPtr doc = parse_ok(text);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    soap_xml_adopt_ns(root, SOAP_NS);
    soap_xml_validate(schema, doc, root, f);
    xmlFreeDoc(doc);
}

static const soap_fejl *find_fejl(const soap_fejlliste *f, const char *felt)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->items[i].felt, felt) == 0) return &f->items[i];
    return NULL;
}

static void test_schema_errors_name_the_element(void **state)
{
    (void)state;
    char navn[200];
    memset(navn, 'x', 133);
    navn[133] = '\0';
    char doc[2048];
    snprintf(doc, sizeof doc,
             "<daginstitution><daginstitutionsNavn>%s</daginstitutionsNavn>"
             "<ejerformKode>9</ejerformKode><lovgrundlagKode>1</lovgrundlagKode>"
             "<admKommuneKode>101</admKommuneKode>"
             "<anvisningsEnhed><dagtilbudsNavn>A</dagtilbudsNavn><instType3>6011</instType3>"
             "<kommuneKode>101</kommuneKode><vejNavn>V</vejNavn><husNummer>1</husNummer>"
             "<postNummer>21</postNummer><byNavn>B</byNavn></anvisningsEnhed>"
             "<anvisningsEnhed><dagtilbudsNavn>B</dagtilbudsNavn><instType3>x</instType3>"
             "<kommuneKode>101</kommuneKode><vejNavn>V</vejNavn><husNummer>1</husNummer>"
             "<byNavn>B</byNavn></anvisningsEnhed></daginstitution>",
             navn);
    soap_fejlliste f = {0};
    validate(doc, &f);
    for (size_t i = 0; getenv("SOAP_TEST_DEBUG") && i < f.n; i++)
        fprintf(stderr, "%s %s %s\n", f.items[i].kode, f.items[i].felt, f.items[i].tekst);
    const soap_fejl *e = find_fejl(&f, "/daginstitution/daginstitutionsNavn");
    assert_non_null(e);
    assert_string_equal(e->kode, "FOR_LANG");
    e = find_fejl(&f, "/daginstitution/ejerformKode");
    assert_non_null(e);
    assert_string_equal(e->kode, "UKENDT_KODE");
    e = find_fejl(&f, "/daginstitution/anvisningsEnhed[1]/postNummer");
    assert_non_null(e);
    assert_string_equal(e->kode, "UGYLDIGT_FORMAT");
    e = find_fejl(&f, "/daginstitution/anvisningsEnhed[2]/instType3");
    assert_non_null(e);
    assert_string_equal(e->kode, "FORKERT_TYPE");
    e = find_fejl(&f, "/daginstitution/anvisningsEnhed[2]/postNummer");
    assert_non_null(e);
    assert_string_equal(e->kode, "MANGLER_FELT");
    soap_fejl_clear(&f);

    validate("<daginstitution><ejerformKode>1</ejerformKode></daginstitution>", &f);
    e = find_fejl(&f, "/daginstitution/daginstitutionsNavn");
    assert_non_null(e);
    assert_string_equal(e->kode, "MANGLER_FELT");
    soap_fejl_clear(&f);

    validate("<alternativAdresse><dagtilbudsNavn>F</dagtilbudsNavn><vejNavn>G</vejNavn>"
             "<husNummer>1</husNummer><postNummer>2100</postNummer><byNavn>By</byNavn>"
             "<kommuneKode>101</kommuneKode><farve>rød</farve></alternativAdresse>",
             &f);
    e = find_fejl(&f, "/alternativAdresse/farve");
    assert_non_null(e);
    assert_string_equal(e->kode, "UKENDT_FELT");
    soap_fejl_clear(&f);
}

/* ---- xmlData -> commands ------------------------------------------------------------------- */

static const soap_op *op_named(const char *name)
{
    const soap_op *op = soap_op_find(SOAP_IMPORT, name);
    assert_non_null(op);
    return op;
}

static void plan(const char *opname, const char *text, const json_t *stored, soap_plan *p)
{
    xmlDocPtr doc = parse_ok(text);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    soap_xml_adopt_ns(root, SOAP_NS);
    soap_fejlliste f = {0};
    assert_true(soap_xml_validate(schema, doc, root, &f));
    assert_true(soap_plan_build(op_named(opname), root, stored, "2026-12-07", p, &f));
    assert_int_equal(f.n, 0);
    xmlFreeDoc(doc);
}

static void assert_json(const json_t *got, const char *want_text)
{
    json_t *want = json_loads(want_text, 0, NULL);
    assert_non_null(want);
    if (!json_equal((json_t *)got, want)) {
        char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
        fail_msg("got %s, want %s", g, want_text);
    }
    json_decref(want);
}

#define UNIT                                                                                       \
    "<dagtilbudsNavn>Stuen</dagtilbudsNavn><instType3>6011</instType3>"                            \
    "<kommuneKode>101</kommuneKode><vejNavn>Vej</vejNavn><husNummer>2B</husNummer>"                \
    "<postNummer>2100</postNummer><byNavn>By</byNavn>"

static void test_insert_nests_the_hierarchy(void **state)
{
    (void)state;
    soap_plan p;
    plan("InsertDaginstitution",
         "<daginstitution><daginstitutionsNavn>D</daginstitutionsNavn><ejerformKode>1"
         "</ejerformKode><lovgrundlagKode>1</lovgrundlagKode><admKommuneKode>101"
         "</admKommuneKode><anvisningsEnhed>" UNIT "<geoBredde>55.5</geoBredde>"
         "<geoLaengde>12</geoLaengde><alternativAdresse><dagtilbudsNavn>F</dagtilbudsNavn>"
         "<vejNavn>G</vejNavn><husNummer>1</husNummer><postNummer>2100</postNummer>"
         "<byNavn>By</byNavn><kommuneKode>101</kommuneKode></alternativAdresse>"
         "</anvisningsEnhed></daginstitution>",
         NULL, &p);
    assert_int_equal(p.op, DTR_OP_CREATE);
    assert_int_equal(p.level, DTR_LEVEL_DAGINSTITUTION);
    assert_json(p.body,
                "{\"navn\":\"D\",\"ejerformKode\":1,\"lovgrundlagKode\":1,\"admKommuneKode\":101,"
                "\"anvisningsenheder\":[{\"navn\":\"Stuen\",\"instType3\":6011,\"adresse\":{"
                "\"kommuneKode\":101,\"vejNavn\":\"Vej\",\"husNummer\":\"2B\",\"postNummer\":"
                "\"2100\",\"byNavn\":\"By\",\"geoBredde\":55.5,\"geoLaengde\":12.0},"
                "\"alternativeAdresser\":[{\"navn\":\"F\",\"adresse\":{\"vejNavn\":\"G\","
                "\"husNummer\":\"1\",\"postNummer\":\"2100\",\"byNavn\":\"By\","
                "\"kommuneKode\":101}}]}]}");
    soap_plan_free(&p);
}

static void test_update_is_the_whole_record(void **state)
{
    (void)state;
    json_t *stored = json_loads("{\"nummer\":\"G00002\",\"daginstitutionsNummer\":\"G00001\","
                                "\"virkningFra\":\"2020-01-01\",\"version\":3}",
                                0, NULL);
    soap_plan p;
    plan("UpdateAnvisningsEnhed",
         "<anvisningsEnhed><anvisningsenhedsNummer>G00002</anvisningsenhedsNummer>"
         "<daginstitutionsNummer>G00001</daginstitutionsNummer>" UNIT
         "<email>a@b.dk</email><virkningFra>2020-01-01</virkningFra><version>3</version>"
         "</anvisningsEnhed>",
         stored, &p);
    assert_int_equal(p.op, DTR_OP_UPDATE);
    assert_string_equal(p.nummer, "G00002");
    assert_int_equal(p.if_match, 3);
    /* left out: cleared; geo and dawaId (kept) absent; parent and virkningFra as stored: dropped */
    assert_json(p.body, "{\"navn\":\"Stuen\",\"instType3\":6011,\"email\":\"a@b.dk\","
                        "\"telefonNummer\":null,\"cvrNummer\":null,\"pNummer\":null,"
                        "\"adresse\":{\"kommuneKode\":101,\"vejNavn\":\"Vej\",\"husNummer\":"
                        "\"2B\",\"postNummer\":\"2100\",\"byNavn\":\"By\",\"supplerendeBynavn\":"
                        "null,\"etage\":null,\"doer\":null}}");
    soap_plan_free(&p);
    /* another parent or virkningFra goes to the register (which refuses it) */
    plan("UpdateAnvisningsEnhed",
         "<anvisningsEnhed xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
         "<anvisningsenhedsNummer>G00002</anvisningsenhedsNummer>"
         "<daginstitutionsNummer>G00009</daginstitutionsNummer>" UNIT
         "<geoBredde xsi:nil=\"true\"/><geoLaengde xsi:nil=\"true\"/></anvisningsEnhed>",
         stored, &p);
    assert_string_equal(json_string_value(json_object_get(p.body, "daginstitutionsNummer")),
                        "G00009");
    const json_t *adr = json_object_get(p.body, "adresse");
    assert_true(json_is_null(json_object_get(adr, "geoBredde")));
    assert_null(json_object_get(adr, "dawaId"));
    assert_int_equal(p.if_match, -1);
    soap_plan_free(&p);
    json_decref(stored);
}

static void test_delete_and_move(void **state)
{
    (void)state;
    soap_plan p;
    plan("DeleteAnvisningsEnhed", "<sletning><nummer>G00002</nummer></sletning>", NULL, &p);
    assert_int_equal(p.op, DTR_OP_CLOSE);
    assert_json(p.body, "{\"virkningTil\":\"2026-12-07\"}");
    soap_plan_free(&p);
    plan("DeleteAnvisningsEnhed",
         "<sletning><nummer>G00002</nummer><virkningTil>2027-01-01</virkningTil>"
         "<version>4</version></sletning>",
         NULL, &p);
    assert_json(p.body, "{\"virkningTil\":\"2027-01-01\"}");
    assert_int_equal(p.if_match, 4);
    soap_plan_free(&p);
    plan("DeleteDaginstitution",
         "<sletning><nummer>G00001</nummer><fejlregistrering>true</fejlregistrering></sletning>",
         NULL, &p);
    assert_int_equal(p.op, DTR_OP_DELETE);
    assert_null(p.body);
    assert_int_equal(p.level, DTR_LEVEL_DAGINSTITUTION);
    soap_plan_free(&p);
    plan("MoveAlternativAdresse",
         "<flytning><nummer>G00003</nummer><nyForaelder>G00004"
         "</nyForaelder></flytning>",
         NULL, &p);
    assert_int_equal(p.op, DTR_OP_MOVE);
    assert_string_equal(p.nummer, "G00003");
    assert_json(p.body, "{\"anvisningsenhedsNummer\":\"G00004\"}");
    soap_plan_free(&p);
}

static void test_wrong_document_for_the_operation(void **state)
{
    (void)state;
    xmlDocPtr doc = parse_ok("<sletning><nummer>G00001</nummer></sletning>");
    xmlNodePtr root = xmlDocGetRootElement(doc);
    soap_xml_adopt_ns(root, SOAP_NS);
    soap_fejlliste f = {0};
    soap_plan p;
    assert_false(
        soap_plan_build(op_named("InsertDaginstitution"), root, NULL, "2026-12-07", &p, &f));
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0].kode, "UGYLDIGT_FORMAT");
    soap_fejl_clear(&f);
    xmlFreeDoc(doc);
}

static void test_felt_paths(void **state)
{
    (void)state;
    char out[256];
    soap_felt_path("anvisningsenheder[1].adresse.postNummer", DTR_LEVEL_DAGINSTITUTION,
                   "daginstitution", out, sizeof out);
    assert_string_equal(out, "/daginstitution/anvisningsEnhed[2]/postNummer");
    soap_felt_path("anvisningsenheder[0].alternativeAdresser[2].navn", DTR_LEVEL_DAGINSTITUTION,
                   "daginstitution", out, sizeof out);
    assert_string_equal(out, "/daginstitution/anvisningsEnhed[1]/alternativAdresse[3]/"
                             "dagtilbudsNavn");
    soap_felt_path("navn", DTR_LEVEL_DAGINSTITUTION, "daginstitution", out, sizeof out);
    assert_string_equal(out, "/daginstitution/daginstitutionsNavn");
    soap_felt_path("daginstitutionsNummer", DTR_LEVEL_ANVISNINGSENHED, "flytning", out, sizeof out);
    assert_string_equal(out, "/flytning/nyForaelder");
    soap_felt_path("", DTR_LEVEL_ANVISNINGSENHED, "anvisningsEnhed", out, sizeof out);
    assert_string_equal(out, "/anvisningsEnhed");
}

/* ---- the export's records ---------------------------------------------------------------- */

static void test_record_writer(void **state)
{
    (void)state;
    json_t *rec = json_loads(
        "{\"nummer\":\"G00002\",\"daginstitutionsNummer\":\"G00001\",\"navn\":\"Stuen <&>\","
        "\"instType3\":6011,\"adresse\":{\"kommuneKode\":101,\"vejNavn\":\"V\",\"husNummer\":"
        "\"1\",\"postNummer\":\"2100\",\"byNavn\":\"B\",\"geoBredde\":55.6,\"geoLaengde\":null},"
        "\"email\":null,\"status\":\"aktiv\",\"version\":2}",
        0, NULL);
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = xmlNewTextWriterMemory(buf, 0);
    assert_int_equal(soap_record_write(w, fake_code_text, NULL, rec, DTR_LEVEL_ANVISNINGSENHED,
                                       "anvisningsEnhed", false),
                     0);
    xmlFreeTextWriter(w);
    assert_string_equal(
        (const char *)xmlBufferContent(buf),
        "<anvisningsEnhed><anvisningsenhedsNummer>G00002</anvisningsenhedsNummer>"
        "<daginstitutionsNummer>G00001</daginstitutionsNummer><dagtilbudsNavn>Stuen &lt;&amp;&gt;"
        "</dagtilbudsNavn><instType3>6011</instType3><instType3_Tekst>Børnehave (3-5 år)"
        "</instType3_Tekst><kommuneKode>101</kommuneKode><kommuneKode_Tekst>København"
        "</kommuneKode_Tekst><vejNavn>V</vejNavn><husNummer>1</husNummer><postNummer>2100"
        "</postNummer><byNavn>B</byNavn><geoBredde>55.6</geoBredde><aktivitetsstatus>Aktiv"
        "</aktivitetsstatus><version>2</version></anvisningsEnhed>");
    xmlBufferFree(buf);
    json_decref(rec);
}

int main(void)
{
    xmlInitParser();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xsd_enumerates_the_code_lists),
        cmocka_unit_test(test_wsdl_names_every_operation),
        cmocka_unit_test(test_parser_refuses_doctype_and_entities),
        cmocka_unit_test(test_texts_cut_inside_a_character_stay_utf8),
        cmocka_unit_test(test_parser_bounds_depth_and_utf8),
        cmocka_unit_test(test_schema_errors_name_the_element),
        cmocka_unit_test(test_insert_nests_the_hierarchy),
        cmocka_unit_test(test_update_is_the_whole_record),
        cmocka_unit_test(test_delete_and_move),
        cmocka_unit_test(test_wrong_document_for_the_operation),
        cmocka_unit_test(test_felt_paths),
        cmocka_unit_test(test_record_writer),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    xmlCleanupParser();
    return rc;
}
