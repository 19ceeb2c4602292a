/*
 * test_rest_cache.c -- the answer cache of GET /v1/<collection>/{nummer}
 * over the fake host: a second GET of an unchanged record reads nothing but
 * the newest sekvensnummer; a hændelse drops the record's own answer, its
 * parent's and grandparent's (whose documents nest it), and a new or
 * moved-in child's parent; a jump too long to replay, an unreadable store,
 * a virkningsdato, a tiny budget and cache_bytes 0 all fall back to reading.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "fake_host.h"
#include "rest.h"

#define DI DTR_LEVEL_DAGINSTITUTION
#define AE DTR_LEVEL_ANVISNINGSENHED
#define AA DTR_LEVEL_ALTERNATIV_ADRESSE

/* G00001 (daginstitution) > G00002 (anvisningsenhed) > G00003 (alternativ
 * adresse); G00004 another daginstitution, empty. */
static void put_tree(const char *di_navn, int version)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"nummer\": \"G00001\", \"navn\": \"%s\", \"version\": %d, \"anvisningsenheder\": "
             "[{\"nummer\": \"G00002\", \"daginstitutionsNummer\": \"G00001\", "
             "\"alternativeAdresser\": [{\"nummer\": \"G00003\", \"anvisningsenhedsNummer\": "
             "\"G00002\"}]}]}",
             di_navn, version);
    fake_put("G00001", DI, json, false);
    fake_put("G00002", AE,
             "{\"nummer\": \"G00002\", \"daginstitutionsNummer\": \"G00001\", \"version\": 1, "
             "\"alternativeAdresser\": [{\"nummer\": \"G00003\"}]}",
             false);
    fake_put("G00003", AA,
             "{\"nummer\": \"G00003\", \"anvisningsenhedsNummer\": \"G00002\", \"version\": 1}",
             false);
    fake_put("G00004", DI, "{\"nummer\": \"G00004\", \"version\": 1, \"anvisningsenheder\": []}",
             false);
}

static int setup(void **state)
{
    fake_reset();
    put_tree("Solsikken", 1);
    *state = fake_plugin_new(NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fake_plugin_free(*state);
    fake_reset();
    return 0;
}

/* GETs target; returns how many read_get calls it took. */
static size_t reads_of(const char *target, int status)
{
    size_t before = fake.get_calls;
    fake_req *req = fake_call("GET", target, NULL, NULL);
    if (req->status != status)
        fail_msg("GET %s: %d, expected %d (%s)", target, req->status, status, req->out);
    fake_req_free(req);
    return fake.get_calls - before;
}

static const char *navn_of(const char *target)
{
    static char navn[64];
    fake_req *req = fake_call("GET", target, NULL, NULL);
    json_t *doc = fake_resp_json(req);
    snprintf(navn, sizeof navn, "%s", json_string_value(json_object_get(doc, "navn")));
    json_decref(doc);
    fake_req_free(req);
    return navn;
}

static void hit_after_miss(void **state)
{
    (void)state;
    assert_int_equal(reads_of("/v1/daginstitutioner/G00001", 200), 1);
    assert_int_equal(reads_of("/v1/daginstitutioner/G00001", 200), 0);
    /* the cached answer is the same as the read one, ETag included */
    fake_req *req = fake_call("GET", "/v1/daginstitutioner/G00001", NULL, NULL);
    assert_string_equal(fake_resp_header(req, "ETag"), "\"1\"");
    json_t *doc = fake_resp_json(req);
    assert_string_equal(json_string_value(json_object_get(doc, "navn")), "Solsikken");
    json_decref(doc);
    fake_req_free(req);
    const char *inm[] = {"If-None-Match: \"1\"", NULL};
    req = fake_call("GET", "/v1/daginstitutioner/G00001", NULL, inm);
    assert_int_equal(req->status, 304);
    fake_req_free(req);
    /* another collection's route: 404 from the cache too */
    assert_int_equal(reads_of("/v1/anvisningsenheder/G00001", 404), 0);
    /* unknown and deleted numbers are never cached */
    fake_put("G00009", DI, "{}", true);
    assert_int_equal(reads_of("/v1/daginstitutioner/G00009", 410), 1);
    assert_int_equal(reads_of("/v1/daginstitutioner/G00009", 410), 1);
    assert_int_equal(reads_of("/v1/daginstitutioner/G00099", 404), 1);
    /* as of a day: always read */
    assert_int_equal(reads_of("/v1/daginstitutioner/G00001?virkningsdato=2025-01-01", 200), 1);
    assert_int_equal(reads_of("/v1/daginstitutioner/G00001?virkningsdato=2025-01-01", 200), 1);
}

static void own_change_drops(void **state)
{
    (void)state;
    assert_string_equal(navn_of("/v1/daginstitutioner/G00001"), "Solsikken");
    put_tree("Månen", 2);
    /* not yet committed as far as the feed says: still the cached answer */
    assert_string_equal(navn_of("/v1/daginstitutioner/G00001"), "Solsikken");
    fake_event("G00001", "{\"nummer\": \"G00001\"}");
    assert_string_equal(navn_of("/v1/daginstitutioner/G00001"), "Månen");
    assert_int_equal(reads_of("/v1/daginstitutioner/G00001", 200), 0);
}

static void nested_changes_drop_holders(void **state)
{
    (void)state;
    static const char *const all[] = {"/v1/daginstitutioner/G00001", "/v1/anvisningsenheder/G00002",
                                      "/v1/alternative-adresser/G00003",
                                      "/v1/daginstitutioner/G00004"};
    for (size_t i = 0; i < 4; i++)
        reads_of(all[i], 200);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(reads_of(all[i], 200), 0);

    /* a change of the alternativ adresse: it, its anvisningsenhed and the
     * daginstitution above (both nest it) are read again; G00004 is not */
    fake_event("G00003", "{\"anvisningsenhedsNummer\": \"G00002\"}");
    assert_int_equal(reads_of(all[0], 200), 1);
    assert_int_equal(reads_of(all[1], 200), 1);
    assert_int_equal(reads_of(all[2], 200), 1);
    assert_int_equal(reads_of(all[3], 200), 0);

    /* a new child of G00004 changes G00004's document */
    fake_event("G00010", "{\"daginstitutionsNummer\": \"G00004\"}");
    assert_int_equal(reads_of(all[3], 200), 1);
    assert_int_equal(reads_of(all[0], 200), 0);

    /* G00002 moves from G00001 to G00004: both daginstitutioner change */
    fake_event("G00002", "{\"daginstitutionsNummer\": \"G00004\"}");
    assert_int_equal(reads_of(all[0], 200), 1);
    assert_int_equal(reads_of(all[1], 200), 1);
    assert_int_equal(reads_of(all[3], 200), 1);
    /* the alternativ adresse itself did not change */
    assert_int_equal(reads_of(all[2], 200), 0);
}

static void long_jumps_and_failures(void **state)
{
    (void)state;
    reads_of("/v1/daginstitutioner/G00001", 200);
    /* more hændelser than a sync replays: everything is read again */
    fake.seq += 5000;
    assert_int_equal(reads_of("/v1/daginstitutioner/G00001", 200), 1);
    assert_int_equal(reads_of("/v1/daginstitutioner/G00001", 200), 0);
    /* hændelser without data (as the fake answers unknown ones) drop nothing */
    fake.seq += 3;
    assert_int_equal(reads_of("/v1/daginstitutioner/G00001", 200), 0);
    /* the store cannot be read: no cache, an honest 503 */
    fake.fail_reads = 1;
    fake_req *req = fake_call("GET", "/v1/daginstitutioner/G00001", NULL, NULL);
    assert_int_equal(req->status, 503);
    fake_req_free(req);
}

static void tiny_budget_and_off(void **state)
{
    fake_plugin_free(*state);
    /* room for one answer: the second empties the cache first */
    *state = fake_plugin_new("{\"cache_bytes\": 150}");
    assert_non_null(*state);
    reads_of("/v1/anvisningsenheder/G00002", 200);
    assert_int_equal(reads_of("/v1/anvisningsenheder/G00002", 200), 0);
    reads_of("/v1/alternative-adresser/G00003", 200);
    assert_int_equal(reads_of("/v1/alternative-adresser/G00003", 200), 0);
    assert_int_equal(reads_of("/v1/anvisningsenheder/G00002", 200), 1);
    rest_cache_stats st;
    rest_cache_stats_get(((rest *)*state)->cache, &st);
    assert_true(st.clears >= 1);
    assert_true(st.bytes <= 150);
    fake_plugin_free(*state);

    *state = fake_plugin_new("{\"cache_bytes\": 0}");
    assert_null(((rest *)*state)->cache);
    size_t latest = fake.latest_calls;
    assert_int_equal(reads_of("/v1/daginstitutioner/G00001", 200), 1);
    assert_int_equal(reads_of("/v1/daginstitutioner/G00001", 200), 1);
    assert_int_equal(fake.latest_calls, latest);
    assert_null(fake_plugin_new("{\"cache_bytes\": -1}"));
}

static void many_entries(void **state)
{
    (void)state;
    /* more entries than the first table has buckets: it grows */
    for (int i = 100; i < 9100; i++) {
        char nummer[7], json[64];
        snprintf(nummer, sizeof nummer, "H%05d", i);
        snprintf(json, sizeof json, "{\"nummer\": \"%s\", \"version\": 1}", nummer);
        fake_put(nummer, AA, json, false);
    }
    for (int round = 0; round < 2; round++) {
        size_t before = fake.get_calls;
        for (int i = 100; i < 9100; i++) {
            char target[64];
            snprintf(target, sizeof target, "/v1/alternative-adresser/H%05d", i);
            fake_req *req = fake_call("GET", target, NULL, NULL);
            assert_int_equal(req->status, 200);
            fake_req_free(req);
        }
        assert_int_equal(fake.get_calls - before, round == 0 ? 9000 : 0);
    }
    rest_cache_stats st;
    rest_cache_stats_get(((rest *)*state)->cache, &st);
    assert_int_equal(st.entries, 9000);
    assert_int_equal(st.hits, 9000);
}

static void memo_within_an_iteration(void **state)
{
    rest *r = *state;
    fake_client_add("Basic czpz", "support", "support");
    rest_cache_memo(r->cache, true);
    size_t before = fake.latest_calls;
    assert_int_equal(reads_of("/v1/daginstitutioner/G00001", 200), 1); /* sync, miss, read */
    assert_int_equal(reads_of("/v1/daginstitutioner/G00001", 200), 0); /* the read marked stale */
    assert_int_equal(reads_of("/v1/daginstitutioner/G00001", 200), 0); /* the same iteration */
    assert_int_equal(reads_of("/v1/daginstitutioner/G00004", 200), 1);
    assert_int_equal(fake.latest_calls - before, 2);

    /* a change committed meanwhile shows once the iteration ends */
    navn_of("/v1/daginstitutioner/G00001"); /* synced in this iteration */
    put_tree("Månen", 2);
    fake_event("G00001", "{}");
    assert_string_equal(navn_of("/v1/daginstitutioner/G00001"), "Solsikken");
    rest_cache_stale(r->cache);
    assert_string_equal(navn_of("/v1/daginstitutioner/G00001"), "Månen");

    /* a write this plugin answers shows at once */
    navn_of("/v1/daginstitutioner/G00001");
    const char *headers[] = {"Authorization: Basic czpz", "Content-Type: application/json", NULL};
    fake_req *w =
        fake_call("PATCH", "/v1/daginstitutioner/G00001", "{\"navn\": \"Stjernen\"}", headers);
    put_tree("Stjernen", 3);
    fake_event("G00001", "{}");
    dtr_command_result res = {.status = DTR_OK, .nummer = "G00001", .version = 3};
    fake_command_finish(&res);
    assert_int_equal(w->status, 200);
    fake_req_free(w);
    assert_string_equal(navn_of("/v1/daginstitutioner/G00001"), "Stjernen");

    /* so do hændelser a client reads */
    navn_of("/v1/daginstitutioner/G00001");
    put_tree("Kometen", 4);
    fake_event("G00001", "{}");
    fake_req_free(fake_call("GET", "/v1/haendelser/seneste", NULL, NULL));
    assert_string_equal(navn_of("/v1/daginstitutioner/G00001"), "Kometen");
    rest_cache_stats st;
    rest_cache_stats_get(r->cache, &st);
    assert_true(st.memo_hits >= 3);
}

static void never(uv_timer_t *t)
{
    (void)t;
}

static void iterations_from_the_loop(void **state)
{
    rest *r = *state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    /* something that keeps the loop alive, as the server's listener does */
    uv_timer_t keepalive;
    uv_timer_init(&loop, &keepalive);
    uv_timer_start(&keepalive, never, 3600000, 0);
    fake.loop = &loop;
    char err[128];
    assert_int_equal(dtr_plugin_entry.start(r, err, sizeof err), DTR_OK);
    assert_non_null(r->check);
    navn_of("/v1/daginstitutioner/G00001");
    navn_of("/v1/daginstitutioner/G00001");
    put_tree("Månen", 2);
    fake_event("G00001", "{}");
    assert_string_equal(navn_of("/v1/daginstitutioner/G00001"), "Solsikken");
    /* one loop iteration: the check handle ends it */
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_string_equal(navn_of("/v1/daginstitutioner/G00001"), "Månen");
    /* stopped: every GET syncs, and the handle is closed */
    dtr_plugin_entry.stop(r);
    assert_null(r->check);
    put_tree("Stjernen", 3);
    fake_event("G00001", "{}");
    assert_string_equal(navn_of("/v1/daginstitutioner/G00001"), "Stjernen");
    uv_close((uv_handle_t *)&keepalive, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&loop), 0);
    fake.loop = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hit_after_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(own_change_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(nested_changes_drop_holders, setup, teardown),
        cmocka_unit_test_setup_teardown(long_jumps_and_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(tiny_budget_and_off, setup, teardown),
        cmocka_unit_test_setup_teardown(many_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(memo_within_an_iteration, setup, teardown),
        cmocka_unit_test_setup_teardown(iterations_from_the_loop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
