/*
 * test_statistik.c -- the statistik plugin: its parameters (days, the
 * default 1 October in Copenhagen time, grouping), and its counts against
 * the real store (store_host.h): a past date after later changes counts
 * each unit in the version then, with its daginstitution's ownership then;
 * grouping, CSV, the key list, bad parameters and access.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "statistik.h"
#include "store_host.h"

extern const dtr_plugin_descriptor dtr_plugin_entry;

/* ---- parameters ------------------------------------------------------------------- */

static void test_valid_days(void **state)
{
    (void)state;
    assert_true(stat_valid_day("2025-10-01"));
    assert_true(stat_valid_day("2024-02-29"));
    assert_true(stat_valid_day("2000-02-29"));
    assert_false(stat_valid_day("1900-02-29"));
    assert_false(stat_valid_day("2025-02-29"));
    assert_false(stat_valid_day("2025-04-31"));
    assert_false(stat_valid_day("2025-13-01"));
    assert_false(stat_valid_day("2025-00-10"));
    assert_false(stat_valid_day("2025-1-01"));
    assert_false(stat_valid_day("2025-10-01x"));
    assert_false(stat_valid_day("i går"));
    assert_false(stat_valid_day(""));
    assert_false(stat_valid_day(NULL));
}

static time_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return timegm(&tm);
}

static void test_default_day_is_the_latest_1_october_in_copenhagen(void **state)
{
    (void)state;
    char day[11];
    /* 30 Sept 23:59 CEST is still September */
    stat_default_day(utc(2026, 9, 30, 21, 59), day);
    assert_string_equal(day, "2025-10-01");
    /* 1 Oct 00:00 CEST (22:00 UTC the day before) is October */
    stat_default_day(utc(2026, 9, 30, 22, 0), day);
    assert_string_equal(day, "2026-10-01");
    stat_default_day(utc(2026, 10, 1, 12, 0), day);
    assert_string_equal(day, "2026-10-01");
    /* New Year's Eve 23:30 UTC is 1 January in Copenhagen (CET): still the
     * 1 October of the year before */
    stat_default_day(utc(2026, 12, 31, 23, 30), day);
    assert_string_equal(day, "2026-10-01");
    stat_default_day(utc(2027, 3, 15, 8, 0), day);
    assert_string_equal(day, "2026-10-01");
}

static void test_groups(void **state)
{
    (void)state;
    stat_field f[STAT_NFIELDS];
    assert_int_equal(stat_parse_groups("kommuneKode,instType3,ejerformKode", f), 3);
    assert_int_equal(f[0], STAT_KOMMUNE);
    assert_int_equal(f[2], STAT_EJERFORM);
    assert_int_equal(stat_parse_groups("ejerformKode,kommuneKode", f), 2);
    assert_int_equal(f[0], STAT_EJERFORM);
    assert_int_equal(f[1], STAT_KOMMUNE);
    assert_int_equal(stat_parse_groups("", f), 0);
    assert_int_equal(stat_parse_groups("navn", f), -1);
    assert_int_equal(stat_parse_groups("kommuneKode,kommuneKode", f), -1);
    assert_int_equal(stat_parse_groups("kommuneKode,", f), -1);
    assert_int_equal(stat_parse_groups("kommunekode", f), -1);
}

/* ---- counts against the store ------------------------------------------------------------ */

/* Built on 2025-09-01:
 *   di1 kommune 101, ejerform 1:  u1 6011, u2 6012
 *   di2 kommune 147, ejerform 2:  u3 6011, u4 6011
 * then on 2025-11-01: u1 becomes 6010, di1 becomes ejerform 2 (lovgrundlag
 * 2), u2 is closed as of 2025-12-01, u3 as of 2025-11-15, u5 (di1, 6014) is
 * created. */
typedef struct world {
    store_host *h;
    char di1[7], di2[7], u1[7], u2[7], u3[7], u4[7], u5[7];
} world;

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    store_host *h = w->h = sh_new("test_statistik", "2025-09-01");
    char out[7];
    sh_must(h, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, sh_di_body("Solsikken", 101, 1, 1), w->di1);
    sh_must(h, REG_OP_CREATE, REG_DAGINSTITUTION, NULL, sh_di_body("Egern", 147, 2, 2), w->di2);
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL,
            sh_ae_body(w->di1, "U1", 6011, 101, NULL, NULL), w->u1);
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL,
            sh_ae_body(w->di1, "U2", 6012, 101, NULL, NULL), w->u2);
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL,
            sh_ae_body(w->di2, "U3", 6011, 147, NULL, NULL), w->u3);
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL,
            sh_ae_body(w->di2, "U4", 6011, 147, NULL, NULL), w->u4);
    sh_set_day_and_tick(h, "2025-11-01");
    sh_must(h, REG_OP_UPDATE, REG_ANVISNINGSENHED, w->u1, json_pack("{s:i}", "instType3", 6010),
            out);
    sh_must(h, REG_OP_UPDATE, REG_DAGINSTITUTION, w->di1,
            json_pack("{s:i, s:i}", "ejerformKode", 2, "lovgrundlagKode", 2), out);
    sh_must(h, REG_OP_CLOSE, REG_ANVISNINGSENHED, w->u2,
            json_pack("{s:s}", "virkningTil", "2025-12-01"), out);
    sh_must(h, REG_OP_CLOSE, REG_ANVISNINGSENHED, w->u3,
            json_pack("{s:s}", "virkningTil", "2025-11-15"), out);
    sh_must(h, REG_OP_CREATE, REG_ANVISNINGSENHED, NULL,
            sh_ae_body(w->di1, "U5", 6014, 101, NULL, NULL), w->u5);
    char err[256] = "";
    if (sh_load(h, &dtr_plugin_entry, NULL, err, sizeof err) != 0) fail_msg("load: %s", err);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    sh_free(w->h);
    free(w);
    return 0;
}

static json_int_t num(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static json_t *get_json(world *w, const char *target)
{
    sh_response r = sh_get(w->h, target, NULL, NULL);
    if (r.status != 200) fail_msg("%s: %d %s", target, r.status, r.body);
    assert_string_equal(r.content_type, "application/json");
    json_t *j = json_incref(r.json);
    sh_response_clear(&r);
    return j;
}

/* The row's fields as "k/i/e=antal" (absent fields '-'), for compact checks. */
static void row_text(const json_t *row, char *out, size_t len)
{
    char part[3][16];
    const char *keys[3] = {"kommuneKode", "instType3", "ejerformKode"};
    for (int i = 0; i < 3; i++) {
        const json_t *v = json_object_get(row, keys[i]);
        if (v)
            snprintf(part[i], sizeof part[i], "%lld", (long long)json_integer_value(v));
        else
            snprintf(part[i], sizeof part[i], "-");
    }
    snprintf(out, len, "%s/%s/%s=%lld", part[0], part[1], part[2], (long long)num(row, "antal"));
}

static void assert_rows(const json_t *answer, const char *const *expected, size_t n)
{
    const json_t *rows = json_object_get(answer, "raekker");
    assert_int_equal(json_array_size(rows), n);
    for (size_t i = 0; i < n; i++) {
        char text[64];
        row_text(json_array_get(rows, i), text, sizeof text);
        assert_string_equal(text, expected[i]);
    }
}

static void test_past_date_counts_the_versions_then(void **state)
{
    world *w = *state;
    json_t *a = get_json(w, "/v1/statistik/optaelling?dato=2025-10-01");
    assert_string_equal(json_string_value(json_object_get(a, "dato")), "2025-10-01");
    assert_int_equal(num(a, "total"), 4);
    const char *expected[] = {"101/6011/1=1", "101/6012/1=1", "147/6011/2=2"};
    assert_rows(a, expected, 3);
    json_decref(a);
}

static void test_later_date_counts_what_is_known_now(void **state)
{
    world *w = *state;
    json_t *a = get_json(w, "/v1/statistik/optaelling?dato=2025-12-01");
    assert_int_equal(num(a, "total"), 3);
    const char *expected[] = {"101/6010/2=1", "101/6014/2=1", "147/6011/2=1"};
    assert_rows(a, expected, 3);
    json_decref(a);
    /* before the register held anything */
    a = get_json(w, "/v1/statistik/optaelling?dato=2020-10-01");
    assert_int_equal(num(a, "total"), 0);
    assert_int_equal(json_array_size(json_object_get(a, "raekker")), 0);
    json_decref(a);
}

static void test_grouping(void **state)
{
    world *w = *state;
    json_t *a = get_json(w, "/v1/statistik/optaelling?dato=2025-10-01&grupper=instType3");
    const char *by_type[] = {"-/6011/-=3", "-/6012/-=1"};
    assert_rows(a, by_type, 2);
    json_decref(a);
    a = get_json(w, "/v1/statistik/optaelling?dato=2025-10-01&grupper=ejerformKode,kommuneKode");
    const char *by_owner[] = {"101/-/1=2", "147/-/2=2"};
    assert_rows(a, by_owner, 2);
    /* the fields come in the order asked for */
    const char *first_key =
        json_object_iter_key(json_object_iter(json_array_get(json_object_get(a, "raekker"), 0)));
    assert_string_equal(first_key, "ejerformKode");
    json_decref(a);
    a = get_json(w, "/v1/statistik/optaelling?dato=2025-10-01&grupper=");
    const char *none[] = {"-/-/-=4"};
    assert_rows(a, none, 1);
    json_decref(a);
}

static void test_csv(void **state)
{
    world *w = *state;
    sh_response r = sh_get(w->h, "/v1/statistik/optaelling?dato=2025-10-01", "text/csv", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/csv; charset=utf-8");
    assert_string_equal(r.body, "\xEF\xBB\xBF"
                                "kommuneKode;instType3;ejerformKode;antal\r\n"
                                "101;6011;1;1\r\n"
                                "101;6012;1;1\r\n"
                                "147;6011;2;2\r\n");
    sh_response_clear(&r);
    r = sh_get(w->h, "/v1/statistik/enheder?dato=2025-10-01", "text/csv, */*", NULL);
    assert_int_equal(r.status, 200);
    char line[128];
    snprintf(line, sizeof line, "%s;%s;101;6011;1\r\n", w->u1, w->di1);
    assert_non_null(strstr(r.body, line));
    assert_non_null(strstr(r.body, "nummer;daginstitutionsNummer;kommuneKode;instType3;"
                                   "ejerformKode\r\n"));
    sh_response_clear(&r);
}

static void test_enheder(void **state)
{
    world *w = *state;
    json_t *a = get_json(w, "/v1/statistik/enheder?dato=2025-10-01");
    const json_t *list = json_object_get(a, "enheder");
    assert_int_equal(json_array_size(list), 4);
    const json_t *first = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(first, "nummer")), w->u1);
    assert_string_equal(json_string_value(json_object_get(first, "daginstitutionsNummer")), w->di1);
    assert_int_equal(num(first, "kommuneKode"), 101);
    assert_int_equal(num(first, "instType3"), 6011);
    assert_int_equal(num(first, "ejerformKode"), 1);
    json_decref(a);
    a = get_json(w, "/v1/statistik/enheder?dato=2025-12-01");
    list = json_object_get(a, "enheder");
    assert_int_equal(json_array_size(list), 3);
    assert_int_equal(num(json_array_get(list, 0), "instType3"), 6010);
    assert_int_equal(num(json_array_get(list, 0), "ejerformKode"), 2);
    json_decref(a);
}

static void test_default_date(void **state)
{
    world *w = *state;
    char expected[11];
    stat_default_day(time(NULL), expected);
    json_t *a = get_json(w, "/v1/statistik/optaelling");
    assert_string_equal(json_string_value(json_object_get(a, "dato")), expected);
    json_decref(a);
}

static void test_bad_parameters(void **state)
{
    world *w = *state;
    const char *bad[][2] = {{"/v1/statistik/optaelling?dato=2025-13-01", "dato"},
                            {"/v1/statistik/optaelling?dato=2025-02-29", "dato"},
                            {"/v1/statistik/optaelling?dato=", "dato"},
                            {"/v1/statistik/enheder?dato=1.10.2025", "dato"},
                            {"/v1/statistik/optaelling?grupper=navn", "grupper"},
                            {"/v1/statistik/optaelling?grupper=instType3,instType3", "grupper"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sh_response r = sh_get(w->h, bad[i][0], NULL, NULL);
        assert_int_equal(r.status, 400);
        assert_string_equal(r.content_type, "application/problem+json");
        assert_string_equal(sh_problem_kode(&r), "UGYLDIG_PARAMETER");
        const json_t *fejl = json_array_get(json_object_get(r.json, "fejl"), 0);
        assert_string_equal(json_string_value(json_object_get(fejl, "felt")), bad[i][1]);
        sh_response_clear(&r);
    }
}

static void test_access(void **state)
{
    world *w = *state;
    sh_set_public_read(w->h, false);
    sh_response r = sh_get(w->h, "/v1/statistik/enheder", NULL, NULL);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.www_authenticate, "Basic realm=\"dtr\"");
    sh_response_clear(&r);
    r = sh_get(w->h, "/v1/statistik/enheder", NULL, "Basic good");
    assert_int_equal(r.status, 200);
    sh_response_clear(&r);
}

static void test_config_takes_no_keys(void **state)
{
    world *w = *state;
    sh_unload(w->h);
    char err[256] = "";
    assert_int_equal(
        sh_load(w->h, &dtr_plugin_entry, "{\"dato\": \"2025-10-01\"}", err, sizeof err), -1);
    assert_non_null(strstr(err, "statistik.dato"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_days),
        cmocka_unit_test(test_default_day_is_the_latest_1_october_in_copenhagen),
        cmocka_unit_test(test_groups),
        cmocka_unit_test_setup_teardown(test_past_date_counts_the_versions_then, setup, teardown),
        cmocka_unit_test_setup_teardown(test_later_date_counts_what_is_known_now, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grouping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enheder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_date, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_takes_no_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
