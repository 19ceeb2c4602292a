/*
 * test_statistik_stream.c -- GET /v1/statistik/enheder streamed (JSON and
 * CSV) and GET /v1/statistik/optaelling counted page by page, on the real
 * store (the unilogin tests' store_host.h) with a register of a thousand
 * and more units over two dates: the bytes equal the whole answers as the
 * plugin made them before (built here the old way: every daginstitution
 * of the day, every unit of the day, one document), also when the list
 * ends exactly on a page or is empty; the stream pauses while the client
 * does not take the bytes; a write during the stream does not reach it; a
 * client that leaves releases the snapshot and the reader; a failing read
 * answers 503 before the first byte and cuts the answer short after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "statistik.h"
#include "store_host.h"

extern const dtr_plugin_descriptor dtr_plugin_entry;

#define UNITS_EACH 5
/* 1000 units in effect on PAST: their reads end exactly on a page */
#define DAGINSTITUTIONER (4 * STAT_PAGE / UNITS_EACH)
#define PAST "2025-10-01"
#define LATER "2025-12-01"
#define EMPTY "2020-10-01"

typedef struct world {
    store_host *h;
    sh_numbers num; /* the daginstitutioner's and units' numbers, in the order created */
} world;

/* ---- the register ------------------------------------------------------------------- */

/* Creates n daginstitutioner of UNITS_EACH units each, kommune 101 or
 * 147 and ejerform 1 or 2 by turns. */
static void add_daginstitutioner(world *w, size_t n)
{
    json_t **bodies = calloc(n, sizeof *bodies);
    for (size_t i = 0; i < n; i++) {
        int kommune = (w->num.ndis + i) % 2 ? 147 : 101, ejerform = (w->num.ndis + i) % 3 ? 1 : 2;
        json_t *units = json_array();
        for (size_t k = 0; k < UNITS_EACH; k++)
            json_array_append_new(units,
                                  sh_ae_body(NULL, "Enhed", 6011, kommune, "10000009", NULL));
        bodies[i] = sh_di_body("Klynge", kommune, ejerform, ejerform);
        json_object_set_new(bodies[i], "anvisningsenheder", units);
    }
    sh_create(w->h, bodies, n, &w->num);
    free(bodies);
}

/* Built on 2025-09-01; on 2025-11-01 every third daginstitution changes
 * ownership, the units of every fourth change type, every ninth unit is
 * closed as of 2025-12-01, and 40 daginstitutioner more are made. */
static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    store_host *h = w->h = sh_new("test_statistik_stream", "2025-09-01");
    add_daginstitutioner(w, DAGINSTITUTIONER);
    sh_set_day_and_tick(h, "2025-11-01");
    char out[7];
    for (size_t i = 0; i < w->num.ndis; i += 3)
        sh_must(h, REG_OP_UPDATE, REG_DAGINSTITUTION, w->num.dis[i],
                json_pack("{s:i, s:i}", "ejerformKode", i % 2 ? 1 : 2, "lovgrundlagKode",
                          i % 2 ? 1 : 2),
                out);
    for (size_t i = 0; i < w->num.nunits; i += 4 * UNITS_EACH)
        for (size_t k = 0; k < UNITS_EACH; k++)
            sh_must(h, REG_OP_UPDATE, REG_ANVISNINGSENHED, w->num.units[i + k],
                    json_pack("{s:i}", "instType3", 6010), out);
    for (size_t i = 0; i < w->num.nunits; i += 9)
        sh_must(h, REG_OP_CLOSE, REG_ANVISNINGSENHED, w->num.units[i],
                json_pack("{s:s}", "virkningTil", LATER), out);
    add_daginstitutioner(w, 40);
    char err[256] = "";
    if (sh_load(h, &dtr_plugin_entry, NULL, err, sizeof err) != 0) fail_msg("load: %s", err);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    sh_unload(w->h); /* fails on readers or snapshots left open */
    sh_free(w->h);
    free(w->num.units);
    free(w->num.dis);
    free(w);
    return 0;
}

/* ---- the answers as they were made before -------------------------------------------------- */

/* Every record of a level as of day, one list, in a snapshot held on r. */
static json_t *all_as_of(store_reader *r, reg_level level, const char *day)
{
    json_t *all = json_array();
    char after[7] = "";
    for (;;) {
        store_query q = {
            .level = level, .virkningsdato = day, .after = after[0] ? after : NULL, .limit = 1000};
        json_t *items = NULL;
        char next[7] = "";
        assert_int_equal(store_list(r, &q, &items, next), 0);
        json_array_extend(all, items);
        json_decref(items);
        if (!next[0]) return all;
        memcpy(after, next, sizeof after);
    }
}

static json_t *value_or_null(const json_t *v)
{
    return json_is_integer(v) ? json_incref((json_t *)v) : json_null();
}

/* The key list as of day the way the plugin made it before it streamed:
 * every daginstitution of the day, then every unit of the day with its
 * owner's ejerformKode, in one snapshot; one document (JSON, or CSV). */
static char *whole_enheder(world *w, const char *day, bool csv)
{
    char err[256];
    store_reader *r = store_reader_open(sh_store(w->h), err, sizeof err);
    int64_t seq;
    assert_int_equal(store_snapshot_begin(r, &seq), 0);
    json_t *owners = all_as_of(r, REG_DAGINSTITUTION, day);
    json_t *units = all_as_of(r, REG_ANVISNINGSENHED, day);
    store_snapshot_end(r);
    store_reader_close(r);
    json_t *list = json_array();
    size_t i;
    json_t *unit;
    json_array_foreach(units, i, unit)
    {
        const char *dag = json_string_value(json_object_get(unit, "daginstitutionsNummer"));
        const json_t *ejerform = NULL;
        size_t j;
        json_t *owner;
        json_array_foreach(owners, j, owner)
        {
            if (strcmp(json_string_value(json_object_get(owner, "nummer")), dag) == 0)
                ejerform = json_object_get(owner, "ejerformKode");
        }
        json_array_append_new(
            list, json_pack("{s:O, s:s, s:o, s:o, s:o}", "nummer", json_object_get(unit, "nummer"),
                            "daginstitutionsNummer", dag, "kommuneKode",
                            value_or_null(
                                json_object_get(json_object_get(unit, "adresse"), "kommuneKode")),
                            "instType3", value_or_null(json_object_get(unit, "instType3")),
                            "ejerformKode", value_or_null(ejerform)));
    }
    json_decref(owners);
    json_decref(units);
    char *text;
    if (csv) {
        size_t cap = 256 + 64 * json_array_size(list);
        text = malloc(cap);
        size_t len = (size_t)snprintf(text, cap, "%s", STAT_UNITS_CSV_HEADER);
        json_t *e;
        json_array_foreach(list, i, e)
        {
            char v[3][16];
            const char *keys[3] = {"kommuneKode", "instType3", "ejerformKode"};
            for (int k = 0; k < 3; k++) {
                const json_t *x = json_object_get(e, keys[k]);
                snprintf(v[k], sizeof v[k], json_is_integer(x) ? "%lld" : "",
                         (long long)json_integer_value(x));
            }
            len += (size_t)snprintf(text + len, cap - len, "%s;%s;%s;%s;%s\r\n",
                                    json_string_value(json_object_get(e, "nummer")),
                                    json_string_value(json_object_get(e, "daginstitutionsNummer")),
                                    v[0], v[1], v[2]);
        }
        json_decref(list);
    } else {
        json_t *doc = json_pack("{s:s, s:o}", "dato", day, "enheder", list);
        text = json_dumps(doc, DTR_JSON_WIRE);
        json_decref(doc);
    }
    return text;
}

static size_t key_fields; /* how many of a key's values key_cmp compares */

static int key_cmp(const void *a, const void *b)
{
    const json_int_t *x = a, *y = b;
    for (size_t k = 0; k < key_fields; k++)
        if (x[k] != y[k]) return x[k] < y[k] ? -1 : 1;
    return 0;
}

/* The count as of day grouped by fields, the way the plugin made it
 * before: the units of the day sorted by the fields' values (a missing
 * one first), runs counted. */
static char *whole_count(world *w, const char *day, const char *const *fields, size_t n)
{
    char *text = whole_enheder(w, day, false);
    json_t *list = json_loads(text, 0, NULL);
    free(text);
    const json_t *units = json_object_get(list, "enheder");
    size_t total = json_array_size(units);
    json_int_t(*keys)[3] = calloc(total + 1, sizeof *keys);
    for (size_t i = 0; i < total; i++)
        for (size_t k = 0; k < n; k++) {
            const json_t *v = json_object_get(json_array_get(units, i), fields[k]);
            keys[i][k] = json_is_integer(v) ? json_integer_value(v) : INT64_MIN;
        }
    json_decref(list);
    key_fields = n;
    qsort(keys, total, sizeof *keys, key_cmp);
    json_t *rows = json_array();
    for (size_t i = 0; i < total;) {
        size_t j = i + 1;
        while (j < total && key_cmp(keys[i], keys[j]) == 0)
            j++;
        json_t *row = json_object();
        for (size_t k = 0; k < n; k++)
            json_object_set_new(row, fields[k],
                                keys[i][k] == INT64_MIN ? json_null() : json_integer(keys[i][k]));
        json_object_set_new(row, "antal", json_integer((json_int_t)(j - i)));
        json_array_append_new(rows, row);
        i = j;
    }
    free(keys);
    json_t *doc =
        json_pack("{s:s, s:o, s:I}", "dato", day, "raekker", rows, "total", (json_int_t)total);
    text = json_dumps(doc, DTR_JSON_WIRE);
    json_decref(doc);
    return text;
}

static void assert_body(const sh_response *r, const char *want)
{
    assert_int_equal(r->status, 200);
    assert_int_equal(r->len, strlen(want));
    assert_memory_equal(r->body, want, r->len);
}

/* Streams the key list of day (JSON or CSV) with a high-water mark (0:
 * none) and checks it byte for byte; returns the units. */
static size_t assert_enheder_whole(world *w, const char *day, bool csv, size_t high_water)
{
    char target[96];
    snprintf(target, sizeof target, "/v1/statistik/enheder?dato=%s", day);
    char *want = whole_enheder(w, day, csv);
    sh_set_high_water(w->h, high_water);
    sh_response r =
        sh_call_finish(sh_call_start(w->h, "GET", target, csv ? "text/csv" : NULL, NULL));
    sh_set_high_water(w->h, 0);
    assert_body(&r, want);
    assert_string_equal(r.content_type, csv ? "text/csv; charset=utf-8" : "application/json");
    size_t n = csv ? 0 : json_array_size(json_object_get(r.json, "enheder"));
    if (!csv) assert_non_null(r.json);
    sh_response_clear(&r);
    free(want);
    assert_int_equal(sh_snapshots_open(w->h), 0);
    return n;
}

/* ---- the bytes ------------------------------------------------------------------------------ */

static void test_key_list_bytes_equal_the_whole_answer(void **state)
{
    world *w = *state;
    /* on PAST: 1000 units, the reads end exactly on a page */
    assert_int_equal(assert_enheder_whole(w, PAST, false, 0), 4 * STAT_PAGE);
    assert_int_equal(assert_enheder_whole(w, PAST, false, 16 * 1024), 4 * STAT_PAGE);
    assert_enheder_whole(w, PAST, true, 0);
    assert_enheder_whole(w, PAST, true, 4 * 1024);
    /* on LATER: other versions, owners, fewer units and more, not on a page */
    size_t later = assert_enheder_whole(w, LATER, false, 0);
    assert_true(later > 4 * STAT_PAGE && later % STAT_PAGE != 0);
    assert_enheder_whole(w, LATER, true, 0);
    /* before the register held anything */
    assert_int_equal(assert_enheder_whole(w, EMPTY, false, 0), 0);
    assert_enheder_whole(w, EMPTY, true, 0);
}

static void test_counts_equal_the_whole_count(void **state)
{
    world *w = *state;
    const char *all[] = {"kommuneKode", "instType3", "ejerformKode"};
    const char *two[] = {"ejerformKode", "kommuneKode"};
    const char *days[] = {PAST, LATER, EMPTY};
    for (size_t d = 0; d < 3; d++) {
        char target[128];
        snprintf(target, sizeof target, "/v1/statistik/optaelling?dato=%s", days[d]);
        char *want = whole_count(w, days[d], all, 3);
        sh_response r = sh_get(w->h, target, NULL, NULL);
        assert_body(&r, want);
        sh_response_clear(&r);
        free(want);
        snprintf(target, sizeof target,
                 "/v1/statistik/optaelling?dato=%s&grupper=ejerformKode,kommuneKode", days[d]);
        want = whole_count(w, days[d], two, 2);
        r = sh_get(w->h, target, NULL, NULL);
        assert_body(&r, want);
        sh_response_clear(&r);
        free(want);
    }
}

/* ---- the pace, writes, a client that leaves, failures -------------------------------------------
 */

static void test_a_slow_client_is_not_buffered_for(void **state)
{
    world *w = *state;
    char *want = whole_enheder(w, LATER, true);
    const size_t high_water = 4 * 1024;
    sh_set_high_water(w->h, high_water);
    sh_call *c = sh_call_start(w->h, "GET", "/v1/statistik/enheder?dato=" LATER, "text/csv", NULL);
    sh_call_wait(c);
    assert_true(sh_call_waits(c));
    assert_true(sh_call_sent(c) < strlen(want) / 3);
    size_t pauses = 0;
    while (!sh_call_answered(c)) {
        size_t before = sh_call_sent(c);
        sh_call_take(c, 1024);
        sh_call_wait(c);
        if (!sh_call_answered(c)) assert_true(sh_call_waits(c));
        if (!sh_call_answered(c) && sh_call_sent(c) > before) pauses++;
    }
    assert_int_equal(sh_call_writes_over(c), 0);
    assert_true(pauses >= 3); /* 5 pages: a pause after each but the last */
    sh_set_high_water(w->h, 0);
    sh_response r = sh_call_finish(c);
    assert_body(&r, want);
    sh_response_clear(&r);
    free(want);
}

static void test_a_write_during_the_stream_is_not_in_it(void **state)
{
    world *w = *state;
    store_host *h = w->h;
    char *want = whole_enheder(w, LATER, false);
    sh_set_high_water(h, 8 * 1024);
    sh_call *c = sh_call_start(h, "GET", "/v1/statistik/enheder?dato=" LATER, NULL, NULL);
    sh_call_wait(c);
    assert_true(sh_call_waits(c));
    /* the last daginstitution changes ownership, a new one is made */
    char out[7];
    sh_must(h, REG_OP_UPDATE, REG_DAGINSTITUTION, w->num.dis[w->num.ndis - 1],
            json_pack("{s:i, s:i}", "ejerformKode", 2, "lovgrundlagKode", 2), out);
    add_daginstitutioner(w, 1);
    sh_set_high_water(h, 0);
    sh_response r = sh_call_finish(c);
    assert_body(&r, want);
    sh_response_clear(&r);
    free(want);
    want = whole_enheder(w, LATER, false);
    r = sh_get(h, "/v1/statistik/enheder?dato=" LATER, NULL, NULL);
    assert_body(&r, want); /* the next one has them */
    sh_response_clear(&r);
    free(want);
}

static bool no_work(void *udata)
{
    return sh_work_in_flight(udata) == 0;
}

static void test_a_client_that_leaves_releases_the_snapshot(void **state)
{
    world *w = *state;
    store_host *h = w->h;
    sh_set_high_water(h, 4 * 1024);
    for (int i = 0; i < 10; i++) {
        sh_call *c = sh_call_start(h, "GET", "/v1/statistik/enheder?dato=" PAST, NULL, NULL);
        if (i % 2) { /* while a page is being read */
            sh_call_abort(c);
            sh_run_until(h, no_work, h);
        } else { /* after a few bytes, while the stream waits */
            sh_call_wait(c);
            assert_true(sh_call_waits(c));
            assert_int_equal(sh_snapshots_open(h), 1);
            sh_call_take(c, 50);
            sh_call_abort(c);
        }
        assert_int_equal(sh_snapshots_open(h), 0);
        sh_call_free(c);
    }
    assert_true(sh_readers_open(h) <= 1);
    sh_set_high_water(h, 0);
    assert_int_equal(assert_enheder_whole(w, PAST, false, 0), 4 * STAT_PAGE);
}

static void test_a_failing_read_before_and_after_the_head(void **state)
{
    world *w = *state;
    store_host *h = w->h;
    sh_fail_reads_after(h, 0);
    sh_response r = sh_get(h, "/v1/statistik/enheder?dato=" PAST, "text/csv", NULL);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.content_type, "application/problem+json");
    assert_string_equal(sh_problem_kode(&r), "IKKE_KLAR");
    sh_response_clear(&r);
    r = sh_get(h, "/v1/statistik/optaelling?dato=" PAST, NULL, NULL);
    assert_int_equal(r.status, 503);
    sh_response_clear(&r);
    assert_int_equal(sh_snapshots_open(h), 0);
    /* the first page and its owners, then the second page's read fails:
     * the JSON stays cut short */
    char *want = whole_enheder(w, PAST, false);
    sh_fail_reads_after(h, 1 + STAT_PAGE / UNITS_EACH);
    r = sh_get(h, "/v1/statistik/enheder?dato=" PAST, NULL, NULL);
    sh_fail_reads_after(h, -1);
    assert_int_equal(r.status, 200);
    assert_true(r.len > 0 && r.len < strlen(want));
    assert_memory_equal(r.body, want, r.len);
    assert_null(r.json);
    sh_response_clear(&r);
    free(want);
    assert_int_equal(sh_snapshots_open(h), 0);
    r = sh_call_finish(sh_call_start(h, "HEAD", "/v1/statistik/enheder", "text/csv", NULL));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/csv; charset=utf-8");
    assert_int_equal(r.len, 0);
    sh_response_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_list_bytes_equal_the_whole_answer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_counts_equal_the_whole_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_slow_client_is_not_buffered_for, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_write_during_the_stream_is_not_in_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_client_that_leaves_releases_the_snapshot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_failing_read_before_and_after_the_head, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
