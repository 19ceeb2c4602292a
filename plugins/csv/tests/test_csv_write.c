/*
 * test_csv_write.c -- export_write: exact bytes (BOM, header, CRLF, quoting,
 * `_Tekst`, five decimals, aktivitetsstatus), errors, streaming in blocks,
 * and quoted fields that survive a write and a read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "csvp.h"
#include "fake_host.h"

static void *plugin;
static char err[1024];

static int setup(void **state)
{
    (void)state;
    plugin = fake_plugin_new();
    err[0] = '\0';
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_plugin_free(plugin);
    return 0;
}

/* Writes records at level into m; returns export_write's status. */
static dtr_status export(int level, json_t *records, memory *m)
{
    array_source src = {records, 0};
    dtr_export_source source = {&src, array_next};
    dtr_byte_sink sink = {m, memory_write};
    return csvp_descriptor.export_write(plugin, level, &source, &sink, err, sizeof err);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, f);
    if (vasprintf(&s, f, ap) < 0) abort();
    va_end(ap);
    return s;
}

static const char *kbh(void)
{
    return fake_host()->code_text(NULL, "kommune", 101);
}

static void test_writes_exact_bytes(void **state)
{
    (void)state;
    json_t *units = json_pack(
        "[{s:s, s:s, s:s, s:i, s:{s:i, s:s, s:s, s:s, s:s, s:n, s:n, s:f, s:f}, s:n, s:s, s:s, "
        "s:n, s:s}, {s:s, s:s, s:s, s:i, s:s}, {s:s, s:s, s:s, s:i, s:s}, "
        "{s:s, s:s, s:s, s:i, s:s}]",
        "nummer", "G00002", "daginstitutionsNummer", "G00001", "navn",
        "Huset; \"Solen\"\r\nog månen", "instType3", 6012, "adresse", "kommuneKode", 101, "vejNavn",
        "Vej", "husNummer", "2A", "postNummer", "1355", "byNavn", "By", "supplerendeBynavn",
        "etage", "geoBredde", 55.1, "geoLaengde", 12.345678, "email", "telefonNummer", "+45 1",
        "cvrNummer", "12345674", "pNummer", "status", "aktiv",
        /* no adresse at all */
        "nummer", "G00003", "daginstitutionsNummer", "G00001", "navn", "Navn", "instType3", 6010,
        "status", "nedlagt",
        /* an unknown code: no text */
        "nummer", "G00004", "daginstitutionsNummer", "G00001", "navn", " Rum ", "instType3", 9999,
        "status", "kommende",
        /* no status: aktivitetsstatus as read */
        "nummer", "G00005", "daginstitutionsNummer", "G00001", "navn", "N", "instType3", 6013,
        "aktivitetsstatus", "Aktiv");
    assert_non_null(units);
    memory m = {.fail_after = -1};
    assert_int_equal(export(1, units, &m), DTR_OK);
    char *expected =
        fmt("\xEF\xBB\xBF%s\r\n"
            "G00002;G00001;\"Huset; \"\"Solen\"\"\r\nog månen\";6012;Aldersintegreret "
            "(0-5 år);101;%s;Vej;2A;1355;By;;;+45 1;12345674;;55.10000;12.34568;Aktiv\r\n"
            "G00003;G00001;Navn;6010;Vuggestue (0-2 år);;;;;;;;;;;;;;Nedlagt\r\n"
            "G00004;G00001; Rum ;9999;;;;;;;;;;;;;;;Kommende\r\n"
            "G00005;G00001;N;6013;Dagpleje;;;;;;;;;;;;;;Aktiv\r\n",
            header_ae, kbh());
    assert_string_equal(m.data, expected);
    free(expected);
    free(m.data);
    json_decref(units);

    json_t *di = json_pack("[{s:s, s:s, s:i, s:i, s:i, s:s}]", "nummer", "G00001", "navn", "Privat",
                           "ejerformKode", 3, "lovgrundlagKode", 4, "admKommuneKode", 101, "status",
                           "aktiv");
    memory m2 = {.fail_after = -1};
    assert_int_equal(export(0, di, &m2), DTR_OK);
    expected = fmt("\xEF\xBB\xBF%s\r\nG00001;Privat;3;Privat;4;Dagtilbudsloven § 19, stk. 5;101;%s;"
                   "Aktiv\r\n",
                   header_di, kbh());
    assert_string_equal(m2.data, expected);
    free(expected);
    free(m2.data);
    json_decref(di);

    memory m3 = {.fail_after = -1};
    json_t *none = json_array();
    assert_int_equal(export(2, none, &m3), DTR_OK);
    expected = fmt("\xEF\xBB\xBF%s\r\n", header_aa);
    assert_string_equal(m3.data, expected);
    free(expected);
    free(m3.data);
    json_decref(none);
}

static void test_coordinates_have_five_decimals(void **state)
{
    (void)state;
    char out[32];
    csvp_format_geo(55.68855, out);
    assert_string_equal(out, "55.68855");
    csvp_format_geo(12.0, out);
    assert_string_equal(out, "12.00000");
    csvp_format_geo(9.999996, out);
    assert_string_equal(out, "10.00000");
    csvp_format_geo(-8.5, out);
    assert_string_equal(out, "-8.50000");
    csvp_format_geo(-0.000001, out);
    assert_string_equal(out, "0.00000");
    assert_string_equal(csvp_status_text("aktiv"), "Aktiv");
    assert_string_equal(csvp_status_text("nedlagt"), "Nedlagt");
    assert_string_equal(csvp_status_text("kommende"), "Kommende");
    assert_null(csvp_status_text("slettet"));
}

static void test_refuses_what_it_cannot_write(void **state)
{
    (void)state;
    json_t *bad = json_pack("[{s:s, s:[]}]", "nummer", "G00001", "navn");
    memory m = {.fail_after = -1};
    assert_int_equal(export(0, bad, &m), DTR_ERROR);
    assert_non_null(strstr(err, "G00001"));
    assert_non_null(strstr(err, "navn"));
    json_decref(bad);
    free(m.data);

    bad = json_pack("[{s:s, s:{s:s}}]", "nummer", "G00002", "adresse", "geoBredde", "55");
    memory m1 = {.fail_after = -1};
    assert_int_equal(export(1, bad, &m1), DTR_ERROR);
    assert_non_null(strstr(err, "adresse.geoBredde"));
    json_decref(bad);
    free(m1.data);

    bad = json_pack("[i]", 1);
    memory m2 = {.fail_after = -1};
    assert_int_equal(export(0, bad, &m2), DTR_ERROR);
    json_decref(bad);
    free(m2.data);

    json_t *none = json_array();
    memory m3 = {.fail_after = -1};
    assert_int_equal(export(3, none, &m3), DTR_ERROR);
    json_decref(none);
    free(m3.data);
}

/* Many rows go out in blocks of at most CSVP_OUT_BUF; a failing sink stops
 * the writer. */
static void test_streams_in_blocks_and_stops_on_failure(void **state)
{
    (void)state;
    json_t *many = json_array();
    for (int i = 0; i < 20000; i++) {
        char nummer[8];
        snprintf(nummer, sizeof nummer, "G%05d", i + 1);
        json_array_append_new(many, json_pack("{s:s, s:s, s:i, s:i, s:i, s:s}", "nummer", nummer,
                                              "navn", "Dagtilbud nummer et eller andet",
                                              "ejerformKode", 1, "lovgrundlagKode", 1,
                                              "admKommuneKode", 101, "status", "aktiv"));
    }
    memory m = {.fail_after = -1};
    assert_int_equal(export(0, many, &m), DTR_OK);
    assert_true(m.writes > 10);
    assert_true(m.largest <= CSVP_OUT_BUF);
    size_t lines = 0;
    for (size_t i = 0; i < m.len; i++)
        lines += m.data[i] == '\n';
    assert_int_equal(lines, 20001);
    free(m.data);

    memory failing = {.fail_after = 2};
    assert_int_equal(export(0, many, &failing), DTR_ERROR);
    assert_non_null(strstr(err, "writing failed"));
    free(failing.data);
    json_decref(many);
}

/* Names with ';', '"', CR, LF and blanks at either end come back from a
 * write and a read as they were, and a second write gives the same bytes. */
static void test_quoted_fields_round_trip(void **state)
{
    (void)state;
    static const char *names[] = {"A;B",       "Sagt \"hej\"", "\"",
                                  "Linje\nto", "Linje\r\nto",  "Linje\rto",
                                  " luft ",    ";\"\r\n;",     "Æblehaven"};
    size_t n = sizeof names / sizeof names[0];
    json_t *records = json_array();
    for (size_t i = 0; i < n; i++) {
        char nummer[8];
        snprintf(nummer, sizeof nummer, "G%05zu", i + 1);
        json_array_append_new(records,
                              json_pack("{s:s, s:s, s:i, s:i, s:i, s:s}", "nummer", nummer, "navn",
                                        names[i], "ejerformKode", 2, "lovgrundlagKode", 2,
                                        "admKommuneKode", 101, "status", "nedlagt"));
    }
    memory m = {.fail_after = -1};
    assert_int_equal(export(0, records, &m), DTR_OK);

    char *dir = temp_dir();
    write_register(dir, NULL, NULL, NULL);
    write_file(dir, "daginstitution.csv", m.data, m.len);
    collected c;
    collected_init(&c);
    dtr_import_sink sink = collected_sink(&c);
    assert_int_equal(csvp_descriptor.import_read(plugin, dir, &sink, err, sizeof err), DTR_OK);
    assert_int_equal(json_array_size(c.refusals), 0);
    assert_int_equal(json_array_size(c.records[0]), n);
    json_t *again = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(c.records[0], i);
        assert_string_equal(json_string_value(json_object_get(r, "navn")), names[i]);
        assert_string_equal(json_string_value(json_object_get(r, "aktivitetsstatus")), "Nedlagt");
        json_array_append(again, r);
    }
    memory m2 = {.fail_after = -1};
    assert_int_equal(export(0, again, &m2), DTR_OK);
    assert_int_equal(m2.len, m.len);
    assert_memory_equal(m2.data, m.data, m.len);
    free(m.data), free(m2.data);
    json_decref(again), json_decref(records);
    collected_clear(&c);
    remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writes_exact_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coordinates_have_five_decimals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_what_it_cannot_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_streams_in_blocks_and_stops_on_failure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quoted_fields_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
