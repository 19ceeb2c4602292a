/*
 * test_bulk_export.c -- dtr export through core/bulk: export order (by
 * daginstitutionsNummer, then the row's own number), every record with its
 * status, a record created through the API between imports, the files
 * written whole, and the generator's files importing cleanly.
 */
#include "test_bulk_fixture.h"

/* The whole file as a string (malloc'd). */
static char *slurp(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    if (!fp) fail_msg("cannot open %s", path);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        fwrite(chunk, 1, n, mem);
    fclose(fp);
    fclose(mem);
    return buf;
}

/* The first column of each data row, joined by ','. */
static void first_column(const char *text, char *out, size_t outlen)
{
    out[0] = '\0';
    const char *p = strstr(text, "\r\n"); /* after the header */
    while (p && p[2]) {
        p += 2;
        size_t used = strlen(out);
        snprintf(out + used, outlen - used, "%s%.6s", used ? "," : "", p);
        p = strstr(p, "\r\n");
    }
}

/* Rows in the files in another order than the export's: the export sorts
 * units by their daginstitution, then by number; alternative adresser by
 * the daginstitution of their unit, then by number. */
static void test_export_order(void **state)
{
    (void)state;
    bfix *b = bfix_new();
    bfix_write(b->files, "daginstitution.csv", DI_HEADER, DI_ROW("G40002", "Anden", "Aktiv"),
               DI_ROW("G40001", "Første", "Aktiv"), DI_ROW("A00001", "Gammel", "Aktiv"), NULL);
    bfix_write(b->files, "anvisningsenhed.csv", AE_HEADER, AE_ROW("G10001", "G40002", "a", "Aktiv"),
               AE_ROW("G20002", "G40001", "b", "Aktiv"), AE_ROW("G10003", "G40001", "c", "Aktiv"),
               AE_ROW("G30000", "A00001", "d", "Nedlagt"), NULL);
    bfix_write(b->files, "alternativadresse.csv", AA_HEADER,
               AA_ROW("G50009", "G10001", "x", "Aktiv"), AA_ROW("G50008", "G20002", "y", "Aktiv"),
               AA_ROW("G50007", "G10003", "z", "Aktiv"), AA_ROW("G50006", "G10003", "w", "Aktiv"),
               NULL);
    assert_int_equal(bfix_import(b, false), 0);
    assert_int_equal(bulk_export(b->f, b->data, b->out, b->err, sizeof b->err), 0);

    char order[256];
    char *text = slurp(b->out, "daginstitution.csv");
    assert_memory_equal(text, "\xEF\xBB\xBF" DI_HEADER "\r\n", strlen(DI_HEADER) + 5);
    first_column(text, order, sizeof order);
    assert_string_equal(order, "A00001,G40001,G40002");
    assert_non_null(strstr(text, "G40001;Første;1;Kommunal;1;Dagtilbudsloven § 19, stk. 2;101;"
                                 "København;Aktiv\r\n"));
    free(text);
    text = slurp(b->out, "anvisningsenhed.csv");
    first_column(text, order, sizeof order);
    assert_string_equal(order, "G30000,G10003,G20002,G10001");
    assert_non_null(strstr(text, "G30000;A00001;d;6012;Aldersintegreret (0-5 år);101;København;"
                                 "Gammeltoftsgade;13;1355;København K;;;;74467334;1482983425;"
                                 "55.68855;12.57191;Nedlagt\r\n"));
    free(text);
    text = slurp(b->out, "alternativadresse.csv");
    first_column(text, order, sizeof order);
    assert_string_equal(order, "G50006,G50007,G50008,G50009");
    free(text);

    /* no temporary file stays behind */
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s/daginstitution.csv.tmp", b->out);
    assert_int_not_equal(access(tmp, F_OK), 0);
    bfix_free(b);
}

/* What the export writes imports again as it is: nothing changes. */
static void test_export_imports_unchanged(void **state)
{
    (void)state;
    bfix *b = bfix_new();
    assert_int_equal(bulk_generate(b->f, 300, 42, b->files, b->err, sizeof b->err), 0);
    assert_int_equal(bfix_import(b, false), 0);
    uint64_t rows = b->counts.read;
    assert_true(rows > 300);
    bfix_expect_counts(b, rows, rows, 0, 0, 0);

    assert_int_equal(bulk_export(b->f, b->data, b->out, b->err, sizeof b->err), 0);
    const char *names[] = {"daginstitution.csv", "anvisningsenhed.csv", "alternativadresse.csv"};
    for (int i = 0; i < 3; i++) { /* the generator writes export order: the same bytes */
        char *want = slurp(b->files, names[i]), *got = slurp(b->out, names[i]);
        assert_string_equal(got, want);
        free(want);
        free(got);
    }
    snprintf(b->files, sizeof b->files, "%s", b->out);
    assert_int_equal(bfix_import(b, false), 0);
    bfix_expect_counts(b, rows, 0, 0, rows, 0);
    bfix_free(b);
}

static void test_export_of_an_empty_register(void **state)
{
    (void)state;
    bfix *b = bfix_new();
    assert_int_equal(bulk_export(b->f, b->data, b->out, b->err, sizeof b->err), 0);
    char *text = slurp(b->out, "anvisningsenhed.csv");
    assert_string_equal(text, "\xEF\xBB\xBF" AE_HEADER "\r\n");
    free(text);
    /* an output directory that cannot be made */
    char bad[128];
    snprintf(bad, sizeof bad, "%s/no/such/dir", b->root);
    assert_int_equal(bulk_export(b->f, b->data, bad, b->err, sizeof b->err), -1);
    assert_non_null(strstr(b->err, bad));
    bfix_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_order),
        cmocka_unit_test(test_export_imports_unchanged),
        cmocka_unit_test(test_export_of_an_empty_register),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
