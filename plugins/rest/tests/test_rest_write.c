/*
 * test_rest_write.c -- the write handlers over the fake host: the
 * HTTP-level checks in API.md's order (401, 415, 400) with no command
 * submitted; the command each route submits (op, level, number, body,
 * If-Match, Idempotency-Key with the body's bytes, request id, client); the
 * answers to an accepted command (201 + Location + ETag, 200 + ETag, 204)
 * and to a refused one (problem+json with the whole fejl list); a client
 * that goes away before the command is answered; a store that is closing.
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

#define AUTH "Authorization: Basic a29tbXVuZTpz"
#define JSON_CT "Content-Type: application/json"

static const char *const auth_json[] = {AUTH, JSON_CT, NULL};

static int setup(void **state)
{
    fake_reset();
    fake_client_add("Basic a29tbXVuZTpz", "kommune-101", "kommune");
    *state = fake_plugin_new(NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fake_plugin_free(*state);
    fake_reset();
    return 0;
}

static fake_req *refused(const char *method, const char *target, const char *body,
                         const char *const *headers, int status, const char *kode)
{
    fake_req *req = fake_call(method, target, body, headers);
    if (req->status != status)
        fail_msg("%s %s: status %d, expected %d (%s)", method, target, req->status, status,
                 req->out ? req->out : "");
    assert_string_equal(fake_problem_code(req), kode);
    assert_false(fake.cmd.present);
    assert_int_equal(fake.commands_pending, 0);
    return req;
}

static void http_checks_in_order(void **state)
{
    (void)state;
    const char *no_auth[] = {JSON_CT, NULL};
    const char *wrong[] = {"Authorization: Basic eDp5", JSON_CT, NULL};
    /* 401 before anything else, even with a broken body and a bad number */
    fake_req *req =
        refused("POST", "/v1/daginstitutioner", "{", no_auth, 401, "IKKE_AUTENTIFICERET");
    assert_string_equal(fake_resp_header(req, "WWW-Authenticate"), "Basic realm=\"dtr\"");
    fake_req_free(req);
    fake_req_free(
        refused("PATCH", "/v1/daginstitutioner/bad", "{", wrong, 401, "IKKE_AUTENTIFICERET"));
    fake_req_free(
        refused("DELETE", "/v1/anvisningsenheder/G00001", NULL, NULL, 401, "IKKE_AUTENTIFICERET"));
    /* writes need a client even with public_read on */
    assert_int_equal(fake.public_read, 1);

    /* 415 before 400 */
    const char *text[] = {AUTH, "Content-Type: text/plain", NULL};
    const char *none[] = {AUTH, NULL};
    const char *latin1[] = {AUTH, "Content-Type: application/json; charset=iso-8859-1", NULL};
    const char *merge[] = {AUTH, "Content-Type: application/merge-patch+json", NULL};
    fake_req_free(refused("POST", "/v1/daginstitutioner", "{", text, 415, "UGYLDIG_MEDIETYPE"));
    fake_req_free(refused("POST", "/v1/daginstitutioner", "{}", none, 415, "UGYLDIG_MEDIETYPE"));
    fake_req_free(refused("POST", "/v1/daginstitutioner", "{}", latin1, 415, "UGYLDIG_MEDIETYPE"));
    fake_req_free(refused("POST", "/v1/daginstitutioner", "{}", merge, 415, "UGYLDIG_MEDIETYPE"));
    fake_req_free(refused("POST", "/v1/daginstitutioner/G00001/nedlaeg", "{}", merge, 415,
                          "UGYLDIG_MEDIETYPE"));
    fake_req_free(
        refused("PATCH", "/v1/daginstitutioner/bad", "{", text, 415, "UGYLDIG_MEDIETYPE"));

    /* 400: the JSON, then the path segment */
    fake_req_free(refused("POST", "/v1/daginstitutioner", "{", auth_json, 400, "UGYLDIG_JSON"));
    fake_req_free(refused("POST", "/v1/daginstitutioner", "", auth_json, 400, "UGYLDIG_JSON"));
    fake_req_free(refused("POST", "/v1/daginstitutioner", "{\"navn\": \"a\", \"navn\": \"b\"}",
                          auth_json, 400, "UGYLDIG_JSON"));
    fake_req_free(refused("POST", "/v1/daginstitutioner", "{\"navn\": \"\xc3\"}", auth_json, 400,
                          "UGYLDIG_JSON"));
    fake_req_free(
        refused("PATCH", "/v1/anvisningsenheder/G1", "{}", merge, 400, "UGYLDIG_PARAMETER"));
    fake_req_free(
        refused("DELETE", "/v1/anvisningsenheder/123456", NULL, none, 400, "UGYLDIG_PARAMETER"));
    fake_req_free(refused("POST", "/v1/alternative-adresser/G00001x/flyt", "{}", auth_json, 400,
                          "UGYLDIG_PARAMETER"));
    char deep[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    for (int i = 0; i < 40; i++)
        strcat(deep, "]");
    fake_req_free(refused("POST", "/v1/daginstitutioner", deep, auth_json, 400, "UGYLDIG_JSON"));
    const char *bad_key[] = {AUTH, JSON_CT, "Idempotency-Key: has space", NULL};
    fake_req_free(
        refused("POST", "/v1/daginstitutioner", "{}", bad_key, 400, "UGYLDIG_FORESPOERGSEL"));
}

static void create_answers_201(void **state)
{
    (void)state;
    const char *body = "{\"navn\": \"Solsikken\", \"ejerformKode\": 1}";
    const char *headers[] = {AUTH, JSON_CT, "Idempotency-Key: key-1", NULL};
    fake_req *req = fake_call("POST", "/v1/daginstitutioner", body, headers);
    assert_int_equal(req->status, 0); /* not answered before the command is */
    assert_true(fake.cmd.present);
    assert_int_equal(fake.cmd.op, DTR_OP_CREATE);
    assert_int_equal(fake.cmd.level, DTR_LEVEL_DAGINSTITUTION);
    assert_false(fake.cmd.has_nummer);
    assert_int_equal(fake.cmd.if_match, -1);
    assert_string_equal(fake.cmd.idempotency_key, "key-1");
    assert_string_equal(fake.cmd.body_bytes, body);
    assert_string_equal(fake.cmd.request_id, "req-1");
    assert_string_equal(fake.cmd.client_id, "kommune-101");
    assert_string_equal(json_string_value(json_object_get(fake.cmd.body, "navn")), "Solsikken");

    json_t *record =
        json_pack("{s:s, s:s, s:i}", "nummer", "G00042", "navn", "Solsikken", "version", 1);
    dtr_command_result res = {.status = DTR_OK,
                              .nummer = "G00042",
                              .level = DTR_LEVEL_DAGINSTITUTION,
                              .record = record,
                              .version = 1};
    fake_command_finish(&res);
    json_decref(record);
    assert_int_equal(req->status, 201);
    assert_string_equal(fake_resp_header(req, "Location"), "/v1/daginstitutioner/G00042");
    assert_string_equal(fake_resp_header(req, "ETag"), "\"1\"");
    json_t *doc = fake_resp_json(req);
    assert_string_equal(json_string_value(json_object_get(doc, "nummer")), "G00042");
    json_decref(doc);
    fake_req_free(req);

    /* an anvisningsenhed's Location */
    req = fake_call("POST", "/v1/anvisningsenheder", "{}", auth_json);
    assert_int_equal(fake.cmd.level, DTR_LEVEL_ANVISNINGSENHED);
    assert_false(fake.cmd.has_key);
    res = (dtr_command_result){
        .status = DTR_OK, .nummer = "G00043", .level = DTR_LEVEL_ANVISNINGSENHED, .version = 1};
    fake_command_finish(&res);
    assert_int_equal(req->status, 201);
    assert_string_equal(fake_resp_header(req, "Location"), "/v1/anvisningsenheder/G00043");
    fake_req_free(req);
}

static void other_writes(void **state)
{
    (void)state;
    static const struct {
        const char *method, *target, *body;
        dtr_op op;
        dtr_level level;
        int status;
    } cases[] = {
        {"PATCH", "/v1/daginstitutioner/G00001", "{\"navn\": \"x\"}", DTR_OP_UPDATE,
         DTR_LEVEL_DAGINSTITUTION, 200},
        {"PATCH", "/v1/alternative-adresser/G00003", "{}", DTR_OP_UPDATE,
         DTR_LEVEL_ALTERNATIV_ADRESSE, 200},
        {"POST", "/v1/anvisningsenheder/G00002/nedlaeg", "{\"virkningTil\": \"2026-12-31\"}",
         DTR_OP_CLOSE, DTR_LEVEL_ANVISNINGSENHED, 200},
        {"POST", "/v1/anvisningsenheder/G00002/flyt", "{\"daginstitutionsNummer\": \"G00009\"}",
         DTR_OP_MOVE, DTR_LEVEL_ANVISNINGSENHED, 200},
        {"POST", "/v1/alternative-adresser/G00003/flyt", "{\"anvisningsenhedsNummer\": \"G00002\"}",
         DTR_OP_MOVE, DTR_LEVEL_ALTERNATIV_ADRESSE, 200},
        {"DELETE", "/v1/daginstitutioner/G00001", NULL, DTR_OP_DELETE, DTR_LEVEL_DAGINSTITUTION,
         204},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *headers[] = {AUTH,
                                 strcmp(cases[i].method, "PATCH") == 0
                                     ? "Content-Type: application/merge-patch+json"
                                     : JSON_CT,
                                 "If-Match: W/\"7\"", "Idempotency-Key: ignored", NULL};
        fake_req *req = fake_call(cases[i].method, cases[i].target, cases[i].body, headers);
        assert_true(fake.cmd.present);
        assert_int_equal(fake.cmd.op, cases[i].op);
        assert_int_equal(fake.cmd.level, cases[i].level);
        char nummer[7];
        snprintf(nummer, sizeof nummer, "%s", strchr(cases[i].target + 4, '/') + 1);
        assert_string_equal(fake.cmd.nummer, nummer);
        assert_int_equal(fake.cmd.if_match, 7);
        assert_false(fake.cmd.has_key); /* only creates take a key */
        if (cases[i].body)
            assert_non_null(fake.cmd.body);
        else
            assert_null(fake.cmd.body);
        json_t *record = json_pack("{s:i}", "version", 8);
        dtr_command_result res = {.status = DTR_OK,
                                  .nummer = "G00001",
                                  .record = record,
                                  .version = 8,
                                  .level = cases[i].level};
        if (cases[i].op == DTR_OP_DELETE) res.record = NULL;
        fake_command_finish(&res);
        json_decref(record);
        assert_int_equal(req->status, cases[i].status);
        if (cases[i].status == 200) {
            assert_string_equal(fake_resp_header(req, "ETag"), "\"8\"");
            assert_null(fake_resp_header(req, "Location"));
        } else {
            assert_int_equal(req->out_len, 0);
        }
        fake_req_free(req);
        fake.cmd.present = false;
    }
    /* If-Match that names no version: 0, which the register answers 412 */
    const char *odd[] = {AUTH, JSON_CT, "If-Match: \"abc\"", NULL};
    fake_req *req = fake_call("POST", "/v1/daginstitutioner/G00001/nedlaeg", "{}", odd);
    assert_int_equal(fake.cmd.if_match, 0);
    assert_string_equal(fake.cmd.nummer, "G00001");
    dtr_command_result res = {.status = DTR_DECLINED, .http_status = 412};
    fake_command_finish(&res);
    assert_int_equal(req->status, 412);
    fake_req_free(req);
}

static void refusal_carries_fejl(void **state)
{
    (void)state;
    fake_req *req = fake_call("POST", "/v1/daginstitutioner", "{\"navn\": 1}", auth_json);
    json_t *fejl = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}]", "kode", "FORKERT_TYPE", "felt",
                             "navn", "tekst", "forventede en tekst", "kode", "MANGLER_FELT", "felt",
                             "", "tekst", "mangler");
    dtr_command_result res = {
        .status = DTR_DECLINED, .http_status = 422, .fejl = fejl, .nummer = ""};
    fake_command_finish(&res);
    json_decref(fejl);
    assert_int_equal(req->status, 422);
    assert_string_equal(req->content_type, "application/problem+json");
    json_t *doc = fake_resp_json(req);
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 422);
    assert_string_equal(json_string_value(json_object_get(doc, "title")), "Unprocessable Content");
    assert_non_null(json_string_value(json_object_get(doc, "type")));
    assert_non_null(strstr(json_string_value(json_object_get(doc, "detail")), "forventede"));
    json_t *list = json_object_get(doc, "fejl");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "felt")),
                        "navn");
    assert_true(json_is_null(json_object_get(json_array_get(list, 1), "felt")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "kode")),
                        "MANGLER_FELT");
    json_decref(doc);
    fake_req_free(req);

    /* 503 without a list still names a code */
    req = fake_call("DELETE", "/v1/daginstitutioner/G00001", NULL, auth_json);
    res = (dtr_command_result){.status = DTR_ERROR, .http_status = 503};
    fake_command_finish(&res);
    assert_int_equal(req->status, 503);
    assert_string_equal(fake_problem_code(req), "IKKE_KLAR");
    fake_req_free(req);
}

static void client_gone_before_answer(void **state)
{
    (void)state;
    fake_req *req = fake_call("POST", "/v1/daginstitutioner", "{}", auth_json);
    assert_int_equal(fake.commands_pending, 1);
    fake_abort(req); /* the fake aborts the process if the plugin answers now */
    dtr_command_result res = {.status = DTR_OK, .nummer = "G00001", .version = 1};
    fake_command_finish(&res);
    assert_int_equal(req->status, 0);
    fake_req_free(req);
}

static void store_closing(void **state)
{
    (void)state;
    fake.fail_submit = 1;
    fake_req *req = fake_call("POST", "/v1/daginstitutioner", "{}", auth_json);
    assert_int_equal(req->status, 503);
    assert_string_equal(fake_problem_code(req), "IKKE_KLAR");
    assert_null(req->on_abort);
    fake_req_free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(http_checks_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(create_answers_201, setup, teardown),
        cmocka_unit_test_setup_teardown(other_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(refusal_carries_fejl, setup, teardown),
        cmocka_unit_test_setup_teardown(client_gone_before_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(store_closing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
