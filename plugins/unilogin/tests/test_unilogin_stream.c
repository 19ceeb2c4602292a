/*
 * test_unilogin_stream.c -- GET /v1/unilogin/institutioner streamed, on the
 * real store (store_host.h) with a register of a few thousand units: the
 * bytes equal the whole document as the plugin made it before it streamed
 * (built here the old way: one read of the units with their adresser
 * nested, sorted, dumped in one piece), also when the list ends exactly on
 * a page; it pauses while the client does not take the bytes; a write
 * during the stream does not reach it; a client that leaves mid-stream
 * releases the snapshot and the reader; a failing read answers 503 before
 * the first byte and cuts the document short after it; HEAD.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_host.h"
#include "unilogin.h"

extern const dtr_plugin_descriptor dtr_plugin_entry;

#define LIST "/v1/unilogin/institutioner"
#define UNITS_EACH 5
/* 2000 units, all listed: the units' reads and the rows end exactly on a
 * page (UNI_STREAM_PAGE) */
#define DAGINSTITUTIONER (8 * UNI_STREAM_PAGE / UNITS_EACH)

typedef struct world {
    store_host *h;
    sh_numbers num; /* the daginstitutioner's and units' numbers, in the order created */
} world;

/* ---- the register ------------------------------------------------------------------- */

/* A P-nummer of ten digits, one per i. */
static const char *pnr(size_t i, char out[11])
{
    snprintf(out, 11, "%010zu", 2000000000u + i);
    return out;
}

/* Creates n daginstitutioner of UNITS_EACH listed units each (kommune
 * 101), all queued at once; appends their numbers to w->num. */
static void add_daginstitutioner(world *w, size_t n)
{
    json_t **bodies = calloc(n, sizeof *bodies);
    for (size_t i = 0; i < n; i++) {
        json_t *units = json_array();
        for (size_t k = 0; k < UNITS_EACH; k++) {
            char p[11], navn[32];
            snprintf(navn, sizeof navn, "Enhed %zu", w->num.nunits + i * UNITS_EACH + k);
            json_array_append_new(units,
                                  sh_ae_body(NULL, navn, k % 2 ? 6011 : 6012, 101, "10000009",
                                             pnr(w->num.nunits + i * UNITS_EACH + k, p)));
        }
        bodies[i] = sh_di_body("Klynge", 101, 1, 1);
        json_object_set_new(bodies[i], "anvisningsenheder", units);
    }
    sh_create(w->h, bodies, n, &w->num);
    free(bodies);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    w->h = sh_new("test_unilogin_stream", "2026-03-10");
    add_daginstitutioner(w, DAGINSTITUTIONER);
    char err[256] = "";
    /* the routes alone: the consumer's batches would take snapshots of
     * their own beside the stream's, which these tests count */
    sh_feed_off(w->h);
    if (sh_load(w->h, &dtr_plugin_entry, NULL, err, sizeof err) != 0) fail_msg("load: %s", err);
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

/* ---- the document as it was made before it streamed ------------------------------------- */

static int by_institutionsnummer(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "institutionsnummer"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "institutionsnummer"));
    return strcmp(x, y);
}

/* The whole list as one document, the way the plugin built it before it
 * streamed: every unit in effect today with its adresser nested, one
 * snapshot, the rows sorted, one json_dumps. *seq gets the snapshot's. */
static char *whole_document(world *w, int64_t *seq)
{
    char err[256];
    store_reader *r = store_reader_open(sh_store(w->h), err, sizeof err);
    assert_non_null(r);
    assert_int_equal(store_snapshot_begin(r, seq), 0);
    json_t *rows = json_array();
    char after[7] = "";
    for (;;) {
        store_query q = {.level = REG_ANVISNINGSENHED,
                         .status = "aktiv",
                         .after = after[0] ? after : NULL,
                         .limit = 1000,
                         .flags = STORE_NESTED};
        json_t *items = NULL;
        char next[7] = "";
        assert_int_equal(store_list(r, &q, &items, next), 0);
        size_t i, j;
        json_t *unit, *alt;
        json_array_foreach(items, i, unit)
        {
            if (uni_listed_now(unit))
                json_array_append_new(rows, uni_row(unit, DTR_LEVEL_ANVISNINGSENHED, unit));
            json_array_foreach(json_object_get(unit, "alternativeAdresser"), j, alt)
            {
                if (uni_listed_now(alt))
                    json_array_append_new(rows, uni_row(alt, DTR_LEVEL_ALTERNATIV_ADRESSE, unit));
            }
        }
        json_decref(items);
        if (!next[0]) break;
        memcpy(after, next, sizeof after);
    }
    store_snapshot_end(r);
    store_reader_close(r);
    size_t n = json_array_size(rows);
    json_t **v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(rows, i));
    qsort(v, n, sizeof *v, by_institutionsnummer);
    json_array_clear(rows);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, v[i]);
    free(v);
    json_t *doc = json_pack("{s:I, s:o}", "sekvensnummer", (json_int_t)*seq, "institutioner", rows);
    char *text = json_dumps(doc, DTR_JSON_WIRE);
    json_decref(doc);
    return text;
}

/* Streams the list (with the given high-water mark; 0: none) and checks
 * that its bytes are exactly the whole document's. Returns the rows. */
static size_t assert_stream_is_whole(world *w, size_t high_water)
{
    int64_t seq;
    char *want = whole_document(w, &seq);
    sh_set_high_water(w->h, high_water);
    sh_response r = sh_call_finish(sh_call_start(w->h, "GET", LIST, NULL, NULL));
    sh_set_high_water(w->h, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/json");
    assert_int_equal(r.len, strlen(want));
    assert_memory_equal(r.body, want, r.len);
    assert_non_null(r.json);
    size_t rows = json_array_size(json_object_get(r.json, "institutioner"));
    sh_response_clear(&r);
    free(want);
    assert_int_equal(sh_snapshots_open(w->h), 0);
    return rows;
}

/* ---- the bytes ---------------------------------------------------------------------------- */

static void test_bytes_equal_the_whole_document(void **state)
{
    world *w = *state;
    /* the units' reads and the rows end exactly on a page */
    assert_int_equal(assert_stream_is_whole(w, 0), 8 * UNI_STREAM_PAGE);
    assert_int_equal(assert_stream_is_whole(w, 16 * 1024), 8 * UNI_STREAM_PAGE);

    store_host *h = w->h;
    char out[7], p[11];
    /* alternative adresser: listed ones on every 7th unit, one without a
     * P-nummer, one on a unit that then loses its own (the unit leaves
     * the list, the adresse stays on it) */
    size_t nalts = 0;
    json_t *bodies[400], *alts[400];
    for (size_t i = 0; i < w->num.nunits; i += 7)
        bodies[nalts++] = sh_aa_body(w->num.units[i], "Filial", 101, "10000009", pnr(5000 + i, p));
    bodies[nalts++] = sh_aa_body(w->num.units[3], "Uden P", 101, "10000009", NULL);
    bodies[nalts++] =
        sh_aa_body(w->num.units[10], "Filial af en uden P", 101, "10000009", pnr(9000, p));
    sh_run_many(h, REG_OP_CREATE, REG_ALTERNATIV_ADRESSE, bodies, nalts, alts);
    sh_must(h, REG_OP_UPDATE, REG_ANVISNINGSENHED, w->num.units[10], json_pack("{s:n}", "pNummer"),
            out);
    /* more units after the adresser, so that numbers interleave */
    size_t first_late = w->num.nunits;
    add_daginstitutioner(w, 40);
    /* an early adresse moved to a late unit (it now sorts far before its
     * unit), one deleted; a unit in effect since last year closed today,
     * a unit deleted; a unit in effect from next month, with an adresse of
     * its own */
    const char *moved = json_string_value(json_object_get(alts[1], "nummer"));
    sh_must(h, REG_OP_MOVE, REG_ALTERNATIV_ADRESSE, moved,
            json_pack("{s:s}", "anvisningsenhedsNummer", w->num.units[first_late + 3]), out);
    sh_must(h, REG_OP_DELETE, REG_ALTERNATIV_ADRESSE,
            json_string_value(json_object_get(alts[2], "nummer")), NULL, out);
    json_t *old = sh_ae_body(w->num.dis[2], "Gammel", 6011, 101, "10000009", pnr(9003, p));
    json_object_set_new(old, "virkningFra", json_string("2025-01-01"));
    char old_unit[7];
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, old, old_unit);
    sh_must(h, REG_OP_CLOSE, REG_ANVISNINGSENHED, old_unit,
            json_pack("{s:s}", "virkningTil", "2026-03-10"), out);
    sh_must(h, REG_OP_DELETE, REG_ANVISNINGSENHED, w->num.units[first_late + 7], NULL, out);
    json_t *later = sh_ae_body(w->num.dis[3], "Kommende", 6011, 101, "10000009", pnr(9001, p));
    json_object_set_new(later, "virkningFra", json_string("2026-04-01"));
    char later_unit[7];
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL, later, later_unit);
    json_t *later_alt = sh_aa_body(later_unit, "Kommende filial", 101, "10000009", pnr(9002, p));
    json_object_set_new(later_alt, "virkningFra", json_string("2026-04-01"));
    sh_must(h, REG_OP_CREATE, REG_ALTERNATIV_ADRESSE, NULL, later_alt, out);
    for (size_t i = 0; i < nalts; i++)
        json_decref(alts[i]);

    size_t rows = assert_stream_is_whole(w, 0);
    assert_int_equal(assert_stream_is_whole(w, 8 * 1024), rows);
    /* one more unit: the list ends one row into a page */
    for (size_t n = rows; n % UNI_STREAM_PAGE != 1; n++) {
        char navn[32];
        snprintf(navn, sizeof navn, "Ekstra %zu", n);
        sh_must(
            h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL,
            sh_ae_body(w->num.dis[n % w->num.ndis], navn, 6011, 101, "10000009", pnr(10000 + n, p)),
            out);
    }
    assert_int_equal(assert_stream_is_whole(w, 0) % UNI_STREAM_PAGE, 1);
}

/* ---- the pace -------------------------------------------------------------------------- */

static void test_a_slow_client_is_not_buffered_for(void **state)
{
    world *w = *state;
    int64_t seq;
    char *want = whole_document(w, &seq);
    size_t total = strlen(want);
    const size_t high_water = 32 * 1024;
    sh_set_high_water(w->h, high_water);
    sh_call *c = sh_call_start(w->h, "GET", LIST, NULL, NULL);
    sh_call_wait(c);
    /* the first piece went out and the stream waits for the client, with
     * nothing read ahead */
    assert_false(sh_call_answered(c));
    assert_true(sh_call_waits(c));
    assert_true(sh_call_sent(c) >= high_water);
    assert_true(sh_call_sent(c) < total / 4);
    size_t first = sh_call_sent(c), pauses = 1;
    /* the client takes 8 KiB at a time: each time the stream has stopped
     * again, and never wrote while told to wait */
    while (!sh_call_answered(c)) {
        size_t before = sh_call_sent(c);
        sh_call_take(c, 8 * 1024);
        sh_call_wait(c);
        if (sh_call_answered(c)) break;
        assert_true(sh_call_waits(c));
        assert_true(sh_call_unsent(c) < high_water + 2 * first);
        if (sh_call_sent(c) > before) pauses++;
    }
    assert_int_equal(sh_call_writes_over(c), 0);
    /* it paused after every piece but the last (8 pieces of rows) */
    assert_true(pauses >= 7);
    sh_set_high_water(w->h, 0);
    sh_response r = sh_call_finish(c);
    assert_int_equal(r.len, total);
    assert_memory_equal(r.body, want, total);
    sh_response_clear(&r);
    free(want);
}

static void test_a_write_during_the_stream_is_not_in_it(void **state)
{
    world *w = *state;
    int64_t seq;
    char *want = whole_document(w, &seq);
    sh_set_high_water(w->h, 16 * 1024);
    sh_call *c = sh_call_start(w->h, "GET", LIST, NULL, NULL);
    sh_call_wait(c);
    assert_true(sh_call_waits(c));
    /* changes to rows not yet sent: the last unit renamed, one near the
     * end loses its P-nummer, a new listed unit (the highest number) */
    store_host *h = w->h;
    char out[7], p[11];
    sh_must(h, REG_OP_UPDATE, REG_ANVISNINGSENHED, w->num.units[w->num.nunits - 1],
            json_pack("{s:s}", "navn", "Omdøbt"), out);
    sh_must(h, REG_OP_UPDATE, REG_ANVISNINGSENHED, w->num.units[w->num.nunits - 3],
            json_pack("{s:n}", "pNummer"), out);
    char added[7];
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL,
            sh_ae_body(w->num.dis[0], "Ny", 6011, 101, "10000009", pnr(20000, p)), added);
    sh_set_high_water(h, 0);
    sh_response r = sh_call_finish(c);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, strlen(want));
    assert_memory_equal(r.body, want, r.len);
    assert_int_equal(json_integer_value(json_object_get(r.json, "sekvensnummer")), seq);
    sh_response_clear(&r);
    free(want);
    /* the next list has them all */
    r = sh_get(h, LIST, NULL, NULL);
    assert_non_null(strstr(r.body, "Omdøbt"));
    assert_non_null(strstr(r.body, added));
    assert_true(json_integer_value(json_object_get(r.json, "sekvensnummer")) == seq + 3);
    sh_response_clear(&r);
}

static bool no_work(void *udata)
{
    return sh_work_in_flight(udata) == 0;
}

/* ---- a client that leaves ------------------------------------------------------------------- */

static void test_a_client_that_leaves_releases_the_snapshot(void **state)
{
    world *w = *state;
    store_host *h = w->h;
    sh_set_high_water(h, 16 * 1024);
    long readers = sh_readers_open(h);
    /* it reads a few bytes and closes, while the stream waits */
    sh_call *c = sh_call_start(h, "GET", LIST, NULL, NULL);
    sh_call_wait(c);
    assert_true(sh_call_waits(c));
    assert_int_equal(sh_snapshots_open(h), 1);
    assert_int_equal(sh_call_take(c, 100), 100);
    sh_call_abort(c);
    assert_int_equal(sh_snapshots_open(h), 0);
    sh_call_free(c);
    /* it closes while a piece is being made */
    c = sh_call_start(h, "GET", LIST, NULL, NULL);
    assert_int_equal(sh_work_in_flight(h), 1);
    sh_call_abort(c);
    assert_int_equal(sh_work_in_flight(h), 1); /* the stream ends when the piece is back */
    sh_run_until(h, no_work, h);
    assert_int_equal(sh_snapshots_open(h), 0);
    sh_call_free(c);
    /* again and again: the readers go back, none is opened for good */
    for (int i = 0; i < 12; i++) {
        c = sh_call_start(h, "GET", LIST, NULL, NULL);
        sh_call_wait(c);
        sh_call_take(c, 10);
        sh_call_abort(c);
        sh_call_free(c);
    }
    assert_int_equal(sh_snapshots_open(h), 0);
    assert_true(sh_readers_open(h) <= (readers > 1 ? readers : 1));
    sh_set_high_water(h, 0);
    /* and the list is still served whole */
    assert_int_equal(assert_stream_is_whole(w, 0), 8 * UNI_STREAM_PAGE);
}

/* ---- failures and HEAD ----------------------------------------------------------------------- */

static void test_a_failing_read_before_and_after_the_head(void **state)
{
    world *w = *state;
    store_host *h = w->h;
    int64_t seq;
    char *want = whole_document(w, &seq);
    /* before the first byte: 503 problem+json */
    sh_fail_reads_after(h, 0);
    sh_response r = sh_get(h, LIST, NULL, NULL);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.content_type, "application/problem+json");
    assert_string_equal(sh_problem_kode(&r), "IKKE_KLAR");
    sh_response_clear(&r);
    assert_int_equal(sh_snapshots_open(h), 0);
    /* after the head (the first piece takes the units' first page and
     * the adresser's only one): the document is cut short, never a
     * shorter valid list */
    sh_fail_reads_after(h, 3);
    r = sh_get(h, LIST, NULL, NULL);
    sh_fail_reads_after(h, -1);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/json");
    assert_true(r.len > 0 && r.len < strlen(want));
    assert_memory_equal(r.body, want, r.len);
    assert_null(r.json);
    sh_response_clear(&r);
    assert_int_equal(sh_snapshots_open(h), 0);
    free(want);
}

static void test_head(void **state)
{
    world *w = *state;
    sh_response r = sh_call_finish(sh_call_start(w->h, "HEAD", LIST, NULL, NULL));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/json");
    assert_int_equal(r.len, 0);
    sh_response_clear(&r);
    assert_int_equal(sh_snapshots_open(w->h), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bytes_equal_the_whole_document, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_slow_client_is_not_buffered_for, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_write_during_the_stream_is_not_in_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_client_that_leaves_releases_the_snapshot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_failing_read_before_and_after_the_head, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_head, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
