/*
 * test_bulk_import.c -- dtr import through core/bulk with the real csv
 * plugin and a real store: numbers kept and the allocator above them,
 * idempotency, updates and moves, Nedlagt rows, every kind of bad row with
 * its report line and the children refused with their parent, a burnt
 * number, the dry run and the data directory lock.
 */
#include <sys/stat.h>

#include "test_bulk_fixture.h"

/* A small register: two daginstitutioner (one with an A-number), three
 * units, one alternativ adresse. */
static void write_small(bfix *b)
{
    bfix_write(b->files, "daginstitution.csv", DI_HEADER,
               DI_ROW("A00005", "Gammel klynge", "Aktiv"), DI_ROW("G40001", "Klynge Ø", "Aktiv"),
               NULL);
    bfix_write(b->files, "anvisningsenhed.csv", AE_HEADER,
               AE_ROW("A12345", "A00005", "Gammel stue", "Aktiv"),
               AE_ROW("G23152", "G40001", "Den Grønne Kastanje", "Aktiv"),
               AE_ROW("G23403", "G40001", "Mikkelborg", "Aktiv"), NULL);
    bfix_write(b->files, "alternativadresse.csv", AA_HEADER,
               AA_ROW("G50000", "G23152", "Udflytter", "Aktiv"), NULL);
}

static void test_numbers_kept_and_allocator_above(void **state)
{
    (void)state;
    bfix *b = bfix_new();
    write_small(b);
    assert_int_equal(bfix_import(b, false), 0);
    bfix_expect_counts(b, 6, 6, 0, 0, 0);
    bfix_expect_line(b, "refused: 0");

    bstore bs = bstore_open(b);
    int st;
    json_t *unit = bstore_get(&bs, "G23152", &st);
    assert_int_equal(st, 0);
    assert_string_equal(field(unit, "daginstitutionsNummer"), "G40001");
    assert_string_equal(field(unit, "virkningFra"), "2019-08-30");
    assert_true(json_is_null(json_object_get(unit, "virkningTil")));
    assert_string_equal(field(unit, "status"), "aktiv");
    assert_string_equal(field(json_object_get(unit, "adresse"), "byNavn"), "København K");
    json_decref(unit);
    json_t *old = bstore_get(&bs, "A12345", &st);
    assert_int_equal(st, 0);
    assert_string_equal(field(old, "daginstitutionsNummer"), "A00005");
    json_decref(old);
    assert_int_equal(bstore_latest(&bs), 6); /* one hændelse per record */

    /* the next issued number follows the highest imported G number */
    bres r = bstore_run(&bs, REG_OP_CREATE, REG_DAGINSTITUTION, NULL,
                        json_pack("{s:s, s:i, s:i, s:i}", "navn", "Ny", "ejerformKode", 1,
                                  "lovgrundlagKode", 1, "admKommuneKode", 101));
    assert_int_equal(r.status, 0);
    assert_string_equal(r.primary, "G50001");
    bstore_close(&bs);
    bfix_free(b);
}

static void test_second_import_changes_nothing(void **state)
{
    (void)state;
    bfix *b = bfix_new();
    write_small(b);
    assert_int_equal(bfix_import(b, false), 0);
    bstore bs = bstore_open(b);
    int64_t before = bstore_latest(&bs);
    bstore_close(&bs);

    b->now_ms = bfix_day_ms("2026-03-11"); /* a day later: still nothing to do */
    assert_int_equal(bfix_import(b, false), 0);
    bfix_expect_counts(b, 6, 0, 0, 6, 0);
    bs = bstore_open(b);
    assert_int_equal(bstore_latest(&bs), before);
    bstore_close(&bs);
    bfix_free(b);
}

static void test_update_and_move(void **state)
{
    (void)state;
    bfix *b = bfix_new();
    write_small(b);
    assert_int_equal(bfix_import(b, false), 0);

    /* G23403 gets a new name and moves to a new daginstitution G40002 */
    bfix_write(b->files, "daginstitution.csv", DI_HEADER,
               DI_ROW("A00005", "Gammel klynge", "Aktiv"), DI_ROW("G40001", "Klynge Ø", "Aktiv"),
               DI_ROW("G40002", "Klynge Nord", "Aktiv"), NULL);
    bfix_write(b->files, "anvisningsenhed.csv", AE_HEADER,
               AE_ROW("A12345", "A00005", "Gammel stue", "Aktiv"),
               AE_ROW("G23152", "G40001", "Den Grønne Kastanje", "Aktiv"),
               AE_ROW("G23403", "G40002", "Mikkelborg Nord", "Aktiv"), NULL);
    assert_int_equal(bfix_import(b, false), 0);
    bfix_expect_counts(b, 7, 1, 1, 5, 0);

    bstore bs = bstore_open(b);
    json_t *unit = bstore_get(&bs, "G23403", NULL);
    assert_string_equal(field(unit, "navn"), "Mikkelborg Nord");
    assert_string_equal(field(unit, "daginstitutionsNummer"), "G40002");
    assert_int_equal(json_integer_value(json_object_get(unit, "version")), 3); /* moved, renamed */
    json_decref(unit);
    bstore_close(&bs);
    bfix_free(b);
}

/* An update keeps what the layout has no column for (etage, doer, dawaId). */
static void test_update_keeps_fields_outside_the_layout(void **state)
{
    (void)state;
    bfix *b = bfix_new();
    write_small(b);
    assert_int_equal(bfix_import(b, false), 0);
    bstore bs = bstore_open(b);
    bres r = bstore_run(&bs, REG_OP_UPDATE, REG_ANVISNINGSENHED, "G23152",
                        json_pack("{s:{s:s}}", "adresse", "etage", "2"));
    assert_int_equal(r.status, 0);
    bstore_close(&bs);

    assert_int_equal(bfix_import(b, false), 0);
    bfix_expect_counts(b, 6, 0, 0, 6, 0);
    bs = bstore_open(b);
    json_t *unit = bstore_get(&bs, "G23152", NULL);
    assert_string_equal(field(json_object_get(unit, "adresse"), "etage"), "2");
    json_decref(unit);
    bstore_close(&bs);
    bfix_free(b);
}

static void test_nedlagt_rows(void **state)
{
    (void)state;
    bfix *b = bfix_new();
    bfix_write(b->files, "daginstitution.csv", DI_HEADER, DI_ROW("G40001", "Lukket", "Nedlagt"),
               DI_ROW("G40002", "Åben", "Aktiv"), NULL);
    bfix_write(b->files, "anvisningsenhed.csv", AE_HEADER,
               AE_ROW("G23152", "G40001", "A", "Nedlagt"), AE_ROW("G23403", "G40002", "B", "Aktiv"),
               NULL);
    bfix_write(b->files, "alternativadresse.csv", AA_HEADER, NULL);
    assert_int_equal(bfix_import(b, false), 0);
    bfix_expect_counts(b, 4, 4, 0, 0, 0);
    bstore bs = bstore_open(b);
    json_t *dag = bstore_get(&bs, "G40001", NULL);
    assert_string_equal(field(dag, "virkningTil"), "2026-03-10");
    assert_string_equal(field(dag, "status"), "nedlagt");
    json_decref(dag);
    int64_t seq = bstore_latest(&bs);
    bstore_close(&bs);

    /* a later re-run leaves the closed records as they are */
    b->now_ms = bfix_day_ms("2026-04-01");
    assert_int_equal(bfix_import(b, false), 0);
    bfix_expect_counts(b, 4, 0, 0, 4, 0);

    /* an open record whose row now says Nedlagt is closed, children first */
    bfix_write(b->files, "daginstitution.csv", DI_HEADER, DI_ROW("G40001", "Lukket", "Nedlagt"),
               DI_ROW("G40002", "Åben", "Nedlagt"), NULL);
    bfix_write(b->files, "anvisningsenhed.csv", AE_HEADER,
               AE_ROW("G23152", "G40001", "A", "Nedlagt"),
               AE_ROW("G23403", "G40002", "B", "Nedlagt"), NULL);
    assert_int_equal(bfix_import(b, false), 0);
    bfix_expect_counts(b, 4, 0, 2, 2, 0);
    bs = bstore_open(b);
    dag = bstore_get(&bs, "G40002", NULL);
    assert_string_equal(field(dag, "virkningTil"), "2026-04-01");
    json_decref(dag);
    assert_int_equal(bstore_latest(&bs), seq + 2);
    bstore_close(&bs);
    bfix_free(b);
}

/* Every kind of bad row, each reported with file, line, number and reason;
 * children of a refused row are refused with it; the rest is imported. */
static void test_bad_rows(void **state)
{
    (void)state;
    bfix *b = bfix_new();
    bfix_write(b->files, "daginstitution.csv", DI_HEADER,
               DI_ROW("G40001", "God", "Aktiv"),            /* line 2 */
               "G40002;Privat forkert;3;;1;;101;;Aktiv",    /* 3: cross-validation */
               "G40003;Ukendt kommune;1;;1;;999;;Aktiv",    /* 4: unknown code */
               "G40004;\"Brudt \"citat;1;;1;;101;;Aktiv",   /* 5: broken quoting */
               "G40005;For få kolonner;1;;1;;101",          /* 6: wrong column count */
               "G40006;Ugyldig \xff tegn;1;;1;;101;;Aktiv", /* 7: invalid UTF-8 */
               DI_ROW("G40001", "Igen", "Aktiv"),           /* 8: number twice */
               NULL);
    bfix_write(b->files, "anvisningsenhed.csv", AE_HEADER,
               AE_ROW("G23001", "G40001", "God enhed", "Aktiv"),      /* 2 */
               AE_ROW("G23002", "G40002", "Barn af afvist", "Aktiv"), /* 3: parent refused */
               AE_ROW("G23003", "G49999", "Forældreløs", "Aktiv"),    /* 4: parent missing */
               "G23004;G40001;Ukendt type;9999;;101;;Vej;1;1355;København K;;;;;;;;Aktiv", /* 5 */
               "G23005;G40001;Forkert CVR;6012;;101;;Vej;1;1355;København K;;;;74467335;;;;Aktiv",
               "G23006;G40001;Ukendt tekst;6012;Forkert tekst;101;;Vej;1;1355;København K;;;;;;;;"
               "Aktiv", /* 7: a _Tekst that is not the code's */
               NULL);
    bfix_write(b->files, "alternativadresse.csv", AA_HEADER,
               AA_ROW("G50001", "G23002", "Barnebarn af afvist", "Aktiv"), /* 2 */
               AA_ROW("G50002", "G23001", "God adresse", "Aktiv"),         /* 3 */
               NULL);
    assert_int_equal(bfix_import(b, false), 1);
    bfix_expect_counts(b, 15, 3, 0, 0, 12);
    bfix_expect_refusal(b, "daginstitution.csv:3: G40002: ", "KRYDSVALIDERING lovgrundlagKode");
    bfix_expect_refusal(b, "daginstitution.csv:4: G40003: ", "UKENDT_KODE admKommuneKode");
    bfix_expect_refusal(b, "daginstitution.csv:5: G40004: ", "broken quoting");
    bfix_expect_refusal(b, "daginstitution.csv:6: G40005: ", "expected 9 columns, found 7");
    bfix_expect_refusal(b, "daginstitution.csv:7: G40006: ", "UTF-8");
    bfix_expect_refusal(b, "daginstitution.csv:8: G40001: ", "NUMMER_BRUGT");
    bfix_expect_line(b, "anvisningsenhed.csv:3: G23002: parent G40002 was refused");
    bfix_expect_refusal(b, "anvisningsenhed.csv:4: G23003: ", "FORAELDER_FINDES_IKKE");
    bfix_expect_refusal(b, "anvisningsenhed.csv:5: G23004: ", "UKENDT_KODE instType3");
    bfix_expect_refusal(b, "anvisningsenhed.csv:6: G23005: ", "UGYLDIG_CVR cvrNummer");
    bfix_expect_refusal(b, "anvisningsenhed.csv:7: G23006: ", "instType3_Tekst");
    bfix_expect_line(b, "alternativadresse.csv:2: G50001: parent G23002 was refused");
    bfix_expect_line(b, "refused: 12");
    /* in file order, although the reader refuses line 7 before the register answers line 6 */
    assert_true(strstr(b->report, "anvisningsenhed.csv:6:") <
                strstr(b->report, "anvisningsenhed.csv:7:"));

    bstore bs = bstore_open(b);
    int st;
    json_decref(bstore_get(&bs, "G50002", &st));
    assert_int_equal(st, 0);
    json_t *dag = bstore_get(&bs, "G40001", &st);
    assert_string_equal(field(dag, "navn"), "God"); /* the second G40001 row changed nothing */
    json_decref(dag);
    json_decref(bstore_get(&bs, "G23002", &st));
    assert_int_equal(st, 404);
    bstore_close(&bs);
    bfix_free(b);
}

static void test_wrong_column_set_refuses_the_import(void **state)
{
    (void)state;
    bfix *b = bfix_new();
    write_small(b);
    bfix_write(b->files, "anvisningsenhed.csv",
               "anvisningsenhedsNummer;daginstitutionsNummer;dagtilbudsNavn", "G23152;G40001;X",
               NULL);
    assert_int_equal(bfix_import(b, false), -1);
    assert_non_null(strstr(b->err, "anvisningsenhed.csv"));
    assert_non_null(strstr(b->err, "missing"));
    bstore bs = bstore_open(b);
    assert_int_equal(bstore_latest(&bs), 0); /* not even the daginstitutioner */
    bstore_close(&bs);

    write_small(b); /* a file missing */
    char gone[128];
    snprintf(gone, sizeof gone, "%s/alternativadresse.csv", b->files);
    unlink(gone);
    assert_int_equal(bfix_import(b, false), -1);
    assert_non_null(strstr(b->err, "alternativadresse.csv"));
    bfix_free(b);
}

static void test_burnt_number_refused(void **state)
{
    (void)state;
    bfix *b = bfix_new();
    write_small(b);
    assert_int_equal(bfix_import(b, false), 0);
    bstore bs = bstore_open(b);
    assert_int_equal(bstore_run(&bs, REG_OP_DELETE, REG_ALTERNATIV_ADRESSE, "G50000", NULL).status,
                     0);
    bstore_close(&bs);
    assert_int_equal(bfix_import(b, false), 1);
    bfix_expect_counts(b, 6, 0, 0, 5, 1);
    bfix_expect_refusal(b, "alternativadresse.csv:2: G50000: ", "NUMMER_BRUGT");
    bfix_free(b);
}

static void test_dry_run_writes_nothing(void **state)
{
    (void)state;
    bfix *b = bfix_new();
    write_small(b);
    assert_int_equal(bfix_import(b, true), 0);
    bfix_expect_counts(b, 6, 6, 0, 0, 0); /* the counts of a real run */
    assert_non_null(strstr(b->report, "dry run"));
    bstore bs = bstore_open(b);
    assert_int_equal(bstore_latest(&bs), 0);
    int st;
    json_decref(bstore_get(&bs, "G40001", &st));
    assert_int_equal(st, 404);
    /* nothing was allocated either */
    bres r = bstore_run(&bs, REG_OP_CREATE, REG_DAGINSTITUTION, NULL,
                        json_pack("{s:s, s:i, s:i, s:i}", "navn", "Ny", "ejerformKode", 1,
                                  "lovgrundlagKode", 1, "admKommuneKode", 101));
    assert_string_equal(r.primary, "G00001");
    bstore_close(&bs);
    bfix_free(b);
}

static void test_refused_while_the_directory_is_locked(void **state)
{
    (void)state;
    bfix *b = bfix_new();
    write_small(b);
    int fd;
    assert_int_equal(bulk_lock_data_dir(b->data, &fd, b->err, sizeof b->err), 0);
    int other;
    assert_int_equal(bulk_lock_data_dir(b->data, &other, b->err, sizeof b->err), 1);
    assert_int_equal(bfix_import(b, false), -1);
    char want[256];
    snprintf(want, sizeof want, "data directory %s is in use by a running server", b->data);
    assert_string_equal(b->err, want);
    close(fd);
    assert_int_equal(bfix_import(b, false), 0);
    bfix_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers_kept_and_allocator_above),
        cmocka_unit_test(test_second_import_changes_nothing),
        cmocka_unit_test(test_update_and_move),
        cmocka_unit_test(test_update_keeps_fields_outside_the_layout),
        cmocka_unit_test(test_nedlagt_rows),
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_wrong_column_set_refuses_the_import),
        cmocka_unit_test(test_burnt_number_refused),
        cmocka_unit_test(test_dry_run_writes_nothing),
        cmocka_unit_test(test_refused_while_the_directory_is_locked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
