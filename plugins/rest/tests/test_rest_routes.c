/*
 * test_rest_routes.c -- what init registers, and the OpenAPI document
 * against it: every registered route is documented and every documented
 * path and method is registered; every error code of API.md is in the
 * document; the document merges the rest of the set's descriptions (its own
 * operations win) at the first request; the config is checked; the code
 * lists come from code_text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_host.h"
#include "rest.h"

static int setup(void **state)
{
    fake_reset();
    *state = fake_plugin_new(NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fake_plugin_free(*state);
    fake_reset();
    return 0;
}

static void lower(const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
    out[i] = '\0';
}

/* The routes API.md lists for this plugin, written out by hand: the table
 * must serve exactly these. */
static const char *const expected[] = {
    "GET /v1/openapi.json",
    "GET /v1/kodetabeller/kommuner",
    "GET /v1/kodetabeller/ejerformer",
    "GET /v1/kodetabeller/lovgrundlag",
    "GET /v1/kodetabeller/institutionstyper",
    "POST /v1/daginstitutioner",
    "GET /v1/daginstitutioner",
    "GET /v1/daginstitutioner/{nummer}",
    "PATCH /v1/daginstitutioner/{nummer}",
    "POST /v1/daginstitutioner/{nummer}/nedlaeg",
    "POST /v1/daginstitutioner/{nummer}/genaabn",
    "DELETE /v1/daginstitutioner/{nummer}",
    "GET /v1/daginstitutioner/{nummer}/historik",
    "POST /v1/anvisningsenheder",
    "GET /v1/anvisningsenheder",
    "GET /v1/anvisningsenheder/{nummer}",
    "PATCH /v1/anvisningsenheder/{nummer}",
    "POST /v1/anvisningsenheder/{nummer}/nedlaeg",
    "POST /v1/anvisningsenheder/{nummer}/genaabn",
    "DELETE /v1/anvisningsenheder/{nummer}",
    "GET /v1/anvisningsenheder/{nummer}/historik",
    "POST /v1/anvisningsenheder/{nummer}/flyt",
    "POST /v1/alternative-adresser",
    "GET /v1/alternative-adresser",
    "GET /v1/alternative-adresser/{nummer}",
    "PATCH /v1/alternative-adresser/{nummer}",
    "POST /v1/alternative-adresser/{nummer}/nedlaeg",
    "POST /v1/alternative-adresser/{nummer}/genaabn",
    "DELETE /v1/alternative-adresser/{nummer}",
    "GET /v1/alternative-adresser/{nummer}/historik",
    "POST /v1/alternative-adresser/{nummer}/flyt",
    "GET /v1/dagtilbud/{nummer}",
    "GET /v1/haendelser/seneste",
    "GET /v1/haendelser",
    "GET /v1/udtraek",
    "POST /v1/transaktioner",
    NULL,
};

static void registers_the_api(void **state)
{
    (void)state;
    size_t n = 0;
    for (; expected[n]; n++) {
        bool found = false;
        for (size_t i = 0; i < fake_route_count() && !found; i++) {
            char line[200];
            snprintf(line, sizeof line, "%s %s", fake_route_method(i), fake_route_pattern(i));
            found = strcmp(line, expected[n]) == 0;
        }
        if (!found) fail_msg("not registered: %s", expected[n]);
    }
    assert_int_equal(fake_route_count(), n);
    assert_int_equal(rest_route_count, n);
}

static void openapi_matches_routes(void **state)
{
    (void)state;
    fake_req *req = fake_call("GET", "/v1/openapi.json", NULL, NULL);
    assert_int_equal(req->status, 200);
    json_t *doc = fake_resp_json(req);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    json_t *paths = json_object_get(doc, "paths");

    /* every registered route is documented ... */
    for (size_t i = 0; i < fake_route_count(); i++) {
        char method[16];
        lower(fake_route_method(i), method, sizeof method);
        json_t *op = json_object_get(json_object_get(paths, fake_route_pattern(i)), method);
        if (!op) fail_msg("undocumented: %s %s", fake_route_method(i), fake_route_pattern(i));
        assert_non_null(json_object_get(op, "responses"));
        assert_non_null(json_object_get(op, "operationId"));
        /* a {nummer} path documents its parameter */
        if (strstr(fake_route_pattern(i), "{nummer}")) {
            json_t *params = json_object_get(op, "parameters");
            assert_string_equal(json_string_value(json_object_get(json_array_get(params, 0), "in")),
                                "path");
        }
    }
    /* ... and every documented operation is registered */
    size_t documented = 0;
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item)
    {
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
        {
            (void)op;
            documented++;
            bool found = false;
            for (size_t i = 0; i < fake_route_count() && !found; i++) {
                char m[16];
                lower(fake_route_method(i), m, sizeof m);
                found = strcmp(m, method) == 0 && strcmp(fake_route_pattern(i), path) == 0;
            }
            if (!found) fail_msg("documented but not served: %s %s", method, path);
        }
    }
    assert_int_equal(documented, fake_route_count());

    /* every $ref points at something in the document */
    char *text = json_dumps(doc, JSON_COMPACT);
    for (const char *p = strstr(text, "\"$ref\":\""); p; p = strstr(p + 1, "\"$ref\":\"")) {
        const char *ref = p + 8;
        size_t n = strcspn(ref, "\"");
        char kind[32], name[64];
        assert_int_equal(sscanf(ref, "#/components/%31[^/]/%63[^\"]", kind, name), 2);
        assert_true(strlen("#/components/") + strlen(kind) + 1 + strlen(name) == n);
        if (!json_object_get(json_object_get(json_object_get(doc, "components"), kind), name))
            fail_msg("dangling $ref %.*s", (int)n, ref);
    }
    free(text);
    json_decref(doc);
    fake_req_free(req);
}

static void openapi_has_every_error_code(void **state)
{
    (void)state;
    static const char *const codes[] = {"UGYLDIG_JSON",
                                        "UGYLDIG_PARAMETER",
                                        "UGYLDIG_FORESPOERGSEL",
                                        "FINDES_IKKE",
                                        "SLETTET",
                                        "IKKE_TILLADT",
                                        "TIMEOUT",
                                        "FOR_STOR",
                                        "UGYLDIG_MEDIETYPE",
                                        "FOR_MANGE",
                                        "FOR_STORE_HOVEDER",
                                        "IKKE_KLAR",
                                        "VERSIONSKONFLIKT",
                                        "MANGLER_FELT",
                                        "UKENDT_FELT",
                                        "FORKERT_TYPE",
                                        "FOR_LANG",
                                        "UGYLDIGT_FORMAT",
                                        "UKENDT_KODE",
                                        "UGYLDIG_CVR",
                                        "UGYLDIG_PNUMMER",
                                        "UGYLDIG_POSTNUMMER",
                                        "UGYLDIG_DATO",
                                        "KRYDSVALIDERING",
                                        "FORAELDER_FINDES_IKKE",
                                        "SKRIVEBESKYTTET",
                                        "IDEMPOTENS_KONFLIKT",
                                        "HAR_BOERN",
                                        "HAR_AKTIVE_BOERN",
                                        "FLYT_PAA_TVAERS",
                                        "NEDLAGT",
                                        "FORAELDER_NEDLAGT",
                                        "NUMMER_BRUGT",
                                        "IKKE_AUTENTIFICERET",
                                        NULL};
    json_t *doc = rest_openapi_document();
    json_t *kode = json_object_get(
        json_object_get(
            json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), "Fejl"),
            "properties"),
        "kode");
    json_t *list = json_object_get(kode, "enum");
    for (size_t i = 0; codes[i]; i++) {
        bool found = false;
        size_t k;
        json_t *c;
        json_array_foreach(list, k, c) found = found || strcmp(json_string_value(c), codes[i]) == 0;
        if (!found) fail_msg("missing error code %s", codes[i]);
    }
    /* a write documents 412 and 415, a read does not */
    json_t *paths = json_object_get(doc, "paths");
    json_t *patch =
        json_object_get(json_object_get(paths, "/v1/daginstitutioner/{nummer}"), "patch");
    assert_non_null(json_object_get(json_object_get(patch, "responses"), "412"));
    assert_non_null(json_object_get(json_object_get(patch, "responses"), "415"));
    json_t *get = json_object_get(json_object_get(paths, "/v1/daginstitutioner/{nummer}"), "get");
    assert_null(json_object_get(json_object_get(get, "responses"), "415"));
    assert_non_null(json_object_get(json_object_get(get, "responses"), "410"));
    json_decref(doc);
}

/* Two operations as a "paths" object: GET /v1/eksport/{fil} (another
 * plugin's) and GET /v1/openapi.json (this plugin's own, named again). */
static json_t *other_paths(void)
{
    return json_pack("{s:{s:{s:s, s:{s:{s:s}}}}, s:{s:{s:s, s:{s:{s:s}}}}}", "/v1/eksport/{fil}",
                     "get", "summary", "En fil af eksporten", "responses", "200", "description",
                     "OK", "/v1/openapi.json", "get", "summary", "impostor", "responses", "200",
                     "description", "OK");
}

static const char *summary_in(json_t *doc, const char *path, const char *method)
{
    return json_string_value(json_object_get(
        json_object_get(json_object_get(json_object_get(doc, "paths"), path), method), "summary"));
}

/* The merge: another description's operations are added, and where one
 * names a path and method the plugin documents itself, its own stays. */
static void openapi_merge_keeps_its_own(void **state)
{
    (void)state;
    json_t *doc = rest_openapi_document();
    size_t before = json_object_size(json_object_get(doc, "paths"));
    json_t *paths = other_paths();
    assert_int_equal(rest_openapi_merge(doc, paths), 1);
    json_decref(paths);
    assert_int_equal(json_object_size(json_object_get(doc, "paths")), before + 1);
    assert_string_equal(summary_in(doc, "/v1/eksport/{fil}", "get"), "En fil af eksporten");
    assert_string_equal(summary_in(doc, "/v1/openapi.json", "get"), "Dette OpenAPI 3.1-dokument");
    json_decref(doc);
}

/* GET /v1/openapi.json serves the merge with what the host collected,
 * described after this plugin's init (the document is made at the first
 * request), and the same bytes from then on. */
static void openapi_serves_the_whole_set(void **state)
{
    (void)state;
    fake.openapi_paths = other_paths(); /* after init, as a later plugin's init would */
    fake_req *req = fake_call("GET", "/v1/openapi.json", NULL, NULL);
    assert_int_equal(req->status, 200);
    json_t *doc = fake_resp_json(req);
    assert_string_equal(summary_in(doc, "/v1/eksport/{fil}", "get"), "En fil af eksporten");
    assert_string_equal(summary_in(doc, "/v1/openapi.json", "get"), "Dette OpenAPI 3.1-dokument");
    assert_non_null(strstr(fake.last_log, "1 described operation"));
    json_decref(doc);
    json_decref(fake.openapi_paths);
    fake.openapi_paths = NULL;
    fake_req *again = fake_call("GET", "/v1/openapi.json", NULL, NULL);
    assert_int_equal(again->out_len, req->out_len);
    assert_memory_equal(again->out, req->out, req->out_len);
    fake_req_free(again);
    fake_req_free(req);
}

/* A host older than ABI 1.4 has no openapi_paths: the document is the
 * plugin's own. */
static void openapi_on_an_older_host(void **state)
{
    fake_plugin_free(*state);
    fake.host_size = offsetof(dtr_host_api, openapi_describe);
    fake.openapi_paths = other_paths();
    *state = fake_plugin_new(NULL);
    assert_non_null(*state);
    fake_req *req = fake_call("GET", "/v1/openapi.json", NULL, NULL);
    assert_int_equal(req->status, 200);
    json_t *doc = fake_resp_json(req);
    assert_null(json_object_get(json_object_get(doc, "paths"), "/v1/eksport/{fil}"));
    json_decref(doc);
    fake_req_free(req);
}

static void config_is_checked(void **state)
{
    (void)state;
    void *p = fake_plugin_new("{\"udtraek_page_size\": 5}");
    assert_non_null(p);
    fake_plugin_free(p);
    assert_null(fake_plugin_new("{\"udtraek_page_size\": 0}"));
    assert_non_null(strstr(fake.last_log, "udtraek_page_size"));
    assert_null(fake_plugin_new("{\"udtraek_page_size\": \"10\"}"));
    assert_null(fake_plugin_new("{\"page\": 10}"));
    assert_non_null(strstr(fake.last_log, "page"));
}

static void code_lists(void **state)
{
    (void)state;
    fake_req *req = fake_call("GET", "/v1/kodetabeller/kommuner", NULL, NULL);
    assert_int_equal(req->status, 200);
    json_t *list = fake_resp_json(req);
    assert_int_equal(json_array_size(list), 3); /* the fake knows 101, 147, 860 */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "kode")), 101);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "tekst")),
                        "København");
    json_decref(list);
    fake_req_free(req);
    req = fake_call("GET", "/v1/kodetabeller/institutionstyper", NULL, NULL);
    list = fake_resp_json(req);
    assert_int_equal(json_array_size(list), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 1), "kode")), 6022);
    json_decref(list);
    fake_req_free(req);
    req = fake_call("GET", "/v1/kodetabeller/ejerformer", NULL, NULL);
    list = fake_resp_json(req);
    assert_int_equal(json_array_size(list), 4);
    json_decref(list);
    fake_req_free(req);
    req = fake_call("GET", "/v1/kodetabeller/lovgrundlag", NULL, NULL);
    list = fake_resp_json(req);
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);
    fake_req_free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(registers_the_api, setup, teardown),
        cmocka_unit_test_setup_teardown(openapi_matches_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(openapi_has_every_error_code, setup, teardown),
        cmocka_unit_test_setup_teardown(openapi_merge_keeps_its_own, setup, teardown),
        cmocka_unit_test_setup_teardown(openapi_serves_the_whole_set, setup, teardown),
        cmocka_unit_test_setup_teardown(openapi_on_an_older_host, setup, teardown),
        cmocka_unit_test_setup_teardown(config_is_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(code_lists, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
