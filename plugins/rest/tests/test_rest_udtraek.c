/*
 * test_rest_udtraek.c -- GET /v1/udtraek over the fake host: the document
 * is whole and consistent with the snapshot's sekvensnummer, it is read page
 * by page with one page in flight, a full connection stops the reading
 * until it drains, a client that goes away ends the snapshot and closes
 * the reader (also while a page is being read), a register that cannot be
 * read gives 503 before anything is sent, and HEAD reads nothing.
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

#define UNITS 7

static int setup(void **state)
{
    fake_reset();
    for (int i = 1; i <= UNITS; i++) {
        char nummer[7], json[128];
        snprintf(nummer, sizeof nummer, "G%05d", i * 10);
        snprintf(json, sizeof json,
                 "{\"nummer\": \"%s\", \"navn\": \"Børnehuset %d\", \"anvisningsenheder\": []}",
                 nummer, i);
        fake_put(nummer, DTR_LEVEL_DAGINSTITUTION, json, false);
    }
    fake_put("G00015", DTR_LEVEL_ANVISNINGSENHED, "{\"nummer\": \"G00015\"}", false);
    fake.seq = 99;
    *state = fake_plugin_new("{\"udtraek_page_size\": 3}");
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fake_plugin_free(*state);
    fake_reset();
    return 0;
}

static void check_document(const fake_req *req)
{
    json_t *doc = fake_resp_json(req);
    if (!doc) fail_msg("not JSON: %s", req->out);
    assert_int_equal(json_integer_value(json_object_get(doc, "sekvensnummer")), 99);
    json_t *list = json_object_get(doc, "daginstitutioner");
    assert_int_equal(json_array_size(list), UNITS);
    for (size_t i = 0; i < UNITS; i++) {
        char nummer[7];
        snprintf(nummer, sizeof nummer, "G%05zu", (i + 1) * 10);
        assert_string_equal(json_string_value(json_object_get(json_array_get(list, i), "nummer")),
                            nummer);
    }
    json_decref(doc);
}

static void streams_whole_document(void **state)
{
    (void)state;
    fake_req *req = fake_call("GET", "/v1/udtraek", NULL, NULL);
    /* nothing is sent before the first page is read */
    assert_false(req->streaming);
    assert_int_equal(fake.readers_open, 1);
    size_t rounds = 0;
    while (fake_run_work())
        rounds++;
    assert_int_equal(rounds, 3); /* 7 in pages of 3 */
    assert_int_equal(fake.list_calls, 3);
    assert_int_equal(fake.last_query.nested, 1);
    assert_int_equal(fake.last_query.limit, 3);
    assert_true(req->ended);
    assert_int_equal(req->status, 200);
    assert_string_equal(req->content_type, "application/json");
    check_document(req);
    assert_int_equal(fake.readers_open, 0);
    assert_int_equal(fake.snapshots_open, 0);
    fake_req_free(req);
}

static void empty_register(void **state)
{
    (void)state;
    fake_reset();
    fake.seq = 0;
    void *p = fake_plugin_new(NULL);
    fake_req *req = fake_call("GET", "/v1/udtraek", NULL, NULL);
    while (fake_run_work())
        ;
    assert_true(req->ended);
    assert_string_equal(req->out, "{\"sekvensnummer\":0,\"daginstitutioner\":[]}");
    assert_int_equal(fake.readers_open, 0);
    fake_req_free(req);
    fake_plugin_free(p);
}

static void waits_for_drain(void **state)
{
    (void)state;
    fake.stream_room = 0; /* every write fills the connection */
    fake_req *req = fake_call("GET", "/v1/udtraek", NULL, NULL);
    assert_int_equal(fake_run_work(), 1);
    assert_true(req->streaming);
    /* the first page is written, and no further read is queued */
    assert_int_equal(fake.work_queued, 0);
    assert_int_equal(fake_run_work(), 0);
    assert_int_equal(fake.list_calls, 1);
    fake_drain(req);
    assert_int_equal(fake.work_queued, 1);
    /* a second drain while the page is read queues nothing more */
    fake_drain(req);
    assert_int_equal(fake.work_queued, 1);
    assert_int_equal(fake_run_work(), 1);
    assert_int_equal(fake.list_calls, 2);
    fake_drain(req);
    assert_int_equal(fake_run_work(), 1);
    assert_true(req->ended);
    check_document(req);
    assert_int_equal(fake.snapshots_open, 0);
    assert_int_equal(fake.readers_open, 0);
    fake_req_free(req);
}

static void abort_between_pages(void **state)
{
    (void)state;
    fake.stream_room = 0;
    fake_req *req = fake_call("GET", "/v1/udtraek", NULL, NULL);
    fake_run_work();
    assert_int_equal(fake.snapshots_open, 1);
    assert_int_equal(fake.readers_open, 1);
    fake_abort(req);
    assert_int_equal(fake.snapshots_open, 0);
    assert_int_equal(fake.readers_open, 0);
    assert_false(req->ended);
    fake_req_free(req);
}

static void abort_while_reading(void **state)
{
    (void)state;
    fake_req *req = fake_call("GET", "/v1/udtraek", NULL, NULL);
    fake_run_work(); /* first page written, the second queued */
    assert_int_equal(fake.work_queued, 1);
    fake_abort(req);
    /* the page in flight still owns the reader */
    assert_int_equal(fake.readers_open, 1);
    fake_run_work();
    assert_int_equal(fake.snapshots_open, 0);
    assert_int_equal(fake.readers_open, 0);
    assert_int_equal(fake.work_queued, 0);
    fake_req_free(req);
}

static void unreadable_register(void **state)
{
    (void)state;
    fake.fail_reads = 1;
    fake_req *req = fake_call("GET", "/v1/udtraek", NULL, NULL);
    assert_int_equal(req->status, 503);
    assert_string_equal(fake_problem_code(req), "IKKE_KLAR");
    fake_req_free(req);
    fake.fail_reads = 0;

    /* the first page fails: still a 503, nothing streamed */
    req = fake_call("GET", "/v1/udtraek", NULL, NULL);
    fake.fail_reads = 1;
    fake_run_work();
    assert_false(req->streaming);
    assert_int_equal(req->status, 503);
    assert_int_equal(fake.readers_open, 0);
    assert_int_equal(fake.snapshots_open, 0);
    fake_req_free(req);
    fake.fail_reads = 0;

    /* a later page fails: the document is cut short and the stream ends */
    req = fake_call("GET", "/v1/udtraek", NULL, NULL);
    fake_run_work();
    fake.fail_reads = 1;
    fake_run_work();
    assert_true(req->ended);
    json_t *doc = fake_resp_json(req);
    assert_null(doc);
    assert_non_null(strstr(fake.last_log, "cut short"));
    assert_int_equal(fake.readers_open, 0);
    assert_int_equal(fake.snapshots_open, 0);
    fake_req_free(req);
}

/* A client at limits.max_snapshots_per_client: its next udtræk is 429
 * FOR_MANGE (the host adds Retry-After), before any byte is streamed, and
 * leaves no reader or snapshot behind; the first goes on. */
static void snapshots_per_client(void **state)
{
    (void)state;
    fake.stream_room = 0;
    fake.client_snapshots_max = 1;
    fake_req *a = fake_call("GET", "/v1/udtraek", NULL, NULL);
    fake_run_work();
    assert_true(a->streaming);
    assert_int_equal(fake.readers_for, 1); /* the reader names the client */
    fake_req *b = fake_call("GET", "/v1/udtraek", NULL, NULL);
    fake_run_work();
    assert_false(b->streaming);
    assert_int_equal(b->status, 429);
    assert_string_equal(fake_problem_code(b), "FOR_MANGE");
    assert_int_equal(fake.snapshots_open, 1);
    assert_int_equal(fake.readers_open, 1);
    fake_abort(a);
    assert_int_equal(fake.snapshots_open, 0);
    assert_int_equal(fake.readers_open, 0);
    fake.client_snapshots_max = 0;
    fake_req_free(a);
    fake_req_free(b);
}

static void head_reads_nothing(void **state)
{
    (void)state;
    fake_req *req = fake_call("HEAD", "/v1/udtraek", NULL, NULL);
    assert_true(req->ended);
    assert_int_equal(req->status, 200);
    assert_int_equal(fake.work_queued, 0);
    assert_int_equal(fake.readers_open, 0);
    fake_req_free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(streams_whole_document, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_register, setup, teardown),
        cmocka_unit_test_setup_teardown(waits_for_drain, setup, teardown),
        cmocka_unit_test_setup_teardown(abort_between_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(abort_while_reading, setup, teardown),
        cmocka_unit_test_setup_teardown(unreadable_register, setup, teardown),
        cmocka_unit_test_setup_teardown(head_reads_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(snapshots_per_client, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
