/*
 * test_rest_read.c -- the GET handlers over the fake host: one record
 * (ETag, 304, 404, 410, a number of another level), path and query checks
 * (400), credentials with public_read on and off (401), lists (filters
 * handed to the store, the opaque cursor, naeste null on the last page),
 * dagtilbud, historik, hændelser.
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

#define DI DTR_LEVEL_DAGINSTITUTION
#define AE DTR_LEVEL_ANVISNINGSENHED
#define AA DTR_LEVEL_ALTERNATIV_ADRESSE

static const char *const support_auth[] = {"Authorization: Basic c3VwcG9ydDpz", NULL};
static const char *const wrong_auth[] = {"Authorization: Basic d3Jvbmc6eA==", NULL};

static int setup(void **state)
{
    fake_reset();
    fake_client_add("Basic c3VwcG9ydDpz", "support", "support");
    fake_put("G00001", DI, "{\"nummer\": \"G00001\", \"navn\": \"Solsikken\", \"version\": 3}",
             false);
    fake_put("G00002", AE,
             "{\"nummer\": \"G00002\", \"daginstitutionsNummer\": \"G00001\", \"version\": 1}",
             false);
    fake_put("G00003", DI, "{\"nummer\": \"G00003\", \"version\": 2}", true);
    fake_put("G00004", DI, "{\"nummer\": \"G00004\", \"version\": 1}", false);
    fake_put("G00005", DI, "{\"nummer\": \"G00005\", \"version\": 1}", false);
    fake_put("G00006", AA, "{\"nummer\": \"G00006\", \"version\": 4}", false);
    *state = fake_plugin_new(NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fake_plugin_free(*state);
    fake_reset();
    return 0;
}

/* Runs a GET and checks its status (and the first fejl kode when given). */
static fake_req *get(const char *target, const char *const *headers, int status, const char *kode)
{
    fake_req *req = fake_call("GET", target, NULL, headers);
    while (fake_run_work()) /* lists, hændelser and history answer from the work queue */
        ;
    if (req->status != status)
        fail_msg("GET %s: status %d, expected %d (%s)", target, req->status, status,
                 req->out ? req->out : "");
    if (kode) assert_string_equal(fake_problem_code(req), kode);
    return req;
}

static void one_record(void **state)
{
    (void)state;
    fake_req *req = get("/v1/daginstitutioner/G00001", NULL, 200, NULL);
    assert_string_equal(fake_resp_header(req, "ETag"), "\"3\"");
    json_t *doc = fake_resp_json(req);
    assert_string_equal(json_string_value(json_object_get(doc, "navn")), "Solsikken");
    json_decref(doc);
    fake_req_free(req);

    /* the client has this version: 304 */
    const char *inm[] = {"If-None-Match: \"3\"", NULL};
    req = get("/v1/daginstitutioner/G00001", inm, 304, NULL);
    assert_string_equal(fake_resp_header(req, "ETag"), "\"3\"");
    assert_int_equal(req->out_len, 0);
    fake_req_free(req);
    const char *inm_old[] = {"If-None-Match: \"2\", W/\"1\"", NULL};
    fake_req_free(get("/v1/daginstitutioner/G00001", inm_old, 200, NULL));

    fake_req_free(get("/v1/daginstitutioner/G99999", NULL, 404, "FINDES_IKKE"));
    fake_req_free(get("/v1/daginstitutioner/G00003", NULL, 410, "SLETTET"));
    /* a number of another level is not one of this collection */
    fake_req_free(get("/v1/daginstitutioner/G00002", NULL, 404, "FINDES_IKKE"));
    fake_req_free(get("/v1/anvisningsenheder/G00002", NULL, 200, NULL));
    fake_req_free(get("/v1/alternative-adresser/G00006", NULL, 200, NULL));
    fake_req_free(get("/v1/anvisningsenheder/G00001", NULL, 404, "FINDES_IKKE"));

    /* path and query checks */
    fake_req_free(get("/v1/daginstitutioner/g00001", NULL, 400, "UGYLDIG_PARAMETER"));
    fake_req_free(get("/v1/daginstitutioner/G0001", NULL, 400, "UGYLDIG_PARAMETER"));
    fake_req_free(get("/v1/daginstitutioner/G00001?virkningsdato=2026-02-30", NULL, 400,
                      "UGYLDIG_PARAMETER"));
    fake_req_free(get("/v1/daginstitutioner/G00001?virkningsdato=2026-02-28", NULL, 200, NULL));

    fake.fail_reads = 1;
    fake_req_free(get("/v1/daginstitutioner/G00001", NULL, 503, "IKKE_KLAR"));
}

static void credentials(void **state)
{
    (void)state;
    /* public_read on: open, and no lookup without credentials */
    fake_req_free(get("/v1/daginstitutioner/G00001", NULL, 200, NULL));
    assert_int_equal(fake.authenticate_calls, 0);
    fake_req_free(get("/v1/daginstitutioner/G00001", support_auth, 200, NULL));
    /* wrong credentials are refused even where none are needed */
    fake_req *req = get("/v1/daginstitutioner/G00001", wrong_auth, 401, "IKKE_AUTENTIFICERET");
    assert_string_equal(fake_resp_header(req, "WWW-Authenticate"), "Basic realm=\"dtr\"");
    fake_req_free(req);

    /* public_read off: every GET needs a client */
    fake.public_read = 0;
    static const char *const targets[] = {"/v1/daginstitutioner/G00001",
                                          "/v1/daginstitutioner",
                                          "/v1/dagtilbud/G00001",
                                          "/v1/daginstitutioner/G00001/historik",
                                          "/v1/haendelser",
                                          "/v1/haendelser/seneste",
                                          "/v1/kodetabeller/kommuner",
                                          "/v1/openapi.json",
                                          "/v1/udtraek",
                                          NULL};
    for (size_t i = 0; targets[i]; i++) {
        req = get(targets[i], NULL, 401, "IKKE_AUTENTIFICERET");
        assert_string_equal(fake_resp_header(req, "WWW-Authenticate"), "Basic realm=\"dtr\"");
        fake_req_free(req);
        req = fake_call("GET", targets[i], NULL, support_auth);
        fake_run_work(); /* the udtræk answers once its first page is read */
        assert_int_equal(req->status, 200);
        fake_req_free(req);
    }
    assert_int_equal(fake.readers_open, 0);
}

static void lists(void **state)
{
    (void)state;
    fake_req *req = get("/v1/daginstitutioner?limit=2", NULL, 200, NULL);
    json_t *page = fake_resp_json(req);
    json_t *items = json_object_get(page, "resultater");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "nummer")),
                        "G00004");
    const char *naeste = json_string_value(json_object_get(page, "naeste"));
    assert_non_null(naeste);
    assert_null(strstr(naeste, "G0000")); /* opaque */
    char target[128];
    snprintf(target, sizeof target, "/v1/daginstitutioner?limit=2&efter=%s", naeste);
    json_decref(page);
    fake_req_free(req);

    req = get(target, NULL, 200, NULL);
    assert_string_equal(fake.last_query.after, "G00004");
    page = fake_resp_json(req);
    items = json_object_get(page, "resultater");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "nummer")),
                        "G00005");
    assert_true(json_is_null(json_object_get(page, "naeste")));
    json_decref(page);
    fake_req_free(req);

    /* the default page and the bounds of limit */
    fake_req_free(get("/v1/daginstitutioner", NULL, 200, NULL));
    assert_int_equal(fake.last_query.limit, 100);
    assert_int_equal(fake.last_query.nested, 0);
    fake_req_free(get("/v1/daginstitutioner?limit=1000", NULL, 200, NULL));
    assert_int_equal(fake.last_query.limit, 1000);
    static const char *const bad[] = {"/v1/daginstitutioner?limit=0",
                                      "/v1/daginstitutioner?limit=1001",
                                      "/v1/daginstitutioner?limit=abc",
                                      "/v1/daginstitutioner?limit=",
                                      "/v1/daginstitutioner?limit=-5",
                                      "/v1/daginstitutioner?efter=G00004",
                                      "/v1/daginstitutioner?status=lukket",
                                      "/v1/daginstitutioner?virkningsdato=2026-1-1",
                                      "/v1/daginstitutioner?admKommuneKode=x",
                                      "/v1/anvisningsenheder?daginstitutionsNummer=1",
                                      "/v1/anvisningsenheder?pNummer=123",
                                      "/v1/anvisningsenheder?cvrNummer=1234567x",
                                      "/v1/anvisningsenheder?instType3=60.1",
                                      "/v1/alternative-adresser?navn=",
                                      NULL};
    for (size_t i = 0; bad[i]; i++)
        fake_req_free(get(bad[i], NULL, 400, "UGYLDIG_PARAMETER"));
    /* the parameter is named in felt */
    req = get("/v1/daginstitutioner?limit=0", NULL, 400, NULL);
    json_t *doc = fake_resp_json(req);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(doc, "fejl"), 0), "felt")),
        "limit");
    json_decref(doc);
    fake_req_free(req);

    /* every filter reaches the store */
    fake_req_free(get("/v1/daginstitutioner?admKommuneKode=101&navn=%C3%A6ble+have&status=aktiv"
                      "&virkningsdato=2025-10-01",
                      NULL, 200, NULL));
    assert_int_equal(fake.last_query.level, DI);
    assert_int_equal(fake.last_query.adm_kommune, 101);
    assert_string_equal(fake.last_query.navn, "æble have");
    assert_string_equal(fake.last_query.status, "aktiv");
    assert_string_equal(fake.last_query.virkningsdato, "2025-10-01");
    fake_req_free(get("/v1/anvisningsenheder?daginstitutionsNummer=G00001&kommuneKode=147"
                      "&pNummer=1234567890&cvrNummer=12345678&instType3=6011",
                      NULL, 200, NULL));
    assert_int_equal(fake.last_query.level, AE);
    assert_string_equal(fake.last_query.parent, "G00001");
    assert_int_equal(fake.last_query.kommune, 147);
    assert_string_equal(fake.last_query.p_nummer, "1234567890");
    assert_string_equal(fake.last_query.cvr_nummer, "12345678");
    assert_int_equal(fake.last_query.inst_type3, 6011);
    fake_req_free(get("/v1/alternative-adresser?anvisningsenhedsNummer=G00002", NULL, 200, NULL));
    assert_int_equal(fake.last_query.level, AA);
    assert_string_equal(fake.last_query.parent, "G00002");
    /* a filter of another collection is not taken here */
    fake_req_free(get("/v1/daginstitutioner?instType3=6011", NULL, 200, NULL));
    assert_int_equal(fake.last_query.inst_type3, 0);
}

static void dagtilbud_and_history(void **state)
{
    (void)state;
    fake_req *req = get("/v1/dagtilbud/G00002", NULL, 200, NULL);
    json_t *doc = fake_resp_json(req);
    assert_string_equal(json_string_value(json_object_get(doc, "niveau")), "anvisningsenhed");
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "data"), "nummer")),
                        "G00002");
    assert_string_equal(fake_resp_header(req, "ETag"), "\"1\"");
    json_decref(doc);
    fake_req_free(req);
    req = get("/v1/dagtilbud/G00006", NULL, 200, NULL);
    doc = fake_resp_json(req);
    assert_string_equal(json_string_value(json_object_get(doc, "niveau")), "alternativAdresse");
    json_decref(doc);
    fake_req_free(req);
    fake_req_free(get("/v1/dagtilbud/G00003", NULL, 410, "SLETTET"));
    fake_req_free(get("/v1/dagtilbud/G99999", NULL, 404, "FINDES_IKKE"));
    fake_req_free(get("/v1/dagtilbud/X", NULL, 400, "UGYLDIG_PARAMETER"));

    req = get("/v1/daginstitutioner/G00001/historik", NULL, 200, NULL);
    doc = fake_resp_json(req);
    assert_true(json_is_array(doc));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(doc, 0), "version")), 3);
    json_decref(doc);
    fake_req_free(req);
    /* a deleted record keeps its history */
    fake_req_free(get("/v1/daginstitutioner/G00003/historik", NULL, 200, NULL));
    fake_req_free(get("/v1/anvisningsenheder/G00001/historik", NULL, 404, "FINDES_IKKE"));
    fake_req_free(get("/v1/anvisningsenheder/G12345/historik", NULL, 404, "FINDES_IKKE"));
}

static void events(void **state)
{
    (void)state;
    fake_req *req = get("/v1/haendelser/seneste", NULL, 200, NULL);
    json_t *doc = fake_resp_json(req);
    assert_int_equal(json_integer_value(json_object_get(doc, "sekvensnummer")), 0);
    assert_true(json_is_null(json_object_get(doc, "tidspunkt")));
    json_decref(doc);
    fake_req_free(req);
    fake.seq = 25;
    req = get("/v1/haendelser/seneste", NULL, 200, NULL);
    doc = fake_resp_json(req);
    assert_int_equal(json_integer_value(json_object_get(doc, "sekvensnummer")), 25);
    assert_string_equal(json_string_value(json_object_get(doc, "tidspunkt")),
                        "2026-01-02T03:04:05Z");
    json_decref(doc);
    fake_req_free(req);

    req = get("/v1/haendelser?fra=10&maxantal=5", NULL, 200, NULL);
    doc = fake_resp_json(req);
    assert_int_equal(json_array_size(doc), 5);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(doc, 0), "sekvensnummer")),
                     10);
    json_decref(doc);
    fake_req_free(req);
    req = get("/v1/haendelser", NULL, 200, NULL);
    doc = fake_resp_json(req);
    assert_int_equal(json_array_size(doc), 25);
    json_decref(doc);
    fake_req_free(req);
    fake_req_free(get("/v1/haendelser?maxantal=10000", NULL, 200, NULL));
    fake_req_free(get("/v1/haendelser?maxantal=10001", NULL, 400, "UGYLDIG_PARAMETER"));
    fake_req_free(get("/v1/haendelser?maxantal=0", NULL, 400, "UGYLDIG_PARAMETER"));
    fake_req_free(get("/v1/haendelser?fra=-1", NULL, 400, "UGYLDIG_PARAMETER"));
    fake_req_free(get("/v1/haendelser?fra=abc", NULL, 400, "UGYLDIG_PARAMETER"));
}

/* Reads whose cost the client chooses leave the loop: the handler returns
 * with the read queued on the work queue, and the answer comes from there;
 * a client that went away meanwhile gets nothing and nothing leaks. */
static void heavy_reads_run_on_the_pool(void **state)
{
    (void)state;
    static const char *const targets[] = {
        "/v1/anvisningsenheder?navn=sol&limit=1000",
        "/v1/daginstitutioner?virkningsdato=2026-01-01",
        "/v1/haendelser?fra=1&maxantal=10000",
        "/v1/daginstitutioner/G00001/historik",
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        fake_req *req = fake_call("GET", targets[i], NULL, NULL);
        assert_int_equal(req->status, 0); /* not answered on the loop */
        assert_int_equal(fake.work_queued, 1);
        assert_int_equal(fake_run_work(), 1);
        assert_int_equal(req->status, 200);
        fake_req_free(req);
    }
    fake_req *req = fake_call("GET", "/v1/haendelser?fra=1", NULL, NULL);
    assert_int_equal(fake.work_queued, 1);
    fake_abort(req);
    assert_int_equal(fake_run_work(), 1);
    assert_int_equal(req->status, 0);
    fake_req_free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(one_record, setup, teardown),
        cmocka_unit_test_setup_teardown(heavy_reads_run_on_the_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(lists, setup, teardown),
        cmocka_unit_test_setup_teardown(dagtilbud_and_history, setup, teardown),
        cmocka_unit_test_setup_teardown(events, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
