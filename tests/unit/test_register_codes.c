/*
 * test_register_codes.c -- the register's code lists (exact texts of
 * kommuner.csv and kodetekster.csv), the cross-validation matrices, number
 * series and level names.
 */
#include "test_register_fixture.h"

/* Every row of the shared CSV files is in the tables, text for text. */
static void test_code_lists_match_shared_csv(void **state)
{
    (void)state;
    const char *dir = getenv("DTR_SHARED_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/data/kommuner.csv", dir ? dir : "../shared");
    FILE *f = fopen(path, "r");
    if (!f) {
        /* only where ../shared is absent (CI always has it) */
        fprintf(stderr, "skipped: %s is missing (set DTR_SHARED_DIR)\n", path);
        skip();
    }
    char line[256];
    size_t n_kommuner, rows = 0;
    const reg_code *kommuner = reg_kommuner(&n_kommuner);
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        int kode;
        char name[128];
        if (sscanf(line, "%d;%127[^;]", &kode, name) != 2) continue;
        const char *text = reg_code_text(kommuner, n_kommuner, kode);
        assert_non_null(text);
        assert_string_equal(text, name);
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 98);
    assert_int_equal(n_kommuner, 98);

    snprintf(path, sizeof path, "%s/data/kodetekster.csv", dir ? dir : "../shared");
    f = fopen(path, "r");
    assert_non_null(f);
    size_t n_ejer, n_lov, n_type;
    const reg_code *ejer = reg_ejerformer(&n_ejer);
    const reg_code *lov = reg_lovgrundlag(&n_lov);
    const reg_code *type = reg_institutionstyper(&n_type);
    size_t seen = 0;
    assert_non_null(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f)) {
        char table[32], text[160];
        int kode;
        line[strcspn(line, "\r\n")] = '\0';
        if (sscanf(line, "%31[^;];%d;%159[^\n]", table, &kode, text) != 3) continue;
        const char *have = strcmp(table, "ejerform") == 0      ? reg_code_text(ejer, n_ejer, kode)
                           : strcmp(table, "lovgrundlag") == 0 ? reg_code_text(lov, n_lov, kode)
                                                               : reg_code_text(type, n_type, kode);
        assert_non_null(have);
        assert_string_equal(have, text);
        seen++;
    }
    fclose(f);
    assert_int_equal(seen, n_ejer + n_lov + n_type);
    assert_int_equal(n_ejer, 4);
    assert_int_equal(n_lov, 10);
    assert_int_equal(n_type, 8);
}

static void test_code_text(void **state)
{
    (void)state;
    size_t n;
    const reg_code *k = reg_kommuner(&n);
    assert_string_equal(reg_code_text(k, n, 101), "København");
    assert_string_equal(reg_code_text(k, n, 851), "Aalborg");
    assert_null(reg_code_text(k, n, 100));
    const reg_code *t = reg_institutionstyper(&n);
    assert_string_equal(reg_code_text(t, n, 6011), "Børnehave (3-5 år)");
    assert_null(reg_code_text(t, n, 6015));
}

static void test_series_and_levels(void **state)
{
    (void)state;
    assert_int_equal(reg_series_index('G'), 0);
    assert_int_equal(reg_series_index('H'), 1);
    assert_int_equal(reg_series_index('J'), 2);
    assert_int_equal(reg_series_index('P'), 7);
    assert_int_equal(reg_series_index('Z'), 16);
    assert_int_equal(reg_series_index('I'), -1);
    assert_int_equal(reg_series_index('O'), -1);
    assert_int_equal(reg_series_index('Q'), -1);
    assert_int_equal(reg_series_index('A'), -1);
    assert_int_equal(reg_series_index('\0'), -1);
    assert_string_equal(reg_level_name(REG_DAGINSTITUTION), "daginstitution");
    assert_string_equal(reg_level_name(REG_ANVISNINGSENHED), "anvisningsenhed");
    assert_string_equal(reg_level_name(REG_ALTERNATIV_ADRESSE), "alternativAdresse");
    assert_null(reg_level_parent_field(REG_DAGINSTITUTION));
    assert_string_equal(reg_level_parent_field(REG_ANVISNINGSENHED), "daginstitutionsNummer");
    assert_string_equal(reg_level_parent_field(REG_ALTERNATIV_ADRESSE), "anvisningsenhedsNummer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_lists_match_shared_csv),
        cmocka_unit_test(test_code_text),
        cmocka_unit_test(test_series_and_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
