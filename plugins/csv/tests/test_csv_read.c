/*
 * test_csv_read.c -- import_read: records, line numbers, every kind of bad
 * row, wrong column sets, CRLF+BOM against LF without BOM, chunk borders.
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

static char *dir;
static void *plugin;
static char err[1024];

static int setup(void **state)
{
    (void)state;
    dir = temp_dir();
    plugin = fake_plugin_new();
    err[0] = '\0';
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    remove_tree(dir);
    fake_plugin_free(plugin);
    return 0;
}

/* printf into a new string (the caller frees). */
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

static dtr_status import(collected *c)
{
    collected_init(c);
    dtr_import_sink sink = collected_sink(c);
    return csvp_descriptor.import_read(plugin, dir, &sink, err, sizeof err);
}

/* A good daginstitution row (no line end). */
static char *di_row(const char *nummer, const char *navn)
{
    return fmt("%s;%s;1;Kommunal;1;Dagtilbudsloven § 19, stk. 2;101;%s;Aktiv", nummer, navn, kbh());
}

static json_t *record_at(collected *c, int level, size_t i)
{
    return json_array_get(c->records[level], i);
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static long long num(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static const char *reason_at(collected *c, size_t i)
{
    return str(json_array_get(c->refusals, i), "reason");
}

static long long refused_line(collected *c, size_t i)
{
    return num(json_array_get(c->refusals, i), "line");
}

/* ---- good files ------------------------------------------------------------------ */

static void test_reads_records(void **state)
{
    (void)state;
    char *d1 = di_row("G40001", "Dagtilbud 1355 København K");
    char *di = fmt("%s\r\nG40002;Privat;3;Privat;4;Dagtilbudsloven § 19, stk. 5;101;%s;Nedlagt\r\n",
                   d1, kbh());
    char *ae = fmt("G23152;G40001;Den Grønne Kastanje;6012;Aldersintegreret (0-5 år);101;%s;"
                   "Gammeltoftsgade;13;1355;København K;;;;;;55.68855;12.57191;Aktiv\r\n"
                   "G23153;G40001;\"Huset; \"\"Solen\"\"\r\nog månen\";6010;Vuggestue (0-2 år);101;"
                   "%s;Vej;2A;1355;København K;Sup;a@b.dk;+45 1234;12345674;1234567890;55.1;12;"
                   "Aktiv\r\n"
                   "G23154;G40002;Tredje;6011;Børnehave (3-5 år);101;%s;Vej;3;1355;København K;;;;;"
                   ";;;\r\n",
                   kbh(), kbh(), kbh());
    char *aa =
        fmt("G50001;G23152;Skovgruppen;Skovvej;1;1355;København K;;101;%s;;;;;Aktiv\r\n", kbh());
    write_register(dir, di, ae, aa);

    collected c;
    assert_int_equal(import(&c), DTR_OK);
    assert_int_equal(json_array_size(c.refusals), 0);
    assert_int_equal(json_array_size(c.records[0]), 2);
    assert_int_equal(json_array_size(c.records[1]), 3);
    assert_int_equal(json_array_size(c.records[2]), 1);

    json_t *r = record_at(&c, 0, 0);
    assert_string_equal(str(r, "nummer"), "G40001");
    assert_string_equal(str(r, "navn"), "Dagtilbud 1355 København K");
    assert_int_equal(num(r, "ejerformKode"), 1);
    assert_int_equal(num(r, "lovgrundlagKode"), 1);
    assert_int_equal(num(r, "admKommuneKode"), 101);
    assert_string_equal(str(r, "aktivitetsstatus"), "Aktiv");
    assert_int_equal(num(r, "line"), 2);
    assert_null(json_object_get(r, "ejerformKode_Tekst"));
    assert_string_equal(str(record_at(&c, 0, 1), "aktivitetsstatus"), "Nedlagt");

    r = record_at(&c, 1, 0);
    json_t *a = json_object_get(r, "adresse");
    assert_string_equal(str(r, "daginstitutionsNummer"), "G40001");
    assert_int_equal(num(r, "instType3"), 6012);
    assert_int_equal(num(a, "kommuneKode"), 101);
    assert_string_equal(str(a, "vejNavn"), "Gammeltoftsgade");
    assert_string_equal(str(a, "postNummer"), "1355");
    assert_true(json_is_null(json_object_get(a, "etage")));
    assert_true(json_is_null(json_object_get(a, "doer")));
    assert_true(json_is_null(json_object_get(a, "dawaId")));
    assert_true(json_is_null(json_object_get(a, "supplerendeBynavn")));
    assert_true(json_is_null(json_object_get(r, "email")));
    assert_true(json_is_null(json_object_get(r, "cvrNummer")));
    assert_true(json_is_real(json_object_get(a, "geoBredde")));
    assert_true(json_real_value(json_object_get(a, "geoBredde")) == 55.68855);

    r = record_at(&c, 1, 1);
    a = json_object_get(r, "adresse");
    assert_string_equal(str(r, "navn"), "Huset; \"Solen\"\r\nog månen");
    assert_int_equal(num(r, "line"), 3);
    assert_string_equal(str(a, "husNummer"), "2A");
    assert_string_equal(str(a, "supplerendeBynavn"), "Sup");
    assert_string_equal(str(r, "email"), "a@b.dk");
    assert_string_equal(str(r, "telefonNummer"), "+45 1234");
    assert_string_equal(str(r, "cvrNummer"), "12345674");
    assert_string_equal(str(r, "pNummer"), "1234567890");
    assert_true(json_real_value(json_object_get(a, "geoLaengde")) == 12.0);

    r = record_at(&c, 1, 2);
    assert_int_equal(num(r, "line"), 5); /* after the row that spans lines 3 and 4 */
    assert_true(json_is_null(json_object_get(r, "aktivitetsstatus")));
    assert_true(json_is_null(json_object_get(json_object_get(r, "adresse"), "geoBredde")));

    r = record_at(&c, 2, 0);
    assert_string_equal(str(r, "anvisningsenhedsNummer"), "G23152");
    assert_int_equal(num(json_object_get(r, "adresse"), "kommuneKode"), 101);
    assert_null(json_object_get(r, "email"));
    assert_true(c.progress_total > 0);
    assert_true(c.progress_done == c.progress_total);

    collected_clear(&c);
    free(d1), free(di), free(ae), free(aa);
}

/* Replaces every CRLF by LF. */
static char *to_lf(const char *s)
{
    char *out = strdup(s), *w = out;
    for (const char *p = s; *p; p++)
        if (!(p[0] == '\r' && p[1] == '\n')) *w++ = *p;
    *w = '\0';
    return out;
}

static void write_lf(const char *name, const char *header, const char *body)
{
    char *lf = to_lf(body);
    char *data = fmt("%s\n%s", header, lf);
    write_file(dir, name, data, strlen(data));
    free(lf), free(data);
}

static void test_lf_without_bom_reads_the_same(void **state)
{
    (void)state;
    char *d1 = di_row("G40001", "Første"), *d2 = di_row("G40002", "\"Anden; \"\"B\"\"\"");
    char *di = fmt("%s\r\n%s\r\n", d1, d2);
    char *ae = fmt("G23152;G40001;Kastanjen;6012;Aldersintegreret (0-5 år);101;%s;Vej;13;1355;"
                   "København K;;;;;;55.68855;12.57191;Aktiv\r\n",
                   kbh());
    write_register(dir, di, ae, NULL);
    collected crlf;
    assert_int_equal(import(&crlf), DTR_OK);

    write_lf("daginstitution.csv", header_di, di);
    write_lf("anvisningsenhed.csv", header_ae, ae);
    write_lf("alternativadresse.csv", header_aa, "");
    collected lf;
    assert_int_equal(import(&lf), DTR_OK);

    assert_int_equal(json_array_size(crlf.records[0]), 2);
    assert_int_equal(json_array_size(crlf.records[1]), 1);
    for (int level = 0; level < 3; level++)
        assert_true(json_equal(crlf.records[level], lf.records[level]));
    assert_int_equal(json_array_size(lf.refusals), 0);
    collected_clear(&crlf), collected_clear(&lf);
    free(d1), free(d2), free(di), free(ae);
}

static void test_line_numbers_blank_lines_and_lone_cr(void **state)
{
    (void)state;
    char *d1 = di_row("G40001", "A"), *d2 = di_row("G40002", "B"), *d3 = di_row("G40003", "C");
    char *d4 = di_row("G40004", "\"Two\nlines\"");
    char *di = fmt("%s\r\n\r\n%s\r%s\n\n%s\n%s", d1, d2, d3, d4, d1);
    write_register(dir, di, NULL, NULL);
    collected c;
    assert_int_equal(import(&c), DTR_OK);
    assert_int_equal(json_array_size(c.records[0]), 5);
    long long lines[5] = {2, 4, 5, 7, 9}; /* the last has no line end */
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(num(record_at(&c, 0, i), "line"), lines[i]);
    assert_string_equal(str(record_at(&c, 0, 3), "navn"), "Two\nlines");
    collected_clear(&c);
    free(d1), free(d2), free(d3), free(d4), free(di);
}

static void test_columns_in_another_order(void **state)
{
    (void)state;
    char *body =
        fmt("Navn;G40001;Aktiv;1;Kommunal;1;Dagtilbudsloven § 19, stk. 2;101;%s\r\n", kbh());
    char *data = fmt("daginstitutionsNavn;daginstitutionsNummer;aktivitetsstatus;ejerformKode;"
                     "ejerformKode_Tekst;lovgrundlagKode;lovgrundlagKode_Tekst;admKommuneKode;"
                     "admKommuneKode_Tekst\r\n%s",
                     body);
    write_register(dir, NULL, NULL, NULL);
    write_file(dir, "daginstitution.csv", data, strlen(data));
    collected c;
    assert_int_equal(import(&c), DTR_OK);
    assert_int_equal(json_array_size(c.records[0]), 1);
    assert_string_equal(str(record_at(&c, 0, 0), "nummer"), "G40001");
    assert_string_equal(str(record_at(&c, 0, 0), "navn"), "Navn");
    collected_clear(&c);
    free(body), free(data);
}

/* ---- bad rows ------------------------------------------------------------------- */

static void test_broken_quoting(void **state)
{
    (void)state;
    char *good1 = di_row("G40001", "God"), *bad1 = di_row("G40002", "Med \"citat\" i midten");
    char *bad2 = di_row("G40003", "\"Lukket\"x"), *good2 = di_row("G40004", "Også god");
    char *bad3 = di_row("G40005", "\"Aldrig lukket");
    char *di = fmt("%s\r\n%s\r\n%s\r\n%s\r\n%s\r\n", good1, bad1, bad2, good2, bad3);
    write_register(dir, di, NULL, NULL);
    collected c;
    assert_int_equal(import(&c), DTR_OK);
    assert_int_equal(json_array_size(c.records[0]), 2);
    assert_int_equal(num(record_at(&c, 0, 0), "line"), 2);
    assert_int_equal(num(record_at(&c, 0, 1), "line"), 5);
    assert_string_equal(str(record_at(&c, 0, 1), "nummer"), "G40004");
    assert_int_equal(json_array_size(c.refusals), 3);
    assert_int_equal(refused_line(&c, 0), 3);
    assert_string_equal(str(json_array_get(c.refusals, 0), "nummer"), "G40002");
    assert_string_equal(str(json_array_get(c.refusals, 0), "file"), "daginstitution.csv");
    assert_non_null(strstr(reason_at(&c, 0), "broken quoting"));
    assert_int_equal(refused_line(&c, 1), 4);
    assert_string_equal(str(json_array_get(c.refusals, 1), "nummer"), "G40003");
    assert_int_equal(refused_line(&c, 2), 6);
    assert_non_null(strstr(reason_at(&c, 2), "not closed"));
    assert_string_equal(str(json_array_get(c.refusals, 2), "nummer"), "G40005");
    collected_clear(&c);
    free(good1), free(bad1), free(bad2), free(good2), free(bad3), free(di);
}

static void test_wrong_column_set_refuses_the_file(void **state)
{
    (void)state;
    char *d1 = di_row("G40001", "God");
    char *di = fmt("%s\r\n", d1);
    write_register(dir, di, NULL, NULL);
    char *ae = fmt("anvisningsenhedsNummer;daginstitutionsNummer;dagtilbudsnavn;instType3;"
                   "instType3_Tekst;kommuneKode;kommuneKode_Tekst;vejNavn;husNummer;postNummer;"
                   "byNavn;supplerendeBynavn;email;telefonNummer;cvrNummer;pNummer;geoBredde;"
                   "geoLaengde;aktivitetsstatus;foo\r\n");
    write_file(dir, "anvisningsenhed.csv", ae, strlen(ae));
    collected c;
    assert_int_equal(import(&c), DTR_ERROR);
    assert_non_null(strstr(err, "anvisningsenhed.csv"));
    assert_non_null(strstr(err, "missing dagtilbudsNavn"));
    assert_non_null(strstr(err, "'dagtilbudsnavn'"));
    assert_non_null(strstr(err, "'foo'"));
    /* the headers are checked before any row is delivered */
    assert_int_equal(json_array_size(c.records[0]), 0);
    collected_clear(&c);

    char *twice = fmt("%s;daginstitutionsNavn\r\n", header_di);
    write_file(dir, "daginstitution.csv", twice, strlen(twice));
    assert_int_equal(import(&c), DTR_ERROR);
    assert_non_null(strstr(err, "daginstitution.csv"));
    assert_non_null(strstr(err, "repeated 'daginstitutionsNavn'"));
    collected_clear(&c);
    free(d1), free(di), free(ae), free(twice);
}

static void test_wrong_column_count(void **state)
{
    (void)state;
    char *good = di_row("G40003", "God");
    char *di = fmt("G40001;Kort;1;Kommunal;1;x;101;%s\r\nG40002;Lang;1;Kommunal;1;"
                   "Dagtilbudsloven § 19, stk. 2;101;%s;Aktiv;ekstra\r\n%s\r\n",
                   kbh(), kbh(), good);
    write_register(dir, di, NULL, NULL);
    collected c;
    assert_int_equal(import(&c), DTR_OK);
    assert_int_equal(json_array_size(c.refusals), 2);
    assert_string_equal(reason_at(&c, 0), "expected 9 columns, found 8");
    assert_string_equal(str(json_array_get(c.refusals, 0), "nummer"), "G40001");
    assert_int_equal(refused_line(&c, 0), 2);
    assert_string_equal(reason_at(&c, 1), "expected 9 columns, found 10");
    assert_int_equal(refused_line(&c, 1), 3);
    assert_int_equal(json_array_size(c.records[0]), 1);
    assert_int_equal(num(record_at(&c, 0, 0), "line"), 4);
    collected_clear(&c);
    free(good), free(di);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    char *bad = di_row("G40001", "D\xC3(rlig");
    char *di = fmt("%s\r\n", bad);
    write_register(dir, di, NULL, NULL);
    collected c;
    assert_int_equal(import(&c), DTR_OK);
    assert_int_equal(json_array_size(c.records[0]), 0);
    assert_int_equal(json_array_size(c.refusals), 1);
    assert_string_equal(reason_at(&c, 0), "invalid UTF-8 in column daginstitutionsNavn");
    assert_string_equal(str(json_array_get(c.refusals, 0), "nummer"), "G40001");
    collected_clear(&c);
    free(bad), free(di);

    assert_true(csvp_utf8_valid("Århus ø æ €", strlen("Århus ø æ €")));
    assert_true(csvp_utf8_valid("\xF0\x9F\x98\x80", 4));  /* U+1F600 */
    assert_false(csvp_utf8_valid("\xC0\xAF", 2));         /* overlong */
    assert_false(csvp_utf8_valid("\xE0\x80\xAF", 3));     /* overlong */
    assert_false(csvp_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
    assert_false(csvp_utf8_valid("\xF4\x90\x80\x80", 4)); /* above U+10FFFF */
    assert_false(csvp_utf8_valid("\xE2\x82", 2));         /* cut short */
    assert_false(csvp_utf8_valid("a\0b", 3));             /* NUL */
}

static void test_non_numeric_code_and_coordinate(void **state)
{
    (void)state;
    char *di =
        fmt("G40001;Navn;x1;Kommunal;1;Dagtilbudsloven § 19, stk. 2;-101;%s;Aktiv\r\n", kbh());
    char *ae = fmt("G23152;G40001;Navn;60 12;Aldersintegreret (0-5 år);101;%s;Vej;1;1355;By;;;;;;"
                   "55,1;12.5;Aktiv\r\n",
                   kbh());
    write_register(dir, di, ae, NULL);
    collected c;
    assert_int_equal(import(&c), DTR_OK);
    assert_int_equal(json_array_size(c.records[0]), 0);
    assert_int_equal(json_array_size(c.records[1]), 0);
    assert_int_equal(json_array_size(c.refusals), 2);
    const char *r0 = reason_at(&c, 0), *r1 = reason_at(&c, 1);
    assert_non_null(strstr(r0, "column ejerformKode: 'x1' is not a number"));
    assert_non_null(strstr(r0, "column admKommuneKode: '-101' is not a number"));
    assert_non_null(strstr(r1, "column instType3: '60 12' is not a number"));
    assert_non_null(strstr(r1, "column geoBredde: '55,1' is not a number"));
    assert_string_equal(str(json_array_get(c.refusals, 1), "file"), "anvisningsenhed.csv");
    collected_clear(&c);
    free(di), free(ae);
}

/* A refusal quotes at most 40 bytes of a field, never half a character. */
static void test_reasons_stay_valid_utf8(void **state)
{
    (void)state;
    assert_int_equal(csvp_utf8_cut("æææ", 6, 3), 2);
    assert_int_equal(csvp_utf8_cut("æææ", 6, 4), 4);
    assert_int_equal(csvp_utf8_cut("abc", 3, 40), 3);
    char *di = fmt("G40001;Navn;a%s;Kommunal;1;Dagtilbudsloven § 19, stk. 2;101;%s;Aktiv\r\n",
                   "øøøøøøøøøøøøøøøøøøøøøøøøøøøøøøøøøøøøøø", kbh());
    write_register(dir, di, NULL, NULL);
    collected c;
    assert_int_equal(import(&c), DTR_OK);
    assert_int_equal(json_array_size(c.refusals), 1);
    const char *reason = reason_at(&c, 0);
    assert_true(csvp_utf8_valid(reason, strlen(reason)));
    assert_non_null(strstr(reason, "'aøøø"));
    collected_clear(&c);
    free(di);
}

static void test_mismatching_tekst(void **state)
{
    (void)state;
    char *di = fmt("G40001;Navn;1;Privat;1;Dagtilbudsloven § 19, stk. 2;101;%s;Aktiv\r\n"
                   "G40002;Navn;1;;1;Dagtilbudsloven § 19, stk. 2;101;%s;Aktiv\r\n",
                   kbh(), kbh());
    char *ae =
        fmt("G23152;G40001;Navn;6012;Vuggestue (0-2 år);101;%s;Vej;1;1355;By;;;;;;;;Aktiv\r\n"
            "G23153;G40001;Navn;9999;Noget ukendt;101;%s;Vej;1;1355;By;;;;;;;;Aktiv\r\n",
            kbh(), kbh());
    write_register(dir, di, ae, NULL);
    collected c;
    assert_int_equal(import(&c), DTR_OK);
    assert_int_equal(json_array_size(c.refusals), 2);
    assert_non_null(strstr(reason_at(&c, 0), "column ejerformKode_Tekst: 'Privat' is not the text "
                                             "of ejerformKode 1 ('Kommunal')"));
    assert_non_null(strstr(reason_at(&c, 1), "column instType3_Tekst"));
    assert_non_null(strstr(reason_at(&c, 1), "Aldersintegreret (0-5 år)"));
    /* an empty _Tekst is not checked; an unknown code is left to the register */
    assert_int_equal(json_array_size(c.records[0]), 1);
    assert_string_equal(str(record_at(&c, 0, 0), "nummer"), "G40002");
    assert_int_equal(json_array_size(c.records[1]), 1);
    assert_int_equal(num(record_at(&c, 1, 0), "instType3"), 9999);
    collected_clear(&c);
    free(di), free(ae);
}

static void test_unknown_aktivitetsstatus(void **state)
{
    (void)state;
    char *di = fmt("G40001;Navn;1;Kommunal;1;Dagtilbudsloven § 19, stk. 2;101;%s;aktiv\r\n", kbh());
    write_register(dir, di, NULL, NULL);
    collected c;
    assert_int_equal(import(&c), DTR_OK);
    assert_int_equal(json_array_size(c.refusals), 1);
    assert_non_null(strstr(reason_at(&c, 0), "is not Aktiv, Nedlagt or Kommende"));
    collected_clear(&c);
    free(di);
}

/* A quote never closed swallows the following rows until the field passes
 * 64 KiB; that row is refused and reading resumes at the next line. */
static void test_overlong_field_is_refused_and_reading_resumes(void **state)
{
    (void)state;
    size_t rows = 2000;
    char *body = malloc(rows * 128), *w = body;
    char *open = di_row("G10000", "\"Aldrig lukket");
    w += sprintf(w, "%s\r\n", open);
    for (size_t i = 1; i < rows; i++) {
        char nummer[8];
        snprintf(nummer, sizeof nummer, "G%05zu", 10000 + i);
        char *row = di_row(nummer, "God");
        w += sprintf(w, "%s\r\n", row);
        free(row);
    }
    write_register(dir, body, NULL, NULL);
    collected c;
    assert_int_equal(import(&c), DTR_OK);
    assert_int_equal(json_array_size(c.refusals), 1);
    assert_int_equal(refused_line(&c, 0), 2);
    assert_non_null(strstr(reason_at(&c, 0), "longer than 65536"));
    size_t n = json_array_size(c.records[0]);
    assert_true(n > 100 && n < rows - 500);
    for (size_t i = 0; i < n; i++) {
        json_t *r = record_at(&c, 0, i);
        assert_int_equal(num(r, "line"), atoi(str(r, "nummer") + 1) - 10000 + 2);
    }
    assert_string_equal(str(record_at(&c, 0, n - 1), "nummer"), "G11999");
    collected_clear(&c);
    free(open), free(body);
}

/* Moves the line ends across the 64 KiB chunk border byte by byte: every
 * record keeps its line, the multi-line field its bytes. */
static void test_chunk_borders(void **state)
{
    (void)state;
    size_t rows = 1200; /* ~90 KiB: the border falls inside */
    size_t cap = rows * 400;
    char *body = malloc(cap);
    for (size_t pad = 0; pad < 220; pad++) {
        char *w = body;
        char padding[256];
        memset(padding, 'x', pad);
        padding[pad] = '\0';
        for (size_t i = 0; i < rows; i++) {
            char nummer[8];
            snprintf(nummer, sizeof nummer, "G%05zu", i + 1);
            char *row = di_row(nummer, i == 0 ? padding : i % 2 ? "\"To\r\nlinjer\"" : "Navn");
            w += sprintf(w, "%s\r\n", row);
            free(row);
        }
        assert_true(w - body > 70000);
        write_register(dir, body, NULL, NULL);
        collected c;
        assert_int_equal(import(&c), DTR_OK);
        assert_int_equal(json_array_size(c.refusals), 0);
        assert_int_equal(json_array_size(c.records[0]), rows);
        long long line = 2;
        for (size_t i = 0; i < rows; i++) {
            json_t *r = record_at(&c, 0, i);
            assert_int_equal(num(r, "line"), line);
            line += i % 2 ? 2 : 1;
            if (i % 2) assert_string_equal(str(r, "navn"), "To\r\nlinjer");
        }
        collected_clear(&c);
    }
    free(body);
}

/* ---- files and the plugin ------------------------------------------------------- */

static void test_missing_and_empty_files(void **state)
{
    (void)state;
    collected c;
    assert_int_equal(import(&c), DTR_ERROR);
    assert_non_null(strstr(err, "daginstitution.csv"));
    collected_clear(&c);

    write_register(dir, NULL, NULL, NULL);
    write_file(dir, "alternativadresse.csv", "", 0);
    assert_int_equal(import(&c), DTR_ERROR);
    assert_non_null(strstr(err, "alternativadresse.csv: no header"));
    collected_clear(&c);
}

static void test_sink_can_stop_reading(void **state)
{
    (void)state;
    char *d1 = di_row("G40001", "A"), *d2 = di_row("G40002", "B");
    char *di = fmt("%s\r\n%s\r\n", d1, d2);
    write_register(dir, di, NULL, NULL);
    collected c;
    collected_init(&c);
    c.stop_after = 1;
    dtr_import_sink sink = collected_sink(&c);
    assert_int_equal(csvp_descriptor.import_read(plugin, dir, &sink, err, sizeof err), DTR_ERROR);
    assert_int_equal(json_array_size(c.records[0]), 1);
    assert_non_null(strstr(err, "line 3"));
    collected_clear(&c);
    free(d1), free(d2), free(di);
}

static void test_init_and_file_names(void **state)
{
    (void)state;
    void *st = NULL;
    json_t *config = json_pack("{s:i}", "chunk", 1);
    assert_int_equal(csvp_descriptor.init(NULL, fake_host(), config, &st, err, sizeof err),
                     DTR_DECLINED);
    assert_non_null(strstr(err, "chunk"));
    assert_null(st);
    json_decref(config);
    assert_int_equal(csvp_descriptor.abi_major, DTR_ABI_MAJOR);
    assert_true(csvp_descriptor.kinds & DTR_KIND_FORMAT);
    assert_string_equal(csvp_descriptor.name, "csv");
    assert_string_equal(csvp_descriptor.export_file_name(plugin, 0), "daginstitution.csv");
    assert_string_equal(csvp_descriptor.export_file_name(plugin, 1), "anvisningsenhed.csv");
    assert_string_equal(csvp_descriptor.export_file_name(plugin, 2), "alternativadresse.csv");
    assert_null(csvp_descriptor.export_file_name(plugin, 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lf_without_bom_reads_the_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_numbers_blank_lines_and_lone_cr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_columns_in_another_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_quoting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_column_set_refuses_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_column_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_numeric_code_and_coordinate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reasons_stay_valid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mismatching_tekst, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_aktivitetsstatus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlong_field_is_refused_and_reading_resumes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_chunk_borders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_empty_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_can_stop_reading, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_and_file_names, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
